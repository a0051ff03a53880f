"""The log's field search and report filters, walked newest first (gateway/web/queries/newest.py), return
the same pages as a plain filter over what was put in.

Truth: a reference written here in Python over the rows this test inserts (each current transcript's
words, the report terms, the stations, days and flags), with the matching rule the README states (a
query word matches a transmission whose *current* transcript holds one of its affixed forms,
gateway.report.terms.forms, or whose report terms hold its stem; every word must match), ordered
newest first. The walk's batches and thresholds are made tiny so that small data takes every path:
several batches per stream, an early stop with "sekitar N", a walk to the end with an exact count, a
narrow filter tested row by row. Rows are dated as a live daemon writes them (created a few seconds
after they started), plus a recording processed late (new ids, old start) and transcripts made again
later: the cases the walk's ordering argument must survive. SQLite and the real PostgreSQL.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.config import Config
from gateway.report.terms import forms, stem
from gateway.store.db import Database
from gateway.store.models import ReportTerm, TranscriptRow, Transmission
from gateway.web import logsearch
from gateway.web.logsearch import Filter, search_page
from gateway.web.queries import newest
from gateway.web.queries.log import LogFilter
from gateway.web.queries.search import PAGE_SIZE

STATIONS = ["Tarutung", "Sipoholon", "Muara", "Pahae Jae"]
VOCAB = ["di", "sini", "camat", "situasi", "aman", "jalan", "sawah", "rendang", "warga", "kecamatan",
         "banjir", "kebanjiran", "hutaraja", "terpal", "terendam", "longsor"]
WEIGHTS = [8, 8, 6, 5, 5, 5, 4, 2, 5, 2, 3, 1, 2, 1, 1, 2]
START = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)


class Row:
    def __init__(self, tx_id: int, started: datetime, station: str | None, kerchunk: bool, listen: bool,
                 text: str | None, verified: bool, terms: set[tuple[str, str]]) -> None:
        self.id, self.started, self.station, self.kerchunk = tx_id, started, station, kerchunk
        self.listen, self.text, self.verified, self.terms = listen, text, verified, terms


def _insert(db: Database, rng: random.Random, started: datetime, made_at: datetime, cfg: Config) -> Row:
    station = rng.choice([*STATIONS, None])
    kerchunk = rng.random() < 0.05
    text = None if kerchunk else " ".join(rng.choices(VOCAB, WEIGHTS, k=rng.randint(3, 9)))
    terms: set[tuple[str, str]] = set()
    for kind, term, p in (("category", "banjir", 0.25), ("incident", "banjir", 0.2),
                          ("desa", "hutaraja", 0.15), ("need", "terpal", 0.1), ("status", "aman", 0.3),
                          ("status", "siaga", 0.08), ("category", "longsor", 0.1)):
        if rng.random() < p:
            terms.add((kind, term))
    verified = rng.random() < 0.3
    listen = rng.random() < 0.1
    with db.write() as s:
        tx = Transmission(uid=f"{rng.getrandbits(64):016x}", started_at=started,
                          ended_at=started + timedelta(seconds=5), audio_started_at=started, duration_s=5.0,
                          status="complete", kerchunk=kerchunk, station=station, source="test",
                          needs_listening=listen, created_at=made_at)
        s.add(tx)
        s.flush()
        if text is not None:
            if rng.random() < 0.1:  # an older transcript, no longer current, with words of its own
                s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="fake", model="old",
                                    text="banjir hutaraja terpal camat", words=[], origin="live",
                                    current=False, created_at=made_at + timedelta(seconds=10)))
            s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="fake", model="fake", text=text,
                                words=[], origin="live", current=True, verified=verified,
                                created_at=made_at + timedelta(seconds=20)))
        day = started.astimezone(cfg.tz).date()
        s.add_all(ReportTerm(day=day, transmission_id=tx.id, kind=k, term=t) for k, t in terms)
        return Row(tx.id, started, station, kerchunk, listen, text, verified, terms)


@pytest.fixture
def rows(db: Database, example_config: Config) -> list[Row]:
    rng = random.Random(16)
    out = []
    t = START
    for _ in range(420):  # as live: written a few seconds after the start
        t += timedelta(minutes=rng.randint(20, 400))
        out.append(_insert(db, rng, t, t + timedelta(seconds=6), example_config))
    now = datetime.now(UTC)
    for _ in range(12):  # a recording processed today: new ids, old starts
        out.append(_insert(db, rng, START + timedelta(hours=rng.randint(24, 24 * 70)), now, example_config))
    with db.write() as s:  # transcripts made again today for old transmissions: new current text
        for r in rng.sample([r for r in out if r.text is not None], 12):
            r.text = rng.choice(["banjir besar di hutaraja", "mohon terpal", "camat aman", "sawah terendam"])
            s.query(TranscriptRow).filter(TranscriptRow.transmission_id == r.id).update({"current": False})
            s.add(TranscriptRow(transmission_id=r.id, status="done", engine="fake", model="new", text=r.text,
                                words=[], origin="file", current=True, verified=False, created_at=now))
            r.verified = False
    return out


def _word_ok(r: Row, word: str) -> bool:
    tokens = set(re.findall(r"\w+", (r.text or "").lower()))
    return bool(tokens & set(forms(word))) or stem(word) in {t for _, t in r.terms}


def reference(rows: list[Row], f: Filter, cfg: Config) -> list[int]:
    words = re.findall(r"\w+", f.base.q.lower())
    out = []
    for r in rows:
        if f.base.day is not None and r.started.astimezone(cfg.tz).date() != f.base.day:
            continue
        if f.base.station and r.station != f.base.station:
            continue
        if f.base.unknown and r.station is not None:
            continue
        if f.base.kerchunk and r.kerchunk != (f.base.kerchunk == "ya"):
            continue
        if f.category and ("category", f.category) not in r.terms:
            continue
        if f.situation and ("status", f.situation) not in r.terms:
            continue
        if f.unverified and (r.text is None or r.verified):
            continue
        if f.listen and not r.listen:
            continue
        if all(_word_ok(r, w) for w in words):
            out.append(r)
    out.sort(key=lambda r: (r.started, r.id), reverse=True)
    return [r.id for r in out]


def _filters(rows: list[Row], cfg: Config) -> list[Filter]:
    busy_day = rows[200].started.astimezone(cfg.tz).date()
    q = [LogFilter(q=w) for w in ("banjir", "hutaraja", "terpal", "rendam", "kebanjiran", "banjir hutaraja",
                                  "hutaraja banjir", "camat banjir", "terpal banjir aman", "rendang")]
    return [Filter(b) for b in q] + [
        Filter(LogFilter(), category="banjir"), Filter(LogFilter(), situation="siaga"),
        Filter(LogFilter(station="Tarutung"), category="banjir", unverified=True),
        Filter(LogFilter(day=busy_day), situation="aman"),
        Filter(LogFilter(day=busy_day, q="camat")),
        Filter(LogFilter(q="banjir", station="Muara")),
        Filter(LogFilter(q="hutaraja", kerchunk="tidak"), unverified=True),
        Filter(LogFilter(q="banjir"), listen=True),
        Filter(LogFilter(q="banjir"), category="longsor"),
        Filter(LogFilter(day=date(2026, 12, 31), q="banjir")),
        # filters alone, among them a test per row: counted up to FILTER_CAP, then estimated
        Filter(LogFilter(), unverified=True), Filter(LogFilter(kerchunk="tidak")),
        Filter(LogFilter(kerchunk="ya")), Filter(LogFilter(unknown=True), unverified=True),
        Filter(LogFilter(station="Muara")), Filter(LogFilter(), listen=True),
    ]


@pytest.mark.parametrize("test_rows", [40, 0], ids=["narrow-filters-tested-per-row", "every-filter-walked"])
def test_walked_pages_equal_a_plain_filter(db: Database, example_config: Config, rows: list[Row],
                                           monkeypatch: pytest.MonkeyPatch, test_rows: int) -> None:
    monkeypatch.setattr(newest, "FIRST_BATCH", 3)
    monkeypatch.setattr(logsearch, "EXACT_ROWS", 30)
    monkeypatch.setattr(logsearch, "TEST_ROWS", test_rows)
    monkeypatch.setattr(logsearch, "FILTER_CAP", 25)
    cfg = example_config
    approximate = exact_walks = 0
    for f in _filters(rows, cfg):
        want = reference(rows, f, cfg)
        for page in (1, 2, 3):
            got = search_page(db, cfg, Filter(**{**f.__dict__, "base": LogFilter(**{**f.base.__dict__,
                                                                                      "page": page})}))
            label = f"{f} page {page}"
            if not got.approximate:
                assert got.total == len(want), label
                last = max(1, -(-len(want) // PAGE_SIZE))
                page = min(page, last)
                exact_walks += len(want) > 0
            else:
                approximate += 1
                if got.rows:  # (a page past the end, typed into the address, is empty and not clamped)
                    assert got.total >= (page - 1) * PAGE_SIZE + len(got.rows), label
            assert got.page == page, label
            start = (page - 1) * PAGE_SIZE
            assert [tx.id for tx, _ in got.rows] == want[start:start + PAGE_SIZE], label
            assert got.has_more == (len(want) > start + PAGE_SIZE), label
            if got.approximate:
                # an estimate from the newest part of the log: within a factor of two here
                assert len(want) / 2 <= got.total <= len(want) * 2, (label, got.total, len(want))
    assert exact_walks
    if db.dialect == "sqlite":
        assert approximate, "no query stopped early: the walk's shortcut went untested"


def test_walk_visits_only_the_newest_part_of_the_log(sqlite_db: Database, example_config: Config,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the walk: a page of a common term reads a page's worth of rows, not all of them."""
    db = sqlite_db
    rng = random.Random(3)
    t = START
    for _ in range(600):
        t += timedelta(minutes=30)
        _insert(db, rng, t, t + timedelta(seconds=6), example_config)
    seen: list[int] = []
    real = newest.Stream.advance

    def counting(self: newest.Stream, *a: object) -> None:
        real(self, *a)  # type: ignore[arg-type]
        seen.append(self.visited)

    monkeypatch.setattr(newest.Stream, "advance", counting)
    monkeypatch.setattr(logsearch, "EXACT_ROWS", 30)
    got = search_page(db, example_config, Filter(LogFilter(), category="banjir"))
    assert len(got.rows) == PAGE_SIZE and got.has_more and not got.approximate  # a lone category: counted
    with db.read() as s:
        all_rows = s.query(ReportTerm).filter(ReportTerm.kind == "category",
                                              ReportTerm.term == "banjir").count()
    assert got.total == all_rows
    assert max(seen) < all_rows  # stopped before the end
