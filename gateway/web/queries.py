"""What the pages show, read from the store: today's roster, the log with search, one transmission.

Full-text search over *current* transcripts picks its method by ``db.dialect``: SQLite's FTS5 table
``transcripts_fts`` (migration 0005, kept in sync by triggers), PostgreSQL's
``to_tsvector('simple', text) @@ plainto_tsquery('simple', q)`` served by a GIN index. Either way
every word of the query must occur (prefixes do not match) and punctuation is ignored, so no input
can form an FTS5 or tsquery expression.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    true,
)
from sqlalchemy import values as values_
from sqlalchemy.orm import Session

from gateway.config import Config, parse_hhmm
from gateway.identification.checkins import SOURCE_ID, STATUS_ID, checkins_for
from gateway.store.db import Database
from gateway.store.models import Assignment, AuditEntry, FollowUp, ReportRevision, TranscriptRow, Transmission
from gateway.timeutil import day_bounds

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
        return TranscriptRow.id.in_(select(_fts.c.rowid).where(_fts_match(words)))
    if dialect == "postgresql":
        doc = func.to_tsvector(literal_column("'simple'"), TranscriptRow.text)  # the index's expression
        return doc.bool_op("@@")(func.plainto_tsquery(literal_column("'simple'"), " ".join(words)))
    # any other database: a plain substring match per word (slow, but correct)
    return and_(*(func.lower(TranscriptRow.text).contains(w) for w in words))


_fts = table("transcripts_fts", column("rowid"), column("text"))  # migration 0005


def _fts_match(words: list[str]) -> ColumnElement[bool]:
    """FTS5 rows with every word: each a quoted string, so never an FTS5 operator."""
    return _fts.c.text.op("MATCH")(" ".join(f'"{w}"' for w in words))


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
        # "last heard": one seek per station on (station, started_at) (min/max optimisation), not a
        # GROUP BY over every transmission ever heard
        names = [st.name for st in cfg.stations]
        newest = [select(func.max(Transmission.started_at))
                  .where(Transmission.station == n, Transmission.started_at < hi).scalar_subquery()
                  for n in names]
        last = dict(zip(names, s.execute(select(*newest)).one(), strict=True)) if names else {}
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
    approximate: bool = False  # ``total`` is an estimate (a common word in a large log; see log_page)
    has_more: bool = False  # there is a next page


# Costs for choosing how SQLite answers a search, in µs (measured with bench/bench_web.py at 1,000,000
# transmissions): testing one transmission against the FTS5 index; collecting, sorting and counting
# one FTS5 match; visiting one match newest first (see _newest_matches).
TEST_US_PER_ROW = 70.0
EXACT_US_PER_MATCH = 10.0
VISIT_US_PER_MATCH = 5.0
EXACT_BUDGET_US = 60_000.0  # an exact count up to this cost; above it, "sekitar N"
CLOCK_SLACK = timedelta(hours=1)  # how far the clock may step back between two transcripts


def _filter_conds(cfg: Config, f: LogFilter) -> list[ColumnElement[bool]]:
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
    return conds


_ORDER = (Transmission.started_at.desc(), Transmission.id.desc())


def log_page(db: Database, cfg: Config, f: LogFilter) -> LogPage:
    """One page of the log, newest first, with the number of transmissions that match.

    Without a search, or on PostgreSQL, the total is exact. On SQLite a search picks the cheapest of
    three plans, from the number of FTS5 matches (one count on the index) and the size of the
    filtered log: collect every match and sort the ids (cost follows the matches: rare words);
    test each filtered transmission (a narrow filter such as one day); or walk the log newest first
    testing each row until the page is full, with the total estimated as "sekitar N" (a word in a
    large share of a large log, such as *camat*: exact counting would read every match).
    """
    conds = _filter_conds(cfg, f)
    page = max(1, f.page)
    offset = (page - 1) * PAGE_SIZE
    approximate = page_only = False
    with db.read() as s:
        words = query_words(f.q)
        if not words:
            total = s.scalar(select(func.count()).select_from(Transmission).where(*conds)) or 0
            ids = None
        elif db.dialect != "sqlite":
            ids = _all_ids(s, conds, _current_matches(db.dialect, f.q))
            total = len(ids)
        else:
            total, ids, page_only, approximate = _sqlite_search(s, conds, f.q, offset)
        pages = max(1, -(-total // PAGE_SIZE))
        if not page_only:
            page = min(page, pages)
            offset = (page - 1) * PAGE_SIZE
        if ids is None:
            page_ids = list(s.scalars(select(Transmission.id).where(*conds).order_by(*_ORDER)
                                      .limit(PAGE_SIZE + 1).offset(offset)))
        elif page_only:
            page_ids = ids  # already this page's (up to PAGE_SIZE + 1)
        else:
            page_ids = ids[offset:offset + PAGE_SIZE + 1]
        has_more = len(page_ids) > PAGE_SIZE
        page_ids = page_ids[:PAGE_SIZE]
        loaded = {tx.id: (tx, tr) for tx, tr in s.execute(
            select(Transmission, TranscriptRow)
            .outerjoin(TranscriptRow, and_(TranscriptRow.transmission_id == Transmission.id,
                                           TranscriptRow.current))
            .where(Transmission.id.in_(page_ids)))} if page_ids else {}
    if page_only:
        pages = max(pages, page + has_more)
    return LogPage(rows=[loaded[i] for i in page_ids], total=total, page=page, pages=pages,
                   approximate=approximate, has_more=has_more)


def _current_matches(dialect: str, q: str) -> ColumnElement[bool]:
    """Transmissions whose current transcript matches ``q``."""
    return Transmission.id.in_(select(TranscriptRow.transmission_id)
                               .where(TranscriptRow.current, search_clause(dialect, q)))


def _all_ids(s: Session, conds: list[ColumnElement[bool]], hit: ColumnElement[bool]) -> list[int]:
    return list(s.scalars(select(Transmission.id).where(*conds, hit).order_by(*_ORDER)))


def _sqlite_search(s: Session, conds: list[ColumnElement[bool]], q: str,
                   offset: int) -> tuple[int, list[int], bool, bool]:
    """(total, ids, page_only, approximate): every matching id, or only this page's (and one more).

    Three plans, the cheapest by the costs above: (1) collect every match, sort and count them (cost
    follows the matches: rare words); (2) test each transmission the filter lets through (a narrow
    filter, such as one day); (3) visit matches newest first until the page is full (common words;
    the total is then an estimate unless every match was visited).
    """
    match = _fts_match(query_words(q))
    # an upper bound: superseded transcripts are indexed too
    matches = s.scalar(select(func.count()).select_from(_fts).where(match)) or 0
    if matches == 0:
        return 0, [], False, False
    # the filtered log's size: max(id) stands for count(*) without a filter (deletions are rare)
    everything = s.scalar(select(func.max(Transmission.id))) or 0
    filtered = s.scalar(select(func.count()).select_from(Transmission).where(*conds)) if conds else everything
    if not filtered:
        return 0, [], False, False
    by_matches = EXACT_US_PER_MATCH * matches
    by_filter = TEST_US_PER_ROW * filtered
    newest = VISIT_US_PER_MATCH * min(matches, (offset + PAGE_SIZE + 1) * max(1, everything) / filtered)
    if min(by_matches, by_filter) <= max(EXACT_BUDGET_US, newest):
        if by_matches <= by_filter:
            hit = _current_matches("sqlite", q)
        else:
            hit = exists().where(TranscriptRow.transmission_id == Transmission.id, TranscriptRow.current,
                                 exists().where(match, _fts.c.rowid == TranscriptRow.id))
        ids = _all_ids(s, conds, hit)
        return len(ids), ids, False, False
    ids, visited, passed, complete = _newest_matches(s, conds, match, offset + PAGE_SIZE + 1)
    page = ids[offset:]
    if complete:  # every match was visited: the count is exact
        return passed, page, True, False
    return max(round(matches * passed / visited), offset + len(page)), page, True, True


def _newest_matches(s: Session, conds: list[ColumnElement[bool]], match: ColumnElement[bool],
                    need: int) -> tuple[list[int], int, int, bool]:
    """The newest ``need`` transmissions (log order) whose current transcript has ``match`` and
    that pass ``conds``.

    FTS5 hands out matches by descending rowid (transcript id) cheaply. Ids follow the single
    writer's clock, and a transcript is made after its transmission started, so every match not yet
    visited belongs to a transmission that started before the last visited transcript was made
    (``CLOCK_SLACK`` allowing for a clock stepped back). Once ``need`` transmissions started after
    that, no later match can come before them. Returns (ids, matches visited, of them current and
    through the filter, whether every match was visited).
    """
    found: list[tuple[datetime, int]] = []
    visited = 0
    below: int | None = None
    batch = 64
    while True:
        newer = [] if below is None else [_fts.c.rowid < below]
        rowids = list(s.scalars(select(_fts.c.rowid).where(match, *newer)
                                .order_by(_fts.c.rowid.desc()).limit(batch)))
        if not rowids:
            break
        visited += len(rowids)
        below = rowids[-1]
        found += s.execute(select(Transmission.started_at, Transmission.id)
                           .join(TranscriptRow, TranscriptRow.transmission_id == Transmission.id)
                           .where(TranscriptRow.id.in_(rowids), TranscriptRow.current, *conds)).all()
        if len(rowids) < batch:
            break
        if len(found) >= need:
            found.sort(reverse=True)
            made = s.scalar(select(TranscriptRow.created_at).where(TranscriptRow.id == below))
            if made is None or found[need - 1][0] > made + CLOCK_SLACK:
                return [i for _, i in found[:need]], visited, len(found), False
        batch = min(batch * 2, 4096)
    found.sort(reverse=True)
    return [i for _, i in found[:need]], visited, len(found), True


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

    A report is what
    :func:`gateway.identification.checkins.checkins_for` counts: complete, identified, neither a
    kerchunk nor stuck. Days (their bounds: local midnights, so right across DST changes) and stations
    come in as two ``VALUES`` lists; for each pair the earliest report is one seek on the
    (station, started_at) index, so the cost follows stations × days, not the transmissions heard.
    """
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if not days or not cfg.stations:
        return {}
    stmt = _first_reports_stmt(len(days), len(cfg.stations), db.dialect == "sqlite")
    params: dict[str, Any] = {f"st{i}": st.name for i, st in enumerate(cfg.stations)}
    for i, day in enumerate(days):
        params[f"lo{i}"], params[f"hi{i}"] = day_bounds(day, cfg.tz)
    with db.read() as session:
        rows = session.execute(stmt, params).all()
    return {(station, lo.astimezone(cfg.tz).date()): at.astimezone(cfg.tz)
            for lo, station, at in rows if at is not None}


