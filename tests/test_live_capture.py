"""The real PortAudio path end to end: a simulated channel played into a PulseAudio null sink, captured
by :class:`PyAudioSource` from the ALSA "pulse" device, cut by VOX + segmenter, stored in SQLite.

The channel is rendered by :mod:`gateway.sim` (espeak-ng speech, ANI tones, hiss, squelch tails) and
played with ``paplay`` while :func:`gateway.daemon.run_pipeline` runs on a thread. Absolute times
depend on when playback really began, so starts are compared relative to the first transmission.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from gateway.audio.pyaudio_source import PyAudioSource
from gateway.config import Config
from gateway.daemon import RunResult, build_squelch, run_pipeline
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission

import pulse

pytestmark = pytest.mark.slow

pulse_sink = pulse.fixture(scope="module")

TOLERANCE_S = 0.3
SCENARIO: dict[str, Any] = {
    "seed": 11,
    "recording_start": "2026-11-20T07:05:00+07:00",
    "timezone": "Asia/Jakarta",
    "lead_s": 1.5,
    "rate": 48000,
    "transmissions": [
        {"station": "Tarutung", "ani": "101", "voice": "id+m3", "speed": 170,
         "text": "Bupati, di sini Camat Tarutung. Situasi aman. Ganti.", "then_gap_s": 5},
        {"station": "Siatas Barita", "voice": "id+f2", "speed": 170,
         "text": "Lapor, Camat Siatas Barita. Jalan aman. Ganti.", "then_gap_s": 4},
        {"station": "Sipahutar", "ani": "112", "voice": "id+m1", "speed": 170,
         "text": "Sipahutar melapor, aman. Ganti.", "then_gap_s": 4},
    ],
}


def _channel(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    if shutil.which("espeak-ng") is None:
        pulse.unavailable("espeak-ng not found (Debian package espeak-ng); gateway.sim needs it")
    from gateway.sim.channel import render

    audio, truth = render(SCENARIO)
    sf.write(path, audio, truth["rate"], subtype="PCM_16")
    return audio, truth


def test_live_capture_end_to_end(pulse_sink: str, tmp_path: Path) -> None:
    wav = tmp_path / "channel.wav"
    _, truth = _channel(wav)
    expected = truth["transmissions"]
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    cfg = Config()
    db = Database(default_url(data_dir))
    db.migrate()

    source = PyAudioSource("pulse", cfg.audio.rate, cfg.audio.channel, cfg.audio.block_ms,
                           cfg.audio.buffer_s)
    squelch = build_squelch(cfg)
    stop = threading.Event()
    capturing = threading.Event()
    outcome: dict[str, Any] = {}

    def worker() -> None:
        try:
            outcome["result"] = run_pipeline(cfg, data_dir, source, squelch, db, stop,
                                             heartbeat=capturing.set)
        except BaseException as e:  # reported by the main thread
            outcome["error"] = e

    thread = threading.Thread(target=worker, name="pipeline", daemon=True)
    thread.start()
    try:
        assert capturing.wait(15), "no audio block from the pulse device within 15 s"
        played_at = time.time()
        player = pulse.play(wav, pulse_sink)
        try:
            rc = player.wait(truth["duration_s"] + 30)
        finally:
            if player.poll() is None:
                player.kill()
        assert rc == 0, player.stderr.read() if player.stderr else ""
        time.sleep(3.0)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive(), "pipeline did not stop within 10 s of stop"
    if "error" in outcome:
        raise outcome["error"]
    result: RunResult = outcome["result"]
    assert source.dropped == 0
    assert result.stats.gaps == 0

    with db.read() as s:
        rows = list(s.scalars(select(Transmission).order_by(Transmission.started_at)))
    db.close()

    summary = [(round(r.started_at.timestamp() - played_at, 2), r.duration_s) for r in rows]
    assert len(rows) == len(expected), f"got (start after play, duration): {summary}"
    assert [r.id for r in rows] == sorted(result.transmission_ids)
    first = rows[0].started_at.timestamp()
    print(f"\nlive capture: (start after play, duration) {summary}; truth "
          f"{[(t['start_s'], round(t['end_s'] - t['start_s'], 3)) for t in expected]}")
    # the source's clock puts the first one where it was played (paplay start-up is a few 10 ms)
    assert first - (played_at + expected[0]["start_s"]) == pytest.approx(0.0, abs=0.75), summary
    for row, want in zip(rows, expected, strict=True):
        assert row.status == "complete" and not row.kerchunk and not row.stuck
        assert row.source == "pyaudio:pulse"
        assert row.duration_s == pytest.approx(want["end_s"] - want["start_s"], abs=TOLERANCE_S), summary
        offset = row.started_at.timestamp() - first
        assert offset == pytest.approx(want["start_s"] - expected[0]["start_s"], abs=TOLERANCE_S), summary
        assert row.ended_at is not None
        assert (row.ended_at - row.started_at).total_seconds() == pytest.approx(row.duration_s, abs=0.01)

        assert row.audio_path and row.temp_path is None
        path = data_dir / row.audio_path
        assert path.is_file(), path
        assert path.stat().st_size == row.audio_bytes
        audio, rate = sf.read(str(path), dtype="float32")
        assert rate == cfg.recorder.sample_rate and audio.ndim == 1
        assert len(audio) / rate == pytest.approx(row.duration_s + cfg.segmenter.pre_roll_s, abs=0.1)
        assert row.audio_duration_s == pytest.approx(len(audio) / rate, abs=0.05)
        assert -40 < (row.rms_dbfs or -120) < 0
    assert not list(data_dir.rglob("*.part")), "temporary recording files left behind"
