"""Experiment files: which configurations to compare, against what, how many times.

A board asks "how many step-up beds and rapid-response staff should we fund?".
A modeller answers with an experiment file::

    name: thanet_beds_staff
    pathway: ../pathways/thanet.yaml
    baseline:
      label: no step-up beds, no rapid response
      set: {services.step_up.beds: 0, services.rapid_response.staff: 0}
    factors:
      services.step_up.beds: {levels: [0, 6, 12, 18, 24], label: step-up beds}
      services.rapid_response.staff: [2, 4, 6, 8]
    design: full_factorial
    replications: 20

Factors are dotted paths into the pathway file (checked to exist), with levels
or, for sampled designs, a range. Every scenario is the pathway with its
factor values set, validated again as a whole (:mod:`sim.scenario`), and is run
on the same patients as the baseline, replication by replication.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.document import Document, load_yaml, translate_validation_error
from sim.errors import InputError, InputErrors
from sim.pathway import NAME, Pathway, load_pathway
from sim.quantities import Duration, PositiveDuration
from sim.scenario import describe_missing, path_exists, scenario_pathway


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(Model):
    """A numeric range for sampled designs (Latin hypercube, Morris, Sobol)."""

    min: float
    max: float
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.min < self.max:
            raise ValueError("expected min < max")
        return self


class Factor(Model):
    """A factor: levels to try, or a range to sample, and a label for charts."""

    levels: list[Any] | None = None
    range: Range | None = None
    label: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {"levels": value}
        return value

    @model_validator(mode="after")
    def _one(self) -> Factor:
        if (self.levels is None) == (self.range is None):
            raise ValueError("give either 'levels' (a list) or a 'range' ({min, max})")
        if self.levels is not None and not self.levels:
            raise ValueError("expected at least one level")
        return self


class Baseline(Model):
    """What scenarios are compared with: the pathway as written plus these changes."""

    label: str = "baseline"
    set: dict[str, Any] = {}


class LatinHypercube(Model):
    points: Annotated[int, Field(ge=2)]


class Morris(Model):
    trajectories: Annotated[int, Field(ge=2)] = 10
    levels: Annotated[int, Field(ge=2)] = 4


class Sobol(Model):
    samples: Annotated[int, Field(ge=2)] = 64

    @model_validator(mode="after")
    def _power_of_two(self) -> Sobol:
        if self.samples & (self.samples - 1):
            raise ValueError(f"Sobol samples must be a power of 2 (e.g. 32, 64, 128), got {self.samples}")
        return self


class Design(Model):
    """How factor values are combined into scenarios."""

    latin_hypercube: LatinHypercube | None = None
    morris: Morris | None = None
    sobol: Sobol | None = None
    scenarios: dict[str, dict[str, Any]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value == "full_factorial":
            return {}
        if isinstance(value, str):
            raise ValueError(
                f"unknown design {value!r} (expected full_factorial, or one of latin_hypercube, morris, sobol, scenarios with their settings)"
            )
        return value

    @model_validator(mode="after")
    def _at_most_one(self) -> Design:
        chosen = [n for n in ("latin_hypercube", "morris", "sobol", "scenarios") if getattr(self, n) is not None]
        if len(chosen) > 1:
            raise ValueError(f"choose one design, got {', '.join(chosen)}")
        return self

    @property
    def kind(self) -> str:
        for name in ("latin_hypercube", "morris", "sobol", "scenarios"):
            if getattr(self, name) is not None:
                return name
        return "full_factorial"


class Precision(Model):
    """Add replications until the 95% CI half-width of admissions avoided is within ``target`` of its mean."""

    target: Annotated[float, Field(gt=0, lt=1)] = 0.05
    max_replications: Annotated[int, Field(ge=2)] = 200


class Experiment(Model):
    """An experiment file."""

    carepath: Literal[1] = 1
    name: str
    description: str | None = None
    pathway: str
    baseline: Baseline | Literal["as_written"] = "as_written"
    factors: dict[str, Factor] = {}
    design: Design = Design()
    replications: Annotated[int, Field(ge=1)] = 10
    horizon: PositiveDuration | None = None
    warm_up: Duration | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    precision: Precision | None = None
    outcome: str = "acute_admissions"

    @model_validator(mode="after")
    def _name(self) -> Experiment:
        if not NAME.match(self.name):
            raise ValueError("the name is also the results folder: letters, digits and _ only, starting with a letter")
        return self


@dataclass(frozen=True)
class Scenario:
    """One configuration to run: a name, its factor values and the validated pathway."""

    name: str
    values: dict[str, Any]
    pathway: Pathway
    key: str  # content hash of the validated pathway: the cache key of its runs
    is_baseline: bool = False


@dataclass
class LoadedExperiment:
    """An experiment with its pathway and every scenario validated."""

    spec: Experiment
    document: Document
    pathway_document: Document
    pathway_file: Path
    base: Pathway
    scenarios: list[Scenario]
    design_matrix: np.ndarray | None = None  # sampled designs: one row per scenario (not the baseline)
    factor_labels: dict[str, str] = field(default_factory=dict)

    @property
    def baseline(self) -> Scenario:
        return next(s for s in self.scenarios if s.is_baseline)

    @property
    def seed(self) -> int:
        return self.spec.seed if self.spec.seed is not None else self.base.seed

    @property
    def horizon(self) -> float:
        return self.spec.horizon if self.spec.horizon is not None else self.base.horizon

    @property
    def warm_up(self) -> float:
        return self.spec.warm_up if self.spec.warm_up is not None else self.base.warm_up


def _experiment_keys(loc: tuple[Any, ...]) -> list[str] | None:
    models: dict[tuple, type[BaseModel]] = {
        (): Experiment,
        ("baseline",): Baseline,
        ("design",): Design,
        ("precision",): Precision,
    }
    stripped = tuple(p for p in loc if not (isinstance(p, str) and p.startswith(("<", "function"))))
    if stripped in models:
        return list(models[stripped].model_fields)
    if len(stripped) == 2 and stripped[0] == "factors":
        return list(Factor.model_fields)
    if len(stripped) == 3 and stripped[0] == "factors" and stripped[2] == "range":
        return list(Range.model_fields)
    return None


def load_experiment(path: str | Path) -> LoadedExperiment:
    """Load an experiment file, its pathway and every scenario, or raise InputError."""
    document = load_yaml(path, "experiment file")
    try:
        spec = Experiment.model_validate(document.data)
    except ValidationError as exc:
        raise translate_validation_error(exc, document, _experiment_keys) from None
    pathway_file = (Path(document.path).parent / spec.pathway).resolve()
    if not pathway_file.exists():
        line, key = document.locate(("pathway",))
        raise InputError(f"no such pathway file: {spec.pathway} (looked for {pathway_file})", document.path, line, key)
    base, pathway_document = load_pathway(pathway_file)
    _check_paths(spec, document, pathway_document)
    scenarios, matrix, labels = _scenarios(spec, document, pathway_document)
    if spec.outcome not in ("acute_admissions", "acute_bed_days", "delayed_bed_days", "cost_total"):
        line, key = document.locate(("outcome",))
        raise InputError(
            f"unknown outcome {spec.outcome!r} (expected acute_admissions, acute_bed_days, delayed_bed_days or cost_total)",
            document.path,
            line,
            key,
        )
    return LoadedExperiment(spec, document, pathway_document, pathway_file, base, scenarios, matrix, labels)


def _check_paths(spec: Experiment, document: Document, pathway_document: Document) -> None:
    problems: list[InputError] = []
    paths: list[tuple[tuple[Any, ...], str]] = [(("factors", p), p) for p in spec.factors]
    if isinstance(spec.baseline, Baseline):
        paths += [(("baseline", "set", p), p) for p in spec.baseline.set]
    if spec.design.scenarios:
        for name, values in spec.design.scenarios.items():
            paths += [(("design", "scenarios", name, p), p) for p in values]
    for loc, path in paths:
        if not path_exists(pathway_document.data, path):
            line, key = document.locate(loc)
            problems.append(
                InputError(
                    f"not a key in the pathway ({pathway_document.path}): {describe_missing(pathway_document.data, path)}",
                    document.path,
                    line,
                    key,
                )
            )
    kind = spec.design.kind
    for name, factor in spec.factors.items():
        line, key = document.locate(("factors", name))
        if kind == "full_factorial" and factor.levels is None:
            problems.append(InputError("a full factorial design needs 'levels' (a list)", document.path, line, key))
        if kind in ("latin_hypercube", "morris", "sobol") and factor.range is None:
            problems.append(InputError(f"a {kind} design samples a 'range' ({{min, max}}), not levels", document.path, line, key))
    if kind in ("morris", "sobol") and len(spec.factors) < 2:
        line, key = document.locate(("design",))
        problems.append(InputError(f"a {kind} sensitivity design needs at least two factors", document.path, line, key))
    if kind == "scenarios" and spec.factors:
        line, key = document.locate(("factors",))
        problems.append(InputError("named scenarios set their own values: leave 'factors' out", document.path, line, key))
    if problems:
        raise InputErrors(problems)


def _label(path: str, factor: Factor | None) -> str:
    if factor is not None and factor.label:
        return factor.label
    parts = path.split(".")
    return " ".join(parts[-2:]).replace("_", " ")


def _format_level(value: Any) -> str:
    if isinstance(value, list):
        return "+".join(map(str, value)) if value else "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def scenario_name(values: dict[str, Any], labels: dict[str, str]) -> str:
    return ", ".join(f"{labels[path]}={_format_level(value)}" for path, value in values.items())


def _sample(spec: Experiment, seed: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Factor values for a sampled design, one dict per scenario, and the design matrix."""
    names = list(spec.factors)
    ranges = [spec.factors[n].range for n in names]
    design = spec.design
    if design.latin_hypercube is not None:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(design.latin_hypercube.points)
        matrix = qmc.scale(unit, [r.min for r in ranges], [r.max for r in ranges])
    else:
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample

        problem = salib_problem(spec)
        if design.morris is not None:
            matrix = morris_sample.sample(problem, N=design.morris.trajectories, num_levels=design.morris.levels, seed=seed)
        else:
            matrix = sobol_sample.sample(problem, N=design.sobol.samples, calc_second_order=False, seed=seed)
    rows = []
    for row in matrix:
        values = {}
        for name, value, factor_range in zip(names, row, ranges, strict=True):
            values[name] = round(value) if factor_range.integer else float(value)
        rows.append(values)
    return rows, np.asarray(matrix, dtype=float)


