"""The engine against exact queueing results: the exact value lies inside the 99% CI.

These are the same cases ``carepath validate`` shows a reviewer (sim/validation.py).
Fixed seeds make them reproducible; no tolerance is tuned: the interval comes
from the replications.
"""

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.validation import cases, erlang_b, erlang_c, mmc_mean_wait, run_case


def test_erlang_formulas_against_tabulated_values():
    # Erlang B tables: B(10, 5) = 0.018385, B(1, 1) = 0.5; Erlang C: C(2, 1) = 1/3
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # M/M/1: Wq = rho / (mu - lambda)
    assert mmc_mean_wait(1, 0.5, 1.0) == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.parametrize("case", cases(scale=0.5), ids=lambda case: case.name)
def test_exact_value_inside_99_percent_interval(case):
    result = run_case(case, replications=20, seed=20240401, level=0.99)
    assert result["ci_low"] <= result["exact"] <= result["ci_high"], result


def test_validate_command_prints_every_case():
    result = CliRunner().invoke(app, ["validate", "--reps", "4", "--scale", "0.1"])
    assert result.exit_code in (0, 1), result.output
    for case in cases(0.1):
        assert case.name in result.stdout
    assert "99% CI" in result.stdout
