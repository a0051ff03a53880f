"""Newest-first walks over candidate streams (SQLite): a page of the log without collecting every match.

A *stream* hands out candidate transmissions newest first, cheaply, in batches: an FTS5 query by
descending rowid (transcript id), or ``report_terms`` rows of a term by descending transmission id
(index ``ix_report_terms_term (term, transmission_id)``). Neither order is the log's order
(``started_at``), but both follow the single writer's clock: a transcript is made, and a transmission
row written, after the transmission started. So every candidate a stream has not handed out yet
started before the ``created_at`` of the last one it handed out (plus :data:`CLOCK_SLACK` for a clock
stepped back): that is the stream's *bound*. Once the page's transmissions all started after every
unfinished stream's bound, nothing unseen can come before them and the page is exact; the total is
then an estimate ("sekitar N"): the streams' row counts times the share of visited rows that became a
transmission through the filters. A stream with few rows is walked to its end: the count is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, exists, func, literal_column, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import visitors

from gateway.store.models import ReportTerm, TranscriptRow, Transmission
from gateway.web.queries.log import CLOCK_SLACK
from gateway.web.queries.search import _fts

FIRST_BATCH = 64
MAX_BATCH = 4096
#: a stream set with at most this many rows is walked to its end (exact count)
EXACT_ROWS = 3000


def row_test(cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """``cond`` with every column of ``transmissions`` behind a unary plus: tested on the rows a batch of
    ids names, never used to pick an index (without statistics SQLite would rather walk a station's
    60,000 rows in ``(station, started_at)`` than look up 64 ids)."""

    def swap(el: Any) -> Any:
        if getattr(el, "table", None) is Transmission.__table__:
            return literal_column(f"+transmissions.{el.name}", type_=el.type)
        return None

    walked: ColumnElement[bool] = visitors.replacement_traverse(cond, {"stop_on": []}, cast(Any, swap))
    return walked


@dataclass
class Stream:
    """Candidates newest first: FTS5 matches of ``match`` (current transcripts), or transmissions with a
    report term (of ``kind``, if given)."""

    match: ColumnElement[bool] | None = None  # an FTS5 MATCH condition
    term: str = ""
    kind: str | None = None
    below: int | None = None  # the last rowid / transmission id handed out
    bound: datetime | None = None  # unseen candidates started no later than this (None: unknown yet)
    done: bool = False
    visited: int = 0
    batch: int = 0  # rows to read next (0: FIRST_BATCH)
    extra: list[ColumnElement[bool]] = field(default_factory=list)  # this stream's own row conditions
    #: hand out only rows whose transmission has this report term (tested inside the key query: a
    #: stream that finds nothing reads its index in one statement instead of a batch per few thousand)
    require_term: str = ""

    def _key(self) -> Any:
        return _fts.c.rowid if self.match is not None else ReportTerm.transmission_id

    def _where(self) -> list[ColumnElement[bool]]:
        if self.match is not None:
            return [self.match]
        where = [ReportTerm.term == self.term]
        return [*where, ReportTerm.kind == self.kind] if self.kind else where

    def _required(self) -> list[ColumnElement[bool]]:
        if not self.require_term:
            return []
        rt = aliased(ReportTerm)
        if self.match is None:
            return [exists().where(rt.term == self.require_term,
                                   rt.transmission_id == ReportTerm.transmission_id)]
        tr = aliased(TranscriptRow)
        return [exists().where(tr.id == _fts.c.rowid, rt.transmission_id == tr.transmission_id,
                               rt.term == self.require_term)]

    def count(self, s: Session, cap: int | None = None) -> int:
        """Rows in the stream (FTS5: superseded transcripts included), at most ``cap``."""
        inner = select(self._key()).where(*self._where())
        if cap is not None:
            inner = inner.limit(cap)
        return s.scalar(select(func.count()).select_from(inner.subquery())) or 0

    def advance(self, s: Session, conds: list[ColumnElement[bool]], found: dict[int, datetime]) -> None:
        key = self._key()
        newer = [] if self.below is None else [key < self.below]
        n = self.batch or FIRST_BATCH
        keys = list(s.scalars(select(key).where(*self._where(), *newer, *self._required())
                              .order_by(key.desc()).limit(n)))
        conds = [*(row_test(c) for c in self.extra), *conds]  # its own (cheap) tests first
        if len(keys) < n:
            self.done = True
        self.batch = min(n * 2, MAX_BATCH)
        if not keys:
            return
        self.visited += len(keys)
        self.below = keys[-1]
        if self.match is not None:
            rows = s.execute(select(Transmission.started_at, Transmission.id)
                             .join(TranscriptRow, TranscriptRow.transmission_id == Transmission.id)
                             .where(TranscriptRow.id.in_(keys), TranscriptRow.current, *conds)).all()
            made = s.scalar(select(TranscriptRow.created_at).where(TranscriptRow.id == self.below))
        else:
            rows = s.execute(select(Transmission.started_at, Transmission.id)
                             .where(Transmission.id.in_(set(keys)), *conds)).all()
            made = s.scalar(select(Transmission.created_at).where(Transmission.id == self.below))
        found.update((i, at) for at, i in rows)
        # a row without created_at (none is written so) gives no bound: walk on
        self.bound = None if made is None else made + CLOCK_SLACK


@dataclass
class Walk:
    ids: list[int]  # the newest ``need`` (or all, when complete), in log order
    passed: int  # candidates found through the filters
    complete: bool  # every stream was walked to its end: ``passed`` is the exact count
    horizon: datetime | None = None  # every candidate that started after this was visited
    found: dict[int, datetime] = field(default_factory=dict)

    def estimate(self, s: Session) -> int:
        """The total: exact when complete; else the matches in the window after the horizon (all of
        them visited) scaled by the window's share of the log."""
        if self.complete or self.horizon is None:
            return self.passed
        seen = sum(1 for at in self.found.values() if at > self.horizon)
        window = s.scalar(select(func.count()).select_from(Transmission)
                          .where(Transmission.started_at > self.horizon)) or 0
        everything = s.scalar(select(func.max(Transmission.id))) or 0  # count(*) would read every row
        return max(self.passed, round(seen * everything / window)) if window else self.passed


