"""One simulated year of west Kent: eight GP clusters, about half a million people.

Prints ``name: value`` lines, the headline last:

- ``patients_per_second``: patients simulated (every arrival, warm-up included) per
  second of wall-clock time, over all replications;
- ``peak_memory_mb``: peak Python memory of one replication, traced with
  tracemalloc in a separate run (tracing slows the code it measures);
- ``seconds_per_replication_year``: median wall-clock seconds for one replication
  of one simulated year (target < 5 s).

Run: ``.venv/bin/python benchmarks/west_kent.py [replications]`` (default 3). The
machine may be shared: the median is reported, not the best run.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.model import run_replication  # noqa: E402
from sim.network import compile_network  # noqa: E402
from sim.pathway import load_pathway  # noqa: E402
from sim.units import HOURS_PER_YEAR  # noqa: E402

TARGET_SECONDS = 5.0


def main(replications: int = 3) -> None:
    pathway, _ = load_pathway(HERE.parent / "pathways" / "west_kent.yaml")
    network = compile_network(pathway)
    options = {"seed": pathway.seed, "horizon": HOURS_PER_YEAR, "warm_up": 0.0}
    seconds: list[float] = []
    patients = 0
    for replication in range(replications):
        gc.collect()
        start = time.perf_counter()
        result = run_replication(network, replication, **options)
        seconds.append(time.perf_counter() - start)
        patients += result.patients

    gc.collect()
    tracemalloc.start()
    run_replication(network, 0, **options)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    median = statistics.median(seconds)
    print(f"replications: {replications}")
    print(f"patients_per_replication: {patients / replications:,.0f}")
    print(f"patients_per_second: {patients / sum(seconds):,.0f}")
    print(f"peak_memory_mb: {peak / 2**20:.1f}")
    print(f"target_seconds: {TARGET_SECONDS}")
    print(f"seconds_per_replication_year: {median:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
