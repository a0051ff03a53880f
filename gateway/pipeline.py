"""The pipeline: audio source → squelch → segmenter → recorder + store (and later stages).

The same :class:`Pipeline` runs live (``ht-gateway run``, PyAudio source) and offline
(``ht-gateway process FILE``, file source); only the source differs. Everything after the source
runs on one thread, in audio order, at the processing rate (16 kHz, 20 ms frames).

:class:`TransmissionWriter` is the sink that makes a transmission durable: the row is committed
(status ``recording``, with its temporary file name) before the file is created, the audio is
written while the transmission is live, and on close the file is renamed and the row completed in
one transaction. *Analyzers* (the DTMF decoder) see the audio on the pipeline thread and hand their
findings to that same transaction, where the transmission is also identified; *listeners* (the
recogniser stage) hear about a transmission after it is committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy.orm import Session

from gateway.audio.dsp import Framer, Resampler
from gateway.audio.source import AudioSource
from gateway.logutil import RateLimitedLog
from gateway.recorder import LiveRecording, Recorder
from gateway.segmenter import Segmenter, TransmissionSink, TxInfo
from gateway.squelch.base import Squelch
from gateway.store.db import Database
from gateway.store.models import Event, Transmission

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


Identify = Callable[[Session, Transmission], None]


class TransmissionWriter:
    """Records each transmission to disk and to the database; fans events out to listeners."""

    def __init__(self, db: Database, recorder: Recorder, data_dir: Path, source_name: str,
                 listeners: Sequence[TransmissionSink] = (), analyzers: Sequence[Analyzer] = (),
                 identify: Identify | None = None) -> None:
        self.db, self.recorder, self.data_dir = db, recorder, data_dir
        self.source_name = source_name
        self.listeners = list(listeners)
        self.analyzers = list(analyzers)
        self.identify = identify
        self._live: dict[str, tuple[int, LiveRecording]] = {}
        self.closed: list[int] = []  # ids of transmissions completed by this writer, in order

    def _rel(self, p: Path) -> str:
        return str(p.relative_to(self.data_dir))

    def on_open(self, tx: TxInfo) -> None:
        temp, final = self.recorder.paths_for(tx.uid, tx.audio_start)
        with self.db.write() as s:
            row = Transmission(
                uid=tx.uid, started_at=epoch_to_dt(tx.start), audio_started_at=epoch_to_dt(tx.audio_start),
                status="recording", kerchunk=False, stuck=False, recovered=False,
                temp_path=self._rel(temp), audio_path=self._rel(final), source=self.source_name,
            )
            s.add(row)
            s.flush()
            row_id = row.id
        self._live[tx.uid] = (row_id, self.recorder.begin(tx.uid, tx.audio_start))
        for stage in (*self.analyzers, *self.listeners):
            stage.on_open(tx)

    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None:
        self._live[tx.uid][1].write(samples)
        for stage in (*self.analyzers, *self.listeners):
            stage.on_audio(tx, samples)

    def on_close(self, tx: TxInfo) -> None:
        row_id, rec = self._live.pop(tx.uid)
        result = rec.finish()
        findings: dict[str, Any] = {}
        for analyzer in self.analyzers:
            findings.update(analyzer.result(tx))
        with self.db.write() as s:
            row = s.get_one(Transmission, row_id)
            row.ended_at = epoch_to_dt(tx.end or tx.start)
            row.duration_s = round(tx.duration, 3)
            row.kerchunk, row.stuck = tx.kerchunk, tx.stuck
            row.status, row.temp_path = "complete", None
            row.audio_path = self._rel(result.path)
            row.sha256, row.audio_bytes = result.sha256, result.size
            row.audio_duration_s = round(result.duration_s, 3)
            row.peak_dbfs, row.rms_dbfs = round(result.peak_dbfs, 2), round(result.rms_dbfs, 2)
            for column, value in findings.items():
                setattr(row, column, value)
            if self.identify is not None:
                s.flush()
                self.identify(s, row)
        self.closed.append(row_id)
        log.info("transmission %d: %s, %.1f s%s", row_id, epoch_to_dt(tx.start).isoformat(),
                 tx.duration, f" [{', '.join(tx.flags)}]" if tx.flags else "")
        for sink in self.listeners:
            sink.on_close(tx)

    def alarm(self, kind: str, t: float, message: str) -> None:
        log.error("%s: %s", kind, message) if kind == "stuck_squelch" else log.warning("%s", message)
        with self.db.write() as s:
            s.add(Event(at=epoch_to_dt(t), kind=kind, message=message,
                        transmission_id=self.closed[-1] if kind == "stuck_squelch" and self.closed
                        else None))

    def abandon_all(self) -> None:
        """After a fault: close live files as they are; the next start recovers them and their rows."""
        for _, rec in self._live.values():
            rec.close_partial()
        self._live.clear()


@dataclass
class PipelineStats:
    frames: int = 0
    gaps: int = 0
    audio_s: float = 0.0


class Pipeline:
    """Drives one source through squelch and segmenter into a sink, until the source ends or stop."""

    def __init__(self, source: AudioSource, squelch: Squelch, segmenter_cfg, sink: TransmissionWriter,
                 stop: threading.Event | None = None) -> None:  # noqa: ANN001
        self.source, self.squelch, self.sink = source, squelch, sink
        self.stop = stop or threading.Event()
        self.segmenter = Segmenter(segmenter_cfg, PROCESSING_RATE, sink, squelch.latency_s, FRAME_S,
                                   alarm=sink.alarm)
        self.stats = PipelineStats()
        self._gap_log = RateLimitedLog(log, 30.0)

    def run(self, progress: Callable[[int], None] | None = None,
            heartbeat: Callable[[], None] | None = None) -> PipelineStats:
        resampler = Resampler(self.source.rate, PROCESSING_RATE)
        framer = Framer(FRAME)
        expected = 0
        frame_no = 0
        try:
            for block in self.source.blocks(self.stop):
                if block.index > expected:  # samples lost upstream: keep the clock right
                    self.stats.gaps += 1
                    self._gap_log.warning("audio gap of %d samples filled with silence",
                                          block.index - expected)
                    for f in framer.push(resampler.process(np.zeros(block.index - expected, np.float32))):
                        frame_no = self._frame(f, frame_no)
                expected = block.index + len(block.samples)
                for f in framer.push(resampler.process(block.samples)):
                    frame_no = self._frame(f, frame_no)
                if progress:
                    progress(len(block.samples))
                if heartbeat:
                    heartbeat()
            for f in framer.push(resampler.process(np.zeros(0, np.float32), last=True)):
                frame_no = self._frame(f, frame_no)
            self.segmenter.flush()
        except BaseException:
            self.sink.abandon_all()
            raise
        finally:
            self.source.close()
            self.squelch.close()
        self.stats.frames = frame_no
        self.stats.audio_s = frame_no * FRAME_S
        return self.stats

    def _frame(self, frame: np.ndarray, frame_no: int) -> int:
        t = self.source.start_time + frame_no * FRAME_S
        self.segmenter.push(frame, t, self.squelch.update(frame, t))
        return frame_no + 1
