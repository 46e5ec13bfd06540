"""Statistics the engine accumulates as numbers, never as growing lists.

Two kinds, as in salabim's ``Monitor`` and Law's *Simulation Modeling and
Analysis* (2007, pp. 14-17):

- a **level** is a quantity through time (beds occupied, staff busy, patients
  delayed); its mean is the area under the curve divided by the time, so the
  level keeps a running area and the time it last changed;
- a **tally** is a value per patient (a wait, a response time); it keeps a count,
  a sum, and a fixed histogram with log-spaced bins (100 per decade from 3.6
  seconds to 11 years), from which quantiles are read to about 1% (a bin's width).

Both are O(1) per update and O(1) in memory, so a ten-year run costs no more
memory than a one-year run. The warm-up is handled by filtering, not resetting:
a level remembers its area when the warm-up ends, and the engine only tallies
patients who arrived at a step after it.
"""

from __future__ import annotations

import math

import numpy as np

_LOWEST = 1e-3  # hours: 3.6 seconds
_DECADES = 8
_PER_DECADE = 100
N_BINS = _DECADES * _PER_DECADE
#: Upper edges of the histogram bins (hours); a value above the last goes in the last.
BIN_EDGES = _LOWEST * 10 ** (np.arange(N_BINS + 1) / _PER_DECADE)


class Level:
    """A time-weighted quantity: occupancy, staff busy, patients delayed."""

    __slots__ = ("area", "area_at_warm_up", "last", "level", "maximum", "warm_up")

    def __init__(self, warm_up: float = 0.0, level: float = 0.0) -> None:
        self.level = level
        self.area = 0.0
        self.last = 0.0
        self.maximum = level  # since the warm-up ended (reset when it does)
        self.warm_up = warm_up
        self.area_at_warm_up = 0.0

    def change(self, now: float, delta: float) -> None:
        level = self.level
        self.area += level * (now - self.last)
        self.last = now
        level += delta
        self.level = level
        if level > self.maximum:
            self.maximum = level

    def sync(self, now: float) -> None:
        """Bring the area up to ``now`` without changing the level."""
        self.area += self.level * (now - self.last)
        self.last = now

    def mark_warm_up(self, now: float) -> None:
        self.sync(now)
        self.area_at_warm_up = self.area
        self.maximum = self.level

    def mean_after_warm_up(self, end: float) -> float:
        self.sync(end)
        span = end - self.warm_up
        return (self.area - self.area_at_warm_up) / span if span > 0 else float("nan")

    def area_after_warm_up(self, end: float) -> float:
        self.sync(end)
        return self.area - self.area_at_warm_up


class Tally:
    """Per-patient values (waits, response times) with a histogram for quantiles."""

    __slots__ = ("count", "counts", "total", "total_squares", "zeros")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.total_squares = 0.0
        self.zeros = 0
        self.counts = [0] * N_BINS

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.total_squares += value * value
        if value <= 0.0:
            self.zeros += 1
            return
        index = int((math.log10(value) + 3.0) * _PER_DECADE)
        if index < 0:
            index = 0
        elif index >= N_BINS:
            index = N_BINS - 1
        self.counts[index] += 1

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")

    def quantile(self, q: float) -> float:
        """The q-quantile, interpolated geometrically within its histogram bin."""
        if not self.count:
            return float("nan")
        rank = q * self.count
        if rank <= self.zeros:
            return 0.0
        cumulative = float(self.zeros)
        for index, count in enumerate(self.counts):
            if count and cumulative + count >= rank:
                fraction = (rank - cumulative) / count
                low, high = BIN_EDGES[index], BIN_EDGES[index + 1]
                return float(low * (high / low) ** fraction)
            cumulative += count
        return float(BIN_EDGES[-1])

    def share_at_most(self, limit: float) -> float:
        """Share of values <= limit (exact at bin edges, interpolated within a bin)."""
        if not self.count:
            return float("nan")
        below = float(self.zeros)
        if limit <= 0:
            return below / self.count
        position = (math.log10(limit) + 3.0) * _PER_DECADE
        whole = int(position)
        below += sum(self.counts[: max(0, min(whole, N_BINS))])
        if 0 <= whole < N_BINS:
            below += self.counts[whole] * (position - whole)
        return below / self.count

    def nonzero_bins(self) -> list[tuple[float, float, int]]:
        """(lower, upper, count) for each bin that holds values, zeros first."""
        bins = [(0.0, 0.0, self.zeros)] if self.zeros else []
        bins += [
            (float(BIN_EDGES[i]), float(BIN_EDGES[i + 1]), count)
            for i, count in enumerate(self.counts)
            if count
        ]
        return bins


class Counter:
    """A count with a per-day series (admissions per day, discharges per day)."""

    __slots__ = ("after_warm_up", "today", "total")

    def __init__(self) -> None:
        self.total = 0
        self.after_warm_up = 0
        self.today = 0
