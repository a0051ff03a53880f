"""Supervision and health without a sound card: the sample clock against a simulated wall clock, the
supervisor's restarts, the transcription worker surviving a catch-up fault, a serial squelch port that
vanishes (pyserial ``loop://`` that starts failing; a real pty whose master closes), and the systemd
watchdog fed only while audio arrives (a real AF_UNIX notify socket)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import serial
import soundfile as sf

from gateway.asr.fake import FakeRecognizer, FakeStream
from gateway.audio.clock import SampleClock
from gateway.audio.source import AudioBlock
from gateway.config import Config, SerialSquelchConfig
from gateway.daemon import open_store, process_file, run_services
from gateway.health import Health, status
from gateway.sdnotify import SystemdNotifier
from gateway.squelch.base import ScriptedSquelch
from gateway.squelch.serial_pin import SerialPinSquelch
from gateway.supervisor import Supervisor

from conftest import DATA

START = datetime.fromisoformat("2026-11-20T07:05:00+07:00")


# -- time ---------------------------------------------------------------------------------------

class SimClock:
    """True time (seconds since the simulation began); the wall clock is an epoch offset of it."""

    def __init__(self, base: float = 1.8e9) -> None:
        self.t, self.base = 0.0, base

    def mono(self) -> float:
        return 1000.0 + self.t

    def wall(self) -> float:
        return self.base + self.t


def _feed(clock: SampleClock, sim: SimClock, true_rate: float, seconds: float, index: int,
          lost_s: float = 0.0) -> tuple[int, list[float]]:
    """A card delivering ``true_rate`` samples per true second (it claims ``clock.rate``), in 20 ms
    blocks; returns the next index and the error (stamped minus true time) after every block."""
    errors = []
    block = clock.rate // 50
    sim.t += lost_s  # an overrun: time passes, the sample count does not
    for _ in range(int(seconds * true_rate / block)):
        sim.t += block / true_rate
        index += block
        start = clock.observe(index)
        errors.append(start + index / clock.rate - sim.wall())
    return index, errors


def test_a_sample_clock_running_half_a_percent_fast_stays_on_the_wall_clock(caplog) -> None:
    sim = SimClock()
    clock = SampleClock(48000, wall=sim.wall, mono=sim.mono)
    caplog.set_level(logging.WARNING, "gateway.audio.clock")
    index, errors = _feed(clock, sim, 48000 * 1.005, 600.0, 0)
    naive = (index / 48000) - sim.t  # what the bare sample count would say after 10 minutes
    assert naive == pytest.approx(600 * 0.005, abs=0.02)  # 3 s ahead by the bare count: the test bites
    assert max(abs(e) for e in errors[len(errors) // 10:]) < 0.05, "re-anchored within 50 ms"
    assert clock.jumps == 0
    assert any("drift" in r.getMessage() and "ppm" in r.getMessage() for r in caplog.records)
    # an overrun loses 2 s of samples below PortAudio: one jump, one line, the time right again
    caplog.clear()
    index, errors = _feed(clock, sim, 48000 * 1.005, 30.0, index, lost_s=2.0)
    assert clock.jumps == 1
    assert abs(errors[-1]) < 0.05
    assert len([r for r in caplog.records if "re-anchored" in r.getMessage()]) == 1


def test_timestamps_stay_monotonic_while_slewing() -> None:
    sim = SimClock()
    clock = SampleClock(16000, wall=sim.wall, mono=sim.mono)
    index, last = 0, -1.0
    for _ in range(60 * 50):
        sim.t += 320 / (16000 * 0.995)  # a slow card this time
        index += 320
        t = clock.observe(index) + index / 16000
        assert t > last
        last = t
    assert abs(last - sim.wall()) < 0.05


# -- supervisor ---------------------------------------------------------------------------------

def test_a_failing_worker_is_restarted_with_one_traceback_and_the_others_run_on(caplog) -> None:
    stop = threading.Event()
    sup = Supervisor(stop, backoff_s=0.01, max_backoff_s=0.05)
    runs = {"bad": 0, "good": 0}

    def bad(ev: threading.Event) -> None:
        runs["bad"] += 1
        if runs["bad"] <= 3:
            raise RuntimeError("sound card on fire")
        ev.wait()

    def good(ev: threading.Event) -> None:
        runs["good"] += 1
        ev.wait()

    caplog.set_level(logging.INFO, "gateway.supervisor")
    sup.add("good", good)
    sup.add("bad", bad)
    deadline = time.monotonic() + 5
    while runs["bad"] < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    states = sup.states()
    assert states["bad"]["restarts"] == 3 and "sound card on fire" in str(states["bad"]["last_error"])
    assert states["good"] == {"state": "running", "restarts": 0, "last_error": None, "last_error_at": None}
    assert runs["good"] == 1
    with_tb = [r for r in caplog.records if r.exc_info]
    assert len(with_tb) == 1, "the traceback once, then one line per repeat"
    assert len([r for r in caplog.records if "failed again" in r.getMessage()]) == 2
    stop.set()
    assert sup.join("bad", 2) and sup.join("good", 2)


# -- transcription worker -----------------------------------------------------------------------

class _BrokenResult:
    text = "x"
    confidence = None

    def words_json(self) -> list:
        raise RuntimeError("recogniser handed back malformed words")


class _BrokenStream(FakeStream):
    def finish(self):
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        return _BrokenResult() if len(audio) < 16000 else super().finish()


class _BrokenOnShort(FakeRecognizer):
    def start(self, prompt_words: tuple[str, ...] = ()) -> FakeStream:
        return _BrokenStream(self)


def test_a_fault_in_the_catch_up_path_is_stored_and_the_worker_goes_on(tmp_path: Path) -> None:
    process_file(Config(), tmp_path, DATA / "sample_morning.flac", START, recognizer=None)  # 4 pending
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000, np.float32), 16000)
    out: dict = {}
    t = threading.Thread(target=lambda: out.update(r=process_file(
        Config(), tmp_path, silence, START, recognizer=_BrokenOnShort())), daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "process waited for ever: the transcription worker died"
    db = open_store(Config(), tmp_path)
    from sqlalchemy import select

    from gateway.store.models import TranscriptRow, Transmission
    with db.read() as s:
        rows = s.execute(select(Transmission.kerchunk, TranscriptRow.status, TranscriptRow.error)
                         .join(TranscriptRow, TranscriptRow.transmission_id == Transmission.id)
                         .where(TranscriptRow.current)).all()
    db.close()
    assert len(rows) == 4
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 1 and failed[0].kerchunk  # the short one (the sample's kerchunk)
    assert "malformed words" in failed[0].error
    assert out["r"].transcribed == 3


# -- serial squelch port ------------------------------------------------------------------------

class _Health:
    def __init__(self) -> None:
        self.events: list[tuple[bool, str]] = []

    def squelch_state(self, up: bool, reason: str) -> None:
        self.events.append((up, reason))


class _Failing:
    """A loop:// port whose pin read starts failing like an unplugged USB adapter's ioctl."""

    def __init__(self) -> None:
        self.port = serial.serial_for_url("loop://")
        self.port.rts = True  # loop:// mirrors RTS to CTS: squelch open
        self.dead = False

    @property
    def cts(self) -> bool:
        if self.dead:
            raise OSError(5, "Input/output error")
        return self.port.cts

    def close(self) -> None:
        self.port.close()


