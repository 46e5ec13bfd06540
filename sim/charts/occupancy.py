"""Beds occupied through the year, so winter pressure is visible.

For each bed service drawn (the acute hospital and the step-up beds), each
selected scenario's daily mean occupancy is shown as the median over
replications with a 90% band (5th to 95th percentile across replications, day
by day), against the beds the scenario commissions (dashed). The warm-up, which
the results do not count, is shaded. Days are dates from the pathway's start,
so December and January sit where a board expects them.
"""

from __future__ import annotations

from datetime import date, timedelta

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts import labels as fmt
from sim.charts.style import GREY, PALETTE, figure

COLOURS = [PALETTE[4], PALETTE[0], PALETTE[2], PALETTE[6]]


def draw(
    series: pd.DataFrame,
    services: list[tuple[str, str]],
    selected: dict[str, str],
    capacities: dict[tuple[str, str], float],
    start: date,
    warm_up_days: float,
    targets: dict[str, float] | None = None,
) -> Figure:
    """One panel per bed service.

    Parameters
    ----------
    series:
        ``scenario, replication, service, day, value`` of the daily ``occupancy`` metric.
    services:
        ``(name, label)`` of the bed services to draw, top to bottom.
    selected:
        Scenario name -> legend label, in drawing order.
    capacities:
        ``(scenario, service)`` -> beds commissioned.
    start, warm_up_days:
        The run's first day and the length of its warm-up.
    targets:
        Service -> occupancy target (a share), drawn as a dotted line.
    """
    targets = targets or {}
    fig, axes = figure(10.0, 3.0 * len(services) + 0.6, nrows=len(services), ncols=1, squeeze=False, sharex=True)
    for row, (service, label) in enumerate(services):
        ax = axes[row][0]
        data = series[series["service"] == service]
        drawn_capacity: dict[float, str] = {}
        for index, (scenario, name) in enumerate(selected.items()):
            runs = data[data["scenario"] == scenario]
            if runs.empty:
                continue
            wide = runs.pivot_table(index="day", columns="replication", values="value", aggfunc="mean").sort_index()
            days = [start + timedelta(days=int(d) - 1) for d in wide.index]
            values = wide.to_numpy(dtype=float)
            colour = COLOURS[index % len(COLOURS)]
            ax.fill_between(days, np.nanpercentile(values, 5, axis=1), np.nanpercentile(values, 95, axis=1), color=colour, alpha=0.2, linewidth=0)
            ax.plot(days, np.nanmedian(values, axis=1), color=colour, linewidth=1.4, label=fmt.shorten(name, 50))
            capacity = capacities.get((scenario, service), np.nan)
            if np.isfinite(capacity) and capacity not in drawn_capacity:
                drawn_capacity[capacity] = name
                ax.axhline(capacity, color=colour, linestyle="--", linewidth=1.1)
                ax.annotate(f"{capacity:g} beds", (days[-1], capacity), xytext=(3, 2), textcoords="offset points", fontsize=8, color=colour)
                target = targets.get(service)
                if target and capacity > 0:
                    ax.axhline(capacity * target, color=colour, linestyle=":", linewidth=1)
                    ax.annotate(f"{fmt.share(target)} target", (days[-1], capacity * target), xytext=(3, -9), textcoords="offset points", fontsize=7, color=colour)
        if warm_up_days > 0:
            ax.axvspan(start, start + timedelta(days=warm_up_days), color=GREY, alpha=0.12, linewidth=0)
            ax.annotate("warm-up (not counted)", (start, 0.02), xycoords=("data", "axes fraction"), xytext=(3, 3), textcoords="offset points", fontsize=7, color=GREY)
        ax.set_ylim(bottom=0)
        ax.set_ylabel("beds occupied")
        ax.set_title(f"{label}: beds occupied each day")
        ax.xaxis.set_major_locator(mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    axes[-1][0].set_xlabel("date")
    handles, names = axes[0][0].get_legend_handles_labels()
    for row in axes[1:]:
        more, more_names = row[0].get_legend_handles_labels()
        for handle, name in zip(more, more_names, strict=True):
            if name not in names:
                handles.append(handle)
                names.append(name)
    if handles:
        fig.legend(handles, names, loc="outside lower center", fontsize=8, ncols=min(2, len(handles)))
    return fig
