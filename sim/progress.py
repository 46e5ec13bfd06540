"""A progress bar for long sweeps: runs done, rate and time left.

rich draws a live bar in a terminal; in a log file (CI, a batch job on a
cluster) it prints nothing until the end and then one line, instead of hundreds
of carriage returns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@contextmanager
def progress_bar(total: int, description: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n=1)``; shows a bar on a terminal, a summary line otherwise."""
    if not enabled:
        yield lambda n=1: None
        return
    console = Console(stderr=True)
    started = time.perf_counter()
    done = 0
    if console.is_terminal:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(description, total=total, rate="")

            def advance(n: int = 1) -> None:
                nonlocal done
                done += n
                elapsed = time.perf_counter() - started
                rate = f"{done / elapsed:.1f}/s" if elapsed > 0 else ""
                bar.update(task, advance=n, rate=rate)

            yield advance
        return

    def count(n: int = 1) -> None:
        nonlocal done
        done += n

    yield count
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 else float("nan")
    print(f"{description}: {done}/{total} done in {elapsed:.1f} s ({rate:.1f}/s)", file=sys.stderr)
