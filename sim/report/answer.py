"""The answer a programme board reads first: which configuration, what it buys, how sure.

The recommended configuration is chosen by a rule a board can check by eye on
the cost chart, not by an optimiser:

1. keep the scenarios that avoid admissions *with confidence* against the
   baseline (the lower end of the 95% interval is above zero);
2. find the one that avoids the most;
3. recommend the **cheapest** scenario whose admissions avoided are as good as
   that best one within its confidence interval (its mean is at least the
   best's lower bound).

Spending more for a difference the sweep cannot tell from noise is not
recommended; the page says which scenario avoided the most, and which had the
lowest cost per admission avoided, beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from sim.charts import labels as fmt

AVOIDED = "admissions_avoided_per_year"
COST_PER = "cost_per_admission_avoided"


@dataclass
class Answer:
    """The headline, how it was chosen, and the short tables behind it."""

    headline: str
    rule: str
    recommended: str | None
    best_value: str | None
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)  # (caption, rows as text)
    selected: list[str] = field(default_factory=list)  # scenarios drawn in detail (baseline first)


def baseline_label(name: str) -> str:
    """``baseline (no step-up beds)`` -> ``no step-up beds``."""
    if name.startswith("baseline (") and name.endswith(")"):
        return name[len("baseline (") : -1]
    return name


def configuration(row: pd.Series, labels: dict[str, str]) -> str:
    """A scenario's factor values in words, or its name when it has none."""
    values = {path: row[label] for path, label in labels.items() if label in row and not fmt.missing_level(row[label])}
    text = fmt.describe_values(values, labels)
    return text or str(row["scenario"])


def _extra_cost(row: pd.Series) -> float:
    value = row.get("extra_cost_per_year", math.nan)
    if fmt.missing(value):
        value = row.get("cost_community_per_year", math.nan)
    return float(value) if not fmt.missing(value) else math.inf


def response_column(table: pd.DataFrame, preferred: list[str] | None = None) -> str | None:
    """The share-within-target column of the team to report.

    ``preferred`` lists teams with a stated response standard (a team such as
    an integrated discharge team has none); otherwise the team with the most
    scenarios reporting a value.
    """
    columns = [c for c in table.columns if c.startswith("within_target:") and not c.endswith(("_low", "_high"))]
    for name in preferred or []:
        if f"within_target:{name}" in columns and table[f"within_target:{name}"].notna().any():
            return f"within_target:{name}"
    columns = [c for c in columns if table[c].notna().any()]
    return max(columns, key=lambda c: int(table[c].notna().sum())) if columns else None


def choose(table: pd.DataFrame) -> tuple[str | None, str | None, str | None, bool]:
    """(recommended, most avoided, best value, confident) scenario names by the rule above."""
    rows = table[~table["baseline"].astype(bool)]
    rows = rows[rows[AVOIDED].notna()]
    if rows.empty:
        return None, None, None, False
    confident = rows[rows[f"{AVOIDED}_low"] > 0]
    pool = confident if not confident.empty else rows[rows[AVOIDED] > 0]
    if pool.empty:
        return None, str(rows.loc[rows[AVOIDED].idxmax(), "scenario"]), None, False
    best = pool.loc[pool[AVOIDED].idxmax()]
    floor = best[f"{AVOIDED}_low"]
    if fmt.missing(floor):
        floor = best[AVOIDED]
    as_good = pool[pool[AVOIDED] >= floor]
    order = sorted(as_good.index, key=lambda i: (_extra_cost(as_good.loc[i]), -as_good.loc[i, AVOIDED]))
    recommended = str(as_good.loc[order[0], "scenario"])
    priced = pool[pool[COST_PER].notna()] if COST_PER in pool else pool.iloc[0:0]
    best_value = str(priced.loc[priced[COST_PER].idxmin(), "scenario"]) if not priced.empty else None
    return recommended, str(best["scenario"]), best_value, not confident.empty


