"""A calibration definition: which pathway, which observed series, which unknowns.

``carepath calibrate outputs calibration/rn7.yaml`` reads a YAML file (loaded
safely, checked with pydantic like a pathway, errors as ``file:line: key:
message``) that states:

- the **pathway** whose discharge side is calibrated, the acute service whose
  daily series are compared, and the demand stream that admits patients;
- **admissions**: a monthly series of emergency admissions that drives the
  simulated arrivals month by month (a covariate, so a busy winter in the data
  is a busy winter in the model);
- **observed** series (daily or monthly) and which simulated daily series each
  matches (``discharges``, ``delayed``, ``occupancy``, ``admissions``);
- the **unknowns**, each with a prior and how it enters the model: ``scales:
  admissions`` (the share of emergency admissions the pathway's acute flow
  represents), ``scales: <dotted path>`` (multiplies every duration under a key,
  e.g. all lengths of stay), ``set: {<dotted path>: <value with {value}>}`` (any
  pathway value, e.g. the discharge-ready-to-discharge delay of a pathway), or
  ``adds_to: <observed series>`` (beds the model does not represent, such as
  elective and paediatric patients in general and acute occupancy);
- the windows: months fitted, months held out, months forecast; and the ABC
  settings (population, generations, seed).

A :class:`Problem` is the compiled, picklable form a worker needs: the pathway
tree, the admissions series and the observed monthly means. :func:`simulate_months`
is the model: unknowns in, monthly means of the simulated series out.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.calibration.series import monthly_means, read_series
from sim.document import Document, load_yaml, translate_validation_error
from sim.errors import InputError
from sim.units import parse_duration

SIMULATED = ("discharges", "delayed", "occupancy", "admissions")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prior(_Model):
    """``{uniform: [low, high]}`` or ``{loguniform: [low, high]}``."""

    uniform: tuple[float, float] | None = None
    loguniform: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _one(self) -> Prior:
        given = [(name, value) for name, value in (("uniform", self.uniform), ("loguniform", self.loguniform)) if value is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of: uniform: [low, high], loguniform: [low, high]")
        name, (low, high) = given[0]
        if not high > low:
            raise ValueError(f"{name}: the upper bound must exceed the lower, got [{low}, {high}]")
        if name == "loguniform" and low <= 0:
            raise ValueError("loguniform: bounds must be positive")
        return self

    @property
    def family(self) -> str:
        return "uniform" if self.uniform is not None else "loguniform"

    @property
    def bounds(self) -> tuple[float, float]:
        return self.uniform if self.uniform is not None else self.loguniform  # type: ignore[return-value]


class Unknown(_Model):
    """One parameter the data cannot show directly, with its prior and where it enters."""

    label: str | None = None
    unit: str | None = None
    prior: Prior
    scales: str | None = None
    set: dict[str, Any] | None = None
    adds_to: str | None = None
    truth: float | None = None  # for recovery tests: the value the data were simulated with

    @model_validator(mode="after")
    def _one(self) -> Unknown:
        given = [k for k in ("scales", "set", "adds_to") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("say how the unknown enters the model with exactly one of: scales, set, adds_to")
        return self


class SeriesSource(_Model):
    """Where an observed series is: a CSV, a row filter, its date and value columns."""

    file: str
    where: dict[str, str] = {}
    date: str = "date"
    value: str
    frequency: Literal["daily", "monthly"] = "daily"
    zero_is_missing: bool = True


class Observed(SeriesSource):
    simulated: Literal["discharges", "delayed", "occupancy", "admissions"]
    label: str | None = None
    weight: Annotated[float, Field(gt=0)] = 1.0


class AbcSettings(_Model):
    population: Annotated[int, Field(ge=10)] = 100
    generations: Annotated[int, Field(ge=1)] = 5
    min_acceptance: Annotated[float, Field(gt=0, lt=1)] = 0.02
    seed: Annotated[int, Field(ge=0)] = 0
    predictive_draws: Annotated[int, Field(ge=10)] = 60
    max_minutes: Annotated[float, Field(gt=0)] = 30.0


class Study(_Model):
    """A calibration definition file (see the module notes)."""

    carepath_calibration: Literal[1] = 1
    name: str
    org_code: str
    label: str | None = None
    pathway: str
    acute_service: str = "hospital"
    demand: str = "emergency"
    admissions: SeriesSource
    observed: Annotated[dict[str, Observed], Field(min_length=1)]
    unknowns: Annotated[dict[str, Unknown], Field(min_length=1)]
    data_end: str | None = None
    fit_months: Annotated[int, Field(ge=3)] = 12
    holdout_months: Annotated[int, Field(ge=0)] = 6
    forecast_months: Annotated[int, Field(ge=1)] = 12
    warm_up: str = "8 weeks"
    refit_for_forecast: bool = True
    abc: AbcSettings = AbcSettings()


def _plain(node: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists (cheap to pickle and copy)."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, int) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def load_study(path: str | Path) -> tuple[Study, Document]:
    """Load and check a calibration file.

    Raises
    ------
    InputError
        ``file:line: key: message`` for anything wrong, including unknowns whose
        series or pathway keys do not exist.
    """
    document = load_yaml(path, "calibration file")
    try:
        study = Study.model_validate(document.data)
    except ValidationError as exc:
        raise translate_validation_error(exc, document) from None
    for name, unknown in study.unknowns.items():
        if unknown.adds_to is not None and unknown.adds_to not in study.observed:
            raise document.error(("unknowns", name, "adds_to"), f"no observed series {unknown.adds_to!r} (have: {', '.join(study.observed)})")
    try:
        parse_duration(study.warm_up)
    except ValueError as exc:
        raise document.error(("warm_up",), str(exc)) from None
    return study, document


# ---------------------------------------------------------------------------
# the compiled problem


@dataclass
class Problem:
    """What every simulation needs, picklable: pathway tree, admissions, windows, unknowns."""

    name: str
    org_code: str
    pathway_path: str
    pathway_data: Any
    pathway_lines: list[str]
    acute_service: str
    demand: str
    unknowns: dict[str, Unknown]
    admissions: pd.Series  # admissions per day, by month (Period index)
    observed: dict[str, pd.Series]  # monthly means by month (Period index), NaN = missing
    weights: dict[str, float]
    simulated: dict[str, str]
    data_end: pd.Period
    fit_months: int
    holdout_months: int
    forecast_months: int
    warm_up_hours: float
    sources: dict[str, dict]

    def months(self, first: pd.Period, last: pd.Period) -> pd.PeriodIndex:
        return pd.period_range(first, last, freq="M")

    def windows(self, refit: bool = False) -> tuple[pd.Period, pd.Period]:
        """(first, last) fitted month: before the hold-out, or the latest months when refitting."""
        last = self.data_end if refit else self.data_end - self.holdout_months
        return last - (self.fit_months - 1), last


def build_problem(study: Study, document: Document) -> Problem:
    """Read every file the study names and check they fit together."""
    base = Path(document.path).parent
    from sim.pathway import load_pathway

    pathway_path = base / study.pathway
    pathway, pathway_document = load_pathway(pathway_path)
    if study.acute_service not in pathway.services:
        raise document.error(("acute_service",), f"the pathway has no service {study.acute_service!r} (has: {', '.join(pathway.services)})")
    if study.demand not in pathway.demand:
        raise document.error(("demand",), f"the pathway has no demand stream {study.demand!r} (has: {', '.join(pathway.demand)})")
    from sim.scenario import path_exists

    for name, unknown in study.unknowns.items():
        paths = list(unknown.set or {}) + ([unknown.scales] if unknown.scales and unknown.scales != "admissions" else [])
        for dotted in paths:
            if not path_exists(pathway_document.data, dotted):
                from sim.scenario import describe_missing

                raise document.error(("unknowns", name), f"{dotted}: {describe_missing(pathway_document.data, dotted)} in {study.pathway}")
    sources: dict[str, dict] = {}

    def read(source: SeriesSource, name: str, key: tuple) -> pd.Series:
        try:
            series = read_series(
                base / source.file, source.value, date=source.date, frequency=source.frequency,
                where=source.where, name=name, zero_is_missing=source.zero_is_missing,
            )
        except InputError as error:
            raise document.error(key, str(error)) from None
        sources[name] = series.source
        return series.values

    raw_admissions = read(study.admissions, "admissions", ("admissions",))
    if study.admissions.frequency == "monthly":
        admissions = raw_admissions / raw_admissions.index.days_in_month
    else:
        admissions = monthly_means(raw_admissions)["value"]
    observed = {}
    for name, spec in study.observed.items():
        values = read(spec, name, ("observed", name))
        observed[name] = monthly_means(values)["value"] if spec.frequency == "daily" else values
    data_end = pd.Period(study.data_end, freq="M") if study.data_end else max(s.index.max() for s in observed.values())
    first_needed = data_end - study.holdout_months - study.fit_months + 1
    if min(s.index.min() for s in observed.values()) > first_needed:
        raise document.error(("fit_months",), f"the observed series start after {first_needed}: too few months for {study.fit_months} fitted and {study.holdout_months} held out")
    if admissions.index.min() > first_needed - 3:
        raise document.error(("admissions",), f"admissions must start by {first_needed - 3} (three months before the fit, for the warm-up)")
    return Problem(
        name=study.name,
        org_code=study.org_code,
        pathway_path=str(pathway_path),
        pathway_data=_plain(pathway_document.data),
        pathway_lines=pathway_document.lines,
        acute_service=study.acute_service,
        demand=study.demand,
        unknowns=dict(study.unknowns),
        admissions=admissions,
        observed=observed,
        weights={name: spec.weight for name, spec in study.observed.items()},
        simulated={name: spec.simulated for name, spec in study.observed.items()},
        data_end=data_end,
        fit_months=study.fit_months,
        holdout_months=study.holdout_months,
        forecast_months=study.forecast_months,
        warm_up_hours=parse_duration(study.warm_up),
        sources=sources,
    )


# ---------------------------------------------------------------------------
# the model: unknowns -> monthly means


def _scale_durations(node: Any, factor: float) -> Any:
    """Every duration under a key multiplied by ``factor`` (shapes and probabilities untouched)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("mean", "sd", "scale", "min", "max", "mode", "fixed") and isinstance(value, str):
                out[key] = f"{parse_duration(value) * factor:.6g} hours"
            elif key == "values" and isinstance(value, list):
                out[key] = [v * factor for v in value]
            elif key in ("when", "shape", "weights", "unit"):
                out[key] = value
            else:
                out[key] = _scale_durations(value, factor)
        return out
    if isinstance(node, list):
        return [_scale_durations(v, factor) for v in node]
    if isinstance(node, str):
        try:
            return f"{parse_duration(node) * factor:.6g} hours"
        except ValueError:
            return node
    return node


