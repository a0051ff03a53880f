"""Recordings reachable from the office: each recording copied into the database (issue 15).

How a central web UI plays any channel's audio, decided (docs/channels.md "Recordings from the
office"): with ``store.audio_in_db`` on, a gateway *pushes* each completed recording's Ogg Opus bytes
(~10 kB a transmission, ~5.6 MB per hour of speech) into the table ``transmission_audio`` of the
shared database, after the transmission's row is committed and in a separate short write:

- never inside the row's commit (a failing push cannot lose or hold up a row) and never on the
  capture or pipeline thread: :class:`AudioPusher` runs on its own thread of the daemon, woken when
  a transmission closes, and also every ``interval_s``;
- the work is pending in the database: the writer and recovery set ``audio_push_pending`` when they
  complete a row (gateway/writer.py, gateway/recovery.py), and the push's transaction clears it, so
  a killed daemon or a database outage pushes later (at the next start, or when the database is
  back) with nothing lost and nothing pushed twice;
- the bytes are read from the final file and checked against the row's sha256 *before* the push;
  a file that is gone or does not match is not pushed: the row is unmarked and an event
  (``audio_not_pushed``) says why;
- readers check again: :func:`database_copy` returns the bytes only when their sha256 equals both
  the copy's and the transmission row's; a copy that does not match is refused
  (:class:`AudioMismatch`), never served or transcribed.

Readers: the web UI (gateway/web/media.py) serves the local file when it is there and its hash
matches, else the database copy; ``ht-gateway worker`` (gateway/transcripts.py) does the same, so a
worker needs no shared directory. Other options were weighed in docs/channels.md: fetching from the
gateway on demand needs every gateway reachable from the office at the moment someone listens (a
site on a mobile link behind NAT is not), and a separate central file store is one more service to
run and back up; PostgreSQL is already there and already backed up.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from gateway.faults import fault_point
from gateway.logutil import RateLimitedLog
from gateway.store.db import Database
from gateway.store.models import Event, Transmission, TransmissionAudio, utcnow

if TYPE_CHECKING:  # readers (the worker, the web UI) do not import the pipeline
    import numpy as np

    from gateway.config import Config
    from gateway.segmenter import TxInfo

log = logging.getLogger(__name__)


class AudioMismatch(ValueError):
    """A recording whose bytes are not the ones the row's sha256 names."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def database_copy(db: Database, tx_id: int) -> bytes | None:
    """The transmission's recording from ``transmission_audio``, its sha256 checked against the
    copy's and the transmission row's; None when there is no copy. Raises :class:`AudioMismatch`
    for a copy whose bytes do not match (changed in the database, or an earlier recording's)."""
    with db.read() as s:
        row = s.execute(select(TransmissionAudio.sha256, TransmissionAudio.data, Transmission.sha256
                               .label("expected"))
                        .join(Transmission, Transmission.id == TransmissionAudio.transmission_id)
                        .where(TransmissionAudio.transmission_id == tx_id)).first()
    if row is None:
        return None
    data = bytes(row.data)
    got = sha256_of(data)
    if got != row.sha256 or (row.expected is not None and got != row.expected):
        raise AudioMismatch(f"transmission {tx_id}: the database copy's sha256 {got[:16]}… does not "
                            f"match the recording's {(row.expected or row.sha256)[:16]}…; refused")
    return data


def read_file_checked(data_dir: Path, audio_path: str | None, sha256: str | None) -> bytes:
    """The recording's bytes from ``data_dir``, checked against the row's sha256 (rows without one:
    unchecked). FileNotFoundError when it is not there, :class:`AudioMismatch` when it differs."""
    if not audio_path:
        raise FileNotFoundError("the transmission has no recording")
    data = (data_dir / audio_path).read_bytes()
    if sha256:
        got = sha256_of(data)
        if got != sha256:
            raise AudioMismatch(f"{audio_path}: sha256 {got[:16]}… does not match the stored "
                                f"{sha256[:16]}… (file changed or damaged); not transcribed")
    return data


def read_recording(db: Database, data_dir: Path, tx_id: int, audio_path: str | None,
                   sha256: str | None) -> bytes:
    """The recording for a reader that may not have the gateway's disk (``ht-gateway worker``): the
    file under ``data_dir`` when it is there and matches, else the database copy (checked). When
    neither will do, the file's error is raised (a bad database copy is named in it)."""
    try:
        return read_file_checked(data_dir, audio_path, sha256)
    except (OSError, AudioMismatch) as e:
        try:
            data = database_copy(db, tx_id)
        except AudioMismatch as bad:
            raise AudioMismatch(f"{e}; {bad}") from None
        if data is None:
            raise
        log.debug("transmission %d: read from the database copy (%s)", tx_id, e)
        return data


@dataclass
class PushResult:
    pushed: int = 0  # copies written
    refused: int = 0  # recordings gone or not matching their row: unmarked, with an event


