"""The board report: a sweep's results store turned into one page a programme board reads.

``carepath report results/X`` writes ``results/X/report.html`` (self-contained:
charts and animations embedded, no script, opens offline) and each chart as
PNG and SVG in ``results/X/charts/``, from the results folder alone.

- :mod:`sim.report.results` reads and checks the store;
- :mod:`sim.report.answer` writes the plain-English answer and best-scenario tables;
- :mod:`sim.report.assumptions` gathers the settings, sources and the STRESS-DES checklist;
- :mod:`sim.report.page` assembles the HTML;
- :mod:`sim.report.build` draws the charts (:mod:`sim.charts`) and writes it all atomically.
"""

from sim.report.build import ReportOutcome, build_report

__all__ = ["ReportOutcome", "build_report"]
