"""Live capture from a sound card through PyAudio (PortAudio).

The PortAudio callback runs on PortAudio's own thread and must never block: it only appends the raw
bytes to a bounded deque (no lock) and, once ``BATCH_S`` of audio is waiting, sets an event. When the
consumer falls behind by more than ``audio.buffer_s`` the newest block is dropped, counted, and the
gap shows up downstream as a jump in :attr:`AudioBlock.index` (the pipeline fills it with silence so
timestamps stay right).

The consumer wakes once per ``BATCH_S`` (100 ms), not once per PortAudio block, and hands the
pipeline all that has arrived as one block: on a quiet channel the cost of a wake-up (thread switch,
GIL hand-over, a Python loop turn) is most of what the gateway does, so there are 10 a second, not
50. It costs at most ``BATCH_S`` of latency, far below the segmenter's hang time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from gateway.audio.clock import SampleClock
from gateway.audio.source import AudioBlock, AudioSourceError
from gateway.logutil import RateLimitedLog

if TYPE_CHECKING:
    from gateway.audio.journal import CaptureJournal

log = logging.getLogger(__name__)

PREFERRED_RATES = (48000, 44100, 16000)


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_rate: int
    rates: tuple[int, ...]


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """PortAudio's ALSA/JACK probing prints harmless warnings on fd 2; hide them while probing."""
    if os.environ.get("HT_GATEWAY_DEBUG_PORTAUDIO"):
        yield
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _pyaudio() -> ModuleType:  # imported lazily so tests without PortAudio still load
    try:
        import pyaudio
    except ImportError as e:  # pragma: no cover - pyaudio is a hard dependency
        raise AudioSourceError(f"pyaudio is not installed: {e}") from None
    module: ModuleType = pyaudio
    return module


def list_inputs() -> list[InputDevice]:
    """Every input device PortAudio sees, with the preferred rates it accepts."""
    pyaudio = _pyaudio()
    with _quiet_stderr():
        pa = pyaudio.PyAudio()
    try:
        out = []
        for i in range(pa.get_device_count()):
            info = pa.get_device_info_by_index(i)
            ch = int(info["maxInputChannels"])
            if ch <= 0:
                continue
            rates = tuple(r for r in PREFERRED_RATES if _supports(pa, i, 1, r))
            out.append(InputDevice(i, str(info["name"]), ch, int(info["defaultSampleRate"]), rates))
        return out
    finally:
        pa.terminate()


def _supports(pa: Any, index: int, channels: int, rate: int) -> bool:  # pa: pyaudio.PyAudio
    pyaudio = _pyaudio()
    try:
        with _quiet_stderr():
            return bool(pa.is_format_supported(rate, input_device=index, input_channels=channels,
                                               input_format=pyaudio.paInt16))
    except ValueError:
        return False


def find_input(devices: list[InputDevice], name: str) -> InputDevice:
    """By exact name, else a unique case-insensitive substring; never by index."""
    exact = [d for d in devices if d.name == name]
    if exact:
        return exact[0]
    sub = [d for d in devices if name.casefold() in d.name.casefold()]
    if len(sub) == 1:
        return sub[0]
    if not sub:
        names = ", ".join(repr(d.name) for d in devices) or "none"
        raise AudioSourceError(f"audio.device = {name!r}: no such input device (inputs: {names})")
    names = ", ".join(repr(d.name) for d in sub)
    raise AudioSourceError(f"audio.device = {name!r}: matches several inputs ({names}); be more exact")


class CaptureListener(Protocol):
    """Told when the input goes down and comes back, and on every reopen attempt (health)."""

    def capture_state(self, up: bool, reason: str) -> None: ...
    def capture_tick(self) -> None: ...


