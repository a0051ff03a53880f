"""Recovery: reconcile the database with the recordings on disk, both ways.

A transmission moves through these steps (gateway/pipeline.py, gateway/recorder.py); whichever step a
process died at, :func:`recover_interrupted` finishes it:

=========  ===============================  =================  ======================================
step       on disk                          row                recovery
=========  ===============================  =================  ======================================
open       ``.NAME.ogg.part`` created       ``recording``      the .part: keep what decodes
audio      Ogg pages flushed every 0.5 s    ``recording``      same
finish     .part complete, fsynced          ``recording``      same (all of it decodes)
rename     ``NAME.ogg``                     ``recording``      the final file: decode, hash, complete
commit     —                                ``complete``       nothing to do
=========  ===============================  =================  ======================================

A row in ``recording`` with no audio that decodes is removed (with an event). A file no row names
(either name: the open's commit failed, or the database was replaced) is *adopted*: its name carries
the first sample's time and the uid, so a row is rebuilt from it. Audio that decodes is never
deleted. Whatever recovery completes is flagged ``recovered``; its DTMF ANI is decoded again from the
recorded audio (the same analyzer as live) and it is identified like any other transmission; the
transcription stage finds it pending and transcribes it from the file.

The same code runs at start (everything) and, while live, as a *reconcile* after a failed store write
(:class:`Reconciler`), skipping the transmissions this process is still recording and looking for
unlisted files only in the day folders it wrote to. Decoding, hashing
and the DTMF analysis happen outside any transaction; each write is one short transaction.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.faults import fault_point
from gateway.logutil import RateLimitedLog
from gateway.pending import PendingRows
from gateway.recorder import (
    TEMP_SUFFIX,
    Decoded,
    NamedFile,
    Recorder,
    check_time,
    decode,
    fsync_dir,
    parse_name,
)
from gateway.store.db import Database, StoreError
from gateway.store.models import Event, Transmission, utcnow

log = logging.getLogger(__name__)

STORE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)
#: ... and the one-line errors of gateway.store.db (the schema check of a start the database missed)
RETRY_ERRORS: tuple[type[BaseException], ...] = (*STORE_ERRORS, StoreError)
ADOPTED_SOURCE = "adopted"
STILL_FAILING_EVERY_S = 300.0  # while the store fails, a reminder this often (not one per retry)


def recover_interrupted(db: Database, data_dir: Path, cfg: Config, live: Iterable[str] = (),
                        dirs: Iterable[Path] | None = None) -> list[int]:
    """Complete every interrupted transmission and adopt every unlisted recording; returns the ids
    completed or adopted. ``live``: uids this process is still recording (left alone); ``dirs``:
    look for unlisted files only in these day folders (default: the whole recordings tree). Only this
    gateway's rows (``gateway.id``) are looked at: on a shared PostgreSQL, another gateway's rows in
    ``recording`` are its live transmissions, their files in its own data directory."""
    live = set(live)
    # first the rows kept on disk while the store failed: stored with their live columns, so that the
    # steps below find them complete instead of rebuilding them from their files
    done = PendingRows(data_dir).replay(db, data_dir, lambda s, row: _identify(s, row, cfg))
    with db.read() as s:
        pending = s.execute(select(Transmission.id, Transmission.uid, Transmission.temp_path,
                                   Transmission.audio_path)
                            .where(Transmission.status == "recording",
                                   # another gateway's live rows name files in its own data directory
                                   Transmission.gateway_id == cfg.gateway.id)).all()
    for tx_id, uid, temp_rel, final_rel in pending:
        if uid in live:
            continue
        got = _settle(data_dir / temp_rel if temp_rel else None, data_dir / final_rel if final_rel else None)
        if got is None:
            with db.write() as s:
                row = s.get_one(Transmission, tx_id)
                s.add(Event(at=utcnow(), kind="recording_lost",
                            message=f"transmission {row.uid} started {row.started_at.isoformat()} "
                                    "was interrupted before any audio was saved"))
                s.delete(row)
            log.warning("interrupted transmission %d had no audio; removed", tx_id)
            continue
        path, decoded = got
        _complete(db, cfg, data_dir, tx_id, path, decoded)
        done.append(tx_id)
    done += _adopt_unlisted(db, data_dir, cfg, live, dirs)
    return done


def recover_at_start(db: Database, data_dir: Path, cfg: Config) -> list[int]:
    """:func:`recover_interrupted` before anything runs; a store that fails here is one error line."""
    try:
        return recover_interrupted(db, data_dir, cfg)
    except STORE_ERRORS as e:
        raise StoreError(f"recovery at start ({data_dir}): {_one_line(e)}") from None


def _settle(temp: Path | None, final: Path | None) -> tuple[Path, Decoded] | None:
    """The transmission's audio under its final name: the .part renamed (if it decodes), else the
    final file (if it decodes)."""
    part = decode(temp) if temp is not None and temp.is_file() else None
    whole = decode(final) if final is not None and final.is_file() else None
    if part is not None and final is not None and (whole is None or len(part.audio) > len(whole.audio)):
        os.replace(temp, final)  # type: ignore[arg-type]
        fsync_dir(final.parent)
        return final, part
    if temp is not None and temp.is_file() and (part is None or whole is not None):
        temp.unlink()  # nothing decodes, or the same audio is already final
    if whole is not None and final is not None:
        return final, whole
    return None


def _complete(db: Database, cfg: Config, data_dir: Path, tx_id: int, path: Path, d: Decoded) -> None:
    findings = redecode_ani(d, cfg)
    with db.write() as s:
        row = s.get_one(Transmission, tx_id)
        _fill(row, data_dir, path, d, cfg)
        for column, value in findings.items():
            setattr(row, column, value)
        s.flush()
        _identify(s, row, cfg)
        s.add(Event(at=utcnow(), kind="recovered", transmission_id=row.id,
                    message=f"recovered {len(d.audio) / d.rate:.1f} s of an interrupted transmission"))
        fault_point("recovery_commit")
    log.warning("recovered interrupted transmission %d (%.1f s of audio)", tx_id, len(d.audio) / d.rate)


def _fill(row: Transmission, data_dir: Path, path: Path, d: Decoded, cfg: Config) -> None:
    result = d.result(path)
    ended = row.audio_started_at + timedelta(seconds=result.duration_s)
    row.ended_at = max(ended, row.started_at)
    row.duration_s = round((row.ended_at - row.started_at).total_seconds(), 3)
    row.kerchunk = row.duration_s < cfg.segmenter.min_s
    row.status, row.recovered, row.temp_path = "complete", True, None
    row.asr_pending = True  # its transcription job (gateway/jobs.py)
    row.audio_push_pending = cfg.store.audio_in_db  # its copy to the database (gateway/audiostore.py)
    row.audio_path = str(path.relative_to(data_dir))
    row.sha256, row.audio_bytes = result.sha256, result.size
    row.audio_duration_s = round(result.duration_s, 3)
    row.peak_dbfs, row.rms_dbfs = round(result.peak_dbfs, 2), round(result.rms_dbfs, 2)


def redecode_ani(d: Decoded, cfg: Config) -> dict[str, Any]:
    """The DTMF analyzer of the live pipeline, run over recovered audio."""
    from gateway.audio.dsp import Resampler
    from gateway.identification.ani import AniAnalyzer
    from gateway.segmenter import TxInfo
    from gateway.writer import PROCESSING_RATE

    audio = Resampler(d.rate, PROCESSING_RATE).process(d.audio, last=True) if d.rate != PROCESSING_RATE \
        else d.audio
    analyzer = AniAnalyzer(PROCESSING_RATE, cfg.dtmf)
    tx = TxInfo(uid="recovery", start=0.0, audio_start=0.0)
    analyzer.on_open(tx)
    analyzer.on_audio(tx, audio)
    return analyzer.result(tx)


def _identify(s: Session, row: Transmission, cfg: Config) -> None:
    from gateway.identification import identify

    identify.apply(s, row, cfg)


def _adopt_unlisted(db: Database, data_dir: Path, cfg: Config, live: set[str],
                    dirs: Iterable[Path] | None) -> list[int]:
    root = data_dir / "recordings"
    if not root.is_dir():
        return []
    found = root.rglob("*.ogg*") if dirs is None else \
        (p for d in dirs if d.is_dir() for p in d.glob("*.ogg*"))
    files = [p for p in found if "orphans" not in p.relative_to(root).parts
             and (p.name.endswith(".ogg") or p.name.endswith(TEMP_SUFFIX))]
    named = [(p, n) for p in files if (n := _parse(p, data_dir, cfg)) is not None]
    uids = {n.uid for _, n in named if n.uid}
    rels = {str(p.relative_to(data_dir)) for p, n in named if n.uid is None}
    known_uids: set[str] = set()
    known_paths: set[str] = set()
    with db.read() as s:
        for chunk in _chunks(sorted(uids), 500):
            known_uids.update(s.scalars(select(Transmission.uid).where(Transmission.uid.in_(chunk))))
        for chunk in _chunks(sorted(rels), 500):
            known_paths.update(s.scalars(select(Transmission.audio_path)
                                         .where(Transmission.audio_path.in_(chunk))))
    recorder = Recorder(root, 16000, cfg.recorder, cfg.tz)
    adopted: list[int] = []
    for path, name in named:
        rel = str(path.relative_to(data_dir))
        if name.uid in live or name.uid in known_uids or rel in known_paths or not path.is_file():
            continue
        d = decode(path)
        if d is None:
            if name.temp:
                path.unlink()  # a temporary file with no audio in it: nothing to keep
                log.warning("%s: temporary recording without audio and without a row; removed", rel)
            else:
                log.error("%s: recording without a row does not decode; left as it is", rel)
            continue
        uid = name.uid or hashlib.sha256(rel.encode()).hexdigest()[:32]
        try:
            start = name.audio_start or _start_from_mtime(path, len(d.audio) / d.rate)
        except ValueError as e:
            log.error("%s: recording not adopted: %s; left as it is", rel, e)
            continue
        final = path
        if name.temp:
            final = recorder.paths_for(uid, start.timestamp())[1]
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, final)
            fsync_dir(final.parent)
        tx_id = _adopt(db, cfg, data_dir, uid, start, final, d)
        if tx_id is not None:
            known_uids.add(uid)
            adopted.append(tx_id)
    return adopted


def _parse(path: Path, data_dir: Path, cfg: Config) -> NamedFile | None:
    """What the file's name says; None (and one log line) for a name of ours with an impossible
    time: one odd file must not keep the gateway from starting."""
    try:
        return parse_name(path.name, cfg.tz)
    except ValueError as e:
        log.error("%s: recording not adopted: %s; left as it is", path.relative_to(data_dir), e)
        return None


def _start_from_mtime(path: Path, duration: float) -> datetime:
    """An old temporary name has no time in it: its first sample is the file's mtime less its audio."""
    try:
        start = datetime.fromtimestamp(path.stat().st_mtime - duration, UTC)
    except (OverflowError, OSError, ValueError) as e:
        raise ValueError(f"its modification time is not a usable date ({e})") from None
    return check_time(start, "the start its modification time gives,")


