"""The log's search over transcripts and what the filed report read, with Indonesian affixes; its new
filters; inline play markup.

Truth: what was put in (each transcript's words, written here) and the report's own extractor run by
the filing (the category names come from gateway.report.build.CATEGORY_ID, not from search code).
Runs over SQLite (FTS5) and the real PostgreSQL (tsvector).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from test_web_helpers import WIB, Web, add_tx, logged_in, make_web

from gateway.config import Config
from gateway.report.filing import file_report
from gateway.report.terms import forms, stem
from gateway.store.db import Database
from gateway.store.models import Transmission

DAY = date(2026, 11, 20)


@pytest.fixture
def web(db: Database, tmp_path: Path, example_config: Config) -> Web:
    return make_web(db, tmp_path, example_config)


def _at(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 20, hh, mm, tzinfo=WIB)


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'<tr data-tx="(\d+)">', html)}


def test_stems_follow_indonesian_affixes() -> None:
    for word in ("terendam", "direndam", "merendam", "rendaman", "berendam"):
        assert stem(word) == "rendam", word
    assert stem("menebang") == "tebang" and stem("memukul") == "pukul" and stem("terbakar") == "bakar"
    assert stem("pengungsian") == "ungsi" and stem("banjir") == "banjir"
    assert {"terendam", "direndam", "merendam", "rendaman"} <= set(forms("rendam"))


def test_misspelt_incident_found_by_its_category_once_the_report_read_it(web: Web) -> None:
    # the recogniser heard "banjr": the transcript has no "banjir" anywhere
    flood = add_tx(web, _at(7, 30), "Sipoholon",
                   text="di sini camat sipoholon, status siaga, banjr di desa Hutaraja, mohon bantuan terpal")
    quiet = add_tx(web, _at(7, 40), "Tarutung", text="di sini camat tarutung, situasi aman terkendali")
    client = logged_in(web, "vivi")
    assert _ids(client.get("/log?q=banjir").text) == set()  # not in any transcript
    assert file_report(web.db, web.cfg, DAY, _at(12, 0)) is not None  # the extractor reads a flood
    assert _ids(client.get("/log?q=banjir").text) == {flood}
    assert _ids(client.get("/log?q=Banjir+Hutaraja").text) == {flood}  # category and desa
    assert _ids(client.get("/log?kategori=banjir").text) == {flood}
    assert _ids(client.get("/log?situasi=siaga").text) == {flood}
    assert _ids(client.get("/log?situasi=aman").text) == {quiet}
    assert _ids(client.get("/log?q=banjir+tarutung").text) == set()
    assert _ids(client.get("/log?kategori=bukan-kategori").text) == {flood, quiet}  # ignored


def test_affix_search_and_filters(web: Web) -> None:
    a = add_tx(web, _at(7, 0), "Sipoholon", text="tujuh rumah terendam air di desa Hutaraja")
    b = add_tx(web, _at(7, 10), "Tarutung", text="sawah masih direndam banjir kemarin")
    c = add_tx(web, _at(7, 20), "Muara", text="warga makan rendang bersama")
    client = logged_in(web, "vivi")
    assert _ids(client.get("/log?q=rendam").text) == {a, b}
    assert _ids(client.get("/log?q=terendam").text) == {a, b}
    assert _ids(client.get("/log?q=merendam").text) == {a, b}
    assert _ids(client.get("/log?q=rendang").text) == {c}
    assert _ids(client.get("/log?q=terendam&station=Tarutung").text) == {b}
    with web.db.write() as s:
        s.execute(update(Transmission).where(Transmission.id == c).values(needs_listening=True))
    assert _ids(client.get("/log?dengar=1").text) == {c}
    assert _ids(client.get("/log?belum=1").text) == {a, b, c}  # nothing verified yet
    html = client.get("/log").text
    assert f'<audio controls preload="none" src="/audio/{a}"' in html and "<kbd>j</kbd>" in html
    assert "<mark>terendam</mark>" in client.get("/log?q=rendam").text
