""":class:`TransmissionWriter` is the sink that makes a transmission durable. Its steps, each one
recoverable if the process dies right after it (gateway/recovery.py says how):

1. open: the row is committed in status ``recording`` naming its temporary file, then the file
   ``.NAME.ogg.part`` is created (NAME carries the first sample's time and the uid);
2. audio: written while the transmission is live, an Ogg page flushed every 0.5 s;
3. finish: the file is closed and fsynced, renamed to ``NAME.ogg`` (directory fsynced);
4. commit: the row is completed (``complete``, sha256, the analyzers' findings, identity) in one
   transaction; with ``store.audio_in_db`` it is marked ``audio_push_pending``, and the recording is
   copied into the database afterwards by its own thread (gateway/audiostore.py), never here.

A failed store write (disk full, database locked) is logged once and never stops the pipeline: the
audio goes on to disk and a background reconcile stores it when the database works again.
*Analyzers* (the DTMF decoder) see the audio on the pipeline thread and hand their findings to the
closing transaction, where the transmission is also identified; *listeners* (the recogniser stage)
hear about a transmission after it is committed. A transmission still open when the pipeline is
stopped (SIGTERM) or its input breaks off is closed and flagged ``cut_short``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.audio.source import AudioSource, FileSource
from gateway.config import Config
from gateway.faults import fault_point
from gateway.logutil import RateLimitedLog
from gateway.pending import PendingRows, store_row
from gateway.recorder import LiveRecording, Recorder, RecordingResult
from gateway.recovery import STORE_ERRORS, Reconciler
from gateway.segmenter import EotProbe, TransmissionSink, TxInfo
from gateway.store.db import Database
from gateway.store.models import DEFAULT_CHANNEL_ID, DEFAULT_GATEWAY_ID, Event, TranscriptRow, Transmission

log = logging.getLogger(__name__)

PROCESSING_RATE = 16000
FRAME_S = 0.02
FRAME = int(PROCESSING_RATE * FRAME_S)


def epoch_to_dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


class Analyzer(Protocol):
    """Looks at a transmission's audio on the pipeline thread; its findings are stored at close."""

    def on_open(self, tx: TxInfo) -> None: ...
    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None: ...
    def result(self, tx: TxInfo) -> dict[str, Any]:
        """Column values for the transmission row (e.g. ``{"ani": "101"}``)."""
        ...


Identify = Callable[[Session, Transmission], object]  # what it returns is not used


@dataclass
class _LiveTx:
    row_id: int | None  # None: the open's commit failed (the file carries the uid and start time)
    rec: LiveRecording | None  # None: the file could not be created or written (disk full)
    skip: bool = False  # already stored by an earlier run of the same file and start


def transmission_uid(seed: str, audio_start: float) -> str:
    """A deterministic uid: the same source and first-sample time give the same transmission."""
    return hashlib.sha256(f"{seed}|{round(audio_start * 1000)}".encode()).hexdigest()[:32]


def source_identity(source: AudioSource) -> str | None:
    """What makes a file the same input again: its name (with ``--start``, through the first
    sample's time); None for live sources (random uids). A repaired copy of a truncated file, under
    the same name and start, resumes the earlier run instead of duplicating it."""
    return source.name if isinstance(source, FileSource) else None


