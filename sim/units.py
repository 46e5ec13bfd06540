"""Quantities with units, converted once at load into the engine's clock.

Every duration, rate and sum of money in a pathway file carries its unit, because
a bare ``90`` could be minutes, hours or days and the difference is a factor of
1,440. The engine runs on one clock unit, the **hour** (so hour-of-day profiles
and rosters map directly); this module turns the modeller's words into hours:

>>> parse_duration("90 min")
1.5
>>> round(parse_rate("18 per 1000 per year").per_hour * 1000 * HOURS_PER_YEAR, 6)
18.0

A bare number where a unit belongs raises ``ValueError`` with a message that says
what was expected; the pathway loader adds the file, line and key.

Years are 365.25 days and months a twelfth of a year, so that a rate "per year"
and a duration "1 year" agree over leap years.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HOURS_PER_DAY = 24.0
HOURS_PER_YEAR = 365.25 * HOURS_PER_DAY

#: Every accepted spelling of a time unit, in hours.
TIME_UNITS: dict[str, float] = {}
for _names, _hours in (
    (("s", "sec", "secs", "second", "seconds"), 1 / 3600),
    (("min", "mins", "minute", "minutes"), 1 / 60),
    (("h", "hr", "hrs", "hour", "hours"), 1.0),
    (("d", "day", "days"), HOURS_PER_DAY),
    (("w", "wk", "wks", "week", "weeks"), 7 * HOURS_PER_DAY),
    (("month", "months"), HOURS_PER_YEAR / 12),
    (("y", "yr", "yrs", "year", "years"), HOURS_PER_YEAR),
):
    for _name in _names:
        TIME_UNITS[_name] = _hours

_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+"
_QUANTITY = re.compile(rf"^\s*(?P<number>{_NUMBER})\s*(?P<unit>[A-Za-z]+)\s*$")
_RATE = re.compile(
    rf"^\s*(?P<count>{_NUMBER})\s+per\s+(?:(?P<base>{_NUMBER})\s*(?:people|persons|population|patients|residents)?\s+per\s+)?"
    r"(?P<unit>[A-Za-z]+)\s*$"
)
_PERCENT = re.compile(rf"^\s*(?P<number>{_NUMBER})\s*%\s*$")
_GROWTH = re.compile(rf"^\s*(?P<number>{_NUMBER})\s*%\s+(?:per|a|each)\s+(?P<unit>[A-Za-z]+)\s*$")
_MONEY = re.compile(
    rf"^\s*(?:(?P<pre>GBP|£)\s*(?P<n1>{_NUMBER})|(?P<n2>{_NUMBER})\s*(?P<post>GBP|pounds))\s*$",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^\s*(?P<h>\d{1,2}):(?P<m>\d{2})\s*$")

UNIT_HINT = "a number and a unit, e.g. '90 min', '2 hours', '7 days', '1 year'"


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _describe(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    return str(value)


def parse_duration(value: object, *, allow_zero: bool = True) -> float:
    """Turn ``"90 min"`` into hours (``1.5``).

    Raises
    ------
    ValueError
        For a bare number, an unknown unit or a negative duration.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"expected a duration with a unit ({UNIT_HINT}), got {_describe(value)}")
    match = _QUANTITY.match(value)
    if not match:
        raise ValueError(f"expected a duration with a unit ({UNIT_HINT}), got {_describe(value)}")
    unit = match["unit"].lower()
    if unit not in TIME_UNITS:
        raise ValueError(
            f"unknown time unit {match['unit']!r} in {value!r} (use s, min, hours, days, weeks, months or years)"
        )
    hours = _number(match["number"]) * TIME_UNITS[unit]
    if hours < 0 or (hours == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"expected a duration {bound}, got {value!r}")
    return hours


@dataclass(frozen=True)
class Rate:
    """An arrival rate in events per hour, absolute or per head of population."""

    per_hour: float
    per_capita: bool

    def describe(self) -> str:
        if self.per_capita:
            return f"{self.per_hour * HOURS_PER_YEAR * 1000:g} per 1000 per year"
        return f"{self.per_hour * HOURS_PER_YEAR:g} per year"


