"""Alerts by mail (gateway/alerts.py) against a real local SMTP server (aiosmtpd), on SQLite and a
real PostgreSQL: heartbeats are rows the test writes with known ages; two checkers stand for two
gateway daemons sharing the database (two engines); what arrives in the inbox is the truth."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from test_report_mail import Inbox, free_port, start

from gateway.alerts import check, deliver, findings
from gateway.config import Config, parse
from gateway.fleet import db_now
from gateway.store.db import Database
from gateway.store.office_models import AlertMail, GatewayAlert, GatewayRow

RECIPIENTS = ("bpbd@taput.example", "kominfo@taput.example")


def config(port: int, **alerts: object) -> Config:
    cfg = parse('[alerts]\nenabled = true\nsilent_after_min = 10\nbacklog_limit = 100\n'
                f'recipients = {list(RECIPIENTS)!r}\n'.replace("'", '"')
                + '[report.email]\nsender = "gateway@taput.example"\nsmtp_host = "127.0.0.1"\n'
                f'smtp_port = {port}\nsmtp_tls = "none"\n')
    return dataclasses.replace(cfg, alerts=dataclasses.replace(cfg.alerts, **alerts)) if alerts else cfg


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = start(inbox)
    yield inbox, controller.port
    controller.stop()


def beat(db: Database, gid: str, age_s: float, channel: str = "rig-2m", **kw: object) -> None:
    """A heartbeat ``age_s`` old on the database's clock (insert or update)."""
    with db.write() as s:
        now = db_now(s)
        row = s.get(GatewayRow, gid) or GatewayRow(gateway_id=gid)
        values = dict(channel_id=channel, host="pc", version="0.1.0", capture_state="up", capture_up=True,
                      last_frame_at=now - timedelta(seconds=age_s), last_heard_at=None, backlog=0,
                      squelch_stuck=False, clock_offset_s=0.0, heartbeat_s=15.0,
                      updated_at=now - timedelta(seconds=age_s))
        values.update(kw)
        for k, v in values.items():
            setattr(row, k, v)
        s.add(row)


