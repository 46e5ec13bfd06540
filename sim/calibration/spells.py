"""Hospital spells: the patient-level input a calibration starts from.

A *spell* is one stay in hospital, from admission to discharge (one or more
consultant episodes). An NHS analyst holds them as a SUS or HES admitted patient
care extract. carepath reads two layouts (both CSV):

- the **carepath spell format** (``calibration/README.md``): ``admitted``,
  ``discharged`` (empty while the patient is still in hospital), optional
  ``ready`` (the discharge-ready date-time), ``age``, ``admission_method``,
  optional ``admission_source``, ``discharge_destination``, ``locality`` and
  ``spell_id``; categories in carepath's words (:mod:`sim.calibration.codes`);
- a **HES-coded extract** (``format="hes"``): ``ADMIDATE``, ``DISDATE``,
  ``ADMIMETH``, ``ADMISORC``, ``DISDEST``, ``DISMETH``, ``STARTAGE`` and
  ``SPELDUR``, with the NHS code lists. Where a ``SPELEND`` column is present
  only a spell's last episode (``SPELEND = Y``) is kept, since that row carries
  the discharge.

Every row is checked, vectorised (a million spells take seconds): dates that do
not parse, discharge before admission, a ready date outside the stay, ages out
of range, unknown codes, duplicated spells. Rejected rows are reported with
their line, column, value and reason, and left out; a file where most rows fail,
one with no rows, missing required columns or the wrong text encoding is
refused with an :class:`~sim.errors.InputError`, which the command line shows as
one line with exit code 2.

Spells still open when the data end are kept as *censored* stays (we know they
lasted at least this long), never dropped: dropping them biases lengths of stay
downwards, because long stays are the ones most likely still open.
"""

from __future__ import annotations

import hashlib
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration import codes
from sim.errors import InputError

#: More than this share of rows rejected and the file is refused as unusable.
MAX_REJECTED_SHARE = 0.5
#: Oldest credible age in years.
MAX_AGE = 120
#: HES's dummy dates: 1800-01-01 null, 1801-01-01 invalid (HES Data Dictionary).
HES_NULL_DATES = ("1800-01-01", "1801-01-01", "1600-01-01", "1582-10-15")

CAREPATH_REQUIRED = ("admitted", "discharged", "age", "admission_method")
CAREPATH_OPTIONAL = ("ready", "admission_source", "discharge_destination", "locality", "spell_id")
HES_REQUIRED = ("ADMIDATE", "DISDATE", "ADMIMETH", "STARTAGE")
HES_OPTIONAL = ("ADMISORC", "DISDEST", "DISMETH", "SPELDUR", "SPELEND")
FORMATS = ("carepath", "hes")


@dataclass
class ValidationReport:
    """What checking a spell file found: rejected rows (line, column, value, reason) and counts.

    The rejected values come from the input file; they are for the analyst who
    holds it and are never written into fitted outputs (only counts by reason are).
    """

    file: str
    rows_read: int
    rows_accepted: int
    rejections: pd.DataFrame  # line, column, value, reason (one row per problem found)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return self.rows_read - self.rows_accepted

    def reasons(self) -> pd.DataFrame:
        """Problems by column and reason, most frequent first (aggregates only)."""
        if self.rejections.empty:
            return pd.DataFrame(columns=["column", "reason", "rows"])
        kind = self.rejections["reason"].str.replace(r" \(.*\)$| of line \d+$|: .*$", "", regex=True)
        table = self.rejections.assign(kind=kind).groupby(["column", "kind"]).size().reset_index(name="rows")
        return table.rename(columns={"kind": "reason"}).sort_values("rows", ascending=False, ignore_index=True)

    def lines(self, limit: int = 20) -> list[str]:
        """The report as text: a summary, then up to ``limit`` rejected rows."""
        out = [f"{self.file}: {self.rows_read:,} rows read, {self.rows_accepted:,} accepted, {self.rows_rejected:,} rejected"]
        for row in self.reasons().itertuples():
            out.append(f"  {row.rows:>9,}  {row.column}: {row.reason}")
        out += [f"  note: {note}" for note in self.notes]
        shown = self.rejections.sort_values("line", kind="stable").head(limit)
        for row in shown.itertuples():
            out.append(f"{self.file}:{row.line}: {row.column}: {row.reason} (value {row.value!r})")
        if len(self.rejections) > limit:
            out.append(f"... and {len(self.rejections) - limit:,} more problems (--rejections FILE writes them all)")
        return out


