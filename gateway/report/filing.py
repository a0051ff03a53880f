"""Filing the daily report: immutable revisions, late reports and corrections, follow-ups.

``file_due(db, cfg, now)`` is the whole policy, with the clock passed in (tests inject it; the
scheduler passes the real time):

- at ``report.file_at`` on day D, revision 1 of D's report is filed (``scheduled``);
- afterwards, for D and the ``report.recheck_days`` days before it, whenever what the report says
  changes — a station reported late, an operator corrected a transcript or an identity — a new
  revision is filed (``late_report`` when a station moved from missing to reported, else
  ``correction``); filed revisions are never changed and all are kept;
- nothing is filed twice: a revision is written only if its content hash differs from the last one,
  so restarts, repeated runs and a missed cutoff (filed at the next start) are all safe.

Each filing also opens follow-ups for the needs the report names (one per transmission and item).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from gateway.config import Config, parse_hhmm
from gateway.faults import fault_point
from gateway.report.build import build_report
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
    """File a new revision of ``day``'s report if its content changed (or ``force``); else None."""
    report = build_report(db, day, cfg, now)
    last = latest_revision(db, day)
    if last is not None and last.content_sha256 == report["content_sha256"] and not force:
        return None
    if reason is None:
        reason = "scheduled" if last is None else _why(last.content, report)
    with db.write() as s:
        number = (s.scalar(select(func.max(ReportRevision.revision)).where(ReportRevision.day == day))
                  or 0) + 1
        report.update(revision=number, filed_at=now.astimezone(cfg.tz).isoformat(timespec="seconds"),
                      reason=reason)
        rev = ReportRevision(day=day, revision=number, filed_at=now, reason=reason, content=report,
                             content_sha256=report["content_sha256"])
        s.add(rev)
        _open_followups(s, day, report, now)
        fault_point("report_filing")
    log.info("report %s revision %d filed (%s)", day, number, reason)
    return rev


def _why(before: dict[str, Any], after: dict[str, Any]) -> str:
    """late_report when a report transmission is new since the last revision (even one after the
    cutoff); otherwise what changed was read or assigned differently: a correction."""
    def heard(r: dict[str, Any]) -> set[int]:
        return {t["transmission_id"] for s in r["stations"] for t in s["transmissions"]}

    return "late_report" if heard(after) - heard(before) else "correction"


def _open_followups(s, day: date, report: dict[str, Any], now: datetime) -> None:  # noqa: ANN001
    existing = {(f.transmission_id, f.item) for f in s.scalars(select(FollowUp).where(FollowUp.day == day))}
    by_tx_category: dict[int, str] = {}
    for inc in report["incidents"]:
        by_tx_category.setdefault(inc["transmission_id"], inc["category"])
    for need in report["needs"]:
        key = (need["transmission_id"], need["item"])
        if key in existing:
            continue
        existing.add(key)
        s.add(FollowUp(day=day, station=need["station"], category=by_tx_category.get(need["transmission_id"]),
                       item=need["item"], phrase=need["phrase"], transmission_id=need["transmission_id"],
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
    if status is not None and status not in ("baru", "diproses", "selesai"):
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
