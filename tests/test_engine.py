"""The engine on pathways small enough to work out by hand.

Arrivals are stated (not drawn) and durations fixed, so every number asserted
here can be checked on paper; the comments show the working.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.conftest import metric, simulate

HOURS = 1.0
DAY = 24.0


def events_of(result, patient: int) -> list[tuple[float, str, str]]:
    frame = result.events[result.events.patient == patient]
    return list(zip(frame.time.round(6), frame.event, frame["where"], strict=True))


def times(result, event: str, where: str) -> list[float]:
    frame = result.events
    return frame[(frame.event == event) & (frame["where"] == where)].time.round(6).tolist()


BEDS = """
demand: {crisis: {rate: 1 per day, enters: stay}}
services: {unit: {kind: beds, beds: 1, when_full: %s}}
steps:
  stay: {service: unit, duration: 10 hours, next: home, on_divert: elsewhere}
exits: [home, elsewhere]
horizon: 3 days
"""


def test_second_patient_waits_for_the_only_bed():
    # arrivals at 0 and 1; stays of 10 h: the second is admitted at 10 (waited 9 h) and leaves at 20
    result = simulate(BEDS % "wait", arrivals=pd.DataFrame({"time": [0.0, 1.0]}), record_events=True)
    assert times(result, "admitted", "unit") == [0.0, 10.0]
    assert times(result, "exit", "home") == [10.0, 20.0]
    assert metric(result, "unit", "wait_mean") == pytest.approx(4.5)
    # occupancy: 1 bed busy for 20 h of the 72 h horizon
    assert metric(result, "unit", "occupancy_mean") == pytest.approx(20 / 72)
    assert metric(result, "unit", "bed_days") == pytest.approx(20 / 24)


def test_second_patient_is_diverted_when_the_bed_is_full():
    result = simulate(BEDS % "divert", arrivals=pd.DataFrame({"time": [0.0, 1.0]}), record_events=True)
    assert metric(result, "unit", "admitted") == 1
    assert metric(result, "unit", "diverted") == 1
    assert times(result, "exit", "elsewhere") == [1.0]


def test_wait_limit_diverts_when_it_runs_out():
    # the second patient may wait 5 h: from 1 to 6, and the bed frees only at 10
    result = simulate(BEDS % "{wait: 5 hours}", arrivals=pd.DataFrame({"time": [0.0, 1.0]}), record_events=True)
    assert times(result, "exit", "elsewhere") == [6.0]
    assert metric(result, "unit", "wait_limit_reached") == 1


def test_capacity_zero_is_the_no_service_baseline():
    result = simulate((BEDS % "divert").replace("beds: 1", "beds: 0"), arrivals=pd.DataFrame({"time": [0.0, 1.0, 2.0]}))
    assert metric(result, "unit", "diverted") == 3
    assert metric(result, "system", "exit_elsewhere") == 3


DELAYED = """
demand: {crisis: {rate: 1 per day, enters: stay}}
services:
  ward: {kind: acute, beds: 10}
  packages: {kind: care_package, packages: 1, when_full: wait}
steps:
  stay: {service: ward, duration: 2 days, next: care}
  care: {service: packages, duration: 10 days, next: home}
exits: [home]
horizon: 20 days
"""


def test_waiting_for_a_care_package_accrues_delayed_bed_days():
    # ready at day 2 and day 3.5; one package: the first gets it at day 2 (no delay) and
    # keeps it to day 12; the second waits in the acute bed from day 3.5 to day 12: 8.5 delayed bed days
    result = simulate(DELAYED, arrivals=pd.DataFrame({"time": [0.0, 1.5 * DAY]}), record_events=True)
    assert metric(result, "ward", "delayed_bed_days") == pytest.approx(8.5)
    assert metric(result, "system", "delayed_bed_days") == pytest.approx(8.5)
    assert metric(result, "packages", "wait_mean") == pytest.approx(8.5 * DAY / 2)
    assert metric(result, "ward", "ready_to_discharge_mean") == pytest.approx(8.5 / 2)
    # the acute beds are held for 2 + (2 + 8.5) days
    assert metric(result, "ward", "bed_days") == pytest.approx(12.5)
    daily = result.timeseries
    delayed = daily[(daily.service == "ward") & (daily.metric == "delayed")].set_index("day").value
    # the census at each midnight (the sitrep's snapshot)
    assert delayed.loc[3] == 0 and delayed.loc[4] == 1 and delayed.loc[11] == 1 and delayed.loc[13] == 0


TEAM = """
demand: {crisis: {rate: 1 per day, enters: visit}}
services: {team: {kind: team, staff: 1}}
steps:
  visit: {service: team, duration: 3 hours, window: 2 hours, next: home, on_escalate: ambulance}
  ambulance: {duration: 30 min, next: {admitted: 0.6, home: 0.4}}
