"""Web UI, pages: Hari ini (with live events), Log transmisi (filters, full-text search), Laporan.

Over SQLite (FTS5) and a real PostgreSQL (tsvector + GIN index): the search runs on both.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import select
from test_web_helpers import WIB, Web, add_tx, csrf_of, logged_in, make_web

from gateway.config import Config
from gateway.store.db import MIGRATIONS, Database
from gateway.store.models import Assignment, FollowUp, TranscriptRow, Transmission
from gateway.web import queries
from gateway.web.queries import LogFilter, log_page

DAY = date(2026, 11, 20)


@pytest.fixture
def web(db: Database, tmp_path: Path, example_config: Config) -> Web:
    return make_web(db, tmp_path, example_config)


def _at(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 20, hh, mm, tzinfo=WIB)


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'<td><a href="/tx/(\d+)">', html)}


def _row(html: str, station: str) -> str:
    m = re.search(rf'<tr class="(st-[a-z_]+)"[^>]*>\s*<td>{station}</td>', html)
    assert m, station
    return m.group(1)


def test_today_roster_and_counts(web: Web) -> None:
    add_tx(web, _at(7, 30), "Sipoholon")
    add_tx(web, _at(10, 0), "Tarutung")
    add_tx(web, _at(8, 0), None, text="halo halo")
    add_tx(web, _at(8, 5), None, text=None, kerchunk=True, seconds=0.4)
    client = logged_in(web, "vivi")
    html = client.get("/?date=2026-11-20").text
    assert _row(html, "Sipoholon") == "st-on_time" and _row(html, "Tarutung") == "st-late"
    assert _row(html, "Muara") == "st-missing"
    assert "tepat waktu" in html and "terlambat" in html and "tidak lapor" in html
    assert "<strong>2</strong> dari 15 kecamatan melapor" in html
    assert "transmisi: <strong>4</strong>" in html and "kerchunk: <strong>1</strong>" in html
    assert re.search(r"stasiun tak dikenal: <a [^>]+><strong>1</strong>", html)
    assert "20-11 07.30 WIB" in html  # last heard, in WIB (gateway/web/fmt.py)
    fragment = client.get("/fragment/today?date=2026-11-20")
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'class="roster"' in fragment.text
    assert client.get("/?date=kemarin").status_code == 400
    today = client.get("/").text
    assert "Hari ini" in today and 'data-live="/fragment/today?date=' in today


def test_events_stream_announces_new_transmissions(web: Web) -> None:
    add_tx(web, _at(7, 30), "Sipoholon")
    web.app.state.sse_poll_s = 0.1
    web.app.state.sse_lifetime_s = 1.5
    client = logged_in(web, "vivi")

    def later() -> None:
        time.sleep(0.5)
        add_tx(web, _at(7, 45), "Tarutung", audio_path=None)

    t = threading.Thread(target=later)
    t.start()
    r = client.get("/events")
    t.join()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = [blk for blk in r.text.split("\n\n") if blk.strip()]
    assert events[0] == "retry: 2000" and events[1].startswith("event: hello")
    changes = [e for e in events if e.startswith("event: change")]
    assert len(changes) == 1 and changes[0].startswith("event: change\ndata: [2, 2,")


def test_log_filters_and_pages(web: Web) -> None:
    a = add_tx(web, _at(7, 30), "Sipoholon")
    b = add_tx(web, _at(8, 0), None, text="halo halo")
    k = add_tx(web, _at(8, 5), None, text=None, kerchunk=True, seconds=0.4)
    other_day = add_tx(web, datetime(2026, 11, 21, 7, 0, tzinfo=WIB), "Tarutung")
    client = logged_in(web, "vivi")
    assert _ids(client.get("/log").text) == {a, b, k, other_day}
    assert _ids(client.get("/log?date=2026-11-20").text) == {a, b, k}
    assert _ids(client.get("/log?station=Sipoholon").text) == {a}
    assert _ids(client.get("/log?unknown=1").text) == {b, k}
    assert _ids(client.get("/log?unknown=1&kerchunk=tidak").text) == {b}
    assert _ids(client.get("/log?kerchunk=ya").text) == {k}
    for i in range(55):
        add_tx(web, datetime(2026, 11, 22, 6, i, tzinfo=WIB), None, text=None, audio_path=None)
    first = client.get("/log?date=2026-11-22")
    assert len(_ids(first.text)) == 50 and "halaman 1 dari 2" in first.text and "page=2" in first.text
    assert len(_ids(client.get("/log?date=2026-11-22&page=2").text)) == 5
    assert len(_ids(client.get("/log?date=2026-11-22&page=99").text)) == 5  # clamped to the last page
    assert client.get("/log?page=x").status_code == 200


def test_full_text_search_finds_current_transcripts_also_after_an_edit(web: Web) -> None:
    longsor = add_tx(web, _at(7, 30), "Sipoholon")
    banjir = add_tx(web, _at(8, 0), "Tarutung", text="di sini camat tarutung, banjir di desa Hutatoruan")
    client = logged_in(web, "opi")
    assert _ids(client.get("/log?q=longsor").text) == {longsor}
    assert _ids(client.get("/log?q=BANJIR").text) == {banjir}  # case does not matter
    assert _ids(client.get("/log?q=camat").text) == {longsor, banjir}
    assert _ids(client.get("/log?q=jalan+longsor").text) == {longsor}  # every word must occur
    assert _ids(client.get("/log?q=jalan+banjir").text) == set()
    assert _ids(client.get("/log?q=gempa").text) == set()
    assert "<mark>longsor</mark>" in client.get("/log?q=longsor").text
    for hostile in ('longsor" OR *', "NEAR(a b)", "a:b -c", "'; drop table transcripts; --", "^*", "\"", "ó"):
        r = client.get("/log", params={"q": hostile})
        assert r.status_code == 200, hostile
    assert _ids(client.get("/log", params={"q": '"longsor"*'}).text) == {longsor}  # punctuation is ignored
    assert _ids(client.get("/log", params={"q": "longsor OR banjir"}).text) == set()  # OR is a word here
    token = csrf_of(client, f"/tx/{longsor}")
    with web.db.read() as s:
        base = s.scalar(select(TranscriptRow.id).where(TranscriptRow.transmission_id == longsor))
    r = client.post(f"/tx/{longsor}/transcript", data={"csrf": token, "base": str(base),
                                                       "text": "di sini camat sipoholon jembatan putus"})
    assert r.status_code == 303
    assert _ids(client.get("/log?q=jembatan").text) == {longsor}
    assert _ids(client.get("/log?q=longsor").text) == set()  # only the old, no longer current, text said it


def test_reports_page_lists_revisions_and_open_followups(web: Web, example_config: Config) -> None:
    from gateway.report.filing import file_report

    tx = add_tx(web, _at(7, 30), "Sipoholon")
    file_report(web.db, example_config, DAY, _at(12, 0), reason="scheduled")
    file_report(web.db, example_config, DAY, _at(13, 0), reason="correction", force=True)
    with web.db.write() as s:
        s.add(FollowUp(day=DAY, station="Sipoholon", category="longsor", item="alat berat",
                       phrase="alat berat", transmission_id=tx, status="diproses", opd="Dinas PUPR"))
        s.add(FollowUp(day=DAY, station="Sipoholon", category="longsor", item="beras", phrase="beras",
                       transmission_id=tx, status="selesai"))
    client = logged_in(web, "vivi")
    html = client.get("/reports").text
    assert "20-11-2026" in html and "terjadwal" in html and "koreksi" in html
    for fmt in ("json", "csv", "html", "pdf"):
        assert f'href="/reports/2026-11-20/2.{fmt}"' in html
    assert "alat berat" in html and "Dinas PUPR" in html and "diproses" in html and "beras" not in html
    r = client.get("/reports/2026-11-20/1.json")
    assert r.status_code == 200 and r.json()["revision"] == 1 and r.json()["reason"] == "scheduled"
    assert r.headers["content-disposition"].startswith("inline")
    r = client.get("/reports/2026-11-20/2.csv?unduh=1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="laporan-2026-11-20-rev2.csv"'
    r = client.get("/reports/2026-11-20/2.html")
    assert r.status_code == 200 and "Sipoholon" in r.text
    assert "sandbox" in r.headers["content-security-policy"]  # the report's own page runs no script
    r = client.get("/reports/2026-11-20/2.pdf")
    assert r.status_code in (200, 503)  # 503 while the PDF renderer is unavailable
    if r.status_code == 200:
        assert r.content.startswith(b"%PDF") and r.headers["content-type"] == "application/pdf"
    for bad in ("/reports/2026-11-20/3.json", "/reports/2026-11-20/1.exe", "/reports/2026-13-40/1.html",
                "/reports/..%2F..%2Fetc/1.html", "/reports/2026-11-20/x.html"):
        assert client.get(bad).status_code == 404, bad


def test_transcripts_stored_before_the_migration_are_searchable(db: Database) -> None:
    """Migration 0005 indexes what is already there (FTS5 'rebuild' / the GIN index over all rows)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    with db.engine.begin() as conn:  # rows written by the 0004 schema, without the web tables
        tx = conn.execute(Transmission.__table__.insert().values(
            uid="old", started_at=_at(7, 0), audio_started_at=_at(7, 0), status="complete", kerchunk=False,
            stuck=False, recovered=False, source="", created_at=_at(7, 0))).inserted_primary_key[0]
        conn.execute(TranscriptRow.__table__.insert().values(
            transmission_id=tx, status="done", engine="fake", model="fake", text="jembatan gantung rusak",
            words=[], origin="file", current=True, created_at=_at(7, 1), verified=False))
    db.migrate()
    found = log_page(db, Config(), LogFilter(q="gantung"))
    assert [t.id for t, _ in found.rows] == [tx]


