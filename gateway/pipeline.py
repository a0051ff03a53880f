"""The pipeline: audio source → squelch → segmenter → recorder + store (and later stages).

The same :class:`Pipeline` runs live (``ht-gateway run``, PyAudio source) and offline
(``ht-gateway process FILE``, file source); only the source differs. Everything after the source
runs on one thread, in audio order, at the processing rate (16 kHz, 20 ms frames), into a
:class:`gateway.writer.TransmissionWriter` (the sink that makes each transmission durable). A
transmission still open when the pipeline is stopped (SIGTERM) or its input breaks off (a truncated
file) is closed there and flagged ``cut_short``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gateway.audio.dsp import Framer, Resampler
from gateway.audio.source import AudioSource, AudioSourceError
from gateway.config_model import SegmenterConfig
from gateway.logutil import RateLimitedLog
from gateway.segmenter import Segmenter
from gateway.squelch.base import Squelch
from gateway.writer import (  # noqa: F401 - re-exported: the writer's home was here
    FRAME,
    FRAME_S,
    PROCESSING_RATE,
    Analyzer,
    TransmissionWriter,
    epoch_to_dt,
    source_identity,
    transmission_uid,
)

log = logging.getLogger(__name__)


@dataclass
class PipelineStats:
    frames: int = 0
    gaps: int = 0
    audio_s: float = 0.0


class Pipeline:
    """Drives one source through squelch and segmenter into a sink, until the source ends or stop."""

    def __init__(self, source: AudioSource, squelch: Squelch, segmenter_cfg: SegmenterConfig,
                 sink: TransmissionWriter, stop: threading.Event | None = None,
                 on_squelch: Callable[[float, bool, bool], None] | None = None,
                 on_alarm: Callable[[str, float, str], None] | None = None) -> None:
        self.source, self.squelch, self.sink = source, squelch, sink
        self.on_squelch = on_squelch  # (frame time, open, changed): the capture journal's marks
        self._open = False
        self.stop = stop or threading.Event()

        def alarm(kind: str, t: float, message: str) -> None:  # stored by the writer; told to health
            sink.alarm(kind, t, message)
            if on_alarm is not None:
                on_alarm(kind, t, message)

        self.segmenter = Segmenter(segmenter_cfg, PROCESSING_RATE, sink, squelch.latency_s, FRAME_S,
                                   alarm=alarm)
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
                if block.resume:
                    self._resume()
                if block.index > expected:  # samples lost upstream: keep the clock right
                    self.stats.gaps += 1
                    self._gap_log.warning("audio gap of %d samples filled with silence",
                                          block.index - expected)
                    # A gap as long as the hang time is an outage (the card went away): what is open
                    # ends where the audio broke off, and nothing is heard in it. A squelch line read
                    # now (a COS pin) tells about now, not about the outage, so it is not asked.
                    outage = block.index - expected >= self.segmenter.cfg.hang_s * self.source.rate
                    if outage:
                        self._break_off()
                    for f in framer.push(resampler.process(np.zeros(block.index - expected, np.float32))):
                        frame_no = self._frame(f, frame_no, heard=not outage)
                expected = block.index + len(block.samples)
                for f in framer.push(resampler.process(block.samples)):
                    frame_no = self._frame(f, frame_no)
                if progress:
                    progress(len(block.samples))
                if heartbeat:
                    heartbeat()
            for f in framer.push(resampler.process(np.zeros(0, np.float32), last=True)):
                frame_no = self._frame(f, frame_no)
            self._end()
        except AudioSourceError:  # the input broke off (e.g. a truncated file): keep what was heard
            self._end(cut_short=True)
            raise
        except BaseException:
            self.sink.abandon_all()
            raise
        finally:
            self.source.close()
            self.squelch.close()
        self.stats.frames = frame_no
        self.stats.audio_s = frame_no * FRAME_S
        return self.stats

    def _resume(self) -> None:
        """The audio so far came from another capture (replayed after a restart): the transmission it
        left open ends where that capture was cut, flagged cut short; the live audio starts anew."""
        if self.segmenter.tx is not None:
            self.sink.mark_cut_short(self.segmenter.tx)
            self.segmenter.flush()

    def _break_off(self) -> None:
        """The audio broke off (an outage of the input): an open transmission ends where it did,
        flagged cut short if the squelch was open then (in its hang time it had ended anyway)."""
        if self.segmenter.tx is not None:
            if self._open:
                self.sink.mark_cut_short(self.segmenter.tx)
            self.segmenter.flush()
        self._open = False

    def _end(self, cut_short: bool = False) -> None:
        """Close the open transmission (flagged cut short if stopped or broken off while the squelch
        was open) and let the writer finish its store work."""
        if self.segmenter.tx is not None and (cut_short or self.stop.is_set()):
            self.sink.mark_cut_short(self.segmenter.tx)
        self.segmenter.flush()
        self.sink.finish()

    def _frame(self, frame: np.ndarray, frame_no: int, heard: bool = True) -> int:
        t = self.source.start_time + frame_no * FRAME_S
        is_open = self.squelch.update(frame, t) if heard else False
        if self.on_squelch is not None:
            self.on_squelch(t, is_open, is_open != self._open)
        self._open = is_open
        self.segmenter.push(frame, t, is_open)
        return frame_no + 1
