"""Calibration: spell checks, input fits against known values, censoring, disclosure,
gaps as missing, and parameter recovery from data carepath itself simulated.

Tolerances come from the fits' own confidence intervals (or Poisson counts),
never from tuned numbers; every random input has a fixed seed.
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.calibration import disclosure
from sim.calibration.aggregates import fit_from_aggregates, lognormal_from_mean_median
from sim.calibration.arrivals import fit_arrival_profile
from sim.calibration.fragment import inputs_fragment, overrides
from sim.calibration.inputs import InputFitter
from sim.calibration.los import fit_stays
from sim.calibration.series import monthly_means, read_series
from sim.calibration.spells import read_spells
from sim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
runner = CliRunner()

HEADER = "admitted,discharged,ready,age,admission_method,admission_source,discharge_destination,locality\n"
GOOD = [
    "2024-01-01 10:00,2024-01-03 12:00,2024-01-03 09:00,82,emergency,usual_residence,usual_residence,margate",
    "2024-01-02 11:30,2024-01-09 15:00,,67,emergency,care_home,care_home,ramsgate",
    "2024-01-03 08:15,,,91,emergency,usual_residence,,margate",
    "2024-01-04 22:00,2024-01-05 09:00,,45,elective,usual_residence,usual_residence,margate",
]


def inside99(ci: tuple[float, float], truth: float) -> bool:
    """Truth inside the 99% interval implied by a reported 95% interval (fixed seeds, honest tolerance)."""
    centre, half = (ci[0] + ci[1]) / 2, (ci[1] - ci[0]) / 2 * 2.576 / 1.96
    return centre - half < truth < centre + half


def write(tmp_path: Path, rows: list[str], header: str = HEADER, name: str = "spells.csv") -> Path:
    path = tmp_path / name
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def carepath(*args: str):
    from sim.cli import app

    return runner.invoke(app, [str(a) for a in args])


# ---------------------------------------------------------------------------
# reading and checking spells


def test_good_spells_are_read_with_open_spells_censored(tmp_path):
    spells = read_spells(write(tmp_path, GOOD))
    assert spells.n == 4 and spells.report.rows_rejected == 0
    frame = spells.frame
    assert frame["open"].tolist() == [False, False, True, False]
    # the open spell is censored at the last date in the file (2024-01-09 15:00)
    assert frame.loc[2, "los_days"] == pytest.approx((pd.Timestamp("2024-01-09 15:00") - pd.Timestamp("2024-01-03 08:15")) / pd.Timedelta(days=1))
    assert frame.loc[0, "los_days"] == pytest.approx(2 + 2 / 24)
    assert not spells.date_only


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("2024-13-45 10:00,2024-01-03 12:00,,82,emergency,usual_residence,usual_residence,x", "admitted", "not a date"),
        ("2024-01-05 10:00,2024-01-03 12:00,,82,emergency,usual_residence,usual_residence,x", "discharged", "discharge before admission"),
        ("2024-01-01 10:00,2024-01-03 12:00,2024-01-04 09:00,82,emergency,usual_residence,usual_residence,x", "ready", "discharge-ready after discharge"),
        ("2024-01-01 10:00,2024-01-03 12:00,,82,by_helicopter,usual_residence,usual_residence,x", "admission_method", "unknown category"),
        ("2024-01-01 10:00,2024-01-03 12:00,,eighty,emergency,usual_residence,usual_residence,x", "age", "not an age"),
        ("2024-01-01 10:00,2024-01-03 12:00,,182,emergency,usual_residence,usual_residence,x", "age", "out of range"),
        (GOOD[0], "admitted", "duplicate of line 2"),
    ],
)
def test_bad_rows_are_rejected_with_line_column_value_and_reason(tmp_path, row, column, reason):
    spells = read_spells(write(tmp_path, [*GOOD, row]))
    rejected = spells.report.rejections
    assert len(rejected) == 1, rejected
    found = rejected.iloc[0]
    assert found["line"] == len(GOOD) + 2 and found["column"] == column and reason in found["reason"]
    assert spells.n == len(GOOD)
    assert any(f":{len(GOOD) + 2}: {column}:" in line for line in spells.report.lines())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (HEADER.encode(), "no spells"),
        (b"admitted,age\n2024-01-01,80\n", "missing required column(s): discharged, admission_method"),
        ((HEADER + GOOD[0].replace("margate", "Sm\xe9eth") + "\n").encode("cp1252"), "not valid utf-8-sig text"),
        ((b"ADMIDATE,DISDATE,ADMIMETH,STARTAGE\n2024-01-01,2024-01-02,21,80\n"), "looks like a HES extract"),
    ],
)
def test_unusable_files_are_refused_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_spells(path)
    assert message in str(caught.value)
    result = carepath("calibrate", "check", path)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "error:" in result.output


def test_a_file_where_most_rows_fail_is_refused(tmp_path):
    bad = [f"2024-01-0{i} 10:00,2023-12-01 10:00,,80,emergency,,," for i in range(1, 8)]
    path = write(tmp_path, GOOD[:2] + bad)
    with pytest.raises(InputError, match=r"refused: 7 of 9 rows"):
        read_spells(path)
    assert carepath("calibrate", "inputs", path, "--out", tmp_path / "out").exit_code == 2
    assert not (tmp_path / "out").exists()


def test_wrong_encoding_names_the_line_and_a_stated_encoding_reads_it(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + GOOD[0] + "\n" + GOOD[1].replace("ramsgate", "Cr\xe9py") + "\n").encode("cp1252"))
    with pytest.raises(InputError) as caught:
        read_spells(path)
    assert caught.value.line == 3
    assert read_spells(path, encoding="cp1252").frame["locality"].iloc[1] == "Crépy"


HES_HEADER = "ADMIDATE,DISDATE,ADMIMETH,ADMISORC,DISDEST,DISMETH,STARTAGE,SPELDUR,SPELEND\n"


def test_hes_codes_map_to_carepath_categories(tmp_path):
    rows = [
        "2024-01-01,2024-01-05,21,19,19,1,80,4,Y",  # emergency from home, home
        "2024-01-02,2024-01-02,11,19,54,1,70,0,Y",  # elective, to an NHS care home
        "2024-01-03,2024-01-10,2A,85,51,1,90,7,Y",  # emergency (2A) from a care home, to another hospital ward
        "2024-01-04,2024-01-06,22,19,79,4,88,2,Y",  # died
        "2024-01-05,,21,19,98,8,7002,,Y",  # still in hospital; an infant
        "2024-01-05,2024-01-07,21,19,19,1,60,2,N",  # not the spell's last episode: left out
    ]
    spells = read_spells(write(tmp_path, rows, HES_HEADER), "hes")
    frame = spells.frame
    assert spells.date_only and spells.n == 5
    assert frame["method"].tolist() == ["emergency", "elective", "emergency", "emergency", "emergency"]
    assert frame["source"].tolist() == ["usual_residence", "usual_residence", "care_home", "usual_residence", "usual_residence"]
    assert frame["destination"].tolist() == ["usual_residence", "care_home", "community_bed", "died", "unknown"]
    assert frame["open"].tolist() == [False, False, False, False, True]
    assert frame["age"].iloc[4] == 0
    assert frame["los_days"].tolist()[:4] == [4, 0, 7, 2]


def test_unknown_hes_codes_are_rejected(tmp_path):
    rows = ["2024-01-01,2024-01-05,21,19,19,1,80,4,Y"] * 0 + [
        "2024-01-01,2024-01-05,21,19,19,1,80,4,Y",
        "2024-01-02,2024-01-05,77,19,19,1,80,3,Y",
        "2024-01-03,2024-01-05,21,19,19,1,81,2,Y",
    ]
    report = read_spells(write(tmp_path, rows, HES_HEADER), "hes").report
    assert report.rejections[["line", "column", "value"]].values.tolist() == [[3, "ADMIMETH", "77"]]
    assert "unknown ADMIMETH code" in report.rejections["reason"].iloc[0]


def test_the_nhs_artificial_hes_extract_reads_with_its_real_codes():
    spells = read_spells(DATA / "nhs_artificial_hes_apc_0102.csv", "hes")
    assert spells.report.rows_rejected <= 5
    assert set(spells.frame["method"].astype(str)) >= {"emergency", "elective"}


# ---------------------------------------------------------------------------
# lengths of stay: known values, censoring, midnights


def _lognormal_stays(seed: int, n: int, mean: float = 6.0, sd: float = 8.0):
    rng = np.random.default_rng(seed)
    sigma = math.sqrt(math.log1p((sd / mean) ** 2))
    mu = math.log(mean) - sigma**2 / 2
    stays = rng.lognormal(mu, sigma, n)
    admitted = rng.uniform(0, 365, n)
    open_ = admitted + stays > 365
    return stays, admitted, open_, rng


def test_lognormal_stays_are_recovered_and_chosen_by_aic():
    stays, _, _, _ = _lognormal_stays(1, 20000)
    fit = fit_stays(stays)
    assert fit.best.family == "lognormal"
    assert inside99(fit.best.mean_ci, 6.0), fit.best.mean_ci
    assert fit.best.sd == pytest.approx(8.0, rel=0.1)
    assert fit.best.ks_p_value > 0.01


def test_censored_fit_recovers_the_mean_that_dropping_open_spells_underestimates():
    stays, admitted, open_, _ = _lognormal_stays(2, 20000)
    assert 0.01 < open_.mean() < 0.05
    observed = np.where(open_, 365 - admitted, stays)
    censored = fit_stays(observed, open_, families=("lognormal",)).best
    dropped = fit_stays(stays[~open_], families=("lognormal",)).best
    assert inside99(censored.mean_ci, 6.0), censored.mean_ci
    assert dropped.mean_ci[1] < 6.0, "dropping open spells should bias the mean stay downwards"


def test_stays_counted_in_midnights_are_fitted_without_bias():
    stays, admitted, open_, rng = _lognormal_stays(3, 20000)
    phase = rng.random(len(stays))  # admission time of day
    midnights = np.where(open_, np.floor(365 - admitted + phase), np.floor(stays + phase))
    fit = fit_stays(midnights, open_, midnights=True, families=("lognormal", "gamma"))
    assert (midnights == 0).sum() > 500  # same-day stays are ordinary data
    assert fit.best.family == "lognormal"
    assert inside99(fit.best.mean_ci, 6.0), fit.best.mean_ci


def test_lognormal_from_mean_and_median():
    stay = lognormal_from_mean_median(8.3, 3.0)
    frozen = stay.frozen()
    assert frozen.mean() == pytest.approx(8.3) and frozen.median() == pytest.approx(3.0)
    assert "half a day" not in " ".join(stay.notes)
    assert lognormal_from_mean_median(1.2, 0).median == 0.5
    assert lognormal_from_mean_median(2.0, 3.0).family == "exponential"


def test_published_table_fits_rvv_like_the_thanet_pathway():
    fit = fit_from_aggregates(DATA / "hes_adhoc10641_los_by_provider_age_2017-18.csv", "RVV", ["0-64", "65-74", "75-84", "85+"])
    means = {band.band: band.mean for band in fit.bands}
    # pathways/thanet.yaml states 2.24, 4.49, 5.50 and 6.73 days from the same table
    assert means["0-64"] == pytest.approx(2.24, abs=0.01) and means["85+"] == pytest.approx(6.73, abs=0.01)
    result = carepath("calibrate", "aggregates", DATA / "hes_adhoc10641_los_by_provider_age_2017-18.csv", "--provider", "RN7")
    assert result.exit_code == 0 and "# source: hes_adhoc10641" in result.output


# ---------------------------------------------------------------------------
# arrivals


def test_arrival_profile_recovers_known_hour_and_weekday_weights():
    rng = np.random.default_rng(4)
    hour = 1 + 0.6 * np.sin(np.arange(24) / 24 * 2 * np.pi)
    weekday = np.array([1.2, 1.1, 1.0, 1.0, 1.0, 0.8, 0.9])
    weekday = weekday / weekday.mean()
    hours = pd.date_range("2023-01-01", "2024-01-01", freq="h", inclusive="left")
    rate = 40 / 24 * hour[hours.hour] * weekday[hours.day_of_week]
    counts = rng.poisson(rate)
    times = pd.Series(np.repeat(hours.to_numpy(), counts)) + pd.to_timedelta(rng.random(counts.sum()) * 3600, unit="s")
    profile = fit_arrival_profile(times, pd.Timestamp("2023-01-01"), pd.Timestamp("2024-01-01"))
    assert profile.rate_ci[0] < 40 * hour.mean() < profile.rate_ci[1]
    for name, truth in (("hour", hour / hour.mean()), ("weekday", weekday)):
        fitted, counted = profile.weights[name], profile.counts[name]
        tolerance = 3.5 * truth / np.sqrt(counted)  # Poisson: well inside 3.5 standard errors
        assert np.all(np.abs(fitted - truth) < tolerance), (name, fitted - truth)


# ---------------------------------------------------------------------------
# disclosure and gaps


@pytest.mark.parametrize(("count", "shown"), [(0, 0.0), (1, math.nan), (7, math.nan), (8, 10.0), (12, 10.0), (13, 15.0), (22, 20.0), (23, 25.0), (1002, 1000.0)])
def test_hes_disclosure_rule(count, shown):
    value = disclosure.apply(count, "hes")
    assert (math.isnan(value) and math.isnan(shown)) or value == shown
    assert disclosure.apply(count, "none") == count


def test_disclosure_applies_to_every_exported_count(tmp_path):
    rows = [
        f"2024-{m:02d}-{d:02d} {h:02d}:00,2024-{m:02d}-{d + 1 + h % 5:02d} 12:00,,{60 + (d * h) % 35},emergency,usual_residence,{'care_home' if d == 3 else 'usual_residence'},x"
        for m in (1, 2, 3) for d in range(1, 22) for h in (9, 14)
    ]
    fitter = InputFitter(age_bands=("0-74", "75+"), disclosure_rule="hes").fit(read_spells(write(tmp_path, rows)))
    stays = fitter.stays_table()
    assert len(stays) and set(stays["spells"].dropna()) <= {float(x) for x in range(0, 1000, 5)}
    destinations = fitter.destinations_table()
    assert destinations["spells"].isna().any() or (destinations["spells"] % 5 == 0).all()
    assert all(np.isnan(v) or v % 5 == 0 for v in fitter.profile_table()["admissions"])
    fragment = inputs_fragment(fitter)
    assert "2024-01-05 09:00" not in fragment and "care_home 4.8% (*)" in fragment


def test_gaps_and_zero_days_are_missing_never_zero(tmp_path):
    days = pd.date_range("2024-01-01", "2024-02-29", freq="D")
    values = np.full(len(days), 50.0)
    values[[3, 4]] = 0  # zero returns
    frame = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "org_code": "X", "discharged": values})
    frame = frame.drop(index=[10, 11, 12])  # days not submitted at all
    frame.loc[frame.index[:0], "discharged"] = 0
    path = tmp_path / "daily.csv"
    frame.to_csv(path, index=False)
    series = read_series(path, "discharged", where={"org_code": "X"})
    assert len(series.values) == len(days) and series.missing == 5
    assert monthly_means(series.values)["value"].iloc[0] == 50.0  # not dragged down by zeros
    # a month with under half its days reported is missing
    sparse = series.values.copy()
    sparse.loc["2024-02-01":"2024-02-20"] = np.nan
    assert np.isnan(monthly_means(sparse)["value"].iloc[1])


def test_medway_reporting_gaps_are_missing():
    series = read_series(DATA / "kent_sitrep_daily_discharges_nctr_2022-04_2024-09.csv", "discharged_total", where={"org_code": "RPA"})
    assert series.missing >= 170 and np.nanmin(series.values) > 0
    monthly = monthly_means(series.values)["value"]
    assert monthly.loc["2024-06":"2024-07"].isna().all()


# ---------------------------------------------------------------------------
# spells simulated by carepath, fitted back


SPELL_PATHWAY = """
name: spells
start: 2023-01-02
horizon: 400 days
age_bands: [0-74, 75+]
age_mix: {0-74: 0.6, 75+: 0.4}
localities: {area: {population: 100000}}
demand:
  emergency:
    rate: 30 per day
    profile:
      hour: [0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.4, 0.6, 1.2, 1.6, 1.7, 1.7, 1.7, 1.6, 1.5, 1.5, 1.5, 1.4, 1.3, 1.2, 1.0, 0.9, 0.7, 0.6]
      weekday: [1.2, 1.1, 1.0, 1.0, 1.0, 0.8, 0.9]
    enters: admission
