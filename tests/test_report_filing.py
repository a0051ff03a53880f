"""Filing the daily report with an injected clock: at the cutoff, new revisions after a late report
or a correction, immutable revisions, nothing filed twice after a restart, follow-ups carried over."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.config import Config
from gateway.identification import identify
from gateway.report.build import build_report
from gateway.report.filing import file_due, revisions, set_followup
from gateway.report.schedule import ReportScheduler
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission

WIB = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 20)


def at(hhmm: str, day: date = DAY) -> datetime:
    return datetime.combine(day, datetime.strptime(hhmm, "%H:%M").time(), WIB)


def report_tx(db: Database, cfg: Config, when: datetime, ani: str | None, text: str) -> int:
    with db.write() as s:
        tx = Transmission(uid=uuid.uuid4().hex, started_at=when,
                          audio_started_at=when - timedelta(seconds=0.5),
                          ended_at=when + timedelta(seconds=9), duration_s=9.0, status="complete",
                          kerchunk=False, stuck=False, recovered=False, source="test", ani=ani,
                          ani_position="bot" if ani else None, audio_path="x.ogg")
        s.add(tx)
        s.flush()
        s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="fake", model="m", text=text,
                            words=[], origin="live", current=True))
        s.flush()
        identify.reidentify(s, tx.id, cfg)
        return tx.id


@pytest.fixture
def cfg(example_config: Config) -> Config:
    return dataclasses.replace(example_config, gateway=dataclasses.replace(
        example_config.gateway, kabupaten="Tapanuli Utara"))


@pytest.fixture
def morning(db: Database, cfg: Config) -> Database:
    report_tx(db, cfg, at("07:05"), "101",
              "situasi aman kondusif harga beras sebelas ribu rupiah per kilogram")
    report_tx(db, cfg, at("07:40"), None, "lapor camat siatas barita banjir di desa sitampurung tujuh rumah "
                                         "terendam mohon bantuan terpal dan beras ganti")
    return db


def test_nothing_before_the_cutoff_then_revision_one_at_it(morning: Database, cfg: Config) -> None:
    assert file_due(morning, cfg, at("11:59")) == []
    (rev,) = file_due(morning, cfg, at("12:00"))
    assert (rev.day, rev.revision, rev.reason) == (DAY, 1, "scheduled")
    c = rev.content
    assert c["revision"] == 1 and c["filed_at"] == "2026-11-20T12:00:00+07:00"
    assert c["summary"]["reported"] == 2 and len(c["summary"]["missing"]) == 13
    banjir = [i for i in c["incidents"] if i["category"] == "banjir"]
    assert banjir and banjir[0]["counts"] == {"rumah_terendam": 7} and banjir[0]["station"] == "Siatas Barita"
    prices = {p["commodity"]: p["rupiah_per_kg"] for s in c["stations"] for p in s["prices"]}
    assert prices == {"beras": 11000}


def test_late_report_and_correction_make_new_revisions_and_old_ones_stay(morning: Database,
                                                                         cfg: Config) -> None:
    file_due(morning, cfg, at("12:00"))
    assert file_due(morning, cfg, at("12:05")) == [], "nothing changed, nothing filed"
    report_tx(morning, cfg, at("12:30"), "104", "di sini camat sipoholon situasi aman ganti")
    (late,) = file_due(morning, cfg, at("12:35"))
    assert (late.revision, late.reason) == (2, "late_report")
    sipoholon = next(s for s in late.content["stations"] if s["station"] == "Sipoholon")
    assert sipoholon["checkin"] == "missing" and sipoholon["note"] == "reported after 12:00"
    # an operator corrects who spoke in the Siatas Barita transmission
    with morning.write() as s:
        tx_id = s.query(Transmission.id).filter(Transmission.station == "Siatas Barita").scalar()
        identify.assign(s, tx_id, "Pagaran", "ops", cfg)
    (corr,) = file_due(morning, cfg, at("12:40"))
    assert (corr.revision, corr.reason) == (3, "correction")
    revs = revisions(morning, DAY)
    assert [r.revision for r in revs] == [1, 2, 3]
    first = revs[0].content
    assert "Sipoholon" in first["summary"]["missing"], "a filed revision never changes"
    assert any(s["station"] == "Siatas Barita" and s["checkin"] == "on_time" for s in first["stations"])


def test_nothing_filed_twice_after_a_restart_and_a_missed_cutoff_is_filed_at_start(
        morning: Database, cfg: Config, tmp_path: Path) -> None:
    first = ReportScheduler(morning, cfg, tmp_path, clock=lambda: at("14:00"))
    filed = first.run_once()  # the gateway was down at 12:00: filed now
    assert [r.revision for r in filed] == [1]
    folder = tmp_path / "reports" / "2026-11-20"
    assert sorted(p.name for p in folder.iterdir()) == [
        f"laporan-situasi-2026-11-20-r1.{ext}" for ext in ("csv", "html", "json", "pdf")]
    assert (folder / "laporan-situasi-2026-11-20-r1.pdf").read_bytes().startswith(b"%PDF")
    again = ReportScheduler(morning, cfg, tmp_path, clock=lambda: at("14:01"))  # a restart
    assert again.run_once() == []
    assert [r.revision for r in revisions(morning, DAY)] == [1]
    next_day = ReportScheduler(morning, cfg, tmp_path, clock=lambda: at("12:00", DAY + timedelta(days=1)))
    assert [(r.day, r.revision) for r in next_day.run_once()] == [(DAY + timedelta(days=1), 1)]


def test_followups_are_opened_carried_over_and_closed(morning: Database, cfg: Config) -> None:
    (rev,) = file_due(morning, cfg, at("12:00"))
    items = sorted(f["item"] for f in rev.content["followups"]) if rev.content["followups"] else []
    assert items == [], "opened by this filing: listed from the next build on"
    tomorrow = build_report(morning, DAY + timedelta(days=1), cfg, at("12:00", DAY + timedelta(days=1)))
    carried = tomorrow.followups
    assert sorted(f.item for f in carried) == ["beras", "terpal"]
    assert all(f.status == "baru" and f.station == "Siatas Barita" for f in carried)
    assert all(f.category == "banjir" for f in carried)
    assert carried[0].id is not None and carried[1].id is not None
    set_followup(morning, carried[0].id, "selesai", "BPBD", cfg)
    with pytest.raises(ValueError, match=re.escape("not in report.opd")):
        set_followup(morning, carried[1].id, None, "Dinas Rahasia", cfg)
    later = build_report(morning, DAY + timedelta(days=2), cfg, at("12:00", DAY + timedelta(days=2)))
    assert [f.item for f in later.followups] == [carried[1].item]
    file_due(morning, cfg, at("12:30"))  # refiling does not duplicate follow-ups
    again = build_report(morning, DAY + timedelta(days=1), cfg, at("13:00", DAY + timedelta(days=1)))
    assert len(again.followups) == 1


def test_scheduler_registers_its_jobs_in_the_configured_zone(morning: Database, cfg: Config,
                                                             tmp_path: Path) -> None:
    sched = ReportScheduler(morning, cfg, tmp_path, clock=lambda: at("09:00")).start()
    try:
        jobs = {j.id: j for j in sched._scheduler.get_jobs()}
        assert set(jobs) == {"file_report"}  # one filing job (no mail configured): never two filers
        cron, interval = jobs["file_report"].trigger.triggers
        assert str(cron.timezone) == "Asia/Jakarta"
        fields = {f.name: str(f) for f in cron.fields}
        assert (fields["hour"], fields["minute"]) == ("12", "0")
        assert interval.interval == timedelta(minutes=cfg.report.recheck_minutes)
        nxt = cron.get_next_fire_time(None, at("09:00"))
        assert (nxt.hour, nxt.minute) == (12, 0) and nxt.utcoffset() == timedelta(hours=7)
    finally:
        sched.stop()
    assert revisions(morning, DAY) == [], "09:00: not due yet"
