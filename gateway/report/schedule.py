"""APScheduler (3.x) jobs that file the daily report; the policy itself is gateway.report.filing.

One filing job in the configured time zone, at ``report.file_at`` every day and every
``report.recheck_minutes`` (late reports and corrections make new revisions), first run right after
start (a cutoff missed while the gateway was down). It calls ``file_due(now)``, which is idempotent.
Each new revision is rendered to ``<data>/reports/`` and, when ``report.email.to`` is set, mailed by
the delivery job, which retries until the server accepts it (gateway.report.delivery).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from gateway.config import Config, parse_hhmm
from gateway.logutil import RateLimitedLog
from gateway.report.delivery import RETRY_BASE_S, RETRY_MAX_S, deliver_due
from gateway.report.filing import file_due
from gateway.store.db import Database
from gateway.store.models import ReportRevision

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def write_files(data_dir: Path, rev: ReportRevision) -> list[Path]:
    """The filed revision as JSON, CSV, HTML and PDF under reports/YYYY-MM-DD/ (never overwritten)."""
    from gateway.report.render import render

    folder = data_dir / "reports" / rev.day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in ("json", "csv", "html", "pdf"):
        path = folder / f"laporan-situasi-{rev.day.isoformat()}-r{rev.revision}.{fmt}"
        if not path.exists():
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(render(rev.content, fmt))
            tmp.replace(path)
        out.append(path)
    return out


class ReportScheduler:
    """The daemon's report jobs. :meth:`start` returns at once: everything runs on the scheduler's
    threads, the catch-up filing of a missed cutoff included, so capture and READY never wait for
    filing or for an SMTP server.

    - ``file_report``: ONE job (a cron trigger at ``report.file_at`` OR'ed with an interval trigger
      every ``report.recheck_minutes``, first run at start), ``max_instances=1``: one filer per
      process; across processes the database's unique (day, revision) guard (filing.file_report).
    - ``deliver_report`` (when ``report.email.to`` is set): every ``poll_s``, and at once after a
      filing, sends the pending deliveries that are due (gateway.report.delivery), backing off
      ``retry_base_s``, twice that, ... up to ``retry_max_s`` after each failure.
    """

    def __init__(self, db: Database, cfg: Config, data_dir: Path, clock: Clock | None = None,
                 retry_base_s: float = RETRY_BASE_S, retry_max_s: float = RETRY_MAX_S,
                 poll_s: float = 30.0) -> None:
        self.db, self.cfg, self.data_dir = db, cfg, data_dir
        self.clock = clock or (lambda: datetime.now(cfg.tz))
        self.retry_base_s, self.retry_max_s, self.poll_s = retry_base_s, retry_max_s, poll_s
        self._scheduler = BackgroundScheduler(timezone=cfg.tz)
        self._fault = RateLimitedLog(log, 600.0)
        self._stop = threading.Event()
        self._delivering = threading.Lock()

    def run_once(self) -> list[ReportRevision]:
        """File what is due now and write its files; poke the delivery. Never raises (logged,
        rate-limited)."""
        try:
            filed = file_due(self.db, self.cfg, self.clock())
        except Exception as e:  # a failing job must not stop the daemon
            self._fault.error("filing the daily report failed: %s", _one_line(e))
            return []
        for rev in filed:
            try:
                write_files(self.data_dir, rev)
            except Exception as e:
                self._fault.error("report %s revision %d filed, but writing its files failed: %s",
                                  rev.day, rev.revision, e)
        if filed and self.cfg.report.email.to:
            if self._scheduler.running:
                self._scheduler.modify_job("deliver_report", next_run_time=datetime.now(self.cfg.tz))
            else:
                self.deliver()
        return filed

    def deliver(self) -> int:
        """Send the pending deliveries that are due (one delivery run at a time). Never raises."""
        if not self._delivering.acquire(blocking=False):
            return 0
        try:
            return deliver_due(self.db, self.cfg, self.data_dir, self._stop, self.retry_base_s,
                               self.retry_max_s)
        except Exception as e:  # e.g. the database is gone; the next run tries again
            self._fault.error("delivering the report mail failed: %s", _one_line(e))
            return 0
        finally:
            self._delivering.release()

    def start(self) -> ReportScheduler:
        at = parse_hhmm(self.cfg.report.file_at)
        now = datetime.now(self.cfg.tz)
        trigger = OrTrigger([CronTrigger(hour=at.hour, minute=at.minute, timezone=self.cfg.tz),
                             IntervalTrigger(minutes=self.cfg.report.recheck_minutes)])
        # next_run_time=now: a cutoff passed while the gateway was down is filed at once, in the
        # background
        self._scheduler.add_job(self.run_once, trigger, id="file_report", max_instances=1, coalesce=True,
                                misfire_grace_time=3600, next_run_time=now)
        if self.cfg.report.email.to:
            self._scheduler.add_job(self.deliver, IntervalTrigger(seconds=self.poll_s), id="deliver_report",
                                    max_instances=1, coalesce=True, next_run_time=now)
        self._scheduler.start()
        return self

    def stop(self) -> None:
        """Stop; waits for a running job, which is at most one SMTP exchange (short time-outs)."""
        self._stop.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)


def _one_line(e: BaseException) -> str:
    """The first line of an error (a database driver's carries hints on further lines)."""
    return (str(e).splitlines() or [type(e).__name__])[0][:300]
