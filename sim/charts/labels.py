"""Numbers as a programme board reads them: rounded, with units, ranges with a dash.

A board paper says "about 410 admissions a year (95% CI 380-440)", not
"409.6731". Every chart label and every sentence of the report goes through
these helpers, so the same number is written the same way everywhere.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

#: The dash between the two ends of a confidence interval.
DASH = "–"


def missing(value: Any) -> bool:
    """True for None and NaN (an interval that could not be computed)."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def count(value: float) -> str:
    """A count of patients or days: whole numbers, thousands separated."""
    if missing(value):
        return "-"
    if abs(value) < 10:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def hours(value: float) -> str:
    """``2 hours``, ``1.5 hours``."""
    return "-" if missing(value) else f"{float(value):g} hours"


def money(value: float) -> str:
    """Pounds, rounded to two significant-ish figures a board would quote."""
    if missing(value):
        return "-"
    magnitude = abs(value)
    sign = "-" if value < 0 else ""
    if magnitude >= 1e6:
        return f"{sign}£{magnitude / 1e6:,.2f}m"
    if magnitude >= 1e4:
        return f"{sign}£{magnitude / 1e3:,.0f}k"
    return f"{sign}£{magnitude:,.0f}"


def share(value: float, digits: int = 0) -> str:
    """A share as a percentage."""
    if missing(value):
        return "-"
    if digits == 0 and 0.995 <= value < 1.0:
        digits = 1  # 99.7% is not 100%
    return f"{value * 100:.{digits}f}%"


def interval(low: float, high: float, fmt=count) -> str:
    """``380–440``, or an empty string when the interval is unknown."""
    if missing(low) or missing(high):
        return ""
    if low < 0 or high < 0:  # "-104 to -46" reads better than "-104–-46"
        return f"{fmt(low)} to {fmt(high)}"
    return f"{fmt(low)}{DASH}{fmt(high)}"


def with_interval(mean: float, low: float, high: float, fmt=count) -> str:
    """``410 (95% CI 380–440)``; the mean alone when the interval is unknown."""
    text = fmt(mean)
    span = interval(low, high, fmt)
    return f"{text} (95% CI {span})" if span else text


def level(value: Any) -> str:
    """A factor level as written in a scenario name: lists joined with '+'."""
    if isinstance(value, list | tuple):
        return "+".join(map(str, value)) if value else "none"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
        return str(int(value)) if value.is_integer() else f"{value:.3g}"
    return str(value)


def describe_values(values: dict[str, Any], labels: dict[str, str]) -> str:
    """``12 step-up beds and 3 day nurses``: a configuration in words.

    A numeric level reads before its label ("12 step-up beds"); anything else
    after it ("hub sites margate+ramsgate").
    """
    parts = []
    for path, value in values.items():
        label = labels.get(path, path)
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            parts.append(f"{level(value)} {singular(label) if value == 1 else label}")
        else:
            parts.append(f"{label} {level(value)}")
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def singular(label: str) -> str:
    """``day nurses`` -> ``day nurse`` for a level of one; labels stated in the
    singular, or not ending in a plain plural, are left as written."""
    words = label.split(" ")
    last = words[-1]
    if len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        words[-1] = last[:-1]
    return " ".join(words)


def shorten(text: str, width: int = 38) -> str:
    """Cut a long scenario name for a chart label, keeping its start."""
    return text if len(text) <= width else text[: width - 1] + "…"


def missing_level(value: Any) -> bool:
    """True when a scenario does not set this factor (NaN or None in the table)."""
    if isinstance(value, list | tuple | str):
        return False
    return missing(value)
