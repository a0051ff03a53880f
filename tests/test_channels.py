"""Gateways and channels (gateway.id, channel.id on every transmission; migration 0022) and the job
claims underneath the transcription workers (gateway/jobs.py), on SQLite and a real PostgreSQL."""

from __future__ import annotations

import json
import re
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from test_web_helpers import WIB, add_tx, logged_in, make_web
from test_worker import add_job, expected, transcripts, worker, write_config

from gateway import export
from gateway.asr.fake import FakeRecognizer
from gateway.config import Config, ConfigError, parse
from gateway.daemon import process_file
from gateway.jobs import PRIORITY_REDO, Claims, holder_name, holder_prefix
from gateway.store.db import Database, default_url
from gateway.store.models import TranscriptRow, Transmission
from gateway.transcribe import TranscriptionStage, store_transcript, transcribe_file

from conftest import DATA, run_cli

DAY = datetime(2026, 11, 20, tzinfo=UTC)
START = datetime.fromisoformat("2026-11-20T07:05:00+07:00")


# --- configuration ------------------------------------------------------------------------------

def test_ids_default_to_one_gateway_on_one_channel_and_take_slugs() -> None:
    assert (Config().gateway.id, Config().channel.id) == ("gw1", "ch1")
    cfg = parse('[gateway]\nid = "taput-1"\n[channel]\nid = "rig-2m"\n')
    assert (cfg.gateway.id, cfg.channel.id) == ("taput-1", "rig-2m")


@pytest.mark.parametrize("key, value", [("gateway", "Taput"), ("gateway", "-x"), ("channel", "a b"),
                                        ("channel", ""), ("channel", "x" * 33), ("gateway", "ch/1")])
def test_a_bad_id_is_one_line_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(f'[{key}]\nid = "{value}"\n', "c.toml")
    assert str(e.value).startswith(f"c.toml: {key}.id = ") and "slug" in str(e.value)
    assert "\n" not in str(e.value)


# --- migration 0022: rows stored before it ------------------------------------------------------

@pytest.mark.parametrize("ids, want", [(None, ("gw1", "ch1")),
                                       (("taput-1", "rig-2m"), ("taput-1", "rig-2m"))])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_rows_stored_before_channels_get_the_configured_ids(request: pytest.FixtureRequest, tmp_path: Path,
                                                             backend: str, ids: tuple[str, str] | None,
                                                             want: tuple[str, str]) -> None:
    url = default_url(tmp_path) if backend == "sqlite" else request.getfixturevalue("pg_url")
    db = Database(url)
    try:
        db.migrate("0020_webspeed")
        with db.engine.begin() as c:
            c.execute(text("INSERT INTO transmissions (uid, started_at, audio_started_at, status, kerchunk, "
                           "stuck, recovered, source, created_at) VALUES ('old', :t, :t, 'complete', "
                           "false, false, false, 'x', :t)"), {"t": datetime(2026, 11, 19, 1, 0)})
        db.migrate(ids=ids)
        with db.read() as s:
            tx = s.scalars(select(Transmission)).one()
        assert (tx.gateway_id, tx.channel_id) == want
        assert (tx.asr_priority, tx.asr_redo, tx.asr_claimed_by, tx.asr_attempts) == (0, False, None, 0)
        assert tx.asr_pending, "complete without a transcript: pending before 0022, marked by it"
        db.migrate("0020_webspeed")  # and back down
    finally:
        db.close()


# --- the writer, the export, the web log ---------------------------------------------------------

def test_every_recorded_transmission_carries_the_configured_ids_into_the_export(tmp_path: Path) -> None:
    cfg = parse('[gateway]\nid = "taput-1"\n[channel]\nid = "rig-2m"\n')
    res = process_file(cfg, tmp_path, DATA / "sample_morning.flac", START, recognizer=None)
    assert len(res.transmission_ids) == 4
    db = Database(default_url(tmp_path))
    try:
        rows = export.transmissions_on(db, START.date(), cfg.tz)
    finally:
        db.close()
    assert len(rows) == 4 and {(r["gateway_id"], r["channel_id"]) for r in rows} == {("taput-1", "rig-2m")}
    lines = export.render(rows, "csv").splitlines()
    assert lines[0].endswith(",gateway_id,channel_id")
    assert all(ln.endswith(",taput-1,rig-2m") for ln in lines[1:])
    out = run_cli("--data-dir", str(tmp_path), "export", "transmissions", "--date", "2026-11-20")
    assert out.returncode == 0, out.stderr
    assert [r["channel_id"] for r in json.loads(out.stdout)] == ["rig-2m"] * 4


