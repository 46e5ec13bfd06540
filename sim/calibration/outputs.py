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
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from sim.calibration.abc import calibrate, effective_sample_size
from sim.calibration.forecast import holdout_errors, intervals, predictive
from sim.calibration.report import outputs_report
from sim.calibration.study import build_problem, load_study
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


__all__ = ["FORECAST_COLUMNS", "run_study"]
