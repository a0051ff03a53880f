"""What the pages show, read from the store: one module per page.

- :mod:`.search`: full-text search over *current* transcripts, by ``db.dialect``: SQLite's FTS5
  table ``transcripts_fts`` (migration 0005, kept in sync by triggers), PostgreSQL's
  ``to_tsvector('simple', text) @@ plainto_tsquery('simple', q)`` served by a GIN index. Either way
  every word of the query must occur (prefixes do not match) and punctuation is ignored, so no input
  can form an FTS5 or tsquery expression.
- :mod:`.today` (Hari ini), :mod:`.log` (the log and its search plans), :mod:`.tx` (one
  transmission), :mod:`.reports`, :mod:`.compliance` (the chart).

Which transmission is a report and whether it came on time, late or not at all is decided in one
place, :mod:`gateway.checkins` (``report_conditions``, ``Deadlines.classify``); the pages use it.
"""

from gateway.web.queries.compliance import (
    COMPLIANCE_STATUSES,
    MAX_COMPLIANCE_DAYS,
    ComplianceCell,
    ComplianceRow,
    ComplianceView,
    compliance_view,
    first_reports,
)
from gateway.web.queries.log import LogFilter, LogPage, log_page
from gateway.web.queries.reports import open_followups, report_content, report_days
from gateway.web.queries.search import PAGE_SIZE, query_words, search_clause
from gateway.web.queries.today import StationRow, TodayView, change_marker, today_view
from gateway.web.queries.tx import TxView, tx_view

__all__ = [
    "COMPLIANCE_STATUSES", "MAX_COMPLIANCE_DAYS", "PAGE_SIZE", "ComplianceCell", "ComplianceRow",
    "ComplianceView", "LogFilter", "LogPage", "StationRow", "TodayView", "TxView", "change_marker",
    "compliance_view", "first_reports", "log_page", "open_followups", "query_words", "report_content",
    "report_days", "search_clause", "today_view", "tx_view",
]
