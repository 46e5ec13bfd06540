"""A real Dask scheduler and workers, started as separate processes on 127.0.0.1.

The sweep sent to them gives exactly the result of a local sweep, and a cluster
whose workers cannot import carepath, or run another version of it, is refused
with one clear line within the time-out instead of hanging.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.sweep import SweepOptions, run_sweep
from tests.test_sweep import raw_runs, summaries, write_experiment

pytestmark = [pytest.mark.dask, pytest.mark.slow]
BIN = Path(sys.executable).parent


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


class Cluster:
    def __init__(self, folder: Path, worker_pythonpath: str | None = None, workers: int = 2) -> None:
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        env = {**os.environ, "DASK_TEMPORARY_DIRECTORY": str(folder / "dask-tmp")}
        self.processes = [
            _start(
                [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0",
                 "--scheduler-file", str(self.scheduler_file), "--idle-timeout", "300"],
                env,
                folder / "scheduler.log",
            )
        ]
        deadline = time.time() + 60
        while not self.scheduler_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        worker_env = dict(env)
        if worker_pythonpath:
            worker_env["PYTHONPATH"] = worker_pythonpath
        self.processes.append(
            _start(
                [str(BIN / "dask"), "worker", "--scheduler-file", str(self.scheduler_file), "--host", "127.0.0.1",
                 "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard", "--death-timeout", "30"],
                worker_env,
                folder / "worker.log",
            )
        )
        from dask.distributed import Client

        with Client(scheduler_file=str(self.scheduler_file), timeout="30s") as client:
            client.wait_for_workers(workers, timeout=60)

    def stop(self) -> None:
        _stop(self.processes)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    running = Cluster(folder)
    yield running
    running.stop()


def test_a_real_cluster_runs_a_sweep_with_exactly_the_local_result(cluster, tmp_path):
    experiment = write_experiment(tmp_path)
    local = run_sweep(experiment, SweepOptions(jobs=1, out=tmp_path / "local", progress=False))
    remote = run_sweep(
        experiment,
        SweepOptions(backend="dask", scheduler=str(cluster.scheduler_file), out=tmp_path / "dask", progress=False),
    )
    assert remote.ran == local.ran == 24
    pd.testing.assert_frame_equal(raw_runs(tmp_path / "local"), raw_runs(tmp_path / "dask"))
    pd.testing.assert_frame_equal(summaries(tmp_path / "local"), summaries(tmp_path / "dask"))


def test_the_cli_reaches_the_cluster_by_address(cluster, tmp_path):
    import json

    address = json.loads(cluster.scheduler_file.read_text())["address"]
    result = CliRunner().invoke(
        app, ["sweep", str(write_experiment(tmp_path)), "--backend", "dask", "--scheduler", address, "--out", str(tmp_path / "r"), "--reps", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "12 run(s) done now" in result.stdout


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("raise ModuleNotFoundError(\"No module named 'simpy'\")\n", "cannot import carepath"),
        ("__version__ = '0.0.1'\n", "runs carepath 0.0.1"),
    ],
    ids=["cannot-import", "other-version"],
)
def test_a_cluster_that_cannot_run_this_carepath_is_refused_without_hanging(tmp_path, module, message):
    fake = tmp_path / "fake"
    (fake / "sim").mkdir(parents=True)
    (fake / "sim" / "__init__.py").write_text(module, encoding="utf-8")
    broken = Cluster(tmp_path, worker_pythonpath=str(fake), workers=1)
    try:
        started = time.perf_counter()
        result = CliRunner().invoke(
            app,
            ["sweep", str(write_experiment(tmp_path)), "--backend", "dask", "--scheduler", str(broken.scheduler_file),
             "--timeout", "20", "--out", str(tmp_path / "r")],
        )
        assert result.exit_code == 2, result.output
        assert message in result.stderr, result.stderr
        assert time.perf_counter() - started < 60
    finally:
        broken.stop()
