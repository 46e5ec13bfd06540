"""The ``carepath`` command.

Every subcommand turns a user's mistake (a bad file, a wrong flag, a missing
folder) into one line on stderr and exit code 2, with no traceback and no
output written. Anything else is a bug in carepath and shows its traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sim.errors import InputError, user_errors

app = typer.Typer(
    name="carepath",
    help="Simulate integrated local care pathways: rapid response, step-up beds, hubs, discharge and acute admission.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _Stdout:
    """A rich console made when first used, so it sees the stdout of the moment.

    On a terminal it takes the terminal's width; in a pipe or a log it uses a
    width of 160 columns, so tables are not squeezed to 80.
    """

    def __getattr__(self, name: str) -> Any:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
        return getattr(console, name)


stdout = _Stdout()

def _duration(text: str | None, flag: str) -> float | None:
    from sim.units import parse_duration

    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InputError(f"{flag}: {exc}") from None


def _load(path: Path):
    from sim.pathway import load_pathway

    return load_pathway(path)


# ---------------------------------------------------------------------------
# run


@app.command()
@user_errors
def run(
    pathway_file: Annotated[Path, typer.Argument(help="The pathway file (YAML).", show_default=False)],
    seed: Annotated[int | None, typer.Option(help="Root seed (default: the pathway's).")] = None,
    reps: Annotated[int, typer.Option(help="Number of replications.", min=1)] = 10,
    horizon: Annotated[str | None, typer.Option(help="Length of each run, e.g. '1 year' (default: the pathway's).")] = None,
    warm_up: Annotated[str | None, typer.Option("--warm-up", help="Time discarded at the start, e.g. '4 weeks'.")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the results (default: results/run-<pathway>).")] = None,
    events: Annotated[bool, typer.Option("--events", help="Also write the patient event log.")] = False,
    jobs: Annotated[int, typer.Option(help="Parallel workers (0 = all cores).")] = 1,
) -> None:
    """Run replications of a pathway; print a summary and write tidy tables (CSV and Parquet)."""
    from sim.runs import RunOptions, combine, run_pathway, write_run

    pathway, _ = _load(pathway_file)
    options = RunOptions(
        seed=pathway.seed if seed is None else seed,
        replications=reps,
        horizon=_duration(horizon, "--horizon") or pathway.horizon,
        warm_up=pathway.warm_up if warm_up is None else _duration(warm_up, "--warm-up"),
        events=events,
    )
    if options.warm_up >= options.horizon:
        raise InputError(f"--warm-up ({options.warm_up:g} hours) must be shorter than the horizon ({options.horizon:g} hours)")
    if seed is not None and seed < 0:
        raise InputError("--seed: expected a whole number >= 0")
    folder = out or Path("results") / f"run-{pathway_file.stem}"
    started = time.perf_counter()
    results = run_pathway(pathway, options, jobs=jobs, progress=reps > 1)
    elapsed = time.perf_counter() - started
    tables = combine(results)
    write_run(folder, tables, pathway, str(pathway_file), options)
    print_run_summary(tables["summary"], pathway.name, options, sum(r.patients for r in results), elapsed)
    stdout.print(f"results: {folder}/ (summary, timeseries, distributions{', events' if events else ''}: CSV and Parquet)")


KEY_METRICS = {
    "team": ["arrivals", "admitted", "escalated", "within_target", "response_mean", "assessments", "utilisation", "cost"],
    "hub": ["arrivals", "admitted", "diverted", "response_mean", "utilisation", "cost"],
    "beds": ["arrivals", "admitted", "diverted", "wait_mean", "occupancy_mean", "utilisation", "bed_days", "delayed_bed_days", "cost"],
    "care_package": ["arrivals", "admitted", "wait_mean", "occupancy_mean", "utilisation", "cost"],
    "acute": ["admitted", "occupancy_mean", "utilisation", "bed_days", "delayed_bed_days", "ready_to_discharge_mean", "cost"],
    "system": ["patients", "acute_admissions", "acute_bed_days", "delayed_bed_days", "cost_community", "cost_acute", "cost_total"],
}


def format_value(value: float, unit: str) -> str:
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "GBP":
        return f"£{value:,.0f}"
    if unit == "hours" and abs(value) >= 48:
        return f"{value / 24:,.1f} d"
    if unit == "hours":
        return f"{value:,.2f} h" if abs(value) < 10 else f"{value:,.1f} h"
    if unit in ("count", "patients", "days", "beds"):
        return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.1f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def print_run_summary(summary, name: str, options, patients: int, elapsed: float) -> None:
    from sim.analysis import summarise

    table_data = summarise(summary)
    kinds = dict(zip(summary["service"], summary["service"], strict=False))
    title = (
        f"{name}: {options.replications} replication(s) of {options.horizon / 24:,.0f} days "
        f"(warm-up {options.warm_up / 24:,.0f} days), seed {options.seed}"
    )
    table = Table(title=title, show_lines=False, header_style="bold")
    table.add_column("service")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    services = list(dict.fromkeys(summary["service"]))
    kind_of = _service_kinds(summary)
    for service in services:
        wanted = KEY_METRICS.get(kind_of.get(service, "system"), [])
        rows = table_data[table_data.service == service].set_index("metric")
        first = True
        for metric in wanted:
            if metric not in rows.index:
                continue
            row = rows.loc[metric]
            ci = "" if row["n"] < 2 else f"{format_value(row['ci_low'], row['unit'])} to {format_value(row['ci_high'], row['unit'])}"
            table.add_row(service if first else "", metric, format_value(row["mean"], row["unit"]), ci)
            first = False
        table.add_section()
    stdout.print(table)
    rate = patients / elapsed if elapsed > 0 else float("nan")
    stdout.print(f"{patients:,} patients simulated in {elapsed:.1f} s ({rate:,.0f} patients/s)")
    del kinds


def _service_kinds(summary) -> dict[str, str]:
    """Guess each service's kind from its metrics (the summary table does not store it)."""
    kinds = {}
    for service, group in summary.groupby("service"):
        metrics = set(group["metric"])
        if service == "system":
            kinds[service] = "system"
        elif "escalated" in metrics:
            kinds[service] = "team"
        elif "too_far" in metrics:
            kinds[service] = "hub"
        elif "over_capacity_bed_days" in metrics:
            kinds[service] = "acute"
        elif "package_days" in metrics:
            kinds[service] = "care_package"
        else:
            kinds[service] = "beds"
    return kinds