def test_the_log_filters_by_channel_and_refuses_a_bad_one(db: Database, tmp_path: Path,
                                                          example_config: Config) -> None:
    web = make_web(db, tmp_path, example_config)
    at = datetime(2026, 11, 20, 8, 0, tzinfo=WIB)
    ids = [add_tx(web, at + timedelta(minutes=i), "Tarutung") for i in range(4)]
    with db.write() as s:
        s.execute(update(Transmission).where(Transmission.id.in_(ids[2:])).values(channel_id="rig-2m",
                                                                                   gateway_id="taput-2"))
    client = logged_in(web, "vivi")
    page = client.get("/log?date=2026-11-20&channel=rig-2m")
    assert page.status_code == 200
    shown = {int(x) for x in re.findall(r'<td><a href="/tx/(\d+)">', page.text)}
    assert shown == set(ids[2:]) and '<td title="gateway taput-2">rig-2m</td>' in page.text
    assert "<p class=\"counts\">2 transmisi" in page.text
    every = client.get("/log?date=2026-11-20")
    assert {int(x) for x in re.findall(r'<td><a href="/tx/(\d+)">', every.text)} == set(ids)
    assert client.get("/log?channel=ch9").status_code == 200  # a well-formed id nobody uses: nothing
    tx_page = client.get(f"/tx/{ids[3]}").text
    assert '<a href="/log?channel=rig-2m">rig-2m</a> <span class="muted">(gateway taput-2)</span>' in tx_page
    for bad in ("Rig 2", "x" * 40, "%27;--", "-a"):
        r = client.get(f"/log?channel={bad}")
        assert r.status_code == 400 and "Kanal tidak sah" in r.text, bad


# --- claims ---------------------------------------------------------------------------------------

def _row(db: Database, start: datetime, priority: int = 0) -> int:
    with db.write() as s:
        tx = Transmission(uid=f"u{start.timestamp()}-{priority}", started_at=start, audio_started_at=start,
                          status="complete", kerchunk=False, stuck=False, source="t", asr_priority=priority,
                          asr_pending=True)  # as the writer completes a row
        s.add(tx)
        s.flush()
        return tx.id


def test_live_jobs_come_before_re_transcription_then_the_oldest(db: Database) -> None:
    old_redo = _row(db, DAY - timedelta(days=30), PRIORITY_REDO)
    newer_redo = _row(db, DAY - timedelta(days=29), PRIORITY_REDO)
    live_late = _row(db, DAY + timedelta(minutes=5))
    live_early = _row(db, DAY)
    claims = Claims(db, holder_name("gw1", "test"), 60)
    order = [job.tx_id for job in iter(claims.next, None)]
    assert order == [live_early, live_late, old_redo, newer_redo]
    assert claims.held == set(order) and claims.next() is None


def test_a_held_job_goes_to_another_holder_only_when_its_lease_has_run_out(db: Database) -> None:
    tx_id = _row(db, DAY)
    a, b = Claims(db, "gw1:a@h:1:x", 60), Claims(db, "gw1:b@h:2:y", 60)
    job = a.next()
    assert job is not None and job.tx_id == tx_id and job.attempts == 1
    assert b.next() is None and a.renew() == 1
    with db.write() as s:  # a's holder died: nobody renews, the lease runs out
        s.execute(update(Transmission).values(asr_lease_until=datetime.now(UTC) - timedelta(seconds=1)))
    again = b.next()
    assert again is not None and again.tx_id == tx_id and again.attempts == 2
    fake = FakeRecognizer()
    from gateway.asr.base import Transcript

    assert not store_transcript(db, tx_id, fake, Transcript("dari a", ()), "file", claims=a), "a lost it"
    assert store_transcript(db, tx_id, fake, Transcript("dari b", ()), "file", claims=b)
    with db.read() as s:
        assert list(s.scalars(select(TranscriptRow.text))) == ["dari b"]
        tx = s.get_one(Transmission, tx_id)
    assert tx.asr_claimed_by is None and tx.asr_lease_until is None and a.renew() == 0


