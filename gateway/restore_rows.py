"""A day's archived rows checked before anything is written (``ht-gateway restore``, gateway/restore.py).

Checksums say the archive is the one that was written, not that what was written is a day this
version can hold: a hand-edited archive with recomputed checksums passes them. So every row is
checked here, before the database is touched, and any fault is one line naming the table, the row
(a transmission by its uid, other rows by their id) and the column:

- **columns**: every column of this schema present (``to_json`` writes them all), none other;
- **types**: booleans are ``true``/``false``, integers are integers inside 64 bits (ids and the ids
  rows point to: 1..2^63-1), floats are finite numbers, text is text within the column's length
  (no NUL character, which PostgreSQL refuses), times are ISO 8601 with a UTC offset and dates are
  ISO dates, both inside the days a gateway's rows can have (gateway.timeutil.MIN_DATE..MAX_DATE),
  JSON holds no NaN or infinity; ``null`` only where the column allows it;
- **values the product writes**: a transmission's uid is of the recorder's form (what its file name
  carries), its sha256 is 64 hex digits (a complete transmission is always hashed), statuses are
  ones the code sets (a day holds complete transmissions only);
- **the day**: what gateway/dayrows.py selects by time is inside the archive's day in the archive's
  time zone: transmissions' ``started_at`` and the ``at`` of events that name no transmission in
  [local midnight, next local midnight), report revisions' ``day`` equal to it;
- **the archive as a whole**: no two rows with the same key (primary keys, unique columns and
  constraints), and every row a row points to (a transcript's transmission, a delivery's revision)
  is in the archive.

A transmission's ``station`` is not checked against the configured stations (see _row).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)

from gateway import dayrows
from gateway.report.model import FOLLOWUP_STATUSES
from gateway.store.models import UTCDateTime
from gateway.timeutil import MAX_DATE, MIN_DATE, day_bounds
from gateway.transcripts import TRANSCRIPT_STATUSES
from gateway.transmit.queue import TRANSMIT_STATUSES

INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1  # SQLite's INTEGER; PostgreSQL's INTEGER: see pg_int4
PG_INT_MAX = 2 ** 31 - 1
#: A transmission's uid: what the recorder puts in a recording's name (gateway/recorder.py _NAME).
UID = re.compile(r"[0-9a-zA-Z-]{1,32}")
SHA256 = re.compile(r"[0-9a-f]{64}")
#: The statuses the code sets, per table (a day's transmissions are the complete ones: dayrows).
STATUSES: dict[str, tuple[str, ...]] = {
    "transmissions": ("complete",),
    "transcripts": TRANSCRIPT_STATUSES,
    "followups": FOLLOWUP_STATUSES,
    "transmit_queue": TRANSMIT_STATUSES,
}


class RowError(ValueError):
    """A row this version cannot hold (one line: table, row, column, what is wrong)."""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def who(name: str, data: Any, line: int) -> str:
    """How a message names a row: a transmission by its uid, others by id, else by line."""
    if isinstance(data, dict):
        uid = data.get("uid")
        if name == "transmissions" and isinstance(uid, str) and UID.fullmatch(uid):
            return f"transmission {uid}"
        key = dayrows.table(name).primary_key.columns.values()[0].name  # id; an extract's transcript_id
        if type(data.get(key)) is int and 1 <= data[key] <= INT_MAX:
            return f"{name} {key} {data[key]}"
    return f"{name} line {line}"


def archive_day(day: Any, tz: Any) -> tuple[date, ZoneInfo]:
    """The manifest's day and time zone, which the rows' times are checked against."""
    try:
        d = date.fromisoformat(day)
        if not MIN_DATE <= d <= MAX_DATE:
            raise ValueError(f"outside {MIN_DATE}..{MAX_DATE}")
    except (TypeError, ValueError) as e:
        raise RowError(f"manifest.json: date: {_show(day)} is not a day ({e})") from None
    try:
        return d, ZoneInfo(tz)
    except (TypeError, ValueError, ZoneInfoNotFoundError):
        raise RowError(f"manifest.json: timezone: {_show(tz)} is not a time zone") from None


def parse_line(name: str, line: str, n: int) -> dict[str, Any]:
    """Line ``n`` of ``rows/<name>.jsonl`` as a row (:func:`parse_row`); RowError naming the file."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        raise RowError(f"rows/{name}.jsonl line {n}: not JSON") from None
    try:
        return parse_row(name, data, n)
    except RowError as e:
        raise RowError(f"rows/{name}.jsonl: {e}") from None


