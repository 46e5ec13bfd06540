"""Approximate Bayesian computation: the unknowns that make simulated series look like observed ones.

Some parameters cannot be read off any data set: what share of a trust's
emergency admissions become the overnight stays its discharge situation report
counts, how long patients wait once ready to leave, how many beds patients the
model does not represent occupy. ABC (Beaumont 2010; Toni et al. 2009) finds the
values under which the *simulated* monthly means of discharges, delayed
patients and occupancy are close to the *observed* ones, without a likelihood:

1. draw unknowns from their priors, simulate, keep those whose distance to the
   data is below a threshold;
2. in each following generation, perturb the kept particles (a multivariate
   normal kernel), simulate, keep the closer ones under a tighter threshold
   (the median of the previous distances), and reweight by prior over proposal.

This is pyabc's ABC-SMC (Klinger, Rickert and Hasenauer 2018), with an adaptive
distance that scales each month of each series by its spread across simulations,
so no series dominates because of its units. The result is a weighted sample
from the approximate posterior: its quantiles are the reported intervals, and
its particles drive the predictive simulations (:mod:`~sim.calibration.forecast`).

Simulations go through carepath's parallel runner (:func:`sim.parallel.map_tasks`,
joblib's process pool locally or a Dask cluster), in batches that each sample
until one particle is accepted. Every task gets its own seed from the study's
seed, the generation and the task number, so a calibration is reproducible for
any number of workers.
"""

from __future__ import annotations

import logging
import math
import pickle
import random
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.study import (
    AbcSettings,
    Problem,
    observed_statistics,
    simulate_months,
    summary_statistics,
)
from sim.errors import InputError


def _require_pyabc():
    try:
        import pyabc
    except ImportError:  # pragma: no cover - depends on the install
        raise InputError("calibrating outputs needs pyabc: pip install 'carepath[calibrate]'") from None
    for name in ("ABC", "pyabc", "History", "Sampler", "Epsilon", "Distance"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return pyabc


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probabilities) -> np.ndarray:
    """Quantiles of a weighted sample (interpolating the weighted empirical CDF at mid-steps)."""
    order = np.argsort(values)
    values, weights = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cumulative = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return np.interp(probabilities, cumulative, values)


class SimulationModel:
    """Unknowns in, summary statistics out: the model pyabc calls (picklable)."""

    def __init__(self, problem: Problem, first: pd.Period, last: pd.Period) -> None:
        self.problem = problem
        self.first = first
        self.last = last

    def __call__(self, parameters: Any) -> dict[str, float]:
        params = {name: float(parameters[name]) for name in self.problem.unknowns}
        seed = int(np.random.randint(0, 2**31 - 1))  # np.random is seeded per task by the sampler
        frame = simulate_months(self.problem, params, self.first, self.last, seed)
        return summary_statistics(self.problem, frame)


def _sample_until_accepted(payload: bytes, seed: int) -> tuple[list, int]:
    """One task: simulate proposals until one is accepted (pyabc's mapping-sampler scheme)."""
    simulate_one = pickle.loads(payload)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    particles = []
    evaluations = 0
    while True:
        particle = simulate_one()
        evaluations += 1
        particles.append(particle)
        if particle.accepted:
            return particles, evaluations


def runner_sampler(jobs: int, seed: int):
    """A pyabc sampler that runs its simulations through carepath's parallel runner."""
    pyabc = _require_pyabc()

    class RunnerSampler(pyabc.sampler.Sampler):
        """Samples with :func:`sim.parallel.map_tasks`; seeds from (seed, generation, task)."""

        def __init__(self) -> None:
            super().__init__()
            self.jobs = jobs
            self.seed = seed
            self.generation = 0

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
            import cloudpickle  # installed with dask and pyabc

            from sim.parallel import map_tasks

            payload = cloudpickle.dumps(simulate_one)  # pyabc builds it from closures
            root = np.random.SeedSequence(self.seed, spawn_key=(self.generation,))
            self.generation += 1
            seeds = [int(s.generate_state(1)[0]) for s in root.spawn(n)]
            tasks = [(_sample_until_accepted, (payload, s)) for s in seeds]
            results: dict[int, tuple[list, int]] = dict(map_tasks(tasks, jobs=self.jobs))
            sample = self._create_empty_sample()
            evaluations = 0
            for index in range(n):  # in task order, whatever order they finished in
                particles, count = results[index]
                evaluations += count
                for particle in particles:
                    sample.append(particle)
            self.nr_evaluations_ = evaluations
            return sample

    return RunnerSampler()


