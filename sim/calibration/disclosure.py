"""Statistical disclosure control for exported counts.

NHS Digital publishes HES under a small-number rule (HES Analysis Guide,
"Protecting patient confidentiality"): counts from 1 to 7 are suppressed, and
all other counts are rounded to the nearest 5, so that no cell can be
differenced back to a handful of patients. With ``--disclosure hes`` every
count carepath exports from spell data (spells per age band, admissions by
hour, discharges by destination) follows that rule, and statistics computed
from a suppressed group (a mean stay of three patients) are withheld too.
"""

from __future__ import annotations

import math

import numpy as np

RULES = ("none", "hes")
#: Counts in this range are suppressed under the HES rule.
SUPPRESS_UP_TO = 7


def hes_count(count: float) -> float:
    """One count under the HES rule: 0 stays 0, 1-7 become NaN (suppressed), others round to 5."""
    if count is None or (isinstance(count, float) and math.isnan(count)):
        return math.nan
    if count == 0:
        return 0.0
    if count <= SUPPRESS_UP_TO:
        return math.nan
    return float(5 * math.floor(count / 5 + 0.5))


def apply(counts, rule: str = "none"):
    """A count or an array of counts under ``rule`` (``none`` leaves them as they are)."""
    if rule not in RULES:
        raise ValueError(f"unknown disclosure rule {rule!r} (expected one of {', '.join(RULES)})")
    if rule == "none":
        return counts
    if np.ndim(counts) == 0:
        return hes_count(float(counts))
    return np.vectorize(hes_count, otypes=[float])(np.asarray(counts, dtype=float))


def releasable(count: float, rule: str = "none") -> bool:
    """Whether statistics computed from ``count`` patients may be shown under ``rule``."""
    return rule == "none" or count == 0 or count > SUPPRESS_UP_TO


def shown(count: float, rule: str = "none") -> str:
    """A count as text for a report: '*' where suppressed."""
    value = apply(count, rule)
    return "*" if isinstance(value, float) and math.isnan(value) else f"{int(value):,}"


__all__ = ["RULES", "apply", "hes_count", "releasable", "shown"]