# ---------------------------------------------------------------------------
# sweep


@app.command()
@user_errors(interrupted="interrupted: finished runs are kept; run the same command again to resume")
def sweep(
    experiment_file: Annotated[Path, typer.Argument(help="The experiment file (YAML).", show_default=False)],
    jobs: Annotated[int, typer.Option(help="Local parallel workers (0 = all cores).")] = 0,
    backend: Annotated[str, typer.Option(help="'loky' (this machine) or 'dask' (a Dask cluster).")] = "loky",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://HOST:PORT) or scheduler file.")] = None,
    precision: Annotated[float | None, typer.Option(help="Add replications until the 95% CI half-width of admissions avoided is within this share of its mean, e.g. 0.05.")] = None,
    max_reps: Annotated[int | None, typer.Option("--max-reps", help="Cap on replications per scenario with --precision.")] = None,
    reps: Annotated[int | None, typer.Option(help="Replications per scenario (default: the experiment's).", min=1)] = None,
    out: Annotated[Path | None, typer.Option(help="Results folder (default: results/<experiment name>).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a Dask scheduler or its workers.")] = 30.0,
    horizon: Annotated[str | None, typer.Option(help="Simulated time per run, e.g. '90 days' (default: the experiment's, else the pathway's).")] = None,
    warm_up: Annotated[str | None, typer.Option("--warm-up", help="Warm-up discarded from every run, e.g. '30 days'.")] = None,
) -> None:
    """Run an experiment: every scenario against the baseline on the same patients; resumable."""
    from sim.sweep import SweepOptions, run_sweep

    if backend not in ("loky", "dask"):
        raise InputError(f"--backend: expected 'loky' or 'dask', got {backend!r}")
    if precision is not None and not 0 < precision < 1:
        raise InputError(f"--precision: expected a share between 0 and 1 (e.g. 0.05), got {precision}")
    started = time.perf_counter()
    outcome = run_sweep(
        experiment_file,
        SweepOptions(
            jobs=jobs, backend=backend, scheduler=scheduler, precision=precision, max_replications=max_reps,
            replications=reps, out=out, timeout=timeout,
            horizon=_duration(horizon, "--horizon"), warm_up=_duration(warm_up, "--warm-up"),
        ),
    )
    print_scenarios(outcome)
    elapsed = time.perf_counter() - started
    total = sum(outcome.replications.values())
    stdout.print(f"{outcome.ran} run(s) done now, {total} in the comparison; {elapsed:.1f} s")
    if outcome.precision:
        met = sum(1 for s in outcome.precision.values() if s["met"])
        stdout.print(
            f"precision: {met} of {len(outcome.precision)} scenario(s) reached the target; "
            f"replications needed: {min(outcome.replications.values())} to {max(outcome.replications.values())}"
        )
        for name, status in outcome.precision.items():
            if not status["met"]:
                stdout.print(f"  not reached: {name}: +/- {status['half_width']:.3g} on {status['mean']:.3g} after {status['n']} replications")
    if outcome.sensitivity is not None:
        print_sensitivity(outcome.sensitivity)
    stdout.print(f"results: {outcome.folder}/ (summary/, timeseries/, distributions/, analysis/, manifest.json)")


