"""A user's mistake gets one line naming file:line:key, exit code 2, no traceback, no output.

Each case breaks a valid pathway in one way and checks the whole contract through
the real command line. A property test then mutates the valid pathway at random:
every mutation either loads or fails with that kind of line, never a traceback.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import InputError
from sim.pathway import load_pathway

VALID = """\
name: bad input test
age_bands: [young, old]
age_mix: {young: 0.8, old: 0.2}
localities:
  town:
    population: 10000
demand:
  crisis:
    rate: 20 per 1000 per year
    enters: rapid_response
services:
  team:
    kind: team
    staff: 2
  step_up:
    kind: beds
    beds: 4
    when_full: divert
  hospital:
    kind: acute
    beds: 100
steps:
  rapid_response:
    service: team
    duration: {exponential: {mean: 90 min}}
    next: {home: 0.8, step_up: 0.2}
  step_up:
    service: step_up
    duration: {gamma: {mean: 10 days, sd: 4 days}}
    next: home
    on_divert: admission
  admission:
    service: hospital
    duration: {lognormal: {mean: 7 days, sd: 5 days}}
    next: home
exits: [home]
"""

runner = CliRunner()
LINE = re.compile(r"^error: (?P<file>[^:]+):(?P<line>\d+): (?P<key>[\w.+-]+): (?P<message>.+)$")


def write(tmp_path: Path, text: str, name: str = "pathway.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str):
    return runner.invoke(app, list(args))


def expect_error(tmp_path: Path, path: Path, line: int | None, key: str | None, message: str) -> str:
    out = tmp_path / "out"
    result = run_cli("run", str(path), "--reps", "1", "--out", str(out))
    assert result.exit_code == 2, result.output
    stderr = result.stderr.strip().splitlines()
    assert stderr, "no error printed"
    assert "Traceback" not in result.output
    first = stderr[0]
    assert first.startswith(f"error: {path}"), first
    if line is not None:
        match = LINE.match(first)
        assert match, first
        assert int(match["line"]) == line, first
        assert match["key"] == key, first
    assert re.search(message, first), first
    assert not out.exists(), "output written despite the error"
    # `carepath check` says the same
    result = run_cli("check", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[0] == first
    return first


def test_valid_pathway_loads(tmp_path):
    pathway, _ = load_pathway(write(tmp_path, VALID))
    assert pathway.services["step_up"].beds == 4


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "message"),
    [
        ("    beds: 4\n", "    beds: -3\n", 17, "services.step_up.beds", r"expected a whole number >= 0, got -3"),
        ("    beds: 4\n", "    beds: 2.5\n", 17, "services.step_up.beds", r"expected a whole number >= 0, got 2.5"),
        ("    beds: 4\n", "    bedz: 4\n", 17, "services.step_up.bedz", r"unknown key .*did you mean 'beds'"),
        ("    when_full: divert\n", "    when_full: divert\n    colour: red\n", 19, "services.step_up.colour", r"unknown key"),
        ("{exponential: {mean: 90 min}}", "{exponential: {mean: 90}}", 25, "steps.rapid_response.duration.exponential.mean", r"expected a duration with a unit"),
        ("{exponential: {mean: 90 min}}", "{exponential: {mean: 90 fortnights}}", 25, "steps.rapid_response.duration.exponential.mean", r"unknown time unit"),
        ("{exponential: {mean: 90 min}}", "{expo: {mean: 90 min}}", 25, "steps.rapid_response.duration.expo", r"unknown key .*did you mean 'exponential'"),
        ("    rate: 20 per 1000 per year\n", "    rate: 20\n", 9, "demand.crisis.rate", r"expected a rate with units"),
        ("{home: 0.8, step_up: 0.2}", "{home: 0.8, step_up: 0.1}", 26, "steps.rapid_response.next", r"probabilities sum to 0.9, expected 1"),
        ("{home: 0.8, step_up: 0.2}", "{home: 0.8, stepup: 0.2}", 26, "steps.rapid_response.next.stepup", r"unknown step or exit 'stepup'; did you mean 'step_up'"),
        ("    next: home\n    on_divert: admission\n", "    next: home\n", 27, "steps.step_up.on_divert", r"missing: where patients go when step_up is full"),
        ("age_mix: {young: 0.8, old: 0.2}", "age_mix: {young: 0.8, old: 0.3}", 3, "age_mix", r"shares sum to 1.1"),
        ("    enters: rapid_response\n", "    enters: rapid\n", 10, "demand.crisis.enters", r"unknown step 'rapid'"),
        ("    kind: acute\n", "    kind: hospital\n", 20, "services.hospital.kind", r"expected kind: team, beds"),
        ("    population: 10000\n", "    population: many\n", 6, "localities.town.population", r"expected a whole number >= 0, got 'many'"),
        ("    staff: 2\n", "", 12, "services.team", r"give either 'staff'"),
    ],
)
def test_each_mistake_is_one_line(tmp_path, old, new, line, key, message):
    assert old in VALID
    expect_error(tmp_path, write(tmp_path, VALID.replace(old, new, 1)), line, key, message)


def test_unreachable_step(tmp_path):
    text = VALID.replace("exits: [home]", "  orphan:\n    next: home\nexits: [home]")
    expect_error(tmp_path, write(tmp_path, text), 36, "steps.orphan", "never reached")


def test_trapping_loop(tmp_path):
    text = VALID.replace("    service: hospital\n    duration: {lognormal: {mean: 7 days, sd: 5 days}}\n    next: home",
                         "    service: hospital\n    duration: {lognormal: {mean: 7 days, sd: 5 days}}\n    next: step_up")
    first = expect_error(tmp_path, write(tmp_path, text), 35, "steps.admission.next", "loop that can trap a patient")
    assert "step_up -> admission -> step_up" in first


def test_malformed_yaml_names_the_line(tmp_path):
    text = VALID.replace("    beds: 4\n", "    beds: [4\n")
    first = expect_error(tmp_path, write(tmp_path, text), None, None, "malformed YAML")
    assert re.match(r"error: .*pathway.yaml:1[78]: malformed YAML", first), first


def test_duplicate_key(tmp_path):
    text = VALID.replace("    beds: 4\n", "    beds: 4\n    beds: 5\n")
    expect_error(tmp_path, write(tmp_path, text), None, None, "appears twice")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"# only a comment\n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("name: caf\u00e9\n".encode("latin-1"), "not valid UTF-8"),
        (b"- a\n- b\n", "expected a mapping"),
    ],
)
def test_files_that_are_not_pathways(tmp_path, content, message):
    path = tmp_path / "pathway.yaml"
    path.write_bytes(content)
    expect_error(tmp_path, path, None, None, message)


def test_missing_file(tmp_path):
    expect_error(tmp_path, tmp_path / "nowhere.yaml", None, None, "no such pathway file")


def test_console_script_exit_code_and_no_traceback(tmp_path):
    """The installed entry point (python -m sim) behaves the same as the in-process runner."""
    path = write(tmp_path, VALID.replace("    beds: 4\n", "    beds: -3\n"))
    completed = subprocess.run([sys.executable, "-m", "sim", "check", str(path)], capture_output=True, text=True, check=False)
    assert completed.returncode == 2
    assert completed.stderr.strip() == f"error: {path}:17: services.step_up.beds: expected a whole number >= 0, got -3"
    assert completed.stdout == ""


# ---------------------------------------------------------------------------
# property: random mutations load or fail cleanly

def _leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path


MUTANTS = st.one_of(
    st.integers(-5, 50),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["90 min", "-1 days", "0", "1e9 years", "50%", "home", "kind", "[", "{", None, True, [], {}]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_mutations_never_raise_anything_but_input_error(tmp_path, data):
    yaml = YAML(typ="rt")
    tree = yaml.load(VALID)
    leaves = list(_leaves(tree))
    path = data.draw(st.sampled_from(leaves))
    action = data.draw(st.sampled_from(["replace", "delete", "rename"]))
    parent = tree
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = data.draw(MUTANTS)
    elif action == "delete":
        del parent[last]
    elif isinstance(last, str):
        parent[last + data.draw(st.sampled_from(["x", "_", "s"]))] = parent.pop(last)
    target = tmp_path / "mutant.yaml"
    with target.open("w", encoding="utf-8") as handle:
        yaml.dump(tree, handle)
    try:
        load_pathway(target)
    except InputError as error:
        for line in str(error).splitlines():
            assert line.startswith(str(target)), line
            assert "Traceback" not in line


def test_zero_capacity_that_would_trap_patients_is_refused(tmp_path):
    text = VALID.replace("    beds: 4\n    when_full: divert\n", "    beds: 0\n    when_full: wait\n").replace(
        "    next: home\n    on_divert: admission\n", "    next: home\n"
    )
    expect_error(tmp_path, write(tmp_path, text), 17, "services.step_up.beds", "would hold patients at step 'step_up' forever")


def test_team_with_no_staff_needs_somewhere_to_send_patients(tmp_path):
    text = VALID.replace("    staff: 2\n", "    staff: 0\n")
    expect_error(tmp_path, write(tmp_path, text), 14, "services.team.staff", "no one is ever on duty")
    # with a route for diverted patients, zero staff is the legal 'no service' baseline
    fixed = text.replace("    next: {home: 0.8, step_up: 0.2}\n", "    next: {home: 0.8, step_up: 0.2}\n    on_divert: admission\n")
    assert load_pathway(write(tmp_path, fixed, "fixed.yaml"))[0].services["team"].staff == 0


def test_a_line_break_in_the_users_own_text_stays_on_one_line():
    from sim.errors import InputError

    message = str(InputError("unknown age band 'young' (expected one of: \r, old\n)", file="p.yaml", line=3, key="age_mix"))
    assert message.splitlines() == [message]
    assert message == "p.yaml:3: age_mix: unknown age band 'young' (expected one of: \\r, old\\n)"
