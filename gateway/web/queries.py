"""What the pages show, read from the store: today's roster, the log with search, one transmission.

Full-text search over *current* transcripts picks its method by ``db.dialect``: SQLite's FTS5 table
``transcripts_fts`` (migration 0005, kept in sync by triggers), PostgreSQL's
``to_tsvector('simple', text) @@ plainto_tsquery('simple', q)`` served by a GIN index. Either way
every word of the query must occur (prefixes do not match) and punctuation is ignored, so no input
can form an FTS5 or tsquery expression.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, column, func, literal_column, or_, select, true, values
from sqlalchemy import text as sql_text

from gateway.checkins import SOURCE_ID, STATUS_ID, checkins_for
from gateway.config import Config, parse_hhmm
from gateway.export import day_bounds
from gateway.store.db import Database
from gateway.store.models import Assignment, AuditEntry, FollowUp, ReportRevision, TranscriptRow, Transmission

log = logging.getLogger(__name__)

PAGE_SIZE = 50
_WORD = re.compile(r"\w+", re.UNICODE)


def query_words(q: str) -> list[str]:
    """The words of a search query, lower case, at most 12."""
    return [w.casefold() for w in _WORD.findall(q)][:12]


def search_clause(dialect: str, q: str) -> ColumnElement[bool] | None:
    """A condition on ``transcripts`` rows matching every word of ``q``; None for an empty query."""
    words = query_words(q)
    if not words:
        return None
    if dialect == "sqlite":
        match = " ".join(f'"{w}"' for w in words)  # quoted strings: never FTS5 operators
        ids = sql_text("SELECT rowid FROM transcripts_fts WHERE transcripts_fts MATCH :fts_q") \
            .bindparams(fts_q=match).columns(column("rowid"))
        return TranscriptRow.id.in_(ids)
    if dialect == "postgresql":
        doc = func.to_tsvector(literal_column("'simple'"), TranscriptRow.text)  # the index's expression
        return doc.bool_op("@@")(func.plainto_tsquery(literal_column("'simple'"), " ".join(words)))
    # any other database: a plain substring match per word (slow, but correct)
    return and_(*(func.lower(TranscriptRow.text).contains(w) for w in words))


# --- today ------------------------------------------------------------------------------------

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


def today_view(db: Database, cfg: Config, day: date, now: datetime) -> TodayView:
    local_now = now.astimezone(cfg.tz)
    is_today = day == local_now.date()
    still_open = is_today and local_now.time() <= parse_hhmm(cfg.checkins.late_until)
    lo, hi = day_bounds(day, cfg.tz)
    with db.read() as s:
        in_day = and_(Transmission.started_at >= lo, Transmission.started_at < hi)
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
        last = dict(s.execute(select(Transmission.station, func.max(Transmission.started_at))
                              .where(Transmission.station.is_not(None), Transmission.started_at < hi)
                              .group_by(Transmission.station)).all())
    rows = []
    for c in checkins_for(db, day, cfg):
        status, label = c.status, STATUS_ID[c.status]
        if status == "missing" and still_open and not c.note:
            status, label = "pending", "belum lapor"
        rows.append(StationRow(
            station=c.station, code=c.code, status=status, label=label,
            first_report=c.first_report[11:16] if c.first_report else None,
            transmission_id=c.transmission_id, identified_by=SOURCE_ID.get(c.identified_by or "", "-"),
            reports=c.reports, last_heard=last.get(c.station), note=c.note))
    counts["reported"] = sum(r.status in ("on_time", "late") for r in rows)
    return TodayView(day=day, is_today=is_today, stations=rows, counts=counts)


def change_marker(db: Database) -> tuple[int, int, int, int]:
    """Changes whenever a transmission or transcript is stored, completed or assigned (for /events)."""
    with db.read() as s:
        return (s.scalar(select(func.max(Transmission.id))) or 0,
                s.scalar(select(func.max(TranscriptRow.id))) or 0,
                s.scalar(select(func.count()).where(Transmission.status == "complete")) or 0,
                s.scalar(select(func.max(Assignment.id))) or 0)


# --- log --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LogFilter:
    day: date | None = None
    station: str = ""
    unknown: bool = False
    kerchunk: str = ""  # "" all | "ya" only kerchunks | "tidak" without
    q: str = ""
    page: int = 1


@dataclass
class LogPage:
    rows: list[tuple[Transmission, TranscriptRow | None]]
    total: int
    page: int
    pages: int


def log_page(db: Database, cfg: Config, f: LogFilter) -> LogPage:
    conds: list[ColumnElement[bool]] = []
    if f.day is not None:
        lo, hi = day_bounds(f.day, cfg.tz)
        conds += [Transmission.started_at >= lo, Transmission.started_at < hi]
    if f.unknown:
        conds.append(Transmission.station.is_(None))
    elif f.station:
        conds.append(Transmission.station == f.station)
    if f.kerchunk == "ya":
        conds.append(Transmission.kerchunk.is_(True))
    elif f.kerchunk == "tidak":
        conds.append(Transmission.kerchunk.is_(False))
    match = search_clause(db.dialect, f.q)
    if match is not None:
        conds.append(Transmission.id.in_(select(TranscriptRow.transmission_id)
                                         .where(TranscriptRow.current, match)))
    with db.read() as s:
        total = s.scalar(select(func.count()).select_from(Transmission).where(*conds)) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, f.page), pages)
        rows = s.execute(
            select(Transmission, TranscriptRow)
            .outerjoin(TranscriptRow, and_(TranscriptRow.transmission_id == Transmission.id,
                                           TranscriptRow.current))
            .where(*conds).order_by(Transmission.started_at.desc(), Transmission.id.desc())
            .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return LogPage(rows=[(tx, tr) for tx, tr in rows], total=total, page=page, pages=pages)


# --- one transmission -------------------------------------------------------------------------

@dataclass
class TxView:
    tx: Transmission
    current: TranscriptRow | None
    history: list[TranscriptRow]  # every transcript, newest first (the current one included)
    assignments: list[Assignment]
    audit: list[AuditEntry]
    prev_id: int | None
    next_id: int | None


def tx_view(db: Database, tx_id: int) -> TxView | None:
    with db.read() as s:
        tx = s.get(Transmission, tx_id)
        if tx is None:
            return None
        history = list(s.scalars(select(TranscriptRow).where(TranscriptRow.transmission_id == tx_id)
                                 .order_by(TranscriptRow.id.desc())))
        assignments = list(s.scalars(select(Assignment).where(Assignment.transmission_id == tx_id)
                                     .order_by(Assignment.id.desc())))
        audit = list(s.scalars(select(AuditEntry).where(AuditEntry.target == f"transmission:{tx_id}")
                               .order_by(AuditEntry.id.desc()).limit(50)))
        prev_id = s.scalar(select(Transmission.id).where(_before(tx))
                           .order_by(Transmission.started_at.desc(), Transmission.id.desc()).limit(1))
        next_id = s.scalar(select(Transmission.id).where(_after(tx))
                           .order_by(Transmission.started_at, Transmission.id).limit(1))
    current = next((t for t in history if t.current), None)
    return TxView(tx, current, history, assignments, audit, prev_id, next_id)


def _before(tx: Transmission) -> ColumnElement[bool]:
    return or_(Transmission.started_at < tx.started_at,
               and_(Transmission.started_at == tx.started_at, Transmission.id < tx.id))


def _after(tx: Transmission) -> ColumnElement[bool]:
    return or_(Transmission.started_at > tx.started_at,
               and_(Transmission.started_at == tx.started_at, Transmission.id > tx.id))


# --- reports ----------------------------------------------------------------------------------

def report_days(db: Database, limit_days: int = 60) -> list[tuple[date, list[dict[str, Any]]]]:
    """Filed revisions of the newest ``limit_days`` days that have any, newest day first."""
    with db.read() as s:
        days = list(s.scalars(select(ReportRevision.day).group_by(ReportRevision.day)
                              .order_by(ReportRevision.day.desc()).limit(limit_days)))
        rows = s.execute(select(ReportRevision.day, ReportRevision.revision, ReportRevision.filed_at,
                                ReportRevision.reason, ReportRevision.emailed_at)
                         .where(ReportRevision.day.in_(days))
                         .order_by(ReportRevision.day.desc(), ReportRevision.revision)).all() if days else []
    out: dict[date, list[dict[str, Any]]] = {d: [] for d in days}
    for day, rev, filed_at, reason, emailed_at in rows:
        out[day].append({"revision": rev, "filed_at": filed_at, "reason": reason, "emailed_at": emailed_at})
    return list(out.items())


def report_content(db: Database, day: date, revision: int) -> dict[str, Any] | None:
    with db.read() as s:
        return s.scalar(select(ReportRevision.content).where(ReportRevision.day == day,
                                                              ReportRevision.revision == revision))


def open_followups(db: Database) -> list[FollowUp]:
    with db.read() as s:
        return list(s.scalars(select(FollowUp).where(FollowUp.status != "selesai")
                              .order_by(FollowUp.day.desc(), FollowUp.id)))


# --- compliance chart -------------------------------------------------------------------------

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

    A report is what :func:`gateway.checkins.checkins_for` counts: complete, identified, neither a
    kerchunk nor stuck. Days (their bounds: local midnights, so right across DST changes) and stations
    come in as two ``VALUES`` lists; for each pair the earliest report is one seek on the
    (station, started_at) index, so the cost follows stations × days, not the transmissions heard.
    """
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if not days or not cfg.stations:
        return {}
    kind = Transmission.started_at.type
    d = values(column("lo", kind), column("hi", kind), name="d") \
        .data([day_bounds(day, cfg.tz) for day in days]).cte("d")
    s = values(column("station", String(100)), name="s").data([(st.name,) for st in cfg.stations]).cte("s")
    complete: ColumnElement[Any] = Transmission.status == "complete"
    if db.dialect == "sqlite":  # nearly every row is complete: say so, or SQLite walks the status index
        complete = func.likely(complete)
    earliest = (select(Transmission.started_at)
                .where(Transmission.station == s.c.station, Transmission.started_at >= d.c.lo,
                       Transmission.started_at < d.c.hi, complete, Transmission.kerchunk.is_(False),
                       Transmission.stuck.is_(False))
                .order_by(Transmission.started_at).limit(1).scalar_subquery())
    with db.read() as session:
        rows = session.execute(select(d.c.lo, s.c.station, earliest).select_from(d.join(s, true()))).all()
    return {(station, lo.astimezone(cfg.tz).date()): at.astimezone(cfg.tz)
            for lo, station, at in rows if at is not None}


