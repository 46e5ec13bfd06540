"""The board report: built from a real (small) sweep, in every degraded case, never crashing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import InputError
from sim.report import build_report
from sim.report.results import read_results
from sim.sweep import SweepOptions, run_sweep
from tests.conftest import ROOT

TUTORIAL = ROOT / "pathways" / "tutorial.yaml"

TWO_FACTORS = f"""\
name: report_grid
pathway: {TUTORIAL}
baseline:
  label: no step-up beds
  set: {{services.step_up.beds: 0}}
factors:
  services.step_up.beds: {{levels: [0, 4, 8], label: step-up beds}}
  services.rapid_response.staff: {{levels: [1, 2], label: rapid response staff}}
replications: 3
horizon: 60 days
warm_up: 7 days
seed: 11
"""

ONE_FACTOR = f"""\
name: report_line
pathway: {TUTORIAL}
baseline:
  label: no step-up beds
  set: {{services.step_up.beds: 0}}
factors:
  services.step_up.beds: {{levels: [2, 4, 8], label: step-up beds}}
replications: 3
horizon: 60 days
warm_up: 7 days
seed: 11
"""

MORRIS = f"""\
name: report_morris
pathway: {TUTORIAL}
factors:
  services.step_up.beds: {{range: {{min: 2, max: 10, integer: true}}, label: step-up beds}}
  services.rapid_response.staff: {{range: {{min: 1, max: 3, integer: true}}, label: rapid response staff}}
