"""The office view (issue 15): the gateways table written by each daemon's heartbeat, the page
"Gateway & kanal", and the Today board and the draft report over several channels, on SQLite and a
real PostgreSQL. Truth is what the tests generate: which station spoke on which channel and when,
which rows are pending, which heartbeat is how old."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select, text, update
from test_web_helpers import WIB, add_tx, logged_in, make_web

from gateway.config import Config, ConfigError, SegmenterConfig, parse
from gateway.fleet import Beat, db_now, heartbeat_worker, observe, store
from gateway.health import Health
from gateway.store.db import Database
from gateway.store.models import Transmission, utcnow
from gateway.store.office_models import GatewayRow

DAY = "2026-11-20"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# --- configuration ------------------------------------------------------------------------------

def test_heartbeat_and_alert_keys_are_checked_with_one_line() -> None:
    assert Config().gateway.heartbeat_s == 15.0 and Config().alerts.enabled is False
    for toml, key in [('[gateway]\nheartbeat_s = 0.5\n', "gateway.heartbeat_s"),
                      ('[alerts]\ncheck_s = 1\n', "alerts.check_s"),
                      ('[alerts]\nbacklog_limit = -1\n', "alerts.backlog_limit"),
                      ('[alerts]\nenabled = true\n', "alerts.enabled"),
                      ('[alerts]\nenabled = true\nrecipients = ["a@x.example"]\n', "alerts.enabled"),
                      ('[alerts]\nrecipients = ["a@x.example", "A@x.example"]\n', "alerts.recipients")]:
        with pytest.raises(ConfigError) as e:
            parse(toml, "c.toml")
        assert str(e.value).startswith("c.toml: ") and key in str(e.value) and "\n" not in str(e.value)
    ok = parse('[alerts]\nenabled = true\n[report.email]\nto = ["bpbd@x.example"]\nsender = "g@x.example"\n'
               'smtp_host = "mail.x.example"\n')
    assert ok.alerts.enabled and ok.alerts.recipients == ()


# --- the heartbeat ------------------------------------------------------------------------------

def _tx(db: Database, start: datetime, gateway: str, channel: str, pending: bool = False) -> int:
    with db.write() as s:
        tx = Transmission(uid=f"{gateway}-{start.timestamp()}", started_at=start, ended_at=start,
                          audio_started_at=start, status="complete", kerchunk=False, stuck=False,
                          source="test", gateway_id=gateway, channel_id=channel, asr_pending=pending)
        s.add(tx)
        s.flush()
        return tx.id


def test_a_heartbeat_stores_health_and_this_gateways_own_newest_row_and_backlog(db: Database) -> None:
    cfg = parse('[gateway]\nid = "taput-1"\nheartbeat_s = 5\n[channel]\nid = "rig-2m"\n')
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    _tx(db, t0, "taput-1", "rig-2m", pending=True)
    _tx(db, t0 + timedelta(minutes=5), "taput-1", "rig-2m", pending=True)
    _tx(db, t0 + timedelta(minutes=3), "taput-1", "rig-2m")
    _tx(db, t0 + timedelta(minutes=9), "taput-2", "simplex", pending=True)  # another gateway's
    wall = [1_790_000_000.0]
    health = Health(wall=lambda: wall[0])
    health.frame()
    health.alarm("stuck_squelch", wall[0], "stuck")
    store(db, observe(db, cfg, health))
    with db.read() as s:
        row = s.get_one(GatewayRow, "taput-1")
        now = db_now(s)
    assert (row.channel_id, row.backlog, row.capture_state, row.capture_up, row.squelch_stuck) == \
        ("rig-2m", 2, "up", True, True)
    assert row.last_heard_at == t0 + timedelta(minutes=5)
    assert row.last_frame_at == datetime.fromtimestamp(1_790_000_000.0, UTC)
    assert row.heartbeat_s == 5.0 and abs((now - row.updated_at).total_seconds()) < 5
    health.alarm("stuck_squelch_cleared", wall[0] + 3, "clear")
    health.capture_state(False, "device gone")
    store(db, observe(db, cfg, health))
    with db.read() as s:
        rows = list(s.scalars(select(GatewayRow)))
    assert len(rows) == 1 and (rows[0].squelch_stuck, rows[0].capture_up, rows[0].capture_state) == \
        (False, False, "down")


def test_the_clock_offset_is_the_gateways_clock_minus_the_databases(db: Database) -> None:
    beat = Beat("gw1", "ch1", "h", "0", "up", None, None, 0, False, 15.0)
    with db.read() as s:
        ahead = db_now(s) + timedelta(seconds=42)
    store(db, beat, wall=ahead)
    with db.read() as s:
        offset = s.get_one(GatewayRow, "gw1").clock_offset_s
    if db.dialect == "postgresql":  # the database's now() is its own clock
        assert offset == pytest.approx(42.0, abs=2.0)
    else:  # SQLite: the database's clock is this machine's
        assert offset == 0.0


def test_the_heartbeat_worker_beats_until_stopped_then_says_stopped(sqlite_db: Database) -> None:
    cfg = parse('[gateway]\nheartbeat_s = 1\n')
    health = Health()
    health.frame()
    stop = threading.Event()
    worker = threading.Thread(target=heartbeat_worker(sqlite_db, cfg, health), args=(stop,))
    worker.start()
    try:
        seen = []
        deadline = time.monotonic() + 10
        while len(set(seen)) < 2 and time.monotonic() < deadline:
            with sqlite_db.read() as s:
                row = s.get(GatewayRow, "gw1")
                if row is not None:
                    seen.append(row.updated_at)
            time.sleep(0.2)
        assert len(set(seen)) >= 2, "two beats about a second apart"
    finally:
        stop.set()
        worker.join(10)
    with sqlite_db.read() as s:
        assert s.get_one(GatewayRow, "gw1").capture_state == "stopped"


def test_a_heartbeat_without_a_database_does_not_stop_the_worker(tmp_path: Path) -> None:
    cfg = parse('[gateway]\nheartbeat_s = 1\n')
    broken = Database(f"sqlite:///{tmp_path}/none/x.sqlite3")  # the folder does not exist
    stop = threading.Event()
    worker = threading.Thread(target=heartbeat_worker(broken, cfg, Health()), args=(stop,))
    worker.start()
    time.sleep(1.5)
    assert worker.is_alive(), "a failed beat is logged, the next one tries again"
    stop.set()
    worker.join(10)
    assert not worker.is_alive()


def test_a_stuck_squelch_in_the_pipeline_reaches_health_and_clears(tmp_path: Path,
                                                                   sqlite_db: Database) -> None:
    """The squelch is held open 8 s (scripted) with segmenter.max_s = 5: the segmenter's alarm marks
    the gateway stuck at 5 s and clears it 1.5 s (hang_s) after the squelch closes."""
    from gateway.audio.source import FileSource
    from gateway.daemon import run_pipeline
    from gateway.squelch.base import ScriptedSquelch

    rate, t0 = 16000, 1_790_000_000.0
    path = tmp_path / "noise.wav"
    sf.write(path, (np.random.default_rng(1).standard_normal(rate * 14) * 0.05).astype(np.float32), rate)
    cfg = dataclasses.replace(Config(), segmenter=SegmenterConfig(max_s=5.0, hang_s=1.5))
    health = Health()
    seen: list[tuple[str, float, bool]] = []

    def on_alarm(kind: str, t: float, message: str) -> None:
        health.alarm(kind, t, message)
        seen.append((kind, t - t0, health.stuck_since is not None))

    run_pipeline(cfg, tmp_path, FileSource(path, t0), ScriptedSquelch([(t0 + 1, t0 + 9)]), sqlite_db,
                 on_alarm=on_alarm)
    assert [(k, on) for k, _, on in seen] == [("stuck_squelch", True), ("stuck_squelch_cleared", False)]
    assert seen[0][1] == pytest.approx(6.0, abs=0.1) and seen[1][1] == pytest.approx(10.5, abs=0.1)


# --- the page "Gateway & kanal" ------------------------------------------------------------------

def _row(db: Database, gid: str, channel: str, age_s: float, state: str = "up", **kw: object) -> None:
    with db.write() as s:
        now = db_now(s)
        s.add(GatewayRow(gateway_id=gid, channel_id=channel, host=f"pc-{gid}", version="0.1.0",
                         capture_state=state, capture_up=state in ("up", "idle"),
                         last_frame_at=now - timedelta(seconds=age_s), last_heard_at=None,
                         backlog=kw.get("backlog", 0), squelch_stuck=kw.get("stuck", False),
                         clock_offset_s=kw.get("offset", 0.0), heartbeat_s=15.0,
                         updated_at=now - timedelta(seconds=age_s)))


def test_the_gateways_page_shows_each_gateway_up_down_or_stale(db: Database, tmp_path: Path,
                                                               example_config: Config) -> None:
    web = make_web(db, tmp_path, example_config)
    _row(db, "taput-1", "rig-2m", 3, backlog=1234, offset=-2.5)
    _row(db, "taput-2", "simplex", 40, stuck=True)  # 40 s < 3 × 15 s: not stale yet
    _row(db, "taput-3", "simplex", 46)  # 46 s > 45 s: stale
    _row(db, "taput-4", "rig-2m", 5, state="down")
    _row(db, "taput-5", "rig-2m", 5, state="stopped")
    page = logged_in(web, "vivi").get("/gateways")
    assert page.status_code == 200 and "<h1>Gateway &amp; kanal</h1>" in page.text
    states = dict(re.findall(r'<tr data-gateway="([\w-]+)" data-state="(\w+)"', page.text))
    assert states == {"taput-1": "up", "taput-2": "up", "taput-3": "stale", "taput-4": "down",
                      "taput-5": "down"}
    rows = {g: html for g, html in re.findall(r'<tr data-gateway="([\w-]+)"(.*?)</tr>', page.text, re.S)}
    assert "tidak ada kabar" in rows["taput-3"] and "tidak ada kabar" not in rows["taput-2"]
    assert "squelch macet terbuka" in rows["taput-2"] and "TERPUTUS" in rows["taput-4"]
    assert "bermasalah" in rows["taput-4"] and "bermasalah" not in rows["taput-5"]
    assert '<span class="badge st-pending">dihentikan</span>' in rows["taput-5"]
    assert "1.234" in rows["taput-1"] and "-2,5 detik" in rows["taput-1"]
    assert '<a href="/?channel=rig-2m">rig-2m</a>' in rows["taput-1"]
    assert 'href="/gateways" class="here"' in page.text


def test_the_gateways_page_without_gateways_says_so(sqlite_db: Database, tmp_path: Path,
                                                    example_config: Config) -> None:
    page = logged_in(make_web(sqlite_db, tmp_path, example_config), "vivi").get("/gateways")
    assert page.status_code == 200 and "Belum ada gateway" in page.text


# --- the board and the draft over two channels ---------------------------------------------------

def _status(html: str) -> dict[str, str]:
    return {st: status for status, st in
            re.findall(r'<tr class="st-(\w+)" data-situation="\w+" data-station="([^"]+)"', html)}


def test_the_board_merges_channels_and_filters_by_one(db: Database, tmp_path: Path,
                                                      example_config: Config) -> None:
    """Tarutung reports on ch1 at 08:00 and again on rig-2m at 08:30; Sipoholon only on rig-2m, at
    10:00 (late); Pagaran only on ch1 at 08:15. Merged, Tarutung counts once (on time, 08.00)."""
    web = make_web(db, tmp_path, example_config)
    web.app.state.clock = Clock(datetime(2026, 11, 20, 13, 0, tzinfo=WIB))  # both windows passed
    at = lambda h, m: datetime(2026, 11, 20, h, m, tzinfo=WIB)  # noqa: E731
    plan = [("Tarutung", at(8, 0), "ch1"), ("Tarutung", at(8, 30), "rig-2m"),
            ("Sipoholon", at(10, 0), "rig-2m"), ("Pagaran", at(8, 15), "ch1")]
    for station, start, channel in plan:
        tx_id = add_tx(web, start, station)
        with db.write() as s:
            s.execute(update(Transmission).where(Transmission.id == tx_id).values(
                channel_id=channel, gateway_id="taput-2" if channel == "rig-2m" else "taput-1"))
    client = logged_in(web, "vivi")
    names = [st.name for st in example_config.stations]
    nobody = {n: "missing" for n in names}
    want = {"": {**nobody, "Tarutung": "on_time", "Sipoholon": "late", "Pagaran": "on_time"},
            "ch1": {**nobody, "Tarutung": "on_time", "Pagaran": "on_time"},
            "rig-2m": {**nobody, "Tarutung": "on_time", "Sipoholon": "late"}}
    for channel, expected in want.items():
        query = f"?date={DAY}" + (f"&channel={channel}" if channel else "")
        for path in ("/", "/fragment/today"):
            page = client.get(path + query)
            assert page.status_code == 200
            assert _status(page.text) == expected, (path, channel)
            reported = sum(v != "missing" for v in expected.values())
            assert f"<strong>{reported}</strong> dari {len(names)} kecamatan melapor" in page.text
        board = client.get("/" + query).text
        assert ('id="channel-filter"' in board) == bool(channel)
        first = re.search(r'data-station="Tarutung".*?<a href="/tx/\d+">([\d.]+)</a>', board, re.S)
        assert first and first.group(1) == ("08.30" if channel == "rig-2m" else "08.00")
        draft = client.get("/reports/draft" + query)
        assert draft.status_code == 200
        assert f"{reported} dari {len(names)} kecamatan melapor" in draft.text
        assert ("kanal " + channel in draft.text) == bool(channel)
    assert re.findall(r'<option value="([\w-]*)"', client.get("/").text) == ["", "ch1"]
    _row(db, "taput-2", "rig-2m", 1)  # the channels offered: this configuration's and the gateways'
    assert re.findall(r'<option value="([\w-]*)"', client.get("/").text) == ["", "ch1", "rig-2m"]


@pytest.mark.parametrize("path", ["/", "/fragment/today", "/reports/draft"])
def test_a_malformed_channel_is_a_400(sqlite_db: Database, tmp_path: Path, example_config: Config,
                                      path: str) -> None:
    client = logged_in(make_web(sqlite_db, tmp_path, example_config), "vivi")
    for bad in ("Rig 2", "x" * 40, "%27;--", "-a"):
        r = client.get(f"{path}?channel={bad}")
        assert r.status_code == 400 and "Kanal tidak sah" in r.text, (path, bad)
    assert client.get(f"{path}?channel=ch9").status_code == 200  # well-formed, unused: nothing


def test_db_now_is_the_databases_clock(db: Database) -> None:
    with db.read() as s:
        got = db_now(s)
        if db.dialect == "postgresql":
            assert got == s.execute(text("SELECT now()")).scalar_one()  # same transaction: same now()
    assert abs((got - utcnow()).total_seconds()) < 5


def test_the_daemon_beats_into_the_gateways_table_and_says_stopped_when_it_stops(tmp_path: Path) -> None:
    from test_supervise import _HangingSource

    from gateway.daemon import open_store, run_services
    from gateway.sdnotify import SystemdNotifier
    from gateway.squelch.base import ScriptedSquelch

    cfg = parse('[gateway]\nid = "taput-9"\nheartbeat_s = 1\n[channel]\nid = "simplex"\n'
                '[web]\nserve = false\n')
    db = open_store(cfg, tmp_path)
    health, stop = Health(), threading.Event()
    t = threading.Thread(target=run_services, args=(cfg, tmp_path, _HangingSource(5.0), ScriptedSquelch([]),
                                                    db, None, stop, health, SystemdNotifier({})), daemon=True)
    t.start()
    seen = None
    try:
        deadline = time.monotonic() + 10
        while seen is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with db.read() as s:
                row = s.get(GatewayRow, "taput-9")
                seen = (row.channel_id, row.capture_state) if row and row.last_frame_at else None
    finally:
        stop.set()
        t.join(30)
    assert seen == ("simplex", "up")
    after = Database(f"sqlite:///{tmp_path}/gateway.sqlite3")
    with after.read() as s:
        assert s.get_one(GatewayRow, "taput-9").capture_state == "stopped"
    after.close()


def test_status_and_the_status_page_say_when_the_squelch_is_stuck(sqlite_db: Database, tmp_path: Path,
                                                                  example_config: Config) -> None:
    from gateway.health import FILE, status, write_atomic

    health = Health()
    health.frame()
    health.alarm("stuck_squelch", time.time() - 60, "stuck")
    write_atomic(tmp_path / FILE, health.snapshot())
    code, out = status(tmp_path)
    assert code == 0 and "STUCK OPEN since" in out
    page = logged_in(make_web(sqlite_db, tmp_path, example_config), "vivi").get("/status")
    assert "<strong>macet terbuka</strong> sejak" in page.text
    health.alarm("stuck_squelch_cleared", time.time(), "clear")
    write_atomic(tmp_path / FILE, health.snapshot())
    assert "STUCK" not in status(tmp_path)[1]


def test_the_unfiltered_log_of_a_large_postgresql_table_shows_the_planners_estimate(
        db: Database, tmp_path: Path, example_config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """count(*) over 10 M rows took 250 ms (bench_office.py); above ESTIMATE_ABOVE the page says
    "sekitar N" from pg_class.reltuples. The truth: the rows this test stored (ANALYZE makes the
    estimate exact on a table this small); a filtered log still counts exactly."""

    from gateway.web.queries import log as log_queries

    web = make_web(db, tmp_path, example_config)
    for k in range(5):
        add_tx(web, datetime(2026, 11, 20, 8, k, tzinfo=WIB), "Sipoholon" if k % 2 else "Tarutung")
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE transmissions"))
    monkeypatch.setattr(log_queries, "ESTIMATE_ABOVE", 0)
    client = logged_in(web, "vivi")
    page = client.get("/log").text
    expected = "sekitar 5 transmisi" if db.dialect == "postgresql" else "<p class=\"counts\">5 transmisi"
    assert expected in page, page[page.find('class="counts"') - 20:][:200]
    assert '<p class="counts">2 transmisi' in client.get("/log?station=Sipoholon").text


def test_postgresql_sessions_run_without_jit(pg_url: str) -> None:
    """JIT compiling cost a rare-word search 100 ms at 10 M rows (bench_office.py); the URL's own
    ``options`` would win."""
    db = Database(pg_url)
    try:
        with db.read() as s:
            assert s.scalar(text("SHOW jit")) == "off"
    finally:
        db.close()
