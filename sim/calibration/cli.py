"""``carepath calibrate``: fit inputs from spells or published tables; fit unknowns to observed series.

Registered by :mod:`sim.cli` through :func:`register`. pyabc is imported only by
``calibrate outputs``, so the rest works without the ``calibrate`` extra. As
everywhere in carepath, a user's mistake (an unusable file, a bad flag) is one
line per problem on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.errors import user_errors

app = typer.Typer(
    help="Fit inputs from discharge data; fit unknowns to observed series (see calibration/README.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SpellFormat = Annotated[str, typer.Option("--format", help="carepath (the documented spell format) or hes (HES field names and codes).")]
Encoding = Annotated[str, typer.Option(help="Text encoding of the file (e.g. cp1252 for an old Excel export).")]
AgeBands = Annotated[str, typer.Option("--age-bands", help="The pathway's age bands, comma-separated.")]


def _bands(text: str) -> tuple[str, ...]:
    from sim.calibration.spells import age_band_edges

    bands = tuple(b.strip() for b in text.split(",") if b.strip())
    age_band_edges(list(bands))  # raises InputError when malformed
    return bands


@app.command("check")
@user_errors
def check(
    spells_file: Annotated[Path, typer.Argument(help="Spell file (CSV).", show_default=False)],
    layout: SpellFormat = "carepath",
    encoding: Encoding = "utf-8",
    data_end: Annotated[str | None, typer.Option("--data-end", help="When the extract was taken (open spells are censored there).")] = None,
    rejections: Annotated[Path | None, typer.Option(help="Write every rejected row (line, column, value, reason) to this CSV. It holds values from the input: keep it with the input.")] = None,
) -> None:
    """Check a spell file and report rejected rows; exit 2 if it is unusable."""
    from sim.calibration.spells import read_spells

    spells = read_spells(spells_file, layout, encoding, data_end)
    for line in spells.report.lines():
        print(line)
    _write_rejections(spells.report, rejections)


def _write_rejections(report, path: Path | None) -> None:
    if path is None:
        return
    from sim.storage import atomic_write

    atomic_write(path, lambda p: report.rejections.sort_values("line").to_csv(p, index=False))
    print(f"wrote {path} ({len(report.rejections):,} problems)")


@app.command("inputs")
@user_errors
def inputs(
    spells_file: Annotated[Path, typer.Argument(help="Spell file (CSV).", show_default=False)],
    layout: SpellFormat = "carepath",
    encoding: Encoding = "utf-8",
    data_end: Annotated[str | None, typer.Option("--data-end", help="When the extract was taken (open spells are censored there).")] = None,
    age_bands: AgeBands = "0-64,65-74,75-84,85+",
    methods: Annotated[str, typer.Option(help="Admission methods to fit, comma-separated.")] = "emergency",
    stream: Annotated[str, typer.Option(help="Demand stream name written in the fragment.")] = "emergency",
    step: Annotated[str, typer.Option(help="Admission step name written in the fragment.")] = "admission",
    disclosure: Annotated[str, typer.Option(help="none, or hes: counts 1-7 suppressed, others rounded to 5.")] = "none",
    out: Annotated[Path | None, typer.Option(help="Folder for the fragment, tables and report (default results/calibration-inputs-<file>).")] = None,
    rejections: Annotated[Path | None, typer.Option(help="Write every rejected row to this CSV (holds input values).")] = None,
) -> None:
    """Fit arrivals, lengths of stay, destinations and delays from spells; write a pathway fragment and a report."""
    from sim.calibration.fragment import inputs_fragment
    from sim.calibration.inputs import InputFitter
    from sim.calibration.report import inputs_report
    from sim.calibration.spells import read_spells
    from sim.storage import atomic_write, write_json, write_text

    bands = _bands(age_bands)
    spells = read_spells(spells_file, layout, encoding, data_end)
    lines = spells.report.lines()
    for line in lines:
        print(line)
    _write_rejections(spells.report, rejections)
    fitter = InputFitter(bands, tuple(m.strip() for m in methods.split(",")), disclosure_rule=disclosure).fit(spells)
    folder = out or Path("results") / f"calibration-inputs-{spells_file.stem}"
    fragment = inputs_fragment(fitter, stream, step)
    written = [write_text(folder / "fragment.yaml", fragment)]
    for name, frame in (("stays", fitter.stays_table()), ("destinations", fitter.destinations_table()), ("arrival_profile", fitter.profile_table())):
        written.append(atomic_write(folder / f"{name}.csv", lambda p, f=frame: f.to_csv(p, index=False, float_format="%.6g")))
    summary_lines = [line for line in lines if not line.startswith(str(spells.file) + ":")]
    written.append(write_text(folder / "report.html", inputs_report(fitter, summary_lines, fragment)))
    written.append(write_json(folder / "provenance.json", fitter.provenance_ | {"disclosure": disclosure}))
    print(fragment)
    for path in written:
        print(f"wrote {path}")


@app.command("aggregates")
@user_errors
def aggregates(
    table: Annotated[Path, typer.Argument(help="Published LOS table (CSV: provider_code, age_band, episodes, mean_los, median_los).", show_default=False)],
    provider: Annotated[str, typer.Option(help="Provider code, e.g. RVV or RN7.")],
    age_bands: AgeBands = "0-64,65-74,75-84,85+",
    step: Annotated[str, typer.Option(help="Admission step name written in the fragment.")] = "admission",
    out: Annotated[Path | None, typer.Option(help="Write the fragment here (default: print only).")] = None,
) -> None:
    """Lengths of stay by age band from a published mean and median (log-normal); print a pathway fragment."""
    from sim.calibration.aggregates import fit_from_aggregates
    from sim.calibration.fragment import aggregates_fragment
    from sim.storage import write_text

    fit = fit_from_aggregates(table, provider, list(_bands(age_bands)))
    fragment = aggregates_fragment(fit, step)
    print(fragment)
    if out is not None:
        print(f"wrote {write_text(out, fragment)}")


@app.command("outputs")
@user_errors
def outputs(
    study_files: Annotated[
        list[Path],
        typer.Argument(help="Calibration file(s) (YAML), e.g. calibration/rn7.yaml, or a folder of them (e.g. calibration).", show_default=False),
    ],
    out: Annotated[Path | None, typer.Option(help="Results folder (default results/calibration-<name>; for several files results/calibration-all).")] = None,
    jobs: Annotated[int, typer.Option(help="Parallel workers (0 = all cores).")] = 0,
    population: Annotated[int | None, typer.Option(help="Override the ABC population size.", min=10)] = None,
    generations: Annotated[int | None, typer.Option(help="Override the number of ABC generations.", min=1)] = None,
    draws: Annotated[int | None, typer.Option(help="Override the number of predictive draws.", min=10)] = None,
) -> None:
    """Estimate unknowns by ABC-SMC, check on held-out months, forecast with 80% and 95% intervals.

    Several files, or a folder, run one after another, each in its own subfolder,
    and one forecast.csv holds them all.
    """
    from sim.calibration.outputs import run_studies, run_study
    from sim.calibration.study import load_study

    if len(study_files) == 1 and not study_files[0].is_dir():
        study, _ = load_study(study_files[0])
        folder = out or Path("results") / f"calibration-{study.name}"
        results = run_study(study_files[0], folder, jobs=jobs, population=population, generations=generations, draws=draws)
        print(f"{results['summary']['simulations']:,} simulations in {results['summary']['seconds']:.0f} s")
        print(f"wrote {folder / 'forecast.csv'} and {folder / 'report.html'}")
        return
    folder = out or Path("results") / "calibration-all"
    results = run_studies(study_files, folder, jobs=jobs, population=population, generations=generations, draws=draws)
    summary = results["summary"]
    print(f"{len(summary['org_codes'])} calibrations ({', '.join(summary['org_codes'])}): {summary['simulations']:,} simulations in {summary['seconds']:.0f} s")
    print(f"wrote {folder / 'forecast.csv'} (every org_code), {folder / 'holdout_errors.csv'} and {folder / 'index.html'}; each trust's outputs in its own subfolder")


def register(root: typer.Typer) -> None:
    """Add the ``calibrate`` group to the ``carepath`` command."""
    root.add_typer(app, name="calibrate", help="Fit inputs from discharge data; fit unknowns to observed series.")


__all__ = ["app", "register"]
