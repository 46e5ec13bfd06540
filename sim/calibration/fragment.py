"""A pathway fragment: fitted values in the pathway file's own shape, each with its source.

What ``carepath calibrate inputs`` (and ``aggregates``) write is YAML that
mirrors a pathway file (``demand.<stream>``, ``steps.<step>.duration``,
``steps.<step>.discharge``), so a modeller pastes it over the matching keys of
their pathway, or applies it with :func:`overrides` (the same dotted-path
overrides scenarios use). Every number carries a ``# source:`` comment naming the
file (and its SHA-256, so a reviewer can tell which extract), the date range and
how many spells it rests on, and the fit's own evidence (95% interval, family
chosen by AIC, goodness of fit), which ``carepath check --provenance`` then lists
like any other source. Nothing patient-level is written.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML

from sim.calibration.aggregates import AggregateFit
from sim.calibration.codes import DESTINATION_PATHWAY
from sim.calibration.inputs import InputFitter

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _flow(value: Any) -> str:
    """A small YAML flow-style emitter for specs like {lognormal: {mean: 2 days, sd: 3 days}}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _rule(band: str) -> str:
    return f'"age_band == {band}"'


def _count(fitter: InputFitter | None, value: float) -> str:
    if fitter is None:
        return f"{int(value):,}"
    exported = fitter.count(value)
    return "*" if exported != exported else f"{int(exported):,}"  # NaN: suppressed


def inputs_fragment(fitter: InputFitter, stream: str = "emergency", step: str = "admission") -> str:
    """The fragment for spells fitted by :class:`InputFitter`."""
    p = fitter.provenance_
    where = f"{p['file']} (sha256 {str(p['sha256'])[:12]}), {', '.join(p['methods'])} spells {p['from']} to {p['to']}"
    lines = [
        "# carepath pathway fragment: values fitted from spell data (aggregates only).",
        f"# Spells: {where}; {_count(fitter, p['spells_fitted'])} fitted, {_count(fitter, p['open_spells'])} open at the end (censored), {_count(fitter, p['rows_rejected'])} rows rejected.",
        "# Paste over the matching keys of a pathway file (stream and step names may need renaming).",
        "",
        "demand:",
        f"  {stream}:",
    ]
    a = fitter.arrivals_
    lines.append(
        f"    rate: {a.rate_per_day:.4g} per day   # source: {where}; {_count(fitter, a.n)} admissions over {a.days:.0f} days, 95% CI {a.rate_ci[0]:.4g}-{a.rate_ci[1]:.4g} per day"
    )
    lines.append(f"    profile:                        # source: {where}; Poisson log-linear fit (iterative proportional fitting), weights with mean 1")
    for margin in ("hour", "weekday", "month"):
        if margin in a.weights:
            lines.append(f"      {margin}: {_flow([round(float(w), 3) for w in a.weights[margin]])}")
    if "hour" not in a.weights:
        lines.append("      # hour: not fitted: the spells have dates without times")
    lines += ["", "steps:", f"  {step}:"]
    if fitter.stays_:
        lines.append(f"    duration:                       # source: {where}; stays by age band, maximum likelihood with open spells censored{', stays counted in midnights' if fitter.date_only_ else ''}; family by AIC")
        bands = list(fitter.stays_)
        for index, band in enumerate(bands):
            fit = fitter.stays_[band]
            best = fit.best
            runner = fit.fits[1] if len(fit.fits) > 1 else None
            evidence = (
                f"n {_count(fitter, fit.n)} ({_count(fitter, fit.n_open)} open); mean {best.mean:.3g} days, 95% CI {best.mean_ci[0]:.3g}-{best.mean_ci[1]:.3g};"
                f" {best.family} by AIC" + (f" ({runner.family} +{runner.aic - best.aic:.1f})" if runner else "")
                + f"; KS D {best.ks_statistic:.3f}"
            )
            if index < len(bands) - 1:
                lines.append(f"      - when: {_rule(band)}")
                lines.append(f"        use: {_flow(best.spec())}   # source: {evidence}")
            else:
                lines.append(f"      - otherwise: {_flow(best.spec())}   # source: {band}: {evidence}")
        if fitter.skipped_:
            lines.append(
                "      # not fitted (too few spells or suppressed): " + ", ".join(f"{b} ({_count(fitter, n)})" for b, n in fitter.skipped_.items())
            )
    table = fitter.destinations_.table
    overall = table[table["age_band"] == "all"].set_index("destination")
    shares = dict.fromkeys(("P0", "P1", "P2", "P3"), 0.0)
    for destination, pathway in DESTINATION_PATHWAY.items():
        if destination in overall.index:
            shares[pathway] += float(overall.loc[destination, "share"])
    total = sum(shares.values())
    if total > 0:
        lines.append("    discharge:")
        detail = ", ".join(
            f"{d} {r.share:.1%} ({_count(fitter, r.spells)})" for d, r in overall.iterrows() if r.spells > 0
        )
        split = {k: round(v / total, 4) for k, v in shares.items()}
        split["P0"] = round(1 - sum(v for k, v in split.items() if k != "P0"), 4)
        lines.append(
            f"      pathway: {_flow(split)}   # source: {where}; closed spells by destination: {detail}; shares of those discharged alive to a known place. P0 includes P1: an extract cannot tell whether new support was arranged"
        )
        if fitter.delays_:
            lines.append(f"      delay:                        # source: {where}; discharge-ready to discharge, by destination's pathway, censored where still waiting")
            for key, fit in fitter.delays_.items():
                best = fit.best
                lines.append(
                    f"        {key}: {_flow(best.spec())}   # source: n {_count(fitter, fit.n)}; mean {best.mean:.3g} days, 95% CI {best.mean_ci[0]:.3g}-{best.mean_ci[1]:.3g}; {best.family} by AIC"
                )
    return "\n".join(lines) + "\n"