def parse_rate(value: object) -> Rate:
    """Turn ``"18 per 1000 per year"`` or ``"90 per day"`` into a :class:`Rate`."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(
            "expected a rate with units, e.g. '18 per 1000 per year' or '90 per day', "
            f"got {_describe(value)}"
        )
    match = _RATE.match(value)
    if not match:
        raise ValueError(
            "expected a rate with units, e.g. '18 per 1000 per year' or '90 per day', "
            f"got {value!r}"
        )
    unit = match["unit"].lower()
    if unit not in TIME_UNITS:
        raise ValueError(f"unknown time unit {match['unit']!r} in rate {value!r}")
    count = _number(match["count"])
    if count < 0:
        raise ValueError(f"expected a rate >= 0, got {value!r}")
    base = match["base"]
    per_hour = count / TIME_UNITS[unit]
    if base is None:
        return Rate(per_hour, per_capita=False)
    population = _number(base)
    if population <= 0:
        raise ValueError(f"expected a population base > 0 in {value!r}")
    return Rate(per_hour / population, per_capita=True)


def parse_share(value: object) -> float:
    """A probability or share: ``0.836`` or ``"83.6%"``, between 0 and 1."""
    if isinstance(value, bool):
        raise ValueError(f"expected a share between 0 and 1 (or a percentage), got {value}")
    if isinstance(value, int | float):
        share = float(value)
    elif isinstance(value, str) and (match := _PERCENT.match(value)):
        share = _number(match["number"]) / 100
    else:
        raise ValueError(
            f"expected a share between 0 and 1 or a percentage like '83.6%', got {_describe(value)}"
        )
    if not 0 <= share <= 1:
        raise ValueError(f"expected a share between 0 and 1, got {_describe(value)}")
    return share


def parse_growth(value: object) -> float:
    """Annual growth ``"2.5% per year"`` -> ``0.025`` (a fraction per year)."""
    if isinstance(value, str) and (match := _GROWTH.match(value)):
        unit = match["unit"].lower()
        if unit not in TIME_UNITS:
            raise ValueError(f"unknown time unit {match['unit']!r} in {value!r}")
        per_unit = _number(match["number"]) / 100
        # compound to an annual rate so that '0.5% per month' means what it says
        return (1 + per_unit) ** (HOURS_PER_YEAR / TIME_UNITS[unit]) - 1
    raise ValueError(f"expected a growth rate like '2.5% per year', got {_describe(value)}")


def parse_money(value: object) -> float:
    """``"45 GBP"``, ``"GBP 45"`` or ``"£1,200"`` -> pounds as a float."""
    if isinstance(value, str) and (match := _MONEY.match(value)):
        amount = _number(match["n1"] or match["n2"])
        if amount < 0:
            raise ValueError(f"expected an amount >= 0, got {value!r}")
        return amount
    raise ValueError(f"expected an amount of money like '45 GBP' or '£45', got {_describe(value)}")


def parse_clock(value: object) -> float:
    """``"08:00"`` -> ``8.0`` hours after midnight; ``"24:00"`` is the end of the day."""
    if isinstance(value, str) and (match := _CLOCK.match(value)):
        hour, minute = int(match["h"]), int(match["m"])
        if minute < 60 and (hour < 24 or (hour == 24 and minute == 0)):
            return hour + minute / 60
    raise ValueError(f"expected a time of day like '08:00', got {_describe(value)}")


def parse_clock_range(value: object) -> tuple[float, float]:
    """``"08:00-20:00"`` -> ``(8.0, 20.0)``; ``"20:00-08:00"`` runs overnight."""
    if isinstance(value, str) and value.count("-") == 1:
        start_text, end_text = value.split("-")
        start, end = parse_clock(start_text), parse_clock(end_text)
        if start == end or (start == 0 and end == 24):
            if start == 0 and end == 24:
                return (0.0, 24.0)
            raise ValueError(f"a shift or opening period of zero length: {value!r}")
        if start >= 24:
            raise ValueError(f"a period cannot start at 24:00: {value!r}")
        return (start, end)
    raise ValueError(f"expected hours like '08:00-20:00', got {_describe(value)}")


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
    "friday": "fri", "saturday": "sat", "sunday": "sun", "tues": "tue", "thur": "thu",
    "thurs": "thu", "weds": "wed",
}


def parse_days(value: object) -> tuple[int, ...]:
    """Days of the week as indices (Monday = 0).

    Accepts ``"every day"``, ``"weekdays"``, ``"weekends"``, a range ``"mon-fri"``,
    a single day, or a list of days.
    """
    if isinstance(value, list):
        days: list[int] = []
        for item in value:
            for day in parse_days(item):
                if day in days:
                    raise ValueError(f"day {WEEKDAYS[day]!r} listed twice")
                days.append(day)
        if not days:
            raise ValueError("expected at least one day")
        return tuple(sorted(days))
    if not isinstance(value, str):
        raise ValueError(f"expected days like 'every day', 'weekdays' or [mon, tue], got {_describe(value)}")
    text = value.strip().lower()
    if text in ("every day", "everyday", "daily", "all", "seven days", "7 days"):
        return tuple(range(7))
    if text in ("weekdays", "weekday", "mon-fri"):
        return tuple(range(5))
    if text in ("weekends", "weekend", "sat-sun"):
        return (5, 6)

    def one(name: str) -> int:
        name = _DAY_ALIASES.get(name.strip(), name.strip())
        if name not in WEEKDAYS:
            raise ValueError(
                f"expected days like 'every day', 'weekdays' or [mon, tue], got {value!r}"
            )
        return WEEKDAYS.index(name)

    if "-" in text:
        first, last = (one(part) for part in text.split("-", 1))
        if last < first:
            raise ValueError(f"day range {value!r} runs backwards")
        return tuple(range(first, last + 1))
    return (one(text),)


def format_hours(hours: float) -> str:
    """A duration in hours as the most readable unit (for messages and reports)."""
    if hours >= 2 * HOURS_PER_DAY:
        return f"{hours / HOURS_PER_DAY:.3g} days"
    if hours >= 2:
        return f"{hours:.3g} hours"
    return f"{hours * 60:.3g} min"
