"""Calibration speed and memory.

Prints ``name: value`` lines, the headline last:

- fitting inputs from 1,000,000 synthetic spells (exact date-times, about 1%
  still open, four age bands, discharge-ready times on a fifth of them) with
  ``carepath calibrate inputs``, run as a separate process so that its wall time
  (imports included) and peak resident memory are its own (targets: under 60 s,
  under 2 GB);
- the worked example, every file in ``calibration/`` (the four Kent acute
  trusts, RN7, RPA, RVV and RWF, each fitted, checked on held-out months,
  refitted and forecast, one after another), on 2 worker processes (target:
  under 15 minutes for all four). It writes ``results/calibration-demo/``
  (one ``forecast.csv`` with every trust, ``holdout_errors.csv``,
  ``index.html`` and a subfolder per trust), so this run is also ``make
  calibrate-demo``. Printed per trust: its wall time and simulations, and for
  each metric the held-out MAPE, bias and 80% and 95% coverage; the total wall
  time is the headline.

Run: ``.venv/bin/python benchmarks/calibration.py``. The machine is shared and
noisy: the figures are one run's.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPELLS = 1_000_000


def synthetic_spells(path: Path, n: int = SPELLS, seed: int = 1) -> None:
    """Spells with known structure: NHPP admissions over three years, log-normal stays by age."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2021-04-01T00:00")
    minutes = np.sort(rng.integers(0, 3 * 365 * 1440, n))
    age = rng.choice([30, 70, 80, 90], size=n, p=[0.55, 0.15, 0.17, 0.13]) + rng.integers(-5, 5, n)
    mean = np.select([age < 65, age < 75, age < 85], [2.0, 5.0, 7.0], 9.0)
    sigma = 1.0
    stay_days = rng.lognormal(np.log(mean) - sigma**2 / 2, sigma)
    admitted = start + minutes.astype("timedelta64[m]")
    discharged = admitted + (stay_days * 1440).astype("timedelta64[m]")
    end = start + np.timedelta64(3 * 365 * 1440, "m")
    open_ = discharged > end
    ready = discharged - (rng.exponential(1.5, n) * 1440).astype("timedelta64[m]")
    has_ready = (rng.random(n) < 0.2) & (ready > admitted) & ~open_
    destination = rng.choice(["usual_residence", "community_bed", "care_home", "died"], size=n, p=[0.88, 0.06, 0.03, 0.03])
    frame = pd.DataFrame(
        {
            "admitted": pd.Series(admitted).dt.strftime("%Y-%m-%d %H:%M"),
            "discharged": np.where(open_, "", pd.Series(discharged).dt.strftime("%Y-%m-%d %H:%M")),
            "ready": np.where(has_ready, pd.Series(ready).dt.strftime("%Y-%m-%d %H:%M"), ""),
            "age": age,
            "admission_method": np.where(rng.random(n) < 0.8, "emergency", "elective"),
            "discharge_destination": np.where(open_, "", destination),
        }
    )
    frame.to_csv(path, index=False)


def input_fitting() -> None:
    carepath = ROOT / ".venv" / "bin" / "carepath"
    with tempfile.TemporaryDirectory() as folder:
        spells = Path(folder) / "spells.csv"
        synthetic_spells(spells)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        done = subprocess.run(
            [str(carepath), "calibrate", "inputs", str(spells), "--out", str(Path(folder) / "out")],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if done.returncode != 0:
            raise SystemExit(f"input fitting failed:\n{done.stderr}")
        stays = pd.read_csv(Path(folder) / "out" / "stays.csv")
    print(f"input_fit_spells: {SPELLS}")
    print(f"input_fit_seconds: {elapsed:.1f}  (target < 60)")
    print(f"input_fit_peak_memory_mb: {max(peak, before) / 1024:.0f}  (target < 2048)")
    chosen = stays[stays["chosen"]]
    for row in chosen.itertuples():
        print(f"input_fit_los_{row.age_band}: {row.family} mean {row.mean_days:.3f} days (95% CI {row.mean_lower95:.3f}-{row.mean_upper95:.3f})")


def worked_example() -> None:
    from sim.calibration.outputs import run_studies

    started = time.perf_counter()
    results = run_studies([ROOT / "calibration"], ROOT / "results" / "calibration-demo", jobs=2, echo=lambda *_: None)
    elapsed = time.perf_counter() - started
    for org_code, result in results["studies"].items():
        summary = result["summary"]
        settings = summary["settings"]
        print(
            f"worked_example_{org_code}_seconds: {summary['seconds']:.0f}  ({summary['simulations']:,} simulations; "
            f"ABC population {settings['population']}, {settings['generations']} generations, {settings['predictive_draws']} predictive draws)"
        )
        for row in result["holdout"]["errors"].itertuples():
            print(
                f"worked_example_{org_code}_holdout_{row.metric}: MAPE {row.mape:.1%}, bias {row.bias:+.3g}, "
                f"80% coverage {row.coverage80:.0%}, 95% coverage {row.coverage95:.0%} ({row.months} months)"
            )
    codes = ", ".join(results["studies"])
    print(f"worked_example_simulations: {results['summary']['simulations']}")
    print(f"worked_example_calibration_seconds_2_cores: {elapsed:.0f}  ({codes}; target < 900)")


if __name__ == "__main__":
    input_fitting()
    worked_example()
