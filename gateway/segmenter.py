"""Transmission segmenter: squelch decisions per frame → clean transmissions.

It turns the squelch's open/closed answers into transmissions and streams their audio to a
:class:`TransmissionSink` while they are live:

- **pre-roll**: the ``pre_roll_s`` before the onset is sent first, so the first syllable and a DTMF
  PTT-ID sent at key-up are kept even though the squelch opens a little late;
- **hang time**: a closed squelch ends the transmission only after ``hang_s`` of silence; frames of a
  shorter pause are held back and sent if the channel reopens, dropped if it does not;
- **squelch tail**: the last ``tail_max_s`` of open audio is held back; at the end a trailing
  loud noise burst (flat spectrum, loud for this transmission) is cut off before it is sent;
- **end at the tail** (``end_at_tail``): when the squelch closes right after such a burst (the
  carrier dropped), or right after a DTMF end-of-transmission ANI (asked of the sink, see
  :class:`EotProbe`), or when a radio without a tail (squelch-tail elimination) unkeys and the
  audio falls ``CARRIER_DROP_DB`` below the call's own carrier hiss (or hum) to the closed
  channel's floor for ``END_CONFIRM_S``, the transmission ends then instead of after the whole hang time, so a
  second call 0.5 s later is a second transmission; a pause with none of these (a speaker drawing
  breath: the carrier and its hiss go on) still waits out ``hang_s``, and so does the end of a
  call whose hiss is too close to the floor to tell the two apart;
- **minimum length**: shorter transmissions are flagged ``kerchunk`` (kept, not counted as reports);
- **maximum length**: after ``max_s`` the transmission is closed and flagged ``stuck``, an alarm is
  raised, and nothing new starts until the squelch has been closed for ``hang_s``.

Times are epoch seconds on the source's sample clock; one frame is ``frame_s`` (20 ms).
"""

from __future__ import annotations

import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from gateway.audio.dsp import dbfs, spectral_flatness
from gateway.config import SegmenterConfig

log = logging.getLogger(__name__)

TAIL_FLATNESS = 0.35  # noise-like: the squelch tail burst measures 0.5–0.7, voice < 0.2
TAIL_BELOW_LOUD_DB = 6.0
EPS = 1e-3  # frame times are floats near 1.7e9: compare durations with 1 ms of slack
# End of transmission at the tail: the burst must be a real squelch tail, not trailing hiss.
END_CONFIRM_S = 0.2  # closed squelch after a tail/EOT before the transmission ends (ringing, flicker)
TAIL_MIN_FRAMES = 3  # 60 ms: tails last 100-250 ms (140 ms on the sample channel)
TAIL_MIN_DBFS = -40.0  # tails are loud (-9 dBFS on the sample channel, speech about -22)
TAIL_JUMP_DB = 10.0  # above the quietest held-back frame before it: a carrier dropping, not hiss
# End of transmission at a carrier drop without a tail (squelch-tail elimination): the receiver
# mutes, so the audio falls from steady carrier hiss to the closed channel's own floor.
CARRIER_DROP_DB = 10.0  # the hiss before the drop: at least this far above the idle floor ...
HISS_BELOW_SPEECH_DB = 10.0  # ... this far below the call's speech (p90), so it is not a word ...
HISS_AT_PAUSE_DB = 2.0  # ... or no louder than the call's own pauses (p10), where they lie
PAUSE_BELOW_SPEECH_DB = 4.0  # this far under its speech: mains hum keyed with a weak voice sits
PAUSE_PERCENTILE = 10  # within 10 dB of it, and is the carrier's floor all the same
HISS_SPREAD_DB = 6.0  # ... and steady (max - min over HISS_S), as hiss is and breath is not
HISS_S = 0.3  # 0.1 s split the gateway's own hiss-free speech at a fricative before a pause
FLOOR_MARGIN_DB = 4.0  # after it, END_CONFIRM_S of frames within this of the idle floor
IDLE_FRAMES = 250  # the idle floor: median level of the last 5 s heard with no transmission

@dataclass
class TxInfo:
    uid: str
    start: float  # onset of the transmission (epoch seconds)
    audio_start: float  # first stored sample (start minus the pre-roll actually available)
    end: float | None = None
    kerchunk: bool = False
    stuck: bool = False
    levels: list[float] = field(default_factory=list, repr=False)

    @property
    def duration(self) -> float:
        return (self.end or self.start) - self.start

    @property
    def flags(self) -> list[str]:
        return [name for name, on in (("kerchunk", self.kerchunk), ("stuck", self.stuck)) if on]


class TransmissionSink(Protocol):
    def on_open(self, tx: TxInfo) -> None: ...
    def on_audio(self, tx: TxInfo, samples: np.ndarray) -> None: ...
    def on_close(self, tx: TxInfo) -> None: ...


@runtime_checkable
class EotProbe(Protocol):
    """A sink that can tell whether the audio it was given so far ends with an end-of-transmission
    signal (a DTMF EOT ANI). The segmenter asks it once per pause, after sending it every frame of
    open audio, on the pipeline thread (see ``TransmissionWriter.eot_seen``)."""

    def eot_seen(self, tx: TxInfo) -> bool: ...


