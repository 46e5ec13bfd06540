"""Running many independent simulations: serially, on local cores, or on a Dask cluster.

Every task carries everything it needs (a compiled pathway, a replication
number, a seed), so results are bit-identical whatever runs them and in
whatever order they finish. Locally, joblib's default process backend (loky)
spreads tasks over the cores; ``backend="dask"`` sends them to a Dask
distributed cluster through joblib's Dask backend.

Results are yielded as they finish (``return_as="generator_unordered"``) with
their task index, so callers can write each one to disk at once, and a crash
loses at most the tasks in flight. joblib dispatches the next task when one
finishes, not when the caller takes a result, so a caller slower than the
workers (writing three Parquet files per short run) would see finished results
pile up; tasks are therefore handed to the pool in windows of a few dozen per
worker, which keeps the driver's memory flat however many tasks there are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from joblib import Parallel, delayed

Task = tuple[Callable[..., Any], tuple[Any, ...]]

#: tasks in flight per worker: enough that workers never wait between windows
#: for long, few enough that unread results stay small
WINDOW_PER_WORKER = 32
#: the window on a Dask cluster, whose size the driver does not know in advance
DASK_WINDOW = 512


def _indexed(index: int, function: Callable[..., Any], arguments: tuple[Any, ...]) -> tuple[int, Any]:
    return index, function(*arguments)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def map_tasks(
    tasks: Sequence[Task],
    jobs: int = 1,
    progress: bool = False,
    description: str = "runs",
    backend: str = "loky",
    client: Any = None,
) -> Iterator[tuple[int, Any]]:
    """Run ``function(*arguments)`` for each task; yield ``(index, result)`` as each finishes."""
    if not tasks:
        return
    from sim.progress import progress_bar

    with progress_bar(len(tasks), description, enabled=progress) as advance:
        if backend != "dask" and (jobs == 1 or len(tasks) == 1):
            for index, (function, arguments) in enumerate(tasks):
                yield index, function(*arguments)
                advance()
            return

        def windows(size: int) -> Iterator[Any]:
            for start in range(0, len(tasks), size):
                window = enumerate(tasks[start : start + size], start)
                yield (delayed(_indexed)(index, function, arguments) for index, (function, arguments) in window)

        if backend == "dask":
            from joblib import parallel_config

            # twice joblib's default in flight: a worker finishing a run finds
            # the next already there, not a network round trip away

            with parallel_config(backend="dask"), Parallel(return_as="generator_unordered", pre_dispatch="4 * n_jobs") as parallel:
                for calls in windows(DASK_WINDOW):
                    for item in parallel(calls):
                        yield item
                        advance()
            return
        n_jobs = available_cores() if jobs <= 0 else jobs
        with Parallel(n_jobs=n_jobs, return_as="generator_unordered") as parallel:
            for calls in windows(WINDOW_PER_WORKER * n_jobs):
                for item in parallel(calls):
                    yield item
                    advance()