def print_sensitivity(frame) -> None:
    method = frame["method"].iloc[0]
    main_index = "mu_star" if method == "morris" else "ST"
    grid = Table(title=f"sensitivity ({method}): {'mu* (mean absolute elementary effect)' if method == 'morris' else 'total-order Sobol index'} with 95% CI", header_style="bold")
    grid.add_column("factor")
    for output in frame["output"].unique():
        grid.add_column(output.replace("_", " "), justify="right")
    for factor in frame["factor"].unique():
        cells = [factor]
        for output in frame["output"].unique():
            row = frame[(frame.factor == factor) & (frame.output == output) & (frame["index"] == main_index)].iloc[0]
            cells.append(f"{row['value']:,.3g} +/- {row['conf']:,.2g}")
        grid.add_row(*cells)
    stdout.print(grid)


def _ci(row, key: str, unit: str) -> str:
    mean = row.get(key)
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    text = format_value(mean, unit)
    if low is not None and high is not None and low == low and high == high:
        text += f" ({format_value(low, unit)} to {format_value(high, unit)})"
    return text


def print_scenarios(outcome) -> None:
    table = outcome.table
    spec = outcome.experiment.spec
    grid = Table(title=f"{spec.name}: admissions avoided against the baseline, per year (95% CI)", header_style="bold")
    grid.add_column("scenario", overflow="fold")
    grid.add_column("reps", justify="right")
    grid.add_column("acute admissions", justify="right")
    grid.add_column("admissions avoided", justify="right")
    grid.add_column("bed days saved", justify="right")
    # teams with a response standard (a discharge team has none: its column is empty)
    teams = [
        c for c in table.columns
        if c.startswith("within_target:") and not c.endswith(("_low", "_high")) and table[c].notna().any()
    ][:2]
    for team in teams:
        grid.add_column(f"within target ({team.split(':', 1)[1]})", justify="right")
    grid.add_column("extra cost", justify="right")
    grid.add_column("cost per admission avoided", justify="right")
    for _, row in table.iterrows():
        row = row.to_dict()
        cells = [
            row["scenario"],
            str(row["replications"]),
            _ci(row, "admissions_per_year", "count"),
            "-" if row["baseline"] else _ci(row, "admissions_avoided_per_year", "count"),
            "-" if row["baseline"] else _ci(row, "bed_days_saved_per_year", "count"),
        ]
        cells += [format_value(row[team], "share") for team in teams]
        cells += [
            "-" if row["baseline"] else format_value(row["extra_cost_per_year"], "GBP"),
            "-" if row["baseline"] else _ci(row, "cost_per_admission_avoided", "GBP"),
        ]
        grid.add_row(*cells)
    stdout.print(grid)


@app.command()
@user_errors
def warmup(
    pathway_file: Annotated[Path, typer.Argument(help="The pathway file (YAML).", show_default=False)],
    reps: Annotated[int, typer.Option(help="Replications from an empty start.", min=2)] = 10,
    horizon: Annotated[str | None, typer.Option(help="Length of each run (default: the pathway's).")] = None,
    seed: Annotated[int | None, typer.Option(help="Root seed (default: the pathway's).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for the chart (default: results/warmup-<pathway>).")] = None,
    jobs: Annotated[int, typer.Option(help="Parallel workers (0 = all cores).")] = 0,
) -> None:
    """Suggest a warm-up: MSER-5 on daily occupancy averaged over replications from empty."""
    from sim.storage import write_table
    from sim.warmup import chart, diagnose

    pathway, _ = _load(pathway_file)
    advice = diagnose(pathway, reps, _duration(horizon, "--horizon"), seed, jobs)
    folder = out or Path("results") / f"warmup-{pathway_file.stem}"
    write_table(folder, "warmup", advice.table)
    paths = chart(advice, folder, f"{pathway.name}: warm-up from an empty start ({reps} replications)")
    grid = Table(title=f"{pathway.name}: MSER-5 truncation of daily levels (mean of {reps} replications)", header_style="bold")
    for column in ("service", "level", "truncation (days)", "steady mean"):
        grid.add_column(column, justify="left" if column in ("service", "level") else "right")
    for _, row in advice.table.iterrows():
        grid.add_row(row.service, row.metric, str(int(row.truncation_days)), f"{row.steady_mean:,.1f}")
    stdout.print(grid)
    current = pathway.warm_up / 24
    stdout.print(
        f"suggested warm-up: {advice.suggested_days} days (the pathway has {current:g} days); "
        f"chart: {paths['png']}"
    )


# ---------------------------------------------------------------------------
# check and schema


