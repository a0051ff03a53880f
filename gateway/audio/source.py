"""Audio sources: the interface every source honours, and the file-backed source.

A source yields :class:`AudioBlock` s of mono float32 samples at ``source.rate``. Each block says
the index of its first sample since the source started, so a gap (samples lost to an overrun) is
visible downstream and the clock (``start_time + index / rate``) never drifts with lost blocks.
The live PyAudio source lives in :mod:`gateway.audio.pyaudio_source`; both pass the same contract
tests (``tests/test_audio_sources.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

from gateway.audio.dsp import to_mono

log = logging.getLogger(__name__)


class AudioSourceError(RuntimeError):
    """A source cannot be opened or read; the message is one line for the operator."""


@dataclass(frozen=True)
class AudioBlock:
    samples: np.ndarray  # float32, mono
    index: int  # sample index of samples[0] since the source started
    resume: bool = False  # capture resumes after a break (a restart): what is open ends before it


class AudioSource(Protocol):
    """What the pipeline needs from any audio input."""

    rate: int
    name: str
    start_time: float  # epoch seconds of sample 0 (known once the first block is out)

    def blocks(self, stop: threading.Event) -> Iterator[AudioBlock]:
        """Yield blocks until the input ends or ``stop`` is set."""
        ...

    def close(self) -> None: ...


class FileSource:
    """Reads WAV/FLAC/Ogg from disk on a simulated clock: ``start_time`` + sample offset.

    Runs as fast as it can unless ``realtime`` is set, then it is paced like a sound card.
    """

    def __init__(
        self,
        path: str | Path,
        start_time: float,
        channel: int = 0,
        block_ms: int = 20,
        realtime: bool = False,
    ) -> None:
        self.path = Path(path)
        self.name = f"file:{self.path.name}"
        self.start_time = start_time
        self.realtime = realtime
        self.channel = channel
        try:
            info = sf.info(str(self.path))
        except FileNotFoundError:
            raise AudioSourceError(f"{self.path}: file not found") from None
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioSourceError(f"{self.path}: not a readable audio file ({_short(e)})") from None
        if info.frames <= 0:
            raise AudioSourceError(f"{self.path}: audio file holds no samples")
        if channel >= info.channels:
            raise AudioSourceError(
                f"{self.path}: audio.channel = {channel} but the file has {info.channels} channel(s)"
            )
        self.rate = int(info.samplerate)
        self.frames = int(info.frames)
        self.duration_s = self.frames / self.rate
        self.block = max(1, self.rate * block_ms // 1000)
        self.position = 0  # samples delivered so far (for progress bars)

    def blocks(self, stop: threading.Event) -> Iterator[AudioBlock]:
        t0 = time.monotonic()
        try:
            with sf.SoundFile(str(self.path)) as f:
                for raw in f.blocks(blocksize=self.block, dtype="float32", always_2d=True):
                    if stop.is_set():
                        return
                    block = AudioBlock(to_mono(raw, self.channel), self.position)
                    self.position += len(block.samples)
                    if self.realtime:
                        ahead = self.position / self.rate - (time.monotonic() - t0)
                        if ahead > 0 and stop.wait(ahead):
                            return
                    yield block
        except sf.LibsndfileError as e:
            raise AudioSourceError(f"{self.path}: read error at {self.position} ({_short(e)})") from None

    def close(self) -> None:
        pass


def _short(e: BaseException) -> str:
    return str(e).splitlines()[0][:160] if str(e) else e.__class__.__name__
