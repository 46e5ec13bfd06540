"""Recompute every figure the example pathways take from the files in this folder.

Run from anywhere: ``.venv/bin/python data/derive_figures.py``. Each section prints
the figures a pathway cites (``# source: <file>, ...``); FIGURES.md explains them.

Conventions:

- Trusts: RVV East Kent (Thanet, south Kent coast), RWF Maidstone and Tunbridge
  Wells (west Kent), RN7 Dartford and Gravesham (Dartford, Gravesham and Swanley).
- Lengths of stay: HES 2017-18 gives mean and median stay by 10-year age band; the
  pathways' bands (0-64, 65-74, 75-84, 85+) take whole 10-year bands and half of
  a band that straddles a boundary (60-69, 70-79, 80-89), weighting the mean and
  the median by episodes. A log-normal with that mean and median has
  ``sigma^2 = 2 ln(mean / median)`` and ``sd = mean * sqrt(exp(sigma^2) - 1)``.
- Profiles (hour, weekday, month) are scaled to average 1, as pathway files expect.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
TRUSTS = ("RVV", "RWF", "RN7")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: Pathway age band -> (HES 10-year band, weight) pieces.
AGE_PIECES: dict[str, list[tuple[str, float]]] = {
    "0-64": [("0-9", 1), ("10-19", 1), ("20-29", 1), ("30-39", 1), ("40-49", 1), ("50-59", 1), ("60-69", 0.5)],
    "65-74": [("60-69", 0.5), ("70-79", 0.5)],
    "75-84": [("70-79", 0.5), ("80-89", 0.5)],
    "85+": [("80-89", 0.5), ("90+", 1)],
}


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / name)


def lognormal_from_mean_median(mean: float, median: float) -> float:
    """The standard deviation of the log-normal with this mean and median."""
    sigma2 = 2 * math.log(mean / median)
    return mean * math.sqrt(math.exp(sigma2) - 1)


def length_of_stay() -> pd.DataFrame:
    frame = read("hes_adhoc10641_los_by_provider_age_2017-18.csv")
    rows = []
    for trust in TRUSTS:
        own = frame[frame.provider_code.str.startswith(trust)].set_index("age_band")
        for band, pieces in AGE_PIECES.items():
            weights = [float(own.loc[age, "episodes"]) * share for age, share in pieces]
            means = [float(own.loc[age, "mean_los"]) for age, _ in pieces]
            medians = [float(own.loc[age, "median_los"]) for age, _ in pieces]
            total = sum(weights)
            mean = sum(w * m for w, m in zip(weights, means, strict=True)) / total
            median = sum(w * m for w, m in zip(weights, medians, strict=True)) / total
            rows.append((trust, band, round(total), mean, median, lognormal_from_mean_median(mean, median)))
    return pd.DataFrame(rows, columns=["trust", "age_band", "episodes", "mean_days", "median_days", "lognormal_sd_days"])


def beds() -> pd.DataFrame:
    frame = read("kent_uec_sitrep_monthly_beds_2022-04_2024-09.csv")
    recent = frame[(frame.month >= "2024-04-01") & frame.org_code.isin(TRUSTS)]
    out = recent.groupby("org_code").agg(
        beds=("general_acute_beds_available", "mean"),
        occupied=("general_acute_beds_occupied", "mean"),
        occupancy=("general_acute_beds_occupancy_rate", "mean"),
    )
    return out


def discharge_pathways() -> pd.DataFrame:
    """Shares of discharges by pathway, Apr 2022 - Jan 2024; P3b (back to an existing care home) counts as P0."""
    frame = read("kent_acute_sitrep_monthly_discharge_destination_2022-04_2024-01.csv")
    frame = frame[frame.org_code.isin([*TRUSTS, "QKS"])].copy()
    frame["pathway"] = frame.pathway.replace({"P3b": "P0"})
    table = frame.pivot_table(index="org_code", columns="pathway", values="discharges", aggfunc="sum")
    shares = table.div(table.sum(axis=1), axis=0)
    usual = frame[frame.destination.str.contains("Domestic home|existing resident", regex=True)]
    shares["usual_residence"] = usual.groupby("org_code").discharges.sum() / table.sum(axis=1)
    return shares


def discharge_ready_date() -> pd.DataFrame:
    frame = read("drd_monthly_all_orgs_2024-04_2024-09.csv")
    frame = frame[frame.org_code.isin([*TRUSTS, "QKS", "ENGLAND"])]
    totals = frame.groupby("org_code")[["total_discharges", "delayed_count", "bed_days_after_drd"]].sum()
    totals["delayed_share"] = totals.delayed_count / totals.total_discharges
    totals["mean_delay_days"] = totals.bed_days_after_drd / totals.delayed_count
    return totals[["delayed_share", "mean_delay_days"]]


def discharges_and_delayed_census() -> pd.DataFrame:
    frame = read("kent_sitrep_daily_discharges_nctr_2022-04_2024-09.csv")
    frame = frame[frame.org_code.isin(TRUSTS)]
    return frame.groupby("org_code")[["discharged_total", "nctr"]].mean()


def dartford_census() -> pd.Series:
    """RN7 on 1 October 2024: September's occupied beds and delayed census, the delays split by pathway."""
    beds_frame = read("kent_uec_sitrep_monthly_beds_2022-04_2024-09.csv")
    september = beds_frame[(beds_frame.org_code == "RN7") & (beds_frame.month == "2024-09-01")].iloc[0]
    sitrep = read("acute_sitrep_monthly_all_orgs_2024-04_2024-09.csv")
    nctr = float(sitrep[(sitrep.org_code == "RN7") & (sitrep.month == "2024-09")].nctr_average.iloc[0])
    reasons = read("kent_delay_reasons_monthly_2024-06_2024-09.csv")
    reasons = reasons[reasons.org_code == "RN7"]
    by_reason = reasons.groupby("delay_reason").delay_count.mean()
    by_pathway = {p: float(by_reason[by_reason.index.str.contains(f"(Pathway {p[1]})", regex=False)].sum()) for p in ("P1", "P2", "P3")}
    tagged = sum(by_pathway.values())
    delayed = nctr * tagged / float(by_reason.sum())
    out = {
        "beds_occupied_sep_2024": float(september.general_acute_beds_occupied),
        "emergency_occupied_85pc": 0.85 * float(september.general_acute_beds_occupied),
        "nctr_sep_2024": nctr,
        "share_naming_p1_to_p3": tagged / float(by_reason.sum()),
        "delayed_p1_to_p3": delayed,
    }
    out |= {f"delayed_{p}": delayed * n / tagged for p, n in by_pathway.items()}
    return pd.Series(out)


