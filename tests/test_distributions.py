"""Every named distribution: parametrised as modellers state it, sampled by inversion."""

import math

import numpy as np
import pytest
from scipy import stats

from sim import distributions as d
from sim.analysis import mean_ci

CASES = [
    (d.Exponential(5.0), 5.0, 5.0),
    (d.Lognormal(16.4, 12.0), 16.4, 12.0),
    (d.Gamma(7.0, 3.0), 7.0, 3.0),
    (d.Weibull(1.5, 4.0), 4.0 * math.gamma(1 + 1 / 1.5), 4.0 * math.sqrt(math.gamma(1 + 2 / 1.5) - math.gamma(1 + 1 / 1.5) ** 2)),
    (d.Triangular(1.0, 2.0, 6.0), 3.0, math.sqrt((1 + 4 + 36 - 2 - 6 - 12) / 18)),
    (d.Uniform(2.0, 4.0), 3.0, 2 / math.sqrt(12)),
    (d.Fixed(2.5), 2.5, 0.0),
    (d.Empirical((1.0, 2.0, 3.0, 10.0)), 4.0, float(np.std([1, 2, 3, 10]))),
    (d.Empirical((1.0, 2.0), (3.0, 1.0)), 1.25, math.sqrt(0.75 * 0.25)),
]


@pytest.mark.parametrize(("distribution", "mean", "sd"), CASES, ids=lambda c: getattr(c, "family", ""))
def test_stated_mean_and_sd(distribution, mean, sd):
    assert distribution.mean == pytest.approx(mean, rel=1e-9)
    assert distribution.sd == pytest.approx(sd, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize(("distribution", "mean", "sd"), CASES, ids=lambda c: getattr(c, "family", ""))
def test_sample_mean_lies_in_its_99_percent_interval(distribution, mean, sd):
    sample = distribution.sample(np.random.default_rng(7), 20_000)
    assert (sample >= 0).all()
    if sd == 0:
        assert np.all(sample == mean)
        return
    _, _, low, high, _ = mean_ci(sample, level=0.99)
    assert low <= mean <= high


@pytest.mark.parametrize("distribution", [c[0] for c in CASES if isinstance(c[0], d._Scipy)], ids=lambda c: c.family)
def test_inversion_matches_scipy(distribution):
    """Fast quantile shortcuts agree with scipy's own (Kolmogorov-Smirnov, fixed seed)."""
    sample = distribution.sample(np.random.default_rng(11), 5_000)
    assert stats.kstest(sample, distribution.frozen().cdf).pvalue > 0.001
    u = np.linspace(0.001, 0.999, 99)
    np.testing.assert_allclose(distribution.ppf(u), distribution.frozen().ppf(u), rtol=1e-9)


@pytest.mark.parametrize(("distribution", "mean", "sd"), CASES, ids=lambda c: getattr(c, "family", ""))
def test_same_seed_same_values_different_seed_different(distribution, mean, sd):
    a = distribution.sample(np.random.default_rng(3), 100)
    b = distribution.sample(np.random.default_rng(3), 100)
    np.testing.assert_array_equal(a, b)
    if sd > 0:
        c = distribution.sample(np.random.default_rng(4), 100)
        assert not np.array_equal(a, c)


def test_quantiles_are_monotone():
    u = np.sort(np.random.default_rng(1).random(1000))
    for distribution, _, _ in CASES:
        assert np.all(np.diff(distribution.ppf(u)) >= 0), distribution.family


def test_length_biased_residual_of_exponential_is_exponential():
    """Memoryless: the remaining stay of a patient found in bed is again exponential with the same mean."""
    rng = np.random.default_rng(5)
    elapsed, remaining = d.residual_after_inspection(d.Exponential(3.0), rng.random(20_000), rng.random(20_000))
    _, _, low, high, _ = mean_ci(remaining, level=0.99)
    assert low <= 3.0 <= high
    _, _, low, high, _ = mean_ci(elapsed + remaining, level=0.99)
    assert low <= 6.0 <= high  # a stay found in progress is twice as long on average
