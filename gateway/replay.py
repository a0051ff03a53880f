"""Replay at start: the audio a killed daemon had captured but stored nowhere, through the pipeline.

The capture journal (gateway/audio/journal.py) holds the last ``audio.journal_s`` of what the sound
card heard, with marks saying how far the pipeline got. After recovery has finished the interrupted
transmission (gateway/recovery.py), :func:`plan_replay` decides where the audio stored nowhere
begins:

- a transmission was open: at the end of what its recovered file holds (recovery decoded it; no
  file: at its first sample), so the replayed rest becomes a second row whose audio meets the first
  (if the live close had already stored it whole: at the last frame the pipeline saw);
- none was open: where the pipeline had read to, less the pre-roll (so a call that began in the
  unread part keeps its pre-roll), but never before the frame at which the last one closed.

:class:`ReplaySource` hands the pipeline those samples first, at their original times, then the live
card's blocks at theirs; the time jumps over the restart (no silence stands for audio nobody heard)
and the first live block says so (``AudioBlock.resume``), so the pipeline ends the transmission the
kill cut (flagged cut short) where the replayed audio ends.
:class:`ReplaySquelch` answers for the replayed frames what the squelch said when they were first
processed (journaled transitions); for frames the pipeline never reached, a VOX squelch decides on
the audio as usual and a hardware squelch (its pin cannot be read in the past) keeps its last state.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select

from gateway.audio.journal import CaptureJournal, JournalTail
from gateway.audio.source import AudioBlock, AudioSource
from gateway.config import Config
from gateway.segmenter import TxInfo
from gateway.squelch.base import Squelch
from gateway.store.db import Database
from gateway.store.models import Transmission

log = logging.getLogger(__name__)

BLOCK_S = 0.1
WARM_S = 10.0  # a VOX squelch hears this much of the journal before the replay (its noise floor)


@dataclass(frozen=True)
class Replay:
    audio: np.ndarray  # int16 at ``rate``
    start_t: float  # epoch time of audio[0]
    rate: int
    tail: JournalTail
    warm: np.ndarray  # int16: the audio just before ``audio`` (a VOX squelch's history)

    @property
    def end_t(self) -> float:
        return self.start_t + len(self.audio) / self.rate


def plan_replay(tail: JournalTail | None, db: Database, pre_roll_s: float) -> Replay | None:
    """What of ``tail`` to replay (None: nothing). Run after recovery at start."""
    if tail is None or tail.written == 0 or tail.anchor_t <= 0 or not len(tail.audio):
        return None
    row = None
    if tail.tx_uid is not None:
        with db.read() as s:
            row = s.execute(select(Transmission.audio_started_at, Transmission.audio_duration_s,
                                   Transmission.status, Transmission.recovered)
                            .where(Transmission.uid == tail.tx_uid)).first()
    if row is not None and row.status == "complete" and not row.recovered:
        # stored whole by the live close, killed before the journal heard of it: it closed at the
        # last frame the pipeline saw (its trimmed squelch tail must not come back as a call)
        start = tail.index_at(tail.squelch_known_t)
    elif tail.tx_uid is not None:
        if row is not None and row.status == "complete" and row.audio_duration_s is not None:
            from_t = row.audio_started_at.timestamp() + float(row.audio_duration_s)
        else:  # its audio never reached disk: all of it
            from_t = tail.tx_audio_start
        start = tail.index_at(from_t)
    else:
        start = max(tail.consumed - round(pre_roll_s * tail.rate), tail.index_at(tail.closed_t))
        start = max(tail.first, min(tail.written, start))
    audio = tail.audio[start - tail.first:]
    warm = tail.audio[max(0, start - tail.first - round(WARM_S * tail.rate)):start - tail.first]
    if start == tail.first and tail.first > 0:
        log.warning("capture journal: the audio to replay began before the oldest it holds "
                    "(audio.journal_s); replaying what it holds")
    if not len(audio):
        return None
    return Replay(audio, tail.time_of(start), tail.rate, tail, warm)


class ReplaySource:
    """The replayed samples first, then the live source's blocks, as one source."""

    def __init__(self, live: AudioSource, replay: Replay) -> None:
        self.live, self.replay = live, replay
        self.rate, self.name = live.rate, live.name
        self.start_time = replay.start_t  # then the live source's, less our offset
        self._offset: int | None = None  # our index minus the live source's, once it runs

    def blocks(self, stop: threading.Event) -> Iterator[AudioBlock]:
        audio, n = self.replay.audio, len(self.replay.audio)
        step = max(1, round(BLOCK_S * self.rate))
        log.info("capture journal: replaying %.2f s the previous run captured but did not store",
                 n / self.rate)
        for k in range(0, n, step):
            if stop.is_set():
                return
            yield AudioBlock(audio[k:k + step].astype(np.float32) * np.float32(1 / 32768), k)
        for block in self.live.blocks(stop):
            first = self._offset is None
            offset = n - block.index if self._offset is None else self._offset
            self._offset = offset  # the time jumps over the restart: no samples stand for it
            self.start_time = self.live.start_time - offset / self.rate
            yield AudioBlock(block.samples, block.index + offset, resume=first)

    def close(self) -> None:
        self.live.close()

    def __getattr__(self, name: str) -> object:  # the live source's counters (dropped, outages…)
        return getattr(self.live, name)


