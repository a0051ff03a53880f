"""Retention: old recordings and rows go, a day whose report is not filed stays, a crash between the
unlink and the row change is finished by the next run and never resurrected by recovery, the web
player says "dihapus oleh retensi". SQLite and a real PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from daykit import Day, at, build_day
from sqlalchemy import func, select
from test_web_helpers import logged_in, make_web

from gateway.config import Config, ConfigError, parse
from gateway.config_model import RetentionConfig
from gateway.identification.checkins import checkins_for
from gateway.recovery import recover_interrupted
from gateway.retention import run_retention
from gateway.store.db import Database
from gateway.store.models import FollowUp, ReportRevision, TranscriptRow, Transmission, TransmitMessage

OLD, UNFILED, RECENT = date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 19)
NOW = at("04:00", date(2026, 11, 20))


def _cfg(example_config: Config, audio_days: int = 0, rows_days: int = 0) -> Config:
    return dataclasses.replace(example_config, retention=RetentionConfig(audio_days=audio_days,
                                                                         rows_days=rows_days))


@pytest.fixture
def days(db: Database, example_config: Config, tmp_path: Path) -> dict[date, Day]:
    return {d: build_day(db, example_config, tmp_path, day=d, file=d != UNFILED, next_day=False)
            for d in (OLD, UNFILED, RECENT)}


def _rows(db: Database, day: date, cfg: Config) -> list[Transmission]:
    from gateway.timeutil import day_bounds

    lo, hi = day_bounds(day, cfg.tz)
    with db.read() as s:
        return list(s.scalars(select(Transmission).where(Transmission.started_at >= lo,
                                                         Transmission.started_at < hi)))


def _intact(db: Database, cfg: Config, day: date, built: Day) -> bool:
    rows = _rows(db, day, cfg)
    return len(rows) == 3 and all(
        r.audio_path and hashlib.sha256((built.path[r.uid]).read_bytes()).hexdigest() == built.sha[r.uid]
        for r in rows)


def test_audio_of_old_filed_days_goes_and_the_rest_stays(db: Database, example_config: Config, tmp_path: Path,
                                                         days: dict[date, Day]) -> None:
    cfg = _cfg(example_config, audio_days=5)
    before = {d: [c.status for c in checkins_for(db, d, cfg)] for d in days}
    dry = run_retention(db, cfg, tmp_path, NOW, dry_run=True)
    assert [(d.day, d.kind, d.kept, d.files) for d in dry.days] == [
        (OLD, "audio", "", 3), (UNFILED, "audio", "its report is not filed", 0)]
    assert all(p.is_file() for p in days[OLD].path.values())

    result = run_retention(db, cfg, tmp_path, NOW)
    assert [(d.day, d.kept, d.files, d.transmissions) for d in result.days] == [
        (OLD, "", 3, 3), (UNFILED, "its report is not filed", 0, 0)]
    old = _rows(db, OLD, cfg)
    assert len(old) == 3 and all(r.audio_path is None and r.audio_purged and r.sha256 for r in old)
    assert not any(p.exists() for p in days[OLD].path.values())
    assert not (tmp_path / "recordings" / "2026" / "11" / "10").exists(), "the empty day folder went too"
    assert _intact(db, cfg, UNFILED, days[UNFILED]) and _intact(db, cfg, RECENT, days[RECENT])
    with db.read() as s:  # transcripts stay; check-ins are what they were
        assert s.scalar(select(func.count()).select_from(TranscriptRow)
                        .where(TranscriptRow.transmission_id.in_([r.id for r in old]))) == 3
    assert {d: [c.status for c in checkins_for(db, d, cfg)] for d in days} == before
    assert [d.kept for d in run_retention(db, cfg, tmp_path, NOW).days] == ["its report is not filed"]

    client = logged_in(make_web(db, tmp_path, cfg), "vivi")
    r = client.get(f"/audio/{old[0].id}")
    assert r.status_code == 410 and "dihapus oleh retensi" in r.text
    assert "dihapus oleh retensi" in client.get(f"/tx/{old[0].id}").text
    assert "dihapus oleh retensi" in client.get("/log?date=2026-11-10").text
    kept = _rows(db, RECENT, cfg)[0]
    assert client.get(f"/audio/{kept.id}").status_code == 200


def test_a_crash_between_unlink_and_commit_is_finished_later_and_not_resurrected(
        db: Database, example_config: Config, tmp_path: Path, days: dict[date, Day],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _cfg(example_config, audio_days=5)
    real_write = Database.write

    def dies(self: Database):  # type: ignore[no-untyped-def]
        raise RuntimeError("power cut")

    monkeypatch.setattr(Database, "write", dies)
    with pytest.raises(RuntimeError):
        run_retention(db, cfg, tmp_path, NOW)
    monkeypatch.setattr(Database, "write", real_write)
    old = _rows(db, OLD, cfg)
    assert all(r.audio_path for r in old) and not any(p.exists() for p in days[OLD].path.values())
    # the daemon restarts: recovery neither adopts nor removes anything
    with db.read() as s:
        n = s.scalar(select(func.count()).select_from(Transmission))
    assert recover_interrupted(db, tmp_path, cfg) == []
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Transmission)) == n
    result = run_retention(db, cfg, tmp_path, NOW)
    assert (result.days[0].day, result.days[0].files, result.days[0].transmissions) == (OLD, 0, 3)
    assert all(r.audio_purged for r in _rows(db, OLD, cfg))


def test_rows_of_old_filed_days_go_but_not_with_an_open_follow_up(
        db: Database, example_config: Config, tmp_path: Path, days: dict[date, Day]) -> None:
    cfg = _cfg(example_config, rows_days=5)
    with db.read() as s:
        open_ = s.scalars(select(FollowUp.id).join(Transmission, FollowUp.transmission_id == Transmission.id)
                          .where(Transmission.started_at < at("00:00", OLD + timedelta(days=1)))).all()
    assert open_, "the filed report opened a follow-up (bantuan terpal)"
    result = run_retention(db, cfg, tmp_path, NOW)
    assert [(d.day, d.kept) for d in result.days] == [(OLD, "a follow-up is not done (selesai)"),
                                                       (UNFILED, "its report is not filed")]
    assert _intact(db, cfg, OLD, days[OLD])
    from gateway.report.filing import set_followup

    for f in open_:
        set_followup(db, f, status="selesai")
    result = run_retention(db, cfg, tmp_path, NOW)
    assert (result.days[0].day, result.days[0].kept, result.days[0].transmissions, result.days[0].files) == \
        (OLD, "", 3, 3)
    assert _rows(db, OLD, cfg) == [] and not any(p.exists() for p in days[OLD].path.values())
    with db.read() as s:
        revisions = select(func.count()).select_from(ReportRevision).where(ReportRevision.day == OLD)
        assert s.scalar(revisions) == 1, "the filed report stays"
        assert s.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.day == OLD)) == 0
        sent = s.scalars(select(TransmitMessage).where(TransmitMessage.created_at == at("09:01", OLD))).one()
        assert sent.transmission_id is None, "what the gateway said stays; its link to the deleted row goes"
    assert _intact(db, cfg, UNFILED, days[UNFILED]) and _intact(db, cfg, RECENT, days[RECENT])
    assert recover_interrupted(db, tmp_path, cfg) == []


def test_retention_keys_are_checked(example_config: Config) -> None:
    assert parse('[retention]\naudio_days = 30\nrows_days = 400\nrun_at = "02:15"\n').retention == \
        RetentionConfig(30, 400, "02:15")
    for text, where in (("rows_days = 2", "report.recheck_days"), ("audio_days = 1", "report.recheck_days"),
                        ("audio_days = -1", "retention.audio_days"),
                        ('run_at = "25:00"', "retention.run_at"), ("rows_days = 1.5", "whole number")):
        with pytest.raises(ConfigError, match=where) as e:
            parse(f"[retention]\n{text}\n")
        assert "\n" not in str(e.value)


def test_re_transcription_leaves_a_purged_transmission_alone(db: Database, example_config: Config,
                                                             tmp_path: Path, days: dict[date, Day]) -> None:
    from sqlalchemy import update

    from gateway.asr.fake import FakeRecognizer
    from gateway.jobs import Claims
    from gateway.transcripts import transcribe_file

    cfg = _cfg(example_config, audio_days=5)
    run_retention(db, cfg, tmp_path, NOW)
    first, second = (r.id for r in _rows(db, OLD, cfg)[:2])

    def current(tx_id: int) -> tuple[int, str]:
        with db.read() as s:
            row = s.scalars(select(TranscriptRow).where(TranscriptRow.transmission_id == tx_id,
                                                        TranscriptRow.current)).one()
            return row.id, row.status

    before = current(first)
    assert transcribe_file(db, tmp_path, first, FakeRecognizer(), replace=True) is False
    assert current(first) == before == (before[0], "done"), "the transcript it has stays current"
    # a queued re-transcription (ht-gateway transcribe --queue) is closed, not handed out for ever
    with db.write() as s:
        s.execute(update(Transmission).where(Transmission.id == second)
                  .values(asr_pending=True, asr_redo=True, asr_priority=10))
    claims = Claims(db, "gw1:worker@test:1:abc", 60.0)
    job = claims.next()
    assert job is not None and job.tx_id == second
    assert transcribe_file(db, tmp_path, second, FakeRecognizer(), claims=claims) is False
    with db.read() as s:
        row = s.get_one(Transmission, second)
        assert (row.asr_pending, row.asr_redo, row.asr_claimed_by) == (False, False, None)
    assert claims.next() is None


def test_the_daemon_job_runs_at_start_then_daily_at_run_at(db: Database, example_config: Config,
                                                          tmp_path: Path, days: dict[date, Day]) -> None:
    import threading

    from gateway.retention import RetentionJob

    cfg = dataclasses.replace(_cfg(example_config, audio_days=5),
                              retention=RetentionConfig(audio_days=5, run_at="03:00"))
    assert RetentionJob(db, cfg, tmp_path, clock=lambda: NOW).seconds_to_next() == 23 * 3600  # 04:00 → 03:00
    assert RetentionJob(db, cfg, tmp_path, clock=lambda: at("02:30")).seconds_to_next() == 1800
    stop = threading.Event()
    job = RetentionJob(db, cfg, tmp_path, clock=lambda: NOW)
    worker = threading.Thread(target=job.run, args=(stop,))
    worker.start()
    deadline = 50
    while deadline and not all(r.audio_purged for r in _rows(db, OLD, cfg)):
        stop.wait(0.1)
        deadline -= 1
    stop.set()
    worker.join(5)
    assert not worker.is_alive() and all(r.audio_purged for r in _rows(db, OLD, cfg))


def test_a_day_is_listed_once_and_recordings_waiting_for_transcription_stay(
        db: Database, example_config: Config, tmp_path: Path, days: dict[date, Day]) -> None:
    from sqlalchemy import update

    from gateway.report.filing import set_followup

    with db.read() as s:
        for f in s.scalars(select(FollowUp.id)).all():
            set_followup(db, f, status="selesai")
    cfg = _cfg(example_config, audio_days=5, rows_days=8)
    dry = run_retention(db, cfg, tmp_path, NOW, dry_run=True)
    assert [(d.day, d.kind, d.kept) for d in dry.days] == [(OLD, "rows", ""),
                                                           (UNFILED, "rows", "its report is not filed"),
                                                           (UNFILED, "audio", "its report is not filed")]
    assert _intact(db, cfg, OLD, days[OLD])
    cfg = _cfg(example_config, audio_days=5)
    with db.write() as s:
        s.execute(update(Transmission).where(Transmission.id.in_([r.id for r in _rows(db, OLD, cfg)]))
                  .values(asr_pending=True))
    result = run_retention(db, cfg, tmp_path, NOW)
    waiting = "its recordings wait for transcription (or for their copy to the database)"
    assert [(d.day, d.kept) for d in result.days] == [(OLD, waiting), (UNFILED, "its report is not filed")]
    assert _intact(db, cfg, OLD, days[OLD])


def test_the_running_daemon_purges_at_start(example_config: Config, tmp_path: Path) -> None:
    """run_services (the daemon's workers) with [retention] set: the retention worker runs at once."""
    import threading
    import time

    from test_supervise import _HangingSource

    from gateway.daemon import open_store, run_services
    from gateway.health import Health
    from gateway.sdnotify import SystemdNotifier
    from gateway.squelch.base import ScriptedSquelch

    cfg = dataclasses.replace(_cfg(example_config, audio_days=10),
                              web=dataclasses.replace(example_config.web, serve=False))
    db = open_store(cfg, tmp_path)
    old = datetime.now(cfg.tz).date() - timedelta(days=30)  # the daemon runs on the real clock
    day = build_day(db, cfg, tmp_path, day=old, next_day=False)
    stop = threading.Event()
    args = (cfg, tmp_path, _HangingSource(60.0), ScriptedSquelch([]), db, None, stop, Health(),
            SystemdNotifier({}))
    t = threading.Thread(target=run_services, args=args, daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(p.exists() for p in day.path.values()):
            time.sleep(0.1)
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()
    assert not any(p.exists() for p in day.path.values())
    assert all(r.audio_purged for r in _rows(db, old, cfg))
    db.close()


def test_retention_waits_for_the_copy_to_the_database_then_deletes_it_with_the_file(
        db: Database, example_config: Config, tmp_path: Path, days: dict[date, Day]) -> None:
    from sqlalchemy import update

    from gateway.audiostore import AudioPusher
    from gateway.store.models import TransmissionAudio

    cfg = _cfg(example_config, audio_days=5)
    old_ids = [r.id for r in _rows(db, OLD, cfg)]
    with db.write() as s:  # store.audio_in_db: the old day's recordings still to be copied
        s.execute(update(Transmission).where(Transmission.id.in_(old_ids)).values(audio_push_pending=True))
    result = run_retention(db, cfg, tmp_path, NOW)
    assert (result.days[0].day, result.days[0].kept) == (
        OLD, "its recordings wait for transcription (or for their copy to the database)")
    assert _intact(db, cfg, OLD, days[OLD])
    AudioPusher(db, tmp_path, cfg.gateway.id).push_pending()
    with db.read() as s:  # the copies are the files' bytes (hashlib over what the test wrote)
        copies = dict(s.execute(select(TransmissionAudio.transmission_id, TransmissionAudio.sha256)).all())
    assert {i: copies.get(i) for i in old_ids} == {
        r.id: days[OLD].sha[r.uid] for r in _rows(db, OLD, cfg)}
    run_retention(db, cfg, tmp_path, NOW)
    with db.read() as s:
        left = s.scalar(select(func.count()).select_from(TransmissionAudio)
                        .where(TransmissionAudio.transmission_id.in_(old_ids)))
    assert left == 0 and all(r.audio_purged for r in _rows(db, OLD, cfg))
    client = logged_in(make_web(db, tmp_path, cfg), "vivi")
    assert client.get(f"/audio/{old_ids[0]}").status_code == 410  # not played from a copy either