@app.command()
@user_errors
def check(
    pathway_file: Annotated[Path, typer.Argument(help="The pathway file (YAML).", show_default=False)],
    provenance: Annotated[bool, typer.Option("--provenance", help="List every number with its source or assumption.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail if any number is not marked as sourced or assumed.")] = False,
) -> None:
    """Validate a pathway file: names, units, probabilities, routes. Exit 2 on the first problem."""
    from sim.document import provenance as find_provenance
    from sim.network import compile_network
    from sim.units import HOURS_PER_YEAR

    pathway, document = _load(pathway_file)
    network = compile_network(pathway)
    expected = _expected_arrivals_per_year(network)
    stdout.print(
        f"ok: {pathway_file}: {pathway.name}: {len(pathway.localities)} localities "
        f"({round(float(network.population.sum())):,} people), {len(pathway.services)} services, "
        f"{len(pathway.steps)} steps, {len(pathway.exits)} exits; about {expected:,.0f} patients a year"
    )
    del HOURS_PER_YEAR
    records = find_provenance(document)
    unmarked = [r for r in records if r.kind is None]
    sourced = sum(1 for r in records if r.kind == "source")
    assumed = sum(1 for r in records if r.kind == "assumption")
    stdout.print(f"numbers: {len(records)} ({sourced} sourced, {assumed} assumed, {len(unmarked)} unmarked)")
    if provenance:
        table = Table(show_lines=False)
        for column in ("line", "key", "value", "marked", "note"):
            table.add_column(column, overflow="fold")
        for record in records:
            table.add_row(str(record.line), record.key, record.value, record.kind or "UNMARKED", record.note)
        stdout.print(table)
    if strict and unmarked:
        first = unmarked[0]
        raise InputError(
            f"not marked as sourced or assumed ({len(unmarked)} such numbers); add '# source: ...' or '# assumption: ...'",
            file=str(pathway_file),
            line=first.line,
            key=first.key,
        )


def _expected_arrivals_per_year(network) -> float:
    from sim.sampling import cell_intensity
    from sim.units import HOURS_PER_YEAR

    hours = int(HOURS_PER_YEAR // 24 * 24)
    return float(sum(intensity.sum() for *_, intensity in cell_intensity(network, 0.0, hours)))


@app.command()
def schema(
    experiment: Annotated[bool, typer.Option("--experiment", help="The experiment file's schema instead.")] = False,
) -> None:
    """Print the JSON Schema of pathway files, for editor autocompletion and checking."""
    if experiment:
        from sim.experiment import Experiment as Model
    else:
        from sim.pathway import Pathway as Model
    document = Model.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "carepath experiment" if experiment else "carepath pathway"
    print(json.dumps(document, indent=2))


# ---------------------------------------------------------------------------
# validate


@app.command()
@user_errors
def validate(
    reps: Annotated[int, typer.Option(help="Replications per case.", min=3)] = 30,
    seed: Annotated[int, typer.Option(help="Root seed.")] = 20240401,
    scale: Annotated[float, typer.Option(help="Run length relative to the default (smaller is faster, wider intervals).", min=0.05)] = 1.0,
) -> None:
    """Check the engine against exact queueing results (Erlang B and C, Little's law, Jackson)."""
    from sim.validation import cases, run_case

    table = Table(title=f"carepath engine validation: exact value inside the 99% CI of {reps} replications", header_style="bold")
    table.add_column("case", no_wrap=True)
    table.add_column("what", overflow="fold", ratio=1)
    for column in ("exact", "simulated mean", "99% CI", "result"):
        table.add_column(column, no_wrap=True)
    failures = 0
    for case in cases(scale):
        result = run_case(case, reps, seed)
        passed = result["passed"]
        failures += not passed
        table.add_row(
            case.name,
            case.description,
            f"{result['exact']:.4g} {case.unit}",
            f"{result['mean']:.4g}",
            f"{result['ci_low']:.4g} to {result['ci_high']:.4g}",
            "[green]pass[/green]" if passed else "[red]FAIL[/red]",
        )
    stdout.print(table)
    if failures:
        stdout.print(f"[red]{failures} case(s) failed[/red]")
        raise typer.Exit(1)
    stdout.print("all cases passed")


def _register_subcommands() -> None:
    """Commands that live in their own modules (report, animate, calibrate).

    Each module exposes ``register(app)``; keeping them out of this file keeps the
    core CLI importable without the heavier report and calibration dependencies.
    """
    import importlib

    for module_name in ("sim.report.cli", "sim.animation_cli", "sim.calibration.cli"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:  # pragma: no cover - optional module absent
            if error.name and module_name.startswith(error.name):
                continue
            raise
        module.register(app)


_register_subcommands()


def main() -> None:
    """Entry point of the ``carepath`` console script."""
    try:
        app()
    except BrokenPipeError:  # pragma: no cover - e.g. `carepath schema | head`
        sys.exit(0)
