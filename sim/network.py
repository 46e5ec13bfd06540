"""A validated pathway compiled for the engine: indices, arrays and rule functions.

The pathway file speaks in names (``step_up``, ``margate``, ``85+``); the engine
wants integers and numpy arrays. This module does that translation once per
scenario, so nothing in the event loop looks up a name or parses a rule.

Destinations are integers: steps are ``0 .. n_steps-1`` and exits follow them.
Each route and each duration becomes a small object that, given a month of
patients' attribute codes and uniforms, returns every patient's destination or
duration in one vectorised call (see :mod:`sim.sampling`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from sim import pathway as pw
from sim.distributions import Distribution, residual_after_inspection
from sim.roster import WeeklyRoster, open_intervals
from sim.rules import compile_rule, parse_rule

Mask = Callable[[Mapping[str, np.ndarray]], np.ndarray]

# draw slots: each step has its own stream, and each use of randomness at a step
# takes a fixed row of it, so adding a rule or a window never shifts another draw
SLOT_DURATION, SLOT_ROUTE, SLOT_WINDOW, SLOT_TRAVEL, SLOT_PATHWAY, SLOT_DELAY, SLOT_ASSESSMENT = range(7)
N_SLOTS = 7

NEXT, DIVERT, ESCALATE = 0, 1, 2
OUTCOMES = ("next", "on_divert", "on_escalate")


@dataclass(frozen=True)
class TimeRule:
    """A duration that may depend on the patient: the first matching rule applies."""

    branches: tuple[tuple[Mask | None, Distribution], ...]

    @classmethod
    def compile(cls, spec, levels: dict[str, list[str]]) -> TimeRule:
        if isinstance(spec, list):
            branches = []
            for rule in spec:
                if rule.otherwise is not None:
                    branches.append((None, rule.otherwise.build()))
                else:
                    branches.append((compile_rule(parse_rule(rule.when), levels), rule.use.build()))
            return cls(tuple(branches))
        return cls(((None, spec.build()),))

    def draw(self, codes: Mapping[str, np.ndarray], u: np.ndarray) -> np.ndarray:
        n = len(u)
        out = np.empty(n)
        todo = np.ones(n, dtype=bool)
        for mask_fn, distribution in self.branches:
            mask = todo if mask_fn is None else (todo & mask_fn(codes))
            if mask.any():
                out[mask] = distribution.ppf(u[mask])
                todo &= ~mask
            if not todo.any():
                break
        return out

    def residual(
        self, codes: Mapping[str, np.ndarray], u_total: np.ndarray, u_elapsed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Elapsed and remaining time of stays found in progress (length-biased)."""
        n = len(u_total)
        elapsed, remaining = np.zeros(n), np.zeros(n)
        todo = np.ones(n, dtype=bool)
        for mask_fn, distribution in self.branches:
            mask = todo if mask_fn is None else (todo & mask_fn(codes))
            if mask.any():
                elapsed[mask], remaining[mask] = residual_after_inspection(distribution, u_total[mask], u_elapsed[mask])
                todo &= ~mask
        return elapsed, remaining

    @property
    def constant(self) -> float | None:
        """The value when the duration is fixed for every patient, else None."""
        if len(self.branches) == 1 and self.branches[0][1].family == "fixed":
            return self.branches[0][1].mean
        return None

    def mean_for_all(self) -> float:
        return self.branches[-1][1].mean


@dataclass(frozen=True)
class RouteRule:
    """Where patients go: rules tried in order, each a fixed destination or a split."""

    branches: tuple[tuple[Mask | None, np.ndarray, np.ndarray], ...]

    @classmethod
    def compile(cls, route, index: Mapping[str, int], levels: dict[str, list[str]]) -> RouteRule:
        def target(spec) -> tuple[np.ndarray, np.ndarray]:
            if isinstance(spec, str):
                return np.array([index[spec]]), np.array([1.0])
            names = list(spec)
            probabilities = np.array([spec[name] for name in names], dtype=float)
            cumulative = np.cumsum(probabilities)
            cumulative[-1] = 1.0
            return np.array([index[name] for name in names]), cumulative

        if isinstance(route, list):
            branches = []
            for rule in route:
                if rule.otherwise is not None:
                    branches.append((None, *target(rule.otherwise)))
                else:
                    branches.append((compile_rule(parse_rule(rule.when), levels), *target(rule.to)))
            return cls(tuple(branches))
        return cls(((None, *target(route)),))

    def choose(self, codes: Mapping[str, np.ndarray], u: np.ndarray) -> np.ndarray:
        n = len(u)
        out = np.full(n, -1, dtype=np.int64)
        todo = np.ones(n, dtype=bool)
        for mask_fn, destinations, cumulative in self.branches:
            mask = todo if mask_fn is None else (todo & mask_fn(codes))
            if mask.any():
                if len(destinations) == 1:
                    out[mask] = destinations[0]
                else:
                    picks = np.searchsorted(cumulative, u[mask], side="right")
                    out[mask] = destinations[np.minimum(picks, len(destinations) - 1)]
                todo &= ~mask
            if not todo.any():
                break
        return out

    def destinations(self) -> set[int]:
        return {int(d) for _, dests, _ in self.branches for d in dests}