def parse_row(name: str, data: Any, line: int) -> dict[str, Any]:
    """One line of ``rows/<name>.jsonl`` (already JSON-decoded) as a row; RowError if it is not one
    this schema can hold (columns and types; :func:`check_day` checks the rows together)."""
    row_name = who(name, data, line)
    if not isinstance(data, dict):
        raise RowError(f"{row_name}: not a JSON object")
    t = dayrows.table(name)
    columns = t.columns.keys()
    if unknown := sorted(set(data) - set(columns)):
        raise RowError(f"{row_name}: {_show(unknown[0])}: not a column of {name}")
    for col in t.columns:
        if col.name not in data:
            raise RowError(f"{row_name}: {col.name}: missing")
        if problem := _value_problem(col, data[col.name]):
            raise RowError(f"{row_name}: {col.name}: {_show(data[col.name])} {problem}")
    row = dayrows.from_json(name, data)
    if problem := _row(name, row):
        raise RowError(f"{row_name}: {problem}")
    return row


def _value_problem(col: Column[Any], value: Any) -> str | None:
    """What is wrong with a column's JSON value (None: nothing)."""
    if value is None:
        return None if col.nullable and not col.primary_key else "is not allowed (a value is required)"
    kind = col.type
    if isinstance(kind, Boolean):
        return None if isinstance(value, bool) else "is not true or false"
    if isinstance(kind, Integer):
        if type(value) is not int:
            return "is not an integer"
        lo = 1 if col.primary_key or col.foreign_keys else INT_MIN
        return None if lo <= value <= INT_MAX else f"is outside {lo}..{INT_MAX}"
    if isinstance(kind, Float):
        if type(value) not in (int, float):
            return "is not a number"
        try:
            return None if math.isfinite(value) else "is not a finite number"
        except OverflowError:
            return "is not a finite number"
    if isinstance(kind, UTCDateTime):
        if not isinstance(value, str):
            return "is not a time"
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return "is not an ISO 8601 time"
        if dt.tzinfo is None:
            return "has no UTC offset"
        return None if MIN_DATE <= dt.date() <= MAX_DATE else f"is outside {MIN_DATE}..{MAX_DATE}"
    if isinstance(kind, Date):
        try:
            d = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            d = None
        if d is None:
            return "is not an ISO date"
        return None if MIN_DATE <= d <= MAX_DATE else f"is outside {MIN_DATE}..{MAX_DATE}"
    if isinstance(kind, String):  # Text too
        if not isinstance(value, str):
            return "is not text"
        if kind.length is not None and len(value) > kind.length:
            return f"is longer than {kind.length} characters"
        return _text_problem(value)
    if isinstance(kind, JSON):
        return _json_problem(value)
    return None


