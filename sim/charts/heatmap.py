"""Admissions avoided over the two main factors of a sweep (e.g. step-up beds x nurses).

Each cell is one configuration, coloured by its mean admissions avoided a year
and labelled with the mean and its 95% interval, so a board can read both the
pattern (where more beds stop helping because nurses are the bottleneck) and
how sure each number is. With more than two factors, the two that move
admissions avoided the most are drawn and the others are held at the values
stated in the subtitle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import labels as fmt
from sim.charts.style import GREY, SEQUENTIAL, figure

AVOIDED = "admissions_avoided_per_year"


def _sort_levels(levels: list[Any]) -> list[Any]:
    try:
        return sorted(levels, key=float)
    except (TypeError, ValueError):
        return list(dict.fromkeys(levels))


def grid_factors(table: pd.DataFrame, factor_labels: list[str], value: str = AVOIDED) -> tuple[str, str] | None:
    """The two factor columns to draw, or None when the scenarios do not form a grid.

    A grid needs two factors with at least two levels each and no two scenarios
    at the same cell (sampled designs put every scenario at its own values).
    """
    rows = table[~table["baseline"].astype(bool)]
    candidates = [c for c in factor_labels if c in rows and rows[c].map(fmt.level).nunique() >= 2]
    if len(candidates) < 2:
        return None
    if rows[candidates].map(fmt.level).duplicated().any():
        return None  # not a full grid: a sampled design or repeated points
    if value in rows and rows[value].notna().any():
        effect = {c: rows.groupby(rows[c].map(fmt.level))[value].mean().agg(lambda s: s.max() - s.min()) for c in candidates}
        ranked = sorted(candidates, key=lambda c: -effect[c])
    else:
        ranked = candidates
    first, second = ranked[0], ranked[1]
    # keep the experiment's order of the two, so the chart reads as the modeller wrote the sweep
    return (first, second) if candidates.index(first) < candidates.index(second) else (second, first)


def draw(
    table: pd.DataFrame,
    x: str,
    y: str,
    hold: dict[str, Any] | None = None,
    value: str = AVOIDED,
    title: str = "Admissions avoided a year",
    against: str = "the baseline",
) -> Figure:
    """A labelled heatmap of ``value`` over factor columns ``x`` and ``y``.

    ``hold`` fixes the other factor columns (label -> level) when there are more than two.
    """
    rows = table[~table["baseline"].astype(bool)].copy()
    for column, level in (hold or {}).items():
        rows = rows[rows[column].map(fmt.level) == fmt.level(level)]
    x_levels = _sort_levels(list(dict.fromkeys(rows[x].tolist())))
    y_levels = _sort_levels(list(dict.fromkeys(rows[y].tolist())))
    shape = (len(y_levels), len(x_levels))
    mean, low, high = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    x_index = {fmt.level(v): i for i, v in enumerate(x_levels)}
    y_index = {fmt.level(v): i for i, v in enumerate(y_levels)}
    for _, row in rows.iterrows():
        i, j = y_index[fmt.level(row[y])], x_index[fmt.level(row[x])]
        mean[i, j], low[i, j], high[i, j] = row[value], row.get(f"{value}_low", np.nan), row.get(f"{value}_high", np.nan)

    cells = mean.size
    width = min(14.0, max(6.5, 1.1 * len(x_levels) + 2.5))
    height = min(11.0, max(3.8, 0.75 * len(y_levels) + 1.8))
    fig, ax = figure(width, height)
    masked = np.ma.masked_invalid(mean)
    image = ax.imshow(masked, cmap=SEQUENTIAL, aspect="auto", origin="lower")
    ax.set_facecolor("#EEEEEE")
    finite = mean[np.isfinite(mean)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    size = 9 if cells <= 30 else 7 if cells <= 64 else 5.5
    for i in range(shape[0]):
        for j in range(shape[1]):
            if not np.isfinite(mean[i, j]):
                ax.text(j, i, "not run", ha="center", va="center", fontsize=size, color=GREY)
                continue
            span = fmt.interval(low[i, j], high[i, j])
            text = fmt.count(mean[i, j]) + (f"\n({span})" if span else "")
            colour = "white" if mean[i, j] < middle else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=size, color=colour)
    ax.set_xticks(range(len(x_levels)))
    ax.set_xticklabels([fmt.level(v) for v in x_levels])
    ax.set_yticks(range(len(y_levels)))
    ax.set_yticklabels([fmt.level(v) for v in y_levels])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.grid(False)
    held = ", ".join(f"{k} = {fmt.level(v)}" for k, v in (hold or {}).items())
    fig.suptitle(f"{title}, by {x} and {y}", fontweight="bold")
    subtitle = f"mean and 95% CI against {against}" + (f"; {held}" if held else "")
    ax.set_title(subtitle, fontsize=9, color=GREY, fontweight="normal")
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label(f"{title.lower()} (mean)")
    return fig
