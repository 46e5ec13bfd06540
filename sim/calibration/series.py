"""Observed series: situation-report figures by day or month, with gaps kept as gaps.

A trust's daily discharge situation report is a count a person typed in. Days
it was not submitted appear either as absent rows or as zeros (Medway, RPA, has
about 180 such days), and a zero census of delayed patients at a hospital of
700 beds is a missing return, not a good day. carepath therefore treats:

- a day absent from the file as **missing** (the calendar is rebuilt, never
  assumed complete);
- a zero as **missing** wherever the series is a count that cannot plausibly be
  zero (``zero_is_missing``, on by default);
- a month as missing when fewer than half its days were reported, and otherwise
  as the mean of the days that were (``reported_days`` says how many).

Missing values are NaN all the way through: they never enter a distance, an
error figure or a chart as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.spells import read_table
from sim.errors import InputError

#: A month with fewer than this share of its days reported is missing.
MIN_REPORTED_SHARE = 0.5


@dataclass
class Series:
    """One observed series: values by period (NaN = missing) and how it was read."""

    name: str
    frequency: str  # "daily" or "monthly"
    values: pd.Series  # indexed by day (Timestamp) or month (Period)
    source: dict[str, object]

    @property
    def missing(self) -> int:
        return int(self.values.isna().sum())


def read_series(
    path: str | Path,
    value: str,
    *,
    date: str = "date",
    frequency: str = "daily",
    where: dict[str, str] | None = None,
    name: str | None = None,
    zero_is_missing: bool = True,
) -> Series:
    """Read one column of a CSV as a complete calendar of days or months (gaps as NaN).

    Raises
    ------
    InputError
        The file cannot be read, a named column is absent, no row matches ``where``,
        or dates do not parse.
    """
    frame, shown, digest = read_table(path)
    for column in [date, value, *(where or {})]:
        if column not in frame.columns:
            raise InputError(f"no column {column!r} (found: {', '.join(frame.columns)})", file=shown, line=1)
    for column, wanted in (where or {}).items():
        frame = frame[frame[column].str.strip() == str(wanted)]
    if frame.empty:
        raise InputError(f"no rows where {where}", file=shown)
    when = pd.to_datetime(frame[date].str.strip(), format="ISO8601", errors="coerce")
    if when.isna().any():
        line = int(np.flatnonzero(when.isna().to_numpy())[0])
        raise InputError(f"{date}: not a date: {frame[date].iloc[line]!r}", file=shown)
    numbers = pd.to_numeric(frame[value].str.strip().replace({"-": "", "*": ""}), errors="coerce")
    if zero_is_missing:
        numbers = numbers.mask(numbers == 0)
    if frequency == "daily":
        series = pd.Series(numbers.to_numpy(), index=pd.DatetimeIndex(when).normalize())
        series = series.groupby(level=0).mean()
        calendar = pd.date_range(series.index.min(), series.index.max(), freq="D")
    elif frequency == "monthly":
        series = pd.Series(numbers.to_numpy(), index=pd.PeriodIndex(when, freq="M"))
        series = series.groupby(level=0).mean()
        calendar = pd.period_range(series.index.min(), series.index.max(), freq="M")
    else:
        raise InputError(f"frequency: expected daily or monthly, got {frequency!r}")
    series = series.reindex(calendar)
    source = {
        "file": Path(path).name,
        "sha256": digest,
        "column": value,
        "where": dict(where or {}),
        "from": str(calendar[0]),
        "to": str(calendar[-1]),
        "missing": int(series.isna().sum()),
    }
    return Series(name or value, frequency, series, source)


def monthly_means(values: pd.Series, min_share: float = MIN_REPORTED_SHARE) -> pd.DataFrame:
    """Monthly means of a daily series over reported days; months under ``min_share`` are NaN."""
    if isinstance(values.index, pd.PeriodIndex):
        return pd.DataFrame({"value": values, "reported_days": np.nan})
    months = values.index.to_period("M")
    grouped = values.groupby(months)
    means = grouped.mean()
    reported = grouped.count()
    days = pd.Series(months.days_in_month, index=months).groupby(level=0).first()
    means = means.where(reported >= min_share * days.reindex(means.index))
    return pd.DataFrame({"value": means, "reported_days": reported})


__all__ = ["Series", "monthly_means", "read_series"]
