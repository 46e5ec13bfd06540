"""How long the board report takes for a large sweep: 100 scenarios x 20 replications.

Builds a synthetic results store in the exact layout a sweep writes (manifest,
one Parquet file per run for ``summary``, ``timeseries`` and ``distributions``,
the sweep's ``analysis/scenarios`` table, copies of the inputs), without
simulating anything: admissions fall smoothly with step-up beds and rapid
response staff, with a replication effect shared by every scenario (common
random numbers), costs follow the commissioned beds and staff, and daily
occupancy has a winter peak. Then it times ``carepath report`` on it, as a user
runs it (a fresh process, command-line start-up included), twice:

- from a complete store, which reads the sweep's own analysis table;
- from the same store marked as still running, which recomputes every paired
  comparison (and its bootstrap) from the 2,000 summary files.

Prints ``name: value`` lines, the headline last (target: under 30 s).
Run: ``.venv/bin/python benchmarks/report.py`` (about a minute).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from sim.analysis import compare_scenarios  # noqa: E402
from sim.storage import write_json, write_parquet, write_table  # noqa: E402
from sim.store import package_versions  # noqa: E402

BEDS = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
STAFF = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
REPLICATIONS = 20
DAYS = 365
WARM_UP_DAYS = 28
BEDS_PATH, STAFF_PATH = "services.step_up.beds", "services.rapid_response.staff"


def scenarios() -> list[dict]:
    found = [{"name": "baseline (no step-up beds, one nurse)", "baseline": True, "values": {BEDS_PATH: 0, STAFF_PATH: 1}, "beds": 0, "staff": 1}]
    for beds in BEDS:
        for staff in STAFF:
            found.append(
                {
                    "name": f"step-up beds={beds}, rapid response staff={staff}",
                    "baseline": False,
                    "values": {BEDS_PATH: beds, STAFF_PATH: staff},
                    "beds": beds,
                    "staff": staff,
                }
            )
    for index, scenario in enumerate(found):
        scenario["run"] = f"run{index:04d}" + "0" * 12
    return found


def summary(scenario: dict, replication: int, shared: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    beds, staff = scenario["beds"], scenario["staff"]
    measured = DAYS - WARM_UP_DAYS
    avoided = 420 * (1 - np.exp(-beds / 8)) + 260 * (1 - np.exp(-(staff - 1) / 3))
    admissions = 1500 + shared[replication] - avoided * measured / 365 + rng.normal(0, 6)
    occupancy_acute = admissions * 7 / 365
    within = min(0.99, 0.55 + 0.045 * staff) + rng.normal(0, 0.01)
    step_up_occupancy = beds * min(0.95, 0.6 + 0.02 * staff) + rng.normal(0, 0.2) if beds else 0.0
    cost_team = staff * 45 * 24 * measured
    cost_beds = beds * 180 * measured
    cost_acute = admissions * 1800 + occupancy_acute * 400 * measured
    rows = [
        ("rapid_response", "arrivals", 800 + rng.normal(0, 20), "patients"),
        ("rapid_response", "within_target", within, "share"),
        ("rapid_response", "utilisation", min(0.95, 1.6 / staff), "share"),
        ("rapid_response", "capacity", staff, "staff"),
        ("rapid_response", "response_mean", 2.5 / staff, "hours"),
        ("rapid_response", "escalated", 40 / staff, "patients"),
        ("rapid_response", "cost", cost_team, "GBP"),
        ("step_up", "arrivals", 120 + rng.normal(0, 5), "patients"),
        ("step_up", "capacity", beds, "beds"),
        ("step_up", "occupancy_mean", step_up_occupancy, "beds"),
        ("step_up", "utilisation", step_up_occupancy / beds if beds else np.nan, "share"),
        ("step_up", "cost", cost_beds, "GBP"),
        ("hospital", "capacity", 400, "beds"),
        ("hospital", "occupancy_mean", occupancy_acute, "beds"),
        ("hospital", "utilisation", occupancy_acute / 400, "share"),
        ("hospital", "over_capacity_bed_days", 0.0, "days"),
        ("hospital", "cost", cost_acute, "GBP"),
        ("system", "patients", 900, "patients"),
        ("system", "acute_admissions", admissions, "patients"),
        ("system", "acute_bed_days", admissions * 7, "days"),
        ("system", "delayed_bed_days", 30 + rng.normal(0, 3), "days"),
        ("system", "cost_community", cost_team + cost_beds, "GBP"),
        ("system", "cost_acute", cost_acute, "GBP"),
        ("system", "cost_total", cost_team + cost_beds + cost_acute, "GBP"),
        ("system", "measured_days", measured, "days"),
    ]
    frame = pd.DataFrame(rows, columns=["service", "metric", "value", "unit"])
    frame.insert(0, "replication", replication)
    frame["value"] = frame["value"].astype(float)
    return frame


def timeseries(scenario: dict, replication: int, rng: np.random.Generator) -> pd.DataFrame:
    day = np.arange(1, DAYS + 1)
    winter = 1 + 0.12 * np.cos(2 * np.pi * (day - 280) / 365)
    frames = []
    levels = {
        ("hospital", "occupancy"): 30 * winter,
        ("step_up", "occupancy"): scenario["beds"] * 0.8 * winter,
        ("rapid_response", "busy"): np.full(DAYS, 1.5),
    }
    for service, metrics in (
        ("hospital", ("occupancy", "delayed", "admissions", "discharges", "queue")),
        ("step_up", ("occupancy", "delayed", "admissions", "discharges", "queue")),
        ("rapid_response", ("busy", "on_duty", "referrals", "escalated", "queue")),
    ):
        for metric in metrics:
            base = levels.get((service, metric), np.full(DAYS, 2.0))
            frames.append(pd.DataFrame({"replication": replication, "service": service, "day": day, "metric": metric, "value": base + rng.normal(0, 1, DAYS)}))
    return pd.concat(frames, ignore_index=True)


def distributions(scenario: dict, replication: int, rng: np.random.Generator) -> pd.DataFrame:
    edges = 10 ** (np.arange(-300, 300) / 100)
    responses = rng.lognormal(np.log(2.5 / scenario["staff"]), 0.6, 800)
    counts, _ = np.histogram(responses, bins=edges)
    keep = counts > 0
    return pd.DataFrame(
        {"replication": replication, "service": "rapid_response", "metric": "response", "lower": edges[:-1][keep], "upper": edges[1:][keep], "count": counts[keep]}
    )


def build_store(folder: Path) -> None:
    found = scenarios()
    shared = np.random.default_rng(0).normal(0, 40, REPLICATIONS)  # the same patients in every scenario
    summaries = []
    for index, scenario in enumerate(found):
        for replication in range(REPLICATIONS):
            rng = np.random.default_rng([index, replication])
            row = summary(scenario, replication, shared, rng)
            write_parquet(folder / "timeseries" / f"run={scenario['run']}" / f"rep={replication:05d}.parquet", timeseries(scenario, replication, rng))
            write_parquet(folder / "distributions" / f"run={scenario['run']}" / f"rep={replication:05d}.parquet", distributions(scenario, replication, rng))
            write_parquet(folder / "summary" / f"run={scenario['run']}" / f"rep={replication:05d}.parquet", row)
            summaries.append(row.assign(scenario=scenario["name"]))
    labels = {BEDS_PATH: "step-up beds", STAFF_PATH: "rapid response staff"}
    table, long = compare_scenarios(pd.concat(summaries, ignore_index=True), [(s["name"], s["baseline"], s["values"]) for s in found], labels)
    write_table(folder / "analysis", "scenarios", table)
    write_table(folder / "analysis", "comparison", long)
    (folder / "inputs").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "pathways" / "tutorial.yaml", folder / "inputs" / "pathway.yaml")
    (folder / "inputs" / "experiment.yaml").write_text(
        "name: benchmark_report\npathway: pathway.yaml\nfactors:\n"
        f"  {BEDS_PATH}: {{levels: {BEDS}, label: step-up beds}}\n  {STAFF_PATH}: {{levels: {STAFF}, label: rapid response staff}}\n",
        encoding="utf-8",
    )
    write_json(
        folder / "manifest.json",
        {
            "experiment": "benchmark_report",
            "description": "Synthetic 100-scenario sweep for timing the report.",
            "pathway_name": "Tutorial town",
            "pathway_file": "pathways/tutorial.yaml",
            "design": "full_factorial",
            "outcome": "acute_admissions",
            "factors": labels,
            "seed": 1,
            "horizon_hours": DAYS * 24.0,
            "warm_up_hours": WARM_UP_DAYS * 24.0,
            "versions": package_versions(),
            "status": "complete",
            "scenarios": [
                {k: s[k] for k in ("name", "baseline", "values", "run")} | {"pathway_hash": s["run"][:16], "replications": REPLICATIONS, "done": REPLICATIONS}
                for s in found
            ],
        },
    )


def time_report(folder: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "sim", "report", str(folder)], capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"carepath report failed:\n{result.stderr}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="carepath-report-bench-") as scratch:
        folder = Path(scratch) / "benchmark_report"
        started = time.perf_counter()
        build_store(folder)
        files = sum(1 for _ in folder.rglob("rep=*.parquet"))
        print(f"store_scenarios: {len(scenarios()) - 1} and a baseline")
        print(f"store_replications: {REPLICATIONS}")
        print(f"store_parquet_files: {files}")
        print(f"store_build_seconds: {time.perf_counter() - started:.1f}")
        complete = time_report(folder)
        page = folder / "report.html"
        print(f"report_html_megabytes: {page.stat().st_size / 1e6:.2f}")
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["status"] = "running"
        (folder / "manifest.json").write_text(json.dumps(manifest))
        recomputed = time_report(folder)
        print(f"report_seconds_recomputing_comparisons: {recomputed:.1f}")
        print(f"report_seconds_100x20 (target < 30): {complete:.1f}")


if __name__ == "__main__":
    main()
