"""A mean and its 95% interval per scenario: the building block of several charts.

A sweep may have five scenarios or a hundred. Up to :data:`NAMED` scenarios
are drawn as a labelled dot plot (one row each, names readable); beyond that
the scenarios are drawn in rank order along the horizontal axis and only the
highlighted ones (the baseline, the recommendation) are named, so the chart
stays legible instead of becoming a wall of text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.charts.labels import shorten
from sim.charts.style import GREY, PALETTE

#: Largest number of scenarios drawn with every name on the axis.
NAMED = 25


def tagged(name: str, highlight: dict[str, str]) -> str:
    """``recommended: <name>``, unless the name already says what it is (``baseline (...)``)."""
    tag = highlight.get(name)
    if not tag or name.startswith(tag):
        return name
    return f"{tag}: {name}"


def dot_interval(
    ax,
    names: Sequence[str],
    mean: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    highlight: dict[str, str] | None = None,
    value_label: str = "",
) -> bool:
    """Draw means with interval bars; returns True if drawn horizontally (names on the y axis).

    ``highlight`` maps scenario names to a short tag ("recommended") drawn in
    a stronger colour.
    """
    highlight = highlight or {}
    mean = np.asarray(mean, dtype=float)
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    low = np.where(np.isfinite(low), low, mean)
    high = np.where(np.isfinite(high), high, mean)
    order = np.argsort(np.where(np.isfinite(mean), mean, -np.inf))
    names = [names[i] for i in order]
    mean, low, high = mean[order], low[order], high[order]
    colours = [PALETTE[5] if name in highlight else PALETTE[4] for name in names]
    positions = np.arange(len(names))
    errors = np.vstack([np.clip(mean - low, 0, None), np.clip(high - mean, 0, None)])
    if len(names) <= NAMED:
        ax.errorbar(mean, positions, xerr=errors, fmt="none", ecolor=GREY, elinewidth=1.2, capsize=2)
        ax.scatter(mean, positions, c=colours, s=28, zorder=3)
        ax.set_yticks(positions)
        ax.set_yticklabels([shorten(tagged(n, highlight), 52) for n in names], fontsize=8)
        ax.set_xlabel(value_label)
        ax.grid(axis="y", alpha=0.0)
        return True
    ax.errorbar(positions, mean, yerr=errors, fmt="none", ecolor=GREY, elinewidth=0.8, capsize=0, alpha=0.8)
    ax.scatter(positions, mean, c=colours, s=10, zorder=3)
    for index, name in enumerate(names):
        if name in highlight:
            ax.annotate(
                shorten(highlight[name], 30),
                (positions[index], mean[index]),
                xytext=(0, 14),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=PALETTE[5],
                arrowprops={"arrowstyle": "-", "color": PALETTE[5], "lw": 0.8},
            )
    ax.set_xlabel(f"scenarios, ranked by this measure ({len(names)} in all)")
    ax.set_ylabel(value_label)
    ax.set_xticks([])
    return False
