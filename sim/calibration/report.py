"""Fit reports: one self-contained HTML page each, charts embedded as base64 PNG.

Written for the researcher who has to say whether to trust a calibration: for
inputs, the fitted arrival profiles with their intervals, every candidate
length-of-stay family with its AIC and goodness of fit, and Q-Q plots of the
chosen fits; for outputs, the priors against the posteriors, observed series
against simulated bands, the held-out months' errors and the forecast. The page
renders offline (no scripts, no external files). Everything on it is
aggregate: percentiles, counts (under the disclosure rule), fitted values.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from sim.charts.style import GREY, PALETTE, RC, figure

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{padding:.25em .6em;border-bottom:1px solid #eee;text-align:right}
th{background:#f6f6f6}td:first-child,th:first-child{text-align:left}img{max-width:100%}
.note{color:#555;font-size:.9em}
"""


def png(fig) -> str:
    """A matplotlib figure as an inline <img> (base64 PNG)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    with plt.rc_context(RC):
        fig.savefig(buffer, format="png", dpi=110)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{encoded}">'


def table_html(frame: pd.DataFrame, digits: int = 3) -> str:
    def cell(value) -> str:
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, sections: list[str]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p class='note'>Written by carepath on {stamp}. Aggregates only: no patient-level rows.</p>"
        + "\n".join(sections)
        + "</body></html>"
    )


# ---------------------------------------------------------------------------
# inputs


def inputs_report(fitter, spells_report_lines: list[str], fragment_text: str) -> str:
    """The HTML fit report for ``carepath calibrate inputs``."""
    from sim.calibration.los import QQ_PERCENTILES, StayData, model_quantiles

    sections = []
    p = fitter.provenance_
    sections.append(
        "<h2>Data</h2>"
        + table_html(pd.DataFrame([{k: v for k, v in p.items() if k != "methods"} | {"methods": ", ".join(p["methods"])}]))
        + "<pre class='note'>" + html.escape("\n".join(spells_report_lines[:1] + [line for line in spells_report_lines[1:] if line.startswith("  ")])) + "</pre>"
    )
    a = fitter.arrivals_
    fig, axes = figure(11, 3.2, ncols=len(a.weights))
    axes = np.atleast_1d(axes)
    for ax, (margin, weights) in zip(axes, a.weights.items(), strict=True):
        x = np.arange(len(weights))
        ax.bar(x, weights, color=PALETTE[1])
        ax.errorbar(x, weights, yerr=[weights - a.lower[margin], a.upper[margin] - weights], fmt="none", color=GREY, lw=1)
        ax.axhline(1, color=GREY, lw=0.8)
        ax.set_title(f"{margin} profile")
    sections.append(
        f"<h2>Emergency admissions</h2><p>{a.rate_per_day:.4g} per day (95% CI {a.rate_ci[0]:.4g} to {a.rate_ci[1]:.4g}) over {a.days:.0f} days; "
        "weights with mean 1 and approximate 95% intervals.</p>" + png(fig)
    )
    sections.append("<h2>Length of stay by age band</h2><p>Every candidate family by maximum likelihood (open spells censored); lowest AIC first. "
                    "KS D is the largest gap between the Kaplan-Meier and fitted survival curves.</p>" + table_html(fitter.stays_table()))
    if fitter.stays_:
        bands = list(fitter.stays_)
        fig, axes = figure(3.2 * len(bands), 3.2, ncols=len(bands))
        axes = np.atleast_1d(axes)
        for ax, band in zip(axes, bands, strict=True):
            fit = fitter.stays_[band]
            observed = fit.km_quantiles
            data = StayData(np.array([0.0]), np.array([False]), np.array([1.0]), fit.midnights)
            fitted = model_quantiles(fit.best, data, QQ_PERCENTILES)
            ax.plot(fitted, observed, "o", ms=3, color=PALETTE[4])
            top = np.nanmax([np.nanmax(fitted[:95]), np.nanmax(observed[:95]) if np.isfinite(observed[:95]).any() else 1])
            ax.plot([0, top], [0, top], color=GREY, lw=0.8)
            ax.set_xlim(0, top * 1.05)
            ax.set_ylim(0, top * 1.05)
            ax.set_title(f"{band}: {fit.best.family}")
            ax.set_xlabel("fitted percentile (days)")
            ax.set_ylabel("observed (Kaplan-Meier)")
        sections.append("<h3>Q-Q plots of the chosen fits (percentiles 1-99)</h3>" + png(fig))
    sections.append("<h2>Discharge destinations</h2>" + table_html(fitter.destinations_table()))
    if fitter.delays_:
        rows = [{"pathway": k, "family": f.best.family, "n": fitter.count(f.n), "mean_days": f.best.mean, "lower95": f.best.mean_ci[0], "upper95": f.best.mean_ci[1]} for k, f in fitter.delays_.items()]
        sections.append("<h2>Discharge-ready to discharge</h2>" + table_html(pd.DataFrame(rows)))
    sections.append("<h2>Pathway fragment</h2><pre>" + html.escape(fragment_text) + "</pre>")
    return page("carepath: inputs fitted from spells", sections)


# ---------------------------------------------------------------------------
# outputs


def _series_chart(problem, table: pd.DataFrame, fitted: pd.DataFrame | None, title: str) -> str:
    names = list(problem.observed)
    fig, axes = figure(11, 2.8 * len(names), nrows=len(names))
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, names, strict=True):
        observed = problem.observed[name].dropna()
        ax.plot(observed.index.to_timestamp(), observed.to_numpy(), "o-", ms=3, color="black", lw=1, label="observed")
        for frame, colour, label in ((fitted, PALETTE[1], "simulated (fit)"), (table, PALETTE[0], "predicted")):
            if frame is None:
                continue
            g = frame[frame["metric"] == name]
            x = pd.PeriodIndex(g["month"], freq="M").to_timestamp()
            ax.fill_between(x, g["lower95"], g["upper95"], color=colour, alpha=0.25, lw=0)
            ax.fill_between(x, g["lower80"], g["upper80"], color=colour, alpha=0.35, lw=0)
            ax.plot(x, g["median"], color=colour, lw=1.5, label=label)
        ax.set_title(problem_label(problem, name))
        ax.legend(loc="upper left", fontsize=8)
    return f"<h3>{html.escape(title)}</h3>" + png(fig)


def problem_label(problem, name: str) -> str:
    return name.replace("_", " ")


def _posterior_chart(posterior, problem) -> str:
    names = list(posterior.particles.columns)
    fig, axes = figure(3.0 * len(names), 2.8, ncols=len(names))
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, names, strict=True):
        _family, low, high = posterior.priors[name]
        ax.hist(posterior.particles[name], weights=posterior.weights, bins=20, range=(low, high), density=True, color=PALETTE[2], alpha=0.8)
        ax.axhline(1 / (high - low), color=GREY, lw=1, ls="--")
        truth = problem.unknowns[name].truth
        if truth is not None:
            ax.axvline(truth, color=PALETTE[5], lw=1.5)
        ax.set_title(name, fontsize=9)
    return png(fig)


def outputs_report(problem, results: dict) -> str:
    """The HTML report for ``carepath calibrate outputs``."""
    sections = []
    sources = pd.DataFrame([{"series": k} | {kk: vv for kk, vv in v.items() if kk != "sha256"} | {"sha256": str(v["sha256"])[:12]} for k, v in problem.sources.items()])
    sections.append("<h2>Data</h2>" + table_html(sources) + "<p class='note'>Zero and unreported days are missing, never zero; a month with under half its days reported is missing.</p>")
    for key, title in (("fit", "Fit before the held-out months"), ("refit", "Refit on the latest months (for the forecast)")):
        if key not in results:
            continue
        posterior = results[key]["posterior"]
        sections.append(
            f"<h2>{title}: {posterior.first} to {posterior.last}</h2>"
            f"<p>ABC-SMC: {posterior.evaluations:,} simulations, {len(posterior.generations)} generations; effective sample size {results[key]['ess']:.0f}.</p>"
            + table_html(posterior.intervals(problem))
            + "<p class='note'>Posterior (bars) against the prior (dashed line)"
            + ("; red line: the value the data were simulated with" if any(u.truth is not None for u in problem.unknowns.values()) else "")
            + ".</p>" + _posterior_chart(posterior, problem)
            + table_html(posterior.generations)
        )
    if "holdout" in results:
        h = results["holdout"]
        sections.append(
            "<h2>Held-out months</h2><p>Forecast from the first fit alone (admissions projected, not observed), compared with what happened.</p>"
            + table_html(h["errors"])
            + _series_chart(problem, h["table"], h["fitted"], "Observed against simulated (80% and 95% bands)")
        )
    if "forecast" in results:
        f = results["forecast"]
        discrepancy = pd.DataFrame([{"series": k, "ar1": v[0], "innovation_sd_log": v[1], "last_residual_log": v[2]} for k, v in f["discrepancy"].items()])
        sections.append(
            "<h2>Forecast</h2><p>Monthly means with 80% and 95% prediction intervals (posterior predictive, with the discrepancy below).</p>"
            + _series_chart(problem, f["table"], f["fitted"], "Forecast")
            + table_html(discrepancy)
            + table_html(f["table"].drop(columns=["observed"]))
        )
    return page(f"carepath calibration: {problem.name} ({problem.org_code})", sections)


def combined_report(studies: dict[str, dict], errors: pd.DataFrame, summary: dict) -> str:
    """The index page of several calibrations: held-out errors side by side, links to each trust's report."""
    rows = []
    for org_code, result in studies.items():
        problem, settings = result["problem"], result["summary"]["settings"]
        link = f"<a href='{html.escape(problem.name)}/report.html'>{html.escape(problem.name)}/report.html</a>"
        rows.append(
            f"<tr><td>{html.escape(org_code)}</td><td>{link}</td><td>{result['summary']['seconds']:.0f}</td>"
            f"<td>{result['summary']['simulations']:,}</td><td>{settings['population']}</td><td>{settings['generations']}</td>"
            f"<td>{settings['predictive_draws']}</td></tr>"
        )
    runs = (
        "<table><thead><tr><th>org_code</th><th>report</th><th>seconds</th><th>simulations</th>"
        "<th>ABC population</th><th>generations</th><th>predictive draws</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
    sections = [
        f"<h2>Runs</h2><p>{len(studies)} calibrations in {summary['seconds']:.0f} s, {summary['simulations']:,} simulations"
        + (f", {summary['jobs']} workers" if summary.get("jobs") else "") + ".</p>" + runs
    ]
    if not errors.empty:
        sections.append(
            "<h2>Held-out months</h2><p>Each trust's forecast of its held-out months from its first fit alone (admissions projected, not observed): "
            "MAPE, MAE and bias of the median; the share of months inside the 80% and 95% intervals. Missing months are left out, never counted as zero.</p>"
            + table_html(errors)
        )
    forecasts = pd.concat([r["forecast"]["table"] for r in studies.values()], ignore_index=True)
    first, last = forecasts["month"].min(), forecasts["month"].max()
    ends = forecasts[forecasts["month"].isin([first, last])].drop(columns=["observed"], errors="ignore")
    sections.append(f"<h2>Forecast</h2><p>First and last forecast month ({first}, {last}); every month is in forecast.csv.</p>" + table_html(ends))
    return page("carepath calibration: " + ", ".join(studies), sections)


__all__ = ["combined_report", "inputs_report", "outputs_report", "page", "png", "table_html"]