def build_answer(
    table: pd.DataFrame, labels: dict[str, str], has_baseline: bool, partial: bool, response_hours: float | None, within: str | None = None
) -> Answer:
    """The headline sentence(s), the rule, and the best-scenario tables (``within``: the response column to quote)."""
    baseline_rows = table[table["baseline"].astype(bool)]
    baseline_name = str(baseline_rows["scenario"].iloc[0]) if len(baseline_rows) else None
    so_far = " (from the runs finished so far)" if partial else ""
    within = within or response_column(table)
    target_words = f"within {fmt.hours(response_hours)}" if response_hours else "within target"

    if not has_baseline or baseline_name is None:
        return _without_baseline(table, labels, so_far, within, target_words)

    recommended, most, best_value, confident = choose(table)
    rule = (
        "Recommended: the cheapest configuration (extra community cost a year) whose admissions avoided are as "
        "good as the best configuration's, within the best's 95% confidence interval, among those that avoid "
        "admissions with confidence (the lower end of their interval above zero). Extra community cost is "
        "net: the configuration's community services (staff, step-up beds, hubs, care packages and step-down "
        "or care-home beds after discharge) less the baseline's, so care no longer needed after an avoided "
        "admission counts as a saving."
    )
    against = baseline_label(baseline_name)
    indexed = table.set_index("scenario", drop=False)
    if recommended is None:
        if most is None:
            headline = f"No scenario could be compared with the baseline ({against}){so_far}."
        else:
            row = indexed.loc[most]
            headline = (
                f"None of the {len(table) - 1} configurations avoids admissions with confidence compared with "
                f"{against}{so_far}. The largest estimate is {configuration(row, labels)}: "
                f"{fmt.with_interval(row[AVOIDED], row[AVOIDED + '_low'], row[AVOIDED + '_high'])} admissions a year."
            )
        selected = [baseline_name] + ([most] if most else [])
        return Answer(headline, rule, None, None, _tables(table, labels, within, target_words), selected)

    row = indexed.loc[recommended]
    sentences = [
        f"With {configuration(row, labels)}, about {fmt.count(row[AVOIDED])} acute admissions a year are avoided "
        f"compared with {against} "
        f"(95% CI {fmt.interval(row[AVOIDED + '_low'], row[AVOIDED + '_high']) or 'not yet known'}){so_far}"
        + _cost_clause(row)
        + "."
    ]
    if within and not fmt.missing(row.get(within)):
        sentences.append(f"{fmt.share(row[within])} of patients are reached {target_words}.")
    if most and most != recommended:
        best = indexed.loc[most]
        sentences.append(
            f"{configuration(best, labels).capitalize()} avoids the most, about {fmt.count(best[AVOIDED])} a year, "
            f"but for {fmt.money(_extra_cost(best) - _extra_cost(row))} a year more, within the uncertainty of this one."
        )
    else:
        sentences.append("No other configuration avoids more.")
    if best_value and best_value != recommended:
        value = indexed.loc[best_value]
        sentences.append(
            f"The lowest cost per admission avoided is {configuration(value, labels)}: "
            f"{fmt.money(value[COST_PER])}, avoiding about {fmt.count(value[AVOIDED])} a year."
        )
    if not confident:
        sentences.append("No configuration's interval is clear of zero yet: treat this answer as provisional.")
    selected = list(dict.fromkeys(s for s in (baseline_name, recommended, best_value or most) if s))
    return Answer(" ".join(sentences), rule, recommended, best_value, _tables(table, labels, within, target_words), selected)


def _cost_clause(row: pd.Series) -> str:
    cost = row.get(COST_PER, math.nan)
    extra = row.get("extra_cost_per_year", math.nan)
    if not fmt.missing(cost):
        span = fmt.interval(row.get(COST_PER + "_low"), row.get(COST_PER + "_high"), fmt.money)
        return f", at about {fmt.money(cost)} per admission avoided" + (f" (95% CI {span})" if span else "")
    if not fmt.missing(extra) and extra <= 0:
        return f", while community costs fall by {fmt.money(-extra)} a year"
    return ""


