"""Sweeps: paired comparisons, resumable results, the same answer on any backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from sim.cli import app
from sim.model import run_replication
from sim.network import compile_network
from sim.pathway import load_pathway
from sim.sweep import SweepOptions, run_sweep
from tests.conftest import ROOT

TUTORIAL = ROOT / "pathways" / "tutorial.yaml"

EXPERIMENT = f"""\
name: small_sweep
pathway: {TUTORIAL}
baseline:
  label: no step-up beds
  set: {{services.step_up.beds: 0}}
factors:
  services.step_up.beds: {{levels: [0, 4, 8], label: step-up beds}}
  services.rapid_response.staff: [1, 2]
replications: 4
horizon: 120 days
warm_up: 14 days
seed: 7
"""


def write_experiment(folder: Path, text: str = EXPERIMENT, name: str = "experiment.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def summaries(folder: Path) -> pd.DataFrame:
    frame = pd.read_parquet(folder / "analysis" / "scenarios.parquet")
    return frame.sort_values("scenario").reset_index(drop=True)


def raw_runs(folder: Path) -> pd.DataFrame:
    files = sorted((folder / "summary").rglob("rep=*.parquet"))
    frames = []
    for path in files:
        frame = pd.read_parquet(path)
        frame["file"] = str(path.relative_to(folder))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_sweep_compares_every_scenario_with_the_baseline(tmp_path):
    outcome = run_sweep(write_experiment(tmp_path), SweepOptions(jobs=1, out=tmp_path / "results", progress=False))
    table = outcome.table
    assert len(table) == 7  # baseline + 3 x 2
    assert table["replications"].eq(4).all()
    base = table[table.baseline].iloc[0]
    same = table[(table["step-up beds"] == 0) & (table["rapid response staff"] == 2)].iloc[0]
    # the scenario identical to the baseline avoids exactly nothing, with a zero-width interval (CRN)
    assert same["admissions_avoided_per_year"] == 0 and same["admissions_avoided_per_year_high"] == 0
    more = table[(table["step-up beds"] == 8) & (table["rapid response staff"] == 2)].iloc[0]
    assert more["admissions_avoided_per_year_low"] > 0
    assert more["admissions_per_year"] < base["admissions_per_year"]
    assert more["extra_cost_per_year"] > 0
    assert more["cost_per_admission_avoided"] == pytest.approx(more["extra_cost_per_year"] / more["admissions_avoided_per_year"])
    manifest = json.loads((tmp_path / "results" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert {s["name"] for s in manifest["scenarios"]} == set(table["scenario"])
    assert manifest["versions"]["carepath"]
    assert all(s["done"] == 4 for s in manifest["scenarios"])


def test_results_identical_for_one_and_two_workers(tmp_path):
    experiment = write_experiment(tmp_path)
    run_sweep(experiment, SweepOptions(jobs=1, out=tmp_path / "one", progress=False))
    run_sweep(experiment, SweepOptions(jobs=2, out=tmp_path / "two", progress=False))
    pd.testing.assert_frame_equal(raw_runs(tmp_path / "one"), raw_runs(tmp_path / "two"))
    pd.testing.assert_frame_equal(summaries(tmp_path / "one"), summaries(tmp_path / "two"))


def test_raising_replications_runs_only_the_new_ones(tmp_path):
    experiment = write_experiment(tmp_path)
    first = run_sweep(experiment, SweepOptions(jobs=1, out=tmp_path / "r", progress=False))
    assert first.ran == 24  # 6 distinct pathways (the baseline equals one scenario) x 4
    again = run_sweep(experiment, SweepOptions(jobs=1, out=tmp_path / "r", progress=False))
    assert again.ran == 0
    more = run_sweep(experiment, SweepOptions(jobs=1, out=tmp_path / "r", progress=False, replications=6))
    assert more.ran == 12


def test_editing_the_pathway_reruns_only_the_scenarios_it_changes(tmp_path):
    pathway = tmp_path / "pathway.yaml"
    pathway.write_text(TUTORIAL.read_text(encoding="utf-8"), encoding="utf-8")
    experiment = write_experiment(tmp_path, EXPERIMENT.replace(str(TUTORIAL), str(pathway)))
    run_sweep(experiment, SweepOptions(jobs=1, out=tmp_path / "r", progress=False))
    # change a value that the factor overrides everywhere except where staff is not set... it is
    # set in every scenario, so an edit to the staff written in the file changes only the baseline
    pathway.write_text(pathway.read_text().replace("    staff: 2 ", "    staff: 3 "), encoding="utf-8")
    again = run_sweep(experiment, SweepOptions(jobs=1, out=tmp_path / "r", progress=False))
    assert again.ran == 4  # the baseline (staff as written) only


def test_a_folder_of_another_experiment_is_refused(tmp_path):
    run_sweep(write_experiment(tmp_path), SweepOptions(jobs=1, out=tmp_path / "r", progress=False))
    other = write_experiment(tmp_path, EXPERIMENT.replace("name: small_sweep", "name: other_sweep"), "other.yaml")
    result = CliRunner().invoke(app, ["sweep", str(other), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "holds results of experiment 'small_sweep', not 'other_sweep'" in result.stderr


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  services.step_up.beds: {levels", "  services.step_up.bedz: {levels", r"experiment.yaml:7: factors.services.step_up.bedz: not a key in the pathway .*did you mean 'beds'"),
        ("[0, 4, 8]", "[0, four, 8]", r"scenario 'step-up beds=four, rapid response staff=1': expected a whole number >= 0, got 'four'"),
        ("[0, 4, 8]", "[0, -4, 8]", r"tutorial.yaml:\d+: services.step_up.beds: scenario 'step-up beds=-4, rapid response staff=1': expected a whole number >= 0, got -4"),
        ("replications: 4", "replications: 0", r"experiment.yaml:\d+: replications: expected a whole number >= 1"),
        ("horizon: 120 days", "horizon: 120", r"horizon: expected a duration with a unit"),
        ("name: small_sweep", "name: small_sweep\ncolour: red", r"experiment.yaml:2: colour: unknown key"),
    ],
)
def test_experiment_mistakes_are_one_line(tmp_path, old, new, expected):
    import re

    path = write_experiment(tmp_path, EXPERIMENT.replace(old, new))
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    first = result.stderr.strip().splitlines()[0]
    assert re.search(expected, first), first
    assert "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_unreachable_scheduler_is_a_clear_error_within_the_timeout(tmp_path):
    started = time.perf_counter()
    result = CliRunner().invoke(
        app,
        ["sweep", str(write_experiment(tmp_path)), "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9", "--timeout", "2", "--out", str(tmp_path / "r")],
    )
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert time.perf_counter() - started < 30


def test_a_full_disk_keeps_the_runs_already_written(tmp_path, monkeypatch):
    import sim.store

    experiment = write_experiment(tmp_path)
    real = sim.store.write_parquet
    calls = {"n": 0}

    def failing(path, frame):
        calls["n"] += 1
        if calls["n"] > 3 * 5:  # three tables per run: fail during the sixth run
            raise OSError(28, "No space left on device")
        return real(path, frame)

    monkeypatch.setattr(sim.store, "write_parquet", failing)
    result = CliRunner().invoke(app, ["sweep", str(experiment), "--jobs", "1", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "No space left on device" in result.stderr and "5 run(s) already written are kept" in result.stderr
    kept = raw_runs(tmp_path / "r")
    assert kept["file"].nunique() == 5
    monkeypatch.setattr(sim.store, "write_parquet", real)
    finished = run_sweep(experiment, SweepOptions(jobs=1, out=tmp_path / "r", progress=False))
    assert finished.ran == 24 - 5
    reference = run_sweep(experiment, SweepOptions(jobs=1, out=tmp_path / "reference", progress=False))
    pd.testing.assert_frame_equal(summaries(tmp_path / "r"), summaries(tmp_path / "reference"))
    del reference


@pytest.mark.slow
def test_a_sweep_killed_midway_resumes_to_exactly_the_uninterrupted_result(tmp_path):
    experiment = write_experiment(tmp_path, EXPERIMENT.replace("replications: 4", "replications: 8").replace("120 days", "240 days"))
    folder = tmp_path / "killed"
    command = [sys.executable, "-m", "sim", "sweep", str(experiment), "--jobs", "1", "--out", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        written = list((folder / "summary").rglob("rep=*.parquet")) if (folder / "summary").exists() else []
        if len(written) >= 10:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = len(list((folder / "summary").rglob("rep=*.parquet")))
    assert 10 <= partial < 48, "the sweep should be killed midway"
    resumed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{48 - partial} run(s) done now" in resumed.stdout
    complete = tmp_path / "complete"
    subprocess.run([*command[:-1], str(complete)], capture_output=True, check=True)
    pd.testing.assert_frame_equal(raw_runs(folder), raw_runs(complete))
    pd.testing.assert_frame_equal(summaries(folder), summaries(complete))


def test_common_random_numbers_shrink_the_variance_of_admissions_avoided():
    """Paired on the same patients, the difference varies far less than with independent seeds."""
    _, document = load_pathway(TUTORIAL)
    from sim.scenario import scenario_pathway

    base = compile_network(scenario_pathway(document, {"services.step_up.beds": 0}))
    more = compile_network(scenario_pathway(document, {"services.step_up.beds": 6}))
    options = {"horizon": 120 * 24.0, "warm_up": 14 * 24.0}

    def admissions(network, replication, seed):
        frame = run_replication(network, replication, seed=seed, **options).summary
        return frame[(frame.service == "system") & (frame.metric == "acute_admissions")].value.iloc[0]

    n = 15
    paired = [admissions(base, r, 1) - admissions(more, r, 1) for r in range(n)]
    independent = [admissions(base, r, 1) - admissions(more, r, 1000 + r) for r in range(n)]
    ratio = np.var(independent, ddof=1) / np.var(paired, ddof=1)
    # one-sided F test at 1%: the independent variance is larger
    assert ratio > stats.f.ppf(0.99, n - 1, n - 1), ratio


def test_horizon_flag_overrides_the_experiment_and_keys_its_own_runs(tmp_path):
    experiment = write_experiment(tmp_path)
    runner = CliRunner()
    short = runner.invoke(app, ["sweep", str(experiment), "--jobs", "1", "--reps", "2", "--horizon", "40 days", "--warm-up", "5 days", "--out", str(tmp_path / "out")])
    assert short.exit_code == 0, short.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["horizon_hours"] == 40 * 24 and manifest["warm_up_hours"] == 5 * 24
    measured = pd.read_parquet(next((tmp_path / "out" / "summary").rglob("rep=*.parquet")))
    assert measured.query("metric == 'measured_days'")["value"].iloc[0] == pytest.approx(35)
    wrong = runner.invoke(app, ["sweep", str(experiment), "--horizon", "10 days", "--warm-up", "20 days", "--out", str(tmp_path / "bad")])
    assert wrong.exit_code == 2 and "warm-up" in wrong.output
    assert not (tmp_path / "bad").exists()


def test_results_files_get_the_permissions_of_an_ordinary_file(tmp_path):
    """Atomic writes go through mkstemp (mode 0600); shared results must not stay private."""
    from sim.storage import write_text

    mask = os.umask(0)
    os.umask(mask)
    written = write_text(tmp_path / "report.html", "<p>ok</p>")
    assert written.stat().st_mode & 0o777 == 0o666 & ~mask