def emergency_admissions() -> pd.DataFrame:
    """Emergency admissions a day, Apr 2023 - Sep 2024, and the month profile of 2022-2023."""
    frame = read("kent_ae_monthly_2021-04_2024-09.csv")
    frame = frame[frame.org_code.isin(TRUSTS)].copy()
    frame["month"] = pd.to_datetime(frame.month)
    frame["per_day"] = frame.total_emergency_admissions / frame.month.dt.days_in_month
    recent = frame[frame.month >= "2023-04-01"].groupby("org_code").per_day.mean().rename("per_day_2023_24")
    years = frame[frame.month.dt.year.isin([2022, 2023])]
    by_month = years.groupby(["org_code", years.month.dt.month]).per_day.mean().unstack()
    profile = by_month.div(by_month.mean(axis=1), axis=0)
    profile.columns = [f"m{m:02d}" for m in profile.columns]
    return pd.concat([recent, profile], axis=1)


def urgent_community_response() -> pd.DataFrame:
    frame = read("ucr_2hr_monthly_all_orgs_2024-04_2024-09.csv")
    frame = frame[frame.kent | (frame.org_code == "National")].copy()
    frame["month"] = pd.to_datetime(frame.month)
    frame["days"] = frame.month.dt.days_in_month
    grouped = frame.groupby(["org_code", "org_name"])
    out = pd.DataFrame(
        {
            "referrals_per_month": grouped.ucr_referrals.mean(),
            "referrals_per_day": grouped.ucr_referrals.sum() / grouped.days.sum(),
            "within_2h": grouped.pct_2hr_standard_met.mean() / 100,
        }
    )
    return out


def community_beds() -> pd.DataFrame:
    frame = read("community_bed_audit_icb_2026-03-04.csv")
    frame = frame[frame.org_code.isin(["ENGLAND", "QKS"])].set_index("org_code")
    return frame[["community_beds", "beds_step_up", "alos_step_up", "beds_post_hospital_rehab", "alos_post_hospital_rehab"]]


def arrival_profiles() -> pd.DataFrame:
    frame = read("ecds_england_attendances_by_weekday_hour_2024-25.csv")
    rows = {}
    for column, name in (("attendances_ambulance", "ambulance"), ("attendances_total", "all")):
        hour = frame.groupby("hour")[column].sum()
        rows[f"{name}_hour"] = list(hour / hour.mean())
        weekday = frame.groupby("weekday")[column].sum().reindex(WEEKDAYS)
        rows[f"{name}_weekday"] = list(weekday / weekday.mean())
    return pd.Series(rows)


def admission_age_gradient() -> pd.DataFrame:
    """England finished admission episodes per 1,000 people a year, by age (2015-16)."""
    frame = read("hes_2015-16_fae_by_age_england_coexist_clean.csv")
    frame["per_1000_per_year"] = frame.finishedAdmissionEpisodes / frame.currentPopulation * 1000
    return frame[["age_band", "per_1000_per_year"]]


def rounded(values: list[float], digits: int = 2) -> str:
    return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"


def main() -> None:
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 20)
    print("== Length of stay by age (HES 2017-18), log-normal by mean and median")
    print(length_of_stay().round(2).to_string(index=False))
    print("\n== General and acute beds, Apr-Sep 2024 (UEC sitrep)")
    print(beds().round(3).to_string())
    print("\n== Discharge pathway shares, Apr 2022 - Jan 2024 (P3b counted as P0)")
    print(discharge_pathways().round(3).to_string())
    print("\n== Discharge Ready Date, Apr-Sep 2024: share discharged a day or more late, mean delay of those")
    print(discharge_ready_date().round(3).to_string())
    print("\n== Daily discharges and delayed census (NCTR), Apr 2022 - Sep 2024")
    print(discharges_and_delayed_census().round(1).to_string())
    print("\n== Dartford census, 1 October 2024 (RN7, September 2024)")
    print(dartford_census().round(2).to_string())
    print("\n== Emergency admissions a day (Apr 2023 - Sep 2024) and month profile (2022-2023)")
    print(emergency_admissions().round(3).to_string())
    print("\n== Urgent community response, Apr-Sep 2024")
    print(urgent_community_response().round(3).to_string())
    print("\n== Intermediate-care beds (community bed audit)")
    print(community_beds().to_string())
    print("\n== Arrival profiles (ECDS England 2024-25), scaled to average 1, Monday first")
    for name, values in arrival_profiles().items():
        print(f"{name}: {rounded(values)}")
    print("\n== Admissions per 1,000 a year by age, England 2015-16 (HES)")
    print(admission_age_gradient().round(1).to_string(index=False))


if __name__ == "__main__":
    main()