@dataclass
class Spells:
    """Validated spells, in carepath's categories, with what is known about the file.

    ``frame`` columns: ``admitted``, ``discharged`` (NaT when open), ``ready``
    (NaT when not recorded), ``los_days`` (stay, or time in hospital so far when
    open), ``open`` (still in hospital at ``data_end``: a censored stay),
    ``age``, ``method``, ``source``, ``destination``, ``locality``.
    """

    frame: pd.DataFrame
    file: str
    sha256: str
    data_start: pd.Timestamp
    data_end: pd.Timestamp
    date_only: bool  # dates without times: stays are counted in midnights
    report: ValidationReport
    layout: str = "carepath"

    @property
    def n(self) -> int:
        return len(self.frame)

    def provenance(self) -> dict[str, object]:
        """Where fitted values came from: file name, hash, dates and counts (no patient data)."""
        return {
            "file": Path(self.file).name,
            "sha256": self.sha256,
            "format": self.layout,
            "from": self.data_start.date().isoformat(),
            "to": self.data_end.date().isoformat(),
            "spells": int(self.n),
            "open_spells": int(self.frame["open"].sum()),
            "rows_rejected": int(self.report.rows_rejected),
        }


# ---------------------------------------------------------------------------
# reading


def _decode_check(raw: bytes, shown: str, encoding: str) -> None:
    """Refuse text that is not in ``encoding``, naming the line of the first bad byte."""
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not valid {encoding} text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8 or give its encoding with --encoding (e.g. cp1252)",
            file=shown,
            line=line,
        ) from None
    except LookupError:
        raise InputError(f"unknown text encoding {encoding!r}", file=shown) from None