@functools.lru_cache(maxsize=32)
def _first_reports_stmt(n_days: int, n_stations: int, sqlite: bool) -> Select[Any]:
    """The statement of :func:`first_reports` with its values as named parameters: built once per
    shape, so SQLAlchemy's compiled cache serves every later request (building it costs more than
    running it)."""
    kind = Transmission.started_at.type
    d = values_(column("lo", kind), column("hi", kind), name="d").data(
        [(bindparam(f"lo{i}", type_=kind), bindparam(f"hi{i}", type_=kind)) for i in range(n_days)]).cte("d")
    s = values_(column("station", String(100)), name="s").data(
        [(bindparam(f"st{i}", type_=String(100)),) for i in range(n_stations)]).cte("s")
    complete: ColumnElement[Any] = Transmission.status == "complete"
    if sqlite:  # nearly every row is complete: say so, or SQLite walks the status index
        complete = func.likely(complete)
    earliest = (select(Transmission.started_at)
                .where(Transmission.station == s.c.station, Transmission.started_at >= d.c.lo,
                       Transmission.started_at < d.c.hi, complete, Transmission.kerchunk.is_(False),
                       Transmission.stuck.is_(False))
                .order_by(Transmission.started_at).limit(1).scalar_subquery())
    return select(d.c.lo, s.c.station, earliest).select_from(d.join(s, true()))


