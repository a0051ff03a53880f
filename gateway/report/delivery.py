"""Mail delivery of filed revisions: pending work in the database, retried with back-off.

Filing a revision while ``report.email.to`` is set adds a ``report_deliveries`` row in the same
transaction (:func:`enqueue`), so a crash between filing and mailing loses nothing: the row stays
pending until a send succeeds. :func:`deliver_due` (the daemon's delivery job) sends every pending
delivery whose ``next_attempt_at`` has come -- outside any lock, SMTP time-outs are short (see
gateway.report.mail) -- and stores the outcome: ``delivered_at``, or ``attempts``, ``last_error``
and the next attempt after 1, 2, 4, ... minutes, at most 60 (:func:`backoff_s`).

:func:`states` (one row per revision, for ``ht-gateway report --status``) and :func:`summary` (for a
health view: how many are pending, since when, the last error) read the state.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.store.db import Database
from gateway.store.models import ReportDelivery, ReportRevision, utcnow

log = logging.getLogger(__name__)

RETRY_BASE_S = 60.0
RETRY_MAX_S = 3600.0


@dataclass(frozen=True)
class DeliveryState:
    day: date
    revision: int
    state: str  # "delivered" | "pending"
    attempts: int
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class DeliverySummary:
    """For a health view: nothing pending is healthy; pending with attempts > 0 is failing."""

    pending: int
    failing: int  # pending deliveries that have failed at least once
    oldest_pending_since: datetime | None
    last_error: str | None  # of the most recently attempted pending delivery
    last_delivered_at: datetime | None


def backoff_s(attempts: int, base_s: float = RETRY_BASE_S, max_s: float = RETRY_MAX_S) -> float:
    """Wait after the ``attempts``-th failure: base, 2 base, 4 base, ... capped at ``max_s``."""
    return min(max_s, base_s * 2.0 ** max(0, min(attempts - 1, 30)))


def enqueue(s: Session, revision_id: int) -> None:
    """A pending delivery for a revision just filed (call inside the filing transaction)."""
    now = utcnow()
    s.add(ReportDelivery(revision_id=revision_id, created_at=now, attempts=0, next_attempt_at=now))


def _pdf(data_dir: Path, rev: ReportRevision) -> bytes:
    path = (data_dir / "reports" / rev.day.isoformat()
            / f"laporan-situasi-{rev.day.isoformat()}-r{rev.revision}.pdf")
    if path.exists():  # written by the filing job; the same bytes every time
        return path.read_bytes()
    from gateway.report.render import render

    return render(rev.content, "pdf")


def deliver_due(db: Database, cfg: Config, data_dir: Path, stop: threading.Event | None = None,
                base_s: float = RETRY_BASE_S, max_s: float = RETRY_MAX_S) -> int:
    """Try every pending delivery that is due; return how many were delivered. Never raises for a
    mail failure (it is stored); stops between deliveries when ``stop`` is set."""
    from gateway.report.mail import MailError, send_report

    with db.read() as s:
        due = list(s.execute(
            select(ReportDelivery.id, ReportRevision)
            .join(ReportRevision, ReportRevision.id == ReportDelivery.revision_id)
            .where(ReportDelivery.delivered_at.is_(None), ReportDelivery.next_attempt_at <= utcnow())
            .order_by(ReportDelivery.id)).all())
    delivered = 0
    for delivery_id, rev in due:
        if stop is not None and stop.is_set():
            break
        error = None
        try:
            send_report(cfg.report.email, rev.content, _pdf(data_dir, rev), datetime.now(cfg.tz))
        except MailError as e:
            error = str(e)
        except Exception as e:  # rendering or reading failed: stored, retried
            error = f"{type(e).__name__}: {' '.join(str(e).split())}"
        now = utcnow()
        with db.write() as s:
            d = s.get_one(ReportDelivery, delivery_id)
            d.attempts += 1
            d.last_attempt_at = now
            if error is None:
                d.delivered_at, d.last_error = now, None
                s.execute(update(ReportRevision).where(ReportRevision.id == rev.id).values(emailed_at=now))
            else:
                d.last_error = error
                d.next_attempt_at = now + timedelta(seconds=backoff_s(d.attempts, base_s, max_s))
            attempts, next_at = d.attempts, d.next_attempt_at
        if error is None:
            delivered += 1
        else:
            log.warning("report %s revision %d: mail attempt %d failed, next try at %s: %s", rev.day,
                        rev.revision, attempts, next_at.astimezone(cfg.tz).isoformat(timespec="seconds"),
                        error)
    return delivered


def states(db: Database, day: date | None = None) -> list[DeliveryState]:
    """Every filed revision (of ``day``, or all) with its delivery; never mailed: state "none"."""
    q = (select(ReportRevision.day, ReportRevision.revision, ReportDelivery)
         .outerjoin(ReportDelivery, ReportDelivery.revision_id == ReportRevision.id)
         .order_by(ReportRevision.day, ReportRevision.revision))
    if day is not None:
        q = q.where(ReportRevision.day == day)
    out = []
    with db.read() as s:
        for d_day, number, d in s.execute(q).all():
            if d is None:
                out.append(DeliveryState(d_day, number, "none", 0, None, None, None, None))
                continue
            out.append(DeliveryState(d_day, number, "delivered" if d.delivered_at else "pending",
                                     d.attempts, d.last_error, d.last_attempt_at,
                                     None if d.delivered_at else d.next_attempt_at, d.delivered_at))
    return out


def summary(db: Database) -> DeliverySummary:
    pending = ReportDelivery.delivered_at.is_(None)
    with db.read() as s:
        n, oldest = s.execute(select(func.count(), func.min(ReportDelivery.created_at)).where(pending)).one()
        failing = s.scalar(select(func.count()).where(pending, ReportDelivery.attempts > 0))
        last_error = s.scalar(select(ReportDelivery.last_error).where(pending, ReportDelivery.attempts > 0)
                              .order_by(ReportDelivery.last_attempt_at.desc()).limit(1))
        last_ok = s.scalar(select(func.max(ReportDelivery.delivered_at)))
    return DeliverySummary(n, failing or 0, oldest, last_error, last_ok)


def describe(st: DeliveryState, cfg: Config) -> str:
    """One line for the command line."""
    def local(t: datetime | None) -> str:
        return t.astimezone(cfg.tz).isoformat(timespec="seconds") if t else "-"

    head = f"{st.day} revision {st.revision}: mail "
    if st.state == "none":
        return head + "not sent (report.email.to was empty when it was filed)"
    if st.state == "delivered":
        return head + f"delivered {local(st.delivered_at)} (attempt {st.attempts})"
    tail = f"; last error: {st.last_error}" if st.last_error else ""
    return head + f"pending, {st.attempts} attempt(s), next {local(st.next_attempt_at)}{tail}"
