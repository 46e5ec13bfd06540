"""Response times against the 2-hour urgent community response standard.

Two views. Left, the share of patients reached within the target in every
scenario, with its 95% interval (the national ambition, 70% within 2 hours, is
marked when the target is 2 hours). Right, the whole distribution for a few
selected scenarios: the share of patients seen within each time, as the median
over replications with a 90% band, read from the fixed log-binned histograms
each run stores (``distributions`` table, metric ``response``), so no patient
record is needed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import labels as fmt
from sim.charts.dots import NAMED, dot_interval
from sim.charts.style import GREY, PALETTE, figure

#: NHS England's ambition for the 2-hour urgent community response standard (planning guidance 2023/24).
UCR_AMBITION = 0.70


def cumulative_shares(histogram: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """Share of values at or below each grid point, from one run's (lower, upper, count) bins.

    Within a bin the values are taken as spread evenly, which is exact at the
    bin edges (the bins are a hundredth of a decade wide).
    """
    total = float(histogram["count"].sum())
    if total <= 0:
        return np.full(len(grid), np.nan)
    lower = histogram["lower"].to_numpy(dtype=float)
    upper = histogram["upper"].to_numpy(dtype=float)
    counts = histogram["count"].to_numpy(dtype=float)
    width = np.where(upper > lower, upper - lower, 1.0)
    covered = np.clip((grid[:, None] - lower[None, :]) / width[None, :], 0.0, 1.0)
    covered = np.where((upper <= lower)[None, :], (grid[:, None] >= lower[None, :]).astype(float), covered)
    return (covered * counts[None, :]).sum(axis=1) / total


def draw(
    table: pd.DataFrame,
    within: str,
    service_label: str,
    target_hours: float | None,
    histograms: pd.DataFrame,
    selected: dict[str, str],
    highlight: dict[str, str] | None = None,
) -> Figure:
    """Share within target per scenario, and the response-time distribution of ``selected``.

    ``histograms`` holds ``scenario, replication, lower, upper, count`` for the
    team's ``response`` metric; ``selected`` maps scenario names to legend labels.
    """
    rows = table[table[within].notna()]
    count = len(rows)
    height = max(4.5, 0.28 * count + 1.8) if count <= NAMED else 5.0
    fig, (left, right) = figure(13.0, height, ncols=2, gridspec_kw={"width_ratios": [1.15, 1]})
    words = f"within {fmt.hours(target_hours)}" if target_hours else "within target"
    dot_interval(
        left,
        rows["scenario"].astype(str).tolist(),
        rows[within].to_numpy(dtype=float) * 100,
        rows[f"{within}_low"].to_numpy(dtype=float) * 100,
        rows[f"{within}_high"].to_numpy(dtype=float) * 100,
        highlight,
        f"patients reached {words} (%)",
    )
    horizontal = count <= NAMED
    if target_hours and abs(target_hours - 2.0) < 1e-9:
        line = left.axvline if horizontal else left.axhline
        line(UCR_AMBITION * 100, color=PALETTE[5], linestyle="--", linewidth=1, label="NHS England ambition: 70%")
        left.legend(loc="lower right", fontsize=8)
    left.set_title(f"{service_label}: share reached {words}")

    grid = np.linspace(0.0, max(6.0, 3 * (target_hours or 2.0)), 241)
    drawn = 0
    for index, (scenario, label) in enumerate(selected.items()):
        runs = histograms[histograms["scenario"] == scenario]
        if runs.empty:
            continue
        curves = np.vstack([cumulative_shares(group, grid) for _, group in runs.groupby("replication")]) * 100
        colour = PALETTE[[4, 0, 2, 6][index % 4]]
        right.fill_between(grid, np.nanpercentile(curves, 5, axis=0), np.nanpercentile(curves, 95, axis=0), color=colour, alpha=0.22)
        right.plot(grid, np.nanmedian(curves, axis=0), color=colour, linewidth=2, label=fmt.shorten(label, 46))
        drawn += 1
    if target_hours:
        right.axvline(target_hours, color=GREY, linestyle="--", linewidth=1)
        right.annotate(f"target: {fmt.hours(target_hours)}", (target_hours, 96), xytext=(4, 0), textcoords="offset points", fontsize=8, color=GREY)
    right.set_xlim(grid[0], grid[-1])
    right.set_ylim(0, 101)
    right.set_xlabel("time from referral to being seen (hours)")
    right.set_ylabel("patients seen within that time (%)")
    right.set_title("Response times: median of replications, 90% band")
    if drawn:
        right.legend(loc="lower right", fontsize=8)
    else:
        right.text(0.5, 0.5, "no response times recorded", transform=right.transAxes, ha="center", color=GREY)
    return fig
