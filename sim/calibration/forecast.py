"""Forecasts with prediction intervals, and how good they were on months held out.

A forecast here is the **posterior predictive distribution** of each series'
monthly mean: parameter sets drawn from the ABC posterior, each simulated
forward with its own random numbers and its own projection of emergency
admissions, so the intervals carry parameter uncertainty, the simulation's own
variability, uncertainty about future demand, and a model discrepancy term:

- **admissions after the data**: each calendar month's mean from the latest
  year, times the year-on-year growth of the latest year, with log-normal noise
  whose spread is the year-on-year variability of the series (seasonal naive
  with drift; Hyndman and Athanasopoulos, *Forecasting: Principles and
  Practice*, 3rd ed., 5.2);
- **discrepancy**: no model of a hospital is exact, and the situation reports
  drift for reasons the model leaves out (RWF's delayed census halves in 2024).
  The log ratio of observed to simulated (posterior median) in the fitted months
  is modelled as an AR(1) process (Kennedy and O'Hagan 2001 in spirit), carried
  forward from the last fitted month: a recent gap decays rather than vanishing,
  and the interval widens with the horizon.

Held-out months are forecast exactly as the future is, from the fit alone
(admissions projected, not observed), so the error reported on them is the
error a user of the forecast would have seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibration.abc import Posterior
from sim.calibration.study import Problem, simulate_months

QUANTILES = {"lower95": 0.025, "lower80": 0.10, "median": 0.5, "upper80": 0.90, "upper95": 0.975}


def project_admissions(
    admissions: pd.Series, origin: pd.Period, months: int, rng: np.random.Generator
) -> pd.Series:
    """One projected path of admissions per day for ``months`` after ``origin`` (seasonal naive with drift)."""
    history = admissions.loc[:origin].dropna()
    last_year = history.loc[origin - 11 : origin]
    previous = history.loc[origin - 23 : origin - 12]
    growth = 0.0
    spread = 0.03
    if len(previous) >= 10 and len(last_year) >= 10:
        pairs = [(m, m - 12) for m in last_year.index if (m - 12) in previous.index]
        ratios = np.log([last_year[m] / previous[p] for m, p in pairs])
        growth = float(np.mean(ratios))
        spread = float(max(np.std(ratios, ddof=1), 0.01)) if len(ratios) > 2 else spread
    future = pd.period_range(origin + 1, origin + months, freq="M")
    level = rng.normal(growth, spread / math.sqrt(max(len(last_year), 1)))  # uncertain drift
    values = []
    for month in future:
        same = [m for m in last_year.index if m.month == month.month]
        base = float(last_year[same[0]]) if same else float(last_year.mean())
        years_ahead = (month - same[0]).n / 12 if same else 1.0
        values.append(base * math.exp(level * years_ahead + rng.normal(0.0, spread)))
    return pd.concat([history, pd.Series(values, index=future)])


def _simulate_draw(problem: Problem, params: dict, first: pd.Period, origin: pd.Period, last: pd.Period, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))
    admissions = project_admissions(problem.admissions, origin, (last - origin).n, rng) if last > origin else problem.admissions
    return simulate_months(problem, params, first, last, seed, admissions)


@dataclass
class Predictive:
    """Simulated monthly means for each posterior draw, with the discrepancy applied after ``origin``."""

    months: pd.PeriodIndex
    series: list[str]
    simulated: np.ndarray  # draws x months x series (model only)
    predicted: np.ndarray  # draws x months x series (with discrepancy)
    origin: pd.Period
    discrepancy: dict[str, tuple[float, float, float]]  # series -> (phi, innovation sd, last residual)


def predictive(
    problem: Problem,
    posterior: Posterior,
    first: pd.Period,
    origin: pd.Period,
    last: pd.Period,
    draws: int,
    seed: int,
    jobs: int = 1,
) -> Predictive:
    """Posterior predictive simulations from ``first`` to ``last``; data used up to ``origin``."""
    from sim.parallel import map_tasks

    parameter_sets = posterior.draw(draws, seed)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed, spawn_key=(3,)).spawn(draws)]
    tasks = [(_simulate_draw, (problem, params, first, origin, last, s)) for params, s in zip(parameter_sets, seeds, strict=True)]
    frames = dict(map_tasks(tasks, jobs=jobs))
    months = pd.period_range(first, last, freq="M")
    series = list(problem.observed)
    simulated = np.stack([frames[i].reindex(months)[series].to_numpy(dtype=float) for i in range(draws)])
    predicted = simulated.copy()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(4,)))
    discrepancy = {}
    fitted = months <= origin
    for j, name in enumerate(series):
        median = np.nanmedian(simulated[:, fitted, j], axis=0)
        observed = problem.observed[name].reindex(months[fitted]).to_numpy(dtype=float)
        residual = np.log(observed) - np.log(median)
        phi, sd, last_residual = _ar1(residual)
        discrepancy[name] = (phi, sd, last_residual)
        ahead = np.flatnonzero(~fitted)
        state = np.full(draws, last_residual)
        for k in ahead:
            state = phi * state + rng.normal(0.0, sd, size=draws)
            predicted[:, k, j] = simulated[:, k, j] * np.exp(state)
    return Predictive(months, series, simulated, predicted, origin, discrepancy)


def _ar1(residual: np.ndarray) -> tuple[float, float, float]:
    """AR(1) coefficient (clipped to [0, 0.95]), innovation sd and the last residual, ignoring gaps."""
    r = residual[np.isfinite(residual)]
    if len(r) < 3:
        return 0.0, float(np.nanstd(r)) if len(r) else 0.05, float(r[-1]) if len(r) else 0.0
    x, y = residual[:-1], residual[1:]
    ok = np.isfinite(x) & np.isfinite(y)
    phi = float(np.clip(np.sum(x[ok] * y[ok]) / np.sum(x[ok] ** 2), 0.0, 0.95)) if ok.sum() >= 2 and np.sum(x[ok] ** 2) > 0 else 0.0
    innovations = y[ok] - phi * x[ok]
    sd = float(np.sqrt(np.mean(innovations**2))) if ok.any() else float(np.std(r))
    return phi, max(sd, 1e-3), float(r[-1])


def intervals(problem: Problem, result: Predictive, from_month: pd.Period | None = None, with_discrepancy: bool = True) -> pd.DataFrame:
    """Tidy intervals: month, org_code, metric, lower95, lower80, median, upper80, upper95, observed."""
    values = result.predicted if with_discrepancy else result.simulated
    rows = []
    for j, name in enumerate(result.series):
        q = np.nanquantile(values[:, :, j], list(QUANTILES.values()), axis=0)
        observed = problem.observed[name]
        for k, month in enumerate(result.months):
            if from_month is not None and month < from_month:
                continue
            row = {"month": str(month), "org_code": problem.org_code, "metric": name}
            row |= {key: float(q[i, k]) for i, key in enumerate(QUANTILES)}
            row["observed"] = float(observed.get(month, math.nan)) if month in observed.index else math.nan
            rows.append(row)
    return pd.DataFrame(rows)


def holdout_errors(table: pd.DataFrame) -> pd.DataFrame:
    """Per metric, over months with an observation: MAPE and MAE of the median, interval coverage."""
    rows = []
    for metric, group in table.groupby("metric", sort=False):
        g = group.dropna(subset=["observed"])
        if g.empty:
            continue
        error = g["median"] - g["observed"]
        rows.append(
            {
                "metric": metric,
                "months": len(g),
                "mape": float(np.mean(np.abs(error) / g["observed"])),
                "mae": float(np.mean(np.abs(error))),
                "bias": float(np.mean(error)),
                "coverage80": float(np.mean((g["observed"] >= g["lower80"]) & (g["observed"] <= g["upper80"]))),
                "coverage95": float(np.mean((g["observed"] >= g["lower95"]) & (g["observed"] <= g["upper95"]))),
            }
        )
    return pd.DataFrame(rows)


__all__ = ["QUANTILES", "Predictive", "holdout_errors", "intervals", "predictive", "project_admissions"]
