"""The pathway file: a validated, immutable description of a local care system.

A pathway file says who lives where (localities, populations, age mix), how
often they reach a crisis (demand as rates with units, shaped by hour, weekday
and month), what they are like (attribute mixes), which services exist (rapid
response teams, step-up beds, hubs, acute beds, care packages) and how patients
move between steps. It is data, not code: a commissioner can read it and a
reviewer can audit every number in it.

Loading happens in two passes, both of which report ``file:line: key: message``:

1. **Shape** (pydantic, ``extra="forbid"``, ``frozen=True``): every key is known,
   every value has the right type and unit. A typo such as ``bedz`` is an error,
   never silently ignored.
2. **Meaning** (:func:`check_meaning`): every name resolves, every set of
   probabilities sums to 1, every rule names known attributes and values, every
   step can be reached and every route ends at an exit (the step graph is
   acyclic, so no patient is trapped), each service's outcomes are routed.

The result is a :class:`Pathway`. Units are already converted to clock hours.
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from sim import distributions as dist
from sim import units
from sim.document import Document, load_yaml, translate_validation_error
from sim.errors import InputErrors
from sim.quantities import (
    ClockRange,
    Count,
    Days,
    Duration,
    Growth,
    Money,
    PositiveDuration,
    RateValue,
    Share,
    Weight,
)
from sim.rules import RuleError, parse_rule

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
DISCHARGE_PATHWAYS = ("P0", "P1", "P2", "P3")
#: Attributes every patient carries without being declared.
BUILT_IN_ATTRIBUTES = ("age_band", "locality", "stream")


class Model(BaseModel):
    """Base for every part of a pathway file: unknown keys are errors; values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------
# distributions


class ExponentialSpec(Model):
    mean: PositiveDuration


class LognormalSpec(Model):
    """Log-normal stated by its mean and standard deviation."""

    mean: PositiveDuration
    sd: PositiveDuration


class GammaSpec(Model):
    """Gamma stated by its mean and standard deviation."""

    mean: PositiveDuration
    sd: PositiveDuration


class WeibullSpec(Model):
    shape: Annotated[float, Field(gt=0)]
    scale: PositiveDuration


class TriangularSpec(Model):
    min: Duration
    mode: Duration
    max: Duration

    @model_validator(mode="after")
    def _ordered(self) -> TriangularSpec:
        if not (self.min <= self.mode <= self.max and self.min < self.max):
            raise ValueError("expected min <= mode <= max with min < max")
        return self


class UniformSpec(Model):
    min: Duration
    max: Duration

    @model_validator(mode="after")
    def _ordered(self) -> UniformSpec:
        if not self.min < self.max:
            raise ValueError("expected min < max")
        return self


class EmpiricalSpec(Model):
    """Observed values to resample: ``values: [2 days, 5 days]`` or ``unit: days`` with numbers."""

    values: list[Any] = Field(min_length=1)
    unit: str | None = None
    weights: list[Weight] | None = None

    @model_validator(mode="after")
    def _convert(self) -> EmpiricalSpec:
        if self.unit is not None:
            unit = self.unit.lower()
            if unit not in units.TIME_UNITS:
                raise ValueError(f"unknown time unit {self.unit!r} (use min, hours, days, ...)")
            for value in self.values:
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"with 'unit' given, values must be numbers >= 0, got {value!r}")
        else:
            for value in self.values:
                units.parse_duration(value)
        if self.weights is not None and len(self.weights) != len(self.values):
            raise ValueError(f"expected {len(self.values)} weights, one per value, got {len(self.weights)}")
        if self.weights is not None and sum(self.weights) <= 0:
            raise ValueError("weights must not all be zero")
        return self

    def hours(self) -> tuple[float, ...]:
        if self.unit is not None:
            factor = units.TIME_UNITS[self.unit.lower()]
            return tuple(float(v) * factor for v in self.values)
        return tuple(units.parse_duration(v) for v in self.values)


