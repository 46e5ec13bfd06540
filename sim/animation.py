"""Watch a day of the pathway: the simulation's own event log, replayed with salabim.

A board trusts a number more once it has seen where it comes from. This module
runs one replication of a pathway with the event log on
(:class:`sim.model.Simulation` with ``record_events=True``): the same pathway,
seed and pre-drawn patients a sweep counts. It then replays the log, after the
warm-up, with salabim's animation engine, headless (``blind_animation``), into
a GIF that plays inline in any browser (an MP4 from OpenCV does not play in
Chromium).

Nothing is simulated twice: salabim here only moves markers between its
queues at the times the carepath engine logged, so queues forming at the rapid
response team, step-up beds filling and patients diverted to hospital are the
ones the results count.

Each service of the pathway is one row. A square is a patient:

- a team or hub: patients being seen (blue), then those waiting (orange);
- a bed service: one outlined slot per commissioned bed, filled while occupied
  (blue), reddish purple once the patient is ready to leave but waiting for the
  next place (a delayed discharge); a large hospital is a bar instead;
- "on the way to hospital": patients in an ambulance or the emergency
  department, vermillion when they were turned away by a full or unreachable
  community service.

Counters on each row count since the animation started.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.model import Simulation
from sim.network import compile_network
from sim.pathway import Pathway
from sim.storage import atomic_write

# Okabe-Ito, as in sim.charts.style, so the animation matches the charts
SKY, ORANGE, GREEN, BLUE, VERMILLION, PURPLE = "#56B4E9", "#E69F00", "#009E73", "#0072B2", "#D55E00", "#CC79A7"
INK, MUTED, SLOT, WHITE = "#1d1d1d", "#6b6b6b", "#c8c8c8", "#ffffff"

SQUARE = 10  # pixels
GAP = 2
ROW_HEIGHT = 58
LABEL_WIDTH = 250
SLOTS_PER_LINE = 56
GRID_LIMIT = SLOTS_PER_LINE * 2 - 6  # larger bed services are drawn as a bar (two lines of slots fit a row)


@dataclass
class Marker:
    """A patient on screen: their colour follows what last happened to them."""

    pid: int
    colour: str = BLUE
    places: set[str] = field(default_factory=set)


@dataclass
class Row:
    """One service (or the way to hospital) on screen."""

    key: str
    label: str
    kind: str  # team, hub, beds, acute, care_package, transit
    capacity: int = 0
    in_service: list[Marker] = field(default_factory=list)  # being seen, or in a bed
    waiting: list[Marker] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)


def record(pathway: Pathway, *, seed: int | None = None, replication: int = 0, warm_up: float | None = None, days: float = 1.0) -> tuple[pd.DataFrame, float, float]:
    """Run one replication up to the end of the window with the event log on.

    Returns the log and the window (start, end) in hours. Draws are made in
    four-week chunks keyed by replication, so stopping the run early does not
    change who the patients are.
    """
    network = compile_network(pathway)
    start = pathway.warm_up if warm_up is None else warm_up
    end = start + days * 24.0
    simulation = Simulation(
        network, replication, seed=seed, horizon=end, warm_up=min(start, end - 1e-6), record_events=True
    )
    result = simulation.run()
    return result.events, start, end


class Replay:
    """The state of every row as the log is read forward."""

    def __init__(self, pathway: Pathway, events: pd.DataFrame) -> None:
        self.pathway = pathway
        self.rows: dict[str, Row] = {}
        used = set(events["where"].unique())
        for name, service in pathway.services.items():
            if name not in used:
                continue  # e.g. a discharge team whose assessments are not in the log
            capacity = int(getattr(service, "beds", None) or getattr(service, "packages", None) or 0)
            self.rows[name] = Row(name, service.label or name.replace("_", " "), service.kind, capacity)
        transit_steps = {name for name, step in pathway.steps.items() if step.service is None and step.duration is not None}
        self.transit_steps = transit_steps
        if transit_steps:
            self.rows["__transit__"] = Row("__transit__", "On the way to hospital (ambulance, A&E)", "transit")
        self.markers: dict[int, Marker] = {}
        self.step_service = {name: step.service for name, step in pathway.steps.items()}

    # -- state changes ----------------------------------------------------------------
    def _remove(self, marker: Marker, row: Row, beds: bool) -> None:
        for group in ((row.in_service,) if beds else (row.in_service, row.waiting)):
            if marker in group:
                group.remove(marker)

    def _leave_moving_places(self, marker: Marker) -> None:
        """Leave queues and visits (not beds: a bed is kept until the next place accepts)."""
        for key in list(marker.places):
            row = self.rows.get(key)
            if row is None:
                continue
            if row.kind in ("team", "hub", "transit"):
                self._remove(marker, row, beds=False)
                marker.places.discard(key)
            elif marker in row.waiting:
                row.waiting.remove(marker)

    def apply(self, pid: int, event: str, step: str, where: str, counting: bool) -> None:
        """One line of the event log."""
        marker = self.markers.get(pid)
        if marker is None:
            marker = self.markers[pid] = Marker(pid)
        row = self.rows.get(where)
        if event == "exit":
            self._leave_moving_places(marker)
            self.markers.pop(pid, None)
            return
        if event == "enter":
            self._leave_moving_places(marker)
            if where in self.transit_steps and "__transit__" in self.rows:
                transit = self.rows["__transit__"]
                transit.in_service.append(marker)
                marker.places.add("__transit__")
            return
        if row is None:
            return
        if event == "queued":
            marker.colour = ORANGE
            row.waiting.append(marker)
            marker.places.add(where)
        elif event == "seen":
            if marker in row.waiting:
                row.waiting.remove(marker)
            marker.colour = BLUE
            row.in_service.append(marker)
            marker.places.add(where)
            self._count(row, "seen", counting)
        elif event == "admitted":
            if marker in row.waiting:
                row.waiting.remove(marker)
            marker.colour = BLUE
            row.in_service.append(marker)
            marker.places.add(where)
            self._count(row, "admitted", counting)
        elif event == "ready":
            if marker in row.in_service:
                marker.colour = PURPLE
        elif event == "discharged":
            self._remove(marker, row, beds=True)
            marker.places.discard(where)
        elif event == "diverted":
            if marker in row.waiting:
                row.waiting.remove(marker)
            marker.colour = VERMILLION
            self._count(row, "turned away", counting)
        elif event == "escalated":
            if marker in row.waiting:
                row.waiting.remove(marker)
            marker.colour = VERMILLION
            self._count(row, "not reached in time", counting)

    @staticmethod
    def _count(row: Row, what: str, counting: bool) -> None:
        if counting:
            row.counters[what] = row.counters.get(what, 0) + 1


def _status(row: Row) -> str:
    """The text beside a row: what is happening now, and counts since the start."""
    counters = ", ".join(f"{name} {count}" for name, count in row.counters.items() if name != "seen")
    if row.kind in ("team", "hub"):
        text = f"being seen {len(row.in_service)}, waiting {len(row.waiting)}"
    elif row.kind == "transit":
        text = f"{len(row.in_service)} on the way"
    else:
        delayed = sum(1 for m in row.in_service if m.colour == PURPLE)
        unit = "packages" if row.kind == "care_package" else "beds"
        text = f"{len(row.in_service)} of {row.capacity} {unit} in use"
        if delayed:
            text += f", {delayed} ready to leave"
        if row.waiting:
            text += f", waiting {len(row.waiting)}"
    return text + (f"; since start: {counters}" if counters else "")


def render_gif(
    pathway: Pathway,
    out: str | Path,
    *,
    seed: int | None = None,
    replication: int = 0,
    warm_up: float | None = None,
    days: float = 1.0,
    title: str = "",
    frames: int = 200,
    fps: int = 8,
    width: int = 960,
) -> Path:
    """Render ``days`` after the warm-up of one replication as a looping GIF at ``out``.

    Parameters
    ----------
    pathway:
        The validated pathway (a scenario's, with its factor values set).
    seed, replication, warm_up:
        As the sweep ran it (defaults: the pathway's seed and warm-up, replication 0),
        so the patients are the ones the results count.
    days:
        Length of the window shown.
    frames, fps:
        At most ``frames`` frames at ``fps`` frames a second: the GIF's length in
        seconds is ``frames / fps`` whatever the window, which keeps it small.
    """
    if not 0 < days <= 7:
        raise InputError(f"--days: expected a length between 0 and 7 days, got {days:g}")
    import salabim as sim

    events, start, end = record(pathway, seed=seed, replication=replication, warm_up=warm_up, days=days)
    replay = Replay(pathway, events)
    events = events.sort_values(["time"], kind="stable")
    before = events[events["time"] < start]
    during = events[events["time"] >= start]
    for row in before.itertuples(index=False):
        replay.apply(row.patient, row.event, row.step, row.where, counting=False)

    rows = list(replay.rows.values())
    height = 84 + ROW_HEIGHT * len(rows) + 36
    hours = end - start
    speed = hours * fps / max(1, frames - 1)  # simulated hours per second of GIF (salabim also draws t = 0)

    sim.yieldless(False)
    env = sim.Environment(trace=False, blind_animation=True, random_seed=1)
    env.animation_parameters(
        animate=True, width=width, height=height, speed=speed, fps=fps, show_menu_buttons=False,
        show_fps=False, show_time=False, background_color=WHITE, foreground_color=INK,
    )
    clock_origin = datetime.combine(pathway.start, datetime.min.time())

    def clock(t: float) -> str:
        moment = clock_origin + timedelta(hours=start + t)
        return moment.strftime("%a %d %b %Y  %H:%M")

    sim.AnimateText(text=title or pathway.name, x=12, y=height - 26, fontsize=17, textcolor=INK)
    sim.AnimateText(text=clock, x=width - 12, y=height - 26, text_anchor="ne", fontsize=17, textcolor=BLUE)
    sim.AnimateText(
        text=f"{days:g} day(s) after a {start / 24:g}-day warm-up; replication {replication + 1}; each square is a patient",
        x=12, y=height - 48, fontsize=11, textcolor=MUTED,
    )
    for index, row in enumerate(rows):
        _draw_row(sim, row, top=height - 84 - index * ROW_HEIGHT, width=width)
    _legend(sim, y=14)

    log = list(during.itertuples(index=False))

    class Player(sim.Component):
        """Moves markers at the logged times (salabim's clock starts at the window's start)."""

        def process(self):
            for entry in log:
                wait = (entry.time - start) - env.now()
                if wait > 0:
                    yield self.hold(wait)
                replay.apply(entry.patient, entry.event, entry.step, entry.where, counting=True)

    Player()
    out = Path(out)
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.gif"
        env.video(str(raw))
        env.run(till=hours + 0.5 * speed / fps)  # half a frame more, so the window's last frame is drawn
        env.video_close()
        atomic_write(out, lambda target: _compress(raw, target, fps))
    return out


def _draw_row(sim: Any, row: Row, top: float, width: int) -> None:
    """Label, status text and squares (or a bar) of one row, all redrawn every frame."""
    label = row.label if len(row.label) <= 30 else row.label[:29] + "…"
    sim.AnimateText(text=label, x=12, y=top - 4, fontsize=12, textcolor=INK, text_anchor="nw")
    sim.AnimateText(text=lambda t, row=row: _status(row), x=12, y=top - 24, fontsize=10, textcolor=MUTED, text_anchor="nw")
    left = LABEL_WIDTH
    if row.kind in ("beds", "care_package", "acute") and 0 < row.capacity <= GRID_LIMIT:
        slots = row.capacity + min(SLOTS_PER_LINE, max(8, row.capacity // 4))  # room above capacity for waiting
        for slot in range(min(slots, SLOTS_PER_LINE * 2)):
            line, column = divmod(slot, SLOTS_PER_LINE)
            x = left + column * (SQUARE + GAP)
            y = top - 6 - SQUARE - line * (SQUARE + GAP)
            inside = slot < row.capacity
            sim.AnimateRectangle(
                spec=(0, 0, SQUARE, SQUARE), x=x, y=y, linewidth=1,
                linecolor=SLOT if inside else WHITE,
                fillcolor=lambda t, row=row, slot=slot: _bed_colour(row, slot),
            )
        return
    if row.kind in ("beds", "care_package", "acute"):
        bar = width - left - 20
        sim.AnimateRectangle(spec=(0, 0, bar, 16), x=left, y=top - 26, linewidth=1, linecolor=SLOT, fillcolor=WHITE)
        sim.AnimateRectangle(
            spec=lambda t, row=row, bar=bar: (0, 0, bar * min(1.0, len(row.in_service) / max(1, row.capacity)), 16),
            x=left, y=top - 26, linewidth=0, fillcolor=BLUE,
        )
        sim.AnimateRectangle(
            spec=lambda t, row=row, bar=bar: (0, 0, bar * min(1.0, _delayed(row) / max(1, row.capacity)), 16),
            x=left, y=top - 26, linewidth=0, fillcolor=PURPLE,
        )
        return
    for slot in range(SLOTS_PER_LINE * 2):
        line, column = divmod(slot, SLOTS_PER_LINE)
        sim.AnimateRectangle(
            spec=(0, 0, SQUARE, SQUARE),
            x=left + column * (SQUARE + GAP),
            y=top - 6 - SQUARE - line * (SQUARE + GAP),
            linewidth=0,
            fillcolor=lambda t, row=row, slot=slot: _line_colour(row, slot),
        )


def _delayed(row: Row) -> int:
    return sum(1 for m in row.in_service if m.colour == PURPLE)


def _bed_colour(row: Row, slot: int) -> str:
    """Beds in use fill from the first slot; patients waiting for a bed follow after a gap."""
    if slot < len(row.in_service):
        return row.in_service[slot].colour
    first_waiting = max(row.capacity, len(row.in_service)) + 1
    if first_waiting <= slot < first_waiting + len(row.waiting):
        return ORANGE
    return WHITE


def _line_colour(row: Row, slot: int) -> str:
    """Being seen first, a gap, then the queue in order of arrival."""
    seen = len(row.in_service)
    if slot < seen:
        return row.in_service[slot].colour
    position = slot - seen - 1
    if 0 <= position < len(row.waiting):
        return row.waiting[position].colour
    return WHITE


def _legend(sim: Any, y: float) -> None:
    entries = [
        (BLUE, "being seen / in a bed"),
        (ORANGE, "waiting"),
        (PURPLE, "ready to leave, waiting for the next place"),
        (VERMILLION, "turned away or not reached in time"),
    ]
    x = 12
    for colour, text in entries:
        sim.AnimateRectangle(spec=(0, 0, SQUARE, SQUARE), x=x, y=y, linewidth=0, fillcolor=colour)
        sim.AnimateText(text=text, x=x + SQUARE + 5, y=y - 1, fontsize=10, textcolor=MUTED)
        x += SQUARE + 14 + 6.2 * len(text)


def _compress(raw: Path, target: Path, fps: int) -> None:
    """Re-encode salabim's RGBA frames on one small fixed palette: a GIF a page can carry.

    The picture only uses the chart palette and greys for text, so a fixed
    palette loses nothing visible, and unchanged pixels between frames then
    compress to almost nothing.
    """
    from PIL import Image, ImageSequence

    colours = [WHITE, INK, MUTED, SLOT, SKY, ORANGE, GREEN, BLUE, VERMILLION, PURPLE, "#F0E442", "#000000"]
    greys = [f"#{v:02x}{v:02x}{v:02x}" for v in range(0x30, 0xF0, 0x18)]
    rgb = []
    for colour in colours + greys:
        rgb += [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    palette = Image.new("P", (1, 1))
    palette.putpalette(rgb + [255, 255, 255] * (256 - len(rgb) // 3))
    with Image.open(raw) as source:
        frames = []
        for frame in ImageSequence.Iterator(source):
            flat = Image.new("RGB", frame.size, WHITE)
            rgba = frame.convert("RGBA")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            frames.append(flat.quantize(palette=palette, dither=Image.Dither.NONE))
    duration = max(20, round(1000 / fps / 10) * 10)
    frames[0].save(target, format="GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0, optimize=False, disposal=1)


def frame_count(path: str | Path) -> int:
    """Frames in a GIF (for checks and the command's message)."""
    from PIL import Image

    with Image.open(path) as image:
        return int(getattr(image, "n_frames", 1))


__all__ = ["Replay", "frame_count", "record", "render_gif"]