def test_queued_re_transcription_replaces_the_transcript_and_clears_the_request(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    db = Database(default_url(data_dir.mkdir() or data_dir))
    db.migrate()
    try:
        tx_id = add_job(db, data_dir, 2, DAY)
        fake = FakeRecognizer()
        assert transcribe_file(db, data_dir, tx_id, fake)
        out = run_cli("--data-dir", str(data_dir), "transcribe", "--queue", "--id", str(tx_id))
        assert out.returncode == 0 and "queued 1 transmission" in out.stdout, out.stderr
        claims = Claims(db, "gw1:daemon@h:1:x", 60)
        job = claims.next()
        assert job is not None and job.tx_id == tx_id and job.redo
        assert transcribe_file(db, data_dir, tx_id, fake, claims=claims)
        with db.read() as s:
            rows = s.execute(select(TranscriptRow.text, TranscriptRow.current)
                             .order_by(TranscriptRow.id)).all()
            tx = s.get_one(Transmission, tx_id)
        assert [tuple(r) for r in rows] == [(expected(2), False), (expected(2), True)]
        assert (tx.asr_redo, tx.asr_priority, tx.asr_claimed_by) == (False, 0, None)
        assert claims.next() is None
    finally:
        db.close()
    bad = run_cli("--data-dir", str(data_dir), "transcribe", "--queue")
    assert bad.returncode == 2 and "name what to queue" in bad.stderr


def test_the_daemon_stage_leaves_a_job_a_worker_holds(db: Database, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    held, free = add_job(db, data_dir, 2, DAY), add_job(db, data_dir, 3, DAY + timedelta(minutes=1))
    other = Claims(db, holder_name("office", "worker"), 60)
    job = other.next()
    assert job is not None and job.tx_id == held
    stage = TranscriptionStage(FakeRecognizer(), db, data_dir,
                               claims=Claims(db, holder_name("gw1", "daemon"), 60)).start()
    try:
        assert stage.drain(30)
    finally:
        stage.stop()
    assert transcripts(db) == {free: [("done", expected(3), None)]}
    with db.read() as s:
        assert s.get_one(Transmission, held).asr_claimed_by == other.name
    assert stage.pending_count() == 1  # the backlog (health.json) counts what the worker still holds


def test_a_job_transcribed_meanwhile_is_unmarked_not_claimed(db: Database) -> None:
    edited, pending = _row(db, DAY), _row(db, DAY + timedelta(minutes=1))
    with db.write() as s:  # an operator typed a transcript, which leaves the mark
        s.add(TranscriptRow(transmission_id=edited, status="done", engine="manual", model="op", text="x",
                            words=[], origin="edit", current=True))
    claims = Claims(db, holder_name("gw1", "test"), 60)
    job = claims.next()
    assert job is not None and job.tx_id == pending and claims.next() is None
    with db.read() as s:
        assert not s.get_one(Transmission, edited).asr_pending


def test_a_claim_given_back_is_not_an_attempt_but_a_stale_one_is(db: Database) -> None:
    tx_id = _row(db, DAY)
    claims = Claims(db, holder_name("gw1", "daemon"), 60)
    assert claims.take(f"u{DAY.timestamp()}-0") == tx_id  # a live transcription at the open...
    claims.release(tx_id)  # ...deferred to the recording
    job = claims.next()
    assert job is not None and job.attempts == 1
    claims.release_all()  # a clean stop
    assert Claims(db, holder_name("gw1", "daemon") + "old", 60).next() is not None  # then killed
    Claims(db, holder_name("gw1", "daemon"), 60).release_stale(holder_prefix("gw1", "daemon"))
    with db.read() as s:
        assert s.get_one(Transmission, tx_id).asr_attempts == 1  # the killed run's claim counts


def test_a_restarted_daemon_releases_only_its_own_earlier_claims(db: Database) -> None:
    mine, theirs = _row(db, DAY), _row(db, DAY + timedelta(minutes=1))
    Claims(db, holder_name("gw1", "daemon") + "old", 60).next()  # the killed run (same prefix)
    Claims(db, holder_name("gw2", "daemon"), 60).next()  # another gateway's daemon
    assert Claims(db, holder_name("gw1", "daemon"), 60).release_stale(holder_prefix("gw1", "daemon")) == 1
    with db.read() as s:
        claimed = dict(s.execute(select(Transmission.id, Transmission.asr_claimed_by)).all())
    assert claimed[mine] is None and claimed[theirs] is not None and claimed[theirs].startswith("gw2:")


def test_a_gateway_and_a_worker_on_one_database_transcribe_each_transmission_once(
        pg_url: str, tmp_path: Path) -> None:
    """The daemon's pipeline (``process``) with a slow recogniser that defers to the recordings, and
    a worker process polling the same PostgreSQL: four transmissions, four transcripts."""
    data_dir = tmp_path / "data"
    cfg = parse(f'[store]\nurl = "{pg_url}"\n[asr]\nqueue_s = 2.0\n')
    Database(pg_url).migrate()
    w = worker(write_config(tmp_path, pg_url), data_dir, 0.0)
    try:
        res = process_file(cfg, data_dir, DATA / "sample_morning.flac", START,
                           recognizer=FakeRecognizer(seconds_per_second=0.5))
        db = Database(pg_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(transcripts(db)) < 4:
            time.sleep(0.2)
    finally:
        w.send_signal(signal.SIGTERM)
        out, err = w.communicate(timeout=60)
    assert w.returncode == 0, err
    got = transcripts(db)
    with db.read() as s:
        kerchunk = dict(s.execute(select(Transmission.id, Transmission.kerchunk)).all())
    db.close()
    assert len(res.transmission_ids) == 4 and set(got) == set(res.transmission_ids)
    assert all(len(v) == 1 and v[0][0] == "done" for v in got.values()), got
    assert all(v[0][1].startswith("kata1") for tx, v in got.items() if not kerchunk[tx])
    by_worker = int(out.split("worker: ")[1].split(" claimed")[0])
    assert by_worker >= 1, (out, res.transcribed)  # the deferred ones were shared out
    assert by_worker + res.transcribed == 4


def test_transcribe_here_leaves_a_job_another_process_holds_and_claims_the_rest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from gateway.cli.asr import _transcribe

    data_dir = tmp_path / "data"
    db = Database(default_url(data_dir.mkdir() or data_dir))
    db.migrate()
    try:
        free, held = add_job(db, data_dir, 2, DAY), add_job(db, data_dir, 3, DAY + timedelta(minutes=1))
        other = "gw2:worker@elsewhere:7:abcdef"  # a worker on another machine is doing this one
        with db.write() as s:
            s.execute(update(Transmission).where(Transmission.id == held).values(
                asr_claimed_by=other, asr_lease_until=datetime.now(UTC) + timedelta(minutes=5)))
        args = argparse.Namespace(ids=[], date_from=None, date_to=None, failed=False, no_progress=True)
        assert _transcribe(args, parse(""), data_dir, db, FakeRecognizer()) == 0
        out = capsys.readouterr().out
        assert "transcribed 1 of 2" in out and "1 left to the process that holds them" in out, out
        with db.read() as s:
            texts = dict(s.execute(select(TranscriptRow.transmission_id, TranscriptRow.text)).all())
            rows = {t.id: t for t in s.scalars(select(Transmission))}
        assert texts == {free: expected(2)}  # the generator's two bursts; the held job untouched
        assert (rows[free].asr_pending, rows[free].asr_claimed_by) == (False, None)
        assert (rows[held].asr_pending, rows[held].asr_claimed_by) == (True, other)
    finally:
        db.close()
