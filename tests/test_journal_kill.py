"""SIGKILL of ``ht-gateway run`` mid-transmission loses only the restart gap (the capture journal).

A real daemon captures a private PulseAudio null sink (tests/pulse.py) through PortAudio, with VOX.
On the air: a 16 s linear chirp (300 → 3300 Hz), so the frequency of any stretch of stored audio
says which moment of the transmission it is. The daemon is killed with SIGKILL twice during it and
restarted at once (as systemd would). Afterwards the stored audio is read back, every 50 ms window is
mapped to its on-air time by its frequency, and what of the 16 s no stored row holds must be at most
the restart (until the new process hears again) plus 0.2 s per kill: the chirp's stored windows
are mapped to wall time through the first row, and each kill's run of missing chirp is split at the
kill into "captured by the dead process and stored nowhere" (must be <= 0.2 s) and "the restart".
Files against rows: no orphan or temporary files, every row's sha256 that of its file.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from gateway.store.db import Database, default_url
from gateway.store.models import Transmission

import pulse
from conftest import REPO

pulse_sink = pulse.fixture(scope="module")

RATE = 48000
F0, F1, DUR = 300.0, 3300.0, 16.0
LEAD_S = 3.0
KILLS_AT = (4.3, 10.1)  # seconds into the chirp
SLACK_S = 0.2  # per kill: frequency-window granularity and the Opus codec's edges


def _chirp() -> np.ndarray:
    t = np.arange(int(DUR * RATE)) / RATE
    phase = 2 * np.pi * (F0 * t + (F1 - F0) / (2 * DUR) * t * t)
    return (0.3 * np.sin(phase)).astype(np.float32)


def _on_air(audio: np.ndarray, rate: int) -> list[tuple[float, float]]:
    """(seconds into ``audio``, seconds into the chirp) for every 25 ms step that holds the chirp,
    found by its frequency."""
    win = int(0.05 * rate)
    got: list[tuple[float, float]] = []
    hann = np.hanning(win)
    for k in range(0, len(audio) - win + 1, win // 2):
        x = audio[k:k + win]
        if np.sqrt(np.mean(x * x)) < 0.05:  # silence (gap fill, lead-in)
            continue
        spec = np.abs(np.fft.rfft(x * hann, 8 * win))
        f = np.argmax(spec) * rate / (8 * win)
        if not F0 - 50 <= f <= F1 + 50:
            continue
        got.append(((k + win / 2) / rate, (f - F0) / (F1 - F0) * DUR))
    return got


def r_dist(run: list[int], k: float) -> float:
    """How far slot position ``k`` is from a run of slots (0 inside it)."""
    return max(run[0] - k, k - run[-1] - 1, 0.0)


def _start(data: Path, cfg: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir",
                             str(data), "run"], stdout=subprocess.DEVNULL, stderr=open(log, "ab"),
                            cwd=REPO, env=os.environ.copy())


def _wait_for(log: Path, text: str, count: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count(text) >= count:
            return time.monotonic()
        time.sleep(0.01)
    raise AssertionError(f"{text!r} x{count} not in the log within {timeout} s:\n"
                         + log.read_text(errors="replace")[-3000:])


@pytest.mark.parametrize("journal_s", [120])
def test_sigkill_mid_transmission_loses_only_the_restart_gap(pulse_sink: str, tmp_path: Path,
                                                             journal_s: int) -> None:
    wav = tmp_path / "air.wav"
    sf.write(wav, np.concatenate([np.zeros(int(LEAD_S * RATE), np.float32), _chirp(),
                                  np.zeros(3 * RATE, np.float32)]), RATE)
    cfg = tmp_path / "g.toml"
    cfg.write_text(f'[audio]\ndevice = "pulse"\njournal_s = {journal_s}\n[asr]\nengine = "none"\n'
                   '[web]\nserve = false\n')
    data, log = tmp_path / "data", tmp_path / "run.log"
    proc = _start(data, cfg, log)
    try:
        _wait_for(log, "capturing from", 1, 60)
        time.sleep(1.0)
        player = pulse.play(wav, pulse_sink)
        t_air = time.monotonic() + LEAD_S
        gaps = []
        kills = []
        for n, at in enumerate(KILLS_AT, start=2):
            time.sleep(max(0.0, t_air + at - time.monotonic()))
            proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            kills.append(time.time())
            proc.wait(10)
            proc = _start(data, cfg, log)
            gaps.append(_wait_for(log, "capturing from", n, 30) - killed)
        player.wait(DUR + LEAD_S + 10)
        time.sleep(2.5)  # the hang time, then the close
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    assert text.count("capture journal: replaying") == len(KILLS_AT), text[-3000:]

    db = Database(default_url(data))
    try:
        with db.read() as s:
            rows = list(s.scalars(select(Transmission)))
    finally:
        db.close()
    covered: set[int] = set()
    listed = set()
    air_to_wall = []  # the first row (before any kill): wall time minus chirp time
    for row in sorted(rows, key=lambda r: r.audio_started_at):
        assert row.status == "complete"
        path = data / row.audio_path
        listed.add(path)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row.sha256
        audio, rate = sf.read(str(path), dtype="float32")
        for into, air in _on_air(audio, rate):
            covered.add(min(int(air / 0.05), int(DUR / 0.05) - 1))
            if not air_to_wall or path == next(iter(listed)):
                air_to_wall.append(row.audio_started_at.timestamp() + into - air)
    on_disk = set((data / "recordings").rglob("*"))
    files = {p for p in on_disk if p.is_file()}
    assert files == listed, (files, listed)  # no orphans, no .part left
    lost = DUR - len(covered) * 0.05
    missing = set(range(int(DUR / 0.05))) - covered
    # each kill's run of missing chirp: before the kill (what the dead process had captured and
    # nothing stored: the journal's job) and after it (the restart, until the new process hears)
    offset = float(np.median(air_to_wall))
    runs: list[list[int]] = []  # runs of missing 50 ms slots (a single stray window bridged)
    for m in sorted(missing):
        if runs and m - runs[-1][-1] <= 2:
            runs[-1].append(m)
        else:
            runs.append([m])
    before, after = [], []
    for killed_at in kills:
        k = (killed_at - offset) / 0.05
        run = min(runs, key=lambda r: r_dist(r, k), default=[])
        assert run and r_dist(run, k) <= 20, (k, runs)  # a run of missing audio within 1 s of the kill
        before.append(round(max(0.0, min(k, run[-1] + 1) - run[0]) * 0.05, 2))
        after.append(round(max(0.0, run[-1] + 1 - max(k, run[0])) * 0.05, 2))
    print(f"lost {lost:.2f} s of {DUR} s in {len(rows)} rows; per kill: before the kill "
          f"{before} s, restart {after} s (log 'capturing from' after {[round(g, 2) for g in gaps]} s)")
    assert all(b <= SLACK_S for b in before), before
    assert lost <= sum(before) + sum(after) + 0.15, (lost, runs)  # nothing lost elsewhere
