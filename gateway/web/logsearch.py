"""The log for listening: filters on what the report read, and search over transcripts *and* extracted
fields with Indonesian affixes.

A query word matches a transmission when its current transcript holds the word or one of its affixed
forms (:func:`gateway.report.terms.forms`: "terendam" also finds "rendam", "direndam", "rendaman"), or
when a filed report read from it an incident category, label word, desa, need or status with the
same stem (table ``report_terms``: "banjir" finds a transmission whose transcript says "banjr" once
the extractor read a flood there). Every word must match. Filters: date, kecamatan (or unknown),
kerchunk, incident category, situation status, unverified transcript, perlu didengar. The radio has
one channel, so there is no channel filter (the schema has no channel).

Plans (SQLite): the transcripts matching each word are counted on the FTS5 index first. Few matches
(rare words): the matching ids are collected and the page is cut from them, with an exact total.
Many (a word in most reports, such as "camat"): the log is walked newest first and each row tested
against the index (an FTS5 lookup by rowid), stopping when the page is full; the total is then an
estimate ("sekitar N"). PostgreSQL answers with its GIN index in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.report.terms import forms, stem
from gateway.report.terms import words as query_words
from gateway.store.db import Database
from gateway.store.models import ReportTerm, TranscriptRow, Transmission
from gateway.web.queries import _ORDER, PAGE_SIZE, LogFilter, LogPage, _filter_conds, _fts

SITUATIONS = ("aman", "waspada", "siaga", "awas")
MAX_WORDS = 6
#: Above this many FTS5 matches for a word, walk the log newest first instead of collecting them.
COLLECT_MAX = 20_000


@dataclass(frozen=True)
class Filter:
    base: LogFilter
    category: str = ""  # an incident category key (gateway.report.build.CATEGORY_ID)
    situation: str = ""  # aman | waspada | siaga | awas
    unverified: bool = False
    listen: bool = False  # perlu didengar


def _term_ids(kind: str | None, terms: list[str]) -> Any:  # noqa: ANN401
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
        conds.append(Transmission.needs_listening.is_(True))
    return conds


def _word_forms(word: str) -> list[str]:
    return [w for w in forms(word) if w.isalnum()][:16]


def _fts_expr(word: str) -> str:
    return " OR ".join(f'"{w}"' for w in _word_forms(word))


def _text_hit(dialect: str, word: str, correlated: bool) -> ColumnElement[bool]:
    """Transmissions whose current transcript has ``word`` or one of its forms."""
    if dialect == "sqlite":
        match = _fts.c.text.op("MATCH")(_fts_expr(word))
        if correlated:  # one FTS5 lookup by rowid per row tested (the walk)
            return exists().where(TranscriptRow.transmission_id == Transmission.id, TranscriptRow.current,
                                  exists().where(match, _fts.c.rowid == TranscriptRow.id))
        inner = select(_fts.c.rowid).where(match)
        return Transmission.id.in_(select(TranscriptRow.transmission_id)
                                   .where(TranscriptRow.current, TranscriptRow.id.in_(inner)))
    if dialect == "postgresql":
        doc = func.to_tsvector(literal_column("'simple'"), TranscriptRow.text)
        tsq = func.to_tsquery(literal_column("'simple'"), " | ".join(_word_forms(word)))
        return Transmission.id.in_(select(TranscriptRow.transmission_id)
                                   .where(TranscriptRow.current, doc.bool_op("@@")(tsq)))
    return Transmission.id.in_(select(TranscriptRow.transmission_id).where(
        TranscriptRow.current, or_(*(func.lower(TranscriptRow.text).contains(w) for w in _word_forms(word)))))


def _word_hit(dialect: str, word: str, correlated: bool) -> ColumnElement[bool]:
    return or_(_text_hit(dialect, word, correlated), Transmission.id.in_(_term_ids(None, [stem(word)])))


def search_page(db: Database, cfg: Config, f: Filter) -> LogPage:
    """One page of the log, newest first, with the total (exact, or "sekitar" on a common word)."""
    conds = _filter_conds(cfg, f.base) + _extra_conds(f)
    page = max(1, f.base.page)
    words = query_words(f.base.q)[:MAX_WORDS]
    with db.read() as s:
        walk = False
        if words and db.dialect == "sqlite":
            counts = [s.scalar(select(func.count()).select_from(_fts)
                               .where(_fts.c.text.op("MATCH")(_fts_expr(w)))) or 0 for w in words]
            walk = min(counts) > COLLECT_MAX
        hits = [_word_hit(db.dialect, w, walk) for w in words]
        if walk:
            ids, total, approximate = _walk(s, conds, hits, page, min(counts))
        else:
            total = s.scalar(select(func.count()).select_from(Transmission).where(*conds, *hits)) or 0
            approximate = False
            pages = max(1, -(-total // PAGE_SIZE))
            page = min(page, pages)
            ids = list(s.scalars(select(Transmission.id).where(*conds, *hits).order_by(*_ORDER)
                                 .limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
        has_more = len(ids) > PAGE_SIZE
        ids = ids[:PAGE_SIZE]
        loaded = {tx.id: (tx, tr) for tx, tr in s.execute(
            select(Transmission, TranscriptRow)
            .outerjoin(TranscriptRow, and_(TranscriptRow.transmission_id == Transmission.id,
                                           TranscriptRow.current))
            .where(Transmission.id.in_(ids)))} if ids else {}
    pages = max(1, -(-total // PAGE_SIZE), page + has_more)
    return LogPage(rows=[loaded[i] for i in ids], total=total, page=page, pages=pages,
                   approximate=approximate, has_more=has_more)


def _walk(s: Session, conds: list[ColumnElement[bool]], hits: list[ColumnElement[bool]], page: int,
          matches: int) -> tuple[list[int], int, bool]:
    offset = (page - 1) * PAGE_SIZE
    ids = list(s.scalars(select(Transmission.id).where(*conds, *hits).order_by(*_ORDER)
                         .limit(PAGE_SIZE + 1).offset(offset)))
    if len(ids) <= PAGE_SIZE:  # the walk reached the end: the total is exact
        return ids, offset + len(ids), False
    return ids, max(matches, offset + len(ids)), True


def parse_filter(qp: Any, base: LogFilter) -> Filter:  # noqa: ANN401
    """The log's own filters from the query string; unknown values are ignored (no filter)."""
    from gateway.report.build import CATEGORY_ID

    category = qp.get("kategori", "")
    situation = qp.get("situasi", "")
    return Filter(base=base, category=category if category in CATEGORY_ID else "",
                  situation=situation if situation in SITUATIONS else "",
                  unverified=qp.get("belum") == "1", listen=qp.get("dengar") == "1")


__all__ = ["Filter", "parse_filter", "search_page"]