exits: [home, admitted]
horizon: 1 day
"""


def test_patient_not_reached_within_the_window_escalates():
    # the only nurse is busy 0-3; the second patient (at 0.5) cannot be reached by 2.5
    result = simulate(TEAM, arrivals=pd.DataFrame({"time": [0.0, 0.5]}), record_events=True)
    assert metric(result, "team", "escalated") == 1
    assert metric(result, "team", "escalation_time_mean") == pytest.approx(2.0)
    assert events_of(result, 2)[-3:][0] == (2.5, "escalated", "team")
    assert metric(result, "team", "within_target") == pytest.approx(0.5)


TRAVEL = """
name: travel
age_bands: [all]
age_mix: {all: 1}
localities:
  near: {population: 1000}
  far: {population: 1000}
travel:
  car:
    within: 10 min
    between: {near: {far: 50 min}}
demand: {crisis: {rate: 1 per day, enters: visit}}
services: {team: {kind: team, base: near, staff: 1, return_to_base: false}}
steps:
  visit: {service: team, duration: 1 hour, window: 45 min, target: 30 min, next: home, on_escalate: admitted}
exits: [home, admitted]
horizon: 1 day
"""


def test_travel_counts_towards_the_response_and_can_rule_it_out():
    arrivals = pd.DataFrame({"time": [0.0, 5.0], "locality": ["near", "far"]})
    result = simulate(TRAVEL, header=False, arrivals=arrivals, record_events=True)
    # near: reached after 10 min of travel; far: 50 min > 45 min window, escalated at once
    assert metric(result, "team", "response_mean") == pytest.approx(10 / 60)
    assert metric(result, "team", "escalated") == 1
    assert metric(result, "team", "escalation_time_mean") == pytest.approx(0.0)
    assert times(result, "exit", "home") == [pytest.approx(1 + 10 / 60)]


ROSTER = """
start: 2024-04-01
demand: {crisis: {rate: 1 per day, enters: visit}}
services:
  team:
    kind: team
    roster:
      - {role: nurse, staff: 1, days: every day, hours: "08:00-12:00"}
      - {role: nurse, staff: 1, days: every day, hours: "13:00-17:00"}
    at_shift_end: {in_service: %s, queued: wait}
steps:
  visit: {service: team, duration: 1 hour, next: home}
exits: [home]
horizon: 2 days
"""


def test_shift_ending_mid_visit_with_finish_counts_overtime():
    # visit starts 11:30 and runs to 12:30: half an hour after the shift
    result = simulate(ROSTER % "finish", arrivals=pd.DataFrame({"time": [11.5]}), record_events=True)
    assert times(result, "exit", "home") == [12.5]
    assert metric(result, "team", "overtime_hours") == pytest.approx(0.5)
    assert metric(result, "team", "handed_on") == 0
    # 8 rostered hours a day for 2 days
    assert metric(result, "team", "staff_hours") == pytest.approx(16.0)


def test_shift_ending_mid_visit_with_hand_on_goes_to_the_next_shift():
    # interrupted at 12:00 with 30 min left; the 13:00 shift finishes it at 13:30
    result = simulate(ROSTER % "hand_on", arrivals=pd.DataFrame({"time": [11.5]}), record_events=True)
    assert times(result, "exit", "home") == [13.5]
    assert metric(result, "team", "handed_on") == 1
    assert metric(result, "team", "overtime_hours") == pytest.approx(0.0)


def test_roster_with_nobody_overnight_escalates_at_the_window():
    text = (ROSTER % "finish").replace("next: home}", "window: 2 hours, next: home, on_escalate: admitted}")
    text = text.replace("exits: [home]", "exits: [home, admitted]")
    # a referral at 22:00 cannot be reached before 08:00: escalated at 00:00
    result = simulate(text, arrivals=pd.DataFrame({"time": [22.0]}), record_events=True)
    assert times(result, "escalated", "team") == [24.0]


HUB = """
name: hub
start: 2024-04-01
age_bands: [all]
age_mix: {all: 1}
localities:
  a: {population: 1000}
  b: {population: 1000}
  c: {population: 1000}
