"""Admissions avoided when the scenarios do not form a two-way grid.

A sweep over one factor (beds only) is drawn as a line against that factor
with its 95% band: the board sees where extra beds stop paying. Named
scenarios, or a sampled design, are drawn as one mean and interval per
scenario instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import labels as fmt
from sim.charts.dots import NAMED, dot_interval
from sim.charts.style import GREY, PALETTE, figure


def numeric(series: pd.Series) -> bool:
    """True when every level of a factor is a number (so it can be an axis)."""
    try:
        series.astype(float)
    except (TypeError, ValueError):
        return False
    return True


def draw_line(table: pd.DataFrame, factor: str, value: str, value_label: str, title: str) -> Figure:
    """``value`` against one numeric factor, with its 95% band and interval bars."""
    rows = table[~table["baseline"].astype(bool) & table[value].notna()].copy()
    rows["_x"] = rows[factor].astype(float)
    rows = rows.sort_values("_x")
    fig, ax = figure(8.0, 4.5)
    x = rows["_x"].to_numpy()
    mean = rows[value].to_numpy(dtype=float)
    low = rows[f"{value}_low"].to_numpy(dtype=float)
    high = rows[f"{value}_high"].to_numpy(dtype=float)
    ax.fill_between(x, np.where(np.isfinite(low), low, mean), np.where(np.isfinite(high), high, mean), color=PALETTE[1], alpha=0.3, label="95% confidence interval")
    ax.plot(x, mean, color=PALETTE[4], marker="o", linewidth=2, label="mean over replications")
    for xi, mi in zip(x, mean, strict=True):
        ax.annotate(fmt.count(mi), (xi, mi), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=8)
    ax.axhline(0, color=GREY, linewidth=0.8)
    ax.set_xlabel(factor)
    ax.set_ylabel(value_label)
    ax.set_title(title)
    ax.legend(loc="best")
    return fig


def draw_scenarios(table: pd.DataFrame, value: str, value_label: str, title: str, highlight: dict[str, str] | None = None) -> Figure:
    """One mean and interval per scenario, sorted."""
    rows = table[~table["baseline"].astype(bool) & table[value].notna()]
    count = len(rows)
    height = max(3.5, 0.3 * count + 1.5) if count <= NAMED else 4.8
    fig, ax = figure(9.0, height)
    dot_interval(
        ax,
        rows["scenario"].astype(str).tolist(),
        rows[value].to_numpy(dtype=float),
        rows[f"{value}_low"].to_numpy(dtype=float),
        rows[f"{value}_high"].to_numpy(dtype=float),
        highlight,
        value_label,
    )
    ax.set_title(title)
    return fig