design: {{morris: {{trajectories: 3, levels: 4}}}}
replications: 2
horizon: 45 days
warm_up: 7 days
seed: 5
"""


def sweep(folder: Path, text: str) -> Path:
    experiment = folder / "experiment.yaml"
    experiment.write_text(text, encoding="utf-8")
    outcome = run_sweep(experiment, SweepOptions(jobs=1, progress=False, out=folder / "results"))
    return outcome.folder


@pytest.fixture(scope="module")
def grid_store(tmp_path_factory) -> Path:
    return sweep(tmp_path_factory.mktemp("grid"), TWO_FACTORS)


@pytest.fixture(scope="module")
def grid_report(grid_store: Path, tmp_path_factory) -> Path:
    """A finished report of the two-factor sweep (a copy, so other tests can break their own)."""
    folder = tmp_path_factory.mktemp("built") / "results"
    shutil.copytree(grid_store, folder)
    build_report(folder)
    return folder


def copy_store(store: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    shutil.copytree(store, folder)
    return folder


def edit_manifest(folder: Path, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


# ---------------------------------------------------------------------------
# the full report


def test_report_writes_page_and_every_chart_as_png_and_svg(grid_report: Path) -> None:
    page = (grid_report / "report.html").read_text(encoding="utf-8")
    for name in ("heatmap", "frontier", "response", "occupancy", "utilisation"):
        assert (grid_report / "charts" / f"{name}.png").stat().st_size > 5_000, f"{name}.png missing or empty"
        assert (grid_report / "charts" / f"{name}.svg").read_text().lstrip().startswith("<?xml"), f"{name}.svg is not SVG"
        assert f'id="chart-{name}"' in page
    assert not list(grid_report.glob(".report-*")), "staging folder left behind"


def test_report_is_self_contained(grid_report: Path) -> None:
    page = (grid_report / "report.html").read_text(encoding="utf-8")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, "no images on the page"
    assert all(s.startswith("data:image/") for s in sources), [s[:40] for s in sources if not s.startswith("data:")]
    assert "<script" not in page
    assert "http://" not in page and "https://" not in page


def test_report_leads_with_a_plain_english_answer(grid_report: Path) -> None:
    page = (grid_report / "report.html").read_text(encoding="utf-8")
    lead = re.search(r'<p class="lead">(.*?)</p>', page, re.S).group(1)
    assert "admissions a year are avoided" in lead or "avoids admissions with confidence" in lead, lead
    assert "95% CI" in lead
    assert "Most admissions avoided" in page


def test_assumptions_list_sources_settings_and_stress_des(grid_report: Path) -> None:
    page = (grid_report / "report.html").read_text(encoding="utf-8")
    assert "STRESS-DES" in page
    for item in ("1.1", "4.1", "4.2", "5.2"):
        assert f"<td>{item}</td>" in page
    assert "2-hour urgent community response standard" in page  # a sourced number's note
    assert "assumption" in page
    assert "<td>60 days</td>" in page and "<td>7 days</td>" in page  # horizon and warm-up
    assert "root seed 11" in page


def test_recommendation_follows_the_rule(grid_store: Path) -> None:
    from sim.report.answer import choose

    results = read_results(grid_store)
    recommended, most, _, _ = choose(results.table)
    table = results.table.set_index("scenario")
    if recommended is not None:
        best = table.loc[most]
        assert table.loc[recommended, "admissions_avoided_per_year"] >= best["admissions_avoided_per_year_low"]
        assert table.loc[recommended, "extra_cost_per_year"] <= best["extra_cost_per_year"]


# ---------------------------------------------------------------------------
# degraded cases: say what cannot be shown, never crash


@pytest.mark.slow
def test_single_factor_draws_a_line_instead_of_a_heatmap(tmp_path: Path) -> None:
    folder = sweep(tmp_path, ONE_FACTOR)
    outcome = build_report(folder)
    assert "effect" in outcome.charts and "heatmap" not in outcome.charts
    assert any("one factor" in note for note in outcome.notes)
    assert "no two-way heatmap" in (folder / "report.html").read_text()
    assert not any("could not be drawn" in note for note in outcome.notes), outcome.notes


def test_without_a_baseline_says_what_cannot_be_shown(grid_store: Path, tmp_path: Path) -> None:
    folder = copy_store(grid_store, tmp_path)

    def drop_baseline(manifest: dict) -> None:
        for scenario in manifest["scenarios"]:
            scenario["baseline"] = False

    edit_manifest(folder, drop_baseline)
    outcome = build_report(folder)
    page = (folder / "report.html").read_text()
    assert "frontier" not in outcome.charts
    assert "no baseline" in page
    assert "admissions avoided cannot be estimated" in page
    assert "heatmap" in outcome.charts  # acute admissions a year, not avoided
    assert not any("could not be drawn" in note for note in outcome.notes), outcome.notes


def test_partial_results_are_reported_as_partial(grid_store: Path, tmp_path: Path) -> None:
    folder = copy_store(grid_store, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    unique_runs = list(dict.fromkeys(s["run"] for s in manifest["scenarios"] if not s["baseline"]))
    for table in ("summary", "timeseries", "distributions"):
        shutil.rmtree(folder / table / f"run={unique_runs[-1]}")  # a scenario not started yet
        (folder / table / f"run={unique_runs[0]}" / "rep=00002.parquet").unlink()  # one still running
    shutil.rmtree(folder / "analysis")
    edit_manifest(folder, lambda m: m.update(status="running"))
    outcome = build_report(folder)
    page = (folder / "report.html").read_text()
    assert outcome.partial
    assert "Partial results." in page
    assert "have none yet" in page
    assert "0 (not run yet)" in page
    assert not any("could not be drawn" in note for note in outcome.notes), outcome.notes


def test_baseline_not_run_yet(grid_store: Path, tmp_path: Path) -> None:
    folder = copy_store(grid_store, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    baseline = next(s for s in manifest["scenarios"] if s["baseline"])
    for table in ("summary", "timeseries", "distributions"):
        shutil.rmtree(folder / table / f"run={baseline['run']}")
    edit_manifest(folder, lambda m: m.update(status="running"))
    outcome = build_report(folder)
    assert any("baseline" in note and "no finished run" in note for note in outcome.notes)
    assert "frontier" not in outcome.charts


@pytest.mark.slow
def test_sensitivity_design_draws_a_tornado(tmp_path: Path) -> None:
    folder = sweep(tmp_path, MORRIS)
    outcome = build_report(folder)
    assert "tornado" in outcome.charts
    assert "heatmap" not in outcome.charts  # sampled points are not a grid
    assert not any("could not be drawn" in note for note in outcome.notes), outcome.notes


# ---------------------------------------------------------------------------
# bad input: one line, exit 2, nothing written


def run_report(folder: Path):
    return CliRunner().invoke(app, ["report", str(folder)])


def assert_refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for word in words:
        assert word in lines[0], lines[0]


def test_missing_folder(tmp_path: Path) -> None:
    assert_refused(run_report(tmp_path / "nowhere"), "no such results folder")


def test_file_instead_of_folder(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n")
    assert_refused(run_report(path), "is a file")


def test_folder_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "summary").mkdir()
    assert_refused(run_report(tmp_path), "manifest.json")
    assert not (tmp_path / "report.html").exists()


def test_corrupt_manifest(grid_store: Path, tmp_path: Path) -> None:
    folder = copy_store(grid_store, tmp_path)
    (folder / "manifest.json").write_text('{"experiment": "x", "scen')
    assert_refused(run_report(folder), "manifest is corrupt")
    assert not (folder / "report.html").exists()


def test_manifest_without_run_keys(grid_store: Path, tmp_path: Path) -> None:
    folder = copy_store(grid_store, tmp_path)
    edit_manifest(folder, lambda m: m["scenarios"][1].pop("run"))
    assert_refused(run_report(folder), "scenarios.1", "'run'")


def test_no_runs_at_all(grid_store: Path, tmp_path: Path) -> None:
    folder = copy_store(grid_store, tmp_path)
    shutil.rmtree(folder / "summary")
    assert_refused(run_report(folder), "no summary/ folder")
    (folder / "summary").mkdir()
    assert_refused(run_report(folder), "no finished run")


def test_corrupt_parquet_names_the_file_and_keeps_the_old_report(grid_report: Path, tmp_path: Path) -> None:
    folder = copy_store(grid_report, tmp_path)
    before = (folder / "report.html").read_bytes()
    victim = sorted((folder / "summary").rglob("rep=*.parquet"))[0]
    victim.write_bytes(b"PAR1 this is not parquet")
    result = run_report(folder)
    assert_refused(result, victim.name, "corrupt Parquet")
    assert (folder / "report.html").read_bytes() == before, "the old report was touched"
    assert not list(folder.glob(".report-*"))


def test_library_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        build_report(tmp_path / "missing")


# ---------------------------------------------------------------------------
# the page in a real browser


def chromium() -> str | None:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    return path


@pytest.mark.browser
@pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed")
def test_report_opens_in_headless_chromium(grid_report: Path, tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    import numpy as np
    from PIL import Image

    errors: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto((grid_report / "report.html").resolve().as_uri())
            page.wait_for_load_state("load")
            widths = page.eval_on_selector_all("img", "images => images.map(i => [i.complete, i.naturalWidth])")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert not errors, errors
    assert len(widths) >= 5
    assert all(complete and width > 0 for complete, width in widths), widths
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 10, "the screenshot is blank"