def test_a_serial_port_that_fails_reads_as_down_not_as_its_last_pin_and_comes_back(caplog) -> None:
    now = [0.0]
    ports = [_Failing()]
    available = [True]

    def opener() -> _Failing:
        if not available[0]:
            raise serial.SerialException("[Errno 2] could not open port: No such file")
        ports.append(_Failing())
        return ports[-1]

    health = _Health()
    caplog.set_level(logging.INFO, "gateway.squelch.serial_pin")
    sq = SerialPinSquelch(SerialSquelchConfig(port="loop://", pin="cts"), port=ports[0], opener=opener,  # type: ignore[arg-type]
                          reopen_s=2.0, listener=health, clock=lambda: now[0])
    frame = np.zeros(320, np.float32)
    assert sq.update(frame, 0.0) is True
    ports[0].dead, available[0] = True, False
    assert sq.update(frame, 0.02) is False and not sq.up
    for _ in range(200):  # 4 s down: never the stale "open", one line only
        now[0] += 0.02
        assert sq.update(frame, now[0]) is False
    assert health.events == [(False, "pin unreadable ([Errno 5] Input/output error)")]
    available[0] = True
    for _ in range(150):
        now[0] += 0.02
        sq.update(frame, now[0])
    assert sq.up and sq.update(frame, now[0]) is True and health.events[-1] == (True, "")
    lines = [r.getMessage() for r in caplog.records]
    assert len([m for m in lines if " down: " in m]) == 1
    assert len([m for m in lines if "back after" in m]) == 1


