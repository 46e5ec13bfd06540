"""The example pathways and experiments: they load, every number is marked, and they
produce outputs a programme board would recognise.

Each example runs one replication of a short horizon (a quarter year after a warm-up)
and its outputs are held to ranges derived from the figures the file cites
(data/FIGURES.md): acute occupancy near the trust's, the share of discharges home
without new support (P0) near the trust's, rapid response mostly within 2 hours.
The ranges are wide enough for one short run and narrow enough to catch a broken
example or engine.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment import load_experiment
from sim.model import RunResult, run_replication
from sim.network import compile_network
from sim.pathway import load_pathway
from sim.units import HOURS_PER_DAY
from tests.conftest import metric

ROOT = Path(__file__).resolve().parent.parent
PATHWAYS = sorted((ROOT / "pathways").glob("*.yaml"))
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))
WARM_UP_DAYS = 28
MEASURED_DAYS = 91


@pytest.mark.parametrize("path", PATHWAYS, ids=lambda p: p.name)
def test_every_pathway_passes_the_strict_check(path):
    result = CliRunner().invoke(app, ["check", str(path), "--strict"])
    assert result.exit_code == 0, result.output
    assert "0 unmarked" in result.output


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_every_experiment_validates(path):
    experiment = load_experiment(path)
    assert len(experiment.scenarios) >= 2
    assert sum(s.is_baseline for s in experiment.scenarios) == 1


@cache
def run(name: str, warm_up_days: int = WARM_UP_DAYS) -> RunResult:
    pathway, _ = load_pathway(ROOT / "pathways" / f"{name}.yaml")
    return run_replication(
        compile_network(pathway),
        0,
        seed=pathway.seed,
        horizon=(warm_up_days + MEASURED_DAYS) * HOURS_PER_DAY,
        warm_up=warm_up_days * HOURS_PER_DAY,
    )


def p0_share(result: RunResult, service: str = "hospital") -> float:
    counts = {p: metric(result, service, f"discharges_{p}") for p in ("P0", "P1", "P2", "P3")}
    return counts["P0"] / sum(counts.values())


def per_year(result: RunResult, count: float) -> float:
    return count / metric(result, "system", "measured_days") * 365


# (area, sourced G&A occupancy, sourced P0 share) from data/FIGURES.md
AREAS = [
    ("thanet", 0.924, 0.802),
    ("west_kent", 0.853, 0.852),
    ("south_kent_coast", 0.924, 0.802),
    ("dartford_gravesham_swanley", 0.931, 0.898),
]


@pytest.mark.parametrize(("area", "occupancy", "p0"), AREAS, ids=[a[0] for a in AREAS])
def test_acute_occupancy_and_discharge_pathways_are_near_the_trusts(area, occupancy, p0):
    result = run(area)
    utilisation = metric(result, "hospital", "utilisation")
    assert 0.70 <= utilisation <= 1.0, utilisation
    assert abs(utilisation - occupancy) < 0.10, (utilisation, occupancy)
    assert abs(p0_share(result) - p0) < 0.03, (p0_share(result), p0)
    # everyone admitted is discharged by one of the four pathways, some of them late
    assert 0 < metric(result, "hospital", "delayed_share") < 0.35
    assert metric(result, "hospital", "delayed_bed_days") > 0


@pytest.mark.parametrize(
    ("area", "teams", "admissions"),
    [
        ("thanet", ["rapid_response"], (8_000, 16_000)),
        ("west_kent", ["rapid_response_west", "rapid_response_east"], (25_000, 45_000)),
        ("south_kent_coast", ["rapid_response"], (12_000, 21_000)),
    ],
    ids=["thanet", "west_kent", "south_kent_coast"],
)
def test_rapid_response_reaches_most_patients_within_two_hours(area, teams, admissions):
    """Kent and Medway's urgent community response reaches 83.6% within 2 hours (RYY 84.1%)."""
    result = run(area)
    for team in teams:
        within = metric(result, team, "within_target")
        assert 0.5 <= within <= 1.0, (team, within)
        assert metric(result, team, "escalated_share") < 0.2
    low, high = admissions
    assert low <= per_year(result, metric(result, "system", "acute_admissions")) <= high


def test_west_kent_has_eight_clusters_of_45_to_80_thousand_and_hubs_at_candidate_sites():
    pathway, _ = load_pathway(ROOT / "pathways" / "west_kent.yaml")
    sizes = [locality.population for locality in pathway.localities.values()]
    assert len(sizes) == 8
    assert all(45_000 <= size <= 80_000 for size in sizes)
    assert 450_000 <= sum(sizes) <= 550_000
    hub = pathway.services["local_care_hub"]
    assert set(hub.sites) <= set(hub.candidate_sites)
    result = run("west_kent")
    seen = sum(metric(result, "local_care_hub", f"seen_at_{site}") for site in hub.sites)
    assert seen > 0
    # both rapid response teams (west and Maidstone) see patients
    assert metric(result, "rapid_response_west", "admitted") > 0
    assert metric(result, "rapid_response_east", "admitted") > 0


def test_south_kent_coast_hub_and_minor_injury_unit_keep_their_hours():
    pathway, _ = load_pathway(ROOT / "pathways" / "south_kent_coast.yaml")
    assert sum(locality.population for locality in pathway.localities.values()) == 199_000
    result = run("south_kent_coast")
    assert metric(result, "primary_care_hub", "seen_at_folkestone") > 0
    assert metric(result, "minor_injury_unit", "seen_at_deal") > 0
    # both close at 20:00: walk-in patients arriving at night are sent on
    assert metric(result, "primary_care_hub", "closed_on_arrival") > 0
    assert metric(result, "minor_injury_unit", "closed_on_arrival") > 0
    assert metric(result, "deal_short_term_beds", "utilisation") > 0.3


def test_dartford_discharge_team_turns_patients_around_and_starts_from_the_census():
    pathway, _ = load_pathway(ROOT / "pathways" / "dartford_gravesham_swanley.yaml")
    state = pathway.initial_state
    assert state is not None
    census = state.in_service["admission"] + sum(state.delayed["admission"].values())
    result = run("dartford_gravesham_swanley", warm_up_days=0)
    # about ten avoided admissions a day: a third of the patients the team reviews go home
    reviewed = metric(result, "integrated_discharge_team", "admitted") - metric(result, "integrated_discharge_team", "assessments")
    avoided_per_day = 0.35 * reviewed / metric(result, "system", "measured_days")
    assert 5 <= avoided_per_day <= 12, avoided_per_day
    # usual residence (home, with or without a care package): the team reports 95%, the trust 92.4%
    counts = {p: metric(result, "hospital", f"discharges_{p}") for p in ("P0", "P1", "P2", "P3")}
    usual = (counts["P0"] + counts["P1"]) / sum(counts.values())
    assert 0.90 <= usual <= 0.97, usual
    # the first day starts from this morning's occupancy, not an empty hospital
    daily = result.timeseries
    occupancy = daily[(daily.service == "hospital") & (daily.metric == "occupancy")].value.tolist()
    assert abs(occupancy[0] - census) < 0.1 * census, (occupancy[0], census)
    delayed = daily[(daily.service == "hospital") & (daily.metric == "delayed")].value.tolist()
    assert delayed and delayed[0] > 0
