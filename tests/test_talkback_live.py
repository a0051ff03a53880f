"""Talking back through real audio: an acknowledgement played by the transmitter through PortAudio
into a PulseAudio null sink is captured back by the gateway's own capture path (PyAudioSource, VOX,
segmenter, recorder, store), recorded as a transmission and identified as the gateway's own; and
``ht-gateway calibrate`` in a pty shows levels that move when a tone is played.

Truth: the message the test queued (its id and time), FakePtt's recorded key/unkey times, and the
tone the test generated and played with paplay.
"""

from __future__ import annotations

import dataclasses
import os
import pty
import re
import select as selectmod
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from gateway.audio.pyaudio_source import PyAudioSource
from gateway.config import Config, Station
from gateway.config_transmit import TransmitConfig
from gateway.daemon import build_squelch, run_pipeline
from gateway.ptt.fake import FakePtt
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission, TransmitMessage
from gateway.transmit import queue
from gateway.transmit.player import PyAudioPlayer
from gateway.transmit.setup import build_worker

import pulse

pytestmark = pytest.mark.slow

pulse_sink = pulse.fixture(scope="module")


def test_acknowledgement_round_trip_is_recorded_as_the_gateways_own(pulse_sink: str,
                                                                    tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        pulse.unavailable("espeak-ng not found (Debian package espeak-ng)")
    cfg = dataclasses.replace(Config(), stations=(Station("Sipoholon", "12.02.03", ("103",)),),
                              transmit=TransmitConfig(enabled=True, device="pulse", guard_s=0.2))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = Database(default_url(data_dir))
    db.migrate()
    ptt = FakePtt()
    worker, channel = build_worker(cfg, db, ptt, PyAudioPlayer("pulse"))
    source = PyAudioSource("pulse", cfg.audio.rate, cfg.audio.channel, cfg.audio.block_ms,
                           cfg.audio.buffer_s)
    stop = threading.Event()
    capturing = threading.Event()
    def capture() -> None:
        run_pipeline(cfg, data_dir, source, build_squelch(cfg), db, stop, heartbeat=capturing.set,
                     listeners=(channel,))

    threads = [threading.Thread(target=capture, daemon=True),
               threading.Thread(target=worker.run, args=(stop,), daemon=True)]
    threads[0].start()
    try:
        assert capturing.wait(15), "no audio from the pulse device"
        time.sleep(1.0)  # let the VOX learn the (silent) floor
        now = datetime.now(UTC)
        with db.write() as s:  # a camat's report, identified by ANI, just ended
            report = Transmission(uid=uuid.uuid4().hex, started_at=now - timedelta(seconds=10),
                                  audio_started_at=now - timedelta(seconds=10), ended_at=now,
                                  duration_s=10.0, status="complete", kerchunk=False, stuck=False,
                                  recovered=False, source="test", station="Sipoholon", ani="103",
                                  identity_source="ani")
            s.add(report)
        threads[1].start()
        deadline = time.monotonic() + 40
        msg = None
        while time.monotonic() < deadline:
            with db.read() as s:
                msg = s.scalar(select(TransmitMessage).where(TransmitMessage.kind == "ack"))
                if msg is not None and msg.transmission_id is not None:
                    break
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert msg is not None and msg.status == "sent", msg and (msg.status, msg.error)
    assert msg.text.startswith("Laporan Camat Sipoholon diterima, pukul ")
    assert [k for _, k in ptt.changes] == [True, False] and not ptt.keyed
    assert msg.transmission_id is not None, "the acknowledgement was not heard back"
    with db.read() as s:
        heard = s.get_one(Transmission, msg.transmission_id)
    db.close()
    assert heard.station == queue.OWN_STATION and heard.source != "test"
    assert heard.status == "complete" and (data_dir / heard.audio_path).is_file()
    keyed_s = ptt.changes[1][0] - ptt.changes[0][0]
    # what was heard lies inside the keyed window (plus capture latency) and is most of it
    assert msg.keyed_at - timedelta(seconds=0.5) <= heard.started_at <= msg.unkeyed_at
    spoken_s = keyed_s - cfg.transmit.pre_key_s - cfg.transmit.post_key_s
    assert heard.duration_s == pytest.approx(spoken_s, abs=1.0)


def _screens(text: str) -> list[dict[str, float]]:
    out = []
    for m in re.finditer(r"level\s+(-?[\d.]+) dBFS.*?\npeak\s+(-?[\d.]+) dBFS", text, re.S):
        out.append({"rms": float(m.group(1)), "peak": float(m.group(2))})
    return out


def test_calibrate_in_a_pty_shows_moving_levels(pulse_sink: str, tmp_path: Path) -> None:
    rate = 48000
    t = np.arange(int(rate * 2.0)) / rate
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)  # -9 dBFS RMS, -6 dBFS peak
    wav = tmp_path / "tone.wav"
    sf.write(wav, tone, rate, subtype="PCM_16")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "gateway", "--data-dir", str(tmp_path / "d"),
                          "calibrate", "--device", "pulse", "--seconds", "8"],
                         stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    buf = b""
    played = None
    deadline = time.monotonic() + 25
    try:
        while time.monotonic() < deadline:
            r, _, _ = selectmod.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
            if played is None and len(_screens(buf.decode(errors="replace"))) >= 3:
                played = pulse.play(wav, pulse_sink)
            if p.poll() is not None and not r:
                break
    finally:
        if p.poll() is None:
            p.kill()
        p.wait(5)
        os.close(master)
        if played is not None:
            played.wait(10)
    text = buf.decode(errors="replace")
    assert "\x1b[2J" in text, "not redrawn as a terminal view"
    screens = _screens(text)
    assert len(screens) >= 10, text[-2000:]
    quiet = min(s["rms"] for s in screens[:3])
    loud = max(s["rms"] for s in screens)
    assert quiet < -60, screens[:3]
    assert loud == pytest.approx(-9.0, abs=2.0), screens  # the tone's RMS, 20*log10(0.5/sqrt(2))
    assert max(s["peak"] for s in screens) == pytest.approx(-6.0, abs=1.5)
    assert "vox      OPEN" in text
