"""Engine speed and memory, measured side by side in one process.

Prints ``name: value`` lines, the headline last:

- patients per second and peak memory for one simulated year of the Thanet pathway;
- a beds-only loss model of 1,000,000 patients, run by carepath's generic,
  data-driven engine and by the same model written by hand in plain SimPy
  (``handwritten_loss_model.py``), alternately, several times each: the
  headline is the ratio of their median speeds (target >= 2.0);
- peak memory of the loss model as the horizon grows tenfold, event log off
  (target: flat; memory is traced with tracemalloc in separate runs, since
  tracing slows the code it measures).

Run: ``.venv/bin/python benchmarks/engine.py`` (about two minutes). The machine
is shared and noisy: compare the ratio, not the absolute rates.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from handwritten_loss_model import run_handwritten  # noqa: E402

from sim.document import parse_yaml  # noqa: E402
from sim.model import run_replication  # noqa: E402
from sim.network import compile_network  # noqa: E402
from sim.pathway import load_pathway, validate_document  # noqa: E402

ARRIVALS_PER_HOUR = 100.0
MEAN_STAY_HOURS = 0.45
BEDS = 50


def loss_model(horizon_hours: float):
    text = f"""
name: loss model
horizon: {horizon_hours} hours
age_bands: [all]
age_mix: {{all: 1}}
localities: {{ward_catchment: {{population: 1}}}}
demand: {{admissions: {{rate: {ARRIVALS_PER_HOUR} per hour, enters: stay}}}}
services: {{ward: {{kind: beds, beds: {BEDS}, when_full: divert}}}}
steps:
  stay: {{service: ward, duration: {{exponential: {{mean: {MEAN_STAY_HOURS} hours}}}}, next: home, on_divert: elsewhere}}
exits: [home, elsewhere]
"""
    return compile_network(validate_document(parse_yaml(text, "<loss model>")))


def timed(function):
    gc.collect()
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def peak_megabytes(function) -> float:
    gc.collect()
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    root = HERE.parent
    # Thanet: one simulated year
    pathway, _ = load_pathway(root / "pathways" / "thanet.yaml")
    network = compile_network(pathway)
    result, seconds = timed(lambda: run_replication(network, 0))
    print(f"thanet_year_patients: {result.patients}")
    print(f"thanet_year_seconds: {seconds:.2f}")
    print(f"thanet_patients_per_second: {result.patients / seconds:,.0f}")
    print(f"thanet_year_peak_memory_mb: {peak_megabytes(lambda: run_replication(network, 0)):.1f}")

    # the loss model, 1,000,000 patients: generic engine vs hand-written SimPy, alternately
    horizon = 1_000_000 / ARRIVALS_PER_HOUR
    network = loss_model(horizon)
    engine_rates, hand_rates = [], []
    blocking = {}
    for _ in range(3):
        result, seconds = timed(lambda: run_replication(network, 0))
        engine_rates.append(result.patients / seconds)
        frame = result.summary
        values = frame[frame.service == "ward"].set_index("metric").value
        blocking["engine"] = values["diverted"] / values["arrivals"]
        hand, seconds = timed(lambda: run_handwritten(ARRIVALS_PER_HOUR, MEAN_STAY_HOURS, BEDS, horizon))
        hand_rates.append(hand["arrivals"] / seconds)
        blocking["handwritten"] = hand["blocking"]
    engine_rate, hand_rate = statistics.median(engine_rates), statistics.median(hand_rates)
    print(f"loss_model_patients: {result.patients}")
    print(f"loss_model_blocking_engine: {blocking['engine']:.4f}")
    print(f"loss_model_blocking_handwritten: {blocking['handwritten']:.4f}")
    print(f"loss_model_engine_patients_per_second: {engine_rate:,.0f}")
    print(f"loss_model_handwritten_patients_per_second: {hand_rate:,.0f}")

    # memory: one-tenth of the horizon against the full horizon, event log off
    short = loss_model(horizon / 10)
    small = peak_megabytes(lambda: run_replication(short, 0))
    large = peak_megabytes(lambda: run_replication(network, 0))
    print(f"loss_model_peak_memory_mb_100k_patients: {small:.1f}")
    print(f"loss_model_peak_memory_mb_1m_patients: {large:.1f}")
    print(f"loss_model_memory_growth_for_10x_horizon: {large / small:.2f}")
    print(f"engine_vs_handwritten_speedup: {engine_rate / hand_rate:.2f}")


if __name__ == "__main__":
    main()