def _fill(template: Any, value: float) -> Any:
    if isinstance(template, dict):
        return {k: _fill(v, value) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, value) for v in template]
    if isinstance(template, str):
        if template.strip() == "{value}":
            return value
        return template.replace("{value}", f"{value:.6g}")
    return template


def pathway_for(problem: Problem, params: dict[str, float], start: pd.Timestamp):
    """The validated, compiled pathway with the unknowns set and the calendar at ``start``."""
    from sim.network import compile_network
    from sim.pathway import validate_document
    from sim.scenario import apply_overrides, split_path

    data = copy.deepcopy(problem.pathway_data)
    overrides: dict[str, Any] = {"start": start.date()}
    for name, unknown in problem.unknowns.items():
        value = float(params[name])
        if unknown.set is not None:
            for dotted, template in unknown.set.items():
                overrides[dotted] = _fill(template, value)
        elif unknown.scales and unknown.scales != "admissions":
            node = data
            for part in split_path(unknown.scales):
                node = node[part]
            overrides[unknown.scales] = _scale_durations(node, value)
    data = apply_overrides(data, overrides)
    pathway = validate_document(Document(problem.pathway_path, data, problem.pathway_lines), data)
    return compile_network(pathway)


def admissions_scale(problem: Problem, params: dict[str, float]) -> float:
    scale = 1.0
    for name, unknown in problem.unknowns.items():
        if unknown.scales == "admissions":
            scale *= float(params[name])
    return scale


