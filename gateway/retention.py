"""Retention: delete old recordings (``retention.audio_days``) and old rows (``retention.rows_days``).

0 keeps for ever (the default). On local day T, a day D is *old* for a limit of N days when
D < T - N, and is purged only when

- its report is filed (a revision of D exists; days with no filed report are never touched), and
  D is outside the filing's recheck window (the configuration refuses a limit <=
  ``report.recheck_days``: the filer re-reads those days, and a report that names a recording, or a
  station's transmissions, would change and be filed again as a "correction");
- for rows, also: none of its transmissions is still being recorded or waiting for transcription,
  and none has a follow-up that is not ``selesai``.

Only this gateway's transmissions (``gateway.id``) are touched: its recordings are the ones in its
data directory; other gateways on the same PostgreSQL purge their own.

**Audio**: the row stays (with its transcript, identity and place in reports, check-ins and
compliance); the file is deleted and ``audio_path`` set empty, which with ``status = complete``
means "deleted by retention" (``Transmission.audio_purged``; the web player says
"dihapus oleh retensi"). **Rows**: the day's transmissions and everything keyed by them
(gateway/dayrows.py) are deleted, their recordings first; the filed report revisions stay.

Order, so that a crash anywhere is harmless: the **files are unlinked first**, then the rows are
changed in one transaction. A crash in between leaves rows that name a file no longer there; the
next run (at daemon start and daily at ``retention.run_at``) selects them again, finds the files
gone (that is fine) and finishes. The other order would leave files no row names, which recovery
(gateway/recovery.py) would *adopt* as new transmissions (older file names carry no uid) and so
resurrect; recovery only reads rows still ``recording``, so a complete row whose file is gone is
never taken for a lost recording.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, delete, func, select, update

from gateway import dayrows
from gateway.config import Config, parse_hhmm
from gateway.logutil import RateLimitedLog
from gateway.recorder import fsync_dir
from gateway.store.db import Database
from gateway.store.models import Event, FollowUp, ReportRevision, Transmission, TransmissionAudio
from gateway.timeutil import day_bounds

log = logging.getLogger(__name__)


@dataclass
class DayOutcome:
    day: date
    kind: str  # audio | rows
    transmissions: int = 0  # purged (audio) or deleted (rows)
    files: int = 0  # recordings deleted
    kept: str = ""  # why the day was left alone ("" when it was purged)


@dataclass
class RetentionResult:
    days: list[DayOutcome] = field(default_factory=list)

    def lines(self, dry_run: bool) -> list[str]:
        verb = "would delete" if dry_run else "deleted"
        out = []
        for d in self.days:
            if d.kept:
                out.append(f"{d.day} {d.kind}: kept ({d.kept})")
            elif d.kind == "audio":
                out.append(f"{d.day} audio: {verb} {d.files} recording(s) of {d.transmissions} "
                           "transmission(s)")
            else:
                out.append(f"{d.day} rows: {verb} {d.transmissions} transmission(s) with their rows "
                           f"and {d.files} recording(s)")
        return out or ["nothing is due"]


def run_retention(db: Database, cfg: Config, data_dir: Path, now: datetime,
                  dry_run: bool = False) -> RetentionResult:
    """Purge what the limits say is due at ``now`` (rows first: a day whose rows go needs no audio pass)."""
    result = RetentionResult()
    today = now.astimezone(cfg.tz).date()
    gone: set[date] = set()  # days whose rows go (a dry run would list them twice otherwise)
    for kind, days in (("rows", cfg.retention.rows_days), ("audio", cfg.retention.audio_days)):
        if days <= 0:
            continue
        limit = today - timedelta(days=days)  # days before this one are old
        for day in _candidate_days(db, cfg, limit, audio=kind == "audio"):
            if day in gone:
                continue
            outcome = DayOutcome(day, kind, kept=_why_kept(db, cfg, day, rows=kind == "rows"))
            if kind == "rows" and not outcome.kept:
                gone.add(day)
            if not outcome.kept:
                (_purge_rows if kind == "rows" else _purge_audio)(db, cfg, data_dir, outcome, dry_run)
            result.days.append(outcome)
    return result


def _mine(cfg: Config) -> list[ColumnElement[bool]]:
    return [Transmission.gateway_id == cfg.gateway.id, Transmission.status == "complete"]


def _candidate_days(db: Database, cfg: Config, limit: date, audio: bool) -> list[date]:
    """Local days before ``limit`` that still hold something to purge, oldest first."""
    lo_limit = day_bounds(limit, cfg.tz)[0]
    conds = [*_mine(cfg), Transmission.started_at < lo_limit]
    if audio:
        conds.append(Transmission.audio_path.is_not(None))
    with db.read() as s:
        first = s.scalar(select(func.min(Transmission.started_at)).where(*conds))
    if first is None:
        return []
    day, out = first.astimezone(cfg.tz).date(), []
    while day < limit:
        lo, hi = day_bounds(day, cfg.tz)
        with db.read() as s:
            if s.scalar(select(Transmission.id).where(*conds, Transmission.started_at >= lo,
                                                      Transmission.started_at < hi).limit(1)) is not None:
                out.append(day)
        day += timedelta(days=1)
    return out


def _why_kept(db: Database, cfg: Config, day: date, rows: bool) -> str:
    lo, hi = day_bounds(day, cfg.tz)
    in_day = [Transmission.started_at >= lo, Transmission.started_at < hi,
              Transmission.gateway_id == cfg.gateway.id]
    with db.read() as s:
        if s.scalar(select(ReportRevision.id).where(ReportRevision.day == day).limit(1)) is None:
            return "its report is not filed"
        if not rows:
            return ""
        if s.scalar(select(Transmission.id).where(*in_day, Transmission.status != "complete").limit(1)):
            return "a transmission is still being recorded"
        if s.scalar(select(Transmission.id).where(*in_day, Transmission.asr_pending).limit(1)):
            return "a transmission waits for transcription"
        if s.scalar(select(FollowUp.id).join(Transmission, FollowUp.transmission_id == Transmission.id)
                    .where(*in_day, FollowUp.status != "selesai").limit(1)):
            return "a follow-up is not done (selesai)"
    return ""


def _unlink(data_dir: Path, rels: list[str]) -> int:
    """Delete the recordings (inside recordings/ only); empty day folders go too. Returns how many
    files were there."""
    root = (data_dir / "recordings").resolve()
    gone, folders = 0, set()
    for rel in rels:
        path = (data_dir / rel).resolve()
        if not path.is_relative_to(root):
            log.warning("retention: %s is outside %s; not deleted", rel, root)
            continue
        try:
            path.unlink()
            gone += 1
        except FileNotFoundError:
            pass  # a run that stopped after deleting it
        folders.add(path.parent)
    for folder in folders:
        if folder.is_dir():
            fsync_dir(folder)
        d = folder
        while d != root and d.is_dir() and not any(d.iterdir()):
            d.rmdir()
            d = d.parent
    return gone


def _purge_audio(db: Database, cfg: Config, data_dir: Path, out: DayOutcome, dry_run: bool) -> None:
    lo, hi = day_bounds(out.day, cfg.tz)
    with db.read() as s:
        rows = s.execute(select(Transmission.id, Transmission.audio_path).where(
            *_mine(cfg), Transmission.started_at >= lo, Transmission.started_at < hi,
            Transmission.audio_path.is_not(None), ~Transmission.asr_pending,
            ~Transmission.audio_push_pending)).all()
    out.transmissions = len(rows)
    if not rows:
        out.kept = "its recordings wait for transcription (or for their copy to the database)"
    if dry_run or not rows:
        out.files = sum((data_dir / r.audio_path).is_file() for r in rows)
        return
    out.files = _unlink(data_dir, [r.audio_path for r in rows])
    with db.write() as s:
        for part in dayrows.chunks([r.id for r in rows]):
            s.execute(update(Transmission).where(Transmission.id.in_(part)).values(audio_path=None))
            # and the office's copies of them (store.audio_in_db, gateway/audiostore.py)
            s.execute(delete(TransmissionAudio).where(TransmissionAudio.transmission_id.in_(part)))
        s.add(Event(at=datetime.now(cfg.tz), kind="retention",
                    message=f"audio of {out.day} deleted: {len(rows)} transmission(s), {out.files} file(s)"))
    log.info("retention: audio of %s deleted (%d transmissions, %d files)", out.day, len(rows), out.files)


def _purge_rows(db: Database, cfg: Config, data_dir: Path, out: DayOutcome, dry_run: bool) -> None:
    lo, hi = day_bounds(out.day, cfg.tz)
    with db.read() as s:
        rows = s.execute(select(Transmission.id, Transmission.audio_path).where(
            *_mine(cfg), Transmission.started_at >= lo, Transmission.started_at < hi)).all()
    out.transmissions = len(rows)
    rels = [r.audio_path for r in rows if r.audio_path]
    if dry_run or not rows:
        out.files = sum((data_dir / rel).is_file() for rel in rels)
        return
    out.files = _unlink(data_dir, rels)
    with db.write() as s:
        conn = s.connection()
        dayrows.delete_transmissions(conn, [r.id for r in rows])
        others = conn.scalar(select(Transmission.id).where(Transmission.started_at >= lo,
                                                           Transmission.started_at < hi).limit(1))
        if others is None:  # the day's own events go with its last transmission
            dayrows.delete_free_events(conn, lo, hi)
        s.add(Event(at=datetime.now(cfg.tz), kind="retention",
                    message=f"rows of {out.day} deleted: {len(rows)} transmission(s), {out.files} file(s)"))
    log.info("retention: rows of %s deleted (%d transmissions, %d files)", out.day, len(rows), out.files)


class RetentionJob:
    """The daemon's daily run: once at start, then every day at ``retention.run_at`` (local time).
    Never raises (a failure is logged, rate-limited, and the next run tries again)."""

    def __init__(self, db: Database, cfg: Config, data_dir: Path,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.db, self.cfg, self.data_dir = db, cfg, data_dir
        self.clock = clock or (lambda: datetime.now(cfg.tz))
        self._fault = RateLimitedLog(log, 3600.0)

    def run_once(self) -> RetentionResult | None:
        try:
            return run_retention(self.db, self.cfg, self.data_dir, self.clock())
        except Exception as e:  # a failing job must not stop the daemon
            self._fault.error("retention failed: %s", e)
            return None

    def seconds_to_next(self) -> float:
        now = self.clock().astimezone(self.cfg.tz)
        hhmm = parse_hhmm(self.cfg.retention.run_at)
        at = datetime.combine(now.date(), hhmm, self.cfg.tz)
        if at <= now:
            at = datetime.combine(now.date() + timedelta(days=1), hhmm, self.cfg.tz)
        return max(1.0, (at - now).total_seconds())

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_once()
            if stop.wait(self.seconds_to_next()):
                return


def enabled(cfg: Config) -> bool:
    return cfg.retention.audio_days > 0 or cfg.retention.rows_days > 0

