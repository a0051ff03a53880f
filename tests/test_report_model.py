"""The report as a typed model: stored revisions load and render, their JSON unchanged; the HTML
template escapes; what the extractor read is stored per transcript and read back.

Truth: ``tests/data/report_revision_current.json`` was written by hand in the shape the dict-based
report code (before gateway/report/document.py) produced and stored; ``report_example.json`` is a
revision in the older shape (no verified/confidence/letter/review); the extraction tests compare
with the words the test put into the transcript.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from gateway.asr.base import Transcript, Word
from gateway.config import Config
from gateway.identification import identify
from gateway.report import extracts
from gateway.report.build import build_report
from gateway.report.document import Report
from gateway.report.model import EXTRACTOR_VERSION
from gateway.report.render import render
from gateway.store.db import Database
from gateway.store.models import TranscriptExtract, TranscriptRow, Transmission
from gateway.transcribe import store_transcript
from gateway.web.actions import edit_transcript

from conftest import DATA

CURRENT = DATA / "report_revision_current.json"
OLDER = DATA / "report_example.json"
WIB = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 20)


def _as_filed(path: Any) -> tuple[dict[str, Any], bytes]:
    content = json.loads(path.read_text())
    # what `report --format json` printed for a stored revision before the model: the dict, dumped
    return content, (json.dumps(content, ensure_ascii=False, indent=1) + "\n").encode()


@pytest.mark.parametrize("path", [CURRENT, OLDER], ids=["current", "older"])
def test_a_stored_revision_loads_and_its_json_is_byte_for_byte_the_same(path: Any) -> None:
    content, printed = _as_filed(path)
    report = Report.from_json(copy.deepcopy(content))
    assert report.to_json() == content
    assert list(report.to_json()) == list(content)  # the same key order
    assert render(report, "json") == printed
    assert render(content, "json") == printed


def test_the_model_reads_what_the_revision_says() -> None:
    content, _ = _as_filed(CURRENT)
    r = Report.from_json(content)
    siatas = r.stations[0]
    assert (siatas.station, siatas.checkin, siatas.situation) == ("Siatas Barita", "on_time", "siaga")
    assert siatas.situation_item is not None and siatas.situation_item.transmission_id == 3
    (flood,) = r.incidents
    assert flood == siatas.incidents[0] and flood.counts == {"rumah_terendam": 7}
    assert flood.place_evidence is not None and flood.place_evidence.match == 0.9
    assert flood.count_evidence["rumah_terendam"].text == "tujuh rumah terendam"
    assert siatas.prices[0].rupiah_per_kg == 11000 and r.needs[0].item == "terpal"
    assert r.followups[0].opd == "Dinas PUPR" and r.review[0].kind == "unknown_station"
    assert r.letter.nip == "19700101 199003 1 001" and r.summary.missing == ("Muara",)
    older = Report.from_json(json.loads(OLDER.read_text()))
    assert older.review == () and older.incidents[0].verified is None  # not there: not marked


def test_a_stored_revision_renders_in_every_format() -> None:
    content, _ = _as_filed(CURRENT)
    table = csv.DictReader(io.StringIO(render(content, "csv").decode("utf-8-sig")))
    rows = {r["kecamatan"]: r for r in table}
    assert rows["Siatas Barita"]["kejadian"] == "Banjir* (Desa Sitampurung): rumah terendam 7"
    assert rows["Siatas Barita"]["harga"] == "beras Rp 11.000/kg*"
    assert rows["Siatas Barita"]["kebutuhan"] == "terpal*" and rows["Muara"]["status lapor"] == "tidak lapor"
    page = render(content, "html").decode()
    assert "«tujuh rumah terendam» 00:05–00:07" in page and "Dinas PUPR" in page
    assert "Revisi 1 (terjadwal)" in page and "DRAF" not in page
    assert render(content, "pdf").startswith(b"%PDF-")


def test_the_html_template_escapes_a_station_note() -> None:
    content, _ = _as_filed(CURRENT)
    content["stations"][0]["note"] = '<script>alert("x")</script>'
    page = render(content, "html").decode()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


# --- extractions stored per transcript ------------------------------------------------------------

FLOOD = "situasi siaga banjir tujuh rumah terendam ganti"


def _tx(db: Database, cfg: Config, ani: str, minute: int) -> int:
    when = datetime.combine(DAY, datetime.min.time(), WIB) + timedelta(hours=7, minutes=minute)
    with db.write() as s:
        row = Transmission(uid=uuid.uuid4().hex, started_at=when,
                           audio_started_at=when - timedelta(seconds=0.5),
                           ended_at=when + timedelta(seconds=5), duration_s=5.0, status="complete",
                           kerchunk=False, stuck=False, recovered=False, source="test", ani=ani,
                           ani_position="bot", audio_path="x.ogg")
        s.add(row)
        s.flush()
        return row.id


def _transcript(text: str) -> Transcript:
    words = [Word(w, 0.5 * i, 0.5 * i + 0.4, 0.95) for i, w in enumerate(text.split())]
    return Transcript(text, tuple(words))


class _Rec:
    engine, model_id = "fake", "m"


def _stored(db: Database) -> dict[int, TranscriptExtract]:
    with db.read() as s:
        return {r.transcript_id: r for r in s.scalars(select(TranscriptExtract))}


def _current(db: Database, tx_id: int) -> int:
    with db.read() as s:
        return int(s.scalar(select(TranscriptRow.id).where(TranscriptRow.transmission_id == tx_id,
                                                           TranscriptRow.current)))


@pytest.fixture
def cfg(example_config: Config) -> Config:
    # without sound-alike correction the options do not depend on the station (see extracts.key_for)
    lexicon = dataclasses.replace(example_config.lexicon, correct=False)
    return dataclasses.replace(example_config, lexicon=lexicon)


def _flood(report: Report) -> list[tuple[str, dict[str, int]]]:
    return [(i.category, i.counts) for i in report.incidents]


def test_a_new_transcript_is_stored_with_what_it_says_and_the_report_reads_that(
        db: Database, cfg: Config) -> None:
    tx_id = _tx(db, cfg, "102", 5)
    assert store_transcript(db, tx_id, _Rec(), _transcript(FLOOD), "live",  # type: ignore[arg-type]
                            after=lambda s, i: identify.reidentify(s, i, cfg),
                            prepare=extracts.on_transcript(db, cfg))
    tr_id = _current(db, tx_id)
    row = _stored(db)[tr_id]
    assert row.version == EXTRACTOR_VERSION and row.result["status"] == "siaga"
    assert [(i["category"], i["counts"]) for i in row.result["incidents"]] == [
        ("banjir", {"rumah_terendam": 7})]
    assert _flood(build_report(db, DAY, cfg, datetime(2026, 11, 20, 12, tzinfo=WIB))) == [
        ("banjir", {"rumah_terendam": 7})]
    # the report reads the stored row, not the transcript: a row saying something else is believed
    changed = {**row.result, "incidents": [{**row.result["incidents"][0], "counts": {"rumah_terendam": 9}}]}
    with db.write() as s:
        s.execute(update(TranscriptExtract).where(TranscriptExtract.transcript_id == tr_id)
                  .values(result=changed))
    assert _flood(build_report(db, DAY, cfg, datetime(2026, 11, 20, 12, tzinfo=WIB))) == [
        ("banjir", {"rumah_terendam": 9})]


def test_rows_without_an_extraction_or_with_another_key_are_extracted_again_and_backfilled(
        db: Database, cfg: Config) -> None:
    tx_id = _tx(db, cfg, "102", 5)
    with db.write() as s:  # as an old database has it: a transcript, no extraction
        s.add(TranscriptRow(transmission_id=tx_id, status="done", engine="fake", model="m", text=FLOOD,
                            words=[], origin="live", current=True))
        s.flush()
        identify.reidentify(s, tx_id, cfg)
    noon = datetime(2026, 11, 20, 12, tzinfo=WIB)
    assert _flood(build_report(db, DAY, cfg, noon)) == [("banjir", {"rumah_terendam": 7})]
    assert _stored(db) == {}  # not asked to backfill
    build_report(db, DAY, cfg, noon, backfill=True)
    tr_id = _current(db, tx_id)
    assert set(_stored(db)) == {tr_id}
    with db.write() as s:  # an older extractor's row, with what it read then
        s.execute(update(TranscriptExtract).values(key="older", result={"status": None, "incidents": []}))
    assert _flood(build_report(db, DAY, cfg, noon, backfill=True)) == [("banjir", {"rumah_terendam": 7})]
    assert _stored(db)[tr_id].key != "older"


def test_a_corrected_transcript_stores_its_new_extraction(db: Database, cfg: Config) -> None:
    tx_id = _tx(db, cfg, "102", 5)
    store_transcript(db, tx_id, _Rec(), _transcript(FLOOD), "live",  # type: ignore[arg-type]
                     after=lambda s, i: identify.reidentify(s, i, cfg),
                     prepare=extracts.on_transcript(db, cfg))
    base = str(_current(db, tx_id))
    assert edit_transcript(db, cfg, tx_id, FLOOD.replace("tujuh", "delapan"), base, "op", "127.0.0.1")
    new_id = _current(db, tx_id)
    assert str(new_id) != base
    row = _stored(db)[new_id]
    assert [i["counts"] for i in row.result["incidents"]] == [{"rumah_terendam": 8}]
