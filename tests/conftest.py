"""Shared helpers: build pathways from YAML text, run them, read a metric."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sim.document import parse_yaml
from sim.model import RunResult, run_replication
from sim.network import Network, compile_network
from sim.pathway import Pathway, validate_document

ROOT = Path(__file__).resolve().parent.parent

# The smallest header every test pathway needs: one place, one age band.
HEADER = """
name: test
age_bands: [all]
age_mix: {all: 1}
localities: {area: {population: 1000}}
"""


def pathway_from(text: str, header: bool = True) -> Pathway:
    body = textwrap.dedent(text)
    return validate_document(parse_yaml((HEADER if header else "") + body, "<test>"))


def network_from(text: str, header: bool = True) -> Network:
    return compile_network(pathway_from(text, header))


def simulate(text: str, replication: int = 0, header: bool = True, **options) -> RunResult:
    return run_replication(network_from(text, header), replication, **options)


def metric(result: RunResult | pd.DataFrame, service: str, name: str) -> float:
    frame = result.summary if isinstance(result, RunResult) else result
    rows = frame[(frame.service == service) & (frame.metric == name)]
    assert len(rows) == 1, f"{service}.{name} not in results"
    return float(rows["value"].iloc[0])


@pytest.fixture
def root() -> Path:
    return ROOT
