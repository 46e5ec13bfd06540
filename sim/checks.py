"""The meaning of a pathway file: the checks a schema alone cannot make.

Once every key and value has the right shape (:mod:`sim.pathway`), these checks
prove the file makes sense as a care system:

- every name resolves (steps, services, localities, exits, attributes), with a
  "did you mean" for near misses;
- every mix and split sums to 1; every age band has a rate;
- every rule names attributes and values patients actually carry, and every
  list of rules ends with ``otherwise`` so no patient falls through;
- each kind of service has the routes its outcomes need (a bed unit that
  diverts needs ``on_divert``; a team with a clinical window needs ``on_escalate``);
- rosters have no overlapping shifts of one role; hub sites are localities;
  travel times cover every pair of localities;
- the step graph is acyclic and every step is reached, so every route ends at
  an exit and no patient can be trapped in a loop;
- no capacity of zero would hold patients forever (a queue no one serves).

Each problem is yielded with its location in the file, so the loader can name
the line.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from sim.pathway import (
    BED_KINDS,
    BUILT_IN_ATTRIBUTES,
    COST_ITEMS,
    DISCHARGE_PATHWAYS,
    NAME,
    Cost,
    Pathway,
    Shift,
    Step,
    TravelMatrix,
    WaitLimit,
)
from sim.rules import RuleError, check_rule, parse_rule

Problem = tuple[tuple[Any, ...], str]


def _route_targets(route: Any) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every destination named by a route, with its location relative to the route."""
    if route is None:
        return
    if isinstance(route, str):
        yield (), route
    elif isinstance(route, dict):
        for target in route:
            yield (target,), target
    else:
        for index, rule in enumerate(route):
            target = rule.to if rule.otherwise is None else rule.otherwise
            key = "to" if rule.otherwise is None else "otherwise"
            if isinstance(target, str):
                yield (index, key), target
            else:
                for name in target:
                    yield (index, key, name), name


def _rules_in(route_or_time: Any) -> Iterator[tuple[int, str]]:
    if isinstance(route_or_time, list):
        for index, rule in enumerate(route_or_time):
            if rule.when is not None:
                yield index, rule.when


def _check_rule_list(items: Any, loc: tuple[Any, ...], levels: dict[str, list[str]]) -> Iterator[Problem]:
    if not isinstance(items, list):
        return
    for index, rule in enumerate(items):
        if rule.otherwise is not None and index != len(items) - 1:
            yield (*loc, index, "otherwise"), "'otherwise' must be the last rule (rules are tried in order)"
    if items and items[-1].otherwise is None:
        yield (*loc, len(items) - 1), "the last rule must be 'otherwise', so that every patient is covered"
    for index, text in _rules_in(items):
        try:
            check_rule(parse_rule(text), levels)
        except RuleError as exc:
            yield (*loc, index, "when"), str(exc)