@dataclass(frozen=True)
class DischargePlan:
    assessed_by: int | None
    assessed_for: tuple[bool, bool, bool, bool]
    assessment: TimeRule | None
    pathway: RouteRule  # -> 0..3 (P0..P3)
    to: tuple[int, ...]  # destination per pathway, -1 when unused
    delay: tuple[TimeRule | None, ...]


@dataclass(frozen=True)
class StepPlan:
    index: int
    name: str
    label: str
    service: int  # -1 for a decision step
    kind: str | None
    duration: TimeRule | None
    window: TimeRule | None
    target: float | None
    roles: tuple[int, ...] | None
    travel_modes: RouteRule | None  # hub steps: 0 car, 1 public transport
    routes: tuple[RouteRule | None, RouteRule | None, RouteRule | None]
    discharge: DischargePlan | None
    slots: int  # how many rows of the step's stream it uses


@dataclass(frozen=True)
class ServicePlan:
    index: int
    name: str
    label: str
    kind: str
    capacity: int  # beds, packages, or constant staff; hubs: per site
    roster: WeeklyRoster | None  # staff on duty by role (teams, hubs)
    opening: WeeklyRoster | None  # hubs: open (1) or closed (0)
    when_full: str  # divert | wait
    wait_limit: float  # hours; inf for an unlimited wait
    at_close_in_service: str | None
    at_close_queued: str | None
    when_closed: str | None
    base: int | None  # team base locality
    return_to_base: bool
    sites: tuple[int, ...]  # hub sites (locality indices)
    max_travel: float
    occupancy_target: float | None
    utilisation_target: float | None
    cost: pw.Cost | None


@dataclass(frozen=True)
class DemandPlan:
    index: int
    name: str
    entry: int
    rate_per_hour: np.ndarray  # per band: per head (per_capita) or a total
    per_capita: bool
    localities: tuple[int, ...]
    hour: np.ndarray  # 24, mean 1
    weekday: np.ndarray  # 7, mean 1
    month: np.ndarray  # 12, mean 1
    growth: float  # per year


@dataclass(frozen=True)
class AttributePlan:
    name: str
    levels: tuple[str, ...]
    by: str | None
    cumulative: np.ndarray  # (levels of 'by' or 1, levels)


@dataclass
class Network:
    """Everything the engine needs, by index."""

    name: str
    start: date
    horizon: float
    warm_up: float
    seed: int
    age_bands: list[str]
    localities: list[str]
    population: np.ndarray  # (localities, bands) at the start
    population_growth: np.ndarray  # (localities, bands) per year
    attributes: list[AttributePlan]
    levels: dict[str, list[str]]
    demand: list[DemandPlan]
    services: list[ServicePlan]
    steps: list[StepPlan]
    exits: list[str]
    travel: dict[str, np.ndarray]  # mode -> (localities, localities) hours
    initial_in_service: dict[int, int] = field(default_factory=dict)
    initial_delayed: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)
    hub_site_travel: dict[int, np.ndarray] = field(default_factory=dict)  # service -> (modes, localities)
    hub_site_choice: dict[int, np.ndarray] = field(default_factory=dict)  # service -> (modes, localities)

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    def destination_name(self, index: int) -> str:
        if index < self.n_steps:
            return self.steps[index].name
        return self.exits[index - self.n_steps]

    def service_index(self, name: str) -> int:
        for plan in self.services:
            if plan.name == name:
                return plan.index
        raise KeyError(name)


def _normalised(values, length: int) -> np.ndarray:
    if values is None:
        return np.ones(length)
    array = np.asarray(values, dtype=float)
    return array / array.mean()


def _roster(shifts) -> WeeklyRoster:
    return WeeklyRoster.from_shifts((s.role, s.staff, s.days, s.hours) for s in shifts)