class _PtyPort(serial.Serial):
    """A real pty opened by pyserial; a pty has no modem lines, so the pin itself reads as 'open'."""

    @property
    def cts(self) -> bool:  # type: ignore[override]
        return True


def test_a_pty_whose_other_side_closes_is_detected_and_a_new_one_is_picked_up(tmp_path: Path) -> None:
    master, slave = os.openpty()
    link = tmp_path / "radio-cos"  # like /dev/serial/by-id/...: the configured path is a symlink
    link.symlink_to(os.ttyname(slave))

    def opener() -> serial.Serial:
        return _PtyPort(str(link), exclusive=True)

    health = _Health()
    sq = SerialPinSquelch(SerialSquelchConfig(port=str(link), pin="cts"), opener=opener, reopen_s=0.05,
                          check_s=0.0, listener=health)
    frame = np.zeros(320, np.float32)
    assert sq.update(frame, 0.0) is True
    os.close(master)  # the other side goes away (like a USB adapter pulled)
    assert sq.update(frame, 0.02) is False and not sq.up
    assert health.events and health.events[0][0] is False
    for _ in range(20):  # stays down while nothing is there
        time.sleep(0.01)
        assert sq.update(frame, 0.04) is False
    master2, slave2 = os.openpty()
    link.unlink()
    link.symlink_to(os.ttyname(slave2))
    deadline = time.monotonic() + 5
    while not sq.up and time.monotonic() < deadline:
        sq.update(frame, 0.04)
        time.sleep(0.01)
    assert sq.up and sq.update(frame, 0.06) is True
    assert health.events[-1] == (True, "")
    sq.close()
    for fd in (slave, master2, slave2):
        os.close(fd)


# -- the watchdog -------------------------------------------------------------------------------

class _HangingSource:
    """Real-time blocks for ``live_s``, then no more audio (a hung capture), until stopped."""

    rate = 16000
    name = "test:hanging"

    def __init__(self, live_s: float) -> None:
        self.live_s = live_s
        self.start_time = time.time()

    def blocks(self, stop: threading.Event) -> Iterator[AudioBlock]:
        n = 320
        for i in range(int(self.live_s * 50)):
            if stop.wait(0.02):
                return
            yield AudioBlock(np.zeros(n, np.float32), i * n)
        stop.wait()

    def close(self) -> None:
        pass