def draw_arrivals(
    network, admissions_per_day: pd.Series, start: pd.Timestamp, end: pd.Timestamp, demand: str, rng: np.random.Generator
) -> pd.DataFrame:
    """Arrival times (hours from ``start``): Poisson by hour, the month's daily rate shaped by the stream's hour and weekday profile."""
    plan = next(p for p in network.demand if p.name == demand)
    hours = pd.date_range(start, end, freq="h", inclusive="left")
    months = hours.to_period("M")
    daily = admissions_per_day.reindex(months).to_numpy(dtype=float)
    if np.isnan(daily).any():
        missing = sorted({str(m) for m, d in zip(months, daily, strict=True) if np.isnan(d)})
        raise InputError(f"no admissions figure for {', '.join(missing[:4])}")
    intensity = daily / 24.0 * plan.hour[hours.hour.to_numpy()] * plan.weekday[hours.day_of_week.to_numpy()]
    counts = rng.poisson(intensity)
    offsets = np.repeat(np.arange(len(hours), dtype=float), counts)
    times = np.sort(offsets + rng.random(len(offsets)))
    return pd.DataFrame({"time": times})


def simulate_days(
    problem: Problem,
    params: dict[str, float],
    first: pd.Period,
    last: pd.Period,
    seed: int,
    admissions: pd.Series | None = None,
) -> pd.DataFrame:
    """The acute service's simulated daily series (``discharges``, ``delayed``, ``occupancy``, ...) by date.

    The run starts a warm-up before ``first`` (from empty) and ends with the month
    ``last``; ``admissions`` (per day, by month) defaults to the observed series.
    """
    from sim.model import Simulation

    start = (first.to_timestamp() - pd.Timedelta(hours=problem.warm_up_hours)).normalize()
    end = (last + 1).to_timestamp()
    network = pathway_for(problem, params, start)
    series = (problem.admissions if admissions is None else admissions) * admissions_scale(problem, params)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
    arrivals = draw_arrivals(network, series, start, end, problem.demand, rng)
    horizon = (end - start) / pd.Timedelta(hours=1)
    warm_up = (first.to_timestamp() - start) / pd.Timedelta(hours=1)
    result = Simulation(network, 0, seed=seed, horizon=horizon, warm_up=warm_up, arrivals=arrivals).run()
    ts = result.timeseries
    ts = ts[ts["service"] == problem.acute_service]
    table = ts.pivot_table(index="day", columns="metric", values="value", aggfunc="first")
    # day k is recorded at the end of day k (1-based), so it belongs to the date start + k - 1
    table.index = pd.DatetimeIndex(start + pd.to_timedelta(table.index.to_numpy() - 1, unit="D"), name="date")
    return table.loc[table.index >= first.to_timestamp()]


