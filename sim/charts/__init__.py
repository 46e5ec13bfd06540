"""Charts a programme board can read: one palette, plain-English titles, uncertainty shown."""