def walk(s: Session, streams: list[Stream], conds: list[ColumnElement[bool]], need: int,
         exhaustive: bool) -> Walk:
    """The newest ``need`` transmissions (log order: started_at, id descending) among the union of the
    streams' candidates that pass ``conds`` (row conditions on ``transmissions``); ``exhaustive``: walk
    every stream to its end."""
    found: dict[int, datetime] = {}
    conds = [row_test(c) for c in conds]
    while True:
        active = [st for st in streams if not st.done]
        if not active:
            break
        if not exhaustive and len(found) >= need:
            cutoff = sorted(found.values(), reverse=True)[need - 1]
            if all(st.bound is not None and cutoff > st.bound for st in active):
                horizon = max(st.bound for st in active if st.bound is not None)
                return Walk(_ordered(found)[:need], len(found), False, horizon, found)
        # the stream that may still hold the newest unseen candidate goes first
        st = max(active, key=lambda x: (x.bound is None, x.bound or datetime.min))
        visited = sum(x.visited for x in streams)
        if visited and len(found) < need:  # as many rows as the share passing so far says are needed
            rate = max(len(found) / visited, 0.002)
            grow = 4 * (st.batch // 2 or FIRST_BATCH)  # at most four times the stream's last batch
            st.batch = max(FIRST_BATCH, min(MAX_BATCH, grow, math.ceil((need - len(found)) / rate * 1.25)))
        st.advance(s, conds, found)
    return Walk(_ordered(found), len(found), True)


def _ordered(found: dict[int, datetime]) -> list[int]:
    return [i for i, _ in sorted(found.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]
