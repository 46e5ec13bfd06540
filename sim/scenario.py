"""A scenario: a pathway with some values changed, validated again as a whole.

An experiment or a calibration changes a pathway through dotted paths into the
file (``services.step_up.beds``, ``demand.crisis.rate``,
``services.hub.sites``, ``services.team.roster.0.staff``). The change is made to
the loaded YAML tree, never to validated objects, and the result is validated
from scratch, so a combination of values that makes the pathway invalid (zero
staff on a team whose patients have nowhere else to go, a hub site that is not a
locality) is reported like any other mistake in the file, naming the scenario.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sim.document import Document
from sim.errors import InputError, InputErrors
from sim.pathway import Pathway, validate_document


def split_path(path: str) -> list[str | int]:
    """``services.team.roster.0.staff`` -> ['services', 'team', 'roster', 0, 'staff']."""
    parts: list[str | int] = []
    for part in path.split("."):
        if not part:
            raise ValueError(f"empty part in {path!r}")
        parts.append(int(part) if part.isdigit() else part)
    return parts


_MISSING = object()


def _child(node: Any, part: str | int) -> Any:
    """``node[part]`` for a mapping key or list index that exists, else _MISSING."""
    if isinstance(node, Mapping):
        return node.get(part, _MISSING)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return _MISSING


def path_exists(data: Any, path: str) -> bool:
    node = data
    for part in split_path(path):
        node = _child(node, part)
        if node is _MISSING:
            return False
    return True


def describe_missing(data: Any, path: str) -> str:
    """Which part of a dotted path is missing, and what exists there instead."""
    node = data
    walked: list[str] = []
    for part in split_path(path):
        child = _child(node, part)
        if child is not _MISSING:
            node = child
        else:
            where = ".".join(walked) or "the top of the pathway"
            if isinstance(node, Mapping):
                import difflib

                close = difflib.get_close_matches(str(part), [str(k) for k in node], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (it has: {', '.join(map(str, node))})"
                return f"no {part!r} under {where}{hint}"
            if isinstance(node, list):
                return f"{where} has {len(node)} item(s); index {part} is out of range"
            return f"{where} is a single value, not a mapping"
        walked.append(str(part))
    return ""


def apply_overrides(data: Any, overrides: Mapping[str, Any]) -> Any:
    """A deep copy of a pathway's data with each dotted path set to its value.

    Every path must already exist in the pathway (a scenario changes values, it
    does not invent keys: a misspelt path would otherwise change nothing).
    """
    changed = copy.deepcopy(data)
    for path, value in overrides.items():
        if not path_exists(changed, path):
            raise KeyError(f"{path}: {describe_missing(changed, path)}")
        *parents, last = split_path(path)
        node = changed
        for part in parents:
            node = node[part]
        node[last] = copy.deepcopy(value)
    return changed


def scenario_pathway(document: Document, overrides: Mapping[str, Any], scenario: str = "") -> Pathway:
    """Validate the pathway with ``overrides`` applied.

    Raises
    ------
    InputError
        If a path does not exist or the changed pathway is invalid; the message
        names the scenario, the key and the pathway file's line.
    """
    label = f"scenario {scenario!r}: " if scenario else ""
    try:
        data = apply_overrides(document.data, overrides)
    except KeyError as error:
        raise InputError(f"{label}{error.args[0]}", file=document.path) from None
    try:
        return validate_document(document, data)
    except InputErrors as errors:
        for error in errors.errors:
            error.message = f"{label}{error.message}"
        raise
    except InputError as error:
        error.message = f"{label}{error.message}"
        raise