Alarm = Callable[[str, float, str], None]  # (kind, epoch time, message)


class Segmenter:
    def __init__(self, cfg: SegmenterConfig, rate: int, sink: TransmissionSink,
                 squelch_latency_s: float = 0.0, frame_s: float = 0.02,
                 alarm: Alarm | None = None) -> None:
        self.cfg, self.rate, self.sink, self.frame_s = cfg, rate, sink, frame_s
        self.latency_s = squelch_latency_s
        self.alarm = alarm or (lambda kind, t, msg: None)
        n_pre = round((cfg.pre_roll_s + squelch_latency_s) / frame_s)
        self._preroll: deque[tuple[float, np.ndarray]] = deque(maxlen=max(1, n_pre))
        hold = cfg.tail_trim or cfg.end_at_tail
        self._tail_frames = round(cfg.tail_max_s / frame_s) if hold else 0
        self._probe = sink if cfg.end_at_tail and isinstance(sink, EotProbe) else None
        self._ended = False  # the current pause follows a tail or an EOT: end after END_CONFIRM_S
        self._pending: deque[tuple[float, np.ndarray]] = deque()
        self._hang: list[tuple[float, np.ndarray]] = []
        self.tx: TxInfo | None = None
        self._last_open_end = 0.0
        self._stuck_since: float | None = None
        self._closed_for = 0.0
        self._idle: deque[float] = deque(maxlen=IDLE_FRAMES)  # levels heard with no transmission
        self._recent: deque[float] = deque(maxlen=round((END_CONFIRM_S + HISS_S) / frame_s) + 2)

    # -- input ----------------------------------------------------------------------------------
    def push(self, frame: np.ndarray, t: float, is_open: bool) -> None:
        if self._stuck_since is not None:
            self._wait_for_unstuck(frame, t, is_open)
        elif self.tx is None:
            if is_open:
                self._recent.clear()
                self._open(frame, t)
            else:
                self._preroll.append((t, frame))
                if self.cfg.end_at_tail:
                    self._idle.append(dbfs(frame))
        elif is_open:
            if self.cfg.end_at_tail:
                self._recent.append(dbfs(frame))
            # a pause inside the transmission is kept; max_s holds even when it falls in the pause
            frames = [(ft, f, False) for ft, f in self._hang] + [(t, frame, True)]
            self._hang.clear()
            for k, (ft, f, _) in enumerate(frames):
                self._queue(ft, f)
                self._last_open_end = ft + self.frame_s
                if self._last_open_end - self.tx.start >= self.cfg.max_s - EPS:
                    self._close(stuck=True)
                    for rt, rf, was_open in frames[k + 1:]:
                        self._wait_for_unstuck(rf, rt, was_open)
                    break
        else:
            if not self._hang and self.cfg.end_at_tail:  # the squelch just closed: why?
                self._ended = self._ended_by_signal()
            self._hang.append((t, frame))
            if self.cfg.end_at_tail:
                self._recent.append(dbfs(frame))
                self._ended = self._ended or self._carrier_dropped()
            hang = min(END_CONFIRM_S, self.cfg.hang_s) if self._ended else self.cfg.hang_s
            if t + self.frame_s - self._last_open_end >= hang - EPS:
                self._close()

    def flush(self) -> None:
        """End of input: finish an open transmission as if the hang time had passed."""
        if self.tx is not None:
            self._close()

    # -- states ---------------------------------------------------------------------------------
    def _open(self, frame: np.ndarray, t: float) -> None:
        onset = t - self.latency_s
        pre = [(ft, f) for ft, f in self._preroll if ft >= onset - self.cfg.pre_roll_s - 1e-9]
        self._preroll.clear()
        audio_start = pre[0][0] if pre else t
        self.tx = TxInfo(uid=uuid.uuid4().hex, start=onset, audio_start=audio_start)
        self.sink.on_open(self.tx)
        for _, f in pre:
            self.sink.on_audio(self.tx, f)
        self._queue(t, frame)
        self._last_open_end = t + self.frame_s

    def _queue(self, t: float, frame: np.ndarray) -> None:
        assert self.tx is not None
        self.tx.levels.append(dbfs(frame))
        self._pending.append((t, frame))
        while len(self._pending) > self._tail_frames:
            self.sink.on_audio(self.tx, self._pending.popleft()[1])

    def _close(self, stuck: bool = False) -> None:
        tx = self.tx
        assert tx is not None
        keep = list(self._pending) if stuck else self._trim_tail(list(self._pending))
        self._pending.clear()
        for _, f in keep:
            self.sink.on_audio(tx, f)
        tx.end = max(tx.start, keep[-1][0] + self.frame_s if keep else self._last_open_end)
        tx.stuck = stuck
        tx.kerchunk = not stuck and tx.duration < self.cfg.min_s
        self.sink.on_close(tx)
        log.debug("transmission %s %.2f s %s", tx.uid, tx.duration, tx.flags)
        self.tx = None
        self._ended = False
        self._preroll.extend(self._hang)
        self._hang.clear()
        if stuck:
            self._stuck_since = tx.start
            self._closed_for = 0.0
            self.alarm("stuck_squelch", tx.end,
                       f"squelch open for more than {self.cfg.max_s:.0f} s: transmission closed "
                       "and flagged stuck; waiting for the channel to close")

    def _ended_by_signal(self) -> bool:
        """At the first closed frame of a pause: did the open audio end with a squelch tail, or
        with a DTMF EOT? Without a tail nothing held back can be cut any more, so it is sent now
        (the probe must hear all of it); the close then finds nothing left to trim."""
        assert self.tx is not None
        frames = list(self._pending)
        burst = self._find_tail(frames)
        if burst is not None:
            cut, quiet_from = burst
            levels = [dbfs(f) for _, f in frames[cut:quiet_from]]
            before = [dbfs(f) for _, f in frames[:cut]]
            level = float(np.median(levels))
            return (quiet_from - cut >= TAIL_MIN_FRAMES and level >= TAIL_MIN_DBFS
                    and (not before or level >= min(before) + TAIL_JUMP_DB))
        if self._probe is None:
            return False
        self._pending.clear()
        for _, f in frames:
            self.sink.on_audio(self.tx, f)
        return self._probe.eot_seen(self.tx)

    def _carrier_dropped(self) -> bool:
        """In a pause: did steady carrier hiss (well above the idle floor; well below speech, or no
        louder than the call's own pauses, as the mains hum of a weak station is) just fall to the
        idle floor and stay there for ``END_CONFIRM_S``? Then the carrier is gone, not paused. A
        station whose hiss is too close to the floor, or a call that stops on a word, shows no such
        drop and waits out the hang time."""
        assert self.tx is not None
        n, m = max(1, round(END_CONFIRM_S / self.frame_s)), max(1, round(HISS_S / self.frame_s))
        recent = list(self._recent)
        if not self._idle or len(recent) < n + m + 1:
            return False
        floor = float(np.median(self._idle))
        hiss, after = recent[-n - m - 1:-n - 1], recent[-n:]  # one frame between: the fall itself
        if not (max(after) <= floor + FLOOR_MARGIN_DB and min(hiss) >= floor + CARRIER_DROP_DB
                and max(hiss) - min(hiss) <= HISS_SPREAD_DB):
            return False  # the cheap tests first: the percentile below runs only at a real fall
        speech, pauses = (float(x) for x in np.percentile(self.tx.levels, [90, PAUSE_PERCENTILE]))
        if max(hiss) <= speech - HISS_BELOW_SPEECH_DB:
            return True
        # a call with pauses (not one steady sound) whose pauses hold this same hiss or hum
        return pauses <= speech - PAUSE_BELOW_SPEECH_DB and max(hiss) <= pauses + HISS_AT_PAUSE_DB

    def _find_tail(self, frames: list[tuple[float, np.ndarray]]) -> tuple[int, int] | None:
        """A trailing squelch-tail noise burst in the held-back frames: ``(first, end)`` indexes.

        Walking back from the end: first the quiet frames the squelch still counted as open (the
        burst's last few samples, filter ringing), then the loud noise-like run, which ends where
        the level falls :data:`TAIL_JUMP_DB` below the burst's (carrier hiss nearly as loud as a
        soft voice is noise-like too, but it is not the burst). None when there is no such run, or
        nothing but noise.
        """
        assert self.tx is not None
        if not frames:
            return None
        loud = float(np.percentile(self.tx.levels, 90)) - TAIL_BELOW_LOUD_DB
        cut = len(frames)
        while cut > 0 and dbfs(frames[cut - 1][1]) < loud:
            cut -= 1
        quiet_from = cut
        peak = -np.inf
        while cut > 0:
            f = frames[cut - 1][1]
            level = dbfs(f)
            if level >= max(loud, peak - TAIL_JUMP_DB) and spectral_flatness(f, self.rate) >= TAIL_FLATNESS:
                peak = max(peak, level)
                cut -= 1
            else:
                break
        if cut == quiet_from or cut == 0:  # no burst, or nothing but noise: keep as heard
            return None
        return cut, quiet_from

    def _trim_tail(self, frames: list[tuple[float, np.ndarray]]) -> list[tuple[float, np.ndarray]]:
        """Drop a trailing squelch-tail noise burst (:meth:`_find_tail`) from the held-back frames."""
        if not self.cfg.tail_trim:
            return frames
        burst = self._find_tail(frames)
        return frames if burst is None else frames[:burst[0]]

    def _wait_for_unstuck(self, frame: np.ndarray, t: float, is_open: bool) -> None:
        self._closed_for = 0.0 if is_open else self._closed_for + self.frame_s
        self._preroll.append((t, frame))
        if self._closed_for >= self.cfg.hang_s - EPS:
            log.warning("channel closed again after a stuck squelch")
            self.alarm("stuck_squelch_cleared", t, "squelch closed again; listening normally")
            self._stuck_since = None