@dataclass
class Posterior:
    """A weighted sample of the unknowns, with how it was reached."""

    particles: pd.DataFrame  # one column per unknown
    weights: np.ndarray
    generations: pd.DataFrame  # t, epsilon, particles, samples, acceptance
    evaluations: int
    first: pd.Period
    last: pd.Period
    priors: dict[str, tuple[str, float, float]] = field(default_factory=dict)

    def intervals(self, problem: Problem | None = None) -> pd.DataFrame:
        """Posterior median and 80% and 95% intervals of each unknown."""
        rows = []
        for name in self.particles.columns:
            q = weighted_quantiles(self.particles[name].to_numpy(), self.weights, [0.025, 0.1, 0.5, 0.9, 0.975])
            row = {"unknown": name, "lower95": q[0], "lower80": q[1], "median": q[2], "upper80": q[3], "upper95": q[4]}
            if name in self.priors:
                family, low, high = self.priors[name]
                row |= {"prior": f"{family} [{low:g}, {high:g}]"}
            if problem is not None:
                unknown = problem.unknowns[name]
                row |= {"label": unknown.label or name, "unit": unknown.unit or ""}
                if unknown.truth is not None:
                    row["truth"] = unknown.truth
            rows.append(row)
        return pd.DataFrame(rows)

    def draw(self, count: int, seed: int) -> list[dict[str, float]]:
        """``count`` parameter sets resampled in proportion to the weights."""
        rng = np.random.default_rng(seed)
        index = rng.choice(len(self.weights), size=count, replace=True, p=self.weights / self.weights.sum())
        return [self.particles.iloc[i].to_dict() for i in index]


def calibrate(
    problem: Problem,
    settings: AbcSettings,
    first: pd.Period,
    last: pd.Period,
    folder: Path,
    jobs: int = 1,
    label: str = "fit",
) -> Posterior:
    """ABC-SMC over the problem's unknowns, fitting months ``first`` to ``last``."""
    pyabc = _require_pyabc()
    observed = observed_statistics(problem, first, last)
    if not observed:
        raise InputError(f"no observed values between {first} and {last}")
    priors = {}
    rvs = {}
    for name, unknown in problem.unknowns.items():
        low, high = unknown.prior.bounds
        if unknown.prior.family == "uniform":
            rvs[name] = pyabc.RV("uniform", low, high - low)
        else:
            rvs[name] = pyabc.RV("loguniform", low, high)
        priors[name] = (unknown.prior.family, low, high)
    weights = {}
    for key in observed:
        weights[key] = problem.weights[key.split(":")[0]]
    distance = pyabc.AdaptivePNormDistance(p=2, fixed_weights=weights)
    sampler = runner_sampler(jobs, settings.seed + (0 if label == "fit" else 1000003))
    np.random.seed(settings.seed % 2**32)
    abc = pyabc.ABCSMC(
        SimulationModel(problem, first, last),
        pyabc.Distribution(**rvs),
        distance,
        population_size=settings.population,
        sampler=sampler,
    )
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / f"abc-{label}.db"
    database.unlink(missing_ok=True)
    abc.new(f"sqlite:///{database}", observed)
    history = abc.run(
        max_nr_populations=settings.generations,
        min_acceptance_rate=settings.min_acceptance,
        max_walltime=timedelta(minutes=settings.max_minutes),
    )
    particles, w = history.get_distribution(m=0, t=history.max_t)
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0]
    generations = pd.DataFrame(
        {
            "generation": populations["t"].to_numpy(),
            "epsilon": populations["epsilon"].to_numpy(),
            "samples": populations["samples"].to_numpy(),
            "particles": populations["particles"].to_numpy() if "particles" in populations else settings.population,
        }
    )
    generations["acceptance"] = generations["particles"] / generations["samples"]
    return Posterior(
        particles=particles[list(problem.unknowns)].reset_index(drop=True),
        weights=np.asarray(w, dtype=float),
        generations=generations,
        evaluations=int(history.total_nr_simulations),
        first=first,
        last=last,
        priors=priors,
    )


def effective_sample_size(weights: np.ndarray) -> float:
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / (w**2).sum()) if len(w) else math.nan


__all__ = ["Posterior", "SimulationModel", "calibrate", "effective_sample_size", "runner_sampler", "weighted_quantiles"]
