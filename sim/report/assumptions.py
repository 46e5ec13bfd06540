"""The assumptions section: what a reviewer needs to audit the numbers on the page.

Everything here is read from the results folder: the run settings from the
manifest (horizon, warm-up, replications, seed, package versions), the source
or assumption of every number in the pathway from its comments (the copy in
``inputs/pathway.yaml``, read with :func:`sim.document.provenance`), and the
items of the STRESS-DES reporting checklist for discrete-event simulation
(Monks et al. 2019, *Strengthening the reporting of empirical simulation
studies*, Journal of Simulation 13(1)) that a sweep's results can answer,
each with where on the page or in the folder the answer is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

HOURS_PER_DAY = 24.0


@dataclass
class Assumptions:
    """Tables for the page: settings, provenance, checklist, and a one-line count."""

    settings: pd.DataFrame  # item, value
    provenance: pd.DataFrame  # line, key, value, marked, note, varied
    provenance_counts: str
    checklist: pd.DataFrame  # item, topic, how this report answers it
    versions: pd.DataFrame  # package, version


def _days(hours: Any) -> str:
    try:
        return f"{float(hours) / HOURS_PER_DAY:,.0f} days"
    except (TypeError, ValueError):
        return "not recorded"


def run_settings(manifest: dict[str, Any], scenarios: list, partial: bool) -> pd.DataFrame:
    """The settings every number on the page depends on."""
    targets = [s.replications for s in scenarios]
    done = [len(s.done) for s in scenarios]
    reps = f"{min(targets)}" if min(targets) == max(targets) else f"{min(targets)} to {max(targets)} (more where needed for precision)"
    finished = f"{sum(done)} of {sum(targets)} runs finished" + (" (partial)" if partial else "")
    rows = [
        ("experiment", f"{manifest.get('experiment', '')}: {manifest.get('description') or 'no description'}"),
        ("pathway", f"{manifest.get('pathway_name', '')} ({manifest.get('pathway_file', '')}, file hash {manifest.get('pathway_hash', '?')})"),
        ("design", f"{manifest.get('design', 'not recorded')}, {len(scenarios)} scenarios including the baseline"),
        ("run length (horizon)", _days(manifest.get("horizon_hours"))),
        ("warm-up (not counted)", _days(manifest.get("warm_up_hours"))),
        ("replications per scenario", reps),
        ("runs", finished),
        (
            "random numbers",
            f"root seed {manifest.get('seed', 'not recorded')}; replication k of every scenario draws the same patients "
            "(common random numbers), so differences against the baseline are paired by replication",
        ),
        ("outcome compared", str(manifest.get("outcome", "acute_admissions")).replace("_", " ")),
        ("status", f"{manifest.get('status', 'unknown')} (created {manifest.get('created', '?')}, updated {manifest.get('updated', '?')})"),
        (
            "intervals",
            "95% Student-t intervals over replications; paired differences for admissions avoided and costs; "
            "a paired percentile bootstrap for cost per admission avoided",
        ),
    ]
    return pd.DataFrame(rows, columns=["setting", "value"])


def provenance_table(document: Any, varied: set[str]) -> tuple[pd.DataFrame, str]:
    """Every number of the pathway with its source or assumption, and a one-line count."""
    columns = ["line", "key", "value", "marked", "note"]
    if document is None:
        return pd.DataFrame(columns=columns), "The pathway copy is missing: sources and assumptions cannot be listed."
    from sim.document import provenance

    records = provenance(document)
    rows = []
    for record in records:
        mark = record.kind or "UNMARKED"
        if record.key in varied:
            mark += " (varied by the sweep)"
        rows.append((record.line, record.key, record.value, mark, record.note))
    frame = pd.DataFrame(rows, columns=columns)
    sourced = sum(1 for r in records if r.kind == "source")
    assumed = sum(1 for r in records if r.kind == "assumption")
    unmarked = sum(1 for r in records if r.kind is None)
    summary = f"{len(records)} numbers in the pathway: {sourced} sourced, {assumed} assumed, {unmarked} unmarked."
    return frame, summary


def stress_des(manifest: dict[str, Any], pathway: Any, services: dict, has_baseline: bool, design: str) -> pd.DataFrame:
    """STRESS-DES items this report can answer, with the answer or where to find it."""
    horizon = _days(manifest.get("horizon_hours"))
    warm_up = _days(manifest.get("warm_up_hours"))
    versions = manifest.get("versions") or {}
    steps = len(pathway.steps) if pathway is not None else "?"
    streams = ", ".join(pathway.demand) if pathway is not None else "see inputs/pathway.yaml"
    exits = ", ".join(pathway.exits) if pathway is not None else "see inputs/pathway.yaml"
    resources = ", ".join(f"{s.label} ({s.kind})" for s in services.values()) or "see inputs/pathway.yaml"
    initial = "a stated census (initial_state)" if pathway is not None and pathway.initial_state is not None else "empty"
    rows = [
        ("1.1", "Purpose of the model", manifest.get("description") or "Compare configurations of local care services against a baseline."),
        ("1.2", "Model outputs", "Acute admissions and admissions avoided a year, bed days, extra community cost, cost per admission avoided, response within target, utilisation and occupancy (see the metric glossary)."),
        ("1.3", "Experimentation aims", f"Design {design}; factors and levels in the scenario tables and charts; " + ("every scenario compared with the baseline." if has_baseline else "no baseline, so no comparison.")),
        ("2.1", "Base model overview diagram", "The animation of the pathway (when present) and the step list of inputs/pathway.yaml."),
        ("2.2", "Base model logic", f"{steps} steps; each uses a service for a drawn duration and routes onward by stated probabilities or rules (inputs/pathway.yaml)."),
        ("2.3", "Scenario logic", "Each scenario is the pathway with the factor values set, validated again; the baseline's changes are listed in the manifest."),
        ("2.4", "Algorithms", "Durations drawn by inversion from named distributions; routes from pre-drawn uniforms; Student-t intervals; paired bootstrap for ratios."),
        ("2.5", "Components: entities, activities, resources, queues, entry and exit", f"Entities: patients of the demand streams {streams}. Resources: {resources}. Queues: as each service's when_full, when_closed and at_shift_end state. Exits: {exits}."),
        ("3.1", "Data sources", "Each sourced number with its source, in the provenance table below."),
        ("3.2", "Pre-processing", "Derived figures are explained in each number's source comment."),
        ("3.3", "Input parameters", "The provenance table below: every number with its line, source or assumption."),
        ("3.4", "Assumptions", "Every number marked 'assumption' in the provenance table, with its reason."),
        ("4.1", "Initialisation", f"The system starts {initial}; a warm-up of {warm_up} is run and not counted."),
        ("4.2", "Run length", f"{horizon} per replication, including the warm-up."),
        ("4.3", "Estimation approach", "Independent replications per scenario (counts above); 95% confidence intervals; precision targets where the experiment set one."),
        ("5.1", "Software or programming language", f"carepath {versions.get('carepath', '?')} on Python {versions.get('python', '?')} with SimPy {versions.get('simpy', '?')}, NumPy {versions.get('numpy', '?')}, pandas {versions.get('pandas', '?')}."),
        ("5.2", "Random sampling", f"Named NumPy streams from the root seed {manifest.get('seed', '?')} (SeedSequence keyed by replication, chunk and stream name); common random numbers across scenarios."),
        ("5.3", "Model execution", "SimPy's event queue with callbacks; runs in parallel (joblib or Dask), results independent of worker count and order."),
        ("5.4", "System specification", "Not recorded in the results; results do not depend on it (same seed, same numbers)."),
        ("6.1", "Computer model sharing statement", "carepath is MIT-licensed; this folder keeps copies of the experiment and pathway files (inputs/) and every run's tables."),
    ]
    return pd.DataFrame(rows, columns=["item", "topic", "this report"])


def build_assumptions(results: Any) -> Assumptions:
    """Gather the section from a :class:`sim.report.results.SweepResults`."""
    manifest = results.manifest
    varied = set(results.factor_labels)
    for scenario in results.scenarios:
        varied.update(scenario.values)
    provenance, counts = provenance_table(results.pathway_document, varied)
    versions = manifest.get("versions") or {}
    return Assumptions(
        settings=run_settings(manifest, results.scenarios, results.partial),
        provenance=provenance,
        provenance_counts=counts,
        checklist=stress_des(manifest, results.pathway, results.services, results.has_baseline, str(manifest.get("design", "?"))),
        versions=pd.DataFrame(sorted(versions.items()), columns=["package", "version"]),
    )


__all__ = ["Assumptions", "build_assumptions"]
