"""Mains hum in the channel model: level and frequencies measured with an FFT (independent of how
the hum is made), and a station with hum differs from the same station without it only there."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from gateway.sim import radio
from gateway.sim.channel import render


def _spectrum(x: np.ndarray, rate: int, window: bool = True) -> tuple[np.ndarray, np.ndarray]:
    mag = np.abs(np.fft.rfft(x * np.hanning(len(x)) if window else x))
    return np.fft.rfftfreq(len(x), 1 / rate), mag


@pytest.mark.parametrize("hz", [50.0, 60.0])
def test_hum_level_and_harmonics(hz: float) -> None:
    rate = 16000
    x = radio.hum(rate * 2, rate, -30.0, hz)
    assert 20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2))) == pytest.approx(-30.0, abs=0.01)
    f, mag = _spectrum(x, rate, window=False)  # 2 s: whole cycles, every harmonic in one bin
    top3 = sorted(f[np.argsort(mag)[-3:]])  # the three strongest bins
    assert top3 == pytest.approx([hz, 2 * hz, 3 * hz], abs=1.0)


def test_a_station_with_hum_carries_it_from_keyup_to_keydown() -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    base = {"seed": 5, "recording_start": "2026-11-20T07:05:00+07:00", "timezone": "Asia/Jakarta",
            "lead_s": 1.0, "rate": 16000,
            "transmissions": [{"station": "Tarutung", "text": "Situasi aman. Ganti.", "then_gap_s": 1}]}
    plain, truth = render(base)
    hummed_sc = {**base, "transmissions": [{**base["transmissions"][0], "hum_dbfs": -30.0}]}
    hummed, truth2 = render(hummed_sc)
    assert truth2["transmissions"][0]["end_s"] == truth["transmissions"][0]["end_s"]
    item = truth["transmissions"][0]
    a, b = int(item["start_s"] * 16000), int(item["speech_start_s"] * 16000)  # key-up hiss, no speech
    diff = hummed[a:b].astype(np.float64) - plain[a:b]
    f, mag = _spectrum(diff, 16000)
    assert abs(f[np.argmax(mag)] - 50.0) <= 16000 / (b - a) + 1
    assert np.max(np.abs(hummed[:a - 10] - plain[:a - 10])) == 0.0, "no hum while the squelch is closed"
