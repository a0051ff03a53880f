"""Web UI, recordings: audio by transmission id only, HTTP Range, path traversal refused, waveform peaks.

Over SQLite and a real PostgreSQL; real Ogg Opus files written with soundfile under tmp/recordings.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from test_web_helpers import WIB, Web, add_tx, assert_audio_served, logged_in, make_web, write_ogg

from gateway.config import Config
from gateway.store.db import Database


@pytest.fixture
def web(db: Database, tmp_path: Path, example_config: Config) -> Web:
    return make_web(db, tmp_path, example_config)


@pytest.fixture
def tx_id(web: Web) -> int:
    return add_tx(web, datetime(2026, 11, 20, 7, 30, tzinfo=WIB), "Sipoholon")


def _file(web: Web, tx_id: int) -> bytes:
    from gateway.store.models import Transmission

    with web.db.read() as s:
        return (web.data_dir / s.get_one(Transmission, tx_id).audio_path).read_bytes()


def test_audio_is_served_whole_and_by_range(web: Web, tx_id: int) -> None:
    client = logged_in(web, "vivi")
    assert_audio_served(client, tx_id, _file(web, tx_id))


def test_traversal_in_the_url_finds_nothing(web: Web, tx_id: int) -> None:
    client = logged_in(web, "ana")
    for path in ("/audio/..%2F..%2F..%2Fetc%2Fpasswd", "/audio/%2e%2e/%2e%2e/etc/passwd",
                 "/audio/../../etc/passwd",
                 f"/audio/{tx_id}%2F..%2F..%2Fgateway.sqlite3", f"/audio/{tx_id}/../../gateway.sqlite3",
                 "/audio/-1", "/audio/1.5", "/audio/0x1", "/audio/%00", f"/audio/{tx_id}.ogg",
                 "/static/../gateway.sqlite3", "/static/..%2F..%2Fgateway.sqlite3", "/audio/99999",
                 "/audio/99999/peaks.json"):
        r = client.get(path)
        assert r.status_code in (303, 400, 404), (path, r.status_code)
        assert b"root:" not in r.content and b"SQLite format" not in r.content, path


@pytest.mark.parametrize("where", ["parent", "absolute", "dotdot_inside", "symlink", "directory",
                                   "recording"])
def test_a_row_pointing_outside_recordings_is_refused(web: Web, where: str) -> None:
    outside = web.data_dir / "outside.ogg"
    write_ogg(outside)
    (web.data_dir / "recordings").mkdir(parents=True, exist_ok=True)
    audio_path = {"parent": "../outside.ogg", "absolute": str(outside),
                  "dotdot_inside": "recordings/../outside.ogg", "symlink": "recordings/link.ogg",
                  "directory": "recordings", "recording": "auto"}[where]
    if where == "symlink":
        (web.data_dir / "recordings" / "link.ogg").symlink_to(outside)
    tx_id = add_tx(web, datetime(2026, 11, 20, 8, 0, tzinfo=WIB), audio_path=audio_path)
    if where == "recording":  # still being recorded: not served either
        from sqlalchemy import update

        from gateway.store.models import Transmission

        with web.db.write() as s:
            s.execute(update(Transmission).where(Transmission.id == tx_id).values(status="recording"))
    client = logged_in(web, "ana")
    for path in (f"/audio/{tx_id}", f"/audio/{tx_id}/peaks.json"):
        r = client.get(path, headers={"Range": "bytes=0-10"})
        assert r.status_code == 404, (where, path)
        assert b"OggS" not in r.content


def test_waveform_peaks(web: Web, tx_id: int) -> None:
    client = logged_in(web, "vivi")
    r = client.get(f"/audio/{tx_id}/peaks.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["duration"] == pytest.approx(2.5, abs=0.05)
    assert 100 <= len(body["peaks"]) <= 150
    assert max(body["peaks"]) == 1.0 and min(body["peaks"]) >= 0.0
    page = client.get(f"/tx/{tx_id}").text
    assert f'src="/audio/{tx_id}"' in page and f'data-peaks="/audio/{tx_id}/peaks.json"' in page
    assert 'class="w low"' in page and 'data-start="0.9"' in page  # "sipoholon", conf 0.4, marked
    assert "keyakinan pengenal di bawah 0,5" in page  # and the legend says what the mark means


def test_no_legend_without_low_confidence_words(web: Web) -> None:
    from gateway.store.models import TranscriptRow

    tx_id = add_tx(web, datetime(2026, 11, 20, 9, 0, tzinfo=WIB), "Tarutung", audio_path=None)
    with web.db.write() as s:
        tr = s.query(TranscriptRow).filter_by(transmission_id=tx_id).one()
        tr.words = [{"word": "lapor", "start": 0.1, "end": 0.4, "conf": 0.9}, {"word": "aman", "start": 0.5,
                                                                                 "end": 0.8}]
    page = logged_in(web, "vivi").get(f"/tx/{tx_id}").text
    assert 'class="w"' in page and 'class="w low"' not in page and "di bawah 0,5" not in page


def test_an_unreadable_recording_is_a_404_not_a_crash(web: Web) -> None:
    tx_id = add_tx(web, datetime(2026, 11, 20, 8, 0, tzinfo=WIB))
    from gateway.store.models import Transmission

    with web.db.read() as s:
        path = web.data_dir / s.get_one(Transmission, tx_id).audio_path
    path.write_bytes(b"not an ogg file at all")
    client = logged_in(web, "vivi")
    assert client.get(f"/audio/{tx_id}/peaks.json").status_code == 404
    assert client.get(f"/audio/{tx_id}").status_code == 200  # the bytes are what is stored
