"""Mistakes a modeller makes in a Kent pathway: one file:line:key line, exit code 2.

Each case copies the west Kent example, breaks it in one way (a roster, a hub site, a
travel matrix, a rule) and runs ``carepath check`` as a user would, in a subprocess.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEST_KENT = (ROOT / "pathways" / "west_kent.yaml").read_text(encoding="utf-8")
LINE = re.compile(r"^error: (?P<file>[^:]+):(?P<line>\d+): (?P<key>[\w.+-]+): (?P<message>.+)$")


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of the first line containing ``fragment``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the file")


CASES = [
    pytest.param(
        '      - {role: nurse, staff: 1, days: every day, hours: "20:00-08:00"}\n      - {role: paramedic',
        '      - {role: nurse, staff: 1, days: every day, hours: "19:00-08:00"}\n      - {role: paramedic',
        '"19:00-08:00"',
        "services.rapid_response_west.roster.1",
        r"this nurse shift overlaps the nurse shift at roster\.0",
        id="overlapping shifts",
    ),
    pytest.param(
        'hours: "10:00-22:00"',
        'hours: "10:00-25:00"',
        '"10:00-25:00"',
        "services.rapid_response_west.roster.2.hours",
        r"expected a time of day like '08:00', got '25:00'",
        id="impossible shift",
    ),
    pytest.param(
        "sites: [tonbridge, maidstone_central]",
        "sites: [tonbridge, pembury]",
        "sites: [tonbridge, pembury]",
        "services.local_care_hub.sites.1",
        r"hub site 'pembury' is not a locality",
        id="hub site not a locality",
    ),
    pytest.param(
        "      maidstone_south: {maidstone_malling: 20 min}\n",
        "",
        "    between:",
        "travel.car.between",
        r"missing the travel time between 'maidstone_south' and 'maidstone_malling'",
        id="travel matrix missing a pair",
    ),
    pytest.param(
        "tonbridge: {weald: 22 min,",
        "tonbridge: {weald: -22 min,",
        "tonbridge: {weald: -22 min,",
        "travel.car.between.tonbridge.weald",
        r"expected a duration >= 0, got '-22 min'",
        id="negative travel time",
    ),
    pytest.param(
        'when: "frailty == severe or condition == end_of_life"',
        'when: "fraility == severe or condition == end_of_life"',
        "fraility",
        "steps.rapid_response_west.window.0.when",
        r"unknown attribute 'fraility'",
        id="rule naming an unknown attribute",
    ),
    pytest.param(
        '- when: "locality in [maidstone_central, maidstone_north, maidstone_south, maidstone_malling]"',
        '- when: "locality in [maidstone_central, maidstone_north, maidstone_south, maidstone_west]"',
        "maidstone_west]",
        "steps.rapid_response.next.0.when",
        r"maidstone_west",
        id="rule naming an unknown locality",
    ),
]


@pytest.mark.parametrize(("old", "new", "where", "key", "message"), CASES)
def test_check_names_file_line_and_key(tmp_path, old, new, where, key, message):
    assert WEST_KENT.count(old) >= 1, old
    broken = WEST_KENT.replace(old, new, 1)
    path = tmp_path / "west_kent.yaml"
    path.write_text(broken, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sim", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    match = LINE.match(lines[0])
    assert match, lines[0]
    assert match["file"] == str(path)
    assert match["key"] == key, lines[0]
    assert int(match["line"]) == line_of(broken, where), lines[0]
    assert re.search(message, match["message"]), lines[0]
