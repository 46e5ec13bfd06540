"""Units are parsed once, at load, into hours: a table of inputs and what they mean."""

import math

import pytest

from sim import units

HOUR = 1.0
DAY = 24.0
YEAR = 365.25 * 24


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("90 min", 1.5),
        ("90 mins", 1.5),
        ("1 minute", 1 / 60),
        ("45 minutes", 0.75),
        ("2 hours", 2.0),
        ("2 hour", 2.0),
        ("1.5 h", 1.5),
        ("3 hrs", 3.0),
        ("7 days", 7 * DAY),
        ("1 day", DAY),
        ("0.5 d", 12.0),
        ("2 weeks", 14 * DAY),
        ("1 wk", 7 * DAY),
        ("1 year", YEAR),
        ("2 years", 2 * YEAR),
        ("6 months", YEAR / 2),
        ("3600 s", 1.0),
        ("30 seconds", 30 / 3600),
        ("0 min", 0.0),
        ("1,000 hours", 1000.0),
        ("  12 days  ", 12 * DAY),
        ("16.4 days", 16.4 * DAY),
        ("1e2 min", 100 / 60),
        ("90 MIN", 1.5),
    ],
)
def test_durations(text, hours):
    assert units.parse_duration(text) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (90, "with a unit"),
        (1.5, "with a unit"),
        ("90", "with a unit"),
        ("90 fortnights", "unknown time unit"),
        ("-3 days", ">= 0"),
        ("days", "with a unit"),
        (None, "with a unit"),
        (True, "with a unit"),
        ("ninety minutes", "with a unit"),
    ],
)
def test_bad_durations(value, message):
    with pytest.raises(ValueError, match=message):
        units.parse_duration(value)


def test_positive_duration_refuses_zero():
    with pytest.raises(ValueError, match="> 0"):
        units.parse_duration("0 days", allow_zero=False)


@pytest.mark.parametrize(
    ("text", "per_year", "per_capita"),
    [
        ("18 per 1000 per year", 18 / 1000, True),
        ("18 per 1,000 per year", 18 / 1000, True),
        ("18 per 1000 population per year", 18 / 1000, True),
        ("5 per 100 people per month", 5 / 100 * 12, True),
        ("90 per day", 90 * 365.25, False),
        ("2.5 per hour", 2.5 * YEAR, False),
        ("1200 per year", 1200, False),
        ("0 per 1000 per year", 0.0, True),
    ],
)
def test_rates(text, per_year, per_capita):
    rate = units.parse_rate(text)
    assert rate.per_capita is per_capita
    assert rate.per_hour * YEAR == pytest.approx(per_year)


@pytest.mark.parametrize("value", [18, "18", "18 per", "18 per 1000", "per year", "18 per 0 per year", "-1 per day"])
def test_bad_rates(value):
    with pytest.raises(ValueError):
        units.parse_rate(value)


@pytest.mark.parametrize(
    ("value", "share"), [(0.836, 0.836), ("83.6%", 0.836), (0, 0.0), (1, 1.0), ("100%", 1.0), ("0.5 %", 0.005)]
)
def test_shares(value, share):
    assert units.parse_share(value) == pytest.approx(share)


@pytest.mark.parametrize("value", [1.2, -0.1, "120%", "abc", True, None])
def test_bad_shares(value):
    with pytest.raises(ValueError):
        units.parse_share(value)


@pytest.mark.parametrize(("value", "pounds"), [("45 GBP", 45), ("GBP 45", 45), ("£45", 45), ("£1,200.50", 1200.5), ("45 gbp", 45)])
def test_money(value, pounds):
    assert units.parse_money(value) == pytest.approx(pounds)


@pytest.mark.parametrize("value", [45, "45", "$45", "45 EUR", "-5 GBP"])
def test_bad_money(value):
    with pytest.raises(ValueError):
        units.parse_money(value)


def test_growth_compounds_to_an_annual_rate():
    assert units.parse_growth("2% per year") == pytest.approx(0.02)
    assert units.parse_growth("1% per month") == pytest.approx(1.01 ** (12) - 1, rel=1e-3)
    with pytest.raises(ValueError):
        units.parse_growth(0.02)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("08:00-20:00", (8.0, 20.0)), ("20:00-08:00", (20.0, 8.0)), ("00:00-24:00", (0.0, 24.0)), ("9:30-17:15", (9.5, 17.25))],
)
def test_clock_ranges(text, expected):
    assert units.parse_clock_range(text) == expected


@pytest.mark.parametrize("text", ["08:00-08:00", "25:00-26:00", "8-20", "08:00", "08:60-20:00"])
def test_bad_clock_ranges(text):
    with pytest.raises(ValueError):
        units.parse_clock_range(text)


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("every day", (0, 1, 2, 3, 4, 5, 6)),
        ("weekdays", (0, 1, 2, 3, 4)),
        ("weekends", (5, 6)),
        ("mon-wed", (0, 1, 2)),
        ("sunday", (6,)),
        (["sat", "mon"], (0, 5)),
    ],
)
def test_days(value, days):
    assert units.parse_days(value) == days


@pytest.mark.parametrize("value", ["fri-mon", "someday", ["mon", "mon"], [], 3])
def test_bad_days(value):
    with pytest.raises(ValueError):
        units.parse_days(value)


def test_format_hours_is_readable():
    assert units.format_hours(0.5) == "30 min"
    assert units.format_hours(5) == "5 hours"
    assert units.format_hours(72) == "3 days"
    assert not math.isnan(units.HOURS_PER_YEAR)