def _tables(table: pd.DataFrame, labels: dict[str, str], within: str | None, target_words: str) -> list[tuple[str, pd.DataFrame]]:
    rows = table[~table["baseline"].astype(bool) & table[AVOIDED].notna()]
    if rows.empty:
        return []
    by_avoided = rows.sort_values(AVOIDED, ascending=False).head(5)
    priced = rows[rows[COST_PER].notna() & (rows[AVOIDED + "_low"] > 0)] if COST_PER in rows else rows.iloc[0:0]
    found = [("Most admissions avoided", _display(by_avoided, labels, within, target_words))]
    if not priced.empty:
        by_cost = priced.sort_values(COST_PER).head(5)
        found.append(("Lowest cost per admission avoided (of those that avoid admissions with confidence)", _display(by_cost, labels, within, target_words)))
    return found


def _display(rows: pd.DataFrame, labels: dict[str, str], within: str | None, target_words: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "configuration": [configuration(r, labels) for _, r in rows.iterrows()],
            "admissions avoided a year (95% CI)": [
                fmt.with_interval(r[AVOIDED], r[AVOIDED + "_low"], r[AVOIDED + "_high"]).replace(" (95% CI ", " (") for _, r in rows.iterrows()
            ],
            "extra community cost a year": [fmt.money(r.get("extra_cost_per_year")) for _, r in rows.iterrows()],
            "cost per admission avoided (95% CI)": [
                fmt.with_interval(r.get(COST_PER), r.get(COST_PER + "_low"), r.get(COST_PER + "_high"), fmt.money).replace(" (95% CI ", " (")
                for _, r in rows.iterrows()
            ],
        }
    )
    if within:
        out[f"reached {target_words}"] = [fmt.share(r.get(within)) for _, r in rows.iterrows()]
    out["replications"] = [str(int(r["replications"])) for _, r in rows.iterrows()]
    return out


def _without_baseline(table: pd.DataFrame, labels: dict[str, str], so_far: str, within: str | None, target_words: str) -> Answer:
    rows = table[table["admissions_per_year"].notna()]
    rule = "No baseline: configurations are ranked by acute admissions a year (fewest first), not by admissions avoided."
    if rows.empty:
        return Answer(f"No scenario has finished runs with acute admissions{so_far}.", rule, None, None, [], [])
    fewest = rows.loc[rows["admissions_per_year"].idxmin()]
    headline = (
        "This sweep has no baseline to compare with, so admissions avoided cannot be estimated. "
        f"Fewest acute admissions: {configuration(fewest, labels)}, about "
        f"{fmt.with_interval(fewest['admissions_per_year'], fewest['admissions_per_year_low'], fewest['admissions_per_year_high'])} "
        f"a year, at a total cost of {fmt.money(fewest['cost_total_per_year'])} a year{so_far}."
    )
    ranked = rows.sort_values("admissions_per_year").head(5)
    shown = pd.DataFrame(
        {
            "configuration": [configuration(r, labels) for _, r in ranked.iterrows()],
            "acute admissions a year (95% CI)": [
                fmt.with_interval(r["admissions_per_year"], r["admissions_per_year_low"], r["admissions_per_year_high"]).replace(" (95% CI ", " (")
                for _, r in ranked.iterrows()
            ],
            "total cost a year": [fmt.money(r["cost_total_per_year"]) for _, r in ranked.iterrows()],
        }
    )
    if within:
        shown[f"reached {target_words}"] = [fmt.share(r.get(within)) for _, r in ranked.iterrows()]
    shown["replications"] = [str(int(r["replications"])) for _, r in ranked.iterrows()]
    selected = [str(s) for s in ranked["scenario"].head(2)]
    return Answer(headline, rule, None, None, [("Fewest acute admissions", shown)], selected)
