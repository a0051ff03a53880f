"""The log for listening: filters on what the report read, and search over transcripts *and* extracted
fields with Indonesian affixes.

A query word matches a transmission when its current transcript holds the word or one of its affixed
forms (:func:`gateway.report.terms.forms`: "terendam" also finds "rendam", "direndam", "rendaman"), or
when a filed report read from it an incident category, label word, desa, need or status with the
same stem (table ``report_terms``: "banjir" finds a transmission whose transcript says "banjr" once
the extractor read a flood there). Every word must match. Filters: date, kecamatan (or unknown),
kerchunk, incident category, situation status, unverified transcript, perlu didengar. The radio has
one channel, so there is no channel filter (the schema has no channel).

Plans: see :func:`search_page`. PostgreSQL answers with its GIN index in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import ColumnElement, String, bindparam, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.report.terms import forms, stem
from gateway.report.terms import words as query_words
from gateway.store.db import Database
from gateway.store.models import ReportTerm, TranscriptRow, Transmission
from gateway.web.queries.log import _ORDER, LogFilter, LogPage, _filter_conds, load_rows, log_page
from gateway.web.queries.search import PAGE_SIZE, _fts

SITUATIONS = ("aman", "waspada", "siaga", "awas")
MAX_WORDS = 6
#: A result with at least one match in this many transmissions is paged by walking the log newest first.
WALK_SHARE = 1000
# the unary plus keeps SQLite from driving by id
_WALK_ID: ColumnElement[Any] = literal_column("+transmissions.id")


def _walk_form(cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """``cond`` with every ``transmissions.id IN (...)`` tested per row rather than driving the query."""
    from sqlalchemy.sql import visitors

    def swap(el: Any) -> Any:
        if getattr(el, "table", None) is Transmission.__table__ and getattr(el, "name", None) == "id":
            return _WALK_ID
        return None

    walked: ColumnElement[bool] = visitors.replacement_traverse(cond, {"stop_on": []}, cast(Any, swap))
    return walked


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
        conds.append(exists().where(TranscriptRow.transmission_id == Transmission.id, TranscriptRow.current,
                                    TranscriptRow.verified.is_(False), TranscriptRow.origin != "edit"))
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
    return or_(Transmission.id.in_(select(TranscriptRow.transmission_id).where(TranscriptRow.current, text)),
               Transmission.id.in_(_term_ids(None, [stem(word)])))


def _present(s: Session, word: str) -> list[str]:
    """The forms of ``word`` that occur in any transcript (SQLite: one FTS5 probe each, LIMIT 1)."""
    probe = select(_fts.c.rowid).where(_fts.c.text.op("MATCH")(bindparam("form", type_=String))).limit(1)
    return [f for f in _word_forms(word) if s.execute(probe, {"form": f'"{f}"'}).first() is not None]


def _has_terms(s: Session, word: str) -> bool:
    return s.scalar(select(ReportTerm.id).where(ReportTerm.term == stem(word)).limit(1)) is not None


def search_page(db: Database, cfg: Config, f: Filter) -> LogPage:
    """One page of the log, newest first, with the total (exact, or "sekitar" on a common word).

    On SQLite each word's forms are first probed in the FTS5 index (most affixed forms occur
    nowhere): a query whose words each have one form in the transcripts and no report terms, with
    no filter of this module, is exactly the plain search and goes to
    :func:`gateway.web.queries.log_page` (its three plans). Otherwise each word matches the set of
    transmissions with one of its present forms or its report terms; the page walks the log newest
    first testing membership, and the total is counted from the sets (exact)."""
    extra = _extra_conds(f)
    words = query_words(f.base.q)[:MAX_WORDS]
    if db.dialect == "sqlite" and words:
        with db.read() as s:
            present = [_present(s, w) for w in words]
            terms = [_has_terms(s, w) for w in words]
        if any(not p and not t for p, t in zip(present, terms, strict=True)):
            return LogPage(rows=[], total=0, page=1, pages=1)
        if not extra and not any(terms) and all(len(p) == 1 for p in present):
            return log_page(db, cfg, replace(f.base, q=" ".join(p[0] for p in present)))
        hits = [_hit(p, w, t) for p, w, t in zip(present, words, terms, strict=True)]
    else:
        hits = [_word_hit(db.dialect, w) for w in words]
    conds = _filter_conds(cfg, f.base) + extra
    page = max(1, f.base.page)
    with db.read() as s:
        only = [k for k, v in (("category", f.category), ("status", f.situation)) if v]
        if not hits and len(conds) == 1 and len(only) == 1 and not (f.unverified or f.listen):
            # one category or status alone: counted on report_terms' covering index
            total = s.scalar(select(func.count(func.distinct(ReportTerm.transmission_id))).where(
                ReportTerm.kind == only[0], ReportTerm.term == (f.category or f.situation))) or 0
        elif hits and not conds and db.dialect == "sqlite":
            sets = [set(s.scalars(select(Transmission.id).where(h))) for h in hits]
            total = len(set.intersection(*sets))
        else:
            total = s.scalar(select(func.count()).select_from(Transmission).where(*conds, *hits)) or 0
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(page, pages)
        everything = s.scalar(select(func.max(Transmission.id))) or 0
        if db.dialect == "sqlite" and total * WALK_SHARE >= everything:
            # many matches: walk the log newest first, testing each row against the sets (built once),
            # instead of fetching every match by id and sorting them
            conds, hits = [_walk_form(c) for c in conds], [_walk_form(h) for h in hits]
        ids = list(s.scalars(select(Transmission.id).where(*conds, *hits).order_by(*_ORDER)
                             .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
        has_more = len(ids) > PAGE_SIZE
        ids = ids[:PAGE_SIZE]
        loaded = load_rows(s, ids)
    return LogPage(rows=[loaded[i] for i in ids], total=total, page=page, pages=pages, has_more=has_more)


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