def compile_network(pathway: pw.Pathway) -> Network:
    """Compile a validated pathway (see :func:`sim.pathway.load_pathway`)."""
    bands = list(pathway.age_bands)
    localities = list(pathway.localities)
    levels = pathway.attribute_levels()

    population = np.zeros((len(localities), len(bands)))
    growth = np.zeros((len(localities), len(bands)))
    for li, name in enumerate(localities):
        locality = pathway.localities[name]
        mix = locality.age_mix or pathway.age_mix or {}
        for bi, band in enumerate(bands):
            population[li, bi] = locality.population * mix.get(band, 0.0)
            if isinstance(locality.growth, dict):
                growth[li, bi] = locality.growth.get(band, 0.0)
            elif locality.growth is not None:
                growth[li, bi] = locality.growth

    attributes = []
    for name, spec in pathway.attributes.items():
        attribute_levels = levels[name]
        if spec.by is None:
            rows = [[spec.mix[level] for level in attribute_levels]]
        else:
            rows = [[spec.mix[key][level] for level in attribute_levels] for key in levels[spec.by]]
        cumulative = np.cumsum(np.asarray(rows, dtype=float), axis=1)
        cumulative[:, -1] = 1.0
        attributes.append(AttributePlan(name, tuple(attribute_levels), spec.by, cumulative))

    step_names = list(pathway.steps)
    destination = {name: i for i, name in enumerate(step_names)}
    destination.update({name: len(step_names) + i for i, name in enumerate(pathway.exits)})

    services: list[ServicePlan] = []
    service_index = {name: i for i, name in enumerate(pathway.services)}
    for i, (name, spec) in enumerate(pathway.services.items()):
        services.append(_service_plan(i, name, spec, localities))

    steps: list[StepPlan] = []
    for i, name in enumerate(step_names):
        spec = pathway.steps[name]
        kind = pathway.service_kind(spec.service)
        routes = tuple(
            RouteRule.compile(getattr(spec, key), destination, levels) if getattr(spec, key) is not None else None
            for key in OUTCOMES
        )
        discharge = None
        slots = SLOT_ROUTE + 1
        if spec.discharge is not None:
            d = spec.discharge
            pathway_index = {p: k for k, p in enumerate(pw.DISCHARGE_PATHWAYS)}
            to = tuple(destination[d.to[p]] if p in d.to else -1 for p in pw.DISCHARGE_PATHWAYS)
            delay = tuple(
                TimeRule.compile(d.delay[p], levels) if d.delay and p in d.delay else None
                for p in pw.DISCHARGE_PATHWAYS
            )
            discharge = DischargePlan(
                service_index[d.assessed_by] if d.assessed_by else None,
                tuple(d.assessed_for is None or p in d.assessed_for for p in pw.DISCHARGE_PATHWAYS),
                TimeRule.compile(d.assessment, levels) if d.assessment is not None else None,
                RouteRule.compile(d.pathway, pathway_index, levels),
                to,
                delay,
            )
            slots = N_SLOTS
        window = TimeRule.compile(spec.window, levels) if spec.window is not None else None
        travel_modes = None
        if kind == "hub":
            modes = {"car": 0, "public_transport": 1}
            travel_modes = RouteRule.compile(spec.travel or "car", modes, levels)
            slots = max(slots, SLOT_TRAVEL + 1)
        if window is not None:
            slots = max(slots, SLOT_WINDOW + 1)
        roles = None
        if spec.roles and kind in ("team", "hub"):
            roster = services[service_index[spec.service]].roster
            roles = tuple(roster.roles.index(role) for role in spec.roles) if roster else None
        steps.append(
            StepPlan(
                index=i,
                name=name,
                label=spec.label or name.replace("_", " "),
                service=service_index[spec.service] if spec.service else -1,
                kind=kind,
                duration=TimeRule.compile(spec.duration, levels) if spec.duration is not None else None,
                window=window,
                target=spec.target,
                roles=roles,
                travel_modes=travel_modes,
                routes=routes,
                discharge=discharge,
                slots=slots,
            )
        )

    demand = []
    for i, (name, stream) in enumerate(pathway.demand.items()):
        if isinstance(stream.rate, dict):
            rate = np.array([stream.rate[band].per_hour for band in bands])
            per_capita = True
        else:
            rate = np.full(len(bands), stream.rate.per_hour)
            per_capita = stream.rate.per_capita
        profile = stream.profile or pw.Profile()
        demand.append(
            DemandPlan(
                index=i,
                name=name,
                entry=destination[stream.enters],
                rate_per_hour=rate,
                per_capita=per_capita,
                localities=tuple(localities.index(n) for n in (stream.localities or localities)),
                hour=_normalised(profile.hour, 24),
                weekday=_normalised(profile.weekday, 7),
                month=_normalised(profile.month, 12),
                growth=stream.growth or 0.0,
            )
        )

    travel = {}
    for mode, matrix in (pathway.travel or {}).items():
        table = np.zeros((len(localities), len(localities)))
        for a, name in enumerate(localities):
            table[a, a] = matrix.within[name] if isinstance(matrix.within, dict) else matrix.within
        for origin, row in matrix.between.items():
            for target_name, hours in row.items():
                a, b = localities.index(origin), localities.index(target_name)
                table[a, b] = table[b, a] = hours
        travel[mode] = table

    network = Network(
        name=pathway.name,
        start=pathway.start,
        horizon=pathway.horizon,
        warm_up=pathway.warm_up,
        seed=pathway.seed,
        age_bands=bands,
        localities=localities,
        population=population,
        population_growth=growth,
        attributes=attributes,
        levels=levels,
        demand=demand,
        services=services,
        steps=steps,
        exits=list(pathway.exits),
        travel=travel,
    )
    for plan in services:
        if plan.kind == "hub":
            _nearest_sites(network, plan)
    if pathway.initial_state is not None:
        network.initial_in_service = {destination[k]: v for k, v in pathway.initial_state.in_service.items()}
        network.initial_delayed = {
            destination[k]: tuple(v.get(p, 0) for p in pw.DISCHARGE_PATHWAYS)
            for k, v in pathway.initial_state.delayed.items()
        }
    return network


