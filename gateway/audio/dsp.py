"""Pure numpy DSP helpers: sample hygiene, streaming resampling, fixed-size framing, levels and
spectral shape."""

from __future__ import annotations

import logging

import numpy as np
import soxr

from gateway.logutil import RateLimitedLog

FLOOR_DBFS = -120.0
FULL_SCALE = 1.0

log = logging.getLogger(__name__)


class SampleGuard:
    """Makes every sample a finite number within full scale before any stage sees it.

    A float WAV (or a misbehaving driver) can carry NaN or ±inf; one such sample would poison
    every filter state it reaches (the VOX band-pass, the resampler) for the rest of the input.
    Non-finite samples become 0 with a rate-limited warning (counted), and finite samples beyond
    full scale are clipped to ±1.0 (what the Opus recording would do anyway). Integer input cannot
    hold either and passes through untouched apart from the float32 conversion.
    """

    def __init__(self, interval_s: float = 30.0) -> None:
        self.bad_samples = 0  # total non-finite samples zeroed so far
        self._warn = RateLimitedLog(log, interval_s)

    def clean(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        finite = np.isfinite(x)
        if not finite.all():
            n = int(x.size - np.count_nonzero(finite))
            self.bad_samples += n
            x = np.where(finite, x, np.float32(0.0))
            self._warn.warning("%d non-finite audio sample(s) (NaN/inf) replaced by silence", n)
        if x.size and float(np.max(np.abs(x))) > FULL_SCALE:
            x = np.clip(x, -FULL_SCALE, FULL_SCALE)
        return np.ascontiguousarray(x, dtype=np.float32)


class Resampler:
    """Streaming sample-rate converter (libsoxr); keeps filter state between blocks.

    It is the pipeline's first stage (``Pipeline.run`` sends every source block through it before
    framing, squelch and segmenter), so it is where input samples are cleaned (:class:`SampleGuard`).
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self.guard = SampleGuard()
        self._stream = None if in_rate == out_rate else soxr.ResampleStream(
            in_rate, out_rate, 1, dtype="float32", quality="HQ"
        )

    def process(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        x = self.guard.clean(x)
        if self._stream is None:
            return x
        y: np.ndarray = self._stream.resample_chunk(x, last=last)
        return y


class Framer:
    """Cuts a stream of arbitrary blocks into frames of exactly ``size`` samples."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._rest = np.zeros(0, dtype=np.float32)

    def push(self, x: np.ndarray) -> list[np.ndarray]:
        buf = np.concatenate([self._rest, x]) if len(self._rest) else x
        n = len(buf) // self.size
        frames = [buf[i * self.size:(i + 1) * self.size] for i in range(n)]
        self._rest = buf[n * self.size:].copy()
        return frames


def dbfs(x: np.ndarray) -> float:
    """RMS level of ``x`` in dBFS (a full-scale sine reads -3 dBFS)."""
    if len(x) == 0:
        return FLOOR_DBFS
    ms = float(np.dot(x, x)) / len(x)
    return max(FLOOR_DBFS, 10.0 * float(np.log10(ms + 1e-20)))


def peak_dbfs(x: np.ndarray) -> float:
    if len(x) == 0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * float(np.log10(float(np.max(np.abs(x))) + 1e-20)))


def spectral_flatness(frame: np.ndarray, rate: int, lo: float = 300.0, hi: float = 3000.0) -> float:
    """Wiener entropy of the power spectrum in [lo, hi]: ~0.5+ for noise, < 0.2 for voice or tones."""
    spec = np.abs(np.fft.rfft(frame * np.hanning(len(frame)))) ** 2 + 1e-20
    freqs = np.fft.rfftfreq(len(frame), 1.0 / rate)
    band = spec[(freqs >= lo) & (freqs <= hi)]
    return float(np.exp(np.mean(np.log(band))) / np.mean(band))


def to_mono(block: np.ndarray, channel: int) -> np.ndarray:
    """Pick one channel of an interleaved (frames, channels) block as float32."""
    if block.ndim == 1:
        return block.astype(np.float32, copy=False)
    return np.ascontiguousarray(block[:, channel], dtype=np.float32)
