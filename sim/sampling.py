"""Patients drawn in advance: arrival time, who they are, and every draw their journey may need.

This is how carepath gets **common random numbers by construction**. Before the
event loop sees a patient, everything random about them is already fixed:

- arrival times, from a non-homogeneous Poisson process per demand stream,
  locality and age band, with rates shaped by hour, weekday, month and growth;
- attributes (frailty, condition group, ...), from their stated mixes;
- for every step they might reach: a uniform for the duration there, one for the
  route onward, one for the clinical window, travel mode and discharge pathway.

Each source has its own named stream, ``SeedSequence(root, spawn_key=(replication,
chunk, crc32(name)))``, so the draws do not depend on the order the event loop
asks for them, on the number of workers, or on which other steps exist. Two
scenarios that differ only in capacities therefore see the same patients, and a
patient's stay in a step-up bed is the same in every scenario that admits them:
"admissions avoided" becomes a paired difference with a tight interval.

Time is cut into chunks of four weeks, drawn one at a time as the simulation
reaches them, so memory stays flat however long the horizon, and extending the
horizon leaves earlier patients unchanged.

Within a chunk, per-step draws follow a fixed canonical order of patients (demand
stream, then locality, then age band, then arrival). A change of demand in one
cell re-pairs the patients after it in that order; a change of capacity, routing
probability or duration never does.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from sim.network import (
    DIVERT,
    ESCALATE,
    NEXT,
    SLOT_ASSESSMENT,
    SLOT_DELAY,
    SLOT_DURATION,
    SLOT_PATHWAY,
    SLOT_ROUTE,
    SLOT_TRAVEL,
    SLOT_WINDOW,
    Network,
)
from sim.units import HOURS_PER_YEAR

CHUNK_DAYS = 28
CHUNK_HOURS = CHUNK_DAYS * 24.0
CENSUS_CHUNK = 2**31 - 1  # the stream key for patients already in the system at the start


def stable_id(name: str) -> int:
    """A stable 32-bit id for a stream name (never Python's salted ``hash``)."""
    return zlib.crc32(name.encode("utf-8"))


def generator(seed: int, replication: int, chunk: int, name: str) -> np.random.Generator:
    """The random stream for one named source in one chunk of one replication."""
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(replication, chunk, stable_id(name)))
    return np.random.Generator(np.random.PCG64(sequence))


@dataclass
class StepDraws:
    """One step's pre-drawn values for every patient in a batch, as Python lists.

    Lists rather than arrays because the event loop reads one element at a time,
    and indexing a list is several times cheaper than indexing a numpy array.
    """

    duration: list[float] | None
    routes: tuple[list[int] | None, list[int] | None, list[int] | None]
    window: list[float] | None = None
    travel: list[float] | None = None
    site: list[int] | None = None
    pathway: list[int] | None = None
    delay: list[float] | None = None
    assessment: list[float] | None = None


@dataclass
class Batch:
    """A chunk's patients in arrival order, with their pre-drawn journeys."""

    chunk: int
    arrival: list[float]
    codes: dict[str, np.ndarray]
    steps: list[StepDraws]

    @property
    def size(self) -> int:
        return len(self.arrival)


