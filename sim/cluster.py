"""Connecting to a Dask cluster the user already runs, and failing fast when it is not usable.

A sweep too big for a laptop runs unchanged on a cluster: carepath connects a
``dask.distributed.Client`` to a scheduler address (``tcp://host:8786``) or a
scheduler file (shared on an HPC file system), and joblib's Dask backend sends
the runs there. Clusters started by dask-jobqueue (Slurm, PBS, SGE), Dask on
Kubernetes or Dask Gateway all hand out such an address.

The joblib Dask backend waits forever if the scheduler or a worker cannot
import carepath (the only trace is in the scheduler's log). So before any run is
sent, carepath asks the scheduler and every worker for their carepath version,
with a time-out, and stops with one clear line if any cannot answer or runs a
different version.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path
from typing import Any

from sim import __version__
from sim.errors import InputError


def _call_with_timeout(function, timeout: float, what: str):
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(function)
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise InputError(f"{what}: no answer within {timeout:g} s") from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def connect(scheduler: str, timeout: float = 30.0, min_workers: int = 1) -> Any:
    """A Client for ``scheduler`` (an address or a scheduler file), checked for carepath.

    Raises
    ------
    InputError
        When the scheduler cannot be reached, no worker joins, or any of them cannot
        import carepath or runs another version of it.
    """
    from dask.distributed import Client

    path = Path(scheduler)
    try:
        if path.suffix == ".json" or path.exists():
            if not path.exists():
                raise InputError(f"--scheduler: no such scheduler file: {scheduler}")
            client = Client(scheduler_file=str(path), timeout=f"{timeout}s")
        else:
            client = Client(scheduler, timeout=f"{timeout}s")
    except InputError:
        raise
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise InputError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s ({reason})") from None
    try:
        _call_with_timeout(
            lambda: client.wait_for_workers(min_workers, timeout=timeout),
            timeout + 5,
            f"no Dask worker joined the scheduler at {scheduler}",
        )
        check_versions(client, timeout)
    except BaseException:
        client.close()
        raise
    return client


def check_versions(client: Any, timeout: float = 30.0) -> dict[str, str]:
    """Each worker's and the scheduler's carepath version; InputError unless all match ours."""

    def ask_workers() -> dict[str, str]:
        return client.run(lambda: __import__("sim").__version__)

    def ask_scheduler() -> str:
        return client.run_on_scheduler(lambda: __import__("sim").__version__)

    try:
        workers = _call_with_timeout(ask_workers, timeout, "asking the Dask workers for their carepath version")
        scheduler = _call_with_timeout(ask_scheduler, timeout, "asking the Dask scheduler for its carepath version")
    except ModuleNotFoundError:
        raise InputError(
            "the Dask scheduler or workers cannot import carepath: install this carepath "
            f"({__version__}) in the environment they run in"
        ) from None
    except InputError:
        raise
    except Exception as exc:  # an error raised on a worker comes back as itself
        raise InputError(f"the Dask cluster cannot run carepath: {exc.__class__.__name__}: {exc}") from None
    versions = {**workers, "scheduler": scheduler}
    wrong = {where: version for where, version in versions.items() if version != __version__}
    if wrong:
        where, version = next(iter(wrong.items()))
        raise InputError(
            f"the Dask cluster runs carepath {version} ({where}{' and others' if len(wrong) > 1 else ''}), "
            f"this is {__version__}: results would not be comparable; install the same version everywhere"
        )
    return versions
