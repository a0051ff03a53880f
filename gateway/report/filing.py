"""Filing the daily report: immutable revisions, late reports and corrections, follow-ups.

``file_due(db, cfg, now)`` is the whole policy, with the clock passed in (tests inject it; the
scheduler passes the real time):

- at ``report.file_at`` on day D, revision 1 of D's report is filed (``scheduled``);
- afterwards, for D and the ``report.recheck_days`` days before it, whenever what the report says
  changes — a station reported late, an operator corrected a transcript or an identity — a new
  revision is filed (``late_report`` when a station moved from missing to reported, else
  ``correction``); filed revisions are never changed and all are kept;
- nothing is filed twice: a revision is written only if its content hash differs from the last one,
  checked in the transaction that inserts it, under the unique (day, revision) constraint, so
  restarts, repeated runs, a missed cutoff (filed at the next start) and two filers at the same
  instant (threads or processes) are all safe;
- with ``report.email.to`` set, the revision's mail delivery is queued in that same transaction
  (gateway.report.delivery).

Each filing also opens follow-ups for the needs the report names (one per transmission and item).
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from gateway.config import Config, parse_hhmm
from gateway.faults import fault_point
from gateway.report.build import build_report
from gateway.report.delivery import enqueue
from gateway.report.document import Report, as_report
from gateway.report.model import FOLLOWUP_STATUSES
from gateway.report.terms import store_terms
from gateway.store.db import Database
from gateway.store.models import FollowUp, ReportRevision, utcnow

log = logging.getLogger(__name__)


def latest_revision(db: Database, day: date) -> ReportRevision | None:
    with db.read() as s:
        return s.scalar(select(ReportRevision).where(ReportRevision.day == day)
                        .order_by(ReportRevision.revision.desc()).limit(1))


def revisions(db: Database, day: date) -> list[ReportRevision]:
    with db.read() as s:
        return list(s.scalars(select(ReportRevision).where(ReportRevision.day == day)
                              .order_by(ReportRevision.revision)))


def file_report(db: Database, cfg: Config, day: date, now: datetime, reason: str | None = None,
                force: bool = False) -> ReportRevision | None:
    """File a new revision of ``day``'s report if its content changed (or ``force``); else None.

    The report is built outside the write lock (it is the CPU-heavy part); the comparison with the
    last revision and the insert are one short transaction. Two filers at the same instant -- two
    threads, or two processes on the same database -- may both pick the next number; the unique
    (day, revision) constraint rejects the second, which starts over, now sees the first one's
    revision with the same content, and files nothing. SQLite's "database is locked" (a writer in
    another process) is retried the same way."""
    report = build_report(db, day, cfg, now, backfill=True)
    for attempt in range(_ATTEMPTS):
        try:
            rev = _insert_revision(db, cfg, day, now, report, reason, force)
        except (IntegrityError, OperationalError) as e:
            if isinstance(e, OperationalError) and "locked" not in str(e.orig):
                raise
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
            continue
        if rev is not None:
            log.info("report %s revision %d filed (%s)", day, rev.revision, rev.reason)
        return rev
    raise AssertionError("unreachable")  # pragma: no cover


_ATTEMPTS = 8


def _insert_revision(db: Database, cfg: Config, day: date, now: datetime, report: Report,
                     reason: str | None, force: bool) -> ReportRevision | None:
    with db.write() as s:
        last = s.scalar(select(ReportRevision).where(ReportRevision.day == day)
                        .order_by(ReportRevision.revision.desc()).limit(1))
        if last is not None and last.content_sha256 == report.content_sha256 and not force:
            return None
        if reason is None:
            reason = "scheduled" if last is None else _why(as_report(last.content), report)
        number = (last.revision if last is not None else 0) + 1
        content = report.filed(number, now.astimezone(cfg.tz).isoformat(timespec="seconds"), reason)
        rev = ReportRevision(day=day, revision=number, filed_at=now, reason=reason, content=content.to_json(),
                             content_sha256=report.content_sha256 or content.content_hash())
        s.add(rev)
        s.flush()  # the unique (day, revision) constraint speaks here, or at the commit
        _open_followups(s, day, content, now)
        store_terms(s, day, content)  # what it read, searchable in the log (gateway/report/terms.py)
        if cfg.report.email.to:
            enqueue(s, rev.id)
        fault_point("report_filing")  # tests: a kill here must leave no half-filed revision
    return rev


def _why(before: Report, after: Report) -> str:
    """late_report when a report transmission is new since the last revision (even one after the
    cutoff); otherwise what changed was read or assigned differently: a correction."""
    return "late_report" if after.heard() - before.heard() else "correction"


def _open_followups(s: Session, day: date, report: Report, now: datetime) -> None:
    existing: set[tuple[int | None, str]] = {
        (f.transmission_id, f.item) for f in s.scalars(select(FollowUp).where(FollowUp.day == day))}
    by_tx_category: dict[int | None, str] = {}
    for inc in report.incidents:
        by_tx_category.setdefault(inc.transmission_id, inc.category)
    for need in report.needs:
        key = (need.transmission_id, need.item)
        if key in existing:
            continue
        existing.add(key)
        s.add(FollowUp(day=day, station=need.station, category=by_tx_category.get(need.transmission_id),
                       item=need.item, phrase=need.phrase, transmission_id=need.transmission_id,
                       status="baru", created_at=now, updated_at=now))


def file_due(db: Database, cfg: Config, now: datetime) -> list[ReportRevision]:
    """Everything the policy says is due at ``now`` (see the module docstring)."""
    local = now.astimezone(cfg.tz)
    cutoff = parse_hhmm(cfg.report.file_at)
    filed = []
    for back in range(cfg.report.recheck_days, -1, -1):
        day = local.date() - timedelta(days=back)
        if back == 0 and local.time() < cutoff:
            continue
        if back > 0 and latest_revision(db, day) is None:
            continue  # days before the gateway ran, or before this feature: not filed after the fact
        rev = file_report(db, cfg, day, now)
        if rev is not None:
            filed.append(rev)
    return filed


def set_followup(db: Database, followup_id: int, status: str | None = None, opd: str | None = None,
                 cfg: Config | None = None) -> FollowUp:
    if status is not None and status not in FOLLOWUP_STATUSES:
        raise ValueError(f"status {status!r}: expected baru, diproses or selesai")
    if opd is not None and cfg is not None and cfg.report.opd and opd not in cfg.report.opd:
        raise ValueError(f"opd {opd!r} is not in report.opd ({', '.join(cfg.report.opd)})")
    with db.write() as s:
        f = s.get(FollowUp, followup_id)
        if f is None:
            raise ValueError(f"follow-up {followup_id} does not exist")
        if status is not None:
            f.status = status
        if opd is not None:
            f.opd = opd
        f.updated_at = utcnow()
        s.flush()
        s.expunge(f)
    return f
