"""A sweep's results store, read back for the report, and checked on the way in.

The report is built from the results folder alone (``manifest.json``, the
Parquet runs, the copies of the experiment and pathway under ``inputs/``), never
by re-running anything. This module turns that folder into one
:class:`SweepResults`, or says in one line what is wrong with it:

- no folder, no manifest, a manifest that is not JSON or lacks its scenarios,
  a corrupt Parquet file, or a folder with no finished run at all are
  :class:`~sim.errors.InputError` (the command line exits with code 2 and writes
  nothing);
- a sweep still running, or killed, is *partial*: the report is built from the
  runs on disk and says so;
- a folder without a baseline (or whose baseline has no finished run yet) can
  still show admissions, costs, response times and occupancy, but not what was
  avoided; that is recorded in :attr:`SweepResults.notes`.

Runs are counted from the files on disk, not from the manifest, because a
killed sweep leaves a manifest that says "running" and a number of finished
runs that only the disk knows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sim.analysis import compare_scenarios
from sim.errors import InputError
from sim.store import ResultsStore

#: Measures that only exist against a baseline (paired differences and their ratio).
PAIRED = (
    "admissions_avoided_per_year",
    "bed_days_saved_per_year",
    "extra_cost_per_year",
    "net_cost_per_year",
    "cost_per_admission_avoided",
)


@dataclass(frozen=True)
class ScenarioRuns:
    """One scenario of the manifest and the replications of it found on disk."""

    name: str
    baseline: bool
    values: dict[str, Any]
    run: str
    replications: int  # what the sweep asked for
    done: tuple[int, ...]  # replications on disk, below the target


@dataclass(frozen=True)
class ServiceInfo:
    """What the report needs to know about a service of the pathway."""

    name: str
    kind: str
    label: str
    target: float | None = None  # occupancy or utilisation target, as a share
    response_target: float | None = None  # hours, for teams (from their steps)


@dataclass
class SweepResults:
    """Everything the report shows, read from one results folder."""

    folder: Path
    manifest: dict[str, Any]
    scenarios: list[ScenarioRuns]
    table: pd.DataFrame  # one row per scenario with runs (see sim.analysis.compare_scenarios)
    summary: pd.DataFrame  # scenario, replication, service, metric, value, unit
    factor_labels: dict[str, str]  # factor path -> label, in the experiment's order
    services: dict[str, ServiceInfo]
    has_baseline: bool
    partial: bool
    notes: list[str] = field(default_factory=list)  # what cannot be shown, and why
    sensitivity: pd.DataFrame | None = None
    pathway_document: Any = None  # sim.document.Document of inputs/pathway.yaml, when readable
    pathway: Any = None  # the validated Pathway of inputs/pathway.yaml, when readable

    # -- convenience ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.manifest.get("experiment", self.folder.name))

    @property
    def baseline(self) -> ScenarioRuns | None:
        return next((s for s in self.scenarios if s.baseline), None)

    @property
    def with_runs(self) -> list[ScenarioRuns]:
        return [s for s in self.scenarios if s.done]

    def scenario(self, name: str) -> ScenarioRuns:
        return next(s for s in self.scenarios if s.name == name)

    def capacity(self, scenario: str, service: str) -> float:
        """Mean stated capacity of a service in a scenario (beds, staff), from its runs."""
        rows = self.summary[
            (self.summary.scenario == scenario) & (self.summary.service == service) & (self.summary.metric == "capacity")
        ]
        return float(rows["value"].mean()) if len(rows) else math.nan

    def series(self, table: str, scenarios: list[str], services: list[str] | None = None, metrics: list[str] | None = None) -> pd.DataFrame:
        """A per-run table (``timeseries`` or ``distributions``) for a few scenarios.

        Only the files of those scenarios are opened, so the report stays fast
        however large the sweep; each scenario is cut to its own replications.
        """
        frames = []
        for name in scenarios:
            runs = self.scenario(name)
            paths = [self.folder / table / f"run={runs.run}" / f"rep={rep:05d}.parquet" for rep in runs.done]
            paths = [p for p in paths if p.exists()]
            if not paths:
                continue
            frame = _read_files(paths, _filter(services, metrics))
            frame["scenario"] = name
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# ---------------------------------------------------------------------------
# reading


def read_results(folder: str | Path) -> SweepResults:
    """Read and check a results folder; raise InputError naming what is missing or broken."""
    folder = Path(folder)
    _, manifest = ResultsStore.read(folder)
    manifest_path = folder / "manifest.json"
    scenarios = _scenarios(manifest, manifest_path, folder)
    if not (folder / "summary").is_dir():
        raise InputError(
            f"{folder} has a manifest but no summary/ folder: no run of the sweep has finished "
            "(run `carepath sweep` on its experiment, or wait for the first runs)"
        )
    if not any(s.done for s in scenarios):
        raise InputError(
            f"{folder}/summary has no finished run of any of the manifest's {len(scenarios)} scenario(s): "
            "nothing to report yet (run or resume `carepath sweep`)"
        )
    summary = _load_summary(folder, scenarios)
    notes: list[str] = []
    status = str(manifest.get("status", "unknown"))
    partial = status != "complete" or any(len(s.done) < s.replications for s in scenarios)
    baseline = next((s for s in scenarios if s.baseline), None)
    has_baseline = baseline is not None and bool(baseline.done)
    if baseline is None:
        notes.append(
            "This sweep has no baseline, so nothing can be compared with it: admissions avoided, bed days saved, "
            "extra cost, cost per admission avoided, the heatmap of admissions avoided and the cost frontier "
            "cannot be shown. Admissions, costs, response times and occupancy are shown as they are."
        )
    elif not baseline.done:
        notes.append(
            f"The baseline ({baseline.name}) has no finished run yet, so admissions avoided, extra cost and "
            "cost per admission avoided cannot be shown until it has; other measures are shown as they are."
        )
    labels = _factor_labels(folder, manifest)
    table = _scenario_table(folder, manifest, scenarios, summary, labels, has_baseline, partial)
    services = _services(folder, summary, notes)
    pathway, document = _pathway(folder)
    sensitivity = None
    if manifest.get("design") in ("morris", "sobol"):
        path = folder / "analysis" / "sensitivity.parquet"
        if path.exists() and not partial:
            sensitivity = _read_files([path])
    return SweepResults(
        folder=folder,
        manifest=manifest,
        scenarios=scenarios,
        table=table,
        summary=summary,
        factor_labels=labels,
        services=services,
        has_baseline=has_baseline,
        partial=partial,
        notes=notes,
        sensitivity=sensitivity,
        pathway_document=document,
        pathway=pathway,
    )


def _scenarios(manifest: dict[str, Any], manifest_path: Path, folder: Path) -> list[ScenarioRuns]:
    entries = manifest["scenarios"]
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{manifest_path}: 'scenarios' is empty or not a list; the manifest is incomplete")
    store = ResultsStore(folder)
    found = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InputError(f"{manifest_path}: scenarios.{index} is not a mapping; the manifest is corrupt")
        for key in ("name", "run"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise InputError(f"{manifest_path}: scenarios.{index} has no {key!r}; the manifest is incomplete")
        target = entry.get("replications")
        if not isinstance(target, int) or target < 0:
            raise InputError(f"{manifest_path}: scenarios.{index} ({entry['name']}) has no whole number of 'replications'")
        values = entry.get("values") or {}
        if not isinstance(values, dict):
            raise InputError(f"{manifest_path}: scenarios.{index}.values is not a mapping; the manifest is corrupt")
        done = tuple(sorted(r for r in store.done(entry["run"]) if r < target))
        found.append(ScenarioRuns(entry["name"], bool(entry.get("baseline")), dict(values), entry["run"], target, done))
    if len({s.name for s in found}) != len(found):
        raise InputError(f"{manifest_path}: two scenarios share a name; the manifest is corrupt")
    return found


def _filter(services: list[str] | None, metrics: list[str] | None) -> ds.Expression | None:
    expression = None
    if services:
        expression = ds.field("service").isin(services)
    if metrics:
        by_metric = ds.field("metric").isin(metrics)
        expression = by_metric if expression is None else expression & by_metric
    return expression


def _read_files(paths: list[Path], expression: ds.Expression | None = None, base: Path | None = None) -> pd.DataFrame:
    """Read Parquet files as one frame; a corrupt file is an InputError naming it.

    With ``base`` (a table folder such as ``summary/``), the run key is taken
    from each file's ``run=<key>`` folder into a ``run`` column.
    """
    options: dict[str, Any] = {}
    if base is not None:
        options = {
            "partitioning": ds.partitioning(pa.schema([("run", pa.string())]), flavor="hive"),
            "partition_base_dir": str(base),
        }
    try:
        dataset = ds.dataset([str(p) for p in paths], format="parquet", **options)
        return dataset.to_table(filter=expression).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        for path in paths:
            try:
                pq.read_table(path)
            except (pa.ArrowException, OSError, ValueError) as inner:
                raise InputError(
                    f"{path}: corrupt Parquet file ({inner.__class__.__name__}: {str(inner).splitlines()[0]}); "
                    "delete it and run `carepath sweep` again to redo that run"
                ) from None
        raise InputError(f"{paths[0].parent}: cannot read the results ({str(exc).splitlines()[0]})") from None


def _load_summary(folder: Path, scenarios: list[ScenarioRuns]) -> pd.DataFrame:
    """The summary runs of every scenario, each cut to its own replications.

    Scenarios with identical pathways (often the baseline and one factor
    combination) share their runs on disk, so files are read once per run key.
    """
    by_run: dict[str, set[int]] = {}
    for scenario in scenarios:
        by_run.setdefault(scenario.run, set()).update(scenario.done)
    paths = [
        folder / "summary" / f"run={run}" / f"rep={rep:05d}.parquet" for run, done in by_run.items() for rep in sorted(done)
    ]
    frame = _read_files(paths, base=folder / "summary")
    needed = {"replication", "service", "metric", "value"}
    if not needed <= set(frame.columns):
        raise InputError(
            f"{folder}/summary: the run files lack column(s) {', '.join(sorted(needed - set(frame.columns)))}; "
            "they were not written by this version of carepath"
        )
    if "unit" not in frame:
        frame["unit"] = ""
    frame["run"] = frame["run"].astype(str)
    parts = []
    for scenario in scenarios:
        if not scenario.done:
            continue
        part = frame[(frame.run == scenario.run) & frame.replication.isin(scenario.done)].copy()
        part["scenario"] = scenario.name
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _factor_labels(folder: Path, manifest: dict[str, Any]) -> dict[str, str]:
    """Factor labels in the order the experiment file lists them (the manifest sorts its keys)."""
    labels = manifest.get("factors") or {}
    if not isinstance(labels, dict):
        return {}
    order = list(labels)
    experiment = folder / "inputs" / "experiment.yaml"
    if experiment.exists():
        try:
            from sim.document import load_yaml

            factors = load_yaml(experiment, "experiment file").data.get("factors") or {}
            order = [p for p in factors if p in labels] + [p for p in labels if p not in factors]
        except (InputError, AttributeError):
            pass
    return {path: str(labels[path]) for path in order}


def _scenario_table(
    folder: Path,
    manifest: dict[str, Any],
    scenarios: list[ScenarioRuns],
    summary: pd.DataFrame,
    labels: dict[str, str],
    has_baseline: bool,
    partial: bool,
) -> pd.DataFrame:
    """One row per scenario with runs: the sweep's own analysis when it is current, else recomputed.

    The sweep writes ``analysis/scenarios.parquet`` when it completes; a partial
    store (or one whose analysis does not match the runs on disk) is compared
    afresh from its summaries, paired by replication as the sweep does.
    """
    with_runs = [s for s in scenarios if s.done]
    saved = folder / "analysis" / "scenarios.parquet"
    if has_baseline and not partial and saved.exists():
        try:
            table = pd.read_parquet(saved)
        except (pa.ArrowException, OSError, ValueError):
            table = None
        if (
            table is not None
            and list(table.get("scenario", [])) == [s.name for s in with_runs]
            and list(table.get("replications", [])) == [len(s.done) for s in with_runs]
        ):
            return table.reset_index(drop=True)
    entries = [(s.name, s.baseline and has_baseline, s.values) for s in with_runs]
    if not has_baseline:
        # compare_scenarios needs a reference; its paired columns are then blanked
        first = entries[0]
        entries[0] = (first[0], True, first[2])
    table, _ = compare_scenarios(summary, entries, labels)
    if not has_baseline:
        for measure in PAIRED:
            for suffix in ("", "_low", "_high"):
                if measure + suffix in table:
                    table[measure + suffix] = math.nan
        table["baseline"] = False
    return table


def _pathway(folder: Path) -> tuple[Any, Any]:
    """The pathway the runs came from (the copy in inputs/), or (None, None) if unreadable."""
    path = folder / "inputs" / "pathway.yaml"
    if not path.exists():
        return None, None
    try:
        from sim.pathway import load_pathway

        return load_pathway(path)
    except InputError:
        try:
            from sim.document import load_yaml

            return None, load_yaml(path)
        except InputError:
            return None, None


def _services(folder: Path, summary: pd.DataFrame, notes: list[str]) -> dict[str, ServiceInfo]:
    """Each service's kind, label and targets: from the pathway copy, else guessed from its metrics."""
    pathway, _ = _pathway(folder)
    found: dict[str, ServiceInfo] = {}
    if pathway is not None:
        response_targets: dict[str, float] = {}
        for step in pathway.steps.values():
            # the response standard: the step's target, else a fixed clinical window (the engine does the same)
            window = getattr(step.window, "fixed", None)
            target = step.target if step.target is not None else window
            if step.service and target is not None:
                response_targets.setdefault(step.service, float(target))
        for name, service in pathway.services.items():
            target = getattr(service, "occupancy_target", None)
            if target is None:
                target = getattr(service, "utilisation_target", None)
            found[name] = ServiceInfo(
                name=name,
                kind=service.kind,
                label=service.label or name.replace("_", " "),
                target=None if target is None else float(target),
                response_target=response_targets.get(name),
            )
        return found
    notes.append(
        "The pathway copy (inputs/pathway.yaml) is missing or unreadable: services are named as in the results, "
        "and stated targets and sources are not shown."
    )
    for service, group in summary.groupby("service", sort=False):
        metrics = set(group["metric"])
        if service == "system":
            continue
        if "escalated" in metrics:
            kind = "team"
        elif "too_far" in metrics:
            kind = "hub"
        elif "over_capacity_bed_days" in metrics:
            kind = "acute"
        elif "package_days" in metrics:
            kind = "care_package"
        else:
            kind = "beds"
        found[str(service)] = ServiceInfo(str(service), kind, str(service).replace("_", " "))
    return found