def check_meaning(pathway: Pathway) -> Iterator[Problem]:
    """Cross-reference checks pydantic cannot do alone; yields (location, message)."""
    bands = list(pathway.age_bands)
    localities = list(pathway.localities)
    steps = pathway.steps
    exits = list(pathway.exits)
    services = pathway.services

    yield from _check_names(pathway)
    if len(set(bands)) != len(bands):
        yield ("age_bands",), "age bands must be unique"

    # population and age mix -------------------------------------------------
    if pathway.age_mix is not None:
        yield from _check_mix(pathway.age_mix, bands, ("age_mix",), "age band")
    for name, locality in pathway.localities.items():
        if locality.age_mix is not None:
            yield from _check_mix(locality.age_mix, bands, ("localities", name, "age_mix"), "age band")
        elif pathway.age_mix is None:
            yield ("localities", name), "no age_mix: give one here or a default 'age_mix' at the top of the file"
        if isinstance(locality.growth, dict):
            for band in locality.growth:
                if band not in bands:
                    yield ("localities", name, "growth", band), f"unknown age band {band!r} (age bands: {', '.join(bands)})"

    # travel --------------------------------------------------------------------
    if pathway.travel:
        for mode, matrix in pathway.travel.items():
            yield from _check_matrix(mode, matrix, localities)

    # attributes ---------------------------------------------------------------
    levels_so_far: dict[str, list[str]] = {
        "age_band": bands,
        "locality": localities,
        "stream": list(pathway.demand),
    }
    for name, spec in pathway.attributes.items():
        loc = ("attributes", name)
        if name in BUILT_IN_ATTRIBUTES:
            yield loc, f"{name!r} is built in; choose another name"
            continue
        if spec.by is None:
            if any(isinstance(v, dict) for v in spec.mix.values()):
                yield (*loc, "mix"), "a nested mix needs 'by' (the attribute it depends on, e.g. by: age_band)"
                continue
            yield from _check_mix(spec.mix, None, (*loc, "mix"), name)
            levels_so_far[name] = list(spec.mix)
            continue
        if spec.by not in levels_so_far:
            yield (*loc, "by"), f"unknown attribute {spec.by!r} (expected age_band, locality, stream or an attribute declared above)"
            continue
        expected = levels_so_far[spec.by]
        level_set: list[str] | None = None
        for key in expected:
            if key not in spec.mix:
                yield (*loc, "mix"), f"missing the mix for {spec.by} {key!r}"
        for key, inner in spec.mix.items():
            if key not in expected:
                yield (*loc, "mix", key), f"unknown {spec.by} {key!r} (expected one of: {', '.join(expected)})"
                continue
            if not isinstance(inner, dict):
                yield (*loc, "mix", key), f"with 'by: {spec.by}' each entry is a mix of levels, got {inner!r}"
                continue
            if level_set is None:
                level_set = list(inner)
            elif set(inner) != set(level_set):
                yield (*loc, "mix", key), f"levels {sorted(inner)} differ from {sorted(level_set)} given for the first {spec.by}"
            yield from _check_mix(inner, None, (*loc, "mix", key), name)
        levels_so_far[name] = level_set or []
    levels = levels_so_far

    # demand -------------------------------------------------------------------
    for name, stream in pathway.demand.items():
        loc = ("demand", name)
        if isinstance(stream.rate, dict):
            for band in bands:
                if band not in stream.rate:
                    yield (*loc, "rate"), f"no rate for age band {band!r} (write '0 per 1000 per year' if none)"
            for band in stream.rate:
                if band not in bands:
                    yield (*loc, "rate", band), f"unknown age band {band!r} (age bands: {', '.join(bands)})"
            kinds = {rate.per_capita for rate in stream.rate.values()}
            if kinds == {False}:
                yield (*loc, "rate"), "rates by age band must be per head, e.g. '40 per 1000 per year'"
        for index, locality in enumerate(stream.localities or []):
            if locality not in pathway.localities:
                yield (*loc, "localities", index), f"unknown locality {locality!r}"
        if stream.enters not in steps:
            yield (*loc, "enters"), _unknown("step", stream.enters, steps)

    # services -----------------------------------------------------------------
    for name, service in services.items():
        loc = ("services", name)
        yield from _check_cost(service, loc)
        if service.kind == "team":
            if service.base is not None:
                if service.base not in pathway.localities:
                    yield (*loc, "base"), _unknown("locality", service.base, pathway.localities)
                elif not pathway.travel or "car" not in pathway.travel:
                    yield (*loc, "base"), "a team with a base travels by car: add travel.car (travel times between localities)"
            if service.roster:
                yield from _check_roster(service.roster, (*loc, "roster"))
            if service.cost and service.cost.post_per_year is not None and service.roster:
                yield (*loc, "cost", "post_per_year"), "a rostered team is costed per staff_hour (posts are ambiguous across shifts)"
        if service.kind == "hub":
            seen: set[str] = set()
            for index, site in enumerate(service.sites):
                if site not in pathway.localities:
                    yield (*loc, "sites", index), f"hub site {site!r} is not a locality (expected one of: {', '.join(localities)})"
                elif site in seen:
                    yield (*loc, "sites", index), f"site {site!r} listed twice"
                elif service.candidate_sites is not None and site not in service.candidate_sites:
                    yield (*loc, "sites", index), f"site {site!r} is not one of the candidate_sites"
                seen.add(site)
            for index, site in enumerate(service.candidate_sites or []):
                if site not in pathway.localities:
                    yield (*loc, "candidate_sites", index), f"candidate site {site!r} is not a locality"
            if service.roster:
                yield from _check_roster(service.roster, (*loc, "roster"))
            if not pathway.travel:
                yield loc, "a hub needs travel times: add 'travel' (at least car) so patients can reach the nearest site"

    # steps --------------------------------------------------------------------
    names = set(steps)
    for exit_name in exits:
        if exit_name in names:
            yield ("exits",), f"{exit_name!r} is both a step and an exit"
    if len(set(exits)) != len(exits):
        yield ("exits",), "exit names must be unique"
    targets = names | set(exits)
    for name, step in steps.items():
        loc = ("steps", name)
        yield from _check_step(pathway, name, step, loc, levels, targets)

    if pathway.initial_state is not None:
        yield from _check_initial_state(pathway)

    yield from _check_graph(pathway)