services:
  hospital: {kind: acute, beds: 400}
steps:
  admission:
    service: hospital
    duration:
      - when: "age_band == 75+"
        use: {lognormal: {mean: 9 days, sd: 10 days}}
      - otherwise: {gamma: {mean: 4 days, sd: 3 days}}
    next: home
exits: [home]
"""


def test_spells_simulated_by_carepath_are_fitted_back(tmp_path):
    from sim.document import parse_yaml
    from sim.model import run_replication
    from sim.network import compile_network
    from sim.pathway import validate_document

    network = compile_network(validate_document(parse_yaml(textwrap.dedent(SPELL_PATHWAY), "<test>")))
    result = run_replication(network, 0, record_events=True)
    events, people = result.events, result.people
    arrived = people.set_index("patient")
    left = events[events["event"] == "exit"].set_index("patient")["time"]
    start = pd.Timestamp("2023-01-02")
    admitted = start + pd.to_timedelta(arrived["arrival"], unit="h")
    discharged = (start + pd.to_timedelta(left.reindex(arrived.index), unit="h")).dt.strftime("%Y-%m-%d %H:%M").fillna("")
    age = np.where(arrived["age_band"].astype(str) == "75+", 80, 50)
    spells = pd.DataFrame(
        {
            "admitted": admitted.dt.strftime("%Y-%m-%d %H:%M").to_numpy(),
            "discharged": discharged.to_numpy(),
            "age": age,
            "admission_method": "emergency",
            "discharge_destination": np.where(discharged.to_numpy() == "", "", "usual_residence"),
        }
    )
    path = tmp_path / "simulated.csv"
    spells.to_csv(path, index=False)
    out = tmp_path / "fit"
    ran = carepath("calibrate", "inputs", path, "--age-bands", "0-74,75+", "--data-end", "2024-02-06 00:00", "--out", out)
    assert ran.exit_code == 0, ran.output
    stays = pd.read_csv(out / "stays.csv")
    chosen = stays[stays["chosen"]].set_index("age_band")
    assert chosen.loc["75+", "family"] == "lognormal"
    for band, mean in (("0-74", 4.0), ("75+", 9.0)):
        assert inside99((chosen.loc[band, "mean_lower95"], chosen.loc[band, "mean_upper95"]), mean), chosen.loc[band]
    assert chosen["open_spells"].sum() > 0  # open spells kept, censored
    fragment = (out / "fragment.yaml").read_text()
    assert "# source: simulated.csv (sha256" in fragment
    assert "report.html" in {p.name for p in out.iterdir()}
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "2023-03-05 " not in html  # aggregates, no rows
    # the fragment pastes into a pathway: apply it and validate
    from sim.document import parse_yaml as parse
    from sim.scenario import apply_overrides

    document = parse(textwrap.dedent(SPELL_PATHWAY), "<test>")
    changes = {k: v for k, v in overrides(fragment).items() if not k.startswith("steps.admission.discharge")}
    validate_document(document, apply_overrides(document.data, changes))


# ---------------------------------------------------------------------------
# calibrating unknowns: recovery on series carepath simulated


RECOVERY_PATHWAY = """
name: recovery
start: 2023-01-01
horizon: 1 year
age_bands: [all]
age_mix: {all: 1}
localities: {area: {population: 1000}}
demand:
  emergency:
    rate: 20 per day
    enters: admission
