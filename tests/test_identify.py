"""Who spoke: precedence (operator > ANI > voice > nothing), continuation, assignments, check-ins."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway.config import Config
from gateway.identification import identify
from gateway.identification.checkins import checkins_for, compliance
from gateway.store.db import Database
from gateway.store.models import Assignment, TranscriptRow, Transmission

from conftest import run_cli

WIB = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 20)


@pytest.fixture
def cfg(example_config: Config) -> Config:
    return example_config


def add_tx(db: Database, cfg: Config, at: str, seconds: float = 8.0, ani: str | None = None,
           text: str | None = None, kerchunk: bool = False, day: date = DAY) -> int:
    """A complete transmission at local time ``at`` (HH:MM:SS), identified as the writer would."""
    start = datetime.combine(day, datetime.strptime(at, "%H:%M:%S").time(), WIB)
    with db.write() as s:
        tx = Transmission(uid=uuid.uuid4().hex, started_at=start,
                          audio_started_at=start - timedelta(seconds=0.5),
                          ended_at=start + timedelta(seconds=seconds), duration_s=seconds, status="complete",
                          kerchunk=kerchunk, stuck=False, recovered=False, source="test", ani=ani,
                          ani_position="bot" if ani else None, audio_path="x.ogg")
        s.add(tx)
        s.flush()
        identify.apply(s, tx, cfg)
        tx_id = tx.id
    if text is not None:
        with db.write() as s:
            s.add(TranscriptRow(transmission_id=tx_id, status="done", engine="fake", model="m", text=text,
                                words=[], origin="live", current=True))
            s.flush()
            identify.reidentify(s, tx_id, cfg)
    return tx_id


def row(db: Database, tx_id: int) -> Transmission:
    with db.read() as s:
        return s.get_one(Transmission, tx_id)


def test_ani_identifies_and_unknown_ani_says_so(db: Database, cfg: Config) -> None:
    a = add_tx(db, cfg, "07:05:02", ani="101")
    b = add_tx(db, cfg, "07:06:00", ani="199")
    assert (row(db, a).station, row(db, a).identity_source) == ("Tarutung", "ani")
    assert row(db, a).identity_reason == "ANI 101 (bot) is Tarutung"
    assert row(db, b).station is None
    assert "ANI 199 belongs to no configured station" in row(db, b).identity_reason
    assert "not transcribed yet" in row(db, b).identity_reason


def test_voice_identifies_when_there_is_no_ani(db: Database, cfg: Config) -> None:
    tx = add_tx(db, cfg, "07:05:00", text="bupati di sini camat sipoholon situasi aman ganti")
    r = row(db, tx)
    assert (r.station, r.identity_source) == ("Sipoholon", "voice") and r.identity_confidence >= 0.8


def test_words_heard_before_the_write_count_only_for_the_same_transcript(db: Database, cfg: Config) -> None:
    """``identify.hear`` runs before the write transaction (CPU work); inside it, the result is used
    only when it is of the current transcript's text and words, so a stale one changes nothing."""
    tx_id = add_tx(db, cfg, "07:00:00", text="Bupati, di sini camat Tarutung, situasi aman, ganti.")
    stale = identify.hear("Bupati, di sini camat Muara, situasi aman, ganti.", [], cfg)
    assert stale.match.station == "Muara"
    with db.write() as s:
        identify.reidentify(s, tx_id, cfg, stale)
    assert row(db, tx_id).station == "Tarutung"
    with db.read() as s:
        cur = s.scalars(select(TranscriptRow).where(TranscriptRow.transmission_id == tx_id)).one()
        text, words = cur.text, cur.words
    fresh = identify.hear(text, words, cfg)
    assert fresh.of(cur) and fresh.match.station == "Tarutung"


def test_ani_beats_voice(db: Database, cfg: Config) -> None:
    tx = add_tx(db, cfg, "07:05:00", ani="101", text="di sini camat sipoholon ganti")
    assert (row(db, tx).station, row(db, tx).identity_source) == ("Tarutung", "ani")


def test_no_name_stays_unknown_with_a_reason(db: Database, cfg: Config) -> None:
    tx = add_tx(db, cfg, "07:05:00", text="situasi aman terkendali ganti")
    r = row(db, tx)
    assert r.station is None and r.identity_source is None and r.identity_reason.startswith("no ANI; ")


def test_continuation_within_the_gap_only(db: Database, cfg: Config) -> None:
    first = add_tx(db, cfg, "07:05:00", seconds=8, ani="104")
    cont = add_tx(db, cfg, "07:05:12", seconds=5, text="jalan masih bisa dilalui ganti")  # 4 s later
    far = add_tx(db, cfg, "07:06:00", seconds=5, text="warga sudah dievakuasi ganti")  # 43 s later
    assert (row(db, cont).station, row(db, cont).identity_source) == ("Sipoholon", "continuation")
    assert f"continues transmission {first}" in row(db, cont).identity_reason
    assert row(db, far).station is None


def test_kerchunk_is_never_a_continuation_nor_breaks_one(db: Database, cfg: Config) -> None:
    add_tx(db, cfg, "07:05:00", seconds=8, ani="104")
    k = add_tx(db, cfg, "07:05:09", seconds=0.3, kerchunk=True)
    cont = add_tx(db, cfg, "07:05:12", seconds=5, text="ganti")
    assert row(db, k).station is None and "kerchunk" in row(db, k).identity_reason
    assert row(db, cont).identity_source == "continuation"


