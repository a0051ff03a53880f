"""``ht-gateway export``: a day's transmissions as JSON or CSV, times in the configured zone, each
with the gateway and channel it was heard on."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from gateway.store.db import Database
from gateway.store.models import Transmission
from gateway.timeutil import day_bounds

FIELDS = ("id", "start", "end", "duration_s", "station", "audio_path", "sha256", "flags", "gateway_id",
          "channel_id")
#: A text cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula (OWASP's recipe, for every CSV written).

    Text starting with = + - @ TAB or CR gets a leading apostrophe, which spreadsheets hide and
    which keeps the text as text ("=HYPERLINK(...)" -> "'=HYPERLINK(...)"). Numbers written as
    numbers (ids, durations) are left alone: they are not text and cannot hold a formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def transmissions_on(db: Database, day: date, tz: ZoneInfo) -> list[dict[str, Any]]:
    lo, hi = day_bounds(day, tz)
    with db.read() as s:
        rows = s.scalars(select(Transmission)
                         .where(Transmission.started_at >= lo, Transmission.started_at < hi,
                                Transmission.status == "complete")
                         .order_by(Transmission.started_at, Transmission.id)).all()
    return [{
        "id": r.id,
        "start": r.started_at.astimezone(tz).isoformat(timespec="milliseconds"),
        "end": r.ended_at.astimezone(tz).isoformat(timespec="milliseconds") if r.ended_at else None,
        "duration_s": r.duration_s,
        "station": r.station,
        "audio_path": r.audio_path,
        "sha256": r.sha256,
        "flags": r.flags,
        "gateway_id": r.gateway_id,  # where it was heard (docs/channels.md)
        "channel_id": r.channel_id,
    } for r in rows]


def render(rows: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    buf = io.StringIO()
    # RFC 4180 line ends: with "\n" alone, Python < 3.13 would not quote a bare CR inside a cell
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        row = {**r, "station": r["station"] or "", "flags": " ".join(r["flags"])}
        w.writerow({k: csv_cell(v) for k, v in row.items()})
    return buf.getvalue()
