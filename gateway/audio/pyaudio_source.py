"""Live capture from a sound card through PyAudio (PortAudio).

The PortAudio callback runs on PortAudio's own thread and must never block: it only appends the raw
bytes to a bounded queue (``put_nowait``). When the consumer falls behind by more than
``audio.buffer_s`` the newest block is dropped, counted, and the gap shows up downstream as a jump in
:attr:`AudioBlock.index` (the pipeline fills it with silence so timestamps stay right).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from gateway.audio.source import AudioBlock, AudioSourceError
from gateway.logutil import RateLimitedLog

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


def _pyaudio():  # noqa: ANN202 - the module is imported lazily so tests without PortAudio still load
    try:
        import pyaudio
    except ImportError as e:  # pragma: no cover - pyaudio is a hard dependency
        raise AudioSourceError(f"pyaudio is not installed: {e}") from None
    return pyaudio


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


def _supports(pa, index: int, channels: int, rate: int) -> bool:  # noqa: ANN001
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


class PyAudioSource:
    """Sound-card input chosen by device name, rate negotiated, one channel picked."""

    def __init__(self, device: str, rate: int = 0, channel: int = 0, block_ms: int = 20,
                 buffer_s: float = 30.0) -> None:
        pyaudio = _pyaudio()
        dev = find_input(list_inputs(), device)
        if channel >= dev.channels:
            raise AudioSourceError(
                f"audio.channel = {channel}: device {dev.name!r} has {dev.channels} input channel(s)"
            )
        with _quiet_stderr():
            self._pa = pyaudio.PyAudio()
        self.channels = channel + 1
        candidates = (rate,) if rate else PREFERRED_RATES
        usable = [r for r in candidates if _supports(self._pa, dev.index, self.channels, r)]
        if not usable:
            self._pa.terminate()
            raise AudioSourceError(f"audio.rate = {rate}: device {dev.name!r} accepts none of "
                                   f"{list(candidates)} Hz")
        self.rate = usable[0]
        self.channel = channel
        self.name = f"pyaudio:{dev.name}"
        self.start_time = 0.0
        self.device = dev
        self.block = max(1, self.rate * block_ms // 1000)
        self._queue: queue.Queue[tuple[bytes, int]] = queue.Queue(
            maxsize=max(2, int(buffer_s * self.rate / self.block)))
        self._captured = 0  # samples PortAudio has handed us (touched only on the callback thread)
        self.dropped = 0  # samples dropped because the consumer was too slow
        self.overruns = 0  # callbacks PortAudio flagged paInputOverflow (lost below us, in ALSA)
        self._overflow_log = RateLimitedLog(log, 30.0)
        # Open (not start) the stream now, so a busy or unusable device fails here, before the
        # daemon touches the database, and as a one-line AudioSourceError rather than an OSError.
        try:
            with _quiet_stderr():
                self._stream = self._pa.open(
                    format=pyaudio.paInt16, channels=self.channels, rate=self.rate, input=True,
                    input_device_index=dev.index, frames_per_buffer=self.block,
                    stream_callback=self._callback, start=False,
                )
        except (OSError, ValueError) as e:
            self._pa.terminate()
            raise AudioSourceError(f"audio.device = {device!r}: cannot open {dev.name!r} at {self.rate} Hz "
                                   f"({_short(e)})") from None

    # -- PortAudio thread: copy and return, nothing else ----------------------------------------
    def _callback(self, in_data, frame_count, time_info, status):  # noqa: ANN001, ANN202
        index = self._captured
        self._captured += frame_count
        if status & 0x2:  # paInputOverflow
            self.overruns += 1
        try:
            self._queue.put_nowait((in_data, index))
        except queue.Full:
            self.dropped += frame_count
        return (None, 0)  # paContinue

    def blocks(self, stop: threading.Event) -> Iterator[AudioBlock]:
        if self._stream is None:
            raise AudioSourceError(f"{self.name}: source is closed")
        try:
            self._stream.start_stream()
        except OSError as e:
            raise AudioSourceError(f"{self.name}: cannot start capture ({_short(e)})") from None
        log.info("capturing from %s at %d Hz, channel %d", self.device.name, self.rate, self.channel)
        first = True
        while not stop.is_set():
            try:
                data, index = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self._stream is not None and not self._stream.is_active():
                    raise AudioSourceError(f"{self.name}: capture stream stopped") from None
                continue
            pcm = np.frombuffer(data, dtype=np.int16).reshape(-1, self.channels)
            samples = pcm[:, self.channel].astype(np.float32) / 32768.0
            if first:
                self.start_time = time.time() - (index + len(samples)) / self.rate
                first = False
            if self.dropped or self.overruns:
                self._overflow_log.warning("capture overflow: %d samples dropped by the gateway, "
                                           "%d input overruns in PortAudio so far",
                                           self.dropped, self.overruns)
            yield AudioBlock(samples, index)

    def close(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.stop_stream()
            with contextlib.suppress(Exception):
                self._stream.close()
            self._stream = None
        self._pa.terminate()


def _short(e: BaseException) -> str:
    return str(e).splitlines()[0][:160] if str(e) else e.__class__.__name__