class PyAudioSource:
    """Sound-card input chosen by device name, rate negotiated, one channel picked.

    The device must be there at start (a wrong name fails with one line). Once capturing, an input
    that vanishes (the stream stops, PortAudio reports an error, or no audio arrives for ``stall_s``)
    is closed and reopened every ``reopen_s`` seconds until it is back, with one log line when it goes
    down and one when it returns. The outage is a gap in the channel's time, not compressed: up to
    ``GAP_FILL_S`` of it is handed downstream as missing samples (the pipeline fills them with
    silence, which closes a transmission cut by the outage), the rest moves the clock forward.
    """

    GAP_FILL_S = 10.0
    journal: CaptureJournal | None = None  # attached once the data directory is ours
    _jbase: int | None = None  # journal index minus callback index, this stream
    _jfrom = 0  # the callback index from which this stream is journaled
    BATCH_S = 0.1  # the consumer wakes once per this much audio (see the module's docstring)
    FIRST_BLOCK_S = 15.0  # PortAudio's pulse/ALSA path can take a few seconds to deliver the first block

    def __init__(self, device: str, rate: int = 0, channel: int = 0, block_ms: int = 20,
                 buffer_s: float = 30.0, reopen_s: float = 2.0, stall_s: float = 5.0,
                 listener: CaptureListener | None = None) -> None:
        dev = find_input(list_inputs(), device)
        if channel >= dev.channels:
            raise AudioSourceError(
                f"audio.channel = {channel}: device {dev.name!r} has {dev.channels} input channel(s)"
            )
        self.device_name = device
        self.channels = channel + 1
        self.channel = channel
        self.reopen_s, self.stall_s, self.listener = reopen_s, stall_s, listener
        self.name = f"pyaudio:{dev.name}"
        self.start_time = 0.0
        self.block_ms, self.buffer_s = block_ms, buffer_s
        self.dropped = 0  # samples dropped because the consumer was too slow
        self.overruns = 0  # callbacks PortAudio flagged paInputOverflow (lost below us, in ALSA)
        self.outages = 0
        self._overflow_log = RateLimitedLog(log, 30.0)
        self._pa: Any = None  # pyaudio.PyAudio while open (pyaudio has no type information)
        self._stream = None
        # Open (not start) the stream now, so a busy or unusable device fails here, before the
        # daemon touches the database, and as a one-line AudioSourceError rather than an OSError.
        self.rate = self._open(dev, rate)
        self.device = dev
        self.clock = SampleClock(self.rate)

    def _open(self, dev: InputDevice, rate: int) -> int:
        pyaudio = _pyaudio()
        with _quiet_stderr():
            self._pa = pyaudio.PyAudio()
        candidates = (rate,) if rate else PREFERRED_RATES
        usable = [r for r in candidates if _supports(self._pa, dev.index, self.channels, r)]
        if not usable:
            self._terminate()
            raise AudioSourceError(f"audio.rate = {rate}: device {dev.name!r} accepts none of "
                                   f"{list(candidates)} Hz")
        chosen = usable[0]
        self.block = max(1, chosen * self.block_ms // 1000)
        self._max_blocks = max(2, int(self.buffer_s * chosen / self.block))
        self._batch = max(1, min(self._max_blocks, round(self.BATCH_S * chosen / self.block)))
        self._pending: deque[tuple[bytes, int]] = deque()  # append/popleft are atomic: no lock
        self._ready = threading.Event()
        self._captured = 0  # samples PortAudio has handed us (touched only on the callback thread)
        self._jbase = None
        self.arrived = (0, time.monotonic())  # (samples handed over, monotonic time): the callback's
        try:
            with _quiet_stderr():
                self._stream = self._pa.open(
                    format=pyaudio.paInt16, channels=self.channels, rate=chosen, input=True,
                    input_device_index=dev.index, frames_per_buffer=self.block,
                    stream_callback=self._callback, start=False,
                )
        except (OSError, ValueError) as e:
            self._terminate()
            raise AudioSourceError(f"audio.device = {self.device_name!r}: cannot open {dev.name!r} "
                                   f"at {chosen} Hz ({_short(e)})") from None
        return chosen

    def _reopen(self) -> None:
        """Open the same device again at the same rate (a fresh PortAudio sees re-plugged cards)."""
        self._close_stream()
        dev = find_input(list_inputs(), self.device_name)
        if dev.channels < self.channels:
            raise AudioSourceError(f"{dev.name!r} has {dev.channels} input channel(s)")
        self._open(dev, self.rate)
        self.device = dev

    # -- PortAudio thread: copy and return, nothing else ----------------------------------------
    def _callback(self, in_data: bytes, frame_count: int, time_info: object,
                  status: int) -> tuple[None, int]:
        index = self._captured
        self._captured += frame_count
        if status & 0x2:  # paInputOverflow
            self.overruns += 1
        journal = self.journal
        if journal is not None:  # a copy into the page cache: survives the process (see journal.py)
            if self._jbase is None:
                self._jfrom, self._jbase = index, journal.written - index
            pcm = np.frombuffer(in_data, dtype=np.int16)
            journal.write(pcm if self.channels == 1 else pcm[self.channel::self.channels])
        self.arrived = (self._captured, time.monotonic())  # one tuple store: read whole by blocks()
        pending = self._pending
        if len(pending) >= self._max_blocks:
            self.dropped += frame_count
        else:
            pending.append((in_data, index))
            if len(pending) >= self._batch and not self._ready.is_set():
                self._ready.set()
        return (None, 0)  # paContinue

    def blocks(self, stop: threading.Event) -> Iterator[AudioBlock]:
        if self._stream is None:
            raise AudioSourceError(f"{self.name}: source is closed")
        base = 0  # index of this stream's first sample in the channel's count
        next_index = 0
        reanchor = False
        while not stop.is_set():
            try:
                for block in self._stream_blocks(stop, base):
                    next_index = block.index + len(block.samples)
                    end, at = self.arrived  # the newest samples the card has handed over, and when
                    if reanchor:  # the first block after an outage: dated by the wall clock
                        self.start_time = self.clock.anchor(base + end, at)
                        reanchor = False
                    else:
                        self.start_time = self.clock.observe(base + end, at)
                    jend = self._journal_mark(block, base)
                    yield block
                    if jend is not None and self.journal is not None:
                        self.journal.mark_consumed(jend)  # the pipeline asked for the next one
                return  # stopped
            except _Down as e:
                reason = str(e)
            outage = self._wait_for_device(stop, reason)
            if outage is None:
                return
            fill = min(round(outage * self.rate), round(self.GAP_FILL_S * self.rate))
            base = next_index + fill
            reanchor = True

    def attach_journal(self, journal: CaptureJournal) -> None:
        """From the next callback on, every block is also written to ``journal``."""
        self.journal = journal

    def _journal_mark(self, block: AudioBlock, base: int) -> int | None:
        """Tell the journal which time the end of ``block`` has; its journal index (None: not
        journaled)."""
        jbase, journal = self._jbase, self.journal
        local_end = block.index - base + len(block.samples)
        if journal is None or jbase is None or local_end <= self._jfrom:
            return None
        jend = jbase + local_end
        journal.mark_read(jend, self.start_time + (block.index + len(block.samples)) / self.rate)
        return jend

    def _wait_for_device(self, stop: threading.Event, reason: str) -> float | None:
        """Closed input: reopen every ``reopen_s`` until it is back; the outage's length, or None."""
        self.outages += 1
        t0 = time.monotonic()
        log.warning("audio input %s down: %s; reopening every %g s", self.device_name, reason,
                    self.reopen_s)
        if self.listener is not None:
            self.listener.capture_state(False, reason)
        self._close_stream()
        while not stop.wait(self.reopen_s):
            if self.listener is not None:
                self.listener.capture_tick()
            try:
                self._reopen()
            except AudioSourceError as e:
                log.debug("audio input %s still down: %s", self.device_name, e)
                continue
            outage = time.monotonic() - t0
            log.warning("audio input %s back after %.1f s", self.device_name, outage)
            if self.listener is not None:
                self.listener.capture_state(True, "")
            return outage
        return None

    def start(self) -> None:
        """Start the sound card now: what it hears waits in the capture buffer (``audio.buffer_s``)
        until :meth:`blocks` reads it, so the daemon starts capture before its slower start-up work
        (database, recovery) and a restart loses only the time until the device is open."""
        if self._stream is None:
            raise AudioSourceError(f"{self.name}: source is closed")
        try:
            if not self._stream.is_active():
                self._stream.start_stream()
        except OSError as e:
            raise AudioSourceError(f"{self.name}: cannot start capture ({_short(e)})") from None
        log.info("capturing from %s at %d Hz, channel %d", self.device.name, self.rate, self.channel)

    def _stream_blocks(self, stop: threading.Event, base: int) -> Iterator[AudioBlock]:
        assert self._stream is not None
        try:
            if not self._stream.is_active():
                self._stream.start_stream()
                log.info("capturing from %s at %d Hz, channel %d", self.device.name, self.rate,
                         self.channel)
        except OSError as e:
            raise _Down(f"cannot start capture ({_short(e)})") from None
        last = time.monotonic()
        patience = self.FIRST_BLOCK_S
        pending, ready = self._pending, self._ready
        wait_s = max(0.2, 2 * self.BATCH_S)  # also how soon a stop is noticed
        while not stop.is_set():
            ready.wait(wait_s)
            ready.clear()  # before draining: a block appended after this sets it again
            got = [pending.popleft() for _ in range(len(pending))]
            if not got:
                stream = self._stream
                try:
                    active = stream is not None and stream.is_active()
                except OSError:
                    active = False
                if not active:
                    raise _Down("capture stream stopped") from None
                if time.monotonic() - last > patience:
                    raise _Down(f"no audio for {time.monotonic() - last:.0f} s") from None
                continue
            last = time.monotonic()
            patience = self.stall_s
            if self.dropped or self.overruns:
                self._overflow_log.warning("capture overflow: %d samples dropped by the gateway, "
                                           "%d input overruns in PortAudio so far",
                                           self.dropped, self.overruns)
            for data, index in _contiguous(got, 2 * self.channels):
                pcm = np.frombuffer(data, dtype=np.int16).reshape(-1, self.channels)
                samples = pcm[:, self.channel].astype(np.float32) * np.float32(1 / 32768)
                yield AudioBlock(samples, base + index)

    def _close_stream(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.stop_stream()
            with contextlib.suppress(Exception):
                self._stream.close()
            self._stream = None
        self._terminate()

    def _terminate(self) -> None:
        if self._pa is not None:
            with contextlib.suppress(Exception):
                self._pa.terminate()
            self._pa = None

    def close(self) -> None:
        self._close_stream()


def _contiguous(got: list[tuple[bytes, int]], frame_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Join consecutive callback blocks into one (bytes, first index) per run without a gap."""
    start = 0
    for k in range(1, len(got) + 1):
        if k == len(got) or got[k][1] != got[k - 1][1] + len(got[k - 1][0]) // frame_bytes:
            run = got[start:k]
            yield (run[0][0] if len(run) == 1 else b"".join(d for d, _ in run)), run[0][1]
            start = k


class _Down(Exception):
    """The open input stopped delivering audio (internal: triggers the reopen loop)."""


def _short(e: BaseException) -> str:
    return str(e).splitlines()[0][:160] if str(e) else e.__class__.__name__
