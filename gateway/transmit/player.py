"""Audio out to the radio: a PortAudio output stream on a device chosen by name.

:class:`PyAudioPlayer` opens the output for one transmission and writes blocking chunks, so the
transmitter can check its timeout timer between chunks. :class:`SilentPlayer` plays nothing but
takes the audio's time on a given clock: for tests (TOT with an injected clock) and the bench.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from gateway.audio.source import AudioSourceError

log = logging.getLogger(__name__)

RATES = (48000, 44100, 16000)


class PlayerError(AudioSourceError):
    """The output device cannot be opened or written (one line, naming it; the CLI prints it as
    ``ht-gateway: error: ...`` like an input device problem)."""


class Player(Protocol):
    rate: int

    def open(self) -> None: ...
    def write(self, samples: np.ndarray) -> None: ...
    def close(self) -> None: ...


class PyAudioPlayer:
    def __init__(self, device: str = "", rate: int = 0) -> None:
        from gateway.audio.pyaudio_source import _pyaudio, _quiet_stderr

        self.device, self._quiet = device, _quiet_stderr
        self._pa_mod = _pyaudio()
        self._pa: Any = None  # pyaudio.PyAudio while open (pyaudio has no type information)
        self._stream = None
        self.index, self.rate = self._find(device, rate)

    def _find(self, device: str, rate: int) -> tuple[int | None, int]:
        with self._quiet():
            pa = self._pa_mod.PyAudio()
        try:
            index = None
            if device:
                matches = []
                for i in range(pa.get_device_count()):
                    info = pa.get_device_info_by_index(i)
                    name = str(info["name"]).casefold()
                    if int(info["maxOutputChannels"]) > 0 and device.casefold() in name:
                        matches.append((str(info["name"]).casefold() != device.casefold(), i))
                if not matches:
                    raise PlayerError(f"transmit.device = {device!r}: no such audio output "
                                      "(see ht-gateway devices)")
                index = min(matches)[1]
            for r in ((rate,) if rate else RATES):
                try:
                    ok = pa.is_format_supported(r, output_device=index if index is not None
                                                else pa.get_default_output_device_info()["index"],
                                                output_channels=1, output_format=self._pa_mod.paFloat32)
                except (ValueError, OSError):
                    ok = False
                if ok:
                    return index, r
            raise PlayerError(f"transmit.device = {device!r}: no usable output rate among "
                              f"{(rate,) if rate else RATES}")
        finally:
            pa.terminate()

    def open(self) -> None:
        with self._quiet():
            self._pa = self._pa_mod.PyAudio()
        try:
            self._stream = self._pa.open(format=self._pa_mod.paFloat32, channels=1, rate=self.rate,
                                         output=True, output_device_index=self.index,
                                         frames_per_buffer=1024)
        except OSError as e:
            self.close()
            raise PlayerError(f"transmit.device = {self.device!r}: cannot open ({e})") from None

    def write(self, samples: np.ndarray) -> None:
        assert self._stream is not None
        self._stream.write(np.ascontiguousarray(samples, np.float32).tobytes())

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop_stream()  # waits for what was written to be played
                self._stream.close()
            except OSError:
                pass
            self._stream = None
        if self._pa is not None:
            self._pa.terminate()
            self._pa = None


class SilentPlayer:
    """Plays nothing; each write takes the audio's duration on ``sleep`` (an injected clock's)."""

    def __init__(self, rate: int = 16000, sleep: Callable[[float], None] = time.sleep,
                 fail_after_s: float | None = None) -> None:
        self.rate, self.sleep, self.fail_after_s = rate, sleep, fail_after_s
        self.played_s = 0.0
        self.opened = 0

    def open(self) -> None:
        self.opened += 1

    def write(self, samples: np.ndarray) -> None:
        if self.fail_after_s is not None and self.played_s >= self.fail_after_s:
            raise PlayerError("silent player: injected fault")
        self.sleep(len(samples) / self.rate)
        self.played_s += len(samples) / self.rate

    def close(self) -> None:
        pass