class AudioPusher:
    """Copies this gateway's completed recordings into ``transmission_audio`` (one short
    transaction each), on its own thread; a listener of the writer, so a closing transmission wakes
    it (its ``on_close`` only sets an event). Pending work lives in the database
    (``audio_push_pending``), so what a killed process or an outage left is pushed by the next pass."""

    def __init__(self, db: Database, data_dir: Path, gateway_id: str, interval_s: float = 30.0,
                 batch: int = 50) -> None:
        self.db, self.data_dir, self.gateway_id = db, data_dir, gateway_id
        self.interval_s, self.batch = interval_s, batch
        self._wake = threading.Event()
        self._errors = RateLimitedLog(log, 60.0)
        self.total = PushResult()

    # -- a listener of the writer (gateway.segmenter.TransmissionSink): wake up, nothing more -------
    def on_open(self, tx: TxInfo) -> None:
        pass

    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None:
        pass

    def on_close(self, tx: TxInfo) -> None:
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    # -- the work --------------------------------------------------------------------------------
    def push_pending(self) -> PushResult:
        """Push everything of this gateway still pending; store errors propagate (retry later)."""
        result = PushResult()
        while True:
            with self.db.read() as s:
                todo = s.execute(select(Transmission.id, Transmission.audio_path, Transmission.sha256)
                                 .where(Transmission.audio_push_pending,
                                        Transmission.gateway_id == self.gateway_id,
                                        Transmission.status == "complete")
                                 .order_by(Transmission.id).limit(self.batch)).all()
            if not todo:
                return result
            for tx_id, rel, sha256 in todo:
                outcome = self._push_one(tx_id, rel, sha256)
                result.pushed += outcome == "pushed"
                result.refused += outcome == "refused"
                self.total.pushed += outcome == "pushed"
                self.total.refused += outcome == "refused"
            if len(todo) < self.batch:
                return result

    def _push_one(self, tx_id: int, rel: str | None, sha256: str | None) -> str:
        """Read and check the file (outside any transaction), then one short write."""
        data: bytes | None = None
        problem = None
        if not rel or not sha256:
            problem = "the row names no recording or no sha256"
        else:
            try:
                data = (self.data_dir / rel).read_bytes()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                problem = f"{rel} is not on this gateway's disk"
            if data is not None and (got := sha256_of(data)) != sha256:
                problem = f"{rel}: sha256 {got[:16]}… does not match the row's {sha256[:16]}…"
                data = None
        with self.db.write() as s:
            row = s.scalar(select(Transmission).where(Transmission.id == tx_id).with_for_update())
            if row is None or not row.audio_push_pending or row.status != "complete" or row.sha256 != sha256:
                return "skipped"  # recorded again in place meanwhile: the next pass takes the new file
            row.audio_push_pending = False
            if data is None:
                s.add(Event(at=utcnow(), kind="audio_not_pushed", transmission_id=tx_id,
                            message=f"recording not copied to the database: {problem}"))
            else:
                assert sha256 is not None  # data is read only for a row with one
                copy = s.get(TransmissionAudio, tx_id)
                if copy is None:
                    s.add(TransmissionAudio(transmission_id=tx_id, sha256=sha256, size=len(data), data=data,
                                            pushed_at=utcnow()))
                else:  # an earlier recording of the same transmission (recorded again in place)
                    copy.sha256, copy.size, copy.data, copy.pushed_at = sha256, len(data), data, utcnow()
            fault_point("audio_push_commit")
        if data is None:
            log.error("transmission %d: recording not copied to the database: %s", tx_id, problem)
            return "refused"
        return "pushed"

    def run(self, stop: threading.Event) -> None:
        """The daemon's pusher thread (a supervised worker): a pass at start (what an earlier run
        left), then one whenever a transmission closes, and every ``interval_s``."""
        from gateway.recovery import STORE_ERRORS

        while not stop.is_set():
            try:
                got = self.push_pending()
                if got.pushed or got.refused:
                    log.debug("audio: %d recording(s) copied to the database, %d refused", got.pushed,
                              got.refused)
            except STORE_ERRORS as e:  # the database (or the disk) is away: the rows stay pending
                self._errors.warning("audio: copying recordings to the database failed (%s); retrying",
                                     (str(e).splitlines() or [type(e).__name__])[0][:200])
            waited = 0.0
            while waited < self.interval_s and not stop.is_set() and not self._wake.wait(1.0):
                waited += 1.0
            self._wake.clear()


def pusher_for(cfg: Config, db: Database, data_dir: Path) -> AudioPusher | None:
    """The daemon's pusher for this gateway; None unless ``store.audio_in_db``."""
    return AudioPusher(db, data_dir, cfg.gateway.id) if cfg.store.audio_in_db else None


def push_now(cfg: Config, db: Database, data_dir: Path) -> None:
    """``ht-gateway process``: copy the recordings into the database before returning (with
    ``store.audio_in_db``); what fails stays pending for the next run."""
    from gateway.recovery import STORE_ERRORS

    pusher = pusher_for(cfg, db, data_dir)
    if pusher is None:
        return
    try:
        pusher.push_pending()
    except STORE_ERRORS as e:
        log.error("audio: recordings not copied to the database (%s); the next run copies them",
                  (str(e).splitlines() or [type(e).__name__])[0][:200])
