"""Analysis: pure functions from tidy frames to tidy frames.

Nothing here runs a simulation or draws a chart. Confidence intervals are
Student-t intervals over independent replications (Law 2007, section 9.4.1);
comparisons between scenarios are **paired** by replication, because replication
*k* of every scenario sees the same patients (common random numbers), so the
difference has far less noise than either scenario alone.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


def mean_ci(values: np.ndarray | pd.Series, level: float = 0.95) -> tuple[float, float, float, float, int]:
    """Mean, standard deviation, and the confidence interval's lower and upper ends.

    Returns NaN for the interval with fewer than two finite values, and a
    zero-width interval when every value is the same.
    """
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array)]
    n = len(array)
    if n == 0:
        return (math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(array.mean())
    if n < 2:
        return (mean, math.nan, math.nan, math.nan, n)
    sd = float(array.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n))
    return (mean, sd, mean - half, mean + half, n)


def half_width(values: np.ndarray | pd.Series, level: float = 0.95) -> float:
    _, _, low, high, n = mean_ci(values, level)
    return (high - low) / 2 if n >= 2 else math.inf


def summarise(summary: pd.DataFrame, by: list[str] | None = None, level: float = 0.95) -> pd.DataFrame:
    """Per (service, metric): mean, sd, CI and the number of replications.

    ``summary`` is the long table a run writes (``replication, service, metric,
    value, unit``); ``by`` adds grouping columns such as ``scenario``.
    """
    keys = [*(by or []), "service", "metric"]
    rows = []
    for key, group in summary.groupby(keys, sort=False):
        mean, sd, low, high, n = mean_ci(group["value"].to_numpy(), level)
        unit = group["unit"].iloc[0] if "unit" in group else ""
        rows.append((*key, mean, sd, low, high, n, unit))
    return pd.DataFrame(rows, columns=[*keys, "mean", "sd", "ci_low", "ci_high", "n", "unit"])


def paired_difference(
    scenario: pd.DataFrame, baseline: pd.DataFrame, level: float = 0.95
) -> tuple[float, float, float, float, int]:
    """Mean and CI of ``baseline - scenario`` matched on replication.

    Both frames have ``replication`` and ``value`` columns; only replications
    present in both are used (a sweep still running may have fewer).
    """
    joined = pd.merge(
        baseline[["replication", "value"]], scenario[["replication", "value"]], on="replication", suffixes=("_base", "_scen")
    )
    return mean_ci((joined["value_base"] - joined["value_scen"]).to_numpy(), level)


def mser(series: np.ndarray, batch: int = 5) -> tuple[int, np.ndarray]:
    """MSER-5 truncation point for a time series (White 1997; White, Cobb and Spratt 2000).

    The series (e.g. daily occupancy averaged over replications) is batched into
    means of ``batch`` points; the truncation ``d`` minimises the standard error of
    the mean of what remains, searched over the first half of the batches (beyond
    that the statistic is unreliable). Returns ``d`` in original points and the
    statistic for each candidate.
    """
    values = np.asarray(series, dtype=float)
    values = values[np.isfinite(values)]
    n_batches = len(values) // batch
    if n_batches < 4:
        return 0, np.array([])
    batched = values[: n_batches * batch].reshape(n_batches, batch).mean(axis=1)
    candidates = np.arange(0, n_batches // 2)
    statistic = np.array(
        [np.var(batched[d:], ddof=0) / (n_batches - d) for d in candidates]
    )
    best = int(candidates[np.argmin(statistic)])
    return best * batch, statistic