def _unknown(what: str, name: str, known: Any) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})" if len(known) <= 12 else ""
    return f"unknown {what} {name!r}{hint}"


def _check_names(pathway: Pathway) -> Iterator[Problem]:
    groups = {
        "localities": pathway.localities,
        "services": pathway.services,
        "steps": pathway.steps,
        "demand": pathway.demand,
        "attributes": pathway.attributes,
    }
    for group, mapping in groups.items():
        for name in mapping:
            if not NAME.match(str(name)):
                yield (group, name), f"names must start with a letter and use only letters, digits and _ (got {name!r})"
    for index, name in enumerate(pathway.exits):
        if not NAME.match(name):
            yield ("exits", index), f"names must start with a letter and use only letters, digits and _ (got {name!r})"


def _check_mix(mix: dict[str, Any], expected: list[str] | None, loc: tuple[Any, ...], what: str) -> Iterator[Problem]:
    if expected is not None:
        for key in expected:
            if key not in mix:
                yield loc, f"missing {what} {key!r} (give 0 if none)"
        for key in mix:
            if key not in expected:
                yield (*loc, key), f"unknown {what} {key!r} (expected one of: {', '.join(expected)})"
    values = [v for v in mix.values() if isinstance(v, float | int)]
    total = sum(values)
    if values and not math.isclose(total, 1.0, abs_tol=1e-6):
        yield loc, f"shares sum to {total:.6g}, expected 1"


def _check_matrix(mode: str, matrix: TravelMatrix, localities: list[str]) -> Iterator[Problem]:
    loc = ("travel", mode)
    if isinstance(matrix.within, dict):
        for name in localities:
            if name not in matrix.within:
                yield (*loc, "within"), f"no travel time within {name!r}"
        for name in matrix.within:
            if name not in localities:
                yield (*loc, "within", name), f"unknown locality {name!r}"
    pairs: dict[frozenset[str], float] = {}
    for origin, row in matrix.between.items():
        if origin not in localities:
            yield (*loc, "between", origin), f"unknown locality {origin!r}"
            continue
        for destination, hours in row.items():
            if destination not in localities:
                yield (*loc, "between", origin, destination), f"unknown locality {destination!r}"
                continue
            if destination == origin:
                yield (*loc, "between", origin, destination), "travel within a locality belongs under 'within'"
                continue
            key = frozenset((origin, destination))
            if key in pairs and not math.isclose(pairs[key], hours):
                yield (*loc, "between", origin, destination), (
                    f"{origin}-{destination} is given twice with different times"
                )
            pairs[key] = hours
    for i, first in enumerate(localities):
        for second in localities[i + 1 :]:
            if frozenset((first, second)) not in pairs:
                yield (*loc, "between"), f"missing the travel time between {first!r} and {second!r}"


