"""The engine checked against results known exactly from queueing theory.

A modeller showing a board's analyst that the model is right should not have to
ask them to trust the code. ``carepath validate`` runs small pathways whose
answers are known exactly and shows, for each, the exact value, the simulated
mean over replications and its 99% confidence interval:

- **Erlang B**: blocking in a bed unit with Poisson arrivals and no waiting. It
  is insensitive to the length-of-stay distribution (Sevastyanov 1957), so it
  is checked with exponential and with log-normal stays.
- **Erlang C**: the mean wait for a team with Poisson referrals, exponential
  visits and patients who wait as long as it takes.
- **Little's law**: mean occupancy equals admissions per hour times the mean
  stay, here against the exact ``a (1 - B)`` of a loss system.
- **Jackson network**: a team whose patients then split to a bed unit that
  queues; by Burke's theorem each node behaves as an M/M/c queue with its own
  arrival rate, so the bed unit's throughput and mean wait are known.

A case passes when the exact value lies inside the 99% interval. With a fixed
seed the outcome is reproducible; if the engine were wrong by more than the
interval's width, the case would fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sim.analysis import mean_ci
from sim.document import parse_yaml
from sim.model import RunResult, run_replication
from sim.network import compile_network
from sim.pathway import validate_document


def erlang_b(servers: int, offered: float) -> float:
    """Blocking probability of an M/G/c/c loss system (stable recursion)."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    return blocking


def erlang_c(servers: int, offered: float) -> float:
    """Probability of waiting in an M/M/c queue (requires offered < servers)."""
    blocking = erlang_b(servers, offered)
    return servers * blocking / (servers - offered * (1 - blocking))


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean wait in queue, M/M/c: C(c, a) / (c mu - lambda)."""
    offered = arrival_rate / service_rate
    return erlang_c(servers, offered) / (servers * service_rate - arrival_rate)


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    pathway: str
    exact: float
    unit: str
    measure: Callable[[RunResult], float]


def _value(result: RunResult, service: str, metric: str) -> float:
    frame = result.summary
    return float(frame.loc[(frame.service == service) & (frame.metric == metric), "value"].iloc[0])


def _loss_pathway(los: str, beds: int, per_day: float, horizon_days: int) -> str:
    return f"""
name: loss system
horizon: {horizon_days} days
warm_up: 20 days
age_bands: [all]
age_mix: {{all: 1}}
localities: {{area: {{population: 1}}}}
demand: {{crisis: {{rate: {per_day} per day, enters: stay}}}}
services: {{beds: {{kind: beds, beds: {beds}, when_full: divert}}}}
steps:
  stay: {{service: beds, duration: {los}, next: home, on_divert: acute}}
exits: [home, acute]
"""


def cases(scale: float = 1.0) -> list[Case]:
    """The validation cases; ``scale`` shortens or lengthens every run."""
    days = max(int(400 * scale), 60)
    beds, per_day, mean_days = 10, 8.0, 1.0
    offered = per_day * mean_days
    blocking = erlang_b(beds, offered)

    def blocking_share(result: RunResult) -> float:
        return _value(result, "beds", "diverted") / _value(result, "beds", "arrivals")

    team_staff, team_per_hour, visit_hours = 3, 2.0, 1.2
    team = f"""
name: rapid response queue
horizon: {days * 2} days
warm_up: 10 days
age_bands: [all]
age_mix: {{all: 1}}
localities: {{area: {{population: 1}}}}
demand: {{crisis: {{rate: {team_per_hour} per hour, enters: visit}}}}
services: {{team: {{kind: team, staff: {team_staff}}}}}
steps:
  visit: {{service: team, duration: {{exponential: {{mean: {visit_hours} hours}}}}, next: home}}
exits: [home]
"""
    jackson_rate, jackson_share, jackson_beds, jackson_stay = 1.0, 0.4, 12, 24.0  # per hour, share, beds, hours
    jackson = f"""
name: jackson network
horizon: {days * 2} days
warm_up: 20 days
age_bands: [all]
age_mix: {{all: 1}}
localities: {{area: {{population: 1}}}}
demand: {{crisis: {{rate: {jackson_rate} per hour, enters: visit}}}}
services:
  team: {{kind: team, staff: 2}}
  beds: {{kind: beds, beds: {jackson_beds}, when_full: wait}}
steps:
  visit: {{service: team, duration: {{exponential: {{mean: 1 hour}}}}, next: {{stay: {jackson_share}, home: {1 - jackson_share}}}}}
  stay: {{service: beds, duration: {{exponential: {{mean: {jackson_stay} hours}}}}, next: home}}
exits: [home]
"""
    bed_rate = jackson_rate * jackson_share
    return [
        Case(
            "erlang_b_exponential",
            f"Blocking, {beds} beds, {per_day:g} arrivals a day, exponential stays of {mean_days:g} day",
            _loss_pathway("{exponential: {mean: 1 day}}", beds, per_day, days),
            blocking,
            "share",
            blocking_share,
        ),
        Case(
            "erlang_b_lognormal",
            "The same with log-normal stays (mean 1 day, sd 1.5 days): blocking is insensitive",
            _loss_pathway("{lognormal: {mean: 1 day, sd: 1.5 days}}", beds, per_day, days),
            blocking,
            "share",
            blocking_share,
        ),
        Case(
            "littles_law_occupancy",
            "Mean occupancy = admissions per hour x mean stay = a (1 - B), log-normal stays",
            _loss_pathway("{lognormal: {mean: 1 day, sd: 1.5 days}}", beds, per_day, days),
            offered * (1 - blocking),
            "beds",
            lambda result: _value(result, "beds", "occupancy_mean"),
        ),
        Case(
            "erlang_c_wait",
            f"Mean wait, team of {team_staff}, {team_per_hour:g} referrals an hour, exponential visits of {visit_hours:g} hours",
            team,
            mmc_mean_wait(team_staff, team_per_hour, 1 / visit_hours),
            "hours",
            lambda result: _value(result, "team", "wait_mean"),
        ),
        Case(
            "jackson_throughput",
            f"Network: {jackson_share:.0%} of a team's patients go on to a {jackson_beds}-bed unit; its admissions per day",
            jackson,
            bed_rate * 24,
            "per day",
            lambda result: _value(result, "beds", "admitted") / _value(result, "system", "measured_days"),
        ),
        Case(
            "jackson_bed_wait",
            "Network: the bed unit's mean wait, M/M/c with the split arrival rate (Burke's theorem)",
            jackson,
            mmc_mean_wait(jackson_beds, bed_rate, 1 / jackson_stay),
            "hours",
            lambda result: _value(result, "beds", "wait_mean"),
        ),
    ]


def run_case(case: Case, replications: int = 30, seed: int = 20240401, level: float = 0.99) -> dict[str, float | str | bool]:
    """Run a case; the exact value must lie inside the ``level`` CI of the replications."""
    network = compile_network(validate_document(parse_yaml(case.pathway, f"<{case.name}>")))
    values = [case.measure(run_replication(network, r, seed=seed)) for r in range(replications)]
    mean, _, low, high, n = mean_ci(pd.Series(values).to_numpy(), level)
    return {
        "case": case.name,
        "description": case.description,
        "exact": case.exact,
        "mean": mean,
        "ci_low": low,
        "ci_high": high,
        "replications": n,
        "unit": case.unit,
        "passed": bool(low <= case.exact <= high),
    }


def run_all(replications: int = 30, seed: int = 20240401, scale: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame([run_case(case, replications, seed) for case in cases(scale)])


__all__ = ["Case", "cases", "erlang_b", "erlang_c", "mmc_mean_wait", "run_all", "run_case"]

