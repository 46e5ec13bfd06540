"""Length of stay: which distribution, with what parameters, and how sure.

Stays are fitted by maximum likelihood (Law, *Simulation Modeling and Analysis*,
5th ed., ch. 6) for each candidate family (exponential, log-normal, gamma,
Weibull: the families a pathway file can state), and the family with the lowest
AIC is chosen. Two features of hospital data shape the likelihood:

- **Open spells are censored, not dropped.** A patient still in hospital when the
  extract was taken has stayed *at least* so long; their contribution is the
  survival function ``S(c)``. Dropping them removes long stays preferentially
  and biases the mean downwards (tested).
- **Dates without times count midnights.** HES gives admission and discharge
  *dates*; a stay of ``T`` days admitted at a uniformly random time of day spans
  ``D = floor(T + U)`` midnights, so ``P(D = d | T) = max(0, 1 - |T - d|)`` and
  ``P(D = d) = G(d-1) - 2 G(d) + G(d+1)`` with ``G(x) = E[(T - x)+]``, the
  integrated survival function, which each family has in closed form. Same-day
  stays (``D = 0``) are then perfectly ordinary data, not a problem for a
  log-normal. An open spell seen for ``c`` midnights contributes ``P(D >= c) =
  G(c-1) - G(c)``.

Identical values are counted once with a weight, so a million HES spells reduce
to a few hundred distinct (midnights, open) pairs and fit in milliseconds.

Each fit carries standard errors from the observed information (a numerical
Hessian of the log-likelihood), a 95% interval for the mean stay by the delta
method, a goodness-of-fit check (the largest gap between the Kaplan-Meier
survival curve and the fitted one, with a Kolmogorov p-value over the uncensored
stays: approximate, and conservative because the parameters were estimated),
and the percentiles for a Q-Q plot. Only aggregates leave this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

FAMILIES = ("exponential", "lognormal", "gamma", "weibull")
#: Percentiles drawn on Q-Q plots (aggregates, never individual stays).
QQ_PERCENTILES = np.arange(1, 100) / 100.0
_TINY = 1e-300


@dataclass(frozen=True)
class StayData:
    """Stays reduced to distinct values with counts.

    ``values`` in days; ``open`` marks right-censored values; ``midnights`` says
    the values are whole midnights (dates without times) rather than exact times.
    """

    values: np.ndarray
    open: np.ndarray
    counts: np.ndarray
    midnights: bool

    @classmethod
    def from_stays(cls, days: np.ndarray, open_: np.ndarray | None = None, midnights: bool = False) -> StayData:
        days = np.asarray(days, dtype=float)
        open_ = np.zeros(len(days), dtype=bool) if open_ is None else np.asarray(open_, dtype=bool)
        if midnights:
            days = np.maximum(np.round(days), 0.0)
        else:
            # stays to the nearest five minutes (a stay of under five minutes counts as one
            # minute): identical values are then counted once, and five minutes is far below
            # the precision that matters for stays of hours to weeks
            days = np.maximum(np.round(days * 288.0) / 288.0, 1.0 / 1440.0)
        pairs, counts = np.unique(np.column_stack([days, open_.astype(float)]), axis=0, return_counts=True)
        values, flags = pairs[:, 0], pairs[:, 1] > 0.5
        return cls(values=values, open=flags, counts=counts.astype(float), midnights=midnights)

    @property
    def log_values(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.values)

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def n_open(self) -> int:
        return int(self.counts[self.open].sum())


# ---------------------------------------------------------------------------
# families: unconstrained parameters -> scipy distribution and G(x) = E[(T - x)+]


@dataclass(frozen=True)
class Family:
    """A candidate family in unconstrained parameters, with closed forms for the likelihood.

    ``logpdf``/``logsf``/``sf`` take ``(theta, x, log_x)`` and are written out with
    scipy.special rather than through frozen scipy.stats objects: building a frozen
    distribution costs about a millisecond, and a fit evaluates the likelihood
    hundreds of times. ``frozen`` (scipy.stats) is used for everything else, and the
    tests check the closed forms against it.
    """

    name: str
    k: int
    frozen: Callable[[np.ndarray], stats.rv_continuous]
    upper_mean: Callable[[np.ndarray, np.ndarray], np.ndarray]  # E[T; T > x]
    start: Callable[[float, float], np.ndarray]  # from a mean and sd
    spec: Callable[[np.ndarray], dict]
    logpdf: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    logsf: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    mean: Callable[[np.ndarray], float]


def _lognormal_upper(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    mu, sigma = theta[0], math.exp(theta[1])
    with np.errstate(divide="ignore"):
        z = (mu + sigma**2 - np.log(x)) / sigma
    return math.exp(mu + sigma**2 / 2) * special.ndtr(z)


def _gamma_upper(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    a, scale = math.exp(theta[0]), math.exp(theta[1])
    return a * scale * special.gammaincc(a + 1, x / scale)


def _weibull_upper(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    k, scale = math.exp(theta[0]), math.exp(theta[1])
    return scale * special.gamma(1 + 1 / k) * special.gammaincc(1 + 1 / k, (x / scale) ** k)


def _lognormal_start(mean: float, sd: float) -> np.ndarray:
    sigma2 = math.log1p((sd / mean) ** 2)
    return np.array([math.log(mean) - sigma2 / 2, 0.5 * math.log(sigma2)])


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lognormal_logpdf(t, x, log_x):
    sigma = math.exp(t[1])
    z = (log_x - t[0]) / sigma
    return -log_x - t[1] - _HALF_LOG_2PI - 0.5 * z * z


def _lognormal_logsf(t, x, log_x):
    return special.log_ndtr(-(log_x - t[0]) / math.exp(t[1]))


def _gamma_logpdf(t, x, log_x):
    a, scale = math.exp(t[0]), math.exp(t[1])
    return (a - 1) * log_x - x / scale - special.gammaln(a) - a * t[1]


def _gamma_logsf(t, x, log_x):
    a, scale = math.exp(t[0]), math.exp(t[1])
    with np.errstate(divide="ignore"):
        return np.log(special.gammaincc(a, x / scale))


def _weibull_logpdf(t, x, log_x):
    k = math.exp(t[0])
    return t[0] - t[1] + (k - 1) * (log_x - t[1]) - np.exp(k * (log_x - t[1]))


def _weibull_logsf(t, x, log_x):
    return -np.exp(math.exp(t[0]) * (log_x - t[1]))


def _days(value: float) -> str:
    return f"{value:.4g} days"


FAMILY = {
    "exponential": Family(
        "exponential",
        1,
        lambda t: stats.expon(scale=math.exp(t[0])),
        lambda t, x: math.exp(t[0]) * special.gammaincc(2, x / math.exp(t[0])),
        lambda mean, sd: np.array([math.log(mean)]),
        lambda t: {"exponential": {"mean": _days(math.exp(t[0]))}},
        lambda t, x, log_x: -t[0] - x / math.exp(t[0]),
        lambda t, x, log_x: -x / math.exp(t[0]),
        lambda t: math.exp(t[0]),
    ),
    "lognormal": Family(
        "lognormal",
        2,
        lambda t: stats.lognorm(s=math.exp(t[1]), scale=math.exp(t[0])),
        _lognormal_upper,
        _lognormal_start,
        lambda t: {"lognormal": {"mean": _days(_mean("lognormal", t)), "sd": _days(_sd("lognormal", t))}},
        _lognormal_logpdf,
        _lognormal_logsf,
        lambda t: math.exp(t[0] + math.exp(2 * t[1]) / 2),
    ),
    "gamma": Family(
        "gamma",
        2,
        lambda t: stats.gamma(a=math.exp(t[0]), scale=math.exp(t[1])),
        _gamma_upper,
        lambda mean, sd: np.array([math.log((mean / sd) ** 2), math.log(sd**2 / mean)]),
        lambda t: {"gamma": {"mean": _days(_mean("gamma", t)), "sd": _days(_sd("gamma", t))}},
        _gamma_logpdf,
        _gamma_logsf,
        lambda t: math.exp(t[0] + t[1]),
    ),
    "weibull": Family(
        "weibull",
        2,
        lambda t: stats.weibull_min(c=math.exp(t[0]), scale=math.exp(t[1])),
        _weibull_upper,
        lambda mean, sd: np.array([math.log(max(0.2, min(5.0, (sd / mean) ** -1.086))), math.log(mean)]),
        lambda t: {"weibull": {"shape": round(math.exp(t[0]), 4), "scale": _days(math.exp(t[1]))}},
        _weibull_logpdf,
        _weibull_logsf,
        lambda t: math.exp(t[1]) * special.gamma(1 + 1 / math.exp(t[0])),
    ),
}


def _mean(name: str, theta: np.ndarray) -> float:
    return float(FAMILY[name].frozen(theta).mean())


def _sd(name: str, theta: np.ndarray) -> float:
    return float(FAMILY[name].frozen(theta).std())


def integrated_survival(family: Family, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``G(x) = E[(T - x)+]``: for x < 0 it is ``E[T] - x``."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    negative = x <= 0
    mean = family.mean(theta)
    out[negative] = mean - x[negative]
    positive = ~negative
    xp = x[positive]
    out[positive] = family.upper_mean(theta, xp) - xp * np.exp(family.logsf(theta, xp, np.log(xp)))
    return out


def log_likelihood(family: Family, theta: np.ndarray, data: StayData) -> float:
    """The censored (and, for midnights, discretised) log-likelihood."""
    try:
        if not np.all(np.abs(theta) < 50):
            return -math.inf
        x, open_, w = data.values, data.open, data.counts
        if data.midnights:
            closed = ~open_
            d = x[closed]
            g = integrated_survival(family, theta, np.concatenate([d - 1, d, d + 1]))
            m = len(d)
            p_closed = g[:m] - 2 * g[m : 2 * m] + g[2 * m :]
            c = x[open_]
            gc = integrated_survival(family, theta, np.concatenate([c - 1, c]))
            p_open = gc[: len(c)] - gc[len(c) :]
            total = w[closed] @ np.log(np.maximum(p_closed, _TINY)) + w[open_] @ np.log(np.maximum(p_open, _TINY))
        else:
            log_x = data.log_values
            closed = ~open_
            total = w[closed] @ family.logpdf(theta, x[closed], log_x[closed]) + w[open_] @ family.logsf(theta, x[open_], log_x[open_])
    except (ValueError, OverflowError, FloatingPointError):
        return -math.inf
    return float(total) if np.isfinite(total) else -math.inf


def _hessian(function: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    k = len(theta)
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            value = (
                function(theta + ei + ej) - function(theta + ei - ej) - function(theta - ei + ej) + function(theta - ei - ej)
            ) / (4 * h[i] * h[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


@dataclass
class FamilyFit:
    """One family's maximum-likelihood fit."""

    family: str
    theta: np.ndarray
    covariance: np.ndarray | None
    log_likelihood: float
    aic: float
    mean: float
    sd: float
    mean_ci: tuple[float, float]
    ks_statistic: float = math.nan
    ks_p_value: float = math.nan
    converged: bool = True

    def spec(self) -> dict:
        """The fitted distribution as a pathway file states it."""
        return FAMILY[self.family].spec(self.theta)

    def frozen(self):
        return FAMILY[self.family].frozen(self.theta)


