"""APScheduler (3.x) jobs that file the daily report; the policy itself is gateway.report.filing.

Two jobs in the configured time zone: at ``report.file_at`` every day, and every
``report.recheck_minutes`` (late reports and corrections make new revisions). Both call the same
``file_due(now)``, which is idempotent, and so is the run at start-up that catches a cutoff missed
while the gateway was down. Each new revision is rendered to ``<data>/reports/`` and, when
``report.email.to`` is set, its PDF is mailed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from gateway.config import Config, parse_hhmm
from gateway.logutil import RateLimitedLog
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
    def __init__(self, db: Database, cfg: Config, data_dir: Path, clock: Clock | None = None) -> None:
        self.db, self.cfg, self.data_dir = db, cfg, data_dir
        self.clock = clock or (lambda: datetime.now(cfg.tz))
        self._scheduler = BackgroundScheduler(timezone=cfg.tz)
        self._fault = RateLimitedLog(log, 600.0)

    def run_once(self) -> list[ReportRevision]:
        """File what is due now, write its files, mail it. Never raises (logged, rate-limited)."""
        try:
            filed = file_due(self.db, self.cfg, self.clock())
        except Exception as e:  # noqa: BLE001 - a failing job must not stop the daemon
            self._fault.error("filing the daily report failed: %s", e)
            return []
        for rev in filed:
            try:
                paths = write_files(self.data_dir, rev)
                if self.cfg.report.email.to:
                    self._mail(rev, paths[-1].read_bytes())
            except Exception as e:  # noqa: BLE001
                self._fault.error("report %s revision %d filed, but delivering it failed: %s",
                                  rev.day, rev.revision, e)
        return filed

    def _mail(self, rev: ReportRevision, pdf: bytes) -> None:
        from sqlalchemy import update

        from gateway.report.mail import send_report

        send_report(self.cfg.report.email, rev.content, pdf, self.clock())
        with self.db.write() as s:  # delivery is noted; the revision's content is not touched
            s.execute(update(ReportRevision).where(ReportRevision.id == rev.id)
                      .values(emailed_at=self.clock()))

    def start(self) -> ReportScheduler:
        at = parse_hhmm(self.cfg.report.file_at)
        self._scheduler.add_job(self.run_once, CronTrigger(hour=at.hour, minute=at.minute,
                                                           timezone=self.cfg.tz),
                                id="file_report", misfire_grace_time=3600, coalesce=True)
        self._scheduler.add_job(self.run_once, IntervalTrigger(minutes=self.cfg.report.recheck_minutes),
                                id="recheck_report", coalesce=True, max_instances=1)
        self._scheduler.start()
        self.run_once()  # a cutoff passed while the gateway was down is filed now
        return self

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