class ReplaySquelch:
    """The squelch's journaled answers for replayed frames, the live squelch after them."""

    def __init__(self, inner: Squelch, replay: Replay, follows_audio: bool) -> None:
        self.inner, self.replay, self.follows_audio = inner, replay, follows_audio
        self.latency_s = inner.latency_s
        tail = replay.tail
        self._events = tail.events
        self._known_t, self._last = tail.squelch_known_t, tail.squelch_last
        if follows_audio and len(replay.warm):
            self._warm(replay.warm, replay.start_t - len(replay.warm) / replay.rate)

    def _warm(self, audio: np.ndarray, t0: float) -> None:
        """Let a VOX squelch hear the audio before the replay, framed as the pipeline frames it:
        started cold in the middle of a call it would take the call for the noise floor."""
        from gateway.audio.dsp import Framer, Resampler
        from gateway.writer import FRAME, FRAME_S, PROCESSING_RATE

        x = Resampler(self.replay.rate, PROCESSING_RATE).process(
            audio.astype(np.float32) * np.float32(1 / 32768), last=True)
        for k, frame in enumerate(Framer(FRAME).push(x)):
            self.inner.update(frame, t0 + k * FRAME_S)

    def _journaled(self, t: float) -> bool:
        state = None
        for et, s in self._events:
            if et > t:
                if state is None:  # older than every journaled transition: the state before it
                    state = not s
                break
            state = s
        return self._last if state is None else state

    def update(self, frame: np.ndarray, t: float) -> bool:
        live = self.inner.update(frame, t)  # always: keeps VOX's noise floor and a port's health
        if t >= self.replay.end_t:
            return live
        if t < self._known_t:
            return self._journaled(t)
        return live if self.follows_audio else self._last

    def close(self) -> None:
        self.inner.close()


class JournalMarks:
    """Tells the journal which transmission is open (a listener of the transmission writer)."""

    def __init__(self, journal: CaptureJournal) -> None:
        self.journal = journal

    def on_open(self, tx: TxInfo) -> None:
        self.journal.mark_open(tx.uid, tx.audio_start)

    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None:
        pass

    def on_close(self, tx: TxInfo) -> None:
        self.journal.mark_closed()


def attach_journal(source: AudioSource, cfg: Config, data_dir: Path) -> CaptureJournal | None:
    """Open the data directory's capture journal (``audio.journal_s``; 0: none) and have the live
    card write into it. Called once the data directory is locked (the journal is one per directory)."""
    attach = getattr(source, "attach_journal", None)
    if cfg.audio.journal_s <= 0 or attach is None:
        return None
    journal = CaptureJournal.open(data_dir, source.rate, cfg.audio.journal_s, cfg.audio.device,
                                  cfg.audio.channel)
    if journal is not None:
        attach(journal)
    return journal


def with_replay(source: AudioSource, squelch: Squelch, journal: CaptureJournal | None, db: Database,
                cfg: Config) -> tuple[AudioSource, Squelch]:
    """The source and squelch to run: with the journal's unstored tail first, if it has one."""
    if journal is None:
        return source, squelch
    replay = plan_replay(journal.tail, db, cfg.segmenter.pre_roll_s + squelch.latency_s)
    journal.tail = None  # read once; its memory goes with the replay
    if replay is None:
        return source, squelch
    follows_audio = cfg.squelch.type == "vox"
    return ReplaySource(source, replay), ReplaySquelch(squelch, replay, follows_audio)
