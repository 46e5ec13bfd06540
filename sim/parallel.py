"""Running many independent simulations: serially, on local cores, or on a Dask cluster.

Every task carries everything it needs (a compiled pathway, a replication
number, a seed), so results are bit-identical whatever runs them and in
whatever order they finish. Locally, joblib's default process backend (loky)
spreads tasks over the cores; ``backend="dask"`` sends them to a Dask
distributed cluster through joblib's Dask backend.

Results are yielded as they finish (``return_as="generator_unordered"``) with
their task index, so callers can write each one to disk at once: memory stays
flat however many tasks, and a crash loses at most the tasks in flight.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from joblib import Parallel, delayed

Task = tuple[Callable[..., Any], tuple[Any, ...]]


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
        calls = (delayed(_indexed)(index, function, arguments) for index, (function, arguments) in enumerate(tasks))
        if backend == "dask":
            from joblib import parallel_config

            with parallel_config(backend="dask"):
                for item in Parallel(return_as="generator_unordered")(calls):
                    yield item
                    advance()
            return
        n_jobs = available_cores() if jobs <= 0 else jobs
        for item in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(calls):
            yield item
            advance()
