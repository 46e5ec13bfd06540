"""Staff utilisation and bed occupancy per scenario, against the targets a board sets.

Running beds hotter than about 85% means patients are turned away when demand
peaks; a rapid response team busier than its target cannot reach patients in 2
hours. Each panel shows one service: every scenario's mean share with its 95%
interval, and the target stated in the pathway as a dashed line. A bed service
with no stated target is drawn against the conventional 85% planning ceiling,
labelled as such.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sim.charts import labels as fmt
from sim.charts.dots import NAMED, dot_interval
from sim.charts.style import PALETTE, figure

#: The conventional ceiling for bed occupancy used when a pathway states none.
BED_CEILING = 0.85


def draw(table: pd.DataFrame, services: list[tuple[str, str, str, float | None]], highlight: dict[str, str] | None = None) -> Figure:
    """One panel per ``(service, label, kind, target)``, from the ``utilisation:<service>`` columns."""
    count = len(table)
    per_panel = max(3.0, 0.24 * count + 1.6) if count <= NAMED else 3.6
    columns = 2 if len(services) > 1 else 1
    rows = (len(services) + columns - 1) // columns
    fig, axes = figure(6.5 * columns, per_panel * rows + 0.4, nrows=rows, ncols=columns, squeeze=False)
    for index, (service, label, kind, target) in enumerate(services):
        ax = axes[index // columns][index % columns]
        column = f"utilisation:{service}"
        data = table[table[column].notna()] if column in table else table.iloc[0:0]
        staff = kind in ("team", "hub")
        what = "staff time busy" if staff else "beds occupied"
        horizontal = dot_interval(
            ax,
            data["scenario"].astype(str).tolist(),
            data[column].to_numpy(dtype=float) * 100,
            data[f"{column}_low"].to_numpy(dtype=float) * 100,
            data[f"{column}_high"].to_numpy(dtype=float) * 100,
            highlight,
            f"{what} (% of {'rostered hours' if staff else 'beds commissioned'})",
        )
        stated = target is not None
        if target is None and not staff:
            target = BED_CEILING
        if target is not None:
            line = ax.axvline if horizontal else ax.axhline
            words = f"target {fmt.share(target)}" if stated else f"{fmt.share(target)} planning ceiling (no target stated)"
            line(target * 100, color=PALETTE[5], linestyle="--", linewidth=1.2, label=words)
            ax.legend(loc="lower right", fontsize=8)
        ax.set_title(f"{label}: {what}", fontsize=10)
    for index in range(len(services), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    return fig