def _check_roster(roster: list[Shift], loc: tuple[Any, ...]) -> Iterator[Problem]:
    """Shifts of one role must not overlap: say '6 staff' once instead of two overlapping shifts."""
    from sim.roster import shift_intervals

    by_role: dict[str, list[tuple[float, float, int]]] = {}
    for index, shift in enumerate(roster):
        for start, end in shift_intervals(shift.days, shift.hours):
            by_role.setdefault(shift.role, []).append((start, end, index))
    for role, intervals in by_role.items():
        intervals.sort()
        for (_, e1, i1), (s2, _, i2) in pairwise(intervals):
            if s2 < e1 and i1 != i2:
                yield (*loc, i2), (
                    f"this {role} shift overlaps the {role} shift at {'.'.join(map(str, (*loc[-1:], i1)))}; "
                    "give the number of staff on duty once per period"
                )
                break
        # a week wraps: the last interval may run into next Monday
        if intervals:
            _, e_last, i_last = intervals[-1]
            s_first, _, i_first = intervals[0]
            if e_last > 168 and e_last - 168 > s_first and i_last != i_first:
                yield (*loc, i_first), (
                    f"this {role} shift overlaps the {role} shift at {'.'.join(map(str, (*loc[-1:], i_last)))} running over from Sunday"
                )


def _check_cost(service: Any, loc: tuple[Any, ...]) -> Iterator[Problem]:
    if service.cost is None:
        return
    allowed = COST_ITEMS[service.kind]
    for item in Cost.model_fields:
        if getattr(service.cost, item) is not None and item not in allowed:
            yield (*loc, "cost", item), f"'{item}' does not apply to a {service.kind} service (use: {', '.join(sorted(allowed))})"


def _time_rules(spec: Any, loc: tuple[Any, ...], levels: dict[str, list[str]]) -> Iterator[Problem]:
    if isinstance(spec, list):
        yield from _check_rule_list(spec, loc, levels)


def _check_route(route: Any, loc: tuple[Any, ...], levels: dict[str, list[str]], targets: set[str], what: str = "step or exit") -> Iterator[Problem]:
    if route is None:
        return
    if isinstance(route, list):
        yield from _check_rule_list(route, loc, levels)
    for where, target in _route_targets(route):
        if target not in targets:
            yield (*loc, *where), _unknown(what, target, sorted(targets))