def calendar_factors(network: Network, start_hour: float, hours: int) -> dict[str, np.ndarray]:
    """Hour of day, weekday and month index for each hour bin from ``start_hour``."""
    first_day = int(start_hour // 24)
    offsets = np.arange(hours)
    day = first_day + offsets // 24
    dates = np.datetime64(network.start, "D") + day
    weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").view("int64") % 12
    return {
        "hour": (offsets % 24).astype(np.int64),
        "weekday": weekday.astype(np.int64),
        "month": month.astype(np.int64),
        "years": (start_hour + offsets + 0.5) / HOURS_PER_YEAR,
    }


def cell_intensity(network: Network, start_hour: float, hours: int) -> list[tuple[int, int, int, np.ndarray]]:
    """Arrival intensity per hour bin for every (demand stream, locality, age band) cell."""
    calendar = calendar_factors(network, start_hour, hours)
    cells = []
    total_population = network.population.sum()
    for plan in network.demand:
        shape = plan.hour[calendar["hour"]] * plan.weekday[calendar["weekday"]] * plan.month[calendar["month"]]
        if plan.growth:
            shape = shape * (1 + plan.growth) ** calendar["years"]
        population_in_scope = network.population[list(plan.localities)].sum() if plan.localities else 0.0
        for li in plan.localities:
            for bi in range(len(network.age_bands)):
                people = network.population[li, bi]
                if plan.per_capita:
                    base = plan.rate_per_hour[bi] * people
                else:
                    share = people / population_in_scope if population_in_scope > 0 else 0.0
                    base = plan.rate_per_hour[bi] * share
                if base <= 0:
                    continue
                growth = network.population_growth[li, bi]
                intensity = base * shape
                if growth:
                    intensity = intensity * (1 + growth) ** calendar["years"]
                cells.append((plan.index, li, bi, intensity))
    del total_population
    return cells


def _draw_cell_arrivals(rng: np.random.Generator, start_hour: float, intensity: np.ndarray) -> np.ndarray:
    """Arrival times of a Poisson process with piecewise-constant hourly intensity.

    The count is Poisson with the integrated intensity, and each arrival is placed
    by inverting the cumulative intensity, which is exact for a piecewise-constant
    rate (Law 2007, section 8.6.2).
    """
    cumulative = np.cumsum(intensity)
    total = cumulative[-1]
    count = rng.poisson(total)
    if count == 0:
        return np.empty(0)
    targets = rng.random(count) * total
    bins = np.searchsorted(cumulative, targets, side="right")
    bins = np.minimum(bins, len(intensity) - 1)
    before = np.where(bins > 0, cumulative[bins - 1], 0.0)
    within = (targets - before) / intensity[bins]
    return start_hour + bins + np.clip(within, 0.0, 1.0 - 1e-12)


def draw_attributes(network: Network, seed: int, replication: int, chunk: int, codes: dict[str, np.ndarray]) -> None:
    """Add each declared attribute's codes to ``codes`` (in place)."""
    n = len(codes["age_band"])
    for attribute in network.attributes:
        u = generator(seed, replication, chunk, f"attribute:{attribute.name}").random(n)
        if attribute.by is None:
            table = attribute.cumulative[0]
            values = np.searchsorted(table, u, side="right")
        else:
            by_codes = codes[attribute.by]
            values = np.empty(n, dtype=np.int64)
            for level in range(attribute.cumulative.shape[0]):
                mask = by_codes == level
                if mask.any():
                    values[mask] = np.searchsorted(attribute.cumulative[level], u[mask], side="right")
        codes[attribute.name] = np.minimum(values, len(attribute.levels) - 1).astype(np.int64)


def draw_journeys(network: Network, seed: int, replication: int, chunk: int, codes: dict[str, np.ndarray], order: np.ndarray | None = None) -> list[StepDraws]:
    """Every step's durations, routes and other draws for a batch of patients.

    Uniforms are drawn in canonical order and then permuted by ``order`` (arrival
    order), so a patient's draws do not depend on when others arrive.
    """
    n = len(codes["age_band"])
    draws: list[StepDraws] = []
    sorted_codes = codes if order is None else {k: v[order] for k, v in codes.items()}
    locality = sorted_codes["locality"]
    for step in network.steps:
        u = generator(seed, replication, chunk, f"step:{step.name}").random((step.slots, n))
        if order is not None:
            u = u[:, order]
        duration = step.duration.draw(sorted_codes, u[SLOT_DURATION]).tolist() if step.duration else None
        routes = tuple(
            route.choose(sorted_codes, u[SLOT_ROUTE]).tolist() if route is not None else None
            for route in step.routes
        )
        step_draws = StepDraws(duration=duration, routes=routes)  # type: ignore[arg-type]
        if step.window is not None:
            step_draws.window = step.window.draw(sorted_codes, u[SLOT_WINDOW]).tolist()
        if step.kind == "team":
            plan = network.services[step.service]
            if plan.base is not None:
                step_draws.travel = network.travel["car"][plan.base, locality].tolist()
            else:
                step_draws.travel = [0.0] * n
        elif step.kind == "hub":
            mode = step.travel_modes.choose(sorted_codes, u[SLOT_TRAVEL])
            step_draws.travel = network.hub_site_travel[step.service][mode, locality].tolist()
            step_draws.site = network.hub_site_choice[step.service][mode, locality].tolist()
        if step.discharge is not None:
            d = step.discharge
            pathway = d.pathway.choose(sorted_codes, u[SLOT_PATHWAY])
            step_draws.pathway = pathway.tolist()
            delay = np.zeros(n)
            for p, rule in enumerate(d.delay):
                if rule is not None:
                    mask = pathway == p
                    if mask.any():
                        delay[mask] = rule.draw({k: v[mask] for k, v in sorted_codes.items()}, u[SLOT_DELAY][mask])
            step_draws.delay = delay.tolist()
            if d.assessment is not None:
                step_draws.assessment = d.assessment.draw(sorted_codes, u[SLOT_ASSESSMENT]).tolist()
        draws.append(step_draws)
    return draws


def draw_batch(network: Network, seed: int, replication: int, chunk: int) -> Batch:
    """The patients arriving in one four-week chunk, sorted by arrival time."""
    start_hour = chunk * CHUNK_HOURS
    times: list[np.ndarray] = []
    stream_codes: list[np.ndarray] = []
    locality_codes: list[np.ndarray] = []
    band_codes: list[np.ndarray] = []
    for stream_index, li, bi, intensity in cell_intensity(network, start_hour, int(CHUNK_HOURS)):
        name = f"arrivals:{network.demand[stream_index].name}/{network.localities[li]}/{network.age_bands[bi]}"
        arrivals = _draw_cell_arrivals(generator(seed, replication, chunk, name), start_hour, intensity)
        arrivals.sort()
        times.append(arrivals)
        stream_codes.append(np.full(len(arrivals), stream_index, dtype=np.int64))
        locality_codes.append(np.full(len(arrivals), li, dtype=np.int64))
        band_codes.append(np.full(len(arrivals), bi, dtype=np.int64))
    if times:
        arrival = np.concatenate(times)
        codes = {
            "stream": np.concatenate(stream_codes),
            "locality": np.concatenate(locality_codes),
            "age_band": np.concatenate(band_codes),
        }
    else:
        arrival = np.empty(0)
        codes = {key: np.empty(0, dtype=np.int64) for key in ("stream", "locality", "age_band")}
    draw_attributes(network, seed, replication, chunk, codes)
    order = np.argsort(arrival, kind="stable")
    steps = draw_journeys(network, seed, replication, chunk, codes, order)
    sorted_codes = {key: value[order] for key, value in codes.items()}
    return Batch(chunk=chunk, arrival=arrival[order].tolist(), codes=sorted_codes, steps=steps)


def draw_census(network: Network, seed: int, replication: int, count: int) -> tuple[Batch, np.ndarray]:
    """Patients already in the system at the start: who they are, drawn like new arrivals.

    Each is placed in a demand cell with probability proportional to that cell's
    demand in the first four weeks. Returns the batch (arrival times are zero and
    set by the caller) and two uniforms per patient for length-biased stays.
    """
    cells = cell_intensity(network, 0.0, int(CHUNK_HOURS))
    weights = np.array([intensity.sum() for *_, intensity in cells])
    rng = generator(seed, replication, CENSUS_CHUNK, "census:cells")
    if count == 0 or len(cells) == 0:
        picks = np.zeros(0, dtype=np.int64)
    else:
        picks = np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(count), side="right")
        picks = np.minimum(picks, len(cells) - 1)
    codes = {
        "stream": np.array([cells[i][0] for i in picks], dtype=np.int64),
        "locality": np.array([cells[i][1] for i in picks], dtype=np.int64),
        "age_band": np.array([cells[i][2] for i in picks], dtype=np.int64),
    }
    draw_attributes(network, seed, replication, CENSUS_CHUNK, codes)
    steps = draw_journeys(network, seed, replication, CENSUS_CHUNK, codes)
    elapsed_uniforms = generator(seed, replication, CENSUS_CHUNK, "census:elapsed").random((2, count))
    return Batch(chunk=CENSUS_CHUNK, arrival=[0.0] * count, codes=codes, steps=steps), elapsed_uniforms


