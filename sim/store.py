"""The results store of a sweep: one Parquet file per run, and a manifest.

::

    results/<experiment>/
      manifest.json                      what was asked and what was run
      summary/run=<key>/rep=00007.parquet      tidy per-run summaries (the dataset)
      timeseries/run=<key>/rep=00007.parquet   daily occupancy, delays, admissions
      distributions/run=<key>/rep=00007.parquet  histograms of waits and responses
      analysis/...                        tables derived from the runs (rebuilt each sweep)
      inputs/experiment.yaml, pathway.yaml   copies of the files the runs came from

A run's key is a hash of its scenario's validated pathway (units converted), the
seed, horizon, warm-up and engine version, so:

- a killed sweep re-run finds its finished runs and does only the rest;
- raising the replications runs only the new ones;
- editing the pathway changes the key of exactly the scenarios it changes.

Workers hand results back to the driver, which writes each run as it arrives
(every file to a temporary name, then renamed; the summary last, as the marker
that the run is complete). A run killed mid-write leaves only a hidden temporary
file, which Parquet readers ignore. Memory stays flat however many runs.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from sim import __version__
from sim.errors import InputError
from sim.model import ENGINE_VERSION
from sim.storage import write_json, write_parquet

TABLES = ("timeseries", "distributions", "summary")  # written in this order: summary marks completion
_REP = re.compile(r"^rep=(\d+)\.parquet$")


def run_key(scenario_key: str, seed: int, horizon: float, warm_up: float) -> str:
    text = json.dumps([scenario_key, seed, round(horizon, 9), round(warm_up, 9), ENGINE_VERSION])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def package_versions() -> dict[str, str]:
    versions = {"carepath": __version__, "python": platform.python_version()}
    for name in ("simpy", "numpy", "scipy", "pandas", "pydantic", "pyarrow", "joblib", "dask", "distributed", "SALib", "matplotlib", "salabim", "Pillow"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@dataclass
class ResultsStore:
    """A folder of runs for one experiment."""

    folder: Path

    # -- opening ---------------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path, experiment_name: str) -> ResultsStore:
        """Open (or create) the store; refuse a folder that holds another experiment's results."""
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder} is a file, not a results folder")
        manifest = folder / "manifest.json"
        if manifest.exists():
            try:
                existing = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise InputError(f"{manifest}: cannot read the manifest ({exc}); move the folder aside to start afresh") from None
            name = existing.get("experiment")
            if name != experiment_name:
                raise InputError(
                    f"{folder} holds results of experiment {name!r}, not {experiment_name!r}; "
                    "carepath never mixes experiments: choose another --out folder"
                )
        elif folder.exists() and any(folder.iterdir()):
            stray = [p.name for p in folder.iterdir() if p.name not in (*TABLES, "analysis", "inputs")]
            if stray:
                raise InputError(
                    f"{folder} is not empty and has no carepath manifest ({', '.join(sorted(stray)[:3])}); "
                    "choose another --out folder"
                )
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    @classmethod
    def read(cls, folder: Path) -> tuple[ResultsStore, dict[str, Any]]:
        """Open an existing store for reading; InputError if it is not one."""
        folder = Path(folder)
        if not folder.exists():
            raise InputError(f"no such results folder: {folder}")
        if not folder.is_dir():
            raise InputError(f"{folder} is a file, not a results folder")
        manifest = folder / "manifest.json"
        if not manifest.exists():
            raise InputError(f"{folder} has no manifest.json: it is not a carepath results folder (run `carepath sweep` first)")
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{manifest}: the manifest is corrupt ({exc.__class__.__name__}: {exc})") from None
        for key in ("experiment", "scenarios"):
            if key not in data:
                raise InputError(f"{manifest}: the manifest has no {key!r}; it is incomplete or from another tool")
        return cls(folder), data

    # -- runs -------------------------------------------------------------------------
    def _path(self, table: str, key: str, replication: int) -> Path:
        return self.folder / table / f"run={key}" / f"rep={replication:05d}.parquet"

    def done(self, key: str) -> set[int]:
        """Replications of a run key whose summary is on disk."""
        folder = self.folder / "summary" / f"run={key}"
        if not folder.is_dir():
            return set()
        found = set()
        for path in folder.iterdir():
            match = _REP.match(path.name)
            if match:
                found.add(int(match.group(1)))
        return found

    def write_run(self, key: str, replication: int, tables: dict[str, pd.DataFrame]) -> None:
        for table in TABLES:
            write_parquet(self._path(table, key, replication), tables[table])

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_json(self.folder / "manifest.json", manifest)

    def save_inputs(self, experiment_file: Path, pathway_file: Path) -> None:
        """Keep copies of the files the runs came from, so the folder explains itself.

        The report reads the pathway's sourced and assumed numbers from here, even
        if the original files have since moved or changed.
        """
        from sim.storage import write_bytes

        write_bytes(self.folder / "inputs" / "experiment.yaml", Path(experiment_file).read_bytes())
        write_bytes(self.folder / "inputs" / "pathway.yaml", Path(pathway_file).read_bytes())

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.folder / "manifest.json").read_text(encoding="utf-8"))

    # -- reading ----------------------------------------------------------------------
    def load(
        self,
        table: str,
        keys: Iterable[str],
        columns: list[str] | None = None,
        replications: dict[str, int] | None = None,
        metrics: Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """One table for the given run keys, with a ``run`` column (the key).

        ``metrics`` keeps only those rows (pushed down to the Parquet scan), and
        text columns come back categorical: a sweep of 10,000 runs then loads in
        tens of megabytes, so the driver's memory stays flat as sweeps grow.
        """
        folder = self.folder / table
        keys = list(keys)
        if not folder.is_dir() or not keys:
            return pd.DataFrame()
        present = [k for k in keys if (folder / f"run={k}").is_dir()]
        if not present:
            return pd.DataFrame()
        # one small dataset per run folder, read in turn: a single dataset over
        # thousands of files reads ahead in parallel and peaks at hundreds of MB
        condition = ds.field("metric").isin(sorted(set(metrics))) if metrics is not None else None
        parts = []
        for key in dict.fromkeys(present):
            part = ds.dataset(folder / f"run={key}", format="parquet").to_table(filter=condition, columns=columns)
            if replications and key in replications:
                part = part.filter(ds.field("replication") < replications[key])
            # one chunk per run key: a chunk per file costs far more than its bytes
            parts.append(part.append_column("run", pa.array([key] * part.num_rows, pa.string())).combine_chunks())
        frame = pa.concat_tables(parts, promote_options="default").to_pandas(strings_to_categorical=True)
        return frame.reset_index(drop=True)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
