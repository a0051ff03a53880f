"""Filed daily reports and open follow-ups."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import (
    select,
)

from gateway.store.db import Database
from gateway.store.models import FollowUp, ReportRevision

log = logging.getLogger(__name__)


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