def salib_problem(spec: Experiment) -> dict[str, Any]:
    names = list(spec.factors)
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [[spec.factors[n].range.min, spec.factors[n].range.max] for n in names],
    }


def _scenarios(spec: Experiment, document: Document, pathway_document: Document) -> tuple[list[Scenario], np.ndarray | None, dict[str, str]]:
    from sim.runs import pathway_hash

    labels = {path: _label(path, factor) for path, factor in spec.factors.items()}
    baseline_values = dict(spec.baseline.set) if isinstance(spec.baseline, Baseline) else {}
    baseline_label = spec.baseline.label if isinstance(spec.baseline, Baseline) else "as written"
    matrix = None
    combinations: list[tuple[str, dict[str, Any]]] = []
    kind = spec.design.kind
    if kind == "full_factorial":
        names = list(spec.factors)
        for levels in itertools.product(*(spec.factors[n].levels for n in names)):
            values = dict(zip(names, levels, strict=True))
            combinations.append((scenario_name(values, labels) or "as written", values))
    elif kind == "scenarios":
        for name, values in spec.design.scenarios.items():
            combinations.append((name, dict(values)))
            for path in values:
                labels.setdefault(path, _label(path, None))
    else:
        seed = spec.seed if spec.seed is not None else 0
        rows, matrix = _sample(spec, seed)
        for index, values in enumerate(rows):
            combinations.append((f"{kind} point {index + 1}: " + scenario_name(values, labels), values))

    scenarios = [_make(pathway_document, baseline_values, f"baseline ({baseline_label})", True, pathway_hash)]
    seen_names: set[str] = set()
    for name, values in combinations:
        if name in seen_names:  # sampled integer designs can repeat a point; keep names unique
            name = f"{name} #{len(seen_names) + 1}"
        seen_names.add(name)
        # a scenario changes the pathway as written; the baseline's changes apply only to the baseline
        scenarios.append(_make(pathway_document, values, name, False, pathway_hash))
    return scenarios, matrix, labels


def _make(pathway_document: Document, values: dict[str, Any], name: str, is_baseline: bool, hasher) -> Scenario:
    pathway = scenario_pathway(pathway_document, values, name)
    return Scenario(name=name, values=dict(values), pathway=pathway, key=hasher(pathway), is_baseline=is_baseline)


def describe(experiment: LoadedExperiment) -> str:
    spec = experiment.spec
    runs = len(experiment.scenarios) * spec.replications
    return (
        f"{spec.name}: {len(experiment.scenarios) - 1} scenario(s) and a baseline, {spec.replications} replication(s) each "
        f"({runs} runs), design {spec.design.kind}, pathway {spec.pathway}"
    )



