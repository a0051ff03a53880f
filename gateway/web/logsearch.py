"""The log for listening: filters on what the report read, and search over transcripts *and* extracted
fields with Indonesian affixes.

A query word matches a transmission when its current transcript holds the word or one of its affixed
forms (:func:`gateway.report.terms.forms`: "terendam" also finds "rendam", "direndam", "rendaman"), or
when a filed report read from it an incident category, label word, desa, need or status with the
same stem (table ``report_terms``: "banjir" finds a transmission whose transcript says "banjr" once
the extractor read a flood there). Every word must match. Filters: date, kecamatan (or unknown),
channel (``channel.id``, migration 0022), kerchunk, incident category, situation status, unverified
transcript, perlu didengar.

Plans: see :func:`search_page`. PostgreSQL answers with its GIN index in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, exists, func, literal_column, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from gateway.config import Config
from gateway.report.terms import forms, stem
from gateway.report.terms import words as query_words
from gateway.store.db import Database
from gateway.store.models import ReportTerm, TranscriptRow, Transmission
from gateway.web.queries.log import (
    _ORDER,
    LogFilter,
    LogPage,
    _filter_conds,
    count_rows,
    load_rows,
    log_page,
)
from gateway.web.queries.newest import EXACT_ROWS, Stream, walk
from gateway.web.queries.search import PAGE_SIZE, _fts

SITUATIONS = ("aman", "waspada", "siaga", "awas")
MAX_WORDS = 6
#: SQLite: a filter (e.g. one day) letting through at most this many transmissions tests each of them
TEST_ROWS = 1000
#: SQLite: filters alone are counted exactly up to this many matches, then estimated
FILTER_CAP = 2000
#: SQLite: stream rows counted when choosing the set that drives the walk (more need not be counted)
COUNT_CAP = 20_000


@dataclass(frozen=True)
class Filter:
    base: LogFilter
    category: str = ""  # an incident category key (gateway.report.build.CATEGORY_ID)
    situation: str = ""  # aman | waspada | siaga | awas
    unverified: bool = False
    listen: bool = False  # perlu didengar


def _term_ids(kind: str | None, terms: list[str]) -> Any:
    q = select(ReportTerm.transmission_id).where(ReportTerm.term.in_(terms))
    return q.where(ReportTerm.kind == kind) if kind else q


def _extra_conds(f: Filter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.category:
        conds.append(Transmission.id.in_(_term_ids("category", [f.category])))
    if f.situation:
        conds.append(Transmission.id.in_(_term_ids("status", [f.situation])))
    if f.unverified:
        tr = aliased(TranscriptRow)  # its own name: a query may join transcripts as well
        conds.append(exists().where(tr.transmission_id == Transmission.id, tr.current,
                                    tr.verified.is_(False), tr.origin != "edit"))
    if f.listen:
        conds.append(Transmission.needs_listening == True)  # noqa: E712 - "= 1": the partial index (0016)
    return conds


def _word_forms(word: str) -> list[str]:
    return [w for w in forms(word) if w.isalnum()][:16]


def _word_hit(dialect: str, word: str) -> ColumnElement[bool]:
    """PostgreSQL (GIN index) or another database: the word's forms in current transcripts, or its
    report terms."""
    if dialect == "postgresql":
        doc = func.to_tsvector(literal_column("'simple'"), TranscriptRow.text)
        tsq = func.to_tsquery(literal_column("'simple'"), " | ".join(_word_forms(word)))
        text: ColumnElement[bool] = doc.bool_op("@@")(tsq)
    else:
        text = or_(*(func.lower(TranscriptRow.text).contains(w) for w in _word_forms(word)))
    # one IN over both sources: an OR of two IN subqueries made PostgreSQL test every transmission
    # against both (3-4 s at 10 M rows, bench/bench_office.py); the union is a small semi-join
    spoken = select(TranscriptRow.transmission_id).where(TranscriptRow.current, text)
    return Transmission.id.in_(union_all(spoken, _term_ids(None, [stem(word)])))


def _present(s: Session, word: str) -> list[str]:
    """The forms of ``word`` that occur in any transcript (SQLite: one FTS5 probe each, in one statement)."""
    candidates = _word_forms(word)
    if not candidates:
        return []
    probes = [exists().where(_fts.c.text.op("MATCH")(bindparam(f"f{i}", f'"{f}"', type_=String)))
              for i, f in enumerate(candidates)]
    row = s.execute(select(*probes)).one()
    return [f for f, hit in zip(candidates, row, strict=True) if hit]


def _has_terms(s: Session, word: str) -> bool:
    return s.scalar(select(ReportTerm.id).where(ReportTerm.term == stem(word)).limit(1)) is not None


def search_page(db: Database, cfg: Config, f: Filter) -> LogPage:
    """One page of the log, newest first, with the total (exact, or "sekitar" on a common word).

    On SQLite each word's forms are first probed in the FTS5 index (most affixed forms occur
    nowhere): a query whose words each have one form in the transcripts and no report terms, with
    no filter of this module, is exactly the plain search and goes to
    :func:`gateway.web.queries.log_page` (its three plans). Any other query with words, an incident
    category or a situation goes to :func:`_sqlite_page`. PostgreSQL (and any other database) counts
    and pages with one statement each (its GIN index)."""
    extra = _extra_conds(f)
    words = query_words(f.base.q)[:MAX_WORDS]
    if db.dialect == "sqlite" and (words or f.category or f.situation):
        with db.read() as s:
            present = [_present(s, w) for w in words]
            terms = [_has_terms(s, w) for w in words]
        if any(not p and not t for p, t in zip(present, terms, strict=True)):
            return LogPage(rows=[], total=0, page=1, pages=1)
        if words and not extra and not any(terms) and all(len(p) == 1 for p in present):
            return log_page(db, cfg, replace(f.base, q=" ".join(p[0] for p in present)))
        return _sqlite_page(db, cfg, f, [(w, p, t) for w, p, t in zip(words, present, terms, strict=True)])
    hits = [_word_hit(db.dialect, w) for w in words]
    conds = _filter_conds(cfg, f.base) + extra
    page = max(1, f.base.page)
    with db.read() as s:
        only = [k for k, v in (("category", f.category), ("status", f.situation)) if v]
        approximate = False
        if not hits and len(conds) == 1 and len(only) == 1 and not (f.unverified or f.listen):
            # one category or status alone: counted on report_terms' covering index
            total = _lone_count(s, only[0], f.category or f.situation)
        elif db.dialect == "sqlite" and not hits and (f.unverified or f.base.kerchunk):
            # a test per row (the transcript, the kerchunk flag): counting them all could read 1M rows
            total, approximate = _filtered_count(s, conds)
        elif not hits:  # a large unfiltered log on PostgreSQL: the planner's estimate
            total, approximate = count_rows(s, db.dialect, conds)
        else:
            total = s.scalar(select(func.count()).select_from(Transmission).where(*conds, *hits)) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        if not approximate:
            page = min(page, pages)
        ids = list(s.scalars(select(Transmission.id).where(*conds, *hits).order_by(*_ORDER)
                             .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
        has_more = len(ids) > PAGE_SIZE
        ids = ids[:PAGE_SIZE]
        loaded = load_rows(s, ids)
    if approximate:
        pages = max(pages, page + has_more)
    return LogPage(rows=[loaded[i] for i in ids], total=total, page=page, pages=pages, has_more=has_more,
                   approximate=approximate)


def _filtered_count(s: Session, conds: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """SQLite, filters only, among them belum diverifikasi or kerchunk: the log walked newest first up
    to :data:`FILTER_CAP` matches; more than that is "sekitar N", the share of matches in the window
    they span times the whole log (counting every match of "belum diverifikasi" would test a million
    rows)."""
    newest = select(Transmission.started_at).where(*conds).order_by(*_ORDER).limit(FILTER_CAP).subquery()
    n, edge = s.execute(select(func.count(), func.min(newest.c.started_at)).select_from(newest)).one()
    if n < FILTER_CAP or edge is None:
        return n, False
    window = s.scalar(select(func.count()).select_from(Transmission).where(Transmission.started_at >= edge))
    everything = s.scalar(select(func.max(Transmission.id))) or 0  # count(*) would read every row
    return max(n, round(n * everything / window)) if window else n, True


def _lone_count(s: Session, kind: str, term: str) -> int:
    return s.scalar(select(func.count(func.distinct(ReportTerm.transmission_id))).where(
        ReportTerm.kind == kind, ReportTerm.term == term)) or 0


def _term_exists(term: str, kind: str | None = None) -> ColumnElement[bool]:
    """Per row: the transmission has report term ``term`` (of ``kind``): a seek in (term, transmission_id)."""
    where = [ReportTerm.term == term, ReportTerm.transmission_id == Transmission.id]
    return exists().where(*where, *([ReportTerm.kind == kind] if kind else []))


def _fts_any(forms_: list[str]) -> ColumnElement[bool]:
    return _fts.c.text.op("MATCH")(" OR ".join(f'"{w}"' for w in forms_))


def _sqlite_page(db: Database, cfg: Config, f: Filter, words: list[tuple[str, list[str], bool]]) -> LogPage:
    """SQLite: each word, the category and the situation is a *set* of transmissions, with streams that
    hand out its members newest first (:mod:`gateway.web.queries.newest`) and a test per row.

    A narrow filter (one day: at most :data:`TEST_ROWS` transmissions) tests each of its transmissions
    (exact count). Otherwise the set with the fewest stream rows drives: its streams are walked newest
    first and each candidate is tested against the filters and the other sets, until the page is full
    (total "sekitar N") or, for a set of at most ``newest.EXACT_ROWS`` rows, to the end (exact)."""
    sets: list[tuple[list[Stream], ColumnElement[bool]]] = [
        (_word_streams(w, p, t), _word_test(w, p, t)) for w, p, t in words]
    for kind, term in (("category", f.category), ("status", f.situation)):
        if term:
            sets.append(([Stream(term=term, kind=kind)], _term_exists(term, kind)))
    base = _filter_conds(cfg, f.base) + _extra_conds(replace(f, category="", situation=""))
    page = max(1, f.base.page)
    with db.read() as s:
        filtered = s.scalar(select(func.count()).select_from(
            select(Transmission.id).where(*base).limit(TEST_ROWS + 1).subquery())) if base else TEST_ROWS + 1
        if filtered is not None and filtered <= TEST_ROWS:  # a narrow filter: test each of its rows
            tests = [t for _, t in sets]
            ids = list(s.scalars(select(Transmission.id).where(*base, *tests).order_by(*_ORDER)))
            return _paged(s, ids, len(ids), page, complete=True)
        driver, sizes = 0, [[0]]
        if len(sets) > 1:  # the set with the fewest rows drives (counts capped: only the order matters)
            sizes = [[st.count(s, COUNT_CAP) for st in streams] for streams, _ in sets]
            driver = min(range(len(sets)), key=lambda i: (COUNT_CAP in sizes[i], sum(sizes[i])))
        streams = sets[driver][0]
        others = [i for i in range(len(sets)) if i != driver]
        pair = sorted((i for i in others if i < len(words)), key=lambda i: sum(sizes[i]))
        if driver < len(words) and pair:
            # two words (the two with the fewest rows): the driver's matches split by how the other word
            # matches, so that no candidate needs an FTS5 probe per row (see _pair_streams)
            streams = _pair_streams(s, words[driver], words[pair[0]])
            others.remove(pair[0])
        conds = base + [sets[i][1] for i in others]
        lone = not words and len(sets) == 1 and not base  # one category or status alone: counted exactly
        if lone:
            total = _lone_count(s, *(("category", f.category) if f.category else ("status", f.situation)))
            page = min(page, max(1, -(-total // PAGE_SIZE)))
            rows = EXACT_ROWS + 1 if total > EXACT_ROWS else 0
        else:
            rows = sum(st.count(s, EXACT_ROWS + 1) for st in streams)  # only "few or many" matters
        w = walk(s, streams, conds, page * PAGE_SIZE + 1, exhaustive=rows <= EXACT_ROWS)
        if w.complete:
            return _paged(s, w.ids, w.passed, page, complete=True)
        if not lone:
            total = max(w.estimate(s), len(w.ids))
        return _paged(s, w.ids[(page - 1) * PAGE_SIZE:], total, page, complete=lone)


def _word_streams(word: str, present: list[str], terms: bool) -> list[Stream]:
    streams = [Stream(term=stem(word))] if terms else []
    return [*streams, Stream(match=_fts_any(present))] if present else streams


def _word_test(word: str, present: list[str], terms: bool) -> ColumnElement[bool]:
    """Per row: the word in the current transcript (one of its present forms) or in the report terms."""
    tests = []
    if terms:  # first: a seek in an index, cheaper than an FTS5 probe
        tests.append(_term_exists(stem(word)))
    if present:
        tr = aliased(TranscriptRow)  # the FTS5 stream's query joins transcripts itself
        tests.append(exists().where(tr.transmission_id == Transmission.id, tr.current,
                                    exists().where(_fts_any(present), _fts.c.rowid == tr.id)))
    return or_(*tests)


def _pair_streams(s: Session, d: tuple[str, list[str], bool], o: tuple[str, list[str], bool]) -> list[Stream]:
    """Streams for "word d and word o", d the one with fewer rows. A transmission has both when (d in
    its text or d in its report terms) and (o in its text or o in its report terms): one stream per
    combination, each tested with a seek in ``report_terms`` at most. Text with both words is one
    FTS5 query. Report terms of d with o only in the text: from o's text tested for d's terms, or, when
    o's text is far larger, from d's terms with an FTS5 probe for o per row."""
    both = "(" + " OR ".join(f'"{w}"' for w in d[1]) + ") AND (" + " OR ".join(f'"{w}"' for w in o[1]) + ")"
    streams = []
    if d[1] and o[1]:
        streams.append(Stream(match=_fts.c.text.op("MATCH")(both)))
    if d[1] and o[2]:
        streams.append(Stream(match=_fts_any(d[1]), require_term=stem(o[0])))
    if d[2] and o[2]:
        streams.append(Stream(term=stem(d[0]), require_term=stem(o[0])))
    if d[2] and o[1]:
        by_text = Stream(match=_fts_any(o[1]), require_term=stem(d[0]))
        by_terms = Stream(term=stem(d[0]), extra=[_word_test(o[0], o[1], False)])
        # a seek costs about a tenth of an FTS5 probe
        cheaper = by_text.count(s, COUNT_CAP) <= 10 * by_terms.count(s, COUNT_CAP // 10)
        streams.append(by_text if cheaper else by_terms)
    return streams


def _paged(s: Session, ids: list[int], total: int, page: int, complete: bool) -> LogPage:
    """A page from every matching id in log order (``complete``: ``total`` exact, ``ids`` all of them)
    or from this page's ids and one more (``total`` an estimate)."""
    if complete and len(ids) == total:
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages)
        ids = ids[(page - 1) * PAGE_SIZE:]
    has_more = len(ids) > PAGE_SIZE
    ids = ids[:PAGE_SIZE]
    pages = max(1, -(-total // PAGE_SIZE), page + has_more)
    loaded = load_rows(s, ids)
    return LogPage(rows=[loaded[i] for i in ids], total=total, page=page, pages=pages,
                   approximate=not complete, has_more=has_more)


def _hit(present: list[str], word: str, terms: bool) -> ColumnElement[bool]:
    """SQLite: the word's present forms in current transcripts, or its report terms."""
    parts: list[ColumnElement[bool]] = []
    if present:
        match = _fts.c.text.op("MATCH")(" OR ".join(f'"{w}"' for w in present))
        parts.append(Transmission.id.in_(select(TranscriptRow.transmission_id).where(
            TranscriptRow.current, TranscriptRow.id.in_(select(_fts.c.rowid).where(match)))))
    if terms:
        parts.append(Transmission.id.in_(_term_ids(None, [stem(word)])))
    return or_(*parts)


def parse_filter(qp: Any, base: LogFilter) -> Filter:
    """The log's own filters from the query string; unknown values are ignored (no filter)."""
    from gateway.report.build import CATEGORY_ID

    category = qp.get("kategori", "")
    situation = qp.get("situasi", "")
    return Filter(base=base, category=category if category in CATEGORY_ID else "",
                  situation=situation if situation in SITUATIONS else "",
                  unverified=qp.get("belum") == "1", listen=qp.get("dengar") == "1")


__all__ = ["Filter", "parse_filter", "search_page"]
