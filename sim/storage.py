"""Writing results so that a killed run never leaves a half-written file.

Every file is written to a temporary name in the same folder and renamed into
place (``os.replace`` is atomic on POSIX and Windows), so a reader sees either the
old file or the new one, never a torn one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def _file_mode() -> int:
    """The mode a plainly created file gets under the user's umask (mkstemp gives 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)`` and rename the result to ``path``.

    The temporary file gets the permissions an ordinary file would, so results
    shared with colleagues (a report, a results folder) are readable as usual.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.fchmod(handle, _FILE_MODE)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        write(temporary_path)
        os.replace(temporary_path, target)
    except BaseException:
        temporary_path.unlink(missing_ok=True)
        raise
    return target


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda p: p.write_bytes(data))


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_parquet(path: str | Path, frame: pd.DataFrame) -> Path:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return atomic_write(path, lambda p: pq.write_table(table, p, compression="zstd"))


def write_table(folder: str | Path, name: str, frame: pd.DataFrame) -> list[Path]:
    """Write ``name.csv`` and ``name.parquet`` in ``folder``."""
    folder = Path(folder)
    return [
        atomic_write(folder / f"{name}.csv", lambda p: frame.to_csv(p, index=False)),
        write_parquet(folder / f"{name}.parquet", frame),
    ]