def _check_step(pathway: Pathway, name: str, step: Step, loc: tuple[Any, ...], levels: dict[str, list[str]], targets: set[str]) -> Iterator[Problem]:
    services = pathway.services
    kind = None
    if step.service is not None:
        if step.service not in services:
            yield (*loc, "service"), _unknown("service", step.service, services)
            return
        kind = services[step.service].kind
    service = services.get(step.service) if step.service else None

    for key in ("duration", "window"):
        yield from _time_rules(getattr(step, key), (*loc, key), levels)
    for key in ("next", "on_divert", "on_escalate"):
        yield from _check_route(getattr(step, key), (*loc, key), levels, targets)

    def forbid(key: str, why: str) -> Iterator[Problem]:
        if getattr(step, key) is not None:
            yield (*loc, key), why

    def need(key: str, why: str) -> Iterator[Problem]:
        if getattr(step, key) is None:
            yield (*loc, key), f"missing: {why}"

    if kind is None:
        yield from need("next", "a decision step must say where patients go next")
        for key in ("on_divert", "on_escalate", "window", "target", "roles", "travel", "discharge"):
            yield from forbid(key, f"'{key}' needs a service; this step has none (it is a decision point)")
    elif kind in BED_KINDS:
        yield from need("duration", "how long patients stay (length of stay)")
        if (step.next is None) == (step.discharge is None):
            yield loc, "give either 'next' (where patients go when their stay ends) or a 'discharge' block"
        when_full = getattr(service, "when_full", "wait")
        if kind != "acute" and (when_full == "divert" or isinstance(when_full, WaitLimit)):
            yield from need("on_divert", f"where patients go when {step.service} is full (its when_full diverts them)")
        for key in ("window", "target", "roles", "travel", "on_escalate"):
            yield from forbid(key, f"'{key}' applies to teams and hubs, not to {kind} services")
        capacity = getattr(service, "beds", getattr(service, "packages", 1))
        if kind != "acute" and capacity == 0 and when_full == "wait":
            unit = "packages" if kind == "care_package" else "beds"
            yield ("services", step.service, unit), (
                f"0 {unit} with when_full: wait would hold patients at step {name!r} forever; "
                "use divert (with on_divert) or a wait limit"
            )
    elif kind == "team":
        yield from need("duration", "how long the visit takes")
        yield from need("next", "where patients go after the visit")
        if step.window is not None:
            yield from need("on_escalate", "where patients go when the team cannot reach them within their window")
        never_staffed = service.staff == 0 if service.staff is not None else all(s.staff == 0 for s in service.roster)
        if never_staffed and step.on_divert is None and step.on_escalate is None:
            yield ("services", step.service, "staff" if service.staff is not None else "roster"), (
                f"no one is ever on duty, so patients at step {name!r} would wait forever; "
                "give the step an on_divert (or a window and on_escalate) route"
            )
        if service.at_shift_end is not None and service.at_shift_end.queued == "divert":
            yield from need("on_divert", f"where patients go when they are still queued at the end of {step.service}'s shift")
        for key in ("travel", "discharge"):
            yield from forbid(key, f"'{key}' does not apply to a team (the team travels to the patient)")
        if step.roles:
            rostered = {shift.role for shift in service.roster} if service.roster else {"staff"}
            for index, role in enumerate(step.roles):
                if role not in rostered:
                    yield (*loc, "roles", index), f"no {role!r} on {step.service}'s roster (roles: {', '.join(sorted(rostered))})"
    elif kind == "hub":
        yield from need("duration", "how long the appointment takes")
        yield from need("next", "where patients go after the hub")
        divert_possible = (
            service.max_travel is not None
            or service.when_closed == "divert"
            or (service.at_close is not None and service.at_close.queued == "divert")
            or not service.sites
            or service.candidate_sites is not None
        )
        if divert_possible:
            yield from need("on_divert", "where patients go when no hub site can see them (closed, too far, or no site open)")
        for key in ("window", "on_escalate", "discharge"):
            yield from forbid(key, f"'{key}' does not apply to a hub")
        modes = set(pathway.travel or {})
        if step.travel is not None:
            named = [step.travel] if isinstance(step.travel, str) else list(step.travel)
            for mode in named:
                if mode not in modes:
                    yield (*loc, "travel"), f"no travel times for {mode!r} (travel modes given: {', '.join(sorted(modes)) or 'none'})"
        elif "car" not in modes:
            yield loc, "patients travel to the hub by car unless 'travel' says otherwise: add travel.car"
        if step.roles:
            rostered = {shift.role for shift in service.roster} if service.roster else {"staff"}
            for index, role in enumerate(step.roles):
                if role not in rostered:
                    yield (*loc, "roles", index), f"no {role!r} on {step.service}'s roster"

    if step.discharge is not None and kind in BED_KINDS:
        d = step.discharge
        dloc = (*loc, "discharge")
        if d.assessed_by is not None:
            if d.assessed_by not in services:
                yield (*dloc, "assessed_by"), _unknown("service", d.assessed_by, services)
            elif services[d.assessed_by].kind != "team":
                yield (*dloc, "assessed_by"), f"{d.assessed_by!r} is a {services[d.assessed_by].kind} service; assessment is done by a team"
        yield from _time_rules(d.assessment, (*dloc, "assessment"), levels)
        yield from _check_route(d.pathway, (*dloc, "pathway"), levels, set(DISCHARGE_PATHWAYS), "discharge pathway")
        used = {target for _, target in _route_targets(d.pathway)}
        for pathway_name in sorted(used):
            if pathway_name in DISCHARGE_PATHWAYS and pathway_name not in d.to:
                yield (*dloc, "to"), f"missing where pathway {pathway_name} goes (a step or exit)"
        for pathway_name, target in d.to.items():
            if target not in targets:
                yield (*dloc, "to", pathway_name), _unknown("step or exit", target, sorted(targets))
        for pathway_name, spec in (d.delay or {}).items():
            yield from _time_rules(spec, (*dloc, "delay", pathway_name), levels)