def read_table(path: str | Path, encoding: str = "utf-8") -> tuple[pd.DataFrame, str, str]:
    """Read a CSV as text columns; return the frame, the name shown in messages, and its SHA-256."""
    shown = str(path)
    file = Path(path)
    if not file.exists():
        raise InputError("no such file", file=shown)
    if file.is_dir():
        raise InputError("expected a CSV file, found a folder", file=shown)
    raw = file.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        raise InputError("the file is empty", file=shown)
    if b"\x00" in raw[:8192]:
        raise InputError("this is a binary file (or UTF-16 text), not a CSV; save it as UTF-8 CSV", file=shown)
    if encoding.lower().replace("-", "") in ("utf8", "utf8sig"):
        encoding = "utf-8-sig"  # a byte-order mark (Excel's 'CSV UTF-8') is not part of the first column name
    _decode_check(raw, shown, encoding)
    try:
        frame = pd.read_csv(
            io.BytesIO(raw), dtype=str, keep_default_na=False, encoding=encoding, skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", file=shown) from None
    except pd.errors.ParserError as exc:
        raise InputError(f"not a well-formed CSV: {str(exc).strip().splitlines()[-1]}", file=shown) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, shown, digest


def _require(frame: pd.DataFrame, required: tuple[str, ...], shown: str, layout: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if not missing:
        return
    found = ", ".join(frame.columns[:12]) + (" ..." if len(frame.columns) > 12 else "")
    hint = ""
    if layout == "carepath" and all(c in frame.columns for c in HES_REQUIRED):
        hint = "; this looks like a HES extract: add --format hes"
    elif layout == "hes" and all(c in frame.columns for c in CAREPATH_REQUIRED):
        hint = "; this looks like the carepath spell format: drop --format hes"
    raise InputError(f"missing required column(s): {', '.join(missing)} (found: {found}){hint}", file=shown, line=1)


class _Problems:
    """Collects rejected rows column by column without a Python loop over rows."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray | pd.Series, column: str, values: pd.Series, reason: str | pd.Series) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        index = np.flatnonzero(mask)
        reasons = reason[mask].to_numpy() if isinstance(reason, pd.Series) else reason
        self.parts.append(
            pd.DataFrame({"line": index + 2, "column": column, "value": values.to_numpy()[index], "reason": reasons})
        )

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({"line": pd.Series(dtype=int), "column": [], "value": [], "reason": []})
        return pd.concat(self.parts, ignore_index=True)


def parse_times(text: pd.Series) -> pd.Series:
    """ISO 8601 dates or date-times (``2024-03-01``, ``2024-03-01 14:30``), or UK ``01/03/2024 14:30``."""
    stripped = text.str.strip()
    parsed = pd.to_datetime(stripped, format="ISO8601", errors="coerce")
    retry = parsed.isna() & (stripped != "")
    if retry.any():
        for fmt in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
            again = pd.to_datetime(stripped[retry], format=fmt, errors="coerce")
            parsed[retry] = again
            retry = parsed.isna() & (stripped != "")
            if not retry.any():
                break
    return parsed


def _words(values: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    return values.str.strip().str.lower().str.replace(r"[\s-]+", "_", regex=True)


def read_spells(
    path: str | Path,
    layout: str = "carepath",
    encoding: str = "utf-8",
    data_end: str | pd.Timestamp | None = None,
) -> Spells:
    """Read, check and map a spell file.

    Parameters
    ----------
    path:
        The CSV file.
    layout:
        ``"carepath"`` (the documented spell format) or ``"hes"`` (HES field names and codes).
    encoding:
        The file's text encoding (UTF-8 by default; an Excel byte-order mark is accepted).
    data_end:
        When the extract was taken: spells open then are censored there. Defaults to
        the last admission or discharge in the file.

    Raises
    ------
    InputError
        When the file cannot be used at all (missing, empty, wrong encoding, missing
        columns, no valid rows, or most rows rejected).
    """
    if layout not in FORMATS:
        raise InputError(f"--format: expected one of {', '.join(FORMATS)}, got {layout!r}")
    frame, shown, digest = read_table(path, encoding)
    if layout == "hes":
        _require(frame, HES_REQUIRED, shown, layout)
        if "SPELEND" in frame.columns:
            frame = frame[frame["SPELEND"].str.strip().str.upper() != "N"]
    else:
        _require(frame, CAREPATH_REQUIRED, shown, layout)
    if frame.empty:
        raise InputError("the file has a header but no spells", file=shown)
    n = len(frame)
    problems = _Problems(n)
    notes: list[str] = []
    empty = pd.Series("", index=frame.index)

    if layout == "hes":
        admitted_col, discharged_col, age_col = "ADMIDATE", "DISDATE", "STARTAGE"
        method_col = "ADMIMETH"
    else:
        admitted_col, discharged_col, age_col = "admitted", "discharged", "age"
        method_col = "admission_method"

    # -- dates --------------------------------------------------------------------------
    admitted_text = frame[admitted_col]
    if layout == "hes":
        admitted_text = admitted_text.where(~admitted_text.str.strip().isin(HES_NULL_DATES), "")
    discharged_text = frame[discharged_col].str.strip()
    if layout == "hes":
        discharged_text = discharged_text.where(~discharged_text.isin(HES_NULL_DATES), "")
    admitted = parse_times(admitted_text)
    problems.add(admitted.isna() & (admitted_text.str.strip() != ""), admitted_col, frame[admitted_col], "not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM)")
    problems.add(admitted_text.str.strip() == "", admitted_col, frame[admitted_col], "missing admission date")
    discharged = parse_times(discharged_text)
    problems.add(discharged.isna() & (discharged_text != ""), discharged_col, frame[discharged_col], "not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM)")
    before = (discharged < admitted).to_numpy()
    reason = "discharge before admission (admitted " + admitted_text.str.strip() + ")"
    problems.add(before, discharged_col, frame[discharged_col], reason)

    ready_text = frame["ready"].str.strip() if "ready" in frame.columns else empty
    ready = parse_times(ready_text) if "ready" in frame.columns else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if "ready" in frame.columns:
        problems.add(ready.isna() & (ready_text != ""), "ready", ready_text, "not a date (expected YYYY-MM-DD or YYYY-MM-DD HH:MM)")
        problems.add((ready < admitted).to_numpy(), "ready", ready_text, "discharge-ready before admission")
        problems.add((ready > discharged).to_numpy(), "ready", ready_text, "discharge-ready after discharge")

    date_only = not admitted_text.str.contains(":", regex=False).any()

    # -- age ----------------------------------------------------------------------------
    age_text = frame[age_col].str.strip()
    age = pd.to_numeric(age_text, errors="coerce")
    if layout == "hes":
        age = age.where(~age.between(7001, 7007), 0.0)  # 7001-7007: infants under one year
    problems.add(age.isna().to_numpy(), age_col, frame[age_col], "not an age in years")
    problems.add(((age < 0) | (age > MAX_AGE)).to_numpy(), age_col, frame[age_col], f"age out of range (0 to {MAX_AGE})")

    # -- categories -----------------------------------------------------------------------
    def mapped(column: str, table: dict[str, str] | None, words: tuple[str, ...], default: str) -> pd.Series:
        if column not in frame.columns:
            return pd.Series(default, index=frame.index)
        text = frame[column]
        if table is not None:
            key = text.map(codes.normalise_code)
            result = key.map(table)
            blank = key == ""
            result[blank] = "unknown"
            problems.add(result.isna().to_numpy(), column, text, f"unknown {column} code")
        else:
            key = _words(text, words)
            result = key.where(key.isin(words))
            result[key == ""] = "unknown"
            problems.add(result.isna().to_numpy(), column, text, f"unknown category (expected one of: {', '.join(words)})")
        return result.fillna("unknown")

    if layout == "hes":
        method = mapped("ADMIMETH", codes.ADMISSION_METHODS, (), "unknown")
        source = mapped("ADMISORC", codes.PLACES, (), "unknown")
        destination = mapped("DISDEST", codes.DISCHARGE_DESTINATIONS, (), "unknown")
        how = mapped("DISMETH", codes.DISCHARGE_METHODS, (), "unknown")
        destination = destination.where(how != "died", "died")
        still_in = (how == "open") | (frame["DISDEST"].str.strip() == "98" if "DISDEST" in frame.columns else False)
        discharged = discharged.where(~still_in, pd.NaT)
        locality = pd.Series("", index=frame.index)
    else:
        method = mapped(method_col, None, codes.METHOD_WORDS, "unknown")
        source = mapped("admission_source", None, codes.SOURCE_WORDS, "unknown")
        destination = mapped("discharge_destination", None, codes.DESTINATION_WORDS, "unknown")
        locality = frame["locality"].str.strip() if "locality" in frame.columns else pd.Series("", index=frame.index)

    # -- data end and open spells ---------------------------------------------------------------
    if data_end is not None:
        try:
            end = pd.Timestamp(data_end)
        except (ValueError, TypeError):
            raise InputError(f"--data-end: expected a date like 2024-03-31, got {data_end!r}") from None
        if date_only or end == end.normalize():
            end = end.normalize() if date_only else end.normalize() + pd.Timedelta(days=1)
        problems.add((admitted > end).to_numpy(), admitted_col, admitted_text, "admitted after the end of the data")
        problems.add((discharged > end + pd.Timedelta(days=1)).to_numpy(), discharged_col, frame[discharged_col], "discharged after the end of the data")
    else:
        latest = pd.concat([admitted, discharged]).max()
        end = latest if pd.notna(latest) else pd.Timestamp("1970-01-01")

    # -- duplicates (among rows otherwise valid) ------------------------------------------------
    key_columns = [c for c in frame.columns if c not in ("SPELEND",)]
    hashes = pd.util.hash_pandas_object(frame[key_columns].apply(lambda s: s.str.strip()), index=False)
    first_line = pd.Series(np.arange(n) + 2, index=frame.index).groupby(hashes.to_numpy()).transform("min")
    duplicate = hashes.duplicated(keep="first").to_numpy()
    problems.add(duplicate, admitted_col, admitted_text, "duplicate of line " + first_line.astype(str))

    rejections = problems.frame()
    keep = ~problems.bad
    accepted = int(keep.sum())
    if layout == "hes" and "SPELDUR" in frame.columns:
        stated = pd.to_numeric(frame["SPELDUR"], errors="coerce")
        computed = (discharged - admitted).dt.days
        disagree = int(((stated - computed).abs() > 1)[keep].sum())
        if disagree:
            notes.append(f"{disagree:,} accepted rows have SPELDUR differing from DISDATE - ADMIDATE by more than a day; the dates are used")
    report = ValidationReport(shown, n, accepted, rejections, notes)
    if accepted == 0:
        raise InputError(f"no usable spells: all {n:,} rows were rejected (" + _top_reasons(report) + ")", file=shown)
    if (n - accepted) / n > MAX_REJECTED_SHARE:
        raise InputError(
            f"refused: {n - accepted:,} of {n:,} rows ({(n - accepted) / n:.0%}) failed the checks; most common: " + _top_reasons(report),
            file=shown,
        )

    open_ = discharged.isna().to_numpy()
    stop = discharged.where(~discharged.isna(), end)
    los = (stop - admitted).dt.total_seconds() / 86400.0
    if date_only:
        los = los.round()
    out = pd.DataFrame(
        {
            "admitted": admitted,
            "discharged": discharged,
            "ready": ready,
            "los_days": los,
            "open": open_,
            "age": age.astype(float),
            "method": pd.Categorical(method, categories=codes.METHOD_WORDS),
            "source": pd.Categorical(source, categories=codes.SOURCE_WORDS),
            "destination": pd.Categorical(destination.where(~open_, "unknown"), categories=codes.DESTINATION_WORDS),
            "locality": locality,
        }
    )[keep].reset_index(drop=True)
    start = out["admitted"].min()
    return Spells(out, shown, digest, start, end, date_only, report, layout)


def _top_reasons(report: ValidationReport) -> str:
    reasons = report.reasons().head(3)
    return "; ".join(f"{r.column}: {r.reason} ({r.rows:,} rows)" for r in reasons.itertuples())


def age_band_edges(bands: list[str]) -> list[tuple[str, float, float]]:
    """``['0-64', '65-74', '85+']`` -> [(name, low, high_exclusive)], checked to be contiguous."""
    edges = []
    for band in bands:
        text = band.strip()
        try:
            if text.endswith("+"):
                low, high = float(text[:-1]), float("inf")
            else:
                a, b = text.split("-")
                low, high = float(a), float(b) + 1
        except ValueError:
            raise InputError(f"--age-bands: {band!r} is not an age band like 65-74 or 85+") from None
        edges.append((text, low, high))
    edges.sort(key=lambda e: e[1])
    for (name, _, high), (following, low, _) in itertools.pairwise(edges):
        if high != low:
            raise InputError(f"--age-bands: {name} and {following} leave a gap or overlap")
    return edges


def assign_age_bands(age: pd.Series, bands: list[str]) -> pd.Series:
    """Each age (years) in its band; ages outside every band are NaN."""
    edges = age_band_edges(bands)
    bins = [edges[0][1]] + [e[2] for e in edges]
    labels = [e[0] for e in edges]
    return pd.cut(age, bins=bins, labels=labels, right=False)