def test_last_heard_is_each_stations_newest_before_the_days_end(web: Web, example_config: Config) -> None:
    add_tx(web, _at(7, 30), "Sipoholon", audio_path=None)
    add_tx(web, datetime(2026, 11, 18, 9, 0, tzinfo=WIB), "Tarutung", audio_path=None)
    add_tx(web, datetime(2026, 11, 19, 16, 0, tzinfo=WIB), "Tarutung", audio_path=None)
    add_tx(web, datetime(2026, 11, 21, 7, 0, tzinfo=WIB), "Sipoholon", audio_path=None)  # the next day
    view = queries.today_view(web.db, example_config, DAY, datetime(2026, 11, 22, 12, 0, tzinfo=WIB))
    heard = {r.station: r.last_heard for r in view.stations}
    assert heard["Sipoholon"] == _at(7, 30) and heard["Tarutung"] == datetime(2026, 11, 19, 16, 0, tzinfo=WIB)
    assert heard["Muara"] is None and len(heard) == 15


def test_change_marker_moves_on_start_completion_transcript_and_assignment(web: Web) -> None:
    seen = [queries.change_marker(web.db)]
    with web.db.write() as s:
        tx = Transmission(uid="rec", started_at=_at(9, 0), audio_started_at=_at(9, 0), status="recording",
                          kerchunk=False, source="test")
        s.add(tx)
    seen.append(queries.change_marker(web.db))
    with web.db.write() as s:
        s.get(Transmission, tx.id).status = "complete"
    seen.append(queries.change_marker(web.db))
    with web.db.write() as s:
        s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="fake", model="fake", text="halo",
                            words=[], origin="file", current=True))
    seen.append(queries.change_marker(web.db))
    with web.db.write() as s:
        s.add(Assignment(transmission_id=tx.id, station="Muara", by="opi"))
    seen.append(queries.change_marker(web.db))
    assert len(set(seen)) == len(seen), seen
