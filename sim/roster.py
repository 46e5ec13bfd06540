"""Rosters and opening hours: who is on duty, hour by hour, through the week.

Community teams do not work like a server in a textbook queue: a rapid response
service may have four nurses 08:00-20:00 seven days and one overnight, a
therapist on weekdays only, and a discharge team that does not work weekends.
A roster is a list of shifts by role; this module turns it into a weekly step
function of staff on duty per role, which the engine walks through as events.

Times are hours from Monday 00:00 (0 to 168). A shift that ends before it starts
runs overnight (``20:00-08:00``); Sunday's overnight shift runs into Monday.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

HOURS_PER_WEEK = 168.0


def shift_intervals(days: Sequence[int], hours: tuple[float, float]) -> list[tuple[float, float]]:
    """The intervals of the week covered by a shift, in hours from Monday 00:00.

    An overnight shift's interval ends after midnight (and after 168 on Sunday).
    """
    start, end = hours
    length = end - start if end > start else end + 24 - start
    return [(day * 24 + start, day * 24 + start + length) for day in days]


@dataclass(frozen=True)
class WeeklyRoster:
    """Staff on duty by role as a step function over the week.

    ``changes`` holds ``(hour_of_week, {role: staff})`` sorted by hour, starting at 0.
    """

    roles: tuple[str, ...]
    changes: tuple[tuple[float, tuple[int, ...]], ...]

    @classmethod
    def constant(cls, staff: int, role: str = "staff") -> WeeklyRoster:
        return cls((role,), ((0.0, (staff,)),))

    @classmethod
    def from_shifts(cls, shifts: Iterable[tuple[str, int, Sequence[int], tuple[float, float]]]) -> WeeklyRoster:
        """Build from ``(role, staff, days, hours)`` tuples."""
        shifts = list(shifts)
        roles = tuple(dict.fromkeys(role for role, *_ in shifts))
        return cls._from_intervals(roles, shifts)

    @classmethod
    def _from_intervals(cls, roles: tuple[str, ...], shifts: list) -> WeeklyRoster:
        points: set[float] = {0.0}
        intervals: list[tuple[int, int, float, float]] = []
        for role, staff, days, hours in shifts:
            r = roles.index(role)
            for start, end in shift_intervals(days, hours):
                pieces = [(start, min(end, HOURS_PER_WEEK))]
                if end > HOURS_PER_WEEK:
                    pieces.append((0.0, end - HOURS_PER_WEEK))
                for a, b in pieces:
                    intervals.append((r, staff, a, b))
                    points.update((a, b % HOURS_PER_WEEK))
        ordered = sorted(points)
        changes: list[tuple[float, tuple[int, ...]]] = []
        for point in ordered:
            level = [0] * len(roles)
            for r, staff, a, b in intervals:
                if a <= point < b:
                    level[r] += staff
            value = tuple(level)
            if not changes or changes[-1][1] != value:
                changes.append((point, value))
        return cls(roles, tuple(changes))

    def on_duty(self, hour_of_week: float) -> tuple[int, ...]:
        """Staff on duty per role at an hour of the week."""
        hour_of_week %= HOURS_PER_WEEK
        current = self.changes[0][1]
        for hour, level in self.changes:
            if hour <= hour_of_week:
                current = level
            else:
                break
        return current

    def total(self, hour_of_week: float) -> int:
        return sum(self.on_duty(hour_of_week))

    def is_constant(self) -> bool:
        return len(self.changes) == 1

    def staff_hours_per_week(self) -> float:
        """Rostered staff hours in one week, summed over roles."""
        total = 0.0
        points = [*self.changes, (HOURS_PER_WEEK, self.changes[0][1])]
        for (hour, level), (next_hour, _) in pairwise(points):
            total += sum(level) * (next_hour - hour)
        return total

    def schedule(self, start_hour_of_week: float, horizon: float) -> list[tuple[float, tuple[int, ...]]]:
        """Change points ``(clock time, staff per role)`` from clock 0 to the horizon."""
        out: list[tuple[float, tuple[int, ...]]] = [(0.0, self.on_duty(start_hour_of_week))]
        if self.is_constant():
            return out
        week_start = -start_hour_of_week
        while week_start < horizon:
            for hour, level in self.changes:
                time = week_start + hour
                if 0 < time < horizon and level != out[-1][1]:
                    out.append((time, level))
            week_start += HOURS_PER_WEEK
        return out


def open_intervals(openings: Iterable[tuple[Sequence[int], tuple[float, float]]]) -> WeeklyRoster:
    """Opening hours as a one-role roster of 0 (closed) or 1 (open)."""
    shifts = [("open", 1, days, hours) for days, hours in openings]
    roster = WeeklyRoster._from_intervals(("open",), shifts)
    # overlapping opening periods count once
    changes = []
    for hour, level in roster.changes:
        value = (min(level[0], 1),)
        if not changes or changes[-1][1] != value:
            changes.append((hour, value))
    return WeeklyRoster(("open",), tuple(changes))
