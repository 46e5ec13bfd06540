"""Emergency admissions as a non-homogeneous Poisson process: a rate and its shape in time.

A pathway states demand as a rate shaped by hour of day, day of week and month
(``demand.<stream>.profile``), each a set of weights with mean 1. Fitting that
from admission times is a Poisson log-linear model with three main effects,

    E[admissions in hour h, weekday w, month m] = exposure(h, w, m) * rate * hour[h] * weekday[w] * month[m],

where the exposure counts how many such hours the data cover (a year of data
has about four Mondays in each month). Its maximum-likelihood estimate is found
by iterative proportional fitting (Deming and Stephan 1940; Bishop, Fienberg and
Holland 1975, ch. 3): each margin's fitted total is matched to the observed
total in turn until nothing changes. Each weight carries an approximate 95%
interval from its margin's Poisson count, and the total rate an exact Poisson
interval (Garwood 1936).

With dates but no times (HES), only the weekday and month profiles are
identified; the hour profile is left out of the fragment rather than guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

MARGINS = {"hour": 24, "weekday": 7, "month": 12}


@dataclass
class ArrivalProfile:
    """A fitted NHPP: the mean rate per day and the hour/weekday/month weights (mean 1)."""

    n: int
    days: float
    rate_per_day: float
    rate_ci: tuple[float, float]
    weights: dict[str, np.ndarray]  # margin -> weights with mean 1
    lower: dict[str, np.ndarray]
    upper: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]  # observed admissions by margin level (aggregates)

    def intensity(self, hour: int, weekday: int, month: int) -> float:
        """Admissions per hour at one hour of one weekday in one month."""
        value = self.rate_per_day / 24.0
        for name, index in (("hour", hour), ("weekday", weekday), ("month", month)):
            if name in self.weights:
                value *= self.weights[name][index]
        return value


def exposure_table(start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Hours of observation in each (hour, weekday, month) cell between two instants."""
    hours = pd.date_range(start.floor("h"), end.ceil("h"), freq="h", inclusive="left")
    table = np.zeros((24, 7, 12))
    np.add.at(table, (hours.hour.to_numpy(), hours.day_of_week.to_numpy(), hours.month.to_numpy() - 1), 1.0)
    return table


def fit_arrival_profile(
    times: pd.Series,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    with_hours: bool = True,
    iterations: int = 200,
) -> ArrivalProfile:
    """Fit the hour/weekday/month profile and total rate to admission times.

    Parameters
    ----------
    times:
        Admission date-times (one per admission).
    start, end:
        The window the data cover (default: first admission's day to the last's end).
    with_hours:
        False for dates without times: the hour profile is not fitted.
    """
    times = pd.to_datetime(pd.Series(times)).dropna()
    if times.empty:
        raise ValueError("no admissions to fit")
    start = times.min().normalize() if start is None else pd.Timestamp(start)
    end = times.max().normalize() + pd.Timedelta(days=1) if end is None else pd.Timestamp(end)
    times = times[(times >= start) & (times < end)]
    exposure = exposure_table(start, end)
    counts = np.zeros((24, 7, 12))
    np.add.at(counts, (times.dt.hour.to_numpy(), times.dt.day_of_week.to_numpy(), times.dt.month.to_numpy() - 1), 1.0)
    axes = {"hour": 0, "weekday": 1, "month": 2}
    margins = [m for m in MARGINS if with_hours or m != "hour"]
    if not with_hours:  # collapse the hours: every admission at an unknown hour of its day
        exposure = exposure.sum(axis=0, keepdims=True)
        counts = counts.sum(axis=0, keepdims=True)
    n = float(counts.sum())
    total_hours = float(exposure.sum())
    factors = {m: np.ones(counts.shape[axes[m]]) for m in margins}

    def fitted() -> np.ndarray:
        value = exposure * (n / total_hours)
        for m in margins:
            shape = [1, 1, 1]
            shape[axes[m]] = -1
            value = value * factors[m].reshape(shape)
        return value

    for _ in range(iterations):
        change = 0.0
        for m in margins:
            other = tuple(a for a in range(3) if a != axes[m])
            observed = counts.sum(axis=other)
            expected = fitted().sum(axis=other)
            ratio = np.divide(observed, expected, out=np.ones_like(observed), where=expected > 0)
            factors[m] = factors[m] * ratio
            change = max(change, float(np.max(np.abs(ratio - 1))))
        if change < 1e-10:
            break
    weights, lower, upper, margin_counts = {}, {}, {}, {}
    for m in margins:
        other = tuple(a for a in range(3) if a != axes[m])
        observed = counts.sum(axis=other)
        exposed = exposure.sum(axis=other)
        # weights with mean 1 over the levels (the pathway's convention)
        scale = float(np.mean(factors[m][exposed > 0])) if np.any(exposed > 0) else 1.0
        w = np.where(exposed > 0, factors[m] / scale, 1.0)
        relative = np.where(observed > 0, 1.96 / np.sqrt(np.maximum(observed, 1)), np.nan)
        weights[m] = w
        lower[m] = w * np.exp(-relative)
        upper[m] = w * np.exp(relative)
        margin_counts[m] = observed
    days = total_hours / 24.0
    # the mean rate over a standard calendar: total fitted intensity averaged over all cells
    rate_ci = (
        stats.chi2.ppf(0.025, 2 * n) / 2 / days if n > 0 else 0.0,
        stats.chi2.ppf(0.975, 2 * n + 2) / 2 / days,
    )
    return ArrivalProfile(
        n=int(n),
        days=days,
        rate_per_day=n / days,
        rate_ci=(float(rate_ci[0]), float(rate_ci[1])),
        weights=weights,
        lower=lower,
        upper=upper,
        counts=margin_counts,
    )


def poisson_interval(count: float, exposure: float, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson rate."""
    alpha = 1 - level
    low = stats.chi2.ppf(alpha / 2, 2 * count) / 2 if count > 0 else 0.0
    high = stats.chi2.ppf(1 - alpha / 2, 2 * count + 2) / 2
    return low / exposure, high / exposure if exposure > 0 else math.inf


__all__ = ["ArrivalProfile", "exposure_table", "fit_arrival_profile", "poisson_interval"]
