"""The reference: a beds-only loss model written by hand in plain SimPy.

This is how a modeller writes the model in a notebook (the SimPy documentation's
style): a generator process for arrivals, a process per patient, a ``Resource``
request and release per stay, a scalar random draw per decision, and a list
append per patient for statistics. ``benchmarks/engine.py`` runs it side by side
with carepath's data-driven engine on the same model.
"""

from __future__ import annotations

import numpy as np
import simpy


def run_handwritten(arrivals_per_hour: float, mean_stay_hours: float, beds: int, horizon_hours: float, seed: int = 1) -> dict[str, float]:
    """Run the loss model; returns arrivals, admitted, blocked and the blocking share."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    ward = simpy.Resource(env, capacity=beds)
    log: list[tuple[float, str]] = []

    def patient(env: simpy.Environment):
        if ward.count >= ward.capacity:
            log.append((env.now, "blocked"))
            return
        with ward.request() as request:
            yield request
            log.append((env.now, "admitted"))
            yield env.timeout(rng.exponential(mean_stay_hours))

    def arrivals(env: simpy.Environment):
        while True:
            yield env.timeout(rng.exponential(1 / arrivals_per_hour))
            env.process(patient(env))

    env.process(arrivals(env))
    env.run(until=horizon_hours)
    admitted = sum(1 for _, event in log if event == "admitted")
    blocked = len(log) - admitted
    return {
        "arrivals": len(log),
        "admitted": admitted,
        "blocked": blocked,
        "blocking": blocked / len(log) if log else float("nan"),
    }