travel:
  car:
    within: 0 min
    between:
      a: {b: 10 min, c: 30 min}
      b: {c: 15 min}
demand: {crisis: {rate: 1 per day, enters: hub}}
services:
  hub:
    kind: hub
    sites: %s
    candidate_sites: [a, b, c]
    clinicians: 1
    opening: {days: every day, hours: "08:00-20:00"}
    when_closed: wait
    at_close: {in_service: finish, queued: %s}
steps:
  hub: {service: hub, duration: 45 min, next: home, on_divert: emergency_department}
exits: [home, emergency_department]
horizon: 2 days
"""


def test_arrival_at_1959_to_a_hub_closing_at_2000_is_diverted_when_the_file_says_so():
    # 19:30 is seen until 20:15 (15 min overtime); 19:59 is still queued at 20:00 and goes to the ED
    arrivals = pd.DataFrame({"time": [19.5, 19 + 59 / 60], "locality": ["a", "a"]})
    result = simulate(HUB % ("[a]", "divert"), header=False, arrivals=arrivals, record_events=True)
    assert times(result, "exit", "emergency_department") == [20.0]
    assert times(result, "exit", "home") == [20.25]
    assert metric(result, "hub", "overtime_hours") == pytest.approx(0.25)
    assert metric(result, "hub", "turned_away_at_close") == 1


def test_arrival_at_1959_waits_overnight_when_the_file_says_so():
    arrivals = pd.DataFrame({"time": [19.5, 19 + 59 / 60], "locality": ["a", "a"]})
    result = simulate(HUB % ("[a]", "wait"), header=False, arrivals=arrivals, record_events=True)
    # seen when the hub opens at 08:00 next day, leaves at 08:45
    assert times(result, "exit", "home") == [20.25, 32.75]


def test_patient_arriving_when_closed_waits_until_opening():
    arrivals = pd.DataFrame({"time": [3.0], "locality": ["a"]})
    result = simulate(HUB % ("[a]", "wait"), header=False, arrivals=arrivals, record_events=True)
    assert times(result, "exit", "home") == [8.75]


def test_removing_a_hub_site_sends_its_patients_to_the_next_nearest():
    arrivals = pd.DataFrame({"time": [9.0, 10.0, 11.0], "locality": ["a", "b", "c"]})
    both = simulate(HUB % ("[a, b]", "wait"), header=False, arrivals=arrivals)
    assert metric(both, "hub", "seen_at_a") == 1
    assert metric(both, "hub", "seen_at_b") == 2  # c is 15 min from b, 30 from a
    only_a = simulate(HUB % ("[a]", "wait"), header=False, arrivals=arrivals)
    assert metric(only_a, "hub", "seen_at_a") == 3
    assert metric(only_a, "hub", "travel_mean") == pytest.approx((0 + 10 / 60 + 30 / 60) / 3)


def test_patients_beyond_max_travel_go_elsewhere():
    text = (HUB % ("[a]", "wait")).replace("    clinicians: 1\n", "    clinicians: 1\n    max_travel: 20 min\n")
    arrivals = pd.DataFrame({"time": [9.0, 10.0, 11.0], "locality": ["a", "b", "c"]})
    result = simulate(text, header=False, arrivals=arrivals)
    assert metric(result, "hub", "too_far") == 1
    assert metric(result, "system", "exit_emergency_department") == 1


IDT = """
start: 2024-04-01
demand: {crisis: {rate: 1 per day, enters: admission}}
services:
  ward: {kind: acute, beds: 100}
  idt:
    kind: team
    roster: [{role: social_worker, staff: 1, days: weekdays, hours: "09:00-17:00"}]
    at_shift_end: {in_service: finish, queued: wait}
