"""Fitting a pathway's inputs from spells: ``carepath calibrate inputs``.

Follows scikit-learn's estimator contract (STYLE.md section 7): the
constructor stores its settings unchanged, :meth:`InputFitter.fit` takes the
spells and returns ``self``, and everything learned ends in an underscore
(``arrivals_``, ``stays_``, ``destinations_``, ``delays_``). Patient rows stay
inside ``fit``; what is kept is aggregates (counts, fitted parameters,
percentiles), made safe to export with :mod:`~sim.calibration.disclosure`.

What is fitted, and from which spells:

- **arrivals**: emergency admissions' rate and hour/weekday/month profile
  (:mod:`~sim.calibration.arrivals`);
- **stays** by age band: emergency spells (open ones censored), every
  candidate family, best by AIC (:mod:`~sim.calibration.los`);
- **destinations**: shares of closed emergency spells by where patients went,
  with Wilson 95% intervals, overall and by age band;
- **delays** from discharge-ready to discharge, by discharge pathway, when the
  spells carry a ``ready`` date (a stay-like fit, censored where still waiting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibration import disclosure
from sim.calibration.arrivals import ArrivalProfile, fit_arrival_profile
from sim.calibration.codes import DESTINATION_PATHWAY
from sim.calibration.los import StayFit, fit_stays
from sim.calibration.spells import Spells, assign_age_bands
from sim.errors import InputError

DEFAULT_AGE_BANDS = ("0-64", "65-74", "75-84", "85+")
#: Fewer spells than this in a group and no distribution is fitted to it.
MIN_SPELLS_TO_FIT = 20


def wilson(successes: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class DestinationShares:
    """Where closed spells went: counts and shares (overall, and by age band)."""

    table: pd.DataFrame  # age_band ('all' or a band), destination, spells, share, lower, upper


class InputFitter:
    """Fit arrivals, stays, destinations and delays from spells.

    Parameters
    ----------
    age_bands:
        The pathway's age bands (``["0-64", "65-74", "75-84", "85+"]``).
    methods:
        Admission methods whose spells are fitted (emergency by default: carepath's
        acute flow is emergency admissions).
    families:
        Candidate length-of-stay families.
    disclosure_rule:
        ``"none"`` or ``"hes"`` (counts 1-7 suppressed, others rounded to 5).
    """

    def __init__(
        self,
        age_bands: tuple[str, ...] = DEFAULT_AGE_BANDS,
        methods: tuple[str, ...] = ("emergency",),
        families: tuple[str, ...] = ("exponential", "lognormal", "gamma", "weibull"),
        disclosure_rule: str = "none",
    ) -> None:
        self.age_bands = age_bands
        self.methods = methods
        self.families = families
        self.disclosure_rule = disclosure_rule

    def fit(self, spells: Spells) -> InputFitter:
        """Fit everything from ``spells``; returns self."""
        if self.disclosure_rule not in disclosure.RULES:
            raise InputError(f"--disclosure: expected one of {', '.join(disclosure.RULES)}, got {self.disclosure_rule!r}")
        frame = spells.frame
        chosen = frame[frame["method"].isin(self.methods)]
        if chosen.empty:
            found = ", ".join(f"{k} ({v:,})" for k, v in frame["method"].value_counts().items() if v)
            raise InputError(f"no spells with admission method {', '.join(self.methods)} (found: {found})", file=spells.file)
        bands = assign_age_bands(chosen["age"], list(self.age_bands))
        self.provenance_ = spells.provenance() | {"methods": list(self.methods), "spells_fitted": len(chosen)}
        self.date_only_ = spells.date_only
        self.arrivals_: ArrivalProfile = fit_arrival_profile(
            chosen["admitted"], spells.data_start.normalize(), spells.data_end, with_hours=not spells.date_only
        )
        self.stays_: dict[str, StayFit] = {}
        self.skipped_: dict[str, int] = {}
        for band in self.age_bands:
            rows = chosen[bands == band]
            if len(rows) < MIN_SPELLS_TO_FIT or not disclosure.releasable(len(rows), self.disclosure_rule):
                self.skipped_[band] = len(rows)
                continue
            self.stays_[band] = fit_stays(
                rows["los_days"].to_numpy(), rows["open"].to_numpy(), spells.date_only, band, self.families
            )
        self.destinations_ = self._destinations(chosen, bands)
        self.delays_: dict[str, StayFit] = self._delays(chosen, spells)
        return self

    def _destinations(self, chosen: pd.DataFrame, bands: pd.Series) -> DestinationShares:
        closed = ~chosen["open"]
        rows = []
        groups = [("all", closed)] + [(band, closed & (bands == band)) for band in self.age_bands]
        for band, mask in groups:
            counts = chosen.loc[mask, "destination"].value_counts()
            n = int(counts.sum())
            for destination, count in counts.items():
                if destination == "unknown" and count == 0:
                    continue
                low, high = wilson(count, n)
                rows.append((band, str(destination), int(count), count / n if n else math.nan, low, high))
        table = pd.DataFrame(rows, columns=["age_band", "destination", "spells", "share", "lower", "upper"])
        return DestinationShares(table)

    def _delays(self, chosen: pd.DataFrame, spells: Spells) -> dict[str, StayFit]:
        has_ready = chosen["ready"].notna()
        if not has_ready.any():
            return {}
        rows = chosen[has_ready]
        stop = rows["discharged"].where(~rows["open"], spells.data_end)
        delay = (stop - rows["ready"]).dt.total_seconds() / 86400.0
        if spells.date_only:
            delay = delay.round()
        out = {}
        pathway = rows["destination"].astype(str).map(DESTINATION_PATHWAY)
        for key in ("P0", "P2", "P3"):
            mask = (pathway == key).to_numpy()
            if mask.sum() >= MIN_SPELLS_TO_FIT and disclosure.releasable(mask.sum(), self.disclosure_rule):
                out[key] = fit_stays(
                    np.maximum(delay.to_numpy()[mask], 0.0), rows["open"].to_numpy()[mask], spells.date_only, key, self.families
                )
        return out

    # -- exported aggregates (disclosure applied) ---------------------------------------------
    def count(self, value: float) -> float:
        """A count as it may be exported under the disclosure rule."""
        return disclosure.apply(value, self.disclosure_rule)

    def stays_table(self) -> pd.DataFrame:
        """One row per band and family: n, open, mean and its CI, sd, AIC, KS statistic and p-value."""
        rows = []
        for band, fit in self.stays_.items():
            for rank, family in enumerate(fit.fits):
                rows.append(
                    {
                        "age_band": band,
                        "family": family.family,
                        "chosen": rank == 0,
                        "spells": self.count(fit.n),
                        "open_spells": self.count(fit.n_open),
                        "mean_days": family.mean,
                        "mean_lower95": family.mean_ci[0],
                        "mean_upper95": family.mean_ci[1],
                        "sd_days": family.sd,
                        "aic": family.aic,
                        "delta_aic": family.aic - fit.best.aic,
                        "ks_statistic": family.ks_statistic,
                        "ks_p_value": family.ks_p_value,
                    }
                )
        columns = ["age_band", "family", "chosen", "spells", "open_spells", "mean_days", "mean_lower95", "mean_upper95", "sd_days", "aic", "delta_aic", "ks_statistic", "ks_p_value"]
        return pd.DataFrame(rows, columns=columns)

    def destinations_table(self) -> pd.DataFrame:
        table = self.destinations_.table.copy()
        table["spells"] = self.count(table["spells"].to_numpy(dtype=float))
        return table

    def profile_table(self) -> pd.DataFrame:
        rows = []
        for margin, weights in self.arrivals_.weights.items():
            for level, weight in enumerate(weights):
                rows.append(
                    {
                        "margin": margin,
                        "level": level,
                        "weight": weight,
                        "lower95": self.arrivals_.lower[margin][level],
                        "upper95": self.arrivals_.upper[margin][level],
                        "admissions": self.count(self.arrivals_.counts[margin][level]),
                    }
                )
        return pd.DataFrame(rows)


__all__ = ["DEFAULT_AGE_BANDS", "InputFitter", "wilson"]
