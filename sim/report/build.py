"""Build the board report of a sweep: read the store, draw the charts, write one page.

``carepath report results/X`` calls :func:`build_report`. The order of work is
what makes it safe to run on a store that is still being written, and safe to
interrupt:

1. read and check the store (:mod:`sim.report.results`); a broken store is an
   InputError and nothing is written;
2. work out the answer (:mod:`sim.report.answer`) and the assumptions
   (:mod:`sim.report.assumptions`);
3. draw every chart into a hidden staging folder inside the results folder; a
   chart that cannot be drawn for the data at hand becomes a sentence in "What
   this report cannot show", never a crash;
4. only then move the charts into ``charts/`` and write ``report.html``
   atomically: a reader sees the old report or the new one, never half of one.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.charts import labels as fmt
from sim.charts.style import save
from sim.report.answer import Answer, baseline_label, build_answer, configuration, response_column
from sim.report.assumptions import build_assumptions
from sim.report.page import Animation, Chart, render
from sim.report.results import ServiceInfo, SweepResults, read_results
from sim.storage import write_text

#: GIFs the report embeds, if present in the results folder (``carepath animate --out``).
ANIMATION_FOLDER = "animations"


@dataclass
class ReportOutcome:
    """What was written, and what the page says it could not show."""

    path: Path
    charts: list[str]
    notes: list[str]
    partial: bool
    seconds: float
    animations: list[Path] = field(default_factory=list)


def build_report(
    folder: str | Path,
    *,
    animate: bool = False,
    animation_days: float = 1.0,
    out: Path | None = None,
) -> ReportOutcome:
    """Write ``report.html`` and ``charts/*.png|svg`` for a results folder.

    Parameters
    ----------
    folder:
        A sweep's results folder.
    animate:
        Also render GIFs of the recommended scenario and the baseline (slower;
        otherwise GIFs already in ``animations/`` or ``animation.gif`` are embedded).
    animation_days:
        Days shown by those GIFs.
    out:
        Where to write the page (default ``<folder>/report.html``); charts go
        in a ``charts`` folder beside it.

    Raises
    ------
    InputError
        If the folder is missing, is not a results folder, or is corrupt.
    """
    started = time.perf_counter()
    results = read_results(folder)
    target = Path(out) if out is not None else results.folder / "report.html"
    staging = target.parent / f".report-{uuid.uuid4().hex[:8]}.tmp"
    notes = list(results.notes)
    try:
        staging.mkdir(parents=True)
        within = _within(results)
        team = _response_team(results, within)
        answer = build_answer(
            results.table, results.factor_labels, results.has_baseline, results.partial, team.response_target if team else None, within
        )
        charts = _draw_all(results, answer, staging / "charts", notes)
        animations, animation_note, gifs = _animations(results, answer, staging, animate, animation_days, notes)
        page = render(
            title=f"{results.manifest.get('pathway_name') or results.name}: what-if report ({results.name})",
            subtitle=str(results.manifest.get("description") or "What-if comparison of local care configurations."),
            banner=_banner(results),
            headline=answer.headline,
            rule=answer.rule,
            answer_tables=answer.tables,
            notes=notes,
            charts=charts,
            animations=animations,
            animation_note=animation_note,
            scenario_table=_scenario_rows(results),
            assumptions=build_assumptions(results),
            folder_name=str(results.folder),
        )
        _publish(staging, target.parent, gifs)
        write_text(target, page)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ReportOutcome(
        target, [c.name for c in charts], notes, results.partial, time.perf_counter() - started,
        [target.parent / ANIMATION_FOLDER / g for g in gifs],
    )


# ---------------------------------------------------------------------------
# pieces of the page


def _banner(results: SweepResults) -> str | None:
    if not results.partial:
        return None
    status = results.manifest.get("status", "unknown")
    complete = sum(1 for s in results.scenarios if len(s.done) >= s.replications)
    empty = sum(1 for s in results.scenarios if not s.done)
    runs = sum(len(s.done) for s in results.scenarios)
    asked = sum(s.replications for s in results.scenarios)
    text = (
        f"The sweep's status is '{status}': {runs} of {asked} runs are finished; {complete} of {len(results.scenarios)} "
        "scenarios have all their replications"
    )
    text += f", {empty} have none yet and are left out." if empty else "."
    return text + " Everything below is from the runs on disk; intervals will narrow as the rest finish."


def _within(results: SweepResults) -> str | None:
    """The response column of the team with a stated standard (not, say, a discharge team)."""
    preferred = [s.name for s in results.services.values() if s.response_target is not None]
    return response_column(results.table, preferred)


def _response_team(results: SweepResults, within: str | None) -> ServiceInfo | None:
    if within is None:
        return None
    name = within.split(":", 1)[1]
    return results.services.get(name) or ServiceInfo(name, "team", name.replace("_", " "))


def _short_names(results: SweepResults) -> dict[str, str]:
    names = {}
    for _, row in results.table.iterrows():
        text = configuration(row, results.factor_labels)
        names[str(row["scenario"])] = f"baseline: {baseline_label(str(row['scenario']))}" if row["baseline"] else text
    return names


def _highlight(results: SweepResults, answer: Answer) -> dict[str, str]:
    tags: dict[str, str] = {}
    if results.baseline is not None and results.has_baseline:
        tags[results.baseline.name] = "baseline"
    if answer.best_value:
        tags[answer.best_value] = "lowest cost per admission avoided"
    if answer.recommended:
        tags[answer.recommended] = "recommended"
    return tags


def _selected(results: SweepResults, answer: Answer, names: dict[str, str]) -> dict[str, str]:
    """Scenarios drawn in detail (occupancy, response times), with legend labels."""
    chosen = [s for s in answer.selected if s in names]
    if not chosen:
        chosen = [str(s) for s in results.table["scenario"].head(2)]
    tags = _highlight(results, answer)
    return {s: (f"{tags[s]}: {names[s]}" if s in tags and not names[s].startswith("baseline") else names[s]) for s in chosen}


def _draw_all(results: SweepResults, answer: Answer, folder: Path, notes: list[str]) -> list[Chart]:
    """Every chart the data allows, in reading order; what cannot be drawn becomes a note."""
    names = _short_names(results)
    highlight = _highlight(results, answer)
    selected = _selected(results, answer, names)
    charts: list[Chart] = []

    def attempt(name: str, heading: str, caption: str, alt: str, draw: Callable[[], Figure | None]) -> None:
        try:
            fig = draw()
        except Exception as exc:  # a chart must never take the report down with it
            notes.append(f"The chart '{heading}' could not be drawn from these results ({exc.__class__.__name__}: {exc}).")
            return
        if fig is None:
            return
        paths = save(fig, folder, name)
        charts.append(Chart(name, heading, caption, paths["png"].read_bytes(), alt))

    _avoided_chart(results, answer, attempt, notes, highlight)
    if results.has_baseline:
        table = results.table
        if table["extra_cost_per_year"].notna().sum() >= 1 and (~table["baseline"].astype(bool)).any():
            from sim.charts import frontier

            against = baseline_label(results.baseline.name)
            attempt(
                "frontier",
                "Cost against admissions avoided",
                "Each point is a configuration: admissions avoided a year against its extra community cost a year, "
                "both against the baseline and paired by replication, with 95% CI bars. The line joins the "
                "configurations no other beats on both (the efficient frontier); the star is the recommendation.",
                "Scatter of extra cost against admissions avoided with the efficient frontier",
                lambda: frontier.draw(table, names, answer.recommended, against),
            )
    _response_chart(results, attempt, notes, highlight, selected)
    _occupancy_chart(results, attempt, notes, selected)
    _utilisation_chart(results, attempt, notes, highlight)
    _tornado_chart(results, attempt, notes)
    return charts


def _factor_columns(results: SweepResults) -> list[str]:
    return [label for label in results.factor_labels.values() if label in results.table]


def _avoided_chart(results: SweepResults, answer: Answer, attempt, notes: list[str], highlight: dict[str, str]) -> None:
    from sim.charts import effect, heatmap

    table = results.table
    value, title, unit = (
        ("admissions_avoided_per_year", "Admissions avoided a year", "acute admissions avoided a year (patients)")
        if results.has_baseline
        else ("admissions_per_year", "Acute admissions a year", "acute admissions a year (patients)")
    )
    against = baseline_label(results.baseline.name) if results.has_baseline else "no baseline"
    columns = _factor_columns(results)
    rows = table[~table["baseline"].astype(bool) & table[value].notna()]
    if rows.empty:
        notes.append("No scenario other than the baseline has finished runs, so there is nothing to compare yet.")
        return
    grid = heatmap.grid_factors(table, columns, value)
    if grid is not None:
        x, y = grid
        anchor = answer.recommended or str(rows.loc[rows[value].idxmax(), "scenario"])
        anchor_row = table[table["scenario"] == anchor].iloc[0]
        hold = {c: anchor_row[c] for c in columns if c not in grid and rows[c].map(fmt.level).nunique() > 1}
        attempt(
            "heatmap",
            f"{title} by {x} and {y}",
            f"Each cell is one configuration: the mean {title.lower()} over replications and, below it, its 95% "
            "confidence interval" + (f", against {against} on the same patients." if results.has_baseline else "."),
            f"Heatmap of {title.lower()} over {x} and {y}",
            lambda: heatmap.draw(table, x, y, hold, value, title, against),
        )
        return
    varying = [c for c in columns if rows[c].map(fmt.level).nunique() > 1]
    if len(varying) == 1 and effect.numeric(rows[varying[0]]):
        factor = varying[0]
        notes.append(f"The sweep varies one factor ({factor}), so there is no two-way heatmap; a line against {factor} is drawn instead.")
        attempt(
            "effect",
            f"{title} by {factor}",
            f"Mean {title.lower()} over replications at each level of {factor}, with the 95% confidence band.",
            f"Line chart of {title.lower()} against {factor}",
            lambda: effect.draw_line(table, factor, value, unit, f"{title}, by {factor}"),
        )
        return
    why = (
        "the scenarios are named, not a grid of factor levels"
        if not columns
        else "the scenarios do not form a grid of two factors (a sampled design, or one factor that is not a number)"
    )
    notes.append(f"There is no heatmap because {why}; each scenario is drawn with its interval instead.")
    attempt(
        "effect",
        f"{title} by scenario",
        f"Mean {title.lower()} over replications for each scenario, with its 95% confidence interval.",
        f"Dot plot of {title.lower()} by scenario",
        lambda: effect.draw_scenarios(table, value, unit, f"{title}, by scenario", highlight),
    )


def _response_chart(results: SweepResults, attempt, notes: list[str], highlight: dict[str, str], selected: dict[str, str]) -> None:
    from sim.charts import response

    within = _within(results)
    team = _response_team(results, within)
    if within is None or team is None:
        notes.append("No team in the pathway reports a share reached within a target, so there is no response-time chart.")
        return
    histograms = results.series("distributions", list(selected), services=[team.name], metrics=["response"])
    attempt(
        "response",
        f"{team.label}: response times against the standard",
        "Left: the share of patients reached within the target in each scenario, with its 95% confidence interval. "
        "Right: the share of patients seen within each time for the selected scenarios (median over replications, "
        "90% band), from each run's response-time histogram.",
        f"Share of patients reached within target by scenario, and response-time curves for {len(selected)} scenarios",
        lambda: response.draw(results.table, within, team.label, team.response_target, histograms, selected, highlight),
    )


def _occupancy_services(results: SweepResults) -> list[ServiceInfo]:
    """The acute hospital first, then the bed services the sweep varies (else every bed service), at most three."""
    services = results.services
    acute = [s for s in services.values() if s.kind == "acute"]
    varied_names = {path.split(".")[1] for path in results.factor_labels if path.startswith("services.") and path.count(".") >= 2}
    for scenario in results.scenarios:
        varied_names.update(p.split(".")[1] for p in scenario.values if p.startswith("services.") and p.count(".") >= 2)
    beds = [s for s in services.values() if s.kind == "beds" and s.name in varied_names]
    if not beds:
        beds = [s for s in services.values() if s.kind == "beds"]
    return (acute + beds)[:3]


def _occupancy_chart(results: SweepResults, attempt, notes: list[str], selected: dict[str, str]) -> None:
    from sim.charts import occupancy

    services = _occupancy_services(results)
    if not services:
        notes.append("The pathway has no bed service, so there is no occupancy chart.")
        return
    series = results.series("timeseries", list(selected), services=[s.name for s in services], metrics=["occupancy"])
    if series.empty:
        notes.append("The runs on disk have no daily occupancy series, so occupancy through the year cannot be shown.")
        return
    capacities = {(scenario, s.name): results.capacity(scenario, s.name) for scenario in selected for s in services}
    start = results.pathway.start if results.pathway is not None else date(2024, 4, 1)
    warm_up = float(results.manifest.get("warm_up_hours") or 0.0) / 24.0
    targets = {s.name: s.target for s in services if s.target}
    present = [s for s in services if (series["service"] == s.name).any()]
    attempt(
        "occupancy",
        "Beds occupied through the year",
        "Daily mean beds occupied, the median over replications with a band from the 5th to the 95th percentile, "
        "for the selected scenarios; dashed lines are the beds commissioned, dotted the occupancy target. "
        "The shaded start is the warm-up, not counted in any result.",
        "Occupancy of " + " and ".join(s.label for s in present) + " through the year",
        lambda: occupancy.draw(series, [(s.name, s.label) for s in present], selected, capacities, start, warm_up, targets),
    )


def _utilisation_chart(results: SweepResults, attempt, notes: list[str], highlight: dict[str, str]) -> None:
    from sim.charts import utilisation

    table = results.table
    chosen = []
    for service in results.services.values():
        column = f"utilisation:{service.name}"
        if column in table and table[column].notna().any():
            chosen.append(service)
    varied = {path.split(".")[1] for path in results.factor_labels if path.startswith("services.") and path.count(".") >= 2}
    chosen.sort(key=lambda s: (s.name not in varied, s.target is None, s.kind != "acute"))
    chosen = chosen[:6]
    if not chosen:
        notes.append("No service reports utilisation, so there is no utilisation chart.")
        return
    attempt(
        "utilisation",
        "Staff utilisation and bed occupancy against targets",
        "Each scenario's mean share of rostered staff time busy, or of commissioned beds occupied, with its 95% "
        "confidence interval; dashed lines are the targets stated in the pathway (or the usual 85% ceiling for "
        "beds when none is stated).",
        "Utilisation by scenario for " + ", ".join(s.label for s in chosen),
        lambda: utilisation.draw(table, [(s.name, s.label, s.kind, s.target) for s in chosen], highlight),
    )


def _tornado_chart(results: SweepResults, attempt, notes: list[str]) -> None:
    from sim.charts import tornado

    design = str(results.manifest.get("design", "full_factorial"))
    if design not in ("morris", "sobol"):
        notes.append(
            f"The sweep's design is {design.replace('_', ' ')}, not a sensitivity design (morris or sobol), "
            "so there is no tornado of sensitivities."
        )
        return
    if results.sensitivity is None or results.sensitivity.empty:
        notes.append("The sensitivity indices are computed when the sweep completes; they are not in this folder yet.")
        return
    attempt(
        "tornado",
        "Which factors matter most",
        "Sensitivity indices from the sweep's design with 95% confidence intervals, largest at the top.",
        "Tornado chart of sensitivity indices",
        lambda: tornado.draw(results.sensitivity),
    )


def _scenario_rows(results: SweepResults) -> pd.DataFrame:
    """Every scenario as text, for the details table."""
    table = results.table
    within = _within(results)
    rows = []
    for _, row in table.iterrows():
        entry = {
            "scenario": str(row["scenario"]),
            "replications": str(int(row["replications"])),
            "acute admissions a year": fmt.with_interval(row["admissions_per_year"], row["admissions_per_year_low"], row["admissions_per_year_high"]).replace("95% CI ", ""),
            "admissions avoided a year": "-" if row["baseline"] else fmt.with_interval(row["admissions_avoided_per_year"], row["admissions_avoided_per_year_low"], row["admissions_avoided_per_year_high"]).replace("95% CI ", ""),
            "bed days saved a year": "-" if row["baseline"] else fmt.with_interval(row["bed_days_saved_per_year"], row["bed_days_saved_per_year_low"], row["bed_days_saved_per_year_high"]).replace("95% CI ", ""),
            "extra community cost a year": "-" if row["baseline"] else fmt.money(row["extra_cost_per_year"]),
            "cost per admission avoided": "-" if row["baseline"] else fmt.with_interval(row["cost_per_admission_avoided"], row["cost_per_admission_avoided_low"], row["cost_per_admission_avoided_high"], fmt.money).replace("95% CI ", ""),
        }
        if within:
            entry["reached within target"] = fmt.share(row[within])
        rows.append(entry)
    missing = [s for s in results.scenarios if not s.done]
    for scenario in missing:
        rows.append({"scenario": scenario.name, "replications": "0 (not run yet)"})
    return pd.DataFrame(rows).fillna("")


# ---------------------------------------------------------------------------
# animations and publishing


def _animations(
    results: SweepResults, answer: Answer, staging: Path, animate: bool, days: float, notes: list[str]
) -> tuple[list[Animation], str | None, list[str]]:
    """GIFs to embed, a note about them, and the names of newly rendered ones (to publish)."""
    rendered: list[str] = []
    if animate:
        rendered = _render_animations(results, answer, staging / ANIMATION_FOLDER, days, notes)
        folder = staging / ANIMATION_FOLDER
    else:
        folder = results.folder / ANIMATION_FOLDER
    found: list[tuple[str, Path]] = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.gif"), key=lambda p: (p.stem != "recommended", p.stem)):
            found.append((path.stem, path))
    single = results.folder / "animation.gif"
    if not found and single.exists():
        found.append(("animation", single))
    animations = []
    for stem, path in found:
        caption_file = path.with_suffix(".txt")
        caption = caption_file.read_text(encoding="utf-8").strip() if caption_file.exists() else stem.replace("_", " ")
        animations.append(Animation(caption, path.read_bytes()))
    note = None
    if not animations:
        note = (
            "No animation in this folder. `carepath report RESULTS --animate` renders a day of the recommended "
            "configuration beside the baseline (or `carepath animate PATHWAY --out RESULTS/animation.gif`)."
        )
    else:
        note = "Each square is a patient; the animations replay the simulation's own event log for the same pre-drawn patients the sweep counted (replication 1), after the warm-up."
    return animations, note, rendered


def _render_animations(results: SweepResults, answer: Answer, folder: Path, days: float, notes: list[str]) -> list[str]:
    from sim.animation import render_gif
    from sim.errors import InputError
    from sim.scenario import scenario_pathway

    if results.pathway_document is None:
        notes.append("The pathway copy (inputs/pathway.yaml) is missing, so no animation can be rendered.")
        return []
    chosen: list[tuple[str, str]] = []
    if answer.recommended:
        chosen.append(("recommended", answer.recommended))
    if results.baseline is not None:
        chosen.append(("baseline", results.baseline.name))
    if not chosen:
        chosen.append(("scenario", results.scenarios[0].name))
    seed = int(results.manifest.get("seed") or 0)
    warm_up = float(results.manifest.get("warm_up_hours") or 0.0)
    made = []
    names = _short_names(results)
    for stem, name in chosen:
        scenario = results.scenario(name)
        try:
            pathway = scenario_pathway(results.pathway_document, scenario.values, name)
        except InputError as error:
            notes.append(f"Scenario {name!r} could not be animated: {error}")
            continue
        described = names.get(name, name)
        label = described[0].upper() + described[1:] if described.startswith(stem) else f"{stem.capitalize()}: {described}"
        render_gif(pathway, folder / f"{stem}.gif", seed=seed, warm_up=warm_up, days=days, title=label)
        (folder / f"{stem}.txt").write_text(
            f"{label}. {fmt.count(days)} day(s) after the warm-up, replication 1.", encoding="utf-8"
        )
        made.append(f"{stem}.gif")
    return made


def _publish(staging: Path, destination: Path, gifs: list[str]) -> None:
    """Swap the staged charts (and any new animations) into place."""
    for name in ("charts", ANIMATION_FOLDER) if gifs else ("charts",):
        new = staging / name
        if not new.exists():
            continue
        old = destination / name
        retired = staging / f"old-{name}"
        if old.exists():
            old.rename(retired)
        new.rename(old)