def _adopt(db: Database, cfg: Config, data_dir: Path, uid: str, start: datetime, path: Path,
           d: Decoded) -> int | None:
    findings = redecode_ani(d, cfg)
    with db.write() as s:
        if s.scalar(select(Transmission.id).where(Transmission.uid == uid)) is not None:
            return None  # stored meanwhile (a reconcile racing a late commit)
        row = Transmission(uid=uid, started_at=start, audio_started_at=start, status="recording",
                           kerchunk=False, stuck=False, recovered=True, source=ADOPTED_SOURCE,
                           gateway_id=cfg.gateway.id, channel_id=cfg.channel.id)
        _fill(row, data_dir, path, d, cfg)
        for column, value in findings.items():
            setattr(row, column, value)
        s.add(row)
        s.flush()
        _identify(s, row, cfg)
        s.add(Event(at=utcnow(), kind="recovered", transmission_id=row.id,
                    message=f"adopted {row.audio_path}: a recording without a row "
                            f"({len(d.audio) / d.rate:.1f} s)"))
        tx_id = row.id
    log.warning("adopted %s as transmission %d (it had no row)", path.name, tx_id)
    return tx_id


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


class Reconciler:
    """While live: after a store write failed, retry in the background until the database takes it.

    ``pending`` (called on this thread) writes what the pipeline still holds in memory (exact
    columns of transmissions whose commit failed); then :func:`recover_interrupted` runs for
    everything not live. Until a pass succeeds the writer keeps recording to disk only.
    """

    def __init__(self, db: Database, data_dir: Path, cfg: Config, live: Callable[[], set[str]],
                 pending: Callable[[], int], dirs: Callable[[], set[Path]] | None = None,
                 interval_s: float = 2.0) -> None:
        self.db, self.data_dir, self.cfg = db, data_dir, cfg
        self.live, self.pending, self.interval_s = live, pending, interval_s
        self.dirs = dirs  # the day folders this process wrote to (None: the whole tree)
        self.healthy = threading.Event()
        self.healthy.set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self._since: float | None = None  # when the store last started failing (monotonic)
        self._prepare: Callable[[], None] | None = None  # start_later: run first, once
        self._full = False  # start_later: the next pass looks at the whole tree
        self._still = RateLimitedLog(log, STILL_FAILING_EVERY_S)

    def start_later(self, prepare: Callable[[], None]) -> None:
        """The database was away at start: disk-only from the first transmission; the first pass
        that works runs ``prepare`` (the schema), then recovery over the whole recordings tree (what
        the start would have done), the rows kept on disk first."""
        self._prepare, self._full = prepare, True
        self.failed()

    def failed(self) -> None:
        """A store write failed: go to disk-only mode and start retrying."""
        if self.healthy.is_set():
            self._since = time.monotonic()  # the writer logged the failure: retries are quiet a while
            self._still = RateLimitedLog(log, STILL_FAILING_EVERY_S, quiet_first=True)
        self.healthy.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="reconcile", daemon=True)
            self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self.healthy.is_set() or self._stop.is_set():
                continue
            try:
                if self._prepare is not None:
                    self._prepare()
                    self._prepare = None
                stored = self.pending()
                stored += len(recover_interrupted(self.db, self.data_dir, self.cfg, self.live(),
                                                  self.dirs() if self.dirs and not self._full else None))
                self._full = False
            except RETRY_ERRORS as e:  # one line every few minutes, not one per retry
                self._still.warning("store still failing after %.0f s (%s); recording to disk, retrying "
                                    "every %g s", self._outage_s(), _one_line(e), self.interval_s)
                continue
            except Exception:  # the retry loop must survive anything
                log.exception("reconcile failed; retrying")
                continue
            self.passes += 1
            log.warning("store works again (%d transmission(s) recorded meanwhile now stored; it "
                        "failed for %.0f s)", stored, self._outage_s())
            self.healthy.set()

    def _outage_s(self) -> float:
        return time.monotonic() - self._since if self._since is not None else 0.0

    def settle(self, timeout: float) -> bool:
        """Wait (at the end of a run) until the store has everything; False if it still fails."""
        if self.healthy.is_set():
            return True
        self._wake.set()
        return self.healthy.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(15)


def _one_line(e: BaseException) -> str:
    return (str(e).splitlines() or [e.__class__.__name__])[0][:200]
