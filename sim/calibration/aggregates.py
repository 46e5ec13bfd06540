"""Lengths of stay from published aggregates: a mean and a median by age band.

Often all a modeller has is a published table, such as NHS Digital's HES ad-hoc
10641: ordinary episodes, mean and median length of stay, by provider and
10-year age band. Two numbers fix a log-normal exactly: the median is
``exp(mu)`` and the mean ``exp(mu + sigma^2 / 2)``, so ``sigma^2 = 2 ln(mean /
median)``. That is the fit carepath makes, with two stated adjustments:

- HES medians are whole days (midnights), so a median of 0 means most stays end
  on the day of admission. The continuous median is then taken as **half a
  day** (an assumption written into the fragment).
- When the mean does not exceed the median (which a log-normal cannot have),
  the stay is taken as exponential with the published mean, and said so.

A pathway's age bands rarely match the table's (``65-74`` straddles ``60-69``
and ``70-79``). Each pathway band is then the mixture of the table's bands it
overlaps, weighted by episodes and by the share of years overlapping, and
that mixture's mean and median give the band's log-normal. Suppressed cells
(``*``: 1-7 episodes) are left out and reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.calibration.spells import age_band_edges, read_table
from sim.errors import InputError

#: The continuous median used for a published median of 0 days.
ZERO_MEDIAN_DAYS = 0.5


@dataclass
class BandStay:
    """One age band's stay: the log-normal (or exponential) matching its mean and median."""

    band: str
    episodes: float
    mean: float
    median: float
    family: str  # "lognormal" or "exponential"
    sd: float
    notes: list[str] = field(default_factory=list)

    def spec(self) -> dict:
        if self.family == "exponential":
            return {"exponential": {"mean": f"{self.mean:.4g} days"}}
        return {"lognormal": {"mean": f"{self.mean:.4g} days", "sd": f"{self.sd:.4g} days"}}

    def frozen(self):
        if self.family == "exponential":
            return stats.expon(scale=self.mean)
        sigma = math.sqrt(2 * math.log(self.mean / self.median))
        return stats.lognorm(s=sigma, scale=self.median)


def lognormal_from_mean_median(mean: float, median: float, band: str = "", episodes: float = math.nan) -> BandStay:
    """The log-normal with this mean and median; see the module notes for the edge cases."""
    notes = []
    if not (mean > 0):
        raise ValueError(f"{band}: a mean stay must be positive, got {mean}")
    if median <= 0:
        notes.append(f"published median {median:g} days taken as {ZERO_MEDIAN_DAYS} days (stays counted in midnights)")
        median = ZERO_MEDIAN_DAYS
    if mean <= median:
        notes.append(f"mean {mean:.3g} <= median {median:.3g}: no log-normal has that, exponential with the mean used")
        return BandStay(band, episodes, mean, median, "exponential", mean, notes)
    sigma2 = 2 * math.log(mean / median)
    sd = mean * math.sqrt(math.expm1(sigma2))
    return BandStay(band, episodes, mean, median, "lognormal", sd, notes)


def _table_band(label: str) -> tuple[float, float] | None:
    text = label.strip()
    try:
        if text.endswith("+"):
            return float(text[:-1]), 120.0
        low, high = text.split("-")
        return float(low), float(high) + 1
    except ValueError:
        return None


def _mixture_cdf(x: float, weights: np.ndarray, frozen: list, level: float) -> float:
    return float(sum(w * f.cdf(x) for w, f in zip(weights, frozen, strict=True))) - level


@dataclass
class AggregateFit:
    """Stays by pathway age band from a published table, with where they came from."""

    provider: str
    bands: list[BandStay]
    source: dict[str, object]
    table: pd.DataFrame  # the published rows used (aggregates)
    suppressed: list[str]


def read_los_table(path: str | Path, provider: str) -> tuple[pd.DataFrame, dict[str, object]]:
    """The rows of a HES-style LOS table for one provider (code or code prefix)."""
    frame, shown, digest = read_table(path)
    required = ("provider_code", "age_band", "episodes", "mean_los", "median_los")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"missing required column(s): {', '.join(missing)}", file=shown, line=1)
    codes = frame["provider_code"].str.strip()
    rows = frame[(codes == provider) | codes.str.startswith(provider + "-")]
    if rows.empty:
        known = sorted({c.split("-")[0] for c in codes if c[:1] == "R"})[:20]
        raise InputError(f"provider {provider!r} is not in the table (acute trusts include: {', '.join(known)} ...)", file=shown)
    source = {"file": Path(path).name, "sha256": digest, "provider": provider, "rows": len(rows)}
    return rows.reset_index(drop=True), source


def fit_from_aggregates(path: str | Path, provider: str, bands: list[str]) -> AggregateFit:
    """Log-normal stays for each of ``bands`` from a published mean/median table."""
    rows, source = read_los_table(path, provider)
    usable = []
    suppressed = []
    for row in rows.itertuples():
        span = _table_band(str(row.age_band))
        if span is None:
            continue
        values = [pd.to_numeric(v, errors="coerce") for v in (row.episodes, row.mean_los, row.median_los)]
        if any(pd.isna(v) for v in values):
            suppressed.append(str(row.age_band))
            continue
        episodes, mean, median = (float(v) for v in values)
        usable.append((span, episodes, lognormal_from_mean_median(mean, median, str(row.age_band), episodes)))
    if not usable:
        raise InputError(f"no usable (unsuppressed) rows for provider {provider!r}", file=str(path))
    out = []
    for name, low, high in age_band_edges(bands):
        high = min(high, 120.0)
        parts = []
        for (a, b), episodes, stay in usable:
            overlap = max(0.0, min(b, high) - max(a, low))
            if overlap > 0:
                parts.append((episodes * overlap / (b - a), stay))
        if not parts:
            raise InputError(f"age band {name}: no row of the table covers it")
        weights = np.array([w for w, _ in parts])
        weights = weights / weights.sum()
        episodes = float(sum(w for w, _ in parts))
        if len(parts) == 1:
            band = parts[0][1]
            out.append(BandStay(name, episodes, band.mean, band.median, band.family, band.sd, list(band.notes)))
            continue
        frozen = [stay.frozen() for _, stay in parts]
        mean = float(sum(w * f.mean() for w, f in zip(weights, frozen, strict=True)))
        median = float(optimize.brentq(_mixture_cdf, 1e-6, 1e4, args=(weights, frozen, 0.5)))
        stay = lognormal_from_mean_median(mean, median, name, episodes)
        stay.notes.insert(0, "mixture of " + ", ".join(f"{s.band} ({w:.0%})" for w, (_, s) in zip(weights, parts, strict=True)))
        out.append(stay)
    table = rows[["age_band", "episodes", "mean_los", "median_los"]].copy()
    return AggregateFit(provider, out, source, table, suppressed)


__all__ = ["AggregateFit", "BandStay", "fit_from_aggregates", "lognormal_from_mean_median"]
