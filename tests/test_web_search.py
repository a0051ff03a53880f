"""Log search at scale: whichever plan ``log_page`` picks, its pages are the reference's.

On SQLite a search chooses between collecting every FTS5 match, testing each filtered transmission,
and walking the log newest first with an estimated total (see ``gateway.web.queries.log_page``). The
choice follows costs, so each test forces a plan by setting them, and compares page after page with
a plain Python filter over the same rows. PostgreSQL has one plan; it runs the same comparisons.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from test_web_helpers import WIB, logged_in, make_web

from gateway.config import Config
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission
from gateway.web import queries
from gateway.web.queries import PAGE_SIZE, LogFilter, log_page

START = datetime(2026, 11, 1, 6, 0, tzinfo=WIB)
STATIONS = ["Sipoholon", "Tarutung", "Muara", None]


@dataclass
class Row:
    id: int
    started_at: datetime
    station: str | None
    kerchunk: bool
    text: str | None  # the current transcript


@pytest.fixture
def log(db: Database) -> list[Row]:
    """240 transmissions over 12 days: 'camat' in ~80 %, 'banjir' in ~10 %, 'gempa' in 2; some
    transcripts superseded by an edit (only the current text may match); equal start times too."""
    rng = random.Random(7)
    rows: list[Row] = []
    with db.write() as s:
        for n in range(240):
            at = START + timedelta(hours=n) if n % 17 else START + timedelta(hours=n - 1)  # a few ties
            station = rng.choice(STATIONS)
            kerchunk = n % 13 == 0
            words = ["lapor"]
            if rng.random() < 0.8:
                words.append("camat")
            if rng.random() < 0.1:
                words.append("banjir")
            if n in (30, 200):
                words.append("gempa")
            text = None if kerchunk else " ".join(words)
            tx = Transmission(uid=f"u{n}", started_at=at, ended_at=at + timedelta(seconds=3),
                              audio_started_at=at, duration_s=3.0, status="complete", kerchunk=kerchunk,
                              station=station, source="test")
            s.add(tx)
            s.flush()
            if text is not None:
                if n % 7 == 0:  # an older transcript said something else
                    s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="fake", model="fake",
                                        text="banjir gempa camat lama", words=[], origin="file",
                                        current=False, created_at=at + timedelta(seconds=5)))
                s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="fake", model="fake",
                                    text=text, words=[], origin="file", current=True,
                                    created_at=at + timedelta(seconds=10)))
            rows.append(Row(tx.id, at, station, kerchunk, text))
    # later, old transmissions transcribed again: their transcripts are the newest in the index
    late = START + timedelta(hours=300)
    with db.write() as s:
        for k, row in enumerate(r for r in rows if r.text and r.id % 11 == 3):
            old = s.scalars(select(TranscriptRow).where(TranscriptRow.transmission_id == row.id,
                                                        TranscriptRow.current)).one()
            old.current = False
            row.text = "camat banjir ulang" if k % 2 else "lapor ulang"
            s.add(TranscriptRow(transmission_id=row.id, status="done", engine="fake", model="fake",
                                text=row.text, words=[], origin="file", current=True,
                                created_at=late + timedelta(minutes=k)))
    return rows


def reference(rows: list[Row], cfg: Config, f: LogFilter) -> list[int]:
    words = queries.query_words(f.q)
    keep = [r for r in rows
            if (f.day is None or r.started_at.astimezone(cfg.tz).date() == f.day)
            and (not f.station or r.station == f.station) and (not f.unknown or r.station is None)
            and (f.kerchunk != "ya" or r.kerchunk) and (f.kerchunk != "tidak" or not r.kerchunk)
            and all(r.text and w in r.text.split() for w in words)]
    keep.sort(key=lambda r: (r.started_at, r.id), reverse=True)
    return [r.id for r in keep]


def pages(db: Database, cfg: Config, f: LogFilter) -> Iterator[queries.LogPage]:
    page = 1
    while True:
        result = log_page(db, cfg, LogFilter(f.day, f.station, f.unknown, f.kerchunk, f.q, page))
        yield result
        if not result.has_more:
            return
        page += 1


def force(monkeypatch: pytest.MonkeyPatch, plan: str) -> None:
    """Make ``plan`` the cheapest; the costs are µs: (test a row, collect a match, visit a match, budget)."""
    test, collect, visit, budget = {"matches": (1e9, 0.0, 1e9, 0.0), "filter": (1e-3, 1e9, 1e9, 1e9),
                                    "newest": (1e9, 1e9, 1e-3, 0.0)}[plan]
    monkeypatch.setattr(queries.log, "TEST_US_PER_ROW", test)
    monkeypatch.setattr(queries.log, "EXACT_US_PER_MATCH", collect)
    monkeypatch.setattr(queries.log, "VISIT_US_PER_MATCH", visit)
    monkeypatch.setattr(queries.log, "EXACT_BUDGET_US", budget)


FILTERS = [LogFilter(q="camat"), LogFilter(q="banjir"), LogFilter(q="gempa"), LogFilter(q="lapor camat"),
           LogFilter(q="camat", station="Sipoholon"), LogFilter(q="camat", unknown=True),
           LogFilter(q="camat", day=date(2026, 11, 3)), LogFilter(q="lapor", kerchunk="tidak"),
           LogFilter(q="lama"), LogFilter(q="lapor", kerchunk="ya"), LogFilter(q="ulang"),
           LogFilter(q="banjir", station="Muara")]


@pytest.mark.parametrize("plan", ["matches", "filter", "newest"])
def test_every_plan_pages_through_exactly_the_matches(db: Database, log: list[Row], plan: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Config()
    force(monkeypatch, plan)
    for f in FILTERS:
        want = reference(log, cfg, f)
        got: list[int] = []
        for result in pages(db, cfg, f):
            assert len(result.rows) <= PAGE_SIZE
            got += [tx.id for tx, _ in result.rows]
            for _tx, tr in result.rows:
                assert tr is not None and tr.current, f  # each row comes with its current transcript
        assert got == want, f
        first = log_page(db, cfg, f)
        if first.approximate:
            assert db.dialect == "sqlite" and plan == "newest" and len(want) > PAGE_SIZE
            assert first.total >= PAGE_SIZE + 1 and first.has_more
        else:
            assert first.total == len(want), f
    if plan == "newest" and db.dialect == "sqlite":  # the newest-first visit stopped early, yet in order
        assert log_page(db, cfg, LogFilter(q="camat")).approximate


def test_the_walk_estimates_common_words_and_counts_rare_ones(sqlite_db: Database,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A word in most of the log becomes "sekitar N", N the FTS5 count; a short result is counted
    exactly even by the walk, which then reaches the oldest transmission."""
    db = sqlite_db
    rows = _fill(db)
    cfg = Config()
    force(monkeypatch, "newest")
    common = log_page(db, cfg, LogFilter(q="camat"))
    want = reference(rows, cfg, LogFilter(q="camat"))
    assert common.approximate and common.has_more and len(common.rows) == PAGE_SIZE
    assert common.total == len(want) and common.pages == -(-len(want) // PAGE_SIZE)
    assert [tx.id for tx, _ in common.rows] == want[:PAGE_SIZE]
    station = log_page(db, cfg, LogFilter(q="camat", station="Muara"))  # every row is Muara's
    assert station.approximate and station.total == len(want)
    rare = log_page(db, cfg, LogFilter(q="gempa"))
    assert not rare.approximate and rare.total == 1 and not rare.has_more
    assert log_page(db, cfg, LogFilter(q="tidakada")).total == 0


def test_log_page_says_sekitar_for_an_estimate(sqlite_db: Database, tmp_path: Path, example_config: Config,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    web = make_web(sqlite_db, tmp_path, example_config)
    rows = _fill(sqlite_db)
    client = logged_in(web, "vivi")
    exact = client.get("/log?q=camat").text  # real costs: 200 rows are counted exactly
    n = len(reference(rows, example_config, LogFilter(q="camat")))
    assert f'<p class="counts">{n} transmisi yang memuat' in exact and "sekitar" not in exact
    force(monkeypatch, "newest")
    html = client.get("/log?q=camat").text
    assert f'<p class="counts">sekitar {round(n, -1)} transmisi yang memuat' in html
    assert "halaman 1 dari sekitar 4" in html and "page=2" in html
    last = client.get("/log?q=camat&page=4").text
    assert "berikutnya" not in last and "sebelumnya" in last


def _fill(db: Database) -> list[Row]:
    """200 transmissions of one station, two hours apart; 'camat' in 90 %, 'gempa' once."""
    rng = random.Random(3)
    rows = []
    with db.write() as s:
        for n in range(200):
            at = START + timedelta(hours=2 * n)
            text = "camat lapor" if rng.random() < 0.9 else "lapor"
            if n == 50:
                text += " gempa"
            tx = Transmission(uid=f"f{n}", started_at=at, audio_started_at=at, status="complete",
                              kerchunk=False, station="Muara", source="test")
            s.add(tx)
            s.flush()
            s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="fake", model="fake", text=text,
                                words=[], origin="file", current=True, created_at=at + timedelta(seconds=9)))
            rows.append(Row(tx.id, at, "Muara", False, text))
    return rows