services:
  hospital: {kind: acute, beds: 200}
steps:
  admission:
    service: hospital
    duration: {lognormal: {mean: 5 days, sd: 5 days}}
    discharge:
      pathway: {P0: 0.8, P1: 0.2, P2: 0, P3: 0}
      to: {P0: home, P1: home, P2: home, P3: home}
      delay:
        P1: {exponential: {mean: 5 days}}
exits: [home]
"""

TRUTH = {"admission_scale": 0.5, "delay_P1": 8.0}


@pytest.fixture(scope="module")
def recovery(tmp_path_factory):
    pytest.importorskip("pyabc")
    from sim.calibration.outputs import run_study
    from sim.calibration.study import build_problem, load_study, simulate_days

    folder = tmp_path_factory.mktemp("recovery")
    (folder / "pathway.yaml").write_text(textwrap.dedent(RECOVERY_PATHWAY))
    months = pd.period_range("2023-01", "2023-12", freq="M")
    admissions = pd.DataFrame({"month": [str(m) + "-01" for m in months], "org": "T", "admissions": [40 * m.days_in_month * (1 + 0.1 * math.cos(m.month / 6 * math.pi)) for m in months]})
    admissions.to_csv(folder / "admissions.csv", index=False)
    # a placeholder daily file so the study loads; replaced below by the simulated truth
    days = pd.date_range("2023-01-01", "2023-12-31", freq="D")
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "org": "T", "discharges": 1.0, "delayed": 1.0}).to_csv(folder / "daily.csv", index=False)
    study = f"""