@dataclass
class StayFit:
    """Every candidate family fitted to one group's stays, the best first."""

    group: str
    n: int
    n_open: int
    midnights: bool
    fits: list[FamilyFit]
    km_quantiles: np.ndarray = field(default_factory=lambda: np.array([]))  # observed percentiles (KM)

    @property
    def best(self) -> FamilyFit:
        return self.fits[0]


def fit_family(name: str, data: StayData) -> FamilyFit:
    """Maximum-likelihood fit of one family (censoring and midnights handled)."""
    family = FAMILY[name]
    closed = data.values[~data.open]
    weights = data.counts[~data.open]
    if len(closed) == 0:
        closed, weights = data.values, data.counts
    mean0 = max(float(np.average(closed, weights=weights)), 0.05)
    sd0 = max(float(np.sqrt(np.average((closed - mean0) ** 2, weights=weights))), 0.05 * mean0)

    def negative(theta: np.ndarray) -> float:
        value = log_likelihood(family, theta, data)
        return -value if np.isfinite(value) else 1e300

    start = family.start(mean0 + (0.5 if data.midnights else 0.0), sd0)
    result = optimize.minimize(negative, start, method="BFGS", options={"gtol": 1e-5})
    if not result.success and not np.isfinite(result.fun):
        result = optimize.minimize(negative, start, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
    theta = result.x
    loglik = -negative(theta)
    covariance = None
    try:
        hessian = _hessian(lambda t: log_likelihood(family, t, data), theta)
        covariance = np.linalg.inv(-hessian)
        if not np.all(np.isfinite(covariance)) or np.any(np.diag(covariance) < 0):
            covariance = None
    except np.linalg.LinAlgError:
        covariance = None
    mean = _mean(name, theta)
    if covariance is not None:
        step = 1e-5 * np.maximum(1.0, np.abs(theta))
        gradient = np.array([(_mean(name, theta + e) - _mean(name, theta - e)) / (2 * s) for e, s in zip(np.diag(step), step, strict=True)])
        se = math.sqrt(max(float(gradient @ covariance @ gradient), 0.0))
        ci = (mean - 1.96 * se, mean + 1.96 * se)
    else:
        ci = (math.nan, math.nan)
    return FamilyFit(
        family=name,
        theta=theta,
        covariance=covariance,
        log_likelihood=loglik,
        aic=2 * family.k - 2 * loglik,
        mean=mean,
        sd=_sd(name, theta),
        mean_ci=ci,
        converged=bool(np.isfinite(loglik)),
    )


def kaplan_meier(data: StayData) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival at each distinct closed value (times, S(t))."""
    order = np.argsort(data.values, kind="stable")
    values, open_, counts = data.values[order], data.open[order], data.counts[order]
    at_risk = counts[::-1].cumsum()[::-1]
    events = np.where(open_, 0.0, counts)
    factor = np.where(at_risk > 0, 1 - events / np.maximum(at_risk, 1), 1.0)
    survival = np.cumprod(factor)
    closed = ~open_
    return values[closed], survival[closed]


def _model_survival(fit: FamilyFit, data: StayData, times: np.ndarray) -> np.ndarray:
    """Model survival comparable with the KM curve: of T (exact) or of D (midnights), P(> t)."""
    if not data.midnights:
        return fit.frozen().sf(times)
    family = FAMILY[fit.family]
    # P(D > d) = P(D >= d + 1) = G(d) - G(d + 1)
    g = integrated_survival(family, fit.theta, np.concatenate([times, times + 1]))
    return g[: len(times)] - g[len(times) :]


def goodness_of_fit(fit: FamilyFit, data: StayData) -> None:
    """Largest gap between the Kaplan-Meier and fitted survival; Kolmogorov p-value (approximate)."""
    times, km = kaplan_meier(data)
    if len(times) == 0:
        return
    model = _model_survival(fit, data, times)
    # compare just before each step too, so the statistic is the sup over the whole curve
    before = np.concatenate([[1.0], km[:-1]])
    model_before = _model_survival(fit, data, np.maximum(times - 1e-9, 0)) if not data.midnights else np.concatenate([[1.0], model[:-1]])
    statistic = float(max(np.max(np.abs(km - model)), np.max(np.abs(before - model_before))))
    events = max(data.n - data.n_open, 1)
    fit.ks_statistic = statistic
    fit.ks_p_value = float(stats.kstwobign.sf(statistic * math.sqrt(events)))


def km_quantiles(data: StayData, probabilities: np.ndarray = QQ_PERCENTILES) -> np.ndarray:
    """Observed percentiles from the Kaplan-Meier curve (NaN beyond the last closed stay)."""
    times, survival = kaplan_meier(data)
    cdf = 1 - survival
    index = np.searchsorted(cdf, probabilities - 1e-12, side="left")
    out = np.full(len(probabilities), np.nan)
    ok = index < len(times)
    out[ok] = times[index[ok]]
    return out


def model_quantiles(fit: FamilyFit, data: StayData, probabilities: np.ndarray = QQ_PERCENTILES) -> np.ndarray:
    """Fitted percentiles on the same scale as the observed ones (midnights rounded)."""
    q = fit.frozen().ppf(probabilities)
    return np.floor(q + 0.5) if data.midnights else q


def fit_stays(
    days: np.ndarray,
    open_: np.ndarray | None = None,
    midnights: bool = False,
    group: str = "all",
    families: tuple[str, ...] = FAMILIES,
) -> StayFit:
    """Fit every candidate family to one group's stays; best (lowest AIC) first.

    Parameters
    ----------
    days:
        Stays in days (for open spells: time in hospital so far).
    open_:
        True where the spell was still open when the data end (right-censored).
    midnights:
        Stays are whole midnights (dates without times).
    """
    data = StayData.from_stays(days, open_, midnights)
    fits = []
    for name in families:
        fit = fit_family(name, data)
        if fit.converged:
            goodness_of_fit(fit, data)
            fits.append(fit)
    fits.sort(key=lambda f: f.aic)
    return StayFit(group=group, n=data.n, n_open=data.n_open, midnights=midnights, fits=fits, km_quantiles=km_quantiles(data))


__all__ = ["FAMILIES", "FamilyFit", "StayData", "StayFit", "fit_family", "fit_stays", "kaplan_meier"]
