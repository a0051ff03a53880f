"""Building blocks of an analog FM channel as heard from a receiver's speaker output.

Pure numpy/scipy. Every level is an RMS level in dBFS relative to a sample value of 1.0
(so a full-scale sine reads -3 dBFS), the same convention as ``gateway.audio.dsp.dbfs``.

The pieces, with the levels measured in ``shared/samples/sample_morning.flac``:

* floor noise (-72 dBFS, white): the squelch is closed, only the sound card's own noise;
* carrier hiss (-50 dBFS, voice band): a station is keyed up, its carrier brings some noise;
* DTMF ANI (-13 dBFS): the station's identity code sent as touch tones;
* squelch tail (-9 dBFS, full band, ~140 ms): the burst of raw noise when the carrier drops
  and the squelch needs a moment to close again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy import signal

log = logging.getLogger(__name__)

#: (low group Hz, high group Hz) of each DTMF key.
DTMF_FREQS: dict[str, tuple[float, float]] = {
    "1": (697.0, 1209.0), "2": (697.0, 1336.0), "3": (697.0, 1477.0), "A": (697.0, 1633.0),
    "4": (770.0, 1209.0), "5": (770.0, 1336.0), "6": (770.0, 1477.0), "B": (770.0, 1633.0),
    "7": (852.0, 1209.0), "8": (852.0, 1336.0), "9": (852.0, 1477.0), "C": (852.0, 1633.0),
    "*": (941.0, 1209.0), "0": (941.0, 1336.0), "#": (941.0, 1477.0), "D": (941.0, 1633.0),
}

#: Raised-cosine ramp on each end of a DTMF tone, so it does not click.
TONE_RAMP_MS = 4.0

#: Extra noise generated (and dropped) before a filtered noise, so the filter has settled.
_SETTLE = 2048


def db_to_amp(db: float) -> float:
    """Convert a level in dB (dBFS) to a linear amplitude: -20 dB -> 0.1."""
    return float(10.0 ** (db / 20.0))


def rms_dbfs(x: np.ndarray) -> float:
    """RMS level of ``x`` in dBFS (-200 for silence or an empty array)."""
    if len(x) == 0:
        return -200.0
    power = float(np.mean(np.square(x, dtype=np.float64)))
    return 10.0 * float(np.log10(power + 1e-20))


def _bandpass_sos(rate: int, lo: float, hi: float, order: int) -> np.ndarray:
    """Butterworth band-pass; ``order`` poles on each side (6 dB/octave per pole)."""
    sos: np.ndarray = signal.butter(order, [lo, hi], btype="bandpass", fs=rate, output="sos")
    return sos


def bandpass(x: np.ndarray, rate: int, lo: float = 300.0, hi: float = 3000.0, order: int = 4) -> np.ndarray:
    """Band-limit ``x`` to the voice channel of an FM radio (300-3000 Hz by default).

    The default 4th-order Butterworth (24 dB/octave) matches the speech in the sample recording.
    """
    y: np.ndarray = signal.sosfilt(_bandpass_sos(rate, lo, hi, order), np.asarray(x, dtype=np.float64))
    return y.astype(np.float32)


def _scaled(x: np.ndarray, level_dbfs: float) -> np.ndarray:
    """Scale ``x`` so that its RMS level is exactly ``level_dbfs``."""
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    if rms == 0.0:
        return np.zeros(len(x), dtype=np.float32)
    return (x * (db_to_amp(level_dbfs) / rms)).astype(np.float32)


def white_noise(n: int, level_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of Gaussian white noise at exactly ``level_dbfs`` RMS."""
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    return _scaled(rng.standard_normal(n), level_dbfs)