carepath_calibration: 1
name: recovery
org_code: T
pathway: pathway.yaml
admissions: {{file: admissions.csv, where: {{org: T}}, date: month, value: admissions, frequency: monthly}}
observed:
  discharges_per_day: {{file: daily.csv, where: {{org: T}}, value: discharges, simulated: discharges}}
  delayed_patients: {{file: daily.csv, where: {{org: T}}, value: delayed, simulated: delayed}}
unknowns:
  admission_scale: {{prior: {{uniform: [0.2, 1.0]}}, scales: admissions, truth: {TRUTH['admission_scale']}}}
  delay_P1: {{prior: {{uniform: [1, 20]}}, unit: days, set: {{steps.admission.discharge.delay.P1: {{exponential: {{mean: "{{value}} days"}}}}}}, truth: {TRUTH['delay_P1']}}}
fit_months: 6
holdout_months: 2
forecast_months: 3
warm_up: 6 weeks
refit_for_forecast: false
abc: {{population: 40, generations: 3, seed: 11, predictive_draws: 12}}
"""
    (folder / "study.yaml").write_text(study)
    problem = build_problem(*load_study(folder / "study.yaml"))
    daily = simulate_days(problem, TRUTH, pd.Period("2023-03", "M"), pd.Period("2023-12", "M"), seed=99)
    pd.DataFrame(
        {"date": daily.index.strftime("%Y-%m-%d"), "org": "T", "discharges": daily["discharges"].to_numpy(), "delayed": daily["delayed"].to_numpy()}
    ).to_csv(folder / "daily.csv", index=False)
    results = run_study(folder / "study.yaml", folder / "out", jobs=2, echo=lambda *_: None)
    return folder, results


@pytest.mark.slow
def test_abc_recovers_known_unknowns_inside_95_percent_intervals(recovery):
    _, results = recovery
    table = results["fit"]["posterior"].intervals(results["problem"]).set_index("unknown")
    for name, truth in TRUTH.items():
        assert table.loc[name, "lower95"] <= truth <= table.loc[name, "upper95"], table.loc[name]
    # and the data did say something: the posterior is narrower than the prior
    width = table["upper95"] - table["lower95"]
    assert width["admission_scale"] < 0.5 * 0.8


@pytest.mark.slow
def test_outputs_write_forecast_holdout_and_report(recovery):
    folder, _ = recovery
    out = folder / "out"
    forecast = pd.read_csv(out / "forecast.csv")
    assert list(forecast.columns) == ["month", "org_code", "metric", "lower95", "lower80", "median", "upper80", "upper95"]
    assert forecast["month"].tolist()[:3] == ["2024-01", "2024-02", "2024-03"]
    assert set(forecast["metric"]) == {"discharges_per_day", "delayed_patients"}
    ordered = forecast[["lower95", "lower80", "median", "upper80", "upper95"]].to_numpy()
    assert np.all(np.diff(ordered, axis=1) >= 0)
    errors = pd.read_csv(out / "holdout_errors.csv")
    assert set(errors["metric"]) == {"discharges_per_day", "delayed_patients"} and (errors["months"] == 2).all()
    html = (out / "report.html").read_text()
    assert "Held-out months" in html and "data:image/png;base64," in html


def test_calibration_file_mistakes_are_one_line(tmp_path):
    (tmp_path / "study.yaml").write_text("carepath_calibration: 1\nname: x\norg_code: X\npathway: p.yaml\nunknownz: {}\n")
    result = carepath("calibrate", "outputs", tmp_path / "study.yaml")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "study.yaml:5: unknownz" in result.output


@pytest.mark.parametrize("name", ["exponential", "lognormal", "gamma", "weibull"])
def test_closed_form_likelihoods_match_scipy_stats(name):
    from sim.calibration.los import FAMILY

    family = FAMILY[name]
    theta = np.array([0.4, 0.9])[: family.k]
    x = np.array([0.01, 0.3, 1.0, 5.0, 40.0])
    frozen = family.frozen(theta)
    np.testing.assert_allclose(family.logpdf(theta, x, np.log(x)), frozen.logpdf(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(family.logsf(theta, x, np.log(x)), frozen.logsf(x), rtol=1e-10, atol=1e-12)
    assert family.mean(theta) == pytest.approx(frozen.mean())


# ---------------------------------------------------------------------------
# the four Kent acute trusts: every calibration file, and one combined forecast

KENT = {"RN7", "RPA", "RVV", "RWF"}


def test_every_calibration_file_loads_and_its_pathway_passes_the_strict_check():
    from sim.calibration.outputs import calibration_files
    from sim.calibration.study import build_problem, load_study

    problems = {}
    for path in calibration_files([ROOT / "calibration"]):
        study, document = load_study(path)
        problem = build_problem(study, document)
        problems[study.org_code] = problem
        checked = carepath("check", path.parent / study.pathway, "--strict")
        assert checked.exit_code == 0 and "0 unmarked" in checked.output, checked.output
        assert str(problem.data_end) == "2024-09"
        # priors wide enough for the trust's scale: the share of admissions discharged
        # and the beds not modelled cover what the trust's own series show
        ratio = problem.observed["discharges_per_day"] / problem.admissions
        low, high = study.unknowns["admission_scale"].prior.bounds
        for refit in (False, True):
            first, last = problem.windows(refit)
            share = ratio.loc[first:last].mean()  # over the months each fit sees (gaps skipped)
            assert low + 0.1 < share < high - 0.1, (study.org_code, refit, share)
        beds = problem.pathway_data["services"]["hospital"]["beds"]
        assert study.unknowns["other_occupied"].prior.bounds[1] >= 0.5 * beds
    assert set(problems) == KENT
    # Medway's unreported and zero days are missing, never zero
    rpa = problems["RPA"]
    assert rpa.sources["discharges_per_day"]["missing"] >= 170
    for name in ("discharges_per_day", "delayed_patients"):
        monthly = rpa.observed[name]
        assert monthly.loc["2024-06":"2024-08"].isna().all() and (monthly.dropna() > 0).all()


def test_a_folder_of_calibrations_writes_one_forecast_with_every_org_code(tmp_path, monkeypatch):
    """The combined writer, with the ABC and the simulation stubbed (fast): every trust in one forecast.csv."""
    from sim.calibration import forecast as forecast_module
    from sim.calibration import outputs
    from sim.calibration.abc import Posterior

    def posterior(problem, settings, first, last, folder, jobs=1, label="fit"):
        rng = np.random.default_rng(20)
        particles = pd.DataFrame({name: rng.uniform(*u.prior.bounds, 20) for name, u in problem.unknowns.items()})
        generations = pd.DataFrame({"generation": [0], "epsilon": [1.0], "samples": [20], "particles": [20], "acceptance": [1.0]})
        priors = {name: (u.prior.family, *u.prior.bounds) for name, u in problem.unknowns.items()}
        return Posterior(particles, np.ones(20), generations, 20, first, last, priors)

    def simulate(problem, params, first, last, seed, admissions=None):
        months = pd.period_range(first, last, freq="M")
        rng = np.random.default_rng(seed)
        return pd.DataFrame({name: s.mean() * rng.lognormal(0, 0.03, len(months)) for name, s in problem.observed.items()}, index=months)

    monkeypatch.setattr(outputs, "calibrate", posterior)
    monkeypatch.setattr(forecast_module, "simulate_months", simulate)
    (tmp_path / "report.html").write_text("left from a single file's run")
    result = carepath("calibrate", "outputs", ROOT / "calibration", "--out", tmp_path, "--jobs", "1", "--draws", "10")
    assert result.exit_code == 0, result.output
    combined = pd.read_csv(tmp_path / "forecast.csv")
    assert list(combined.columns) == outputs.FORECAST_COLUMNS
    assert set(combined["org_code"]) == KENT
    for org_code, rows in combined.groupby("org_code"):
        assert len(rows) == 12 * 3 and set(rows["metric"]) == {"discharges_per_day", "delayed_patients", "ga_occupancy"}
        assert rows["month"].min() == "2024-10" and rows["month"].max() == "2025-09"
        own = pd.read_csv(tmp_path / org_code.lower() / "forecast.csv")
        assert set(own["org_code"]) == {org_code} and len(own) == len(rows)
    errors = pd.read_csv(tmp_path / "holdout_errors.csv")
    assert set(errors["org_code"]) == KENT and errors.columns[0] == "org_code"
    assert not (tmp_path / "report.html").exists() and "rvv/report.html" in (tmp_path / "index.html").read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert sorted(summary["org_codes"]) == sorted(KENT)
