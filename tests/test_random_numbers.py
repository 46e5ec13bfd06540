"""Common random numbers by construction, and the arrival process they come from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.analysis import mean_ci
from sim.model import run_replication
from sim.sampling import CHUNK_HOURS, draw_batch
from tests.conftest import network_from

PATHWAY = """
horizon: 120 days
warm_up: 0 days
attributes:
  frailty: {mix: {fit: 0.6, frail: 0.4}}
demand:
  crisis:
    rate: 6 per day
    profile:
      hour: [1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1]
      weekday: [1.2, 1.1, 1, 1, 1, 0.8, 0.9]
    enters: visit
services:
  team: {kind: team, staff: %d}
  step_up: {kind: beds, beds: %d, when_full: divert}
  hospital: {kind: acute, beds: 50}
steps:
  visit:
    service: team
    duration: {lognormal: {mean: 90 min, sd: 30 min}}
    window: 2 hours
    next:
      - when: "frailty == frail"
        to: {step_up: 0.6, home: 0.4}
      - otherwise: {home: 0.9, step_up: 0.1}
    on_escalate: admission
  step_up:
    service: step_up
    duration: {gamma: {mean: 10 days, sd: 5 days}}
    next: home
    on_divert: admission
  admission:
    service: hospital
    duration: {lognormal: {mean: 6 days, sd: 5 days}}
    next: home
exits: [home]
"""


def run(staff: int, beds: int, text: str = PATHWAY, **options):
    return run_replication(network_from(text % (staff, beds)), 3, seed=99, record_events=True, **options)


def stays(result, service: str) -> pd.Series:
    events = result.events
    admitted = events[(events.event == "admitted") & (events["where"] == service)].set_index("patient").time
    ready = events[(events.event == "ready") & (events["where"] == service)].set_index("patient").time
    return (ready - admitted.reindex(ready.index)).dropna()


def test_scenarios_differing_in_capacity_see_the_same_patients():
    small, large = run(2, 4), run(6, 20)
    arrivals = [r.events[r.events.event == "arrival"][["patient", "time"]].reset_index(drop=True) for r in (small, large)]
    pd.testing.assert_frame_equal(arrivals[0], arrivals[1])
    assert small.patients == large.patients


def test_a_patients_stay_in_a_step_up_bed_is_the_same_in_every_scenario_that_admits_them():
    small, large = stays(run(2, 4), "step_up"), stays(run(6, 20), "step_up")
    both = small.index.intersection(large.index)
    assert len(both) > 20
    np.testing.assert_allclose(small.loc[both].to_numpy(), large.loc[both].to_numpy())
    assert len(large) > len(small)  # more beds admit more patients


def test_adding_a_step_and_a_service_does_not_disturb_other_draws():
    extra = PATHWAY.replace(
        "  hospital: {kind: acute, beds: 50}",
        "  hospital: {kind: acute, beds: 50}\n  hub: {kind: beds, beds: 3, when_full: divert}",
    ).replace(
        "exits: [home]",
        "  unused:\n    service: hub\n    duration: 1 day\n    next: home\n    on_divert: home\nexits: [home]",
    ).replace("enters: visit", "enters: visit\n  other:\n    rate: 0.5 per day\n    enters: unused")
    base = draw_batch(network_from(PATHWAY % (2, 4)), 99, 3, 0)
    more = draw_batch(network_from(extra % (2, 4)), 99, 3, 0)
    crisis = more.codes["stream"] == 0
    assert base.size == int(crisis.sum())  # the first stream's patients are unchanged...
    np.testing.assert_allclose(base.arrival, np.asarray(more.arrival)[crisis])
    for step in (0, 1):  # ...and so are their durations at the existing steps
        np.testing.assert_allclose(base.steps[step].duration, np.asarray(more.steps[step].duration)[crisis])


def test_a_longer_horizon_leaves_earlier_patients_unchanged():
    short = run(3, 8, horizon=60 * 24.0)
    long = run(3, 8)
    first = short.events[short.events.event == "arrival"].time.to_numpy()
    second = long.events[long.events.event == "arrival"].time.to_numpy()
    np.testing.assert_allclose(first, second[: len(first)])


def test_each_named_stream_delivers_its_own_distribution():
    """A stream mixed up with another (a one-word slip) would fail here."""
    network = network_from(PATHWAY % (2, 4))
    batches = [draw_batch(network, 7, 0, chunk) for chunk in range(8)]
    for index, expected in ((0, 1.5), (1, 240.0), (2, 144.0)):
        values = np.concatenate([b.steps[index].duration for b in batches])
        _, _, low, high, _ = mean_ci(values, level=0.99)
        assert low <= expected <= high, network.steps[index].name


def test_attribute_mix_matches_the_file():
    network = network_from(PATHWAY % (2, 4))
    codes = np.concatenate([draw_batch(network, 7, 0, chunk).codes["frailty"] for chunk in range(8)])
    frail = (codes == 1).mean()
    half = 2.576 * np.sqrt(0.4 * 0.6 / len(codes))
    assert abs(frail - 0.4) < half


def test_arrival_counts_follow_the_rate():
    """Counts per four-week chunk are Poisson with mean rate x duration: the mean lies in its 99% CI."""
    network = network_from(PATHWAY % (2, 4))
    counts = [draw_batch(network, 11, replication, 0).size for replication in range(60)]
    expected = 6 * CHUNK_HOURS / 24
    _, _, low, high, _ = mean_ci(np.array(counts), level=0.99)
    assert low <= expected <= high
    # Poisson: variance equals the mean (dispersion test)
    dispersion = np.var(counts, ddof=1) * (len(counts) - 1) / np.mean(counts)
    assert stats.chi2.ppf(0.005, len(counts) - 1) < dispersion < stats.chi2.ppf(0.995, len(counts) - 1)


def test_arrivals_follow_the_hour_and_weekday_profiles():
    network = network_from(PATHWAY % (2, 4))
    times = np.concatenate([draw_batch(network, 5, 0, chunk).arrival for chunk in range(12)])
    hours = (times % 24).astype(int)
    profile = np.array([1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1], float)
    observed = np.bincount(hours, minlength=24)
    expected = profile / profile.sum() * len(times)
    assert stats.chisquare(observed, expected).pvalue > 0.001
    weekday_profile = np.array([1.2, 1.1, 1, 1, 1, 0.8, 0.9])
    weekdays = ((times // 24).astype(int)) % 7  # 2024-04-01 is a Monday
    observed = np.bincount(weekdays, minlength=7)
    expected = weekday_profile / weekday_profile.sum() * len(times)
    assert stats.chisquare(observed, expected).pvalue > 0.001


@pytest.mark.parametrize("rate", ["20 per 1000 per year", "8 per day"])
def test_rates_per_head_and_in_total(rate):
    text = """
horizon: 1 year
demand: {crisis: {rate: %s, enters: home_visit}}
services: {team: {kind: team, staff: 5}}
steps:
  home_visit: {service: team, duration: 30 min, next: home}
exits: [home]
""" % rate
    network = network_from(text)
    counts = [sum(draw_batch(network, 1, r, c).size for c in range(13)) for r in range(20)]
    per_year = 20 / 1000 * 1000 if "1000" in rate else 8 * 365.25
    _, _, low, high, _ = mean_ci(np.array(counts) * (365.25 / (13 * 28)), level=0.99)
    assert low <= per_year <= high
