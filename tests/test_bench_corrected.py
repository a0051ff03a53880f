"""bench_accuracy's "corrected" column: a generated channel whose words the (fake) recogniser does
not hear, each transcript then corrected to the generator's text through the web UI's own edit,
must come out with the generator's stations and incidents. This is also the product's promise that
an operator's correction re-identifies the call (and the one continuing it) and feeds the report."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from datetime import datetime

import pytest

from conftest import REPO, need

sys.path.insert(0, str(REPO / "bench"))

SCENARIO = {
    "seed": 11, "recording_start": "2026-11-24T07:00:00+07:00", "timezone": "Asia/Jakarta", "lead_s": 1.5,
    "transmissions": [
        {"station": "Tarutung", "voice": "id+m2", "speed": 150,
         "text": "Bupati, di sini Camat Tarutung. Situasi siaga. Banjir di Desa Hutauruk, tujuh rumah "
                 "terendam. Ganti.", "then_gap_s": 2},
        {"station": "Tarutung", "voice": "id+m2", "speed": 150, "continues": True,
         "text": "Tambahan, longsor di Desa Parbubu, jalan tertutup. Ganti.", "then_gap_s": 3},
        {"speaker": "patrol", "voice": "id+m4", "speed": 160,
         "text": "Patroli satu ke Pusdalops, posisi di Kecamatan Sipoholon, arus lalu lintas lancar. Ganti.",
         "then_gap_s": 3},
        {"station": "Sipahutar", "voice": "id+f2", "speed": 150,
         "text": "Camat Sipahutar melapor, situasi aman. Ganti.", "then_gap_s": 2},
    ],
}


@pytest.mark.slow
def test_every_transcript_corrected_to_the_words_said_gives_the_generators_stations(tmp_path) -> None:
    if shutil.which("espeak-ng") is None:
        need("espeak-ng", "not installed")
    from bench_accuracy import _stored, correct_every_transcript

    from gateway import config as config_mod
    from gateway.asr.fake import FakeRecognizer
    from gateway.daemon import open_store, process_file
    from gateway.report.build import build_report
    from gateway.sim.channel import write_channel

    flac = tmp_path / "chan.flac"
    truth = write_channel(SCENARIO, flac)
    cfg = config_mod.load(REPO / "config" / "tapanuli-utara.toml")
    cfg = dataclasses.replace(cfg, asr=dataclasses.replace(cfg.asr, engine="none"))
    t0 = datetime.fromisoformat(truth["recording_start"])
    process_file(cfg, tmp_path / "data", flac, t0, recognizer=FakeRecognizer())
    db = open_store(cfg, tmp_path / "data")
    try:
        stored, _ = _stored(db, t0)
        assert [s.station for s in stored] == [None] * 4  # "kata1 kata2 ...": no name heard
        assert correct_every_transcript(cfg, db, truth, stored) == 4
        stored, reasons = _stored(db, t0)
        said = [t.get("station") for t in truth["transmissions"]]
        assert [s.station for s in stored] == said, reasons
        report = build_report(db, t0.astimezone(cfg.tz).date(), cfg, t0).to_json()
    finally:
        db.close()
    by_station = {st["station"]: st for st in report["stations"]}
    tarutung = {(i["category"], i["place"]) for i in by_station["Tarutung"]["incidents"]}
    assert tarutung == {("banjir", "Hutauruk"), ("longsor", "Parbubu")}
    assert by_station["Tarutung"]["situation"] == "siaga" and by_station["Sipahutar"]["situation"] == "aman"
    assert "Sipoholon" in report["summary"]["missing"]  # the patrol named it; it did not call
