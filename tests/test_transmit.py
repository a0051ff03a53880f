"""Talking back: time words, the transmitter's TOT and busy-channel lockout, PTT released on every
path, nothing keyed when disabled, acknowledgements and the roll call of exactly the missing camats.

Truth is independent of the code under test: number words are read back by the report's own parser
(gateway.report.numbers_id), times come from an injected clock, the missing camats are the configured
stations minus those the test made report, and PTT changes are what FakePtt recorded.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from gateway.config import Config, ConfigError, Station, parse
from gateway.config_transmit import TransmitConfig
from gateway.ptt.fake import FakePtt
from gateway.report.numbers_id import words_to_number
from gateway.segmenter import TxInfo
from gateway.store.db import Database
from gateway.store.models import Event, Transmission, TransmitMessage
from gateway.transmit import messages, queue
from gateway.transmit.player import PlayerError, SilentPlayer
from gateway.transmit.setup import build_worker
from gateway.transmit.transmitter import ChannelWatch, Transmitter
from gateway.transmit.worker import TransmitWorker

WIB = "Asia/Jakarta"
STATIONS = tuple(Station(name=n, code=f"12.02.{i:02d}", ani=(f"1{i:02d}",))
                 for i, n in enumerate(["Tarutung", "Sipoholon", "Siatas Barita", "Pahae Jae"], 1))


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += max(0.0, s)


def _cfg(**transmit: object) -> Config:
    t = TransmitConfig(**{"enabled": True, "pre_key_s": 0.3, "post_key_s": 0.2, **transmit})
    return dataclasses.replace(Config(), stations=STATIONS, transmit=t)


def test_number_and_time_words_read_back_by_the_report_parser() -> None:
    for n in [*range(0, 200), 999, 1000, 1001, 2026, 9999]:
        assert words_to_number(messages.number_words(n)) == n, messages.number_words(n)
    assert messages.time_words(datetime(2026, 11, 20, 7, 12)) == "pukul tujuh lewat dua belas"
    assert messages.time_words(datetime(2026, 11, 20, 13, 0)) == "pukul satu tepat"
    text = messages.as_text(messages.acknowledgement("Sipoholon", datetime(2026, 11, 20, 7, 12)))
    assert text == "Laporan Camat Sipoholon diterima, pukul tujuh lewat dua belas. Terima kasih, ganti."


def test_transmit_config_is_checked_and_off_by_default() -> None:
    assert Config().transmit.enabled is False
    with pytest.raises(ConfigError, match=r"transmit.timeout_s = 1.0: expected 5..600 s"):
        parse("[transmit]\ntimeout_s = 1.0\n")
    with pytest.raises(ConfigError, match=r"transmit.roll_call_at = '8:30'"):
        parse("[transmit]\nroll_call_at = ['8:30']\n")
    with pytest.raises(ConfigError, match=r"unknown key transmit.tot"):
        parse("[transmit]\ntot = 3\n")


def test_tot_unkeys_and_alarms(sqlite_db: Database) -> None:
    clock = FakeClock()
    ptt = FakePtt(clock=clock)
    cfg = _cfg(timeout_s=10.0)
    tx = Transmitter(cfg.transmit, ptt, SilentPlayer(16000, clock.sleep), ChannelWatch(clock), clock,
                     clock.sleep)
    worker = TransmitWorker(cfg, sqlite_db, tx, _NoVoice(np.zeros(16000 * 100, np.float32)))
    msg = queue.enqueue(sqlite_db, "announce", messages.announcement("uji"), by="test")
    assert worker.send_next(threading.Event())
    assert [k for _, k in ptt.changes] == [True, False]
    keyed_for = ptt.changes[1][0] - ptt.changes[0][0]
    assert keyed_for == pytest.approx(10.0, abs=0.06)  # 100 s of audio cut at the 10 s TOT
    assert not ptt.keyed
    with sqlite_db.read() as s:
        row = s.get_one(TransmitMessage, msg)
        events = list(s.scalars(select(Event).where(Event.kind == "transmit_timeout")))
    assert row.status == "timeout" and len(events) == 1 and f"message {msg}" in events[0].message


def test_pre_and_post_key_delays() -> None:
    clock = FakeClock()
    ptt = FakePtt(clock=clock)
    player = SilentPlayer(16000, clock.sleep)
    tx = Transmitter(_cfg().transmit, ptt, player, ChannelWatch(clock), clock, clock.sleep)
    out = tx.send(np.zeros(16000 * 2, np.float32), threading.Event())
    assert out.status == "sent" and player.played_s == pytest.approx(2.0)
    assert ptt.changes[1][0] - ptt.changes[0][0] == pytest.approx(0.3 + 2.0 + 0.2, abs=1e-6)


def _info(start: float) -> TxInfo:
    return TxInfo(uuid.uuid4().hex, start, start)


def test_busy_channel_lockout_waits_for_close_and_guard() -> None:
    channel = ChannelWatch()
    ptt = FakePtt()
    tx = Transmitter(TransmitConfig(enabled=True, pre_key_s=0, post_key_s=0, guard_s=0.3), ptt,
                     SilentPlayer(16000), channel)
    camat = _info(time.time())
    channel.on_open(camat)  # a camat is talking when the message is due
    done: dict[str, object] = {}
    t = threading.Thread(target=lambda: done.update(out=tx.send(np.zeros(1600, np.float32),
                                                                 threading.Event())))
    t.start()
    time.sleep(0.6)
    assert ptt.changes == [], "keyed over an open squelch"
    camat.end = time.time()
    channel.on_close(camat)
    closed = time.monotonic()
    t.join(5)
    assert done["out"].status == "sent"  # type: ignore[union-attr]
    assert ptt.changes[0][0] - closed >= 0.3 - 0.01  # not within the guard time
    assert ptt.changes[0][0] - closed < 0.6


def test_expires_when_the_channel_never_clears() -> None:
    channel = ChannelWatch()
    channel.on_open(_info(time.time()))
    ptt = FakePtt()
    tx = Transmitter(TransmitConfig(enabled=True, max_wait_s=1.0), ptt, SilentPlayer(16000), channel)
    assert tx.send(np.zeros(160, np.float32), threading.Event()).status == "expired"
    assert ptt.changes == []


def test_nothing_keys_when_transmit_is_disabled(sqlite_db: Database) -> None:
    cfg = dataclasses.replace(_cfg(), transmit=TransmitConfig(enabled=False))
    assert build_worker(cfg, sqlite_db, FakePtt(), SilentPlayer()) is None
    ptt = FakePtt()
    tx = Transmitter(cfg.transmit, ptt, SilentPlayer(16000), ChannelWatch())
    worker = TransmitWorker(cfg, sqlite_db, tx, _NoVoice(np.zeros(1600, np.float32)))
    queue.enqueue(sqlite_db, "announce", messages.announcement("uji"))
    worker.send_next(threading.Event())
    assert ptt.changes == []


def test_ptt_released_after_an_exception_in_the_transmit_path() -> None:
    ptt = FakePtt()
    tx = Transmitter(TransmitConfig(enabled=True, pre_key_s=0, post_key_s=0), ptt,
                     SilentPlayer(16000, lambda s: None, fail_after_s=0.5), ChannelWatch())
    with pytest.raises(PlayerError):
        tx.send(np.zeros(16000 * 5, np.float32), threading.Event())
    assert [k for _, k in ptt.changes] == [True, False] and not ptt.keyed


class _NoVoice:
    def __init__(self, audio: np.ndarray) -> None:
        self.audio = audio

    def render(self, parts: list) -> np.ndarray:
        return self.audio


def _report(db: Database, station: str, at: datetime, source: str = "ani") -> int:
    with db.write() as s:
        row = Transmission(uid=uuid.uuid4().hex, started_at=at, audio_started_at=at,
                           ended_at=at + timedelta(seconds=20), duration_s=20.0, status="complete",
                           kerchunk=False, stuck=False, recovered=False, source="test", station=station,
                           identity_source=source)
        s.add(row)
        s.flush()
        return row.id


def test_roll_call_names_exactly_the_missing_camats_at_the_configured_time(db: Database) -> None:
    cfg = _cfg(roll_call_at=("08:30",), reminder_before_min=15)
    tz = cfg.tz
    day = datetime(2026, 11, 20, tzinfo=tz)
    reported = {"Sipoholon", "Pahae Jae"}
    for i, name in enumerate(sorted(reported)):
        _report(db, name, day.replace(hour=7, minute=5 + i))
    missing = [st.name for st in STATIONS if st.name not in reported]
    assert queue.enqueue_scheduled(db, cfg, day.replace(hour=8, minute=29, second=59)) == []
    ids = queue.enqueue_scheduled(db, cfg, day.replace(hour=8, minute=30, second=1))
    assert len(ids) == 1
    assert queue.enqueue_scheduled(db, cfg, day.replace(hour=8, minute=31)) == []  # once a day
    with db.read() as s:
        msg = s.get_one(TransmitMessage, ids[0])
    named = [v for k, v in msg.parts if k == "station"]
    assert sorted(named) == sorted(missing)
    assert msg.kind == "roll_call" and all(n in msg.text for n in missing)
    # the reminder 15 minutes before report.file_at (12:00)
    ids = queue.enqueue_scheduled(db, cfg, day.replace(hour=11, minute=45))
    with db.read() as s:
        msg = s.get_one(TransmitMessage, ids[0])
    assert msg.kind == "reminder" and sorted(v for k, v in msg.parts if k == "station") == sorted(missing)
    assert "pukul dua belas tepat" in msg.text


def test_roll_call_jobs_are_scheduled_at_the_configured_times(sqlite_db: Database) -> None:
    cfg = _cfg(roll_call_at=("08:30", "10:00"), summary_at="12:30")
    worker = TransmitWorker(cfg, sqlite_db, Transmitter(cfg.transmit, FakePtt(), SilentPlayer(),
                                                        ChannelWatch()), _NoVoice(np.zeros(1)))
    sch = worker._scheduler()
    try:
        jobs = {j.id: j.next_run_time.astimezone(cfg.tz) for j in sch.get_jobs() if j.id != "catch-up"}
    finally:
        sch.shutdown(wait=False)
    assert {k: f"{v:%H:%M}" for k, v in jobs.items()} == {
        "roll_call-08:30": "08:30", "roll_call-10:00": "10:00", "summary-12:30": "12:30"}


def test_acknowledgements_once_per_station_and_switchable(sqlite_db: Database) -> None:
    cfg = _cfg(ack_skip=("Tarutung",))
    now = datetime(2026, 11, 20, 7, 12, 30, tzinfo=cfg.tz)
    first = _report(sqlite_db, "Sipoholon", now - timedelta(seconds=30))
    _report(sqlite_db, "Tarutung", now - timedelta(seconds=30))  # skipped by config
    _report(sqlite_db, "Siatas Barita", now - timedelta(seconds=30), source="continuation")
    ids = queue.enqueue_acks(sqlite_db, cfg, now)
    assert len(ids) == 1
    with sqlite_db.read() as s:
        msg = s.get_one(TransmitMessage, ids[0])
    assert msg.dedupe == f"ack:{first}"
    assert msg.text == "Laporan Camat Sipoholon diterima, pukul tujuh lewat dua belas. Terima kasih, ganti."
    _report(sqlite_db, "Sipoholon", now)  # goes on 30 s later: not acknowledged again
    assert queue.enqueue_acks(sqlite_db, cfg, now + timedelta(seconds=25)) == []
    off = dataclasses.replace(cfg, transmit=dataclasses.replace(cfg.transmit, ack=False))
    _report(sqlite_db, "Pahae Jae", now)
    assert queue.enqueue_acks(sqlite_db, off, now + timedelta(seconds=25)) == []


def test_own_transmission_is_assigned_to_the_gateway(sqlite_db: Database) -> None:
    cfg = _cfg()
    channel = ChannelWatch()
    tx = Transmitter(cfg.transmit, FakePtt(), SilentPlayer(16000), channel)
    worker = TransmitWorker(cfg, sqlite_db, tx, _NoVoice(np.zeros(1600, np.float32)))
    msg = queue.enqueue(sqlite_db, "announce", messages.announcement("Laporan Camat Sipoholon"))
    worker.send_next(threading.Event())
    with sqlite_db.read() as s:
        row = s.get_one(TransmitMessage, msg)
    heard_at = row.keyed_at + timedelta(seconds=0.3)
    tx_id = _report(sqlite_db, "Sipoholon", heard_at, source="voice")  # what its words would say
    with sqlite_db.read() as s:
        uid = s.get_one(Transmission, tx_id).uid
    channel.on_close(TxInfo(uid, heard_at.timestamp(), heard_at.timestamp(), heard_at.timestamp() + 1))
    with sqlite_db.read() as s:
        t = s.get_one(Transmission, tx_id)
        assert (t.station, t.identity_source) == ("gateway", "operator")
        assert s.get_one(TransmitMessage, msg).transmission_id == tx_id


SIGTERM_SCRIPT = r"""
import json, sys, threading, numpy as np
from gateway.daemon import install_signal_handlers
from gateway.config_transmit import TransmitConfig
from gateway.ptt.fake import FakePtt
from gateway.transmit.player import SilentPlayer
from gateway.transmit.transmitter import ChannelWatch, Transmitter
stop = threading.Event()
install_signal_handlers(stop)
ptt = FakePtt()
tx = Transmitter(TransmitConfig(enabled=True, pre_key_s=0, post_key_s=0, timeout_s=600), ptt,
                 SilentPlayer(16000), ChannelWatch())
