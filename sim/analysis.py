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


# ---------------------------------------------------------------------------
# comparing scenarios with the baseline (paired by replication)

DAYS_PER_YEAR = 365.25


def _per_run(summary: pd.DataFrame, service: str, metric: str) -> pd.DataFrame:
    rows = summary[(summary.service == service) & (summary.metric == metric)]
    return rows[["scenario", "replication", "value"]]


def ratio_ci(numerator: np.ndarray, denominator: np.ndarray, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Ratio of means with a paired percentile-bootstrap interval (scipy.stats.bootstrap).

    Used for cost per admission avoided: both are differences against the
    baseline in the same replications, so they are resampled together. Returns
    NaN for the interval when the denominator's own interval includes zero (the
    ratio is then unbounded) or there are fewer than three replications.
    """
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    keep = np.isfinite(numerator) & np.isfinite(denominator)
    numerator, denominator = numerator[keep], denominator[keep]
    if len(numerator) == 0 or denominator.mean() <= 0:
        return (math.nan, math.nan, math.nan)
    ratio = float(numerator.mean() / denominator.mean())
    _, _, low, _, n = mean_ci(denominator, level)
    if n < 3 or not (low > 0):
        return (ratio, math.nan, math.nan)
    result = stats.bootstrap(
        (numerator, denominator),
        lambda a, b, axis=-1: a.mean(axis=axis) / b.mean(axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=2000,
        confidence_level=level,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return (ratio, float(result.confidence_interval.low), float(result.confidence_interval.high))


def compare_scenarios(
    summary: pd.DataFrame,
    scenarios: list[tuple[str, bool, dict]],
    labels: dict[str, str],
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every scenario against the baseline, per year, with confidence intervals.

    Parameters
    ----------
    summary:
        Per-run summaries with a ``scenario`` column (``replication, service,
        metric, value, unit``).
    scenarios:
        ``(name, is_baseline, factor values by path)`` in display order.
    labels:
        A readable label per factor path (a column of the wide table).

    Returns
    -------
    A wide table (one row per scenario) for printing and the report, and a long
    table ``scenario, service, measure, mean, ci_low, ci_high, n, unit``.
    """
    baseline = next(name for name, is_baseline, _ in scenarios if is_baseline)
    measured = summary[(summary.service == "system") & (summary.metric == "measured_days")]["value"]
    per_year = DAYS_PER_YEAR / float(measured.iloc[0]) if len(measured) else 1.0

    # one pass to index the runs by (service, metric, scenario): filtering the whole
    # table per scenario and measure is quadratic in the size of the sweep
    index: dict[tuple[str, str, str], pd.DataFrame] = {
        (str(service), str(metric), str(scenario)): group[["scenario", "replication", "value"]]
        for (service, metric, scenario), group in summary.groupby(["service", "metric", "scenario"], sort=False, observed=True)
    }
    empty = pd.DataFrame({"scenario": pd.Series(dtype=str), "replication": pd.Series(dtype=int), "value": pd.Series(dtype=float)})

    def runs(service: str, metric: str, scenario: str) -> pd.DataFrame:
        return index.get((service, metric, scenario), empty)

    services = summary[["service", "metric"]].drop_duplicates()
    teams = sorted(set(services[services.metric == "within_target"].service))
    beds = sorted(set(services[services.metric == "occupancy_mean"].service))
    staffed = sorted(set(services[(services.metric == "utilisation")].service) - set(beds))

    long_rows: list[tuple] = []
    wide_rows: list[dict] = []
    for name, is_baseline, values in scenarios:
        row: dict = {"scenario": name, "baseline": is_baseline}
        for path, label in labels.items():
            value = values.get(path)
            row[label] = "+".join(map(str, value)) if isinstance(value, list) else value

        def add(measure: str, service: str, stats_: tuple, unit: str, scale: float = 1.0, column: str | None = None, row: dict = row, name: str = name) -> None:
            mean, low, high, n = stats_[0] * scale, stats_[2] * scale, stats_[3] * scale, stats_[4]
            long_rows.append((name, service, measure, mean, low, high, n, unit))
            key = column or measure
            row[key] = mean
            row[f"{key}_low"] = low
            row[f"{key}_high"] = high

        admissions = runs("system", "acute_admissions", name)
        row["replications"] = int(admissions["replication"].nunique())
        add("admissions_per_year", "system", mean_ci(admissions["value"], level), "patients", per_year)
        base_admissions = runs("system", "acute_admissions", baseline)
        avoided = paired_difference(admissions, base_admissions, level)
        add("admissions_avoided_per_year", "system", avoided, "patients", per_year)
        saved = paired_difference(runs("system", "acute_bed_days", name), runs("system", "acute_bed_days", baseline), level)
        add("bed_days_saved_per_year", "system", saved, "days", per_year)
        add("delayed_bed_days_per_year", "system", mean_ci(runs("system", "delayed_bed_days", name)["value"], level), "days", per_year)
        add("cost_community_per_year", "system", mean_ci(runs("system", "cost_community", name)["value"], level), "GBP", per_year)
        add("cost_total_per_year", "system", mean_ci(runs("system", "cost_total", name)["value"], level), "GBP", per_year)
        extra = paired_difference(runs("system", "cost_community", baseline), runs("system", "cost_community", name), level)
        add("extra_cost_per_year", "system", extra, "GBP", per_year)
        net = paired_difference(runs("system", "cost_total", baseline), runs("system", "cost_total", name), level)
        add("net_cost_per_year", "system", net, "GBP", per_year)

        # cost per admission avoided: extra community cost / admissions avoided, paired by replication
        joined = (
            runs("system", "cost_community", name)
            .merge(runs("system", "cost_community", baseline), on="replication", suffixes=("", "_base"))
            .merge(admissions, on="replication", suffixes=("", "_adm"))
            .merge(base_admissions, on="replication", suffixes=("", "_adm_base"))
        )
        if is_baseline or joined.empty:
            ratio = (math.nan, math.nan, math.nan)
        else:
            ratio = ratio_ci(
                (joined["value"] - joined["value_base"]).to_numpy(),
                (joined["value_adm_base"] - joined["value_adm"]).to_numpy(),
                level,
            )
        long_rows.append((name, "system", "cost_per_admission_avoided", ratio[0], ratio[1], ratio[2], len(joined), "GBP"))
        row["cost_per_admission_avoided"], row["cost_per_admission_avoided_low"], row["cost_per_admission_avoided_high"] = ratio

        for service in teams:
            add("within_target", service, mean_ci(runs(service, "within_target", name)["value"], level), "share", column=f"within_target:{service}")
        for service in staffed:
            add("utilisation", service, mean_ci(runs(service, "utilisation", name)["value"], level), "share", column=f"utilisation:{service}")
        for service in beds:
            add("occupancy_mean", service, mean_ci(runs(service, "occupancy_mean", name)["value"], level), "beds", column=f"occupancy:{service}")
            add("utilisation", service, mean_ci(runs(service, "utilisation", name)["value"], level), "share", column=f"utilisation:{service}")
        wide_rows.append(row)
    long = pd.DataFrame(long_rows, columns=["scenario", "service", "measure", "mean", "ci_low", "ci_high", "n", "unit"])
    return pd.DataFrame(wide_rows), long


