"""Running an experiment: every scenario, every replication, resumably, in parallel.

``carepath sweep experiments/X.yaml`` validates the experiment and all its
scenarios first (nothing runs if any is wrong), opens the results store, and
runs only what is missing. With ``precision``, it then adds replications until
the 95% confidence interval of admissions avoided is within the target share of
its mean for every scenario, or the cap is reached, and says how many each
needed. Finally it compares every scenario with the baseline, replication by
replication, and writes the comparison beside the runs.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import compare_scenarios, paired_difference, sensitivity
from sim.errors import InputError
from sim.experiment import LoadedExperiment, load_experiment
from sim.model import run_replication
from sim.network import Network, compile_network
from sim.parallel import map_tasks
from sim.pathway import Pathway
from sim.storage import write_table
from sim.store import ResultsStore, file_hash, now, package_versions, run_key

_NETWORKS: OrderedDict[str, Network] = OrderedDict()


def _network(pathway: Pathway, key: str) -> Network:
    """Compile once per worker process and scenario (runs of a scenario share it)."""
    network = _NETWORKS.get(key)
    if network is None:
        network = compile_network(pathway)
        _NETWORKS[key] = network
        while len(_NETWORKS) > 16:
            _NETWORKS.popitem(last=False)
    else:
        _NETWORKS.move_to_end(key)
    return network


def run_task(pathway: Pathway, scenario_key: str, key: str, replication: int, seed: int, horizon: float, warm_up: float) -> tuple[str, int, dict[str, pd.DataFrame]]:
    """One run, as a worker does it: a pure function of its arguments.

    Text columns travel back as categoricals (a year's daily series repeats a
    few service and metric names 15,000 times): the pickle is less than half
    the size, which is most of what a run costs on a Dask cluster's network.
    """
    result = run_replication(_network(pathway, scenario_key), replication, seed=seed, horizon=horizon, warm_up=warm_up)
    return key, replication, {
        "summary": _compact(result.summary),
        "timeseries": _compact(result.timeseries),
        "distributions": _compact(result.distributions),
    }


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    text = [column for column in frame.columns if pd.api.types.is_string_dtype(frame[column])]
    return frame.astype(dict.fromkeys(text, "category")) if text else frame


def _expand(frame: pd.DataFrame) -> pd.DataFrame:
    """Back to plain text columns, so the files on disk do not depend on the transport."""
    text = [column for column in frame.columns if isinstance(frame[column].dtype, pd.CategoricalDtype)]
    return frame.astype(dict.fromkeys(text, "str")) if text else frame


@dataclass
class SweepOptions:
    jobs: int = 0  # 0: all cores
    backend: str = "loky"  # or "dask"
    scheduler: str | None = None
    precision: float | None = None
    max_replications: int | None = None
    replications: int | None = None
    out: Path | None = None
    progress: bool = True
    timeout: float = 30.0
    horizon: float | None = None  # hours; overrides the experiment's (runs are keyed by it)
    warm_up: float | None = None


@dataclass
class SweepOutcome:
    experiment: LoadedExperiment
    folder: Path
    replications: dict[str, int]  # scenario name -> replications used
    table: pd.DataFrame  # one row per scenario
    long: pd.DataFrame  # scenario, measure, mean, ci_low, ci_high, n
    ran: int  # runs done by this call
    precision: dict[str, Any] = field(default_factory=dict)
    sensitivity: pd.DataFrame | None = None


def _manifest(experiment: LoadedExperiment, keys: dict[str, str], replications: dict[str, int], store: ResultsStore, status: str, created: str | None) -> dict[str, Any]:
    spec = experiment.spec
    return {
        "experiment": spec.name,
        "description": spec.description,
        "experiment_file": experiment.document.path,
        "experiment_hash": file_hash(Path(experiment.document.path)),
        "pathway_file": str(experiment.pathway_file),
        "pathway_name": experiment.base.name,
        "pathway_hash": file_hash(experiment.pathway_file),
        "design": spec.design.kind,
        "outcome": spec.outcome,
        "factors": {path: experiment.factor_labels.get(path, path) for path in spec.factors},
        "seed": experiment.seed,
        "horizon_hours": experiment.horizon,
        "warm_up_hours": experiment.warm_up,
        "versions": package_versions(),
        "created": created or now(),
        "updated": now(),
        "status": status,
        "scenarios": [
            {
                "name": s.name,
                "baseline": s.is_baseline,
                "values": s.values,
                "pathway_hash": s.key,
                "run": keys[s.name],
                "replications": replications[s.name],
                "done": len({r for r in store.done(keys[s.name]) if r < replications[s.name]}),
            }
            for s in experiment.scenarios
        ],
    }


def _execute(experiment: LoadedExperiment, store: ResultsStore, keys: dict[str, str], targets: dict[str, int], options: SweepOptions, on_written: Callable[[], None] | None = None) -> int:
    """Run every (scenario, replication) below its target that is not on disk; return how many ran."""
    tasks = []
    seen: set[tuple[str, int]] = set()
    for scenario in experiment.scenarios:
        key = keys[scenario.name]
        done = store.done(key)
        for replication in range(targets[scenario.name]):
            if replication in done or (key, replication) in seen:
                continue  # two scenarios with identical pathways share their runs
            seen.add((key, replication))
            tasks.append(
                (run_task, (scenario.pathway, scenario.key, key, replication, experiment.seed, experiment.horizon, experiment.warm_up))
            )
    if not tasks:
        return 0
    ran = 0
    backend = options.backend
    for _, (key, replication, tables) in map_tasks(tasks, jobs=options.jobs, progress=options.progress, description="runs", backend=backend):
        try:
            store.write_run(key, replication, {name: _expand(frame) for name, frame in tables.items()})
        except OSError as exc:
            raise InputError(
                f"cannot write results to {store.folder} ({exc.strerror or exc}); the {ran} run(s) already written are kept: "
                "free some space and run the same command again to finish"
            ) from None
        ran += 1
        if on_written is not None:
            on_written()
    return ran


def _precision_targets(experiment: LoadedExperiment, store: ResultsStore, keys: dict[str, str], targets: dict[str, int], target: float, cap: int) -> tuple[dict[str, int], dict[str, dict[str, float]]]:
    """Replications each scenario needs for the relative half-width target, from the runs so far."""
    outcome = experiment.spec.outcome
    frame = scenario_summaries(experiment, store, keys, targets, metrics=(outcome,))
    frame = frame[(frame.service == "system") & (frame.metric == outcome)]
    baseline = experiment.baseline
    base_rows = frame[frame.scenario == baseline.name]
    status: dict[str, dict[str, float]] = {}
    new_targets = dict(targets)
    for scenario in experiment.scenarios:
        if scenario.is_baseline:
            continue
        rows = frame[frame.scenario == scenario.name]
        mean, _, low, high, n = paired_difference(rows, base_rows)
        half = (high - low) / 2 if n >= 2 else math.inf
        wanted = target * abs(mean)
        met = n >= 2 and (half <= wanted or half == 0.0)
        status[scenario.name] = {"mean": mean, "half_width": half, "relative": half / abs(mean) if mean else math.inf, "n": n, "met": met}
        if met or n >= cap:
            continue
        if math.isfinite(half) and wanted > 0:
            needed = math.ceil(n * (half / wanted) ** 2 * 1.1)
        else:
            needed = 2 * n
        new_targets[scenario.name] = min(cap, max(needed, n + 2))
    new_targets[baseline.name] = max(new_targets.values())
    return new_targets, status


def run_sweep(path: str | Path, options: SweepOptions | None = None) -> SweepOutcome:
    """Run (or resume, or extend) an experiment and compare its scenarios with the baseline."""
    options = options or SweepOptions()
    experiment = load_experiment(path)
    if options.horizon is not None or options.warm_up is not None:
        changes = {"horizon": options.horizon, "warm_up": options.warm_up}
        experiment.spec = experiment.spec.model_copy(update={k: v for k, v in changes.items() if v is not None})
        if experiment.warm_up >= experiment.horizon:
            raise InputError(f"the warm-up ({experiment.warm_up / 24:g} days) must be shorter than the horizon ({experiment.horizon / 24:g} days)")
    spec = experiment.spec
    folder = options.out or Path("results") / spec.name
    store = ResultsStore.open(folder, spec.name)
    keys = {s.name: run_key(s.key, experiment.seed, experiment.horizon, experiment.warm_up) for s in experiment.scenarios}
    replications = options.replications or spec.replications
    targets = {s.name: replications for s in experiment.scenarios}
    created = store.manifest().get("created") if (store.folder / "manifest.json").exists() else None

    client = None
    if options.backend == "dask":
        from sim.cluster import connect

        if not options.scheduler:
            raise InputError("--backend dask needs --scheduler tcp://HOST:PORT (or a scheduler file)")
        client = connect(options.scheduler, timeout=options.timeout)
    try:
        store.save_inputs(Path(experiment.document.path), experiment.pathway_file)
        store.write_manifest(_manifest(experiment, keys, targets, store, "running", created))
        ran = _execute(experiment, store, keys, targets, options)
        precision_target = options.precision if options.precision is not None else (spec.precision.target if spec.precision else None)
        status: dict[str, dict[str, float]] = {}
        if precision_target is not None:
            cap = options.max_replications or (spec.precision.max_replications if spec.precision else 200)
            for _ in range(50):
                new_targets, status = _precision_targets(experiment, store, keys, targets, precision_target, cap)
                if new_targets == targets:
                    break
                targets = new_targets
                store.write_manifest(_manifest(experiment, keys, targets, store, "running", created))
                ran += _execute(experiment, store, keys, targets, options)
        store.write_manifest(_manifest(experiment, keys, targets, store, "complete", created))
    finally:
        if client is not None:
            client.close()

    table, long = analyse_store(experiment, store, keys, targets)
    outcome = SweepOutcome(experiment, store.folder, targets, table, long, ran, status)
    if spec.design.kind in ("morris", "sobol"):
        outcome.sensitivity = sensitivity_of(experiment, table)
        write_table(store.folder / "analysis", "sensitivity", outcome.sensitivity)
    return outcome


def sensitivity_of(experiment: LoadedExperiment, table: pd.DataFrame) -> pd.DataFrame:
    """Morris or Sobol indices for admissions avoided and extra cost, from the scenario table."""
    from sim.experiment import salib_problem

    spec = experiment.spec
    rows = table[~table["baseline"]]
    problem = salib_problem(spec)
    problem = {**problem, "names": [experiment.factor_labels[name] for name in problem["names"]]}
    levels = spec.design.morris.levels if spec.design.morris else 4
    return sensitivity(
        spec.design.kind,
        problem,
        experiment.design_matrix,
        {
            "admissions_avoided_per_year": rows["admissions_avoided_per_year"].to_numpy(),
            "extra_cost_per_year": rows["extra_cost_per_year"].to_numpy(),
        },
        levels=levels,
        seed=experiment.seed % 2**32,
    )


#: the summary metrics the scenario comparison reads (the rest stay on disk)
COMPARED_METRICS = (
    "acute_admissions",
    "acute_bed_days",
    "delayed_bed_days",
    "cost_community",
    "cost_total",
    "measured_days",
    "within_target",
    "utilisation",
    "occupancy_mean",
)


def scenario_summaries(
    experiment: LoadedExperiment,
    store: ResultsStore,
    keys: dict[str, str],
    targets: dict[str, int],
    table: str = "summary",
    metrics: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """A store table with a ``scenario`` column, each scenario cut to its own replications.

    Scenarios with identical pathways (often the baseline and one factor
    combination) share their runs on disk, so the cut is made per scenario.
    """
    limits: dict[str, int] = {}
    for name, target in targets.items():
        limits[keys[name]] = max(limits.get(keys[name], 0), target)
    loaded = store.load(table, keys.values(), replications=limits, metrics=metrics)
    frames = []
    for scenario in experiment.scenarios:
        part = loaded[(loaded.run == keys[scenario.name]) & (loaded.replication < targets[scenario.name])].copy()
        part["scenario"] = scenario.name
        frames.append(part)
    return pd.concat(frames, ignore_index=True) if frames else loaded


def analyse_store(experiment: LoadedExperiment, store: ResultsStore, keys: dict[str, str], targets: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare every scenario with the baseline and write the comparison tables."""
    summary = scenario_summaries(experiment, store, keys, targets, metrics=COMPARED_METRICS)
    table, long = compare_scenarios(
        summary,
        [(s.name, s.is_baseline, s.values) for s in experiment.scenarios],
        experiment.factor_labels,
    )
    write_table(store.folder / "analysis", "scenarios", table)
    write_table(store.folder / "analysis", "comparison", long)
    return table, long