class DistributionSpec(Model):
    """One named distribution. A plain duration such as ``45 min`` means ``fixed: 45 min``."""

    fixed: Duration | None = None
    exponential: ExponentialSpec | None = None
    lognormal: LognormalSpec | None = None
    gamma: GammaSpec | None = None
    weibull: WeibullSpec | None = None
    triangular: TriangularSpec | None = None
    uniform: UniformSpec | None = None
    empirical: EmpiricalSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"fixed": value}
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(
                f"expected a duration with a unit or a distribution, e.g. '45 min' or "
                f"{{lognormal: {{mean: 5 days, sd: 3 days}}}}, got {value}"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> DistributionSpec:
        given = [name for name in dist.FAMILIES if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "expected exactly one distribution (fixed, exponential, lognormal, gamma, weibull, "
                f"triangular, uniform or empirical), got {len(given)}"
            )
        return self

    def build(self) -> dist.Distribution:
        """The runtime distribution, in clock hours."""
        if self.fixed is not None:
            return dist.Fixed(self.fixed)
        if self.exponential:
            return dist.Exponential(self.exponential.mean)
        if self.lognormal:
            return dist.Lognormal(self.lognormal.mean, self.lognormal.sd)
        if self.gamma:
            return dist.Gamma(self.gamma.mean, self.gamma.sd)
        if self.weibull:
            return dist.Weibull(self.weibull.shape, self.weibull.scale)
        if self.triangular:
            t = self.triangular
            return dist.Triangular(t.min, t.mode, t.max)
        if self.uniform:
            return dist.Uniform(self.uniform.min, self.uniform.max)
        assert self.empirical is not None
        weights = tuple(self.empirical.weights) if self.empirical.weights else None
        return dist.Empirical(self.empirical.hours(), weights)


def _rule_syntax(text: str) -> str:
    try:
        parse_rule(text)
    except RuleError as exc:
        raise ValueError(str(exc)) from None
    return text


RuleText = Annotated[
    str,
    AfterValidator(_rule_syntax),
    Field(description='A rule like "age_band in [75-84, 85+] and frailty != fit"'),
]


class DurationRule(Model):
    """``{when: RULE, use: DISTRIBUTION}`` or, last, ``{otherwise: DISTRIBUTION}``."""

    when: RuleText | None = None
    use: DistributionSpec | None = None
    otherwise: DistributionSpec | None = None

    @model_validator(mode="after")
    def _shape(self) -> DurationRule:
        if self.otherwise is not None and (self.when is not None or self.use is not None):
            raise ValueError("an 'otherwise' entry stands alone (no 'when' or 'use')")
        if self.otherwise is None and (self.when is None or self.use is None):
            raise ValueError("expected {when: RULE, use: DISTRIBUTION} or {otherwise: DISTRIBUTION}")
        return self


def _by_shape(value: Any) -> str:
    if isinstance(value, list):
        return "<rules>"
    if isinstance(value, dict):
        return "<mapping>"
    return "<text>"


TimeSpec = Annotated[
    Annotated[DistributionSpec, Tag("<mapping>")]
    | Annotated[DistributionSpec, Tag("<text>")]
    | Annotated[list[DurationRule], Tag("<rules>")],
    Discriminator(_by_shape),
]


# ---------------------------------------------------------------------------
# routes


def _split(value: dict[str, float]) -> dict[str, float]:
    if not value:
        raise ValueError("expected at least one destination with its probability")
    total = sum(value.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValueError(f"probabilities sum to {total:.6g}, expected 1")
    return value


#: Destinations with probabilities that sum to 1: ``{home: 0.8, step_up: 0.2}``.
Split = Annotated[dict[str, Share], AfterValidator(_split)]

#: A single destination (a step or exit name) or a split between several.
Target = Annotated[
    Annotated[str, Tag("<text>")] | Annotated[Split, Tag("<mapping>")],
    Discriminator(lambda v: "<mapping>" if isinstance(v, dict) else "<text>"),
]


class RouteRule(Model):
    """``{when: RULE, to: TARGET}`` or, last, ``{otherwise: TARGET}``; a target is a name or a split."""

    when: RuleText | None = None
    to: Target | None = None
    otherwise: Target | None = None

    @model_validator(mode="after")
    def _shape(self) -> RouteRule:
        if self.otherwise is not None and (self.when is not None or self.to is not None):
            raise ValueError("an 'otherwise' entry stands alone (no 'when' or 'to')")
        if self.otherwise is None and (self.when is None or self.to is None):
            raise ValueError("expected {when: RULE, to: TARGET} or {otherwise: TARGET}")
        return self


#: Where patients go: a name, a split ``{a: 0.7, b: 0.3}``, or rules tried in order.
Route = Annotated[
    Annotated[str, Tag("<text>")]
    | Annotated[Split, Tag("<mapping>")]
    | Annotated[list[RouteRule], Tag("<rules>")],
    Discriminator(_by_shape),
]


# ---------------------------------------------------------------------------
# people and places


class Locality(Model):
    """A place patients live: a GP cluster, a town, a primary care network."""

    label: str | None = None
    population: Count
    age_mix: dict[str, Share] | None = None
    growth: Growth | dict[str, Growth] | None = None


class TravelMatrix(Model):
    """Travel times between localities for one way of travelling.

    ``between`` lists each pair once (either direction); ``within`` is the time
    to travel inside one locality, the same for all or per locality.
    """

    within: Duration | dict[str, Duration]
    between: dict[str, dict[str, Duration]] = {}


class AttributeSpec(Model):
    """A patient attribute drawn from a stated mix, optionally by another attribute.

    ``mix: {fit: 0.4, mild: 0.3, ...}``, or with ``by: age_band``,
    ``mix: {0-64: {fit: 0.8, ...}, 85+: {...}}``.
    """

    label: str | None = None
    by: str | None = None
    mix: dict[str, Share | dict[str, Share]]


class Profile(Model):
    """Relative demand by hour of day, day of week (Monday first) and month (January first).

    Each list is scaled to average 1, so the profile shapes demand without
    changing the annual rate.
    """

    hour: Annotated[list[Weight], Field(min_length=24, max_length=24)] | None = None
    weekday: Annotated[list[Weight], Field(min_length=7, max_length=7)] | None = None
    month: Annotated[list[Weight], Field(min_length=12, max_length=12)] | None = None

    @model_validator(mode="after")
    def _not_all_zero(self) -> Profile:
        for name in ("hour", "weekday", "month"):
            values = getattr(self, name)
            if values is not None and sum(values) <= 0:
                raise ValueError(f"the {name} profile is all zero")
        return self


class DemandStream(Model):
    """Patients reaching a crisis: a rate, a shape over time, and the step they enter."""

    label: str | None = None
    rate: RateValue | dict[str, RateValue]
    profile: Profile | None = None
    growth: Growth | None = None
    localities: list[str] | None = None
    enters: str


# ---------------------------------------------------------------------------
# services


class Shift(Model):
    """Staff on duty: ``{role: nurse, staff: 4, days: every day, hours: "08:00-20:00"}``."""

    role: str = "staff"
    staff: Count
    days: Days
    hours: ClockRange


class AtClose(Model):
    """What happens when a shift ends or a hub closes: stated, never implicit.

    ``in_service``: ``finish`` (the visit is completed; the extra time is counted as
    overtime) or ``hand_on`` (the patient is handed to the next shift, first in line).
    ``queued``: ``wait`` (seen by the next shift, or the next morning) or ``divert``
    (sent on by the step's ``on_divert`` route, typically the emergency department).
    """

    in_service: Literal["finish", "hand_on"]
    queued: Literal["wait", "divert"]


class Cost(Model):
    """What a service costs. Only the items that apply to a kind of service are allowed."""

    staff_hour: Money | None = None
    overtime_hour: Money | None = None
    post_per_year: Money | None = None
    bed_day: Money | None = None
    occupied_bed_day: Money | None = None
    package_day: Money | None = None
    admission: Money | None = None
    per_patient: Money | None = None
    site_per_year: Money | None = None
    fixed_per_year: Money | None = None


COST_ITEMS = {
    "team": {"staff_hour", "overtime_hour", "post_per_year", "per_patient", "fixed_per_year"},
    "hub": {"staff_hour", "overtime_hour", "per_patient", "site_per_year", "fixed_per_year"},
    "beds": {"bed_day", "occupied_bed_day", "per_patient", "fixed_per_year"},
    "care_package": {"package_day", "per_patient", "fixed_per_year"},
    "acute": {"occupied_bed_day", "admission", "fixed_per_year"},
}


class WaitLimit(Model):
    wait: Duration


WhenFull = Literal["divert", "wait"] | WaitLimit


class TeamService(Model):
    """A staff pool that goes to the patient: community rapid response, a discharge team.

    Staffing is either a constant ``staff`` on duty around the clock or a
    ``roster`` of shifts by role. A team with a ``base`` travels to the patient's
    locality, and travel counts towards the response time; a team with no base
    works on site (an integrated discharge team in the hospital).
    """

    kind: Literal["team"]
    label: str | None = None
    staff: Count | None = None
    roster: list[Shift] | None = None
    base: str | None = None
    return_to_base: bool = True
    at_shift_end: AtClose | None = None
    utilisation_target: Share | None = None
    cost: Cost | None = None

    @model_validator(mode="after")
    def _staffing(self) -> TeamService:
        if (self.staff is None) == (self.roster is None):
            raise ValueError("give either 'staff' (on duty around the clock) or a 'roster' of shifts")
        if self.roster is not None and self.at_shift_end is None:
            raise ValueError(
                "a rostered team must say what happens at the end of a shift: "
                "at_shift_end: {in_service: finish|hand_on, queued: wait|divert}"
            )
        return self


class BedsService(Model):
    """Beds with a capacity: step-up beds bought from care homes, step-down or rehab beds."""

    kind: Literal["beds"]
    label: str | None = None
    beds: Count
    when_full: WhenFull
    occupancy_target: Share | None = None
    cost: Cost | None = None


class CarePackageService(Model):
    """Packages of care at home (discharge pathway 1): a number running at once."""

    kind: Literal["care_package"]
    label: str | None = None
    packages: Count
    when_full: WhenFull = "wait"
    occupancy_target: Share | None = None
    cost: Cost | None = None


class Opening(Model):
    days: Days
    hours: ClockRange


class HubService(Model):
    """A local care hub at one or more sites, open at stated hours.

    Patients travel to the nearest open site; travel counts towards their response
    time and patients further than ``max_travel`` from every site go elsewhere.
    """

    kind: Literal["hub"]
    label: str | None = None
    sites: list[str]
    candidate_sites: list[str] | None = None
    clinicians: Count | None = None
    roster: list[Shift] | None = None
    opening: Opening | list[Opening] | None = None
    when_closed: Literal["wait", "divert"] | None = None
    at_close: AtClose | None = None
    max_travel: Duration | None = None
    utilisation_target: Share | None = None
    cost: Cost | None = None

    @model_validator(mode="after")
    def _staffing(self) -> HubService:
        if (self.clinicians is None) == (self.roster is None):
            raise ValueError("give either 'clinicians' (per site, during opening hours) or a 'roster' per site")
        if self.opening is not None and self.when_closed is None:
            raise ValueError("a hub with opening hours must say what happens to patients who arrive when it is closed: when_closed: wait|divert")
        if (self.opening is not None or self.roster is not None) and self.at_close is None:
            raise ValueError(
                "a hub with opening hours must say what happens at closing time: "
                "at_close: {in_service: finish|hand_on, queued: wait|divert}"
            )
        return self


class AcuteService(Model):
    """The acute hospital. Emergency admissions are never refused: occupancy above
    ``beds`` is counted (as escalation beds) so the board sees the pressure."""

    kind: Literal["acute"]
    label: str | None = None
    beds: Count
    occupancy_target: Share | None = None
    cost: Cost | None = None


def _service_kind(value: Any) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return f"<{kind}>" if kind in SERVICE_KINDS else None


Service = Annotated[
    Annotated[TeamService, Tag("<team>")]
    | Annotated[BedsService, Tag("<beds>")]
    | Annotated[CarePackageService, Tag("<care_package>")]
    | Annotated[HubService, Tag("<hub>")]
    | Annotated[AcuteService, Tag("<acute>")],
    Discriminator(
        _service_kind,
        custom_error_type="invalid_kind",
        custom_error_message="expected kind: team, beds, care_package, hub or acute",
    ),
]
SERVICE_KINDS = ("team", "beds", "care_package", "hub", "acute")
BED_KINDS = ("beds", "care_package", "acute")
STAFF_KINDS = ("team", "hub")


# ---------------------------------------------------------------------------
# steps


class Discharge(Model):
    """Leaving a bed by one of NHS England's discharge pathways.

    When the length of stay ends the patient may wait for assessment by a team
    (``assessed_by``; only for the pathways in ``assessed_for`` if given: ward staff
    discharge simple P0 patients themselves), then becomes ready for discharge and leaves by pathway
    P0 (home, no new support), P1 (home with reablement or a care package), P2
    (a step-down or rehabilitation bed) or P3 (a new care-home place). A patient
    waiting for the next service keeps their bed: that is a delayed discharge.
    """

    assessed_by: str | None = None
    assessment: TimeSpec | None = None
    assessed_for: list[Literal["P0", "P1", "P2", "P3"]] | None = None
    pathway: Route
    to: dict[Literal["P0", "P1", "P2", "P3"], str]
    delay: dict[Literal["P0", "P1", "P2", "P3"], TimeSpec] | None = None

    @model_validator(mode="after")
    def _assessment(self) -> Discharge:
        if (self.assessed_by is None) != (self.assessment is None):
            raise ValueError("give both 'assessed_by' (a team) and 'assessment' (how long it takes), or neither")
        if self.assessed_for is not None and self.assessed_by is None:
            raise ValueError("'assessed_for' needs 'assessed_by' (the team that assesses)")
        return self


class Step(Model):
    """One step of a pathway: a service used for a time, then a route onward.

    A step with no ``service`` is a decision point (or, with a ``duration``, a
    pure delay such as an ambulance journey).
    """

    label: str | None = None
    service: str | None = None
    duration: TimeSpec | None = None
    window: TimeSpec | None = None
    target: Duration | None = None
    roles: list[str] | None = None
    travel: Target | None = None
    next: Route | None = None
    on_divert: Route | None = None
    on_escalate: Route | None = None
    discharge: Discharge | None = None


class InitialState(Model):
    """Start a run from a stated census rather than an empty system.

    ``in_service``: patients in each step at the start (in a bed, or being visited).
    ``delayed``: patients already ready for discharge and waiting, by step and
    discharge pathway. Elapsed stays are drawn consistently (length-biased).
    """

    as_of: date | None = None
    in_service: dict[str, Count] = {}
    delayed: dict[str, dict[Literal["P1", "P2", "P3"], Count]] = {}


class Pathway(Model):
    """A whole local care system as data. See the README's tutorial."""

    carepath: Literal[1] = 1
    name: str
    description: str | None = None
    start: date = date(2024, 4, 1)
    horizon: PositiveDuration = units.HOURS_PER_YEAR
    warm_up: Duration = 0.0
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    age_bands: Annotated[list[str], Field(min_length=1)]
    age_mix: dict[str, Share] | None = None
    localities: Annotated[dict[str, Locality], Field(min_length=1)]
    travel: dict[Literal["car", "public_transport"], TravelMatrix] | None = None
    attributes: dict[str, AttributeSpec] = {}
    demand: Annotated[dict[str, DemandStream], Field(min_length=1)]
    services: dict[str, Service] = {}
    steps: Annotated[dict[str, Step], Field(min_length=1)]
    exits: Annotated[list[str], Field(min_length=1)]
    initial_state: InitialState | None = None

    # ------------------------------------------------------------------
    def service_kind(self, name: str | None) -> str | None:
        return None if name is None else self.services[name].kind

    def attribute_levels(self) -> dict[str, list[str]]:
        """Every attribute a rule may name, with its values in order."""
        levels = {
            "age_band": list(self.age_bands),
            "locality": list(self.localities),
            "stream": list(self.demand),
        }
        for name, spec in self.attributes.items():
            levels[name] = attribute_levels(spec)
        return levels

    def acute_services(self) -> list[str]:
        return [name for name, service in self.services.items() if service.kind == "acute"]


def attribute_levels(spec: AttributeSpec) -> list[str]:
    if spec.by is None:
        return list(spec.mix)
    first = next(iter(spec.mix.values()))
    return list(first) if isinstance(first, dict) else []


# ---------------------------------------------------------------------------
# loading


def load_pathway(path: str | Path) -> tuple[Pathway, Document]:
    """Load and validate a pathway file.

    Raises
    ------
    InputError
        With file, line and key, for anything wrong in the file.
    """
    document = load_yaml(path)
    return validate_document(document), document


def validate_document(document: Document, data: Any | None = None) -> Pathway:
    """Validate a loaded document (or an overridden copy of its data)."""
    raw = document.data if data is None else data
    try:
        pathway = Pathway.model_validate(raw)
    except ValidationError as exc:
        raise translate_validation_error(exc, document, lambda loc: _allowed_at(loc, raw)) from None
    from sim.checks import check_meaning

    errors = list(check_meaning(pathway))
    if errors:
        raise InputErrors([document.error(loc, message) for loc, message in errors])
    return pathway


def _allowed_at(loc: tuple[Any, ...], raw: Any) -> list[str] | None:
    """Walk the schema alongside the data to find which model sits at ``loc``."""
    model: Any = Pathway
    node = raw
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if isinstance(part, str) and part.startswith("<"):
            continue
        if model is None:
            return None
        if isinstance(model, type) and issubclass(model, BaseModel):
            if part not in model.model_fields:
                return None
            annotation = model.model_fields[part].annotation
            node = node.get(part) if isinstance(node, dict) else None
            model = _container_model(annotation, parts, node)
        else:
            return None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return None


def _container_model(annotation: Any, parts: list[Any], node: Any) -> Any:
    """Resolve dict/list/union annotations down to the model for the next key."""
    import typing

    def models_in(tp: Any) -> list[type]:
        found: list[type] = []
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            return [tp]
        for arg in typing.get_args(tp) if origin is not None else []:
            found.extend(models_in(arg))
        return found

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        return _container_model(args[0], parts, node)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    # dict[str, X] or list[X]: the next data key is a name or index
    if origin in (dict, list) and parts:
        key = parts.pop(0)
        while parts and isinstance(key, str) and key.startswith("<"):
            key = parts.pop(0)
        value_type = args[-1]
        child = None
        if isinstance(node, dict):
            child = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            child = node[key]
        return _container_model(value_type, parts, child)
    candidates = models_in(annotation)
    if isinstance(node, dict) and "kind" in node:
        for candidate in candidates:
            kind_field = candidate.model_fields.get("kind")
            if kind_field is not None and node["kind"] in typing.get_args(kind_field.annotation):
                return candidate
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        return candidates[0]
    return None