def floor_noise(n: int, level_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """The very quiet channel floor while the squelch is closed (white, about -72 dBFS)."""
    return white_noise(n, level_dbfs, rng)


def _hiss_sos(rate: int) -> np.ndarray:
    """Carrier hiss shaping fitted to the sample's hiss spectrum (within ~1 dB from 20 Hz to 18 kHz).

    A gentle 12 dB/octave roll-off on both sides; -3 dB at 200 Hz and 3200 Hz, so the hiss
    is flat over the 300-3000 Hz voice band and fades outside it.
    """
    high_pass = signal.butter(2, 200.0, btype="highpass", fs=rate, output="sos")
    low_pass = signal.butter(2, 3200.0, btype="lowpass", fs=rate, output="sos")
    return np.vstack([high_pass, low_pass])


def hiss(n: int, level_dbfs: float, rng: np.random.Generator, band: bool = True,
         rate: int = 48000) -> np.ndarray:
    """``n`` samples of carrier noise at ``level_dbfs``, as heard while a station is keyed up.

    With ``band=True`` it is band-limited to the 300-3000 Hz voice band (see ``_hiss_sos``);
    ``band=False`` gives full-band white noise, which is what an open squelch without any
    carrier sounds like.
    """
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    if not band:
        return white_noise(n, level_dbfs, rng)
    raw = rng.standard_normal(n + _SETTLE)
    filtered = signal.sosfilt(_hiss_sos(rate), raw)[_SETTLE:]
    return _scaled(filtered, level_dbfs)


def squelch_tail(rate: int, ms: float = 160.0, level_dbfs: float = -9.0,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """The loud full-band noise burst heard when a carrier drops, before the squelch closes."""
    rng = rng if rng is not None else np.random.default_rng()
    return white_noise(int(round(rate * ms / 1000.0)), level_dbfs, rng)


def _tone_pair(low: float, high: float, n: int, rate: int, amp_low: float, amp_high: float) -> np.ndarray:
    """One DTMF key: two sines with short raised-cosine ramps at both ends."""
    t = np.arange(n) / rate
    tone = amp_low * np.sin(2 * np.pi * low * t) + amp_high * np.sin(2 * np.pi * high * t)
    ramp_n = min(int(rate * TONE_RAMP_MS / 1000.0), n // 2)
    if ramp_n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp_n) / ramp_n)
        tone[:ramp_n] *= ramp
        tone[n - ramp_n:] *= ramp[::-1]
    return tone


def _per_digit(freq_error: float | Sequence[float], count: int) -> list[float]:
    """Expand ``freq_error`` to one value per digit."""
    if isinstance(freq_error, int | float):
        return [float(freq_error)] * count
    errors = [float(e) for e in freq_error]
    if len(errors) != count:
        raise ValueError(f"freq_error has {len(errors)} values for {count} DTMF digits")
    return errors


def dtmf(digits: str, rate: int, tone_ms: float = 80.0, gap_ms: float = 60.0, level_dbfs: float = -13.0,
         twist_db: float = 0.0, freq_error: float | Sequence[float] = 0.0) -> np.ndarray:
    """DTMF tones for ``digits`` (0-9, A-D, * and #), ``gap_ms`` of silence between them.

    ``level_dbfs`` is the RMS level of a whole tone (both sines together). ``twist_db`` is the
    level of the high group minus the low group. ``freq_error`` is a relative frequency error
    (0.015 = +1.5 %) applied to both sines of a key; give a sequence for one value per digit.
    The result starts with the first tone and ends with the last one (no trailing gap).
    """
    digits = digits.upper()
    bad = [d for d in digits if d not in DTMF_FREQS]
    if bad or not digits:
        raise ValueError(f"cannot send DTMF {digits!r}: use 0-9, A-D, * and #")
    # Both sines together: rms = sqrt((a_low^2 + a_high^2) / 2).
    ratio = db_to_amp(twist_db)
    amp_low = db_to_amp(level_dbfs) * np.sqrt(2.0 / (1.0 + ratio**2))
    amp_high = amp_low * ratio
    tone_n = int(round(rate * tone_ms / 1000.0))
    gap = np.zeros(int(round(rate * gap_ms / 1000.0)))
    parts: list[np.ndarray] = []
    for i, (digit, err) in enumerate(zip(digits, _per_digit(freq_error, len(digits)), strict=True)):
        if i:
            parts.append(gap)
        low, high = DTMF_FREQS[digit]
        parts.append(_tone_pair(low * (1 + err), high * (1 + err), tone_n, rate, amp_low, amp_high))
    return np.concatenate(parts).astype(np.float32)


def hum(n: int, rate: int, level_dbfs: float, hz: float = 50.0, phase: float = 0.0) -> np.ndarray:
    """``n`` samples of mains hum at ``level_dbfs`` RMS: the fundamental (50 Hz in Indonesia) with
    its 2nd and 3rd harmonics at half and a third of its amplitude, as a ground loop puts it on a
    receiver's audio."""
    t = np.arange(n) / rate
    x = sum(a * np.sin(2 * np.pi * hz * k * t + phase * k) for k, a in ((1, 1.0), (2, 0.5), (3, 1 / 3)))
    return _scaled(np.asarray(x, dtype=np.float64), level_dbfs)
