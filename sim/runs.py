"""Running replications of one pathway: ``carepath run``.

A run is a function of (pathway, replication): it reads no globals and opens no
files, so it can run in this process, in a joblib worker, or on a Dask cluster
with identical results (see :mod:`sim.parallel`).
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.model import RunResult, run_replication
from sim.network import Network, compile_network
from sim.pathway import Pathway
from sim.storage import write_json, write_table


@dataclass(frozen=True)
class RunOptions:
    seed: int
    replications: int
    horizon: float
    warm_up: float
    events: bool = False


def pathway_hash(pathway: Pathway) -> str:
    """Content hash of a validated pathway (units already converted), for caching and manifests."""
    canonical = json.dumps(pathway.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def one_replication(network: Network, replication: int, options: RunOptions) -> RunResult:
    return run_replication(
        network,
        replication,
        seed=options.seed,
        horizon=options.horizon,
        warm_up=options.warm_up,
        record_events=options.events,
    )


def run_pathway(pathway: Pathway, options: RunOptions, jobs: int = 1, progress: bool = False) -> list[RunResult]:
    """Run every replication (in parallel when ``jobs`` > 1); results in replication order."""
    from sim.parallel import map_tasks

    network = compile_network(pathway)
    tasks = [(one_replication, (network, replication, options)) for replication in range(options.replications)]
    results: dict[int, RunResult] = {}
    for index, result in map_tasks(tasks, jobs=jobs, progress=progress, description="replications"):
        results[index] = result
    return [results[i] for i in range(options.replications)]


def combine(results: list[RunResult]) -> dict[str, pd.DataFrame]:
    tables = {
        "summary": pd.concat([r.summary for r in results], ignore_index=True),
        "timeseries": pd.concat([r.timeseries for r in results], ignore_index=True),
        "distributions": pd.concat([r.distributions for r in results], ignore_index=True),
    }
    events = [r.events for r in results if r.events is not None]
    if events:
        tables["events"] = pd.concat(events, ignore_index=True)
        tables["patients"] = pd.concat([r.people for r in results if r.people is not None], ignore_index=True)
    return tables


def write_run(out: Path, tables: dict[str, pd.DataFrame], pathway: Pathway, source: str, options: RunOptions) -> list[Path]:
    """Write every table (CSV and Parquet) and a manifest; each file atomically."""
    written: list[Path] = []
    for name, frame in tables.items():
        written += write_table(out, name, frame)
    written.append(
        write_json(
            out / "run.json",
            {
                "carepath": __version__,
                "pathway": source,
                "pathway_name": pathway.name,
                "pathway_hash": pathway_hash(pathway),
                "seed": options.seed,
                "replications": options.replications,
                "horizon_hours": options.horizon,
                "warm_up_hours": options.warm_up,
                "events": options.events,
                "python": platform.python_version(),
                "written": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
    )
    return written
