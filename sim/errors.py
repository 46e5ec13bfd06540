"""Errors a user can act on.

A modeller who mistypes a pathway file should see one line that says where the
mistake is and what was expected, never a traceback:

    pathways/thanet.yaml:42: services.step_up.beds: expected a whole number >= 0, got -3

Library code raises :class:`InputError`; only the command line turns it into a
message on stderr and exit code 2. Nothing in the library calls ``sys.exit``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class InputError(Exception):
    """A mistake in something the user gave carepath (a file, a flag, a folder).

    Parameters
    ----------
    message:
        What was expected and what was found, in plain words.
    file:
        The file the mistake is in, as the user named it.
    line:
        1-based line number, when known.
    key:
        Dotted path of the key inside the file (``services.step_up.beds``).
    """

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line:
                where += f":{self.line}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        return _one_line(f"{where}{key}{self.message}")


#: characters that break a terminal line, written as their escapes instead
_LINE_BREAKS = {ord(ch): ch.encode("unicode_escape").decode("ascii") for ch in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


def _one_line(text: str) -> str:
    """Escape line breaks a user's own text may carry (a key named ``"\\r"``), so one
    mistake is always one line on the terminal and in a log."""
    return text.translate(_LINE_BREAKS)


class InputErrors(InputError):  # noqa: N818 - a collection of InputError, named for what it holds
    """Several independent mistakes found in one pass; shown one per line."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, first.file, first.line, first.key)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def user_errors(function: F | None = None, *, interrupted: str = "interrupted") -> Any:
    """Decorate a command: an InputError becomes ``error: ...`` lines on stderr and
    exit code 2, never a traceback; Ctrl-C prints ``interrupted`` and exits 130.

    Every command module (``sim.cli``, report, animate, calibrate) uses this one
    decorator. ``interrupted`` says what the user can do next (a sweep resumes).
    """

    def decorate(command: F) -> F:
        import typer

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return command(*args, **kwargs)
            except InputError as error:
                for line in str(error).splitlines():
                    print(f"error: {line}", file=sys.stderr)
                raise typer.Exit(2) from None
            except KeyboardInterrupt:
                print(interrupted, file=sys.stderr)
                raise typer.Exit(130) from None

        return wrapper  # type: ignore[return-value]

    return decorate(function) if function is not None else decorate