def batch_from_arrivals(network: Network, seed: int, replication: int, arrivals) -> Batch:
    """A batch from a stated list of arrivals instead of the demand model.

    ``arrivals`` is a table with a ``time`` column (hours from the start) and,
    optionally, ``stream``, ``locality``, ``age_band`` and attribute columns
    holding level names; whatever is not given is drawn from the pathway's mixes
    (streams and places in proportion to demand). Used to replay an observed
    arrival log and to write tests whose answer can be worked out by hand.
    """
    import pandas as pd

    frame = pd.DataFrame(arrivals).sort_values("time", kind="stable").reset_index(drop=True)
    n = len(frame)
    codes: dict[str, np.ndarray] = {}
    levels = network.levels
    cells = cell_intensity(network, 0.0, int(CHUNK_HOURS))
    if n and cells and not all(column in frame for column in ("stream", "locality", "age_band")):
        weights = np.array([intensity.sum() for *_, intensity in cells])
        picks = np.searchsorted(
            np.cumsum(weights) / weights.sum(), generator(seed, replication, -1 % 2**31, "arrivals:cells").random(n), side="right"
        )
        picks = np.minimum(picks, len(cells) - 1)
        drawn = {
            "stream": np.array([cells[i][0] for i in picks], dtype=np.int64),
            "locality": np.array([cells[i][1] for i in picks], dtype=np.int64),
            "age_band": np.array([cells[i][2] for i in picks], dtype=np.int64),
        }
    else:
        drawn = {key: np.zeros(n, dtype=np.int64) for key in ("stream", "locality", "age_band")}
    for key in ("stream", "locality", "age_band"):
        if key in frame:
            codes[key] = np.array([levels[key].index(str(v)) for v in frame[key]], dtype=np.int64)
        else:
            codes[key] = drawn[key]
    draw_attributes(network, seed, replication, 2**31 - 2, codes)
    for attribute in network.attributes:
        if attribute.name in frame:
            codes[attribute.name] = np.array([attribute.levels.index(str(v)) for v in frame[attribute.name]], dtype=np.int64)
    steps = draw_journeys(network, seed, replication, 2**31 - 2, codes)
    return Batch(chunk=-1, arrival=frame["time"].astype(float).tolist(), codes=codes, steps=steps)


__all__ = [
    "CHUNK_HOURS",
    "DIVERT",
    "ESCALATE",
    "NEXT",
    "Batch",
    "StepDraws",
    "batch_from_arrivals",
    "draw_batch",
    "draw_census",
    "generator",
    "stable_id",
]
