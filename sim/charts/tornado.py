"""Which factors matter most: a tornado of sensitivity indices.

Drawn when the sweep had a sensitivity design. For a Morris screening the bar
is mu* (the mean absolute elementary effect: how much the outcome moves, in its
own units, when the factor moves one step of its range; Campolongo et al.
2007) with its bootstrap 95% interval; for a Sobol design it is the total-order
index (the share of the outcome's variance the factor is involved in; Saltelli
2002). Factors are sorted, largest at the top, one panel per outcome.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts.style import GREY, PALETTE, figure

OUTPUTS = {
    "admissions_avoided_per_year": "admissions avoided a year (patients)",
    "extra_cost_per_year": "extra community cost a year (£)",
}


def draw(sensitivity: pd.DataFrame) -> Figure:
    """Bars of mu* (Morris) or the total-order index (Sobol) with 95% intervals."""
    method = str(sensitivity["method"].iloc[0])
    index_name = "mu_star" if method == "morris" else "ST"
    outputs = [o for o in OUTPUTS if o in set(sensitivity["output"])] or list(sensitivity["output"].unique())
    factors = sensitivity["factor"].nunique()
    fig, axes = figure(6.0 * len(outputs), max(3.0, 0.45 * factors + 1.6), ncols=len(outputs), squeeze=False)
    for column, output in enumerate(outputs):
        ax = axes[0][column]
        rows = sensitivity[(sensitivity["output"] == output) & (sensitivity["index"] == index_name)].copy()
        rows = rows.sort_values("value")
        values = rows["value"].to_numpy(dtype=float)
        conf = np.nan_to_num(rows["conf"].to_numpy(dtype=float))
        positions = np.arange(len(rows))
        ax.barh(positions, values, color=PALETTE[[4, 0][column % 2]], alpha=0.85)
        ax.errorbar(values, positions, xerr=conf, fmt="none", ecolor=GREY, capsize=3)
        ax.set_yticks(positions)
        ax.set_yticklabels(rows["factor"].astype(str).tolist())
        words = OUTPUTS.get(output, output.replace("_", " "))
        if method == "morris":
            ax.set_xlabel(f"mu*: mean absolute effect on {words}")
        else:
            ax.set_xlabel(f"total-order Sobol index of {words.split(' (')[0]} (share of variance)")
        ax.set_title(words.split(" (")[0].capitalize())
        ax.grid(axis="y", alpha=0.0)
    fig.suptitle(f"Which factors matter most ({'Morris screening' if method == 'morris' else 'Sobol indices'}, 95% CI bars)")
    return fig
