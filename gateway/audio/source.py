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
from typing import Literal, Protocol

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
        # libsndfile reads a WAV cut short up to its end without an error (it shortens info.frames
        # to what is there); a FLAC cut short raises. The header's own count tells them apart.
        self.declared_frames = wav_declared_frames(self.path) if info.format in _RIFF_FORMATS else None
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
        if self.declared_frames is not None and self.position < self.declared_frames:
            # as a truncated FLAC: the pipeline closes what is open as cut short, then this is the error
            raise AudioSourceError(
                f"{self.path}: truncated: ends after {self.position / self.rate:.1f} s, its header says "
                f"{self.declared_frames / self.rate:.1f} s")

    def close(self) -> None:
        pass


_RIFF_FORMATS = ("WAV", "WAVEX")
#: data chunk sizes a writer that could not seek back (a pipe, a recorder still running) leaves
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def wav_declared_frames(path: Path) -> int | None:
    """The sample frames a RIFF WAV's header says its ``data`` chunk holds; None when it does not
    say (a streamed WAV's 0 or 0xFFFFFFFF) or the header cannot be walked."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return None
            order: Literal["little", "big"] = "little" if head[:4] == b"RIFF" else "big"
            block_align = 0
            for _ in range(64):  # fmt, fact, LIST, ... before data
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                size = int.from_bytes(chunk[4:], order)
                if chunk[:4] == b"data":
                    if size in _UNKNOWN_SIZES or block_align <= 0:
                        return None
                    return size // block_align
                body = f.read(min(size, 64)) if chunk[:4] == b"fmt " else b""
                if chunk[:4] == b"fmt " and len(body) >= 14:
                    block_align = int.from_bytes(body[12:14], order)
                f.seek(size + (size & 1) - len(body), 1)
    except OSError:
        return None
    return None


def _short(e: BaseException) -> str:
    return str(e).splitlines()[0][:160] if str(e) else e.__class__.__name__
