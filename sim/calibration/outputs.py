"""Running a calibration study end to end: ``carepath calibrate outputs STUDY.yaml``.

1. **Fit** the unknowns by ABC on the ``fit_months`` before the held-out months.
2. **Check**: forecast the held-out months from that fit alone and report the
   error (MAPE of the median, interval coverage) against what was observed.
3. **Refit** on the latest ``fit_months`` (``refit_for_forecast``), then
4. **forecast** ``forecast_months`` beyond the data with 80% and 95% intervals.

Writes ``forecast.csv`` (month, org_code, metric, lower95, lower80, median,
upper80, upper95), ``holdout.csv`` and ``holdout_errors.csv``,
``posterior_fit.csv`` / ``posterior_refit.csv`` (weighted particles),
``intervals.csv``, ``summary.json`` and ``report.html``; each file atomically.

Several calibration files (or a folder of them) run one after another, each in
its own subfolder named after the file's ``name`` and each parallel across the
workers; :func:`write_combined` then writes one ``forecast.csv`` holding every
``org_code``, with ``holdout.csv``, ``holdout_errors.csv``, ``summary.json`` and
an ``index.html`` across them all.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from sim.calibration.abc import calibrate, effective_sample_size
from sim.calibration.forecast import holdout_errors, intervals, predictive
from sim.calibration.report import combined_report, outputs_report
from sim.calibration.study import build_problem, load_study
from sim.document import load_yaml
from sim.errors import InputError
from sim.storage import atomic_write, write_json, write_text

FORECAST_COLUMNS = ["month", "org_code", "metric", "lower95", "lower80", "median", "upper80", "upper95"]


def run_study(
    path: str | Path,
    out: Path,
    jobs: int = 1,
    population: int | None = None,
    generations: int | None = None,
    draws: int | None = None,
    echo=print,
) -> dict:
    """Fit, check on held-out months, refit and forecast; write everything to ``out``."""
    started = time.perf_counter()
    study, document = load_study(path)
    settings = study.abc
    changes = {k: v for k, v in (("population", population), ("generations", generations), ("predictive_draws", draws)) if v is not None}
    if changes:
        settings = settings.model_copy(update=changes)
    problem = build_problem(study, document)
    results: dict = {}
    first, last = problem.windows(refit=False)

    def fit(label: str, first: pd.Period, last: pd.Period):
        echo(f"{label}: ABC-SMC on {first} to {last} (population {settings.population}, up to {settings.generations} generations)")
        posterior = calibrate(problem, settings, first, last, out, jobs=jobs, label=label)
        results[label] = {"posterior": posterior, "ess": effective_sample_size(posterior.weights)}
        echo(f"  {posterior.evaluations:,} simulations; posterior:")
        for row in posterior.intervals(problem).itertuples():
            echo(f"    {row.unknown}: {row.median:.4g} (95% {row.lower95:.4g} to {row.upper95:.4g})")
        return posterior

    posterior = fit("fit", first, last)
    if problem.holdout_months > 0:
        result = predictive(problem, posterior, first, last, last + problem.holdout_months, settings.predictive_draws, settings.seed + 17, jobs)
        table = intervals(problem, result)
        held = table[pd.PeriodIndex(table["month"], freq="M") > last].reset_index(drop=True)
        fitted = intervals(problem, result, with_discrepancy=False)
        fitted = fitted[pd.PeriodIndex(fitted["month"], freq="M") <= last]
        errors = holdout_errors(held)
        results["holdout"] = {"table": held, "errors": errors, "fitted": fitted}
        echo("held-out months " + f"{last + 1} to {last + problem.holdout_months}:")
        for row in errors.itertuples():
            echo(f"    {row.metric}: MAPE {row.mape:.1%}, bias {row.bias:+.3g}, 80% coverage {row.coverage80:.0%}, 95% coverage {row.coverage95:.0%}")
    if study.refit_for_forecast and problem.holdout_months > 0:
        first, last = problem.windows(refit=True)
        posterior = fit("refit", first, last)
    else:
        last = problem.data_end
    horizon = problem.data_end + problem.forecast_months
    result = predictive(problem, posterior, first, last, horizon, settings.predictive_draws, settings.seed + 29, jobs)
    table = intervals(problem, result, from_month=problem.data_end + 1)
    fitted = intervals(problem, result, with_discrepancy=False)
    fitted = fitted[pd.PeriodIndex(fitted["month"], freq="M") <= last]
    results["forecast"] = {"table": table, "fitted": fitted, "discrepancy": result.discrepancy}

    out.mkdir(parents=True, exist_ok=True)
    forecast = table[FORECAST_COLUMNS]
    atomic_write(out / "forecast.csv", lambda p: forecast.to_csv(p, index=False, float_format="%.4g"))
    if "holdout" in results:
        atomic_write(out / "holdout.csv", lambda p: results["holdout"]["table"].to_csv(p, index=False, float_format="%.4g"))
        atomic_write(out / "holdout_errors.csv", lambda p: results["holdout"]["errors"].to_csv(p, index=False, float_format="%.4g"))
    rows = []
    for label in ("fit", "refit"):
        if label in results:
            post = results[label]["posterior"]
            particles = post.particles.assign(weight=post.weights / post.weights.sum())
            atomic_write(out / f"posterior_{label}.csv", lambda p, f=particles: f.to_csv(p, index=False, float_format="%.6g"))
            rows.append(post.intervals(problem).assign(fit=label, window=f"{post.first} to {post.last}"))
    summary_intervals = pd.concat(rows, ignore_index=True)
    atomic_write(out / "intervals.csv", lambda p: summary_intervals.to_csv(p, index=False, float_format="%.5g"))
    write_text(out / "report.html", outputs_report(problem, results))
    elapsed = time.perf_counter() - started
    summary = {
        "study": str(path),
        "org_code": problem.org_code,
        "data_end": str(problem.data_end),
        "sources": problem.sources,
        "settings": settings.model_dump(),
        "jobs": jobs,
        "seconds": round(elapsed, 1),
        "simulations": int(sum(results[k]["posterior"].evaluations for k in ("fit", "refit") if k in results)),
        "holdout_errors": results["holdout"]["errors"].to_dict(orient="records") if "holdout" in results else [],
    }
    write_json(out / "summary.json", summary)
    results["summary"] = summary
    results["problem"] = problem
    return results


#: What a single file's run writes at the top of its folder; a combined run clears
#: them from its own top level so that no one trust's report passes for all of them.
SINGLE_RUN_FILES = ("abc-fit.db", "abc-refit.db", "posterior_fit.csv", "posterior_refit.csv", "intervals.csv", "report.html")


def _is_calibration_file(path: Path) -> bool:
    data = load_yaml(path, "calibration file").data
    return isinstance(data, dict) and "carepath_calibration" in data


def calibration_files(paths: list[str | Path] | tuple[str | Path, ...]) -> list[Path]:
    """The calibration files named, a folder standing for every calibration file in it.

    In a folder, a calibration file is a ``.yaml`` or ``.yml`` file whose top level
    holds ``carepath_calibration`` (pathway files beside them are left out); they
    are taken in name order. A file named twice is taken once.

    Raises
    ------
    InputError
        A path does not exist, or a folder holds no calibration file.
    """
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = [p for p in sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if _is_calibration_file(p)]
            if not found:
                raise InputError(f"{path}: no calibration files here (YAML files with carepath_calibration: 1)")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    unique: dict[Path, Path] = {}
    for path in files:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def run_studies(
    paths: list[str | Path] | tuple[str | Path, ...],
    out: Path,
    jobs: int = 1,
    population: int | None = None,
    generations: int | None = None,
    draws: int | None = None,
    echo=print,
) -> dict:
    """Run several calibration files in turn (each in ``out/<name>/``); write the combined outputs to ``out``.

    Every file is read and checked (pathway, series, unknowns) before the first
    simulation, so a mistake in the last file does not wait for the first
    file's calibration. Returns ``{"studies": {org_code: run_study results},
    "summary": {...}}``.
    """
    started = time.perf_counter()
    files = calibration_files(paths)
    checked: list[tuple[Path, str, str]] = []
    names: dict[str, Path] = {}
    codes: dict[str, Path] = {}
    for path in files:
        study, document = load_study(path)
        build_problem(study, document)
        for key, seen, value in (("name", names, study.name), ("org_code", codes, study.org_code)):
            if value in seen:
                raise document.error((key,), f"{value!r} is also the {key} of {seen[value]}: each file needs its own")
            seen[value] = path
        checked.append((path, study.name, study.org_code))
    out.mkdir(parents=True, exist_ok=True)
    for name in SINGLE_RUN_FILES:
        (out / name).unlink(missing_ok=True)
    studies: dict[str, dict] = {}
    for number, (path, name, org_code) in enumerate(checked, start=1):
        echo(f"== {org_code} ({path}), {number} of {len(checked)}")
        studies[org_code] = run_study(path, out / name, jobs=jobs, population=population, generations=generations, draws=draws, echo=echo)
        echo(f"  {org_code} took {studies[org_code]['summary']['seconds']:.0f} s")
    summary = write_combined(out, studies, seconds=time.perf_counter() - started, jobs=jobs)
    return {"studies": studies, "summary": summary}


def write_combined(out: Path, studies: dict[str, dict], seconds: float | None = None, jobs: int | None = None) -> dict:
    """One ``forecast.csv`` (every org_code), ``holdout.csv``, ``holdout_errors.csv``, ``summary.json`` and ``index.html``.

    ``studies`` maps each org_code to what :func:`run_study` returned; the rows
    keep the order given.
    """
    out.mkdir(parents=True, exist_ok=True)
    forecast = pd.concat([r["forecast"]["table"][FORECAST_COLUMNS] for r in studies.values()], ignore_index=True)
    atomic_write(out / "forecast.csv", lambda p: forecast.to_csv(p, index=False, float_format="%.4g"))
    held = [r for r in studies.values() if "holdout" in r]
    errors = pd.DataFrame()
    if held:
        table = pd.concat([r["holdout"]["table"] for r in held], ignore_index=True)
        errors = pd.concat([r["holdout"]["errors"].assign(org_code=r["problem"].org_code) for r in held], ignore_index=True)
        errors = errors[["org_code", *[c for c in errors.columns if c != "org_code"]]]
        atomic_write(out / "holdout.csv", lambda p: table.to_csv(p, index=False, float_format="%.4g"))
        atomic_write(out / "holdout_errors.csv", lambda p: errors.to_csv(p, index=False, float_format="%.4g"))
    per_study = []
    for org_code, result in studies.items():
        summary = result["summary"]
        per_study.append(
            {
                "org_code": org_code,
                "name": result["problem"].name,
                "folder": result["problem"].name,
                "study": summary["study"],
                "seconds": summary["seconds"],
                "simulations": summary["simulations"],
                "settings": summary["settings"],
            }
        )
    total = {
        "org_codes": list(studies),
        "seconds": round(seconds if seconds is not None else sum(s["seconds"] for s in per_study), 1),
        "jobs": jobs,
        "simulations": int(sum(s["simulations"] for s in per_study)),
        "studies": per_study,
        "holdout_errors": errors.to_dict(orient="records"),
    }
    write_json(out / "summary.json", total)
    write_text(out / "index.html", combined_report(studies, errors, total))
    return total


__all__ = ["FORECAST_COLUMNS", "SINGLE_RUN_FILES", "calibration_files", "run_studies", "run_study", "write_combined"]
