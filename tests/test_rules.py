"""The rule grammar: parsed safely, checked against known attributes, compiled to masks."""

import numpy as np
import pytest

from sim.rules import RuleError, check_rule, compile_rule, parse_rule

LEVELS = {
    "age_band": ["0-64", "65-74", "75-84", "85+"],
    "frailty": ["fit", "mild", "severe"],
    "condition": ["frailty", "end_of_life", "dementia", "mental_health"],
}
CODES = {
    "age_band": np.array([0, 1, 2, 3, 3, 2]),
    "frailty": np.array([0, 2, 1, 2, 0, 2]),
    "condition": np.array([0, 1, 2, 3, 1, 0]),
}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("age_band == 85+", [0, 0, 0, 1, 1, 0]),
        ("age_band != 85+", [1, 1, 1, 0, 0, 1]),
        ("age_band in [75-84, 85+]", [0, 0, 1, 1, 1, 1]),
        ("age_band not in [75-84, 85+]", [1, 1, 0, 0, 0, 0]),
        ("age_band in [75-84, 85+] and frailty == severe", [0, 0, 0, 1, 0, 1]),
        ("frailty == fit or condition == end_of_life", [1, 1, 0, 0, 1, 0]),
        ("not (frailty == fit or condition == end_of_life)", [0, 0, 1, 1, 0, 1]),
        ("not frailty == fit and age_band == 85+", [0, 0, 0, 1, 0, 0]),
        ("frailty == 'severe'", [0, 1, 0, 1, 0, 1]),
        ("(age_band == 0-64)", [1, 0, 0, 0, 0, 0]),
    ],
)
def test_rules_select_the_right_patients(rule, expected):
    node = parse_rule(rule)
    check_rule(node, LEVELS)
    mask = compile_rule(node, LEVELS)(CODES)
    assert mask.astype(int).tolist() == expected


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty rule"),
        ("age_band ==", "expected a name or value"),
        ("age_band = 85+", "cannot read"),
        ("age_band 85+", "expected '=='"),
        ("age_band in 85+", "expected '\\['"),
        ("age_band == 85+ frailty == fit", "join conditions"),
        ("(age_band == 85+", "expected '\\)'"),
        ("__import__('os') == x", "expected '=='"),
    ],
)
def test_syntax_errors_say_what_was_expected(rule, message):
    with pytest.raises(RuleError, match=message):
        check_rule(parse_rule(rule), LEVELS)


def test_unknown_attribute_and_value_are_named():
    with pytest.raises(RuleError, match="unknown attribute 'frailtyy'"):
        check_rule(parse_rule("frailtyy == fit"), LEVELS)
    with pytest.raises(RuleError, match="unknown value 'frial' for frailty"):
        check_rule(parse_rule("frailty == frial"), LEVELS)