def compliance_view(db: Database, cfg: Config, first: date, last: date, now: datetime) -> ComplianceView:
    """Stations × days, each day on time / late / missing as :func:`gateway.checkins.compliance` has it.

    Only where that function cannot know yet does this differ: today, until ``checkins.late_until``,
    a station without a report is ``pending``, and so is every day after today.
    """
    local_now = now.astimezone(cfg.tz)
    today = local_now.date()
    still_open = local_now.time() <= parse_hhmm(cfg.checkins.late_until)
    on_time_until, late_until = parse_hhmm(cfg.checkins.on_time_until), parse_hhmm(cfg.checkins.late_until)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    found = first_reports(db, cfg, first, last)
    rows: list[ComplianceRow] = []
    for st in cfg.stations:
        cells, totals = [], dict.fromkeys(COMPLIANCE_STATUSES, 0)
        for day in days:
            at = found.get((st.name, day))
            note = ""
            if at is None:
                status = "pending" if day > today or (day == today and still_open) else "missing"
            elif at <= datetime.combine(day, on_time_until, cfg.tz):
                status = "on_time"
            elif at <= datetime.combine(day, late_until, cfg.tz):
                status = "late"
            else:
                status, note = "missing", f"lapor setelah {cfg.checkins.late_until}"
            cells.append(ComplianceCell(day, status, at, note))
            totals[status] += 1
        rows.append(ComplianceRow(st.name, st.code, cells, totals))
    reported = [sum(r.cells[i].status in ("on_time", "late") for r in rows) for i in range(len(days))]
    grand = {k: sum(r.totals[k] for r in rows) for k in COMPLIANCE_STATUSES}
    return ComplianceView(first, last, days, rows, reported, grand)
