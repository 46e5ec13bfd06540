"""Pydantic field types for quantities with units.

Each type parses the modeller's text once, at load (see :mod:`sim.units`), and
carries a JSON Schema that tells an editor what to type (``"90 min"``), so
``carepath schema`` gives autocompletion and inline checks in VS Code and others.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Field, WithJsonSchema

from sim import units

_DURATION_SCHEMA = {
    "type": "string",
    "pattern": r"^\s*[0-9.,]+\s*(s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|months?|y|yrs?|years?)\s*$",
    "description": "A duration with its unit, e.g. '90 min', '2 hours', '7 days'.",
    "examples": ["90 min", "2 hours", "7 days"],
}

#: A duration >= 0, in hours after loading.
Duration = Annotated[
    float, BeforeValidator(lambda v: units.parse_duration(v)), WithJsonSchema(_DURATION_SCHEMA)
]
#: A duration > 0, in hours after loading.
PositiveDuration = Annotated[
    float,
    BeforeValidator(lambda v: units.parse_duration(v, allow_zero=False)),
    WithJsonSchema(_DURATION_SCHEMA),
]

#: A probability or share, written 0.836 or "83.6%".
Share = Annotated[
    float,
    BeforeValidator(units.parse_share),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {"type": "string", "pattern": r"^\s*[0-9.]+\s*%\s*$"},
            ],
            "description": "A share between 0 and 1, or a percentage like '83.6%'.",
        }
    ),
]

#: An arrival rate: "18 per 1000 per year" (per head) or "90 per day" (in total).
RateValue = Annotated[
    units.Rate,
    BeforeValidator(units.parse_rate),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*[0-9.,]+\s+per\s+([0-9.,]+\s+)?\w*\s*(per\s+)?\w+\s*$",
            "description": "A rate, e.g. '18 per 1000 per year' (per head of population) or '90 per day' (in total).",
            "examples": ["18 per 1000 per year", "90 per day"],
        }
    ),
]

#: Money in pounds: "45 GBP", "GBP 45" or "£45".
Money = Annotated[
    float,
    BeforeValidator(units.parse_money),
    WithJsonSchema(
        {"type": "string", "description": "An amount in pounds, e.g. '45 GBP' or '£45'.", "examples": ["45 GBP"]}
    ),
]

#: Growth per year as a fraction: "2.5% per year".
Growth = Annotated[
    float,
    BeforeValidator(units.parse_growth),
    WithJsonSchema(
        {"type": "string", "description": "Growth, e.g. '2.5% per year'.", "examples": ["2.5% per year"]}
    ),
]

#: Opening hours or a shift, "08:00-20:00" (hours after midnight, end may be next day).
ClockRange = Annotated[
    tuple[float, float],
    BeforeValidator(units.parse_clock_range),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$", "examples": ["08:00-20:00"]}
    ),
]

#: Days of the week as indices (Monday = 0).
Days = Annotated[
    tuple[int, ...],
    BeforeValidator(units.parse_days),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "examples": ["every day", "weekdays", "weekends", "mon-fri"]},
                {"type": "array", "items": {"enum": list(units.WEEKDAYS)}},
            ]
        }
    ),
]

def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != int(value):
        shown = repr(value) if isinstance(value, str) else value
        raise ValueError(f"expected a whole number >= 0, got {shown}")
    return int(value)


#: A capacity or head count: a whole number >= 0 (0 is legal: "no service").
Count = Annotated[int, BeforeValidator(_count), WithJsonSchema({"type": "integer", "minimum": 0})]
Weight = Annotated[float, Field(ge=0)]
StartDate = date
