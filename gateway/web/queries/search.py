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

from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    func,
    literal_column,
    select,
    table,
)

from gateway.store.models import TranscriptRow

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
