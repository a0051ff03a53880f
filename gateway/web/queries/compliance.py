"""The compliance chart: stations × days, from one statement; the rule is :mod:`gateway.checkins`'s."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    column,
    select,
    true,
)
from sqlalchemy import values as values_

from gateway.config import Config
from gateway.identification.checkins import Deadlines, report_conditions
from gateway.store.db import Database
from gateway.store.models import Transmission
from gateway.timeutil import day_bounds

log = logging.getLogger(__name__)


MAX_COMPLIANCE_DAYS = 92
COMPLIANCE_STATUSES = ("on_time", "late", "missing", "pending")


@dataclass(frozen=True)
class ComplianceCell:
    day: date
    status: str  # on_time | late | missing | pending (today before late_until, or a day still to come)
    first_report: datetime | None  # the day's first report, in the configured zone
    note: str = ""


@dataclass
class ComplianceRow:
    station: str
    code: str
    cells: list[ComplianceCell]
    totals: dict[str, int]  # days per status


@dataclass
class ComplianceView:
    first: date
    last: date
    days: list[date]
    rows: list[ComplianceRow]
    reported: list[int]  # per day: stations on time or late
    totals: dict[str, int]  # station-days per status


def first_reports(db: Database, cfg: Config, first: date, last: date) -> dict[tuple[str, date], datetime]:
    """The first report of each configured station on each day ``first``..``last``, in one query.

    A report is what :func:`gateway.identification.checkins.report_conditions` says (as for
    :func:`gateway.identification.checkins.checkins_for`). Days (their bounds: local midnights, so
    right across DST changes) and stations come in as two ``VALUES`` lists; for each pair the earliest
    report is one seek on the (station, started_at) index, so the cost follows stations × days, not the
    transmissions heard.
    """
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if not days or not cfg.stations:
        return {}
    stmt = _first_reports_stmt(len(days), len(cfg.stations), db.dialect == "sqlite")
    params: dict[str, Any] = {f"st{i}": st.name for i, st in enumerate(cfg.stations)}
    for i, day in enumerate(days):
        params[f"i{i}"] = i
        params[f"lo{i}"], params[f"hi{i}"] = day_bounds(day, cfg.tz)
    with db.read() as session:
        rows = session.execute(stmt, params).all()
    tz = cfg.tz
    return {(station, days[i]): at.astimezone(tz) for i, station, at in rows if at is not None}


@functools.lru_cache(maxsize=32)
def _first_reports_stmt(n_days: int, n_stations: int, sqlite: bool) -> Select[Any]:
    """The statement of :func:`first_reports` with its values as named parameters: built once per
    shape, so SQLAlchemy's compiled cache serves every later request (building it costs more than
    running it)."""
    kind = Transmission.started_at.type
    d = values_(column("i", Integer), column("lo", kind), column("hi", kind), name="d").data(
        [(bindparam(f"i{i}", type_=Integer), bindparam(f"lo{i}", type_=kind), bindparam(f"hi{i}", type_=kind))
         for i in range(n_days)]).cte("d")
    s = values_(column("station", String(100)), name="s").data(
        [(bindparam(f"st{i}", type_=String(100)),) for i in range(n_stations)]).cte("s")
    earliest = (select(Transmission.started_at)
                .where(Transmission.station == s.c.station, Transmission.started_at >= d.c.lo,
                       Transmission.started_at < d.c.hi, *report_conditions(likely_complete=sqlite))
                .order_by(Transmission.started_at).limit(1).scalar_subquery())
    return select(d.c.i, s.c.station, earliest).select_from(d.join(s, true()))


def compliance_view(db: Database, cfg: Config, first: date, last: date, now: datetime) -> ComplianceView:
    """Stations × days, each day on time / late / missing as
    :func:`gateway.identification.checkins.compliance` has it.

    Only where that function cannot know yet does this differ: today, until ``checkins.late_until``,
    a station without a report is ``pending``, and so is every day after today.
    """
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    found = first_reports(db, cfg, first, last)
    # each day's deadlines, once (not per station); the rule itself is gateway.checkins'
    deadlines = {day: Deadlines.of(day, cfg) for day in days}
    zone = datetime.now(cfg.tz).tzname() or ""  # as fmt.clock writes times: "12.00 WIB"
    after = f"lapor setelah {cfg.checkins.late_until.replace(':', '.')} {zone}".rstrip()
    rows: list[ComplianceRow] = []
    for st in cfg.stations:
        cells, totals = [], dict.fromkeys(COMPLIANCE_STATUSES, 0)
        for day in days:
            at = found.get((st.name, day))
            status = deadlines[day].classify(at, now)
            note = after if at is not None and status == "missing" else ""
            cells.append(ComplianceCell(day, status, at, note))
            totals[status] += 1
        rows.append(ComplianceRow(st.name, st.code, cells, totals))
    reported = [sum(r.cells[i].status in ("on_time", "late") for r in rows) for i in range(len(days))]
    grand = {k: sum(r.totals[k] for r in rows) for k in COMPLIANCE_STATUSES}
    return ComplianceView(first, last, days, rows, reported, grand)
