"""One consistent look for every carepath chart.

The palette is Okabe and Ito's (2008), designed to be told apart by readers with
any common form of colour blindness; it is used in a fixed order so that a
service keeps its colour from chart to chart. Charts are drawn with
matplotlib's object-oriented API on the Agg backend (no display needed) and
saved as PNG for the report and SVG for slides.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from sim.storage import atomic_write

#: Okabe-Ito: orange, sky blue, bluish green, yellow, blue, vermillion, reddish purple, black
PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
#: A sequential colour map that stays readable in grey and for colour-blind readers
SEQUENTIAL = "viridis"
GREY = "#6B6B6B"

RC = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "legend.frameon": False,
    "svg.fonttype": "none",
}


def figure(width: float = 8.0, height: float = 4.5, **kwargs) -> tuple[Figure, object]:
    """A new figure and axes in the carepath style (not attached to pyplot's state)."""
    with plt.rc_context(RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(**kwargs)
    return fig, axes


def save(fig: Figure, folder: Path, name: str) -> dict[str, Path]:
    """Save ``name.png`` and ``name.svg`` atomically; returns their paths."""
    folder = Path(folder)
    paths = {}
    with plt.rc_context(RC):
        for extension in ("png", "svg"):
            path = folder / f"{name}.{extension}"
            atomic_write(path, lambda target, ext=extension: fig.savefig(target, format=ext))
            paths[extension] = path
    return paths
