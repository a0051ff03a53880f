"""Hari ini: the day's roster (the check-in rule of :mod:`gateway.checkins`), counts, last heard; and
the marker the live updates poll."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import (
    and_,
    func,
    select,
)

from gateway.config import Config
from gateway.identification.checkins import SOURCE_ID, STATUS_ID, Deadlines, checkins_for, on_channel
from gateway.store.db import Database
from gateway.store.models import Assignment, TranscriptRow, Transmission
from gateway.timeutil import day_bounds

log = logging.getLogger(__name__)


@dataclass
class StationRow:
    station: str
    code: str
    status: str  # on_time | late | missing | pending (today, still before late_until)
    label: str
    first_report: str | None
    transmission_id: int | None
    identified_by: str
    reports: int
    last_heard: datetime | None
    note: str


@dataclass
class TodayView:
    day: date
    is_today: bool
    stations: list[StationRow]
    counts: dict[str, int] = field(default_factory=dict)


def today_view(db: Database, cfg: Config, day: date, now: datetime, channel: str = "") -> TodayView:
    """The roster of ``day``: on ``channel`` only, or ("") every channel merged."""
    local_now = now.astimezone(cfg.tz)
    is_today = day == local_now.date()
    deadlines = Deadlines.of(day, cfg)  # the rule is gateway.checkins' (a station yet to report: pending)
    lo, hi = day_bounds(day, cfg.tz)
    with db.read() as s:
        in_day = and_(Transmission.started_at >= lo, Transmission.started_at < hi, *on_channel(channel))
        complete = and_(in_day, Transmission.status == "complete")
        counts = {
            "transmissions": s.scalar(select(func.count()).where(complete)) or 0,
            "kerchunks": s.scalar(select(func.count()).where(complete, Transmission.kerchunk)) or 0,
            "unknown": s.scalar(select(func.count()).where(
                complete, Transmission.station.is_(None), Transmission.kerchunk.is_(False),
                Transmission.stuck.is_(False))) or 0,
            "recording": s.scalar(select(func.count()).where(
                in_day, Transmission.status == "recording")) or 0,
        }
        # "last heard": one seek per station on (station, started_at) (min/max optimisation), not a
        # GROUP BY over every transmission ever heard
        names = [st.name for st in cfg.stations]
        newest = [select(func.max(Transmission.started_at))
                  .where(Transmission.station == n, Transmission.started_at < hi, *on_channel(channel))
                  .scalar_subquery()
                  for n in names]
        last = dict(zip(names, s.execute(select(*newest)).one(), strict=True)) if names else {}
    rows = []
    for c in checkins_for(db, day, cfg, channel):
        status, label = c.status, STATUS_ID[c.status]
        if c.transmission_id is None and deadlines.classify(None, now if is_today else None) == "pending":
            status, label = "pending", "belum lapor"
        rows.append(StationRow(
            station=c.station, code=c.code, status=status, label=label,
            first_report=c.first_report[11:16] if c.first_report else None,
            transmission_id=c.transmission_id, identified_by=SOURCE_ID.get(c.identified_by or "", "-"),
            reports=c.reports, last_heard=last.get(c.station), note=c.note))
    counts["reported"] = sum(r.status in ("on_time", "late") for r in rows)
    return TodayView(day=day, is_today=is_today, stations=rows, counts=counts)


def change_marker(db: Database) -> tuple[int, int, int, int]:
    """Changes whenever a transmission or transcript is stored, completed or assigned (for /events).

    Every part is one index seek, whatever the size of the log: a new transmission raises the
    newest id, a completed one lowers the number still recording (a handful of rows), a transcript
    or an assignment raises its table's newest id.
    """
    with db.read() as s:
        return (s.scalar(select(func.max(Transmission.id))) or 0,
                s.scalar(select(func.max(TranscriptRow.id))) or 0,
                s.scalar(select(func.count()).where(Transmission.status == "recording")) or 0,
                s.scalar(select(func.max(Assignment.id))) or 0)