def go():
    print(json.dumps({"status": tx.send(np.zeros(16000 * 60, np.float32), stop).status}), flush=True)
t = threading.Thread(target=go)
t.start()
while not ptt.keyed: stop.wait(0.01)
print("keyed", flush=True)
t.join()
print(json.dumps({"keyed": ptt.keyed, "changes": [k for _, k in ptt.changes]}), flush=True)
"""


def test_ptt_released_after_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    p = subprocess.Popen([sys.executable, "-c", SIGTERM_SCRIPT], stdout=subprocess.PIPE, text=True, env=env)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "keyed"
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=10)
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[0]["status"] == "stopped"
    assert lines[1] == {"keyed": False, "changes": [True, False]}


def test_web_send_button_queues_for_operators_only(sqlite_db: Database, tmp_path: Path) -> None:
    from test_web_helpers import csrf_of, logged_in, make_web

    web = make_web(sqlite_db, tmp_path, _cfg())
    viewer = logged_in(web, "vivi")
    assert 'action="/transmit/announce"' not in viewer.get("/").text
    r = viewer.post("/transmit/announce", data={"csrf": csrf_of(viewer), "text": "uji"},
                    follow_redirects=False)
    assert r.status_code == 403
    op = logged_in(web, "opi")
    assert 'action="/transmit/announce"' in op.get("/").text
    assert op.post("/transmit/announce", data={"csrf": csrf_of(op), "text": " "},
                   follow_redirects=False).status_code == 400
    r = op.post("/transmit/announce", data={"csrf": csrf_of(op), "text": "Rapat pukul sepuluh"},
                follow_redirects=False)
    assert r.status_code == 303
    with sqlite_db.read() as s:
        rows = list(s.scalars(select(TransmitMessage)))
    assert [(m.kind, m.text, m.by, m.status) for m in rows] == [
        ("announce", "Rapat pukul sepuluh", "opi", "pending")]
