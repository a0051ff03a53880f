"""The sound card vanishes under a running daemon and comes back (a real PulseAudio null sink whose
module is unloaded and loaded again with ``pactl``, captured through PortAudio's ALSA "pulse" device).

Truth is independent of the daemon: when the device went and came back is what this test did, the
transmission played after the return comes from :mod:`gateway.sim` (its own start and length), the web
UI is polled from outside with httpx, and the daemon's state is read the way an operator would
(``health.json`` / ``ht-gateway status``, the database, the log on stderr).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import soundfile as sf

from gateway.health import status

import pulse
from conftest import REPO

pytestmark = pytest.mark.slow

pulse_sink = pulse.fixture(scope="module")

SCENARIO: dict[str, Any] = {
    "seed": 5, "recording_start": "2026-11-20T07:05:00+07:00", "timezone": "Asia/Jakarta",
    "lead_s": 1.0, "rate": 48000,
    "transmissions": [{"station": "Tarutung", "ani": "101", "voice": "id+m3", "speed": 170,
                       "text": "Bupati, di sini Camat Tarutung. Situasi aman. Ganti.", "then_gap_s": 2}],
}


def _pactl(*args: str) -> str:
    return subprocess.run(["pactl", *args], check=True, capture_output=True, text=True, timeout=10).stdout


def _wait(what: str, cond, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return time.time()
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _health(data_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((data_dir / "health.json").read_text())
    except (OSError, ValueError):
        return {}


def _cap(data_dir: Path) -> dict[str, Any]:
    return _health(data_dir).get("capture", {})


def _epoch(iso: str | None) -> float:
    return datetime.fromisoformat(iso).timestamp() if iso else 0.0


def test_the_sound_card_vanishes_and_returns_under_a_running_daemon(pulse_sink: str, tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        pulse.unavailable("espeak-ng not found (Debian package espeak-ng); gateway.sim needs it")
    from gateway.sim.channel import render

    audio, truth = render(SCENARIO)
    wav = tmp_path / "tx.wav"
    sf.write(wav, audio, truth["rate"], subtype="PCM_16")
    (want,) = truth["transmissions"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[audio]\ndevice = "pulse"\n[asr]\nengine = "none"\n[web]\nport = {port}\n')
    data_dir = tmp_path / "data"
    log_path = tmp_path / "daemon.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir",
                                 str(data_dir), "run"], cwd=REPO, stdout=log_file, stderr=log_file,
                                env={**os.environ, "NOTIFY_SOCKET": ""})
    web_results: list[tuple[float, object]] = []
    polling = threading.Event()

    def poll_web() -> None:
        with httpx.Client(timeout=2.0) as client:
            while not polling.is_set():
                try:
                    web_results.append((time.time(), client.get(f"http://127.0.0.1:{port}/login").status_code))
                except httpx.HTTPError as e:
                    web_results.append((time.time(), repr(e)))
                polling.wait(0.2)

    poller = threading.Thread(target=poll_web, daemon=True)
    try:
        _wait("capture up", lambda: status(data_dir)[0] == 0 and _cap(data_dir).get("last_frame"), 40)
        _wait("the web UI", lambda: _get_ok(port), 20)
        poller.start()
        module = next(line.split()[0] for line in _pactl("list", "short", "modules").splitlines()
                      if f"sink_name={pulse_sink}" in line)
        _pactl("unload-module", module)
        unplugged = time.time()
        _wait("capture down in health.json", lambda: _cap(data_dir).get("state") == "down", 10)
        cli = subprocess.run([sys.executable, "-m", "gateway", "--data-dir", str(data_dir), "status"],
                             cwd=REPO, capture_output=True, text=True, timeout=60)
        assert cli.returncode == 1 and "capture: down" in cli.stdout, cli.stdout + cli.stderr
        time.sleep(3.0)
        _pactl("load-module", "module-null-sink", f"sink_name={pulse_sink}")
        returned = time.time()
        _wait("capture back with audio", lambda: _cap(data_dir).get("state") == "up"
              and _epoch(_cap(data_dir).get("last_frame")) > returned, 15)
        cap = _health(data_dir)["capture"]
        assert _epoch(cap["since"]) - returned < 5.0, cap  # reopened within 5 s of the device's return
        time.sleep(1.0)
        played = time.time()
        player = pulse.play(wav, pulse_sink)
        assert player.wait(truth["duration_s"] + 30) == 0
        _wait("the transmission stored", lambda: len(_rows(data_dir)) >= 1, 15)
    finally:
        polling.set()
        if poller.is_alive():
            poller.join(5)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
    err = log_path.read_text()
    assert proc.returncode == 0, err
    down = [line for line in err.splitlines() if "audio input pulse down" in line]
    back = [line for line in err.splitlines() if "audio input pulse back after" in line]
    assert len(down) == 1 and len(back) == 1, err  # one line each per outage
    outage = float(back[0].split("back after ")[1].split(" s")[0])
    assert returned - unplugged - 0.5 < outage < returned - unplugged + 5.0, (outage, err)
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} ", down[0]), "log times carry their zone"
    failures = [r for r in web_results if r[1] != 200]
    assert len(web_results) > 20 and not failures, failures  # the web UI answered throughout
    rows = _rows(data_dir)
    assert len(rows) == 1 and rows[0]["status"] == "complete", rows
    started = datetime.fromisoformat(rows[0]["started_at"]).replace(tzinfo=UTC).timestamp()  # naive UTC
    # dated by the wall clock after the outage: the gap is a gap, not compressed
    assert started - (played + want["start_s"]) == pytest.approx(0.0, abs=0.75)
    assert rows[0]["duration_s"] == pytest.approx(want["end_s"] - want["start_s"], abs=0.4)
    assert (data_dir / rows[0]["audio_path"]).is_file()
    assert not (data_dir / "health.json").exists()


def _get_ok(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _rows(data_dir: Path) -> list[sqlite3.Row]:
    con = sqlite3.connect(f"file:{data_dir / 'gateway.sqlite3'}?mode=ro", uri=True, timeout=5)
    con.row_factory = sqlite3.Row
    try:
        return con.execute("select * from transmissions where status = 'complete' order by id").fetchall()
    finally:
        con.close()
