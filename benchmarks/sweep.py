"""Sweep speed, memory and variance reduction, measured side by side in one run.

Prints ``name: value`` lines, the headline last:

- runs per second for a 40-scenario x 10-replication Thanet sweep, serially and
  on 2 workers (joblib's loky backend), and the speed-up (target >= 1.8);
- the same sweep on a Dask ``LocalCluster`` of 2 single-threaded worker
  processes through joblib's Dask backend: its overhead against loky
  (target <= 10%);
- the variance-reduction ratio common random numbers give admissions avoided,
  against independent seeds for the scenario and the baseline (target >= 5x),
  with the F-distribution 95% interval of that ratio;
- the driver's peak resident memory for 1,000 and 10,000 small runs, each in a
  fresh process (target: flat, under 300 MB);
- headline: wall time to a decision-grade answer, ``--precision 0.05`` on the
  20-scenario Thanet question of ``experiments/thanet_beds_staff.yaml`` on this
  machine's cores (target under 2 minutes).

Run: ``.venv/bin/python benchmarks/sweep.py`` (about 15 minutes on 2 cores;
``--quick`` shortens every horizon to 60 days to check the script itself).
The machine is shared and noisy: run it while nothing else does, and read the
ratios rather than the absolute rates.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from sim.model import run_replication  # noqa: E402
from sim.network import compile_network  # noqa: E402
from sim.parallel import map_tasks  # noqa: E402
from sim.pathway import load_pathway  # noqa: E402
from sim.scenario import scenario_pathway  # noqa: E402
from sim.sweep import SweepOptions, run_sweep  # noqa: E402

THANET = ROOT / "pathways" / "thanet.yaml"
TUTORIAL = ROOT / "pathways" / "tutorial.yaml"


def experiment_file(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"carepath: 1\nname: {name}\n{body}")
    return path


def forty_scenarios(folder: Path, horizon: str | None) -> Path:
    """Thanet: step-up beds x day nurses x night nurses = 40 scenarios, plus the baseline."""
    return experiment_file(
        folder,
        "bench_forty",
        f"""pathway: {THANET}
baseline:
  set: {{services.step_up.beds: 0, services.rapid_response.roster.0.staff: 0, services.rapid_response.roster.1.staff: 0}}
factors:
  services.step_up.beds: [0, 6, 12, 18, 24]
  services.rapid_response.roster.0.staff: [1, 2, 3, 4]
  services.rapid_response.roster.1.staff: [0, 1]
replications: 10
{horizon or ""}
""",
    )


def timed_sweep(path: Path, out: Path, **options) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    outcome = run_sweep(path, SweepOptions(out=out, progress=False, **options))
    return time.perf_counter() - started, outcome.ran


def dask_sweep(path: Path, out: Path) -> tuple[float, int]:
    """The same sweep through joblib's Dask backend on a LocalCluster of 2 worker processes.

    The workers' statistical profiler (a thread sampling every 10 ms, there for
    the dashboard) is switched off, as the README advises for CPU-bound sweeps:
    on a machine with as many workers as cores it competes with the runs.
    """
    import dask
    from dask.distributed import LocalCluster

    with (
        dask.config.set({"distributed.worker.profile.enabled": False}),
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
    ):
        return timed_sweep(path, out, backend="dask", scheduler=cluster.scheduler_address)


def _admissions(network, replication: int, seed: int, horizon: float, warm_up: float) -> float:
    summary = run_replication(network, replication, seed=seed, horizon=horizon, warm_up=warm_up).summary
    row = summary[(summary.service == "system") & (summary.metric == "acute_admissions")]
    return float(row.value.iloc[0])


def crn_ratio(replications: int, horizon: float | None) -> tuple[float, float, float]:
    """Var(admissions avoided) with independent seeds over Var with common random numbers."""
    pathway, document = load_pathway(THANET)
    scenario = scenario_pathway(document, {"services.step_up.beds": 12, "services.rapid_response.roster.0.staff": 2}, "scenario")
    baseline = scenario_pathway(
        document,
        {"services.step_up.beds": 0, "services.rapid_response.roster.0.staff": 0, "services.rapid_response.roster.1.staff": 0, "services.rapid_response.roster.2.staff": 0},
        "baseline",
    )
    horizon = horizon or pathway.horizon
    seed, other = pathway.seed, pathway.seed + 7919
    tasks = []
    for replication in range(replications):
        for network_pathway, run_seed in ((scenario, seed), (baseline, seed), (baseline, other)):
            tasks.append((_task, (network_pathway, replication, run_seed, horizon, pathway.warm_up)))
    values = np.empty(len(tasks))
    for index, value in map_tasks(tasks, jobs=2):
        values[index] = value
    values = values.reshape(replications, 3)
    paired = values[:, 1] - values[:, 0]
    independent = values[:, 2] - values[:, 0]
    ratio = float(np.var(independent, ddof=1) / np.var(paired, ddof=1))
    f_low, f_high = stats.f.ppf([0.025, 0.975], replications - 1, replications - 1)
    return ratio, ratio / f_high, ratio / f_low


def _task(pathway, replication: int, seed: int, horizon: float, warm_up: float) -> float:
    return _admissions(compile_network(pathway), replication, seed, horizon, warm_up)


def memory_child(runs: int, folder: str) -> None:
    """Run ``runs`` tiny runs as one sweep and print this driver's peak RSS in MB."""
    scenarios = 100
    reps = runs // scenarios
    path = experiment_file(
        Path(folder),
        f"bench_memory_{runs}",
        f"""pathway: {TUTORIAL}
factors:
  services.step_up.beds: {list(range(scenarios))}
replications: {reps}
horizon: 2 days
warm_up: 0 days
""",
    )
    run_sweep(path, SweepOptions(out=Path(folder) / f"memory_{runs}", progress=False, jobs=2))
    print(json.dumps({"peak_mb": peak_resident_mb()}))