class TransmissionWriter:
    """Records each transmission to disk and to the database; fans events out to listeners.

    A store write that fails (disk full, database locked) never stops the pipeline: it is logged
    once, the audio keeps going to disk, and a :class:`gateway.recovery.Reconciler` stores it when
    the database works again. ``uid_seed`` (a file's identity) makes uids deterministic so a second
    ``process`` of the same file and start skips what is stored and records again only what was cut
    short or recovered. ``store_later``: the database was away when the daemon started: record to
    disk only; when it is back, run this (the schema), then recovery over the whole data directory.
    """

    def __init__(self, db: Database, recorder: Recorder, data_dir: Path, source_name: str,
                 listeners: Sequence[TransmissionSink] = (), analyzers: Sequence[Analyzer] = (),
                 identify: Identify | None = None, cfg: Config | None = None,
                 uid_seed: str | None = None, store_later: Callable[[], None] | None = None) -> None:
        self.db, self.recorder, self.data_dir = db, recorder, data_dir
        self.source_name = source_name
        self.listeners = list(listeners)
        self.analyzers = list(analyzers)
        self.identify = identify
        self.uid_seed = uid_seed
        # where it is heard: gateway.id and channel.id, on every row (docs/channels.md)
        self.where = {"gateway_id": cfg.gateway.id if cfg else DEFAULT_GATEWAY_ID,
                      "channel_id": cfg.channel.id if cfg else DEFAULT_CHANNEL_ID}
        # its recording to be copied into the database after the row (gateway/audiostore.py)
        self.audio_in_db = cfg.store.audio_in_db if cfg else False
        self._live: dict[str, _LiveTx] = {}
        self._unsettled: dict[str, tuple[int | None, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._storing = threading.Lock()
        self._cut_short: set[str] = set()
        self.closed: list[int] = []  # ids of transmissions completed by this writer, in order
        self.skipped = 0  # transmissions already stored by an earlier run
        self._dirs: set[Path] = set()  # day folders written to (where a reconcile looks)
        self.reconciler = Reconciler(db, data_dir, cfg, self._not_settled, self.store_unsettled,
                                     self._written_dirs) if cfg is not None else None
        self._fail_log = RateLimitedLog(log, 30.0)
        if store_later is not None and self.reconciler is not None:  # the database was away at start
            self.reconciler.start_later(store_later)
        self.pending = PendingRows(data_dir)  # what the store has not taken, kept on disk too
        self._journaled: set[str] = set()
        self._journal_log = RateLimitedLog(log, 60.0)

    def _rel(self, p: Path) -> str:
        return str(p.relative_to(self.data_dir))

    @property
    def _store_ok(self) -> bool:
        return self.reconciler is None or self.reconciler.healthy.is_set()

    def _store_failed(self, what: str, e: BaseException) -> None:
        why = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        self._fail_log.error("store: %s failed (%s); recording to disk, stored when the database "
                             "works again", what, why)
        if self.reconciler is None:
            raise e
        self.reconciler.failed()

    def _written_dirs(self) -> set[Path]:
        with self._lock:
            return set(self._dirs)

    def _not_settled(self) -> set[str]:
        with self._lock:
            return set(self._live) | set(self._unsettled)

    def on_open(self, tx: TxInfo) -> None:
        if self.uid_seed is not None:
            tx.uid = transmission_uid(self.uid_seed, tx.audio_start)
        temp, final = self.recorder.paths_for(tx.uid, tx.audio_start)
        live = _LiveTx(None, None)
        with self._lock:  # live from here on: a reconcile leaves its row and file alone
            self._live[tx.uid] = live
            self._dirs.add(final.parent)
        row_id: int | None = None
        if self._store_ok:
            try:
                row_id = self._open_row(tx, temp, final)
            except STORE_ERRORS as e:
                self._store_failed(f"transmission at {epoch_to_dt(tx.start).isoformat()}: open", e)
        if row_id == -1:
            log.info("transmission at %s already stored; skipped", epoch_to_dt(tx.start).isoformat())
            self.skipped += 1
            live.skip = True
            return
        live.row_id = row_id
        fault_point("after_open_commit")
        try:
            live.rec = self.recorder.begin(tx.uid, tx.audio_start)
        except (OSError, RuntimeError) as e:
            log.error("recording %s: cannot create the file (%s)", temp.name, e)
        stages: tuple[Analyzer | TransmissionSink, ...] = (*self.analyzers, *self.listeners)
        for stage in stages:
            stage.on_open(tx)

    def _open_row(self, tx: TxInfo, temp: Path, final: Path) -> int:
        """Commit the row in ``recording`` (a new one, or an earlier run's to record again); -1: skip."""
        with self.db.write() as s:
            row = s.scalar(select(Transmission).where(Transmission.uid == tx.uid)) \
                if self.uid_seed is not None else None
            if row is not None and row.status == "complete" and not (row.recovered or row.cut_short):
                return -1
            if row is None:
                row = Transmission(uid=tx.uid, kerchunk=False, stuck=False)
                s.add(row)
            else:  # an earlier run's recovered or cut-short copy: record it again, in place
                s.execute(update(TranscriptRow).where(TranscriptRow.transmission_id == row.id)
                          .values(current=False))
            row.started_at, row.audio_started_at = epoch_to_dt(tx.start), epoch_to_dt(tx.audio_start)
            row.status, row.recovered, row.cut_short = "recording", False, False
            row.temp_path, row.audio_path, row.source = self._rel(temp), self._rel(final), self.source_name
            row.gateway_id, row.channel_id = self.where["gateway_id"], self.where["channel_id"]
            s.flush()
            fault_point("open_commit")
            return row.id

    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None:
        live = self._live[tx.uid]
        if live.skip:
            return
        fault_point("audio")
        if live.rec is not None:
            try:
                live.rec.write(samples)
            except (OSError, RuntimeError) as e:
                log.error("recording %s: write failed (%s); the audio so far is kept",
                          live.rec.temp_path.name, e)
                _close_quietly(live.rec)
                live.rec = None
        stages: tuple[Analyzer | TransmissionSink, ...] = (*self.analyzers, *self.listeners)
        for stage in stages:
            stage.on_audio(tx, samples)

    def eot_seen(self, tx: TxInfo) -> bool:
        """The segmenter asks at a pause (``segmenter.end_at_tail``): did an analyzer hear an
        end-of-transmission signal (a DTMF EOT ANI) at the end of the audio so far?"""
        return any(isinstance(a, EotProbe) and a.eot_seen(tx) for a in self.analyzers)

    def on_close(self, tx: TxInfo) -> None:
        live = self._live[tx.uid]
        if live.skip:
            with self._lock:
                del self._live[tx.uid]
            return
        result = None
        if live.rec is not None:
            try:
                result = live.rec.finish()
            except (OSError, RuntimeError) as e:
                log.error("recording %s: finishing failed (%s); left for recovery",
                          live.rec.temp_path.name, e)
                _close_quietly(live.rec)
        findings: dict[str, Any] = {}
        for analyzer in self.analyzers:
            findings.update(analyzer.result(tx))
        if result is None:  # the .part (if any) and the row are completed by a reconcile
            with self._lock:
                del self._live[tx.uid]
            if self.reconciler is not None:
                self.reconciler.failed()
        else:
            cols = self._columns(tx, result, findings)
            with self._lock:
                self._unsettled[tx.uid] = (live.row_id, cols)
                del self._live[tx.uid]
            if self._store_ok:
                try:  # this one, and any left over from a reconcile that ended just before it
                    self.store_unsettled()
                except STORE_ERRORS as e:
                    self._store_failed(f"transmission at {epoch_to_dt(tx.start).isoformat()}: close", e)
                    self._journal_unsettled()
            elif self.reconciler is not None:
                self.reconciler.failed()
                self._journal_unsettled()
        flags = [*tx.flags, *(["cut short"] if tx.uid in self._cut_short else [])]
        log.info("transmission %s: %s, %.1f s%s", tx.uid[:8], epoch_to_dt(tx.start).isoformat(),
                 tx.duration, f" [{', '.join(flags)}]" if flags else "")
        for sink in self.listeners:
            sink.on_close(tx)

    def _columns(self, tx: TxInfo, result: RecordingResult, findings: dict[str, Any]) -> dict[str, Any]:
        return {
            "uid": tx.uid, "started_at": epoch_to_dt(tx.start),
            "audio_started_at": epoch_to_dt(tx.audio_start),
            "source": self.source_name, "ended_at": epoch_to_dt(tx.end or tx.start),
            "duration_s": round(tx.duration, 3), "kerchunk": tx.kerchunk, "stuck": tx.stuck,
            "cut_short": tx.uid in self._cut_short, "recovered": False,
            "status": "complete", "asr_pending": True,  # its transcription job (gateway/jobs.py)
            "audio_push_pending": self.audio_in_db,  # its copy to the database (gateway/audiostore.py)
            "temp_path": None, "audio_path": self._rel(result.path),
            "sha256": result.sha256, "audio_bytes": result.size,
            "audio_duration_s": round(result.duration_s, 3),
            "peak_dbfs": round(result.peak_dbfs, 2), "rms_dbfs": round(result.rms_dbfs, 2), **self.where,
            **findings,
        }

    def _store(self, uid: str, row_id: int | None, cols: dict[str, Any]) -> None:
        """Complete the row (insert it if its open was never committed) in one transaction; a
        row the replay of the pending file stored meanwhile is not stored again."""
        row_id, _new = store_row(self.db, uid, cols, self.identify, row_id,
                                 in_transaction=lambda: fault_point("close_commit"))
        fault_point("after_commit")
        with self._lock:
            self._unsettled.pop(uid, None)
        self.closed.append(row_id)

    def store_unsettled(self) -> int:
        """Store what failed to commit earlier (called by the reconciler's thread); how many."""
        with self._storing:  # one caller at a time, so nothing is stored (or counted) twice
            with self._lock:
                items = list(self._unsettled.items())
            stored: set[str] = set()
            try:
                for uid, (row_id, cols) in items:
                    self._store(uid, row_id, cols)
                    stored.add(uid)
            finally:
                self._unjournal(stored)
        return len(items)

    def _journal_unsettled(self) -> None:
        """Keep what the store did not take in the data directory too (gateway/pending.py), so that
        a restart during the outage stores it with its live columns, not as an adopted file."""
        with self._lock:
            new = [(uid, cols) for uid, (_row_id, cols) in self._unsettled.items()
                   if uid not in self._journaled]
        for uid, cols in new:
            try:
                self.pending.add(uid, cols)
            except OSError as e:
                self._journal_log.error("store: %s not written (%s); the recording is adopted after a "
                                        "restart", self.pending.path.name, e)
                return
            with self._lock:
                self._journaled.add(uid)

    def _unjournal(self, stored: set[str]) -> None:
        with self._lock:
            gone = stored & self._journaled
        if not gone:
            return
        try:
            self.pending.drop(gone)
        except OSError as e:  # a later replay finds them stored and drops them then
            self._journal_log.error("store: %s not rewritten (%s)", self.pending.path.name, e)
            return
        with self._lock:
            self._journaled -= gone

    def mark_cut_short(self, tx: TxInfo) -> None:
        """The pipeline is stopping while this transmission is open: it ends early."""
        self._cut_short.add(tx.uid)

    def finish(self, timeout: float = 30.0) -> None:
        """End of the run: wait (a while) for a failing store to take what is still in memory; not
        long when all of it is kept in the pending file (the next start stores it from there)."""
        if self.reconciler is None:
            return
        if self._unsettled and self._store_ok:
            try:
                self.store_unsettled()
            except STORE_ERRORS as e:
                self._store_failed("storing the last transmissions", e)
                self._journal_unsettled()
        with self._lock:
            kept = set(self._unsettled) <= self._journaled
        if not self.reconciler.settle(min(timeout, 2.0) if kept else timeout):
            log.error("store: %d transmission(s) are on disk but not in the database yet (%s); the "
                      "next start stores them", len(self._unsettled),
                      f"their rows kept in {self.pending.path.name}" if kept else "their files adopted")
        self.reconciler.stop()

    def alarm(self, kind: str, t: float, message: str) -> None:
        log.error("%s: %s", kind, message) if kind == "stuck_squelch" else log.warning("%s", message)
        try:
            with self.db.write() as s:
                s.add(Event(at=epoch_to_dt(t), kind=kind, message=message,
                            transmission_id=self.closed[-1] if kind == "stuck_squelch" and self.closed
                            else None))
        except STORE_ERRORS as e:
            log.error("store: event %s not stored (%s)", kind, str(e).splitlines()[0][:200])

    def abandon_all(self) -> None:
        """After a fault: close live files as they are; the next start recovers them and their rows."""
        for live in self._live.values():
            if live.rec is not None:
                _close_quietly(live.rec)
        self._live.clear()
        if self.reconciler is not None:
            self.reconciler.stop()


def _close_quietly(rec: LiveRecording) -> None:
    try:
        rec.close_partial()
    except (OSError, RuntimeError) as e:
        log.error("recording %s: close failed (%s)", rec.temp_path.name, e)
