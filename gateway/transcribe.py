"""Transcription stage: streams each live transmission to the recogniser on a worker thread.

The pipeline thread only enqueues (``put`` on an unbounded queue, with the queued audio counted): it
never waits for the recogniser. While less than ``asr.queue_s`` of audio is queued, a transmission is
recognised as it is heard, so its transcript is ready right after the squelch closes. Beyond that the
transmission is *deferred*: its live stream is dropped and it is transcribed from its recording once
the recogniser has caught up. Nothing is lost either way.

Pending work lives in the database, not in memory: a complete transmission with no current transcript
is pending. The worker picks those up whenever it is idle — after a restart, after a deferral, or
after ``asr.engine`` was first configured. A failure is stored as a ``failed`` transcript on that
transmission (retry with ``ht-gateway transcribe --failed``) and the worker goes on.

No silent loss of speech: a transmission with speech energy (:func:`has_speech_energy`; never a
kerchunk or a stuck squelch) whose transcript comes back without words, or with far too few for its
speech (:func:`gateway.transcripts.too_few_words`), is transcribed once more with the recogniser's
voice-activity and no-speech filters off (``Recognizer.start(unfiltered=True)``).
If that is still empty or that sparse, or its mean word confidence is below :data:`LISTEN_CONFIDENCE`, the
transmission is flagged ``needs_listening`` ("perlu didengar") in the same transaction as the
transcript; a later transcript with confident words clears the flag.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from gateway.asr.base import Recognizer, RecognizerStream
from gateway.asr.priority import lower_this_thread
from gateway.audio.dsp import Resampler
from gateway.jobs import Claims, given_up, holder_name, pending_conds
from gateway.logutil import RateLimitedLog
from gateway.recovery import STORE_ERRORS
from gateway.segmenter import TxInfo
from gateway.store.db import Database
from gateway.store.models import DEFAULT_GATEWAY_ID, Transmission
from gateway.transcripts import (  # re-exported: they lived here before gateway/transcripts.py
    LISTEN_CONFIDENCE,
    SPEECH_DBFS,
    SPEECH_MIN_S,
    AfterStore,
    Check,
    Prepare,
    _one_line,
    check_stored,
    has_speech_energy,
    needs_listening,
    pending_query,
    retry_if_empty,
    store_transcript,
    transcribe_file,
)

log = logging.getLogger(__name__)

STORE_RETRY_S = 2.0  # the database is away: catch-up tries again this often

__all__ = ["LISTEN_CONFIDENCE", "SPEECH_DBFS", "SPEECH_MIN_S", "AfterStore", "Prepare",
           "TranscriptionStage", "has_speech_energy", "needs_listening", "pending_query",
           "retry_if_empty", "store_transcript", "transcribe_file"]


@dataclass
class _Live:
    tx_id: int  # claimed at the open (gateway/jobs.py)
    stream: RecognizerStream | None
    resampler: Resampler
    started: float
    noise: bool = False  # kerchunk or stuck: never retried
    error: str | None = None
    audio: list[np.ndarray] = field(default_factory=list)  # what was fed, kept for the retry


class TranscriptionStage:
    """A TransmissionSink listener with its own worker thread (see the module docstring)."""

    def __init__(self, recognizer: Recognizer, db: Database, data_dir: Path, in_rate: int = 16000,
                 queue_s: float = 120.0, prompt_words: tuple[str, ...] = (),
                 after_store: AfterStore | None = None, prepare: Prepare | None = None,
                 nice: int = 0, claims: Claims | None = None, max_attempts: int = 3,
                 check: Check | None = None) -> None:
        self.recognizer, self.db, self.data_dir = recognizer, db, data_dir
        # every job, live or from a recording, is claimed first: a worker never does it twice
        self.claims = claims or Claims(db, holder_name(DEFAULT_GATEWAY_ID, "daemon"), 60.0)
        self.max_attempts = max_attempts
        self.after_store, self.prepare, self.check = after_store, prepare, check
        self.nice = nice  # asr.nice: this worker runs below the pipeline (gateway/asr/priority.py)
        self.in_rate, self.queue_s, self.prompt_words = in_rate, queue_s, prompt_words
        self._q: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._queued = 0.0
        self._lock = threading.Lock()
        self._deferred: set[str] = set()  # pipeline thread's view
        self._live: dict[str, _Live] = {}  # worker thread only
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self._defer_log = RateLimitedLog(log, 60.0)
        self._store_log = RateLimitedLog(log, 60.0)  # a database outage: a line a minute, not one each
        self.done = 0  # transcripts stored by this stage
        self.restarts = 0  # times the worker loop died and was started again
        self._current: int | None = None  # the transmission being caught up (worker thread)
        self._skip: set[int] = set()  # whose catch-up failed and could not even store the failure

    # -- pipeline thread: enqueue only ----------------------------------------------------------
    def on_open(self, tx: TxInfo) -> None:
        self._put(("open", tx.uid), 0.0)

    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None:
        if tx.uid in self._deferred:
            return
        secs = len(samples) / self.in_rate
        with self._lock:
            over = self._queued + secs > self.queue_s
        if over:
            self._deferred.add(tx.uid)
            self._defer_log.warning("recogniser %.0f s behind: transmission left for transcription "
                                    "from its recording", self._queued)
            self._put(("defer", tx.uid), 0.0)
        else:
            self._put(("audio", tx.uid, samples), secs)

    def on_close(self, tx: TxInfo) -> None:
        self._deferred.discard(tx.uid)
        self._put(("close", tx.uid, time.monotonic(), tx.kerchunk or tx.stuck), 0.0)

    def _put(self, msg: tuple[Any, ...], secs: float) -> None:
        with self._lock:
            self._queued += secs
        self._q.put(msg)
        self._idle.clear()  # after the put: a worker that just went idle cannot hide this message

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> TranscriptionStage:
        self.claims.start()
        self._thread = threading.Thread(target=self._run, name="transcription", daemon=True)
        self._thread.start()
        return self

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until the queue is empty and nothing is pending in the database."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.claims.stop(release=self._thread is None or not self._thread.is_alive())

    # -- worker thread --------------------------------------------------------------------------
    def _run(self) -> None:
        """The worker, supervised: an exception that escapes the loop is logged with its traceback,
        counted in ``restarts``, and the loop starts again after a short back-off (capped)."""
        lower_this_thread(self.nice)
        delay = 0.5
        while not self._stop.is_set():
            try:
                self._loop()
                return
            except Exception:  # the worker must never die silently
                self.restarts += 1
                log.exception("transcription worker failed (restart %d in %.1f s)", self.restarts, delay)
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, 30.0)

    def _loop(self) -> None:
        maybe_pending, last_scan = True, time.monotonic()
        while not self._stop.is_set():
            try:
                msg = self._q.get(timeout=0.2 if not maybe_pending else 0.0)
            except queue.Empty:
                if time.monotonic() - last_scan > 60:
                    maybe_pending = True
                if maybe_pending:
                    maybe_pending = self._catch_up_guarded()
                    last_scan = time.monotonic()
                if not maybe_pending and self._q.empty() and not self._live:
                    self._idle.set()
                continue
            if msg[0] in ("defer", "close"):
                maybe_pending = True
            try:
                self._handle(msg)
            except Exception:  # the worker must survive anything
                log.exception("transcription worker: unexpected error on %s", msg[0])

    def _catch_up_guarded(self) -> bool:
        """:meth:`_catch_up_one`, with a fault stored on the transmission it was working on (so the
        worker goes on to the next one instead of retrying this one for ever)."""
        self._current = None
        try:
            return self._catch_up_one()
        except STORE_ERRORS as e:  # the database is away: nothing to store a failure in; wait, retry
            if self._current is not None:
                self.claims.forget(self._current)  # the lease runs out; claimed again later
            self._store_log.warning("transcription: database error (%s); retrying every %g s",
                                    _one_line(e), STORE_RETRY_S)
            self._stop.wait(STORE_RETRY_S)
            return True
        except Exception as e:
            tx_id = self._current
            log.exception("transmission %s: transcription from the recording failed", tx_id)
            if tx_id is None:
                raise  # not about one transmission (the database?): restart the worker
            self._skip.add(tx_id)
            try:
                store_transcript(self.db, tx_id, self.recognizer, None, "file", error=_one_line(e),
                                 claims=self.claims)
            except Exception:
                self.claims.forget(tx_id)  # not renewed: the lease runs out, another may try it
                raise
            return True

    @property
    def queued_s(self) -> float:
        """Seconds of live audio waiting for the recogniser."""
        with self._lock:
            return max(0.0, self._queued)

    def pending_count(self, limit: int = 100_000) -> int:
        """Transcription jobs not done yet, here or by any worker (capped at ``limit``): the rows
        marked pending (gateway/jobs.py), counted in their partial index."""
        from sqlalchemy import func

        q = select(Transmission.id).where(*pending_conds()).limit(limit)
        with self.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(q.subquery())) or 0)

    def _handle(self, msg: tuple[Any, ...]) -> None:
        kind, uid = msg[0], msg[1]
        job: _Live | None
        if kind == "open":
            try:
                tx_id = self.claims.take(uid)
            except STORE_ERRORS as e:
                self._store_log.warning("transmission %s: not claimed for live transcription (%s); it "
                                        "is transcribed from its recording", uid[:8], _one_line(e))
                return
            if tx_id is None:  # held elsewhere (or no row yet): transcribed from its recording
                return
            job = _Live(tx_id, None, Resampler(self.in_rate, self.recognizer.rate), time.monotonic())
            try:
                job.stream = self.recognizer.start(self.prompt_words)
            except Exception as e:
                job.error = _one_line(e)
            self._live[uid] = job
        elif kind == "audio":
            samples = msg[2]
            with self._lock:
                self._queued -= len(samples) / self.in_rate
            job = self._live.get(uid)
            if job is not None and job.stream is not None and job.error is None:
                try:
                    block = job.resampler.process(samples)
                    job.audio.append(block)
                    job.stream.accept(block)
                except Exception as e:
                    job.error = _one_line(e)
        elif kind == "defer":
            job = self._live.pop(uid, None)
            if job is not None:
                self.claims.release(job.tx_id)  # for whoever gets to its recording first
        elif kind == "close":
            job = self._live.pop(uid, None)
            if job is not None:
                job.noise = bool(msg[3]) if len(msg) > 3 else False
                self._finish_live(uid, job, closed_at=msg[2])

    def _finish_live(self, uid: str, job: _Live, closed_at: float) -> None:
        result, listen = None, False
        if job.error is None and job.stream is not None:
            try:
                block = job.resampler.process(np.zeros(0, np.float32), last=True)
                job.audio.append(block)
                job.stream.accept(block)
                result = job.stream.finish()
                if not job.noise:
                    audio = np.concatenate(job.audio) if job.audio else np.zeros(0, np.float32)
                    result, listen = retry_if_empty(self.recognizer, audio, result, self.prompt_words)
            except Exception as e:
                job.error = _one_line(e)
        tx_id = job.tx_id
        if job.error:
            log.error("transmission %d: transcription failed: %s", tx_id, job.error)
        now = time.monotonic()
        try:
            stored = store_transcript(self.db, tx_id, self.recognizer, result, "live", error=job.error,
                                      latency_s=round(now - closed_at, 3),
                                      processing_s=round(now - job.started, 3), after=self.after_store,
                                      listen=listen, prepare=self.prepare, claims=self.claims)
        except STORE_ERRORS as e:  # the database is away: the lease runs out, the recording is
            self.claims.forget(tx_id)  # transcribed once it is back
            self._store_log.warning("transmission %d: transcript not stored (%s); it is transcribed "
                                    "from its recording later", tx_id, _one_line(e))
            return
        except Exception:
            self.claims.forget(tx_id)  # the lease runs out; the recording is transcribed later
            raise
        self.done += stored
        if stored and result is not None and self.check is not None and not job.noise:
            audio = np.concatenate(job.audio) if job.audio else np.zeros(0, np.float32)
            check_stored(self.db, tx_id, self.recognizer, audio, result, self.check, self.after_store)

    def _catch_up_one(self) -> bool:
        """Claim the first pending job and transcribe it from its file; False when none is left."""
        job = self.claims.next(skip_ids=self._skip)
        if job is None:
            return False
        self._current = job.tx_id
        reason = given_up(job, self.max_attempts)
        if reason is not None:
            log.error("transmission %d: %s", job.tx_id, reason)
            store_transcript(self.db, job.tx_id, self.recognizer, None, "file", error=reason,
                             claims=self.claims)
        elif transcribe_file(self.db, self.data_dir, job.tx_id, self.recognizer, self.prompt_words,
                             after=self.after_store, prepare=self.prepare, claims=self.claims,
                             check=self.check):
            self.done += 1
        return True