def test_operator_assignment_beats_all_survives_retranscription_and_can_be_cleared(
        db: Database, cfg: Config) -> None:
    tx = add_tx(db, cfg, "07:05:00", ani="101")
    nxt = add_tx(db, cfg, "07:05:10", seconds=4, text="ganti")
    assert row(db, nxt).station == "Tarutung"
    with db.write() as s:
        ident = identify.assign(s, tx, "pahae jae", "operator1", cfg)
    assert (ident.station, ident.source) == ("Pahae Jae", "operator")
    assert row(db, nxt).station == "Pahae Jae", "the continuation follows the assignment"
    with db.write() as s:  # re-transcription writes a new current transcript and re-identifies
        s.execute(TranscriptRow.__table__.update().where(TranscriptRow.transmission_id == tx)
                  .values(current=False))
        s.add(TranscriptRow(transmission_id=tx, status="done", engine="fake", model="m2",
                            text="di sini camat sipoholon", words=[], origin="file", current=True))
        s.flush()
        identify.reidentify(s, tx, cfg)
    assert row(db, tx).station == "Pahae Jae"
    with db.write() as s:
        ident = identify.assign(s, tx, None, "operator2", cfg)
    assert (ident.station, ident.source) == ("Tarutung", "ani")
    with db.read() as s:
        history = s.scalars(select(Assignment).order_by(Assignment.id)).all()
    assert [(a.station, a.by) for a in history] == [("Pahae Jae", "operator1"), (None, "operator2")]
    with db.write() as s, pytest.raises(ValueError, match="not configured"):
        identify.assign(s, tx, "Atlantis", "x", cfg)


def test_checkins_on_time_late_missing(db: Database, cfg: Config) -> None:
    add_tx(db, cfg, "07:05:00", ani="101")
    add_tx(db, cfg, "08:59:59", ani="112")
    add_tx(db, cfg, "10:30:00", ani="104")
    add_tx(db, cfg, "13:00:00", ani="109")
    add_tx(db, cfg, "07:00:00", ani="113", kerchunk=True)
    add_tx(db, cfg, "07:00:00", ani="102", day=DAY + timedelta(days=1))
    rows = {c.station: c for c in checkins_for(db, DAY, cfg)}
    assert len(rows) == 15
    assert rows["Tarutung"].status == "on_time"
    assert rows["Tarutung"].first_report == "2026-11-20T07:05:00+07:00"
    assert rows["Sipahutar"].status == "on_time"
    assert rows["Sipoholon"].status == "late"
    assert rows["Siborongborong"].status == "missing" and "after 12:00" in rows["Siborongborong"].note
    assert rows["Pangaribuan"].status == "missing", "a kerchunk is not a report"
    assert sum(c.status == "missing" for c in rows.values()) == 12
    comp = {c.station: c for c in compliance(db, DAY, DAY + timedelta(days=1), cfg)}
    assert (comp["Tarutung"].on_time, comp["Tarutung"].missing) == (1, 1)
    assert (comp["Siatas Barita"].on_time, comp["Siatas Barita"].missing) == (1, 1)
    assert comp["Muara"].missing == 2


def test_checkins_and_assign_commands(tmp_path: Path, example_config: Config) -> None:
    from gateway.store.db import default_url

    cfg_path = Path(__file__).resolve().parent.parent / "config" / "tapanuli-utara.toml"
    data = tmp_path / "data"
    data.mkdir()
    db = Database(default_url(data))
    db.migrate()
    tx = add_tx(db, example_config, "07:30:00", text="situasi aman")
    db.close()
    base = ("--config", str(cfg_path), "--data-dir", str(data))
    r = run_cli(*base, "checkins", "--date", "2026-11-20", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert all(c["status"] == "missing" for c in json.loads(r.stdout)["stations"])
    r = run_cli(*base, "assign", str(tx), "Muara", "--by", "ops")
    assert r.returncode == 0 and "Muara" in r.stdout and "assigned by ops" in r.stdout
    r = run_cli(*base, "checkins", "--date", "2026-11-20")
    assert "1 dari 15 kecamatan melapor" in r.stdout
    muara = [ln for ln in r.stdout.splitlines() if ln.startswith("Muara")]
    assert len(muara) == 1 and "tepat waktu" in muara[0] and "operator" in muara[0]
    r = run_cli(*base, "assign", str(tx), "Atlantis")
    assert r.returncode == 2 and "Atlantis" in r.stderr and "not configured" in r.stderr
    r = run_cli(*base, "assign", "999", "Muara")
    assert r.returncode == 2 and "transmission 999 does not exist" in r.stderr
    r = run_cli(*base, "compliance", "--from", "2026-11-19", "--to", "2026-11-20", "--format", "json")
    muara = next(c for c in json.loads(r.stdout) if c["station"] == "Muara")
    assert muara == {"station": "Muara", "on_time": 1, "late": 0, "missing": 1}


def test_config_change_takes_effect_with_identify(tmp_path: Path, example_config: Config) -> None:
    db_cfg = dataclasses.replace(example_config, stations=example_config.stations[1:])  # no Tarutung
    from gateway.store.db import default_url

    db = Database(default_url(tmp_path))
    db.migrate()
    tx = add_tx(db, db_cfg, "07:05:00", ani="101")
    assert row(db, tx).station is None
    with db.write() as s:
        identify.apply(s, s.get_one(Transmission, tx), example_config)
    assert row(db, tx).station == "Tarutung"
    db.close()