def simulate_months(
    problem: Problem,
    params: dict[str, float],
    first: pd.Period,
    last: pd.Period,
    seed: int,
    admissions: pd.Series | None = None,
) -> pd.DataFrame:
    """Monthly means of every observed series' simulated counterpart, ``first`` to ``last``.

    Returns a frame indexed by month with one column per observed series (with any
    ``adds_to`` unknowns added).
    """
    daily = simulate_days(problem, params, first, last, seed, admissions)
    monthly = daily.groupby(daily.index.to_period("M")).mean()
    out = pd.DataFrame(index=pd.period_range(first, last, freq="M"))
    for name, simulated in problem.simulated.items():
        values = monthly[simulated].reindex(out.index) if simulated in monthly else np.nan
        for unknown_name, unknown in problem.unknowns.items():
            if unknown.adds_to == name:
                values = values + float(params[unknown_name])
        out[name] = values
    return out


def summary_statistics(problem: Problem, frame: pd.DataFrame) -> dict[str, float]:
    """Months of each series as named statistics (``delayed_patients:2023-05``), observed months only."""
    stats = {}
    for name in problem.observed:
        observed = problem.observed[name]
        for month, value in frame[name].items():
            if month in observed.index and not math.isnan(observed.get(month, math.nan)):
                stats[f"{name}:{month}"] = float(value)
    return stats


def observed_statistics(problem: Problem, first: pd.Period, last: pd.Period) -> dict[str, float]:
    stats = {}
    for name, series in problem.observed.items():
        for month, value in series.items():
            if first <= month <= last and not math.isnan(value):
                stats[f"{name}:{month}"] = float(value)
    return stats


__all__ = [
    "Problem",
    "Study",
    "build_problem",
    "load_study",
    "observed_statistics",
    "pathway_for",
    "simulate_days",
    "simulate_months",
    "summary_statistics",
]