def _check_initial_state(pathway: Pathway) -> Iterator[Problem]:
    state = pathway.initial_state
    assert state is not None
    for name in state.in_service:
        loc = ("initial_state", "in_service", name)
        if name not in pathway.steps:
            yield loc, _unknown("step", name, pathway.steps)
            continue
        kind = pathway.service_kind(pathway.steps[name].service)
        if kind not in (*BED_KINDS, "team"):
            yield loc, "patients can start in a bed, a care package or a team's visit, not in a decision step or hub"
    for name, by_pathway in state.delayed.items():
        loc = ("initial_state", "delayed", name)
        if name not in pathway.steps:
            yield loc, _unknown("step", name, pathway.steps)
            continue
        step = pathway.steps[name]
        if step.discharge is None:
            yield loc, f"step {name!r} has no discharge block, so no patient there can be waiting by pathway"
            continue
        for pathway_name in by_pathway:
            if pathway_name not in step.discharge.to:
                yield (*loc, pathway_name), f"step {name!r} does not send patients by pathway {pathway_name}"


def successors(step: Step) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every step or exit a step can send a patient to, with the key that says so."""
    for key in ("next", "on_divert", "on_escalate"):
        for where, target in _route_targets(getattr(step, key)):
            yield target, (key, *where)
    if step.discharge is not None:
        for pathway_name, target in step.discharge.to.items():
            yield target, ("discharge", "to", pathway_name)


def _check_graph(pathway: Pathway) -> Iterator[Problem]:
    """Every route ends at an exit: the step graph must be acyclic and every step reachable.

    Pathways are acyclic by design: each patient then draws once per step, which
    is what makes common random numbers exact. A readmission is modelled as a
    separate step (``readmission``) rather than a loop back.
    """
    steps = pathway.steps
    graph = {name: [t for t, _ in successors(step) if t in steps] for name, step in steps.items()}
    colour: dict[str, int] = {}
    stack: list[str] = []
    reported: set[frozenset[str]] = set()
    problems: list[Problem] = []

    def visit(node: str) -> None:
        colour[node] = 1
        stack.append(node)
        for target in graph[node]:
            if colour.get(target) == 1:
                cycle = [*stack[stack.index(target):], target]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    where = next(w for t, w in successors(steps[node]) if t == target)
                    problems.append(
                        (("steps", node, *where),
                         "this route makes a loop that can trap a patient ("
                         + " -> ".join(cycle)
                         + "); pathways must be acyclic, so model a return as a separate step")
                    )
            elif target not in colour:
                visit(target)
        stack.pop()
        colour[node] = 2

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(steps) + 100))
    try:
        for name in steps:
            if name not in colour:
                visit(name)
    finally:
        sys.setrecursionlimit(limit)
    yield from problems

    # reachability from demand and the initial census
    entries = [stream.enters for stream in pathway.demand.values() if stream.enters in steps]
    if pathway.initial_state:
        entries += [n for n in pathway.initial_state.in_service if n in steps]
        entries += [n for n in pathway.initial_state.delayed if n in steps]
    reached: set[str] = set()
    frontier = list(entries)
    while frontier:
        node = frontier.pop()
        if node in reached:
            continue
        reached.add(node)
        frontier.extend(graph.get(node, []))
    for name in steps:
        if name not in reached:
            yield ("steps", name), "this step is never reached: no demand enters it and no step routes to it"