def test_the_watchdog_is_fed_only_while_audio_arrives(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.1)
    import dataclasses

    cfg = Config()
    cfg = dataclasses.replace(cfg, web=dataclasses.replace(cfg.web, serve=False))
    db = open_store(cfg, tmp_path)
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "400000"})  # ping every 0.2 s
    health, stop = Health(), threading.Event()
    t = threading.Thread(target=run_services, args=(cfg, tmp_path, _HangingSource(2.0),
                         ScriptedSquelch([]), db, None, stop, health, notifier), kwargs={"alive_s": 1.0},
                         daemon=True)
    t0 = time.monotonic()
    t.start()
    got: list[tuple[float, str]] = []
    try:
        while time.monotonic() - t0 < 6.0:
            try:
                for m in sock.recv(4096).decode().splitlines():
                    got.append((time.monotonic() - t0, m))
            except TimeoutError:
                pass
        code, text = status(tmp_path)
    finally:
        stop.set()
        t.join(30)
        sock.close()
    assert not t.is_alive()
    ready = [at for at, m in got if m == "READY=1"]
    pings = [at for at, m in got if m == "WATCHDOG=1"]
    assert ready and ready[0] < 1.5, got  # READY once audio flows, not after the rest
    assert len([p for p in pings if p < 2.0]) >= 5, got  # fed while blocks arrive (2 s)
    assert pings and max(pings) < 2.0 + 1.0 + 0.6, got  # stopped within alive_s of the hang
    assert not [p for p in pings if p > 3.6], got
    assert code == 0 and "capture: up" in text and "last audio" in text  # health.json was written
    assert not (tmp_path / "health.json").exists(), "a clean stop removes it: status says not running"


# -- health in the web UI and `ht-gateway status` -----------------------------------------------

def test_health_shows_what_was_put_in_on_the_status_page_and_in_status(sqlite_db, tmp_path: Path,
                                                                        example_config: Config) -> None:
    from datetime import UTC, date

    from test_web_helpers import logged_in, make_web

    from gateway.health import write_atomic
    from gateway.store.models import ReportRevision

    filed = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 WIB
    mailed = datetime(2026, 11, 20, 3, 1, 30, tzinfo=UTC)
    with sqlite_db.write() as s:
        s.add(ReportRevision(day=date(2026, 11, 20), revision=1, filed_at=filed, reason="scheduled",
                             content={}, content_sha256="0" * 64, emailed_at=mailed))
    sim = SimClock(base=time.time() - 3600)  # an hour ago: stale by the real clock
    health = Health(wall=sim.wall, mono=sim.mono)
    health.capture["source"] = "pyaudio:USB Audio"
    health.frame()
    sim.t = 12.0
    health.capture_state(False, "capture stream stopped")
    health.squelch_state(False, "port hung up")
    snap = health.snapshot(sqlite_db, None, {"web": {"state": "running", "restarts": 2, "last_error": "x",
                                                      "last_error_at": None}})
    assert snap["reports"]["last_filed"] == filed.astimezone().isoformat(timespec="seconds")
    assert snap["reports"]["last_emailed"] == mailed.astimezone().isoformat(timespec="seconds")
    assert snap["capture"]["state"] == "down" and snap["capture"]["outages"] == 1
    assert snap["capture"]["last_frame_age_s"] == 12.0
    write_atomic(tmp_path / "health.json", snap)
    code, text = status(tmp_path, now=sim.wall() + 1)
    assert code == 1 and "capture: down" in text and "port hung up" in text and "2 restart(s)" in text
    code, text = status(tmp_path, now=sim.wall() + 60)
    assert code == 3 and "STALE" in text
    web = make_web(sqlite_db, tmp_path, example_config)
    html = logged_in(web, "vivi").get("/status").text
    assert "TERPUTUS" in html and "capture stream stopped" in html and "port hung up" in html
    assert "tidak diperbarui" in html  # the file is old by the real clock: said so
    assert "diajukan 20-11-2026 10.00.00 WIB" in html  # filed at 03:00 UTC, said in WIB as the UI does
    assert "dikirim surel 20-11-2026 10.01.30 WIB" in html and "2026-11-20T" not in html
    assert "squelch" not in html.replace('title="squelch', "")  # the word only in the hint
    assert "Tanda ada panggilan" in html