def sensitivity(method: str, problem: dict, design: np.ndarray, outputs: dict[str, np.ndarray], levels: int = 4, seed: int = 0) -> pd.DataFrame:
    """Sensitivity indices with SALib, for each output (e.g. admissions avoided, cost).

    ``method`` is ``morris`` (elementary effects: mu*, its 95% CI, sigma;
    Morris 1991, Campolongo et al. 2007) or ``sobol`` (first-order and total
    indices with 95% CIs; Saltelli 2002). Returns a long table
    ``output, factor, method, index, value, conf``.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    rows = []
    for output, values in outputs.items():
        values = np.asarray(values, dtype=float)
        if method == "morris":
            result = morris_analyze.analyze(problem, design, values, num_levels=levels, conf_level=0.95, seed=seed)
            for i, factor in enumerate(problem["names"]):
                rows.append((output, factor, method, "mu_star", float(result["mu_star"][i]), float(result["mu_star_conf"][i])))
                rows.append((output, factor, method, "mu", float(result["mu"][i]), math.nan))
                rows.append((output, factor, method, "sigma", float(result["sigma"][i]), math.nan))
        else:
            result = sobol_analyze.analyze(problem, values, calc_second_order=False, conf_level=0.95, seed=seed)
            for i, factor in enumerate(problem["names"]):
                rows.append((output, factor, method, "S1", float(result["S1"][i]), float(result["S1_conf"][i])))
                rows.append((output, factor, method, "ST", float(result["ST"][i]), float(result["ST_conf"][i])))
    return pd.DataFrame(rows, columns=["output", "factor", "method", "index", "value", "conf"])
