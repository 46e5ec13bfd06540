"""Watching the pathway: the event-log replay and the GIF it renders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image, ImageChops
from typer.testing import CliRunner

from sim.animation import Replay, record, render_gif
from sim.cli import app
from sim.pathway import load_pathway
from tests.conftest import ROOT

TUTORIAL = ROOT / "pathways" / "tutorial.yaml"


def log(*rows: tuple[int, float, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient", "time", "event", "step", "where"])


def test_replay_follows_the_log_by_hand() -> None:
    """Two patients: one visited then given a step-up bed, one turned away from the full bed."""
    pathway, _ = load_pathway(TUTORIAL)
    events = log(
        (1, 0.0, "arrival", "", "crisis"),
        (1, 0.0, "enter", "rapid_response", "rapid_response"),
        (1, 0.0, "queued", "rapid_response", "rapid_response"),
        (2, 0.5, "arrival", "", "crisis"),
        (2, 0.5, "enter", "rapid_response", "rapid_response"),
        (2, 0.5, "queued", "rapid_response", "rapid_response"),
        (1, 0.6, "seen", "rapid_response", "rapid_response"),
        (1, 2.0, "enter", "step_up", "step_up"),
        (1, 2.0, "admitted", "step_up", "step_up"),
        (2, 2.1, "seen", "rapid_response", "rapid_response"),
        (2, 3.5, "enter", "step_up", "step_up"),
        (2, 3.5, "diverted", "step_up", "step_up"),
        (2, 3.5, "enter", "admission", "admission"),
        (2, 3.5, "admitted", "admission", "hospital"),
    )
    replay = Replay(pathway, events)
    team, beds, hospital = replay.rows["rapid_response"], replay.rows["step_up"], replay.rows["hospital"]
    states = []
    for row in events.itertuples(index=False):
        replay.apply(row.patient, row.event, row.step, row.where, counting=True)
        states.append((len(team.waiting), len(team.in_service), len(beds.in_service), len(hospital.in_service)))
    assert states[5] == (2, 0, 0, 0)  # both waiting for the team
    assert states[6] == (1, 1, 0, 0)  # patient 1 visited
    assert states[8] == (1, 0, 1, 0)  # patient 1 in a step-up bed
    assert states[-1] == (0, 0, 1, 1)  # patient 2 turned away to hospital
    assert beds.counters == {"admitted": 1, "turned away": 1}
    assert beds.capacity == 6


def test_record_keeps_the_sweeps_patients() -> None:
    """Stopping the run at the end of the window does not change who arrives before it."""
    pathway, _ = load_pathway(TUTORIAL)
    short, start, end = record(pathway, seed=3, warm_up=48.0, days=0.5)
    longer, _, _ = record(pathway, seed=3, warm_up=48.0, days=2.0)
    arrivals = short[short.event == "arrival"][["patient", "time"]].reset_index(drop=True)
    same = longer[(longer.event == "arrival") & (longer.time < end)][["patient", "time"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(arrivals, same)
    assert (start, end) == (48.0, 60.0)


def test_gif_is_valid_and_moves(tmp_path: Path) -> None:
    pathway, _ = load_pathway(TUTORIAL)
    out = render_gif(pathway, tmp_path / "day.gif", seed=1, warm_up=24.0 * 7, days=0.5, frames=24, title="tutorial")
    with Image.open(out) as image:
        assert image.format == "GIF"
        assert image.n_frames == 24
        assert image.info.get("loop") == 0, "the GIF should loop in the report"
        frames = []
        for index in (0, image.n_frames - 1):
            image.seek(index)
            frames.append(image.convert("RGB"))
    assert ImageChops.difference(*frames).getbbox() is not None, "first and last frames are identical"
    assert out.stat().st_size < 2_000_000


def test_animate_command_with_a_scenario(tmp_path: Path) -> None:
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(
        f"name: anim\npathway: {TUTORIAL}\nfactors:\n  services.step_up.beds: {{levels: [2, 9], label: step-up beds}}\n"
        "replications: 2\nwarm_up: 7 days\n",
        encoding="utf-8",
    )
    out = tmp_path / "beds.gif"
    result = CliRunner().invoke(
        app, ["animate", str(TUTORIAL), "--experiment", str(experiment), "--scenario", "beds=9", "--days", "0.25", "--frames", "12", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        assert image.n_frames == 12
    wrong = CliRunner().invoke(app, ["animate", str(TUTORIAL), "--experiment", str(experiment), "--scenario", "nothing like it"])
    assert wrong.exit_code == 2 and "is not a scenario" in wrong.output
    bad_out = CliRunner().invoke(app, ["animate", str(TUTORIAL), "--out", str(tmp_path / "x.mp4")])
    assert bad_out.exit_code == 2 and "GIF" in bad_out.output


@pytest.mark.slow
def test_report_embeds_animations(tmp_path: Path) -> None:
    from sim.report import build_report
    from sim.sweep import SweepOptions, run_sweep

    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(
        f"name: anim_report\npathway: {TUTORIAL}\nbaseline: {{label: no beds, set: {{services.step_up.beds: 0}}}}\n"
        "factors:\n  services.step_up.beds: {levels: [3, 6], label: step-up beds}\n"
        "replications: 2\nhorizon: 40 days\nwarm_up: 7 days\n",
        encoding="utf-8",
    )
    folder = run_sweep(experiment, SweepOptions(jobs=1, progress=False, out=tmp_path / "results")).folder
    outcome = build_report(folder, animate=True, animation_days=0.2)
    page = (folder / "report.html").read_text()
    assert page.count("data:image/gif;base64,") == len(outcome.animations) >= 1
    assert all(path.exists() for path in outcome.animations)
    # a plain rebuild keeps embedding the GIFs already in the folder
    shutil.rmtree(folder / "charts")
    build_report(folder)
    assert (folder / "report.html").read_text().count("data:image/gif;base64,") == len(outcome.animations)