def _text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def _json_problem(value: Any) -> str | None:
    """NaN, infinity or unencodable text anywhere in a JSON value (walked without recursion)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return "holds a number that is not finite"
        if isinstance(v, str) and (problem := _text_problem(v)):
            return f"holds text that {problem}"
        if isinstance(v, dict):
            stack += [*v.keys(), *v.values()]
        elif isinstance(v, list):
            stack += v
    return None


def _row(name: str, row: dict[str, Any]) -> str | None:
    """Values the product writes, beyond the column types (one row)."""
    if name in STATUSES and row["status"] not in STATUSES[name]:
        return f"status: {_show(row['status'])} is not one of {', '.join(STATUSES[name])}"
    if name == "transmissions":
        if not UID.fullmatch(row["uid"]):
            return f"uid: {_show(row['uid'])} is not a transmission uid (1-32 of 0-9, a-z, A-Z, -)"
        if not SHA256.fullmatch(row["sha256"] or ""):
            return f"sha256: {_show(row['sha256'])} is not 64 hex digits (a complete transmission is hashed)"
        # station is kept as it is, configured here or not: an archive may come from a gateway whose
        # configuration had other stations (or before a station was renamed), and every reader takes
        # it as text (the log, the transmission's page, the report: an unknown name is shown as is).
    return None


def check_day(rows: dict[str, list[dict[str, Any]]], day: date, tz: ZoneInfo) -> None:
    """The archive's rows together (see the module docstring: the day, keys, references);
    RowError naming the first fault."""
    lo, hi = day_bounds(day, tz)
    inside = f"is not inside {day} ({tz})"
    for line, r in enumerate(rows["transmissions"], 1):
        if not lo <= r["started_at"] < hi:
            raise RowError(f"{_where('transmissions', r, line)}: started_at: {r['started_at'].isoformat()} "
                           f"{inside}")
    for line, r in enumerate(rows["events"], 1):
        if r["transmission_id"] is None and not lo <= r["at"] < hi:
            raise RowError(f"{_where('events', r, line)}: at: {r['at'].isoformat()} {inside} (an event "
                           "naming no transmission is its day's)")
    for line, r in enumerate(rows["report_revisions"], 1):
        if r["day"] != day:
            raise RowError(f"{_where('report_revisions', r, line)}: day: {r['day']} is not {day}")
    for name in dayrows.TABLES:
        _unique(name, rows[name])
        _references(name, rows)


def _where(name: str, row: dict[str, Any], line: int) -> str:
    return f"rows/{name}.jsonl: {who(name, row, line)}"


def _keys(name: str) -> Iterator[tuple[str, ...]]:
    t = dayrows.table(name)
    for c in t.constraints:
        if isinstance(c, UniqueConstraint | PrimaryKeyConstraint):
            yield tuple(col.name for col in c.columns)
    for col in t.columns:
        if col.unique:
            yield (col.name,)


def _unique(name: str, rows: list[dict[str, Any]]) -> None:
    for key in _keys(name):
        seen: set[tuple[Any, ...]] = set()
        for line, r in enumerate(rows, 1):
            value = tuple(r[k] for k in key)
            if None in value:
                continue
            if value in seen:
                shown = _show(value if len(key) > 1 else value[0])
                raise RowError(f"{_where(name, r, line)}: {', '.join(key)}: {shown} is another row's too")
            seen.add(value)


def _references(name: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Every row a row points to (a day table's id) is in the archive (the restore maps it)."""
    for col in dayrows.table(name).columns:
        for fk in col.foreign_keys:
            target = fk.column.table.name
            if target not in rows:
                continue
            ids = {r[fk.column.name] for r in rows[target]}
            for line, r in enumerate(rows[name], 1):
                if r[col.name] is not None and r[col.name] not in ids:
                    raise RowError(f"{_where(name, r, line)}: {col.name}: {r[col.name]} is "
                                   f"not a row of {target} in the archive")


def pg_int4(rows: dict[str, list[dict[str, Any]]]) -> None:
    """PostgreSQL's INTEGER columns hold 32 bits: RowError for a value beyond (SQLite's hold 64)."""
    for name in dayrows.TABLES:
        cols = [c.name for c in dayrows.table(name).columns if isinstance(c.type, Integer)]
        for line, r in enumerate(rows[name], 1):
            for c in cols:
                if r[c] is not None and not -PG_INT_MAX - 1 <= r[c] <= PG_INT_MAX:
                    raise RowError(f"{_where(name, r, line)}: {c}: {r[c]} is beyond PostgreSQL's integer "
                                   f"columns (up to {PG_INT_MAX})")