steps:
  admission:
    service: ward
    duration: 1 day
    discharge:
      assessed_by: idt
      assessment: 1 hour
      pathway: {P0: 1.0}
      to: {P0: home}
exits: [home]
horizon: 14 days
"""


def test_discharge_team_that_does_not_work_weekends_keeps_patients_in_bed():
    # 2024-04-01 is a Monday. Admitted Friday 12:00 (hour 108), medically fit Saturday 12:00
    # (hour 132): assessed Monday 09:00-10:00 (hours 177-178), ready and discharged at 178
    result = simulate(IDT, arrivals=pd.DataFrame({"time": [108.0]}), record_events=True)
    assert times(result, "exit", "home") == [178.0]
    assert metric(result, "ward", "assessment_wait_mean") == pytest.approx(178 - 132)
    assert metric(result, "ward", "discharges_P0") == 1


def test_discharge_pathways_route_to_their_services():
    text = IDT.replace("pathway: {P0: 1.0}", "pathway: {P0: 0.5, P3: 0.5}").replace(
        "to: {P0: home}", "to: {P0: home, P3: care_home}"
    ).replace("exits: [home]", "exits: [home, care_home]")
    result = simulate(text, arrivals=pd.DataFrame({"time": [float(h) for h in range(0, 200, 2)]}))
    p0, p3 = metric(result, "ward", "discharges_P0"), metric(result, "ward", "discharges_P3")
    assert p0 + p3 == metric(result, "system", "exit_home") + metric(result, "system", "exit_care_home")
    assert p0 == metric(result, "system", "exit_home")
    assert 0.3 < p3 / (p0 + p3) < 0.7


CENSUS = """
demand: {crisis: {rate: 0.001 per day, enters: stay}}
services: {unit: {kind: beds, beds: 20, when_full: divert}}
steps:
  stay: {service: unit, duration: {exponential: {mean: 10 days}}, next: home, on_divert: home}
exits: [home]
horizon: 30 days
initial_state:
  in_service: {stay: 15}
"""


def test_run_can_start_from_a_stated_census():
    result = simulate(CENSUS)
    daily = result.timeseries
    occupancy = daily[(daily.service == "unit") & (daily.metric == "occupancy")].value.tolist()
    assert 13 < occupancy[0] <= 15  # 15 at midnight, a few leave during day 1
    assert occupancy[-1] < occupancy[0]  # and the census drains with almost no new arrivals


def test_results_are_deterministic_for_a_seed():
    text = BEDS % "divert"
    a = simulate(text.replace("1 per day", "10 per day"), seed=5)
    b = simulate(text.replace("1 per day", "10 per day"), seed=5)
    c = simulate(text.replace("1 per day", "10 per day"), seed=6)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert not a.summary.equals(c.summary)


def test_occupancy_never_exceeds_capacity_and_patients_are_conserved():
    text = (BEDS % "{wait: 4 hours}").replace("1 per day", "5 per day").replace("3 days", "60 days")
    result = simulate(text)
    assert metric(result, "unit", "occupancy_max") <= 1
    arrivals = metric(result, "unit", "arrivals")
    decided = metric(result, "unit", "admitted") + metric(result, "unit", "diverted")
    # everyone who arrived was admitted or diverted, except at most the few still queued at the end
    assert 0 <= arrivals - decided <= 3
    assert not math.isnan(metric(result, "unit", "wait_p95"))


def test_discharge_team_assesses_only_the_pathways_it_is_asked_to():
    # P0 patients are discharged by the ward at once; P1 patients wait for the weekday team
    text = IDT.replace("pathway: {P0: 1.0}", "assessed_for: [P1]\n      pathway: {P0: 0.5, P1: 0.5}").replace(
        "to: {P0: home}", "to: {P0: home, P1: home}"
    )
    result = simulate(text, arrivals=pd.DataFrame({"time": [108.0] * 40}), record_events=True)
    exits = pd.Series(times(result, "exit", "home"))
    p0, p1 = metric(result, "ward", "discharges_P0"), metric(result, "ward", "discharges_P1")
    assert p0 > 5 and p1 > 5
    assert (exits == 132.0).sum() == p0  # ready on Saturday at 12:00, gone at once
    assert (exits >= 178.0).sum() == p1  # assessed from Monday 09:00, one an hour
