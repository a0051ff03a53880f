"""The log: one page of transmissions, filtered, with full-text search (three plans, chosen by cost)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    func,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission
from gateway.timeutil import day_bounds
from gateway.web.queries.search import PAGE_SIZE, _fts, _fts_match, query_words, search_clause

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LogFilter:
    day: date | None = None
    station: str = ""
    unknown: bool = False
    kerchunk: str = ""  # "" all | "ya" only kerchunks | "tidak" without
    q: str = ""
    page: int = 1
    channel: str = ""  # a channel.id (checked by gateway.web.params.query_slug); "" every channel


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
    if f.channel:
        conds.append(Transmission.channel_id == f.channel)
    if f.kerchunk == "ya":
        conds.append(Transmission.kerchunk.is_(True))
    elif f.kerchunk == "tidak":
        conds.append(Transmission.kerchunk.is_(False))
    return conds


_ORDER = (Transmission.started_at.desc(), Transmission.id.desc())


def log_page(db: Database, cfg: Config, f: LogFilter) -> LogPage:
    """One page of the log, newest first, with the number of transmissions that match.

    Without a search, or on PostgreSQL, the total is exact, except the unfiltered log of a large
    PostgreSQL table: the planner's estimate, "sekitar N" (:data:`ESTIMATE_ABOVE`). On SQLite a
    search picks the cheapest of three plans, from the number of FTS5 matches (one count on the
    index) and the size of the filtered log: collect every match and sort the ids (cost follows the
    matches: rare words); test each filtered transmission (a narrow filter such as one day); or walk
    the log newest first testing each row until the page is full, with the total estimated as
    "sekitar N" (a word in a large share of a large log, such as *camat*: exact counting would read
    every match).
    """
    conds = _filter_conds(cfg, f)
    page = max(1, f.page)
    offset = (page - 1) * PAGE_SIZE
    approximate = page_only = False
    with db.read() as s:
        words = query_words(f.q)
        if not words:
            total, approximate = count_rows(s, db.dialect, conds)
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
        loaded = load_rows(s, page_ids)
    if page_only:
        pages = max(pages, page + has_more)
    return LogPage(rows=[loaded[i] for i in page_ids], total=total, page=page, pages=pages,
                   approximate=approximate, has_more=has_more)


#: Above this many rows an unfiltered log on PostgreSQL shows the planner's row estimate as "sekitar
#: N": count(*) reads the whole table (250 ms at 10 M transmissions, bench/bench_office.py).
ESTIMATE_ABOVE = 1_000_000


def count_rows(s: Session, dialect: str, conds: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """(transmissions matching ``conds``, whether that is an estimate)."""
    if not conds and dialect == "postgresql":
        estimate = s.scalar(sql_text("SELECT reltuples::bigint FROM pg_class "
                                     "WHERE oid = 'transmissions'::regclass"))
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            return int(estimate), True
    return s.scalar(select(func.count()).select_from(Transmission).where(*conds)) or 0, False


def _current_matches(dialect: str, q: str) -> ColumnElement[bool]:
    """Transmissions whose current transcript matches ``q``."""
    clause = search_clause(dialect, q)
    if clause is None:  # callers pass a query with words
        raise ValueError(f"no words to search for in {q!r}")
    return Transmission.id.in_(select(TranscriptRow.transmission_id).where(TranscriptRow.current, clause))


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


def load_rows(s: Session, ids: list[int]) -> dict[int, tuple[Transmission, TranscriptRow | None]]:
    """The page's transmissions with their current transcripts, by id (one query)."""
    if not ids:
        return {}
    return {tx.id: (tx, tr) for tx, tr in s.execute(
        select(Transmission, TranscriptRow)
        .outerjoin(TranscriptRow, and_(TranscriptRow.transmission_id == Transmission.id,
                                       TranscriptRow.current))
        .where(Transmission.id.in_(ids)))}
