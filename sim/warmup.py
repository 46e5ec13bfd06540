"""How long a warm-up does a run need? MSER-5 on daily occupancy across replications.

A run that starts with empty beds under-counts occupancy until the beds fill.
``carepath warmup`` runs replications from empty with no warm-up, averages each
bed service's daily occupancy across them, and applies the MSER-5 rule (White
1997): truncate where the standard error of the remaining mean is smallest. The
suggestion is the longest truncation over the services (a whole system is warm
only when its slowest part is), rounded up to whole weeks. It also draws every
replication's occupancy with the suggested cut, so a reviewer can see it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis import mser
from sim.pathway import Pathway
from sim.runs import RunOptions, run_pathway

LEVEL_METRICS = {"occupancy": "beds occupied", "busy": "staff busy"}


@dataclass
class WarmUpAdvice:
    table: pd.DataFrame  # service, metric, truncation_days, steady_mean
    series: pd.DataFrame  # replication, service, day, metric, value
    suggested_days: int


def diagnose(pathway: Pathway, replications: int = 10, horizon: float | None = None, seed: int | None = None, jobs: int = 1) -> WarmUpAdvice:
    options = RunOptions(
        seed=pathway.seed if seed is None else seed,
        replications=replications,
        horizon=horizon or pathway.horizon,
        warm_up=0.0,
    )
    results = run_pathway(pathway, options, jobs=jobs, progress=replications > 1)
    series = pd.concat([r.timeseries for r in results], ignore_index=True)
    series = series[series.metric.isin(LEVEL_METRICS)]
    rows = []
    for (service, metric), group in series.groupby(["service", "metric"], sort=False):
        mean = group.groupby("day")["value"].mean().sort_index()
        truncation, _ = mser(mean.to_numpy(), batch=5)
        steady = float(mean.iloc[truncation:].mean()) if len(mean) > truncation else math.nan
        rows.append((service, metric, truncation, steady))
    table = pd.DataFrame(rows, columns=["service", "metric", "truncation_days", "steady_mean"])
    beds = table[table.metric == "occupancy"]
    longest = int(beds.truncation_days.max()) if len(beds) else int(table.truncation_days.max() if len(table) else 0)
    suggested = int(math.ceil(longest / 7) * 7)
    return WarmUpAdvice(table, series, suggested)


def chart(advice: WarmUpAdvice, folder: Path, title: str) -> dict[str, Path]:
    from sim.charts.style import GREY, PALETTE, figure, save

    services = advice.table[advice.table.metric == "occupancy"]
    if services.empty:
        services = advice.table
    count = len(services)
    fig, axes = figure(8.0, 2.6 * count + 0.6, nrows=count, ncols=1, squeeze=False)
    for index, (_, row) in enumerate(services.iterrows()):
        ax = axes[index][0]
        data = advice.series[(advice.series.service == row.service) & (advice.series.metric == row.metric)]
        for _, replication in data.groupby("replication"):
            ax.plot(replication.day, replication.value, color=GREY, alpha=0.25, linewidth=0.8)
        mean = data.groupby("day")["value"].mean()
        ax.plot(mean.index, mean.values, color=PALETTE[4], linewidth=2, label="mean of replications")
        ax.axvline(advice.suggested_days, color=PALETTE[5], linestyle="--", label=f"suggested warm-up: {advice.suggested_days} days")
        ax.set_title(f"{row.service}: {LEVEL_METRICS[row.metric]} each day, from an empty start")
        ax.set_xlabel("day of the run")
        ax.set_ylabel(LEVEL_METRICS[row.metric])
        ax.legend(loc="best")
    fig.suptitle(title)
    return save(fig, folder, "warmup")