def peak_resident_mb() -> float:
    """This process's peak resident memory.

    ``VmHWM`` belongs to the process's own address space, which ``exec`` makes
    afresh; ``ru_maxrss`` can carry the parent's peak across fork and exec.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def driver_memory(runs: int, folder: Path) -> float:
    output = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(runs), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])["peak_mb"]


def precision_answer(folder: Path, quick: bool) -> tuple[float, int, int, float]:
    source = (ROOT / "experiments" / "thanet_beds_staff.yaml").read_text()
    source = source.replace("pathway: ../pathways/thanet.yaml", f"pathway: {THANET}")
    if quick:
        source += "horizon: 60 days\n"
    path = folder / "thanet_beds_staff.yaml"
    path.write_text(source)
    out = folder / "precision"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    outcome = run_sweep(path, SweepOptions(out=out, progress=False, jobs=0, precision=0.05))
    seconds = time.perf_counter() - started
    rows = outcome.table[~outcome.table["baseline"]]
    relative = (rows["admissions_avoided_per_year_high"] - rows["admissions_avoided_per_year_low"]) / 2 / rows["admissions_avoided_per_year"].abs()
    return seconds, outcome.ran, max(outcome.replications.values()), float(relative.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60-day horizons: checks the script, not the targets")
    parser.add_argument("--memory-child", nargs=2, metavar=("RUNS", "FOLDER"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.memory_child:
        memory_child(int(arguments.memory_child[0]), arguments.memory_child[1])
        return

    horizon_line = "horizon: 60 days" if arguments.quick else None
    with tempfile.TemporaryDirectory(prefix="carepath-bench-") as temporary:
        folder = Path(temporary)
        forty = forty_scenarios(folder, horizon_line)
        serial, runs = timed_sweep(forty, folder / "serial", jobs=1)
        print(f"sweep_runs: {runs}")
        print(f"serial_runs_per_second: {runs / serial:.2f}")
        parallel, _ = timed_sweep(forty, folder / "loky", jobs=2)
        print(f"two_workers_runs_per_second: {runs / parallel:.2f}")
        print(f"two_worker_speedup: {serial / parallel:.2f}")
        dask_seconds, _ = dask_sweep(forty, folder / "dask")
        print(f"dask_localcluster_runs_per_second: {runs / dask_seconds:.2f}")
        print(f"dask_overhead_vs_joblib: {100 * (dask_seconds / parallel - 1):.1f}%")
        for name in ("serial", "loky", "dask"):
            shutil.rmtree(folder / name, ignore_errors=True)

        ratio, low, high = crn_ratio(30, 60 * 24.0 if arguments.quick else None)
        print(f"crn_variance_reduction: {ratio:.1f}x (95% CI {low:.1f}-{high:.1f}, 30 replications)")

        small = {runs: driver_memory(runs, folder) for runs in (1_000, 10_000)}
        print(f"driver_peak_memory_mb_1000_runs: {small[1_000]:.0f}")
        print(f"driver_peak_memory_mb_10000_runs: {small[10_000]:.0f}")
        print(f"driver_memory_growth_for_10x_runs: {small[10_000] / small[1_000]:.2f}")

        seconds, ran, most, worst = precision_answer(folder, arguments.quick)
        print(f"precision_runs: {ran} (most replications needed by a scenario: {most})")
        print(f"precision_worst_relative_half_width: {worst:.3f}")
        print(f"time_to_precision_0.05_seconds: {seconds:.1f}")


if __name__ == "__main__":
    main()
