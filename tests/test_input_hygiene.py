"""Non-finite samples: zeroed in one place (the pipeline's resampler) with a rate-limited warning,
and the VOX state can never become NaN. Truth: the channel generator's schedule."""

from __future__ import annotations

import dataclasses
import logging
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from gateway.audio.dsp import FLOOR_DBFS, Resampler, SampleGuard
from gateway.config import AsrConfig, Config, VoxConfig
from gateway.daemon import process_file
from gateway.sim.channel import render
from gateway.squelch.vox import VoxSquelch
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission

TOL = 0.3
#: Bursts of carrier hiss (the generator's "kerchunk" item, long enough to count as reports):
#: no espeak needed, exact start/end in the truth.
BURSTS = {
    "seed": 5, "recording_start": "2026-11-20T07:00:00+07:00", "timezone": "Asia/Jakarta",
    "lead_s": 2.0, "rate": 16000,
    "transmissions": [{"kind": "kerchunk", "ms": ms, "hiss_dbfs": -35, "then_gap_s": gap}
                      for ms, gap in ((1800, 4), (2500, 5), (1500, 4), (3000, 4), (2200, 3))],
}


def _rows(data_dir: Path) -> list[Transmission]:
    db = Database(default_url(data_dir))
    with db.read() as s:
        rows = list(s.scalars(select(Transmission).order_by(Transmission.started_at)))
    db.close()
    return rows


def _spans(rows: list[Transmission], t0: float) -> list[tuple[float, float]]:
    return [(r.started_at.timestamp() - t0, r.ended_at.timestamp() - t0) for r in rows]


def test_nan_and_inf_in_a_float_wav_do_not_silence_the_transmissions_after_them(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    audio, truth = render(BURSTS)
    items = truth["transmissions"]
    rate = truth["rate"]
    # poison the gap before the second burst and the middle of the third
    gap = int((items[0]["end_s"] + 1.0) * rate)
    audio[gap:gap + 50] = np.nan
    audio[gap + 800] = np.inf
    mid = int((items[2]["start_s"] + 0.7) * rate)
    audio[mid:mid + 3] = [np.nan, -np.inf, np.nan]
    wav = tmp_path / "poisoned.wav"
    sf.write(wav, audio, rate, subtype="FLOAT")
    assert np.isnan(sf.read(wav, dtype="float32")[0]).sum() == 52  # the file really holds them

    cfg = dataclasses.replace(Config(), asr=AsrConfig(engine="none"))
    start = datetime.fromisoformat(truth["recording_start"])
    with caplog.at_level(logging.WARNING, logger="gateway.audio.dsp"):
        process_file(cfg, tmp_path / "d", wav, start, recognizer=None)
    spans = _spans(_rows(tmp_path / "d"), start.timestamp())
    assert len(spans) == len(items), spans
    for (s, e), want in zip(spans, items, strict=True):
        assert s == pytest.approx(want["start_s"], abs=TOL)
        assert e == pytest.approx(want["end_s"], abs=TOL)
    warnings = [r.getMessage() for r in caplog.records if "non-finite" in r.getMessage()]
    assert len(warnings) == 1, warnings  # rate-limited: one line for both places


def test_sample_guard_zeroes_non_finite_clips_and_counts() -> None:
    g = SampleGuard()
    x = np.array([0.5, np.nan, -np.inf, np.inf, 3.0, -2.0, -0.25], dtype=np.float32)
    y = g.clean(x)
    assert y.dtype == np.float32 and np.isfinite(y).all()
    assert y.tolist() == [0.5, 0.0, 0.0, 0.0, 1.0, -1.0, -0.25]
    assert g.bad_samples == 3
    ints = np.array([1, -32768, 32767], dtype=np.int16)  # integers pass unchanged (as float32)
    assert Resampler(16000, 16000).process(ints.astype(np.float32) / 32768).tolist() == \
        pytest.approx([1 / 32768, -1.0, 32767 / 32768])


def test_resampler_output_stays_finite_after_a_nan_block() -> None:
    r = Resampler(48000, 16000)
    rng = np.random.default_rng(1)
    out = [r.process(np.full(960, np.nan, np.float32))]
    out += [r.process((0.1 * rng.standard_normal(960)).astype(np.float32)) for _ in range(20)]
    joined = np.concatenate(out)
    assert np.isfinite(joined).all() and np.abs(joined[-300:]).max() > 0.01


def _tone(rate: int, level: float, n: int = 320, f: float = 1000.0, t0: int = 0) -> np.ndarray:
    return (level * np.sin(2 * np.pi * f * (np.arange(n) + t0) / rate)).astype(np.float32)


def test_vox_recovers_when_a_nan_frame_reaches_it_directly() -> None:
    """The VOX's own guard (for squelches fed outside the pipeline): NaN resets the filter."""
    vox = VoxSquelch(VoxConfig(), 16000)
    rng = np.random.default_rng(2)
    quiet = lambda: (10 ** (-70 / 20) * rng.standard_normal(320)).astype(np.float32)  # noqa: E731
    for i in range(50):
        vox.update(quiet(), i * 0.02)
    vox.update(np.full(320, np.nan, np.float32), 1.0)
    assert vox.level == FLOOR_DBFS and math.isfinite(vox.floor)
    opened = [vox.update(_tone(16000, 0.3, t0=i * 320), 1.02 + i * 0.02) for i in range(10)]
    assert opened[-1] and math.isfinite(vox.level) and vox.level > -20


def test_vox_floor_stays_finite_even_with_a_nan_setting() -> None:
    """config refuses nan, but a VoxConfig built in code must not poison the floor either."""
    vox = VoxSquelch(VoxConfig(floor_rise_db_per_s=float("nan")), 16000)
    rng = np.random.default_rng(3)
    for i in range(100):
        vox.update((10 ** (-60 / 20) * rng.standard_normal(320)).astype(np.float32), i * 0.02)
    assert math.isfinite(vox.floor)
    assert any(vox.update(_tone(16000, 0.3, t0=i * 320), 2 + i * 0.02) for i in range(10))

