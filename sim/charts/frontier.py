"""What each configuration costs against what it avoids, and the efficient frontier.

Every scenario is a point: admissions avoided a year (across) against its
extra community cost a year (up), each with its 95% interval. A configuration
is *dominated* when another avoids at least as many admissions for no more
money; the ones that are not form the efficient frontier, drawn as a line.
A board should only ever choose a point on that line; how far along it to go
is the question of how much an avoided admission is worth to them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import labels as fmt
from sim.charts.style import GREY, PALETTE, figure

AVOIDED = "admissions_avoided_per_year"
COST = "extra_cost_per_year"


def efficient(table: pd.DataFrame) -> pd.DataFrame:
    """The non-dominated configurations, cheapest first, judged on their means.

    The baseline takes part at the origin (it costs nothing extra and avoids
    nothing), so a configuration that costs more and avoids less than doing
    nothing is never on the frontier.
    """
    rows = table[table[AVOIDED].notna() & table[COST].notna() | table["baseline"].astype(bool)].copy()
    rows.loc[rows["baseline"].astype(bool), [AVOIDED, COST]] = 0.0
    ordered = rows.sort_values([COST, AVOIDED], ascending=[True, False])
    kept, best = [], -np.inf
    for index, row in ordered.iterrows():
        if row[AVOIDED] > best:
            kept.append(index)
            best = row[AVOIDED]
    return ordered.loc[kept]


def draw(table: pd.DataFrame, names: dict[str, str], recommended: str | None = None, against: str = "the baseline") -> Figure:
    """The scatter with interval bars, the frontier, and short names on the frontier points.

    ``names`` maps scenario names to short descriptions for labels.
    """
    rows = table[~table["baseline"].astype(bool) & table[AVOIDED].notna() & table[COST].notna()]
    fig, ax = figure(9.0, 5.5)
    x = rows[AVOIDED].to_numpy(dtype=float)
    y = rows[COST].to_numpy(dtype=float) / 1000.0

    def errors(column: str, scale: float) -> np.ndarray:
        mean = rows[column].to_numpy(dtype=float)
        low = rows[f"{column}_low"].to_numpy(dtype=float)
        high = rows[f"{column}_high"].to_numpy(dtype=float)
        low = np.where(np.isfinite(low), low, mean)
        high = np.where(np.isfinite(high), high, mean)
        return np.vstack([np.clip(mean - low, 0, None), np.clip(high - mean, 0, None)]) / scale

    ax.errorbar(x, y, xerr=errors(AVOIDED, 1.0), yerr=errors(COST, 1000.0), fmt="none", ecolor=GREY, elinewidth=0.9, alpha=0.7, capsize=0)
    ax.scatter(x, y, s=22, color=PALETTE[1], edgecolor=PALETTE[4], linewidth=0.6, zorder=3, label="a configuration (mean, 95% CI bars)")
    frontier = efficient(table)
    if not frontier.empty:
        fx = frontier[AVOIDED].to_numpy(dtype=float)
        fy = frontier[COST].to_numpy(dtype=float) / 1000.0
        ax.plot(fx, fy, color=PALETTE[5], linewidth=1.8, marker="o", markersize=4, zorder=4, label="efficient frontier")
        if len(frontier) <= 12:
            for _, row in frontier[~frontier["baseline"].astype(bool)].iterrows():
                ax.annotate(
                    fmt.shorten(names.get(row["scenario"], row["scenario"]), 52),
                    (row[AVOIDED], row[COST] / 1000.0),
                    xytext=(6, -10),
                    textcoords="offset points",
                    fontsize=7.5,
                    color="#333333",
                )
    if recommended is not None and recommended in set(rows["scenario"]):
        row = rows[rows["scenario"] == recommended].iloc[0]
        ax.scatter([row[AVOIDED]], [row[COST] / 1000.0], marker="*", s=260, color=PALETTE[0], edgecolor="black", zorder=5, label="recommended")
    ax.scatter([0], [0], marker="s", s=40, color="black", zorder=5, label=f"baseline ({fmt.shorten(against, 40)})")
    ax.axhline(0, color=GREY, linewidth=0.6)
    ax.axvline(0, color=GREY, linewidth=0.6)
    ax.set_xlabel("acute admissions avoided a year (patients)")
    ax.set_ylabel("extra community cost a year (£ thousand)")
    ax.set_title("What each configuration costs against the admissions it avoids")
    ax.legend(loc="upper left", fontsize=8)
    return fig
