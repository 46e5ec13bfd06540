"""``carepath report``: the board report of a sweep's results folder.

Kept out of :mod:`sim.cli` so the core command line starts without importing
matplotlib; the heavy imports happen when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to the carepath command line."""
    from sim.cli import stdout, user_errors

    @app.command()
    @user_errors
    def report(
        results: Annotated[Path, typer.Argument(help="A sweep's results folder (results/<experiment>).", show_default=False)],
        animate: Annotated[bool, typer.Option("--animate", help="Also render GIFs of a day of the recommended scenario and the baseline (slower).")] = False,
        days: Annotated[float, typer.Option(help="Days shown by the animations with --animate.", min=0.05, max=7)] = 1.0,
        out: Annotated[Path | None, typer.Option(help="Write the page here instead of RESULTS/report.html (charts go beside it).")] = None,
    ) -> None:
        """Build the board report: one self-contained HTML page, with each chart as PNG and SVG beside it."""
        from sim.report import build_report

        outcome = build_report(results, animate=animate, animation_days=days, out=out)
        if outcome.partial:
            stdout.print("[yellow]partial results[/yellow]: the report says which runs are missing")
        for note in outcome.notes:
            stdout.print(f"note: {note}", soft_wrap=True)
        stdout.print(f"{len(outcome.charts)} chart(s) ({', '.join(outcome.charts)}) in {outcome.path.parent / 'charts'}/; {outcome.seconds:.1f} s")
        stdout.print(f"report: {outcome.path}")