def _service_plan(index: int, name: str, spec, localities: list[str]) -> ServicePlan:
    kind = spec.kind
    roster = None
    opening = None
    capacity = 0
    when_full, wait_limit = "wait", float("inf")
    at_close_in_service = at_close_queued = when_closed = None
    if kind == "team":
        roster = _roster(spec.roster) if spec.roster else WeeklyRoster.constant(spec.staff)
        capacity = spec.staff if spec.staff is not None else max(sum(level) for _, level in roster.changes)
        if spec.at_shift_end is not None:
            at_close_in_service, at_close_queued = spec.at_shift_end.in_service, spec.at_shift_end.queued
    elif kind == "hub":
        if spec.opening is not None:
            openings = spec.opening if isinstance(spec.opening, list) else [spec.opening]
            opening = open_intervals((o.days, o.hours) for o in openings)
        if spec.roster:
            roster = _roster(spec.roster)
        else:
            roster = WeeklyRoster.constant(spec.clinicians)
            if opening is not None:
                # clinicians are on duty while the hub is open
                roster = WeeklyRoster(
                    ("staff",), tuple((hour, (spec.clinicians * level[0],)) for hour, level in opening.changes)
                )
        capacity = max(sum(level) for _, level in roster.changes)
        if spec.at_close is not None:
            at_close_in_service, at_close_queued = spec.at_close.in_service, spec.at_close.queued
        when_closed = spec.when_closed
    elif kind in ("beds", "acute"):
        capacity = spec.beds
    elif kind == "care_package":
        capacity = spec.packages
    if kind in ("beds", "care_package"):
        if isinstance(spec.when_full, pw.WaitLimit):
            when_full, wait_limit = "wait", spec.when_full.wait
        else:
            when_full = spec.when_full
    if kind == "acute":
        when_full = "overflow"
    return ServicePlan(
        index=index,
        name=name,
        label=spec.label or name.replace("_", " "),
        kind=kind,
        capacity=capacity,
        roster=roster,
        opening=opening,
        when_full=when_full,
        wait_limit=wait_limit,
        at_close_in_service=at_close_in_service,
        at_close_queued=at_close_queued,
        when_closed=when_closed,
        base=localities.index(spec.base) if getattr(spec, "base", None) else None,
        return_to_base=getattr(spec, "return_to_base", False),
        sites=tuple(localities.index(s) for s in getattr(spec, "sites", [])),
        max_travel=spec.max_travel if getattr(spec, "max_travel", None) is not None else float("inf"),
        occupancy_target=getattr(spec, "occupancy_target", None),
        utilisation_target=getattr(spec, "utilisation_target", None),
        cost=spec.cost,
    )


def _nearest_sites(network: Network, plan: ServicePlan) -> None:
    """For each travel mode and home locality: the nearest open hub site and the time to it."""
    modes = ("car", "public_transport")
    n = len(network.localities)
    choice = np.full((2, n), -1, dtype=np.int64)
    time = np.full((2, n), np.inf)
    for m, mode in enumerate(modes):
        table = network.travel.get(mode)
        if table is None or not plan.sites:
            continue
        sites = np.array(plan.sites)
        times = table[:, sites]  # (localities, sites)
        nearest = np.argmin(times, axis=1)  # ties go to the site listed first
        choice[m] = sites[nearest]
        time[m] = times[np.arange(n), nearest]
    network.hub_site_choice[plan.index] = choice
    network.hub_site_travel[plan.index] = time

