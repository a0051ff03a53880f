"""Pure numpy DSP helpers: streaming resampling, fixed-size framing, levels and spectral shape."""

from __future__ import annotations

import numpy as np
import soxr

FLOOR_DBFS = -120.0


class Resampler:
    """Streaming sample-rate converter (libsoxr); keeps filter state between blocks."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self._stream = None if in_rate == out_rate else soxr.ResampleStream(
            in_rate, out_rate, 1, dtype="float32", quality="HQ"
        )

    def process(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self._stream is None:
            return x
        return self._stream.resample_chunk(x, last=last)


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
    return max(FLOOR_DBFS, 10.0 * np.log10(ms + 1e-20))


def peak_dbfs(x: np.ndarray) -> float:
    if len(x) == 0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * np.log10(float(np.max(np.abs(x))) + 1e-20))


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
