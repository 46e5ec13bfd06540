"""Reading YAML files that people write, and pointing at the line they got wrong.

Pathway and experiment files are loaded with ruamel.yaml in round-trip mode: it
follows YAML 1.2 (``no`` and ``on`` stay strings, so a locality called ``No`` is not
``False``), loads safely (no Python objects are ever constructed from tags), and
remembers the line and column of every key. When validation fails, the error's
location is walked down the loaded tree to the deepest key that exists, and the
message names that key's line:

    pathways/thanet.yaml:42: services.step_up.beds: expected a whole number >= 0, got -3

The same tree carries the modeller's comments, which is where a pathway file
says where each number came from (``# source: ...`` or ``# assumption: ...``);
see :func:`provenance`.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from sim.errors import InputError, InputErrors


@dataclass
class Document:
    """A YAML file as loaded: the data tree (with line numbers) and its text."""

    path: str
    data: Any
    lines: list[str]

    def locate(self, loc: tuple[Any, ...]) -> tuple[int | None, str]:
        """Line number (1-based) and dotted key for a location in the tree.

        Parts of ``loc`` that are not keys of the current mapping (pydantic's union
        tags, for instance) are skipped. When a key is missing the parent's line is
        returned, which is where a missing key belongs.
        """
        node = self.data
        line: int | None = 1 if self.lines else None
        keys: list[str] = []
        for part in loc:
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                if isinstance(node, CommentedMap):
                    with suppress(KeyError, TypeError, AttributeError):
                        line = node.lc.key(part)[0] + 1
                keys.append(part)
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                if isinstance(node, CommentedSeq):
                    with suppress(KeyError, TypeError, AttributeError):
                        line = node.lc.item(part)[0] + 1
                keys.append(str(part))
                node = node[part]
            elif isinstance(part, str) and not part.startswith("<") and isinstance(node, dict):
                # a key pydantic names that the file does not have (a missing key):
                # report it under its parent, where it should be added
                keys.append(part)
                break
        return line, ".".join(keys)

    def error(self, loc: tuple[Any, ...], message: str) -> InputError:
        line, key = self.locate(loc)
        return InputError(message, file=self.path, line=line, key=key or None)

    def copy_data(self) -> Any:
        """A deep copy of the tree (line numbers kept) for scenario overrides."""
        return copy.deepcopy(self.data)


def read_text(path: str | Path, what: str = "file") -> str:
    """Read a text file as UTF-8, turning every way it can fail into an InputError."""
    shown = str(path)
    file = Path(path)
    if not file.exists():
        raise InputError(f"no such {what}", file=shown)
    if file.is_dir():
        raise InputError(f"expected a {what}, found a folder", file=shown)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", file=shown) from None
    if b"\x00" in raw[:8192]:
        raise InputError(f"this is a binary file, not a YAML {what}", file=shown)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid UTF-8 text (byte {exc.start}); save the {what} as UTF-8",
            file=shown,
            line=line,
        ) from None
    return text


def load_yaml(path: str | Path, what: str = "pathway file") -> Document:
    """Load a YAML mapping safely, with line numbers, or raise a one-line InputError."""
    shown = str(path)
    text = read_text(path, what)
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise InputError(f"the {what} is empty", file=shown)
    return parse_yaml(text, shown, what)


def parse_yaml(text: str, shown: str, what: str = "pathway file") -> Document:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if "found duplicate key" in str(exc) or "duplicate key" in problem:
            key = re.search(r'duplicate key "([^"]+)"', str(exc))
            problem = f"key {key.group(1)!r} appears twice" if key else "a key appears twice"
        raise InputError(f"malformed YAML: {problem}", file=shown, line=line) from None
    except YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}".splitlines()[0], file=shown) from None
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({data!r})"
        raise InputError(f"expected a mapping of keys at the top of the {what}, found {kind}", file=shown, line=1)
    return Document(path=shown, data=data, lines=text.splitlines())


# ---------------------------------------------------------------------------
# pydantic errors -> one line each


def translate_validation_error(
    exc: ValidationError,
    document: Document,
    allowed_keys: Callable[[tuple[Any, ...]], list[str] | None] | None = None,
) -> InputErrors:
    """Turn pydantic's errors into ``file:line: key: message`` lines a modeller can act on.

    ``allowed_keys(loc)`` gives the keys allowed where an unknown key was found, so
    the message can list them and suggest the closest ("did you mean 'beds'?").
    """
    found: list[tuple[bool, InputError]] = []
    seen: set[tuple[int | None, str]] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = _message(err)
        if err["type"] == "extra_forbidden" and allowed_keys is not None:
            allowed = allowed_keys(loc[:-1])
            if allowed:
                hint = _did_you_mean(str(loc[-1]), allowed)
                message = f"unknown key (expected one of: {', '.join(allowed)}){hint}"
        if err["type"] == "invalid_kind":
            loc = (*loc, "kind")
            given = err.get("input")
            kind = given.get("kind") if isinstance(given, dict) else None
            message = f"{err['msg']}, got {kind!r}" if kind is not None else f"missing: {err['msg']}"
        error = document.error(loc, message)
        marker = (error.line, error.key or "")
        if marker in seen:
            continue
        seen.add(marker)
        found.append((err["type"] != "extra_forbidden", error))
    # a misspelt key also makes its correct spelling "missing": lead with the misspelling
    found.sort(key=lambda item: item[0])
    return InputErrors([error for _, error in found])


def _did_you_mean(key: str, allowed: list[str]) -> str:
    """'; did you mean 'beds'?' for a close spelling or a prefix, else ''."""
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if not close:
        close = [name for name in allowed if len(key) >= 3 and (name.startswith(key) or key.startswith(name))][:1]
    return f"; did you mean {close[0]!r}?" if close else ""


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    value = err.get("input")
    shown = repr(value) if isinstance(value, str) else str(value)
    context = err.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        text = str(context.get("error", err["msg"]))
        return text.removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling)"
    if kind == "missing":
        return "missing: this key is required"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {shown}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        limit = next(iter(context.values()), "")
        noun = "a whole number" if isinstance(value, int) and not isinstance(value, bool) else "a number"
        return f"expected {noun} {bound} {limit}, got {shown}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {shown}"
    if kind in ("string_type",):
        return f"expected text, got {shown}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys, got {shown}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {shown}"
    if kind == "bool_type" or kind == "bool_parsing":
        return f"expected true or false, got {shown}"
    if kind == "literal_error":
        return f"expected {context.get('expected', 'one of the listed values')}, got {shown}"
    if kind == "date_from_datetime_parsing" or kind.startswith("date"):
        return f"expected a date like 2024-04-01, got {shown}"
    if kind == "too_short":
        return f"expected at least {context.get('min_length')} item(s), got {context.get('actual_length')}"
    if kind == "too_long":
        return f"expected at most {context.get('max_length')} item(s), got {context.get('actual_length')}"
    return f"{err['msg']}, got {shown}"


# ---------------------------------------------------------------------------
# provenance: where each number came from

_PROVENANCE = re.compile(r"\b(source[sd]?|sourced|assumption|assumed)\s*:\s*(?P<text>.+)", re.IGNORECASE)
#: A value that states an amount: 12, 0.85, "90 min", "45 GBP", "£45", "83.6%", "18 per 1000 per year",
#: or opening hours "08:00-20:00". Names that merely contain digits ("0-64", "85+", "P1") are not.
_QUANTITY = re.compile(
    r"^\s*(?:(?:GBP\s*|£)?[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?:\s*%|\s*[A-Za-z][A-Za-z ,0-9.%]*)?"
    r"|\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2})\s*$"
)


@dataclass(frozen=True)
class Provenance:
    """Where one number in a file came from, as its comment says."""

    key: str
    line: int
    value: str
    kind: str | None  # "source", "assumption" or None when unmarked
    note: str


def _comment_of(line: str) -> str | None:
    """The comment on a YAML line, ignoring '#' inside quotes."""
    quote: str | None = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[index + 1 :].strip()
    return None


def _marked(comment: str | None) -> tuple[str, str] | None:
    if not comment:
        return None
    match = _PROVENANCE.search(comment)
    if not match:
        return None
    word = match.group(1).lower()
    kind = "assumption" if word.startswith("assum") else "source"
    return kind, match["text"].strip()


def _block_above(lines: list[str], line_index: int) -> list[str]:
    """Comment lines directly above a line (no blank line between)."""
    block: list[str] = []
    index = line_index - 1
    while index >= 0 and lines[index].strip().startswith("#"):
        block.insert(0, lines[index].strip().lstrip("#").strip())
        index -= 1
    return block


def _note_at(lines: list[str], line_index: int) -> tuple[str, str] | None:
    if 0 <= line_index < len(lines):
        same = _marked(_comment_of(lines[line_index]))
        if same:
            return same
        block = _block_above(lines, line_index)
        # a marked comment may span several lines: join from the marker onwards
        for position, text in enumerate(block):
            found = _marked(text)
            if found:
                rest = " ".join(block[position + 1 :])
                return found[0], (found[1] + (" " + rest if rest else "")).strip()
    return None


def _leaves(node: Any, path: tuple[str, ...], lines_up: tuple[int, ...]) -> Iterator[tuple[tuple[str, ...], Any, tuple[int, ...]]]:
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            try:
                line = node.lc.key(key)[0]
            except (KeyError, TypeError):
                line = lines_up[-1] if lines_up else 0
            yield from _leaves(value, (*path, str(key)), (*lines_up, line))
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            try:
                line = node.lc.item(index)[0]
            except (KeyError, TypeError):
                line = lines_up[-1] if lines_up else 0
            yield from _leaves(value, (*path, str(index)), (*lines_up, line))
    else:
        yield path, node, lines_up


NOT_MODEL_NUMBERS = {"carepath", "seed", "name", "description", "label", "when", "start"}


def provenance(document: Document) -> list[Provenance]:
    """Every number in the file with the source or assumption its comments give.

    A number is marked by a comment containing ``source:`` or ``assumption:`` on
    its own line, in the comment block directly above it, or on (or above) any
    key that contains it, so one comment can cover a whole profile or table.
    """
    records: list[Provenance] = []
    for path, value, lines_up in _leaves(document.data, (), ()):
        if any(part in NOT_MODEL_NUMBERS for part in path):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        if isinstance(value, str) and not _QUANTITY.match(value):
            continue
        found = None
        for line_index in reversed(lines_up):
            found = _note_at(document.lines, line_index)
            if found:
                break
        line = (lines_up[-1] + 1) if lines_up else 1
        kind, note = found if found else (None, "")
        records.append(Provenance(".".join(path), line, str(value), kind, note))
    return records