def both(fn, a: Database, b: Database, cfg: Config) -> list:
    """Run ``fn(db, cfg)`` in two threads at once, one per "daemon"; return both results."""
    results: list = [None, None]
    gate = threading.Barrier(2)

    def run(i: int, db: Database) -> None:
        gate.wait()
        results[i] = fn(db, cfg)

    threads = [threading.Thread(target=run, args=(i, d)) for i, d in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def subjects(inbox: Inbox) -> list[str]:
    import email
    import email.policy

    # a long subject is folded; unfolded, a client shows it without the space after "Subject:"
    return [str(email.message_from_bytes(e.content, policy=email.policy.default)["Subject"]).strip()
            for e in inbox.envelopes]


def test_a_silent_gateway_is_mailed_once_across_two_daemons_and_once_more_when_back(
        db: Database, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    cfg = config(port)
    other = Database(db.url)  # a second daemon on the same database: its own engine and connections
    try:
        beat(db, "taput-1", 11 * 60)  # silent for 11 min > 10
        beat(db, "taput-2", 5, channel="simplex")  # fine
        queued = both(check, db, other, cfg)
        assert sorted(q for r in queued for q in r) == [("alert", "taput-1", "silent")]
        assert sum(both(deliver, db, other, cfg)) == 1
        assert subjects(inbox) == ["[HT Gateway] PERINGATAN: taput-1 (kanal rig-2m) gateway senyap"]
        assert sorted(inbox.envelopes[0].rcpt_tos) == sorted(RECIPIENTS)
        for _ in range(3):  # the next minutes: the same episode, nothing new
            assert both(check, db, other, cfg) == [[], []]
            assert both(deliver, db, other, cfg) == [0, 0]
        assert len(inbox.envelopes) == 1
        beat(db, "taput-1", 2)  # it is back
        queued = both(check, db, other, cfg)
        assert sorted(q for r in queued for q in r) == [("back", "taput-1", "silent")]
        assert sum(both(deliver, db, other, cfg)) == 1
        assert subjects(inbox)[1] == "[HT Gateway] PULIH: taput-1 (kanal rig-2m) gateway senyap"
        beat(db, "taput-1", 12 * 60)  # a new episode: mailed again, once
        assert sorted(q for r in both(check, db, other, cfg) for q in r) == [("alert", "taput-1", "silent")]
        assert sum(both(deliver, db, other, cfg)) == 1 and len(inbox.envelopes) == 3
    finally:
        other.close()


def test_a_stuck_squelch_and_a_backlog_are_alerted_and_ended(db: Database, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    cfg = config(port)
    beat(db, "taput-1", 5, squelch_stuck=True, backlog=100)  # at the limit: no backlog alert
    assert check(db, cfg) == [("alert", "taput-1", "squelch")]
    beat(db, "taput-1", 5, squelch_stuck=True, backlog=101)
    assert check(db, cfg) == [("alert", "taput-1", "backlog")]
    beat(db, "taput-1", 5, squelch_stuck=False, backlog=101)
    assert check(db, cfg) == [("back", "taput-1", "squelch")]
    assert deliver(db, cfg) == 3
    got = subjects(inbox)
    assert got == ["[HT Gateway] PERINGATAN: taput-1 (kanal rig-2m) squelch macet terbuka",
                   "[HT Gateway] PERINGATAN: taput-1 (kanal rig-2m) antrean transkripsi menumpuk",
                   "[HT Gateway] PULIH: taput-1 (kanal rig-2m) squelch macet terbuka"]
    assert "101" in inbox.envelopes[1].content.decode() and "100" in inbox.envelopes[1].content.decode()
    with db.read() as s:
        active = {(a.kind, a.active) for a in s.scalars(select(GatewayAlert))}
    assert active == {("squelch", False), ("backlog", True)}


def test_a_failed_mail_is_kept_and_retried_with_back_off(db: Database, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    down = config(free_port())  # nobody listens there
    beat(db, "taput-1", 20 * 60)
    assert check(db, down) == [("alert", "taput-1", "silent")]
    assert deliver(db, down) == 0
    with db.read() as s:
        mail = s.scalars(select(AlertMail)).one()
        now = db_now(s)
    assert mail.attempts == 1 and mail.delivered_at is None
    assert "connection refused" in (mail.last_error or "")
    assert (mail.next_attempt_at - now).total_seconds() == pytest.approx(60, abs=5)  # 1 min, then 2, 4…
    assert deliver(db, config(port)) == 0, "not due yet"
    with db.write() as s:
        s.execute(update(AlertMail).values(next_attempt_at=now - timedelta(seconds=1)))
    assert deliver(db, config(port)) == 1 and len(inbox.envelopes) == 1
    with db.read() as s:
        mail = s.scalars(select(AlertMail)).one()
    assert mail.attempts == 2 and mail.delivered_at is not None and mail.last_error is None


def test_a_mail_claimed_by_a_live_sender_is_not_sent_by_another(db: Database,
                                                                smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    cfg = config(port)
    beat(db, "taput-1", 20 * 60)
    check(db, cfg)
    with db.write() as s:  # another daemon is sending it right now (its claim runs 2 more minutes)
        s.execute(update(AlertMail).values(claimed_until=db_now(s) + timedelta(minutes=2)))
    assert deliver(db, cfg) == 0 and inbox.envelopes == []
    with db.write() as s:  # that daemon died mid-send: its claim ran out
        s.execute(update(AlertMail).values(claimed_until=db_now(s) - timedelta(seconds=1)))
    assert deliver(db, cfg) == 1 and len(inbox.envelopes) == 1


# --- what counts as wrong (no database) ----------------------------------------------------------

NOW = datetime.fromisoformat("2026-11-20T08:00:00+00:00")


def row(**kw: object) -> GatewayRow:
    base = dict(gateway_id="g", channel_id="c", host="h", version="v", capture_state="up", capture_up=True,
                last_frame_at=NOW, last_heard_at=None, backlog=0, squelch_stuck=False, clock_offset_s=0.0,
                heartbeat_s=15.0, updated_at=NOW)
    return GatewayRow(**{**base, **kw})


@pytest.mark.parametrize("kw, kinds", [
    ({}, []),
    ({"updated_at": NOW - timedelta(minutes=10, seconds=1)}, ["silent"]),  # no heartbeat for > 10 min
    ({"updated_at": NOW - timedelta(minutes=9, seconds=59)}, []),
    ({"last_frame_at": NOW - timedelta(minutes=11)}, ["silent"]),  # beats, but capture hears nothing
    ({"last_frame_at": NOW - timedelta(minutes=11), "capture_state": "idle"}, []),  # no radio configured
    ({"last_frame_at": None, "capture_state": "down"}, ["silent"]),  # down, never heard a block
    # the gateway's clock is 20 min behind the database's: its last block, 1 min before its beat,
    # is not 21 min old
    ({"clock_offset_s": -1200.0, "last_frame_at": NOW - timedelta(minutes=21)}, []),
    ({"clock_offset_s": +1200.0, "last_frame_at": NOW + timedelta(minutes=9)}, ["silent"]),
    ({"squelch_stuck": True}, ["squelch"]),
    ({"backlog": 201}, ["backlog"]),
    ({"backlog": 200}, []),
])
def test_findings(kw: dict, kinds: list[str]) -> None:
    cfg = parse('[alerts]\nsilent_after_min = 10\nbacklog_limit = 200\n')
    assert [f.kind for f in findings([row(**kw)], NOW, cfg)] == kinds


def test_no_backlog_alert_when_the_limit_is_zero() -> None:
    cfg = parse('[alerts]\nbacklog_limit = 0\n')
    assert findings([row(backlog=10**6)], NOW, cfg) == []


def run_until_mailed(t: threading.Thread, inbox: Inbox, stop: threading.Event, timeout: float = 15) -> None:
    """Run ``t`` until the SMTP server got a mail (at most ``timeout`` s), then stop it."""
    t.start()
    try:
        deadline = time.monotonic() + timeout
        while not inbox.envelopes and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        t.join(30)


def test_a_running_daemon_with_alerts_enabled_mails_a_silent_gateway(tmp_path, smtp) -> None:
    """The wiring: ``ht-gateway run``'s services check the table (first after one heartbeat) and send."""

    from test_supervise import _HangingSource

    from gateway.daemon import open_store, run_services
    from gateway.health import Health
    from gateway.sdnotify import SystemdNotifier
    from gateway.squelch.base import ScriptedSquelch

    inbox, port = smtp
    base = config(port, check_s=5.0)
    cfg = dataclasses.replace(base, gateway=dataclasses.replace(base.gateway, heartbeat_s=1.0),
                              web=dataclasses.replace(base.web, serve=False))
    db = open_store(cfg, tmp_path)
    beat(db, "taput-7", 30 * 60)  # another gateway, silent for half an hour
    stop = threading.Event()
    args = (cfg, tmp_path, _HangingSource(10.0), ScriptedSquelch([]), db, None, stop, Health(),
            SystemdNotifier({}))
    run_until_mailed(threading.Thread(target=run_services, args=args, daemon=True), inbox, stop)
    assert subjects(inbox) == ["[HT Gateway] PERINGATAN: taput-7 (kanal rig-2m) gateway senyap"]


def test_a_worker_with_alerts_enabled_mails_a_silent_gateway(pg_url: str, tmp_path, smtp) -> None:
    """An office machine running only ``ht-gateway worker`` watches the gateways too."""

    from gateway.asr.fake import FakeRecognizer
    from gateway.worker import run_worker

    inbox, port = smtp
    base = config(port, check_s=5.0)
    cfg = dataclasses.replace(base, gateway=dataclasses.replace(base.gateway, id="office", heartbeat_s=1.0))
    db = Database(pg_url)
    db.migrate()
    beat(db, "taput-8", 30 * 60)
    stop = threading.Event()
    try:
        run_until_mailed(threading.Thread(target=run_worker, args=(cfg, tmp_path, FakeRecognizer(), db, stop),
                                          daemon=True), inbox, stop)
    finally:
        db.close()
    assert subjects(inbox) == ["[HT Gateway] PERINGATAN: taput-8 (kanal rig-2m) gateway senyap"]
