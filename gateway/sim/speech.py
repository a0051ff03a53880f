"""Synthetic speech for the channel simulator, made with the espeak-ng command-line tool.

espeak-ng writes a 22050 Hz 16-bit WAV to stdout; we read it in memory, resample it to the
channel rate and trim the silence around the words. Nothing is cached on disk.
"""

from __future__ import annotations

import io
import logging
import math
import shutil
import subprocess

import numpy as np
import soundfile as sf
from scipy import signal

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"

#: A 10 ms frame counts as speech when it is within this many dB of the loudest frame.
TRIM_BELOW_PEAK_DB = 45.0
TRIM_FRAME_S = 0.010


def _espeak_command(text: str, voice: str, speed: int, pitch: int, ssml: bool) -> list[str]:
    exe = shutil.which(ESPEAK)
    if exe is None:
        raise RuntimeError("espeak-ng not found: install it with 'apt-get install espeak-ng'")
    cmd = [exe, "--stdout", "-v", voice, "-s", str(int(speed)), "-p", str(int(pitch))]
    if ssml:
        cmd.append("-m")
    # "--" so that a text starting with "-" is not taken for an option.
    return [*cmd, "--", text]


def _run_espeak(cmd: list[str]) -> tuple[np.ndarray, int]:
    """Run espeak-ng and decode the WAV it prints (its header has no real length; libsndfile copes)."""
    log.debug("running %s", cmd[:-1])
    done = subprocess.run(cmd, capture_output=True, check=False, timeout=60)
    if done.returncode != 0 or not done.stdout:
        err = done.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"espeak-ng failed (exit {done.returncode}): {err or 'no audio produced'}")
    audio, rate = sf.read(io.BytesIO(done.stdout), dtype="float32", always_2d=False)
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    return audio, int(rate)


def resample(x: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling from ``from_rate`` to ``to_rate`` (e.g. 22050 -> 48000 is 320/147)."""
    if from_rate == to_rate:
        return x.astype(np.float32)
    g = math.gcd(from_rate, to_rate)
    y: np.ndarray = signal.resample_poly(x, to_rate // g, from_rate // g).astype(np.float32)
    return y


def trim_silence(x: np.ndarray, rate: int) -> np.ndarray:
    """Cut leading and trailing frames that are more than TRIM_BELOW_PEAK_DB below the loudest one."""
    frame = max(1, int(rate * TRIM_FRAME_S))
    n = len(x) // frame
    if n == 0:
        return x
    power = np.mean(np.square(x[: n * frame].reshape(n, frame), dtype=np.float64), axis=1)
    if power.max() <= 0.0:
        return x[:0]
    loud = np.flatnonzero(power >= power.max() * 10.0 ** (-TRIM_BELOW_PEAK_DB / 10.0))
    return x[loud[0] * frame:(loud[-1] + 1) * frame]


def speak(text: str, voice: str = "id", speed: int = 150, pitch: int = 50, rate: int = 48000,
          ssml: bool = False) -> np.ndarray:
    """Say ``text`` with espeak-ng; float32 mono in [-1, 1] at ``rate``, silence trimmed.

    ``voice`` is an espeak-ng voice such as ``"id"`` or ``"id+f2"``; ``speed`` is in words per
    minute and ``pitch`` 0-99. With ``ssml=True`` the text may hold SSML such as
    ``<break time="1200ms"/>`` (it is wrapped in ``<speak>`` if it is not already).
    """
    if ssml and not text.lstrip().startswith("<speak"):
        text = f"<speak>{text}</speak>"
    audio, native_rate = _run_espeak(_espeak_command(text, voice, speed, pitch, ssml))
    audio = trim_silence(resample(audio, native_rate, rate), rate)
    log.debug("spoke %d chars with %s: %.2f s", len(text), voice, len(audio) / rate)
    clipped: np.ndarray = np.clip(audio, -1.0, 1.0).astype(np.float32)
    return clipped
