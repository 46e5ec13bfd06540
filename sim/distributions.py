"""Named distributions, parametrised the way modellers state them.

A length of stay is reported as "mean 16.4 days, sd 12 days", not as the
``mu`` and ``sigma`` of a log-normal, so lognormal and gamma distributions take
a mean and a standard deviation and convert (Law, *Simulation Modeling and
Analysis*, 5th ed., section 6.2). Every value is in clock hours: the pathway
loader converts units before it builds a distribution.

Every distribution draws by **inversion**: the engine hands it a vector of
uniforms, one per patient, and gets durations back through the quantile
function. A patient's uniform is fixed by common random numbers, so the same
patient is at the same percentile of length of stay in every scenario, even when
a rule gives them a different distribution. Inversion through ``scipy.stats``
quantile functions is vectorised, so a month of patients costs one call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats


class Distribution:
    """A non-negative duration distribution, sampled by inversion."""

    family: str = ""

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: uniforms in [0, 1) -> durations in hours."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def sd(self) -> float:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values from ``rng`` (by inversion, like the engine)."""
        return self.ppf(rng.random(size))

    def describe(self) -> str:
        return f"{self.family}(mean {self.mean:.4g} h, sd {self.sd:.4g} h)"


@dataclass(frozen=True)
class Fixed(Distribution):
    value: float
    family: str = field(default="fixed", init=False)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def sd(self) -> float:
        return 0.0

    def describe(self) -> str:
        return f"fixed {self.value:.4g} h"


@dataclass(frozen=True)
class _Scipy(Distribution):
    """Wraps a frozen scipy.stats distribution; subclasses build it."""

    def frozen(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.frozen().ppf(u)

    @property
    def mean(self) -> float:
        return float(self.frozen().mean())

    @property
    def sd(self) -> float:
        return float(self.frozen().std())


@dataclass(frozen=True)
class Exponential(_Scipy):
    mean_value: float
    family: str = field(default="exponential", init=False)

    def frozen(self):
        return stats.expon(scale=self.mean_value)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        # -log(1-u) directly: an order of magnitude faster than scipy's generic path
        return -self.mean_value * np.log1p(-np.asarray(u, dtype=float))


@dataclass(frozen=True)
class Lognormal(_Scipy):
    """Log-normal from its mean and standard deviation (not mu and sigma)."""

    mean_value: float
    sd_value: float
    family: str = field(default="lognormal", init=False)

    @property
    def sigma(self) -> float:
        return math.sqrt(math.log1p((self.sd_value / self.mean_value) ** 2))

    @property
    def mu(self) -> float:
        return math.log(self.mean_value) - self.sigma**2 / 2

    def frozen(self):
        return stats.lognorm(s=self.sigma, scale=math.exp(self.mu))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import ndtri

        return np.exp(self.mu + self.sigma * ndtri(np.asarray(u, dtype=float)))


@dataclass(frozen=True)
class Gamma(_Scipy):
    """Gamma from its mean and standard deviation: shape (mean/sd)^2, scale sd^2/mean."""

    mean_value: float
    sd_value: float
    family: str = field(default="gamma", init=False)

    def frozen(self):
        shape = (self.mean_value / self.sd_value) ** 2
        return stats.gamma(a=shape, scale=self.sd_value**2 / self.mean_value)


@dataclass(frozen=True)
class Weibull(_Scipy):
    shape: float
    scale: float
    family: str = field(default="weibull", init=False)

    def frozen(self):
        return stats.weibull_min(c=self.shape, scale=self.scale)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.scale * (-np.log1p(-np.asarray(u, dtype=float))) ** (1 / self.shape)


@dataclass(frozen=True)
class Triangular(_Scipy):
    low: float
    mode: float
    high: float
    family: str = field(default="triangular", init=False)

    def frozen(self):
        width = self.high - self.low
        return stats.triang(c=(self.mode - self.low) / width, loc=self.low, scale=width)


@dataclass(frozen=True)
class Uniform(_Scipy):
    low: float
    high: float
    family: str = field(default="uniform", init=False)

    def frozen(self):
        return stats.uniform(loc=self.low, scale=self.high - self.low)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resample observed values (with optional weights), by inversion of the step CDF."""

    values: tuple[float, ...]
    weights: tuple[float, ...] | None = None
    family: str = field(default="empirical", init=False)

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.values, kind="stable")
        values = np.asarray(self.values, dtype=float)[order]
        weights = (
            np.ones(len(values)) if self.weights is None else np.asarray(self.weights, float)[order]
        )
        cumulative = np.cumsum(weights) / weights.sum()
        return values, cumulative

    def ppf(self, u: np.ndarray) -> np.ndarray:
        values, cumulative = self._table()
        index = np.searchsorted(cumulative, np.asarray(u, dtype=float), side="right")
        return values[np.minimum(index, len(values) - 1)]

    @property
    def mean(self) -> float:
        values, cumulative = self._table()
        probabilities = np.diff(np.concatenate([[0.0], cumulative]))
        return float(values @ probabilities)

    @property
    def sd(self) -> float:
        values, cumulative = self._table()
        probabilities = np.diff(np.concatenate([[0.0], cumulative]))
        mean = values @ probabilities
        return float(np.sqrt(((values - mean) ** 2) @ probabilities))


FAMILIES = ("fixed", "exponential", "lognormal", "gamma", "weibull", "triangular", "uniform", "empirical")


def residual_after_inspection(
    distribution: Distribution, uniforms_total: np.ndarray, uniforms_elapsed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Elapsed and remaining durations of stays found in progress at a random moment.

    A patient found in a bed this morning is more likely to be on a long stay than
    a new admission is (the inspection paradox): the total stay of a patient in
    progress has the length-biased density ``x f(x) / E[X]`` and the elapsed part is
    uniform over it (Cox, *Renewal Theory*, 1962, section 5.2). Used to start a run
    from a stated census with stays drawn consistently.

    The length-biased quantiles are taken from a fine, fixed grid of the base
    distribution's quantiles, so the result depends only on the uniforms.
    """
    grid = (np.arange(4096) + 0.5) / 4096
    base = distribution.ppf(grid)
    weights = np.maximum(base, 0.0)
    if weights.sum() <= 0:
        zeros = np.zeros(len(uniforms_total))
        return zeros, zeros
    cumulative = np.cumsum(weights) / weights.sum()
    index = np.minimum(np.searchsorted(cumulative, uniforms_total, side="right"), len(base) - 1)
    total = base[index]
    elapsed = total * uniforms_elapsed
    return elapsed, total - elapsed