def compliance_view(db: Database, cfg: Config, first: date, last: date, now: datetime) -> ComplianceView:
    """Stations × days, each day on time / late / missing as
    :func:`gateway.identification.checkins.compliance` has it.

    Only where that function cannot know yet does this differ: today, until ``checkins.late_until``,
    a station without a report is ``pending``, and so is every day after today.
    """
    local_now = now.astimezone(cfg.tz)
    today = local_now.date()
    still_open = local_now.time() <= parse_hhmm(cfg.checkins.late_until)
    on_time_until, late_until = parse_hhmm(cfg.checkins.on_time_until), parse_hhmm(cfg.checkins.late_until)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    found = first_reports(db, cfg, first, last)
    # each day's two deadlines, once (not per station): local times, compared in the same zone
    deadlines = {day: (datetime.combine(day, on_time_until, cfg.tz),
                       datetime.combine(day, late_until, cfg.tz)) for day in days}
    rows: list[ComplianceRow] = []
    for st in cfg.stations:
        cells, totals = [], dict.fromkeys(COMPLIANCE_STATUSES, 0)
        for day in days:
            at = found.get((st.name, day))
            note = ""
            if at is None:
                status = "pending" if day > today or (day == today and still_open) else "missing"
            elif at <= deadlines[day][0]:
                status = "on_time"
            elif at <= deadlines[day][1]:
                status = "late"
            else:
                status, note = "missing", f"lapor setelah {cfg.checkins.late_until}"
            cells.append(ComplianceCell(day, status, at, note))
            totals[status] += 1
        rows.append(ComplianceRow(st.name, st.code, cells, totals))
    reported = [sum(r.cells[i].status in ("on_time", "late") for r in rows) for i in range(len(days))]
    grand = {k: sum(r.totals[k] for r in rows) for k in COMPLIANCE_STATUSES}
    return ComplianceView(first, last, days, rows, reported, grand)
