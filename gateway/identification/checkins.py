"""Roster and check-ins: which camat reported today, on time, late, or not at all.

For a day in the configured time zone and each configured station, the first *report* — a complete
transmission identified as that station that is neither a kerchunk nor a stuck-squelch recording —
decides the status: ``on_time`` up to ``checkins.on_time_until``, ``late`` up to
``checkins.late_until``, else ``missing`` (a report after that is shown, still as missing).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, tuple_

from gateway.config import Config, parse_hhmm
from gateway.store.db import Database
from gateway.store.models import Transmission
from gateway.timeutil import day_bounds

STATUS_ID = {"on_time": "tepat waktu", "late": "terlambat", "missing": "tidak lapor"}
SOURCE_ID = {"ani": "ANI", "voice": "suara", "continuation": "lanjutan", "operator": "operator"}


@dataclass(frozen=True)
class Checkin:
    station: str
    code: str
    status: str  # on_time | late | missing
    first_report: str | None  # ISO 8601 with offset
    transmission_id: int | None
    identified_by: str | None  # ani | voice | continuation | operator
    reports: int  # report transmissions that day (continuations included)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def report_conditions(likely_complete: bool = False) -> list[ColumnElement[bool]]:
    """What counts as a *report* (the one place that says it): a complete transmission identified as
    a station, neither a kerchunk nor a stuck-squelch recording. ``likely_complete`` wraps the status
    test in SQLite's ``likely()`` (nearly every row is complete; without it SQLite may walk the
    status index)."""
    complete: ColumnElement[bool] = Transmission.status == "complete"
    if likely_complete:
        complete = func.likely(complete)
    return [complete, Transmission.station.is_not(None), Transmission.kerchunk.is_(False),
            Transmission.stuck.is_(False)]


@dataclass(frozen=True)
class Deadlines:
    """A day's two deadlines (local times in the configured zone) and the check-in rule."""

    on_time: datetime
    late: datetime

    @classmethod
    def of(cls, day: date, cfg: Config) -> Deadlines:
        return cls(datetime.combine(day, parse_hhmm(cfg.checkins.on_time_until), cfg.tz),
                   datetime.combine(day, parse_hhmm(cfg.checkins.late_until), cfg.tz))

    def classify(self, first_report: datetime | None, now: datetime | None = None) -> str:
        """``on_time`` up to the first deadline, ``late`` up to the second, else ``missing`` (a report
        after the second deadline too). Given ``now``: no report yet while the second deadline has
        not passed is ``pending``."""
        if first_report is None:
            return "pending" if now is not None and now <= self.late else "missing"
        if first_report <= self.on_time:
            return "on_time"
        return "late" if first_report <= self.late else "missing"


def on_channel(channel: str) -> list[ColumnElement[bool]]:
    """The ``?channel=`` filter of the board and the draft: one channel, or ("") every channel merged
    (a kecamatan that reported on either counts once: check-ins are per station, not per row)."""
    return [Transmission.channel_id == channel] if channel else []


def _firsts(db: Database, lo: datetime, hi: datetime, channel: str = "") -> dict[str, tuple[Any, int]]:
    """Per station that reported in [lo, hi): its first report (id, station, started_at,
    identity_source; the earliest, then the lowest id) and how many reports. Two small queries: a
    GROUP BY, then the rows at each station's earliest time (a day of 50 busy gateways is tens of
    thousands of reports; loading them all took most of the board's time, bench/bench_office.py)."""
    where = [Transmission.started_at >= lo, Transmission.started_at < hi, *report_conditions(),
             *on_channel(channel)]
    with db.read() as s:
        groups = s.execute(select(Transmission.station, func.count(), func.min(Transmission.started_at))
                           .where(*where).group_by(Transmission.station)).all()
        if not groups:
            return {}
        rows = s.execute(select(Transmission.id, Transmission.station, Transmission.started_at,
                                Transmission.identity_source)
                         .where(*where, tuple_(Transmission.station, Transmission.started_at)
                                .in_([(g[0], g[2]) for g in groups]))
                         .order_by(Transmission.started_at, Transmission.id)).all()
    first: dict[str, Any] = {}
    for r in rows:
        first.setdefault(r.station, r)
    return {g[0]: (first[g[0]], int(g[1])) for g in groups if g[0] in first}


def checkins_for(db: Database, day: date, cfg: Config, channel: str = "") -> list[Checkin]:
    """One row per configured station, in configuration order; reports on ``channel`` only, or on
    every channel."""
    lo, hi = day_bounds(day, cfg.tz)
    firsts = _firsts(db, lo, hi, channel)
    deadlines = Deadlines.of(day, cfg)
    out = []
    for st in cfg.stations:
        first, n_reports = firsts.get(st.name, (None, 0))
        status = deadlines.classify(first.started_at if first else None)
        note = f"reported after {cfg.checkins.late_until}" if first and status == "missing" else ""
        out.append(Checkin(
            station=st.name, code=st.code, status=status,
            first_report=first.started_at.astimezone(cfg.tz).isoformat(timespec="seconds") if first else None,
            transmission_id=first.id if first else None,
            identified_by=first.identity_source if first else None, reports=n_reports, note=note))
    return out


@dataclass(frozen=True)
class Compliance:
    station: str
    on_time: int
    late: int
    missing: int


def compliance(db: Database, first: date, last: date, cfg: Config) -> list[Compliance]:
    """Per station over ``first``..``last`` (inclusive): days on time, late, missing."""
    counts: dict[str, dict[str, int]] = {st.name: defaultdict(int) for st in cfg.stations}
    day = first
    while day <= last:
        for c in checkins_for(db, day, cfg):
            counts[c.station][c.status] += 1
        day += timedelta(days=1)
    return [Compliance(name, c["on_time"], c["late"], c["missing"]) for name, c in counts.items()]


def render_table(rows: list[Checkin], day: date, tz_name: str) -> str:
    """A plain-text table in Indonesian, for the terminal."""
    reported = sum(r.status != "missing" for r in rows)
    lines = [f"Laporan harian {day:%d-%m-%Y} ({tz_name}): {reported} dari {len(rows)} kecamatan melapor",
             f"{'Kecamatan':<16} {'Kode':<9} {'Status':<12} {'Pertama':<6} {'Sumber':<9} {'Jml':>3}  Catatan"]
    for r in rows:
        first = r.first_report[11:16] if r.first_report else "-"
        src = SOURCE_ID.get(r.identified_by or "", "-")
        lines.append(f"{r.station:<16} {r.code:<9} {STATUS_ID[r.status]:<12} {first:<6} {src:<9} "
                     f"{r.reports:>3}  {r.note}".rstrip())
    return "\n".join(lines) + "\n"


def render_compliance(rows: list[Compliance], first: date, last: date) -> str:
    lines = [f"Kepatuhan {first:%d-%m-%Y} s.d. {last:%d-%m-%Y}",
             f"{'Kecamatan':<16} {'Tepat':>5} {'Telat':>5} {'Tidak':>5}"]
    lines += [f"{r.station:<16} {r.on_time:>5} {r.late:>5} {r.missing:>5}" for r in rows]
    return "\n".join(lines) + "\n"