def aggregates_fragment(fit: AggregateFit, step: str = "admission") -> str:
    """The fragment for stays fitted from a published mean/median table."""
    s = fit.source
    where = f"{s['file']} (sha256 {str(s['sha256'])[:12]}), provider {s['provider']}"
    lines = [
        "# carepath pathway fragment: lengths of stay from published mean and median by age band.",
        f"# Source: {where}. Each band is the log-normal with the published mean and median",
        "# (a band spanning several published bands: their mixture, weighted by episodes).",
        "",
        "steps:",
        f"  {step}:",
        f"    duration:                       # source: {where}; log-normal from mean and median by age band",
    ]
    for index, band in enumerate(fit.bands):
        note = f"episodes {band.episodes:,.0f}; mean {band.mean:.3g} days, median {band.median:.3g} days" + (
            "; " + "; ".join(band.notes) if band.notes else ""
        )
        if index < len(fit.bands) - 1:
            lines.append(f"      - when: {_rule(band.band)}")
            lines.append(f"        use: {_flow(band.spec())}   # source: {note}")
        else:
            lines.append(f"      - otherwise: {_flow(band.spec())}   # source: {band.band}: {note}")
    if fit.suppressed:
        lines.append(f"      # suppressed in the source (1-7 episodes) and left out: {', '.join(fit.suppressed)}")
    return "\n".join(lines) + "\n"


def overrides(fragment_text: str) -> dict[str, Any]:
    """Dotted-path overrides (as scenarios use) for every fitted block in a fragment.

    Parsed safely (ruamel's round-trip loader builds no Python objects from tags).
    """
    data = YAML(typ="rt").load(fragment_text) or {}
    out: dict[str, Any] = {}
    for stream, spec in (data.get("demand") or {}).items():
        for key, value in spec.items():
            out[f"demand.{stream}.{key}"] = value
    for step, spec in (data.get("steps") or {}).items():
        for key, value in spec.items():
            if key == "discharge":
                for part, inner in value.items():
                    out[f"steps.{step}.discharge.{part}"] = inner
            else:
                out[f"steps.{step}.{key}"] = value
    return out


__all__ = ["aggregates_fragment", "inputs_fragment", "overrides"]
