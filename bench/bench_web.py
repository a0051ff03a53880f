#!/usr/bin/env python
"""Web UI response times on a large SQLite database. Prints, never asserts.

    python bench/bench_web.py [--rows 100000 1000000] [--repeat 30] [--per-day 500] [--schema REV]

For each ``--rows`` size: a fresh data directory, migrated; that many transmissions (most with a
transcript of Indonesian report phrases, some kerchunks and unidentified ones, ``--per-day`` a day
up to now) written with raw ``executemany`` in one transaction, the FTS5 index filled by the
migration's triggers; then, logged in as a viewer, p50/p95 of pages fetched in-process through the
app's ASGI interface (Starlette's TestClient): Hari ini, the log's first page, a search for a common
and for a rare word, a date-filtered log page, the compliance chart (14 and 92 days), and the query
behind the live updates. Peer: the very SQL statements each page ran (captured with a SQLAlchemy
cursor event, the session lookup included) replayed through a plain ``sqlite3`` connection, so the
web layer's own share shows. A page missing the p95 target gets the EXPLAIN QUERY PLAN of each of
its statements that takes more than a tenth of its SQL time.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import event  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from gateway.config import Config, load  # noqa: E402
from gateway.store.db import Database, default_url  # noqa: E402
from gateway.web import users  # noqa: E402
from gateway.web.app import create_app  # noqa: E402
from gateway.web.queries import change_marker  # noqa: E402

TARGET_P95_MS = 200.0
DEFAULT_CONFIG = REPO / "config" / "tapanuli-utara.toml"
COMMON_WORD = "camat"  # in most reports ("di sini camat ...")
RARE_WORD = "gempa"  # one transcript in RARE_EVERY
RARE_EVERY = 20_000
CHUNK = 50_000
TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite (naive UTC)

# --- realistic transcripts ----------------------------------------------------------------------

DESA = ["Hutatoruan", "Sitampurung", "Simorangkir", "Hutabarat", "Parbubu", "Lumban Siagian", "Onan Hasang",
        "Sihujur", "Pansur Napitu", "Hutagalung", "Siraja Oloan", "Lobu Pining", "Hutaraja", "Sigotom",
        "Parsaoran", "Janji Nauli", "Banuaji", "Rura Julu", "Sibalanga", "Aek Nauli"]
ANGKA = ["dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas",
         "dua belas", "tiga belas", "empat belas", "lima belas", "dua puluh", "dua puluh lima", "tiga puluh",
         "tiga puluh lima", "empat puluh", "lima puluh"]
OPEN = ["bupati bupati", "izin lapor bapak bupati", "selamat pagi bapak bupati", "mohon izin melapor",
        "bupati monitor", "lapor komandan"]
STATUS = ["situasi wilayah aman dan kondusif", "keadaan wilayah aman terkendali",
          "tidak ada kejadian menonjol", "kegiatan masyarakat berjalan normal", "cuaca cerah sejak pagi",
          "hujan deras sejak tadi malam", "arus lalu lintas lancar", "pasar berjalan seperti biasa",
          "sekolah berjalan normal", "pelayanan kantor camat berjalan baik"]
INCIDENT = ["terjadi longsor di desa {d} jalan tertutup sepanjang {n} meter",
            "banjir setinggi lutut di dusun {n} desa {d}", "pohon tumbang menutup jalan provinsi dekat {d}",
            "kebakaran rumah warga satu unit di desa {d} tidak ada korban jiwa",
            "jembatan gantung di desa {d} rusak berat", "tanah amblas di badan jalan menuju {d}",
            "sebanyak {n} kepala keluarga mengungsi ke gereja desa {d}",
            "ternak warga hanyut {n} ekor di desa {d}", "angin kencang merusak atap sekolah di {d}"]
PRICE = ["harga beras {n} ribu rupiah per kilo", "harga cabai merah naik menjadi {n} ribu",
         "harga bawang merah {n} ribu per kilo", "minyak goreng {n} ribu per liter",
         "harga gabah turun menjadi {n} ribu", "harga kopi arabika {n} ribu per kilo"]
NEED = ["mohon bantuan terpal dan makanan siap saji", "mohon alat berat untuk membuka jalan",
        "butuh obat obatan untuk pengungsi", "mohon dikirim beras {n} karung",
        "mohon tenaga medis ke desa {d}", "mohon perbaikan jembatan segera"]
CLOSE = ["demikian laporan kami ganti", "ganti", "terima kasih ganti", "selesai ganti", "monitor ganti"]
CHATTER = ["monitor monitor", "coba cek suara", "suara kurang jelas mohon diulang", "dicopy ganti",
           "siap laksanakan", "tunggu sebentar", "baik terima kasih", "operator di sini cek jaringan"]


def transcript(rng: random.Random, station: str | None) -> str:
    def fill(s: str) -> str:
        return s.format(d=rng.choice(DESA), n=rng.choice(ANGKA))

    if station is None:
        return " ".join(fill(rng.choice(CHATTER)) for _ in range(rng.randint(1, 3)))
    parts = [rng.choice(OPEN), f"di sini camat {station.lower()}", rng.choice(STATUS)]
    if rng.random() < 0.25:
        parts.append(fill(rng.choice(INCIDENT)))
    if rng.random() < 0.4:
        parts.append(fill(rng.choice(PRICE)))
    if rng.random() < 0.15:
        parts.append(fill(rng.choice(NEED)))
    if rng.random() < 1 / RARE_EVERY:
        parts.append("tadi pagi terasa gempa kecil")
    parts.append(rng.choice(CLOSE))
    return " ".join(parts)


CONF = [0.93, 0.88, 0.97, 0.61, 0.84, 0.9, 0.72, 0.99, 0.45, 0.86, 0.95, 0.78, 0.91]


@functools.lru_cache(maxsize=65536)
def words_json(text: str) -> str:
    """Word times and confidences as the recogniser stores them (plain ASCII words: no escaping)."""
    t, out = 0.3, []
    for i, w in enumerate(text.split()):
        d = 0.12 + 0.06 * len(w)
        out.append(f'{{"word": "{w}", "start": {t:.2f}, "end": {t + d:.2f}, "conf": {CONF[i % 13]}}}')
        t += d + 0.05
    return "[" + ", ".join(out) + "]"


# --- generation ---------------------------------------------------------------------------------

TX_SQL = ("INSERT INTO transmissions (id, uid, started_at, ended_at, audio_started_at, duration_s, status, "
          "kerchunk, stuck, recovered, audio_path, sha256, audio_bytes, audio_duration_s, peak_dbfs, "
          "rms_dbfs, source, station, ani, created_at, ani_position, identity_source, identity_confidence, "
          "identity_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
TR_SQL = ("INSERT INTO transcripts (transmission_id, status, engine, model, text, words, confidence, origin, "
          "latency_s, processing_s, current, created_at, verified) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")


@dataclass
class Generated:
    rows: int
    transcripts: int
    days: int
    first_day: date
    last_day: date
    python_s: float
    insert_tx_s: float
    insert_tr_s: float
    finish_s: float
    db_bytes: int


def describe(path: Path) -> Generated:
    """What a kept database holds (no generation times)."""
    con = sqlite3.connect(path)
    rows, first, last = con.execute("SELECT count(*), min(started_at), max(started_at) FROM transmissions") \
        .fetchone()
    transcripts = con.execute("SELECT max(id) FROM transcripts").fetchone()[0] or 0
    con.close()
    first_day, last_day = (datetime.strptime(x, TS).date() for x in (first, last))
    return Generated(rows, transcripts, (last_day - first_day).days + 1, first_day, last_day, 0, 0, 0, 0,
                     path.stat().st_size)


def _day_starts(cfg: Config, rows: int, per_day: int) -> list[tuple[date, datetime]]:
    today = datetime.now(cfg.tz).date()
    days = max(1, math.ceil(rows / per_day))
    return [(d, datetime.combine(d, datetime.min.time(), cfg.tz))
            for d in (today - timedelta(days=days - 1 - i) for i in range(days))]


def _chunks(cfg: Config, rows: int, per_day: int, rng: random.Random) -> Iterator[tuple[list, list]]:
    """(transmission rows, transcript rows), chronological, CHUNK transmissions at a time."""
    names = [st.name for st in cfg.stations] or ["Tarutung"]
    anis = {st.name: (st.ani[0] if st.ani else None) for st in cfg.stations}
    now = datetime.now(UTC)
    tx_rows: list[tuple] = []
    tr_rows: list[tuple] = []
    tx_id = 0
    for _day, midnight in _day_starts(cfg, rows, per_day):
        n = min(per_day, rows - tx_id)
        # the channel is busiest in the morning, when the camats report
        secs = sorted(int(rng.triangular(5 * 3600, 22 * 3600, 8 * 3600)) + rng.random() for _ in range(n))
        for s in secs:
            start = midnight + timedelta(seconds=s)
            if start > now:  # today: only what has been heard so far
                start = now - timedelta(seconds=rng.uniform(1, 3600))
            tx_id += 1
            roll = rng.random()
            kerchunk = roll < 0.08
            stuck = 0.08 <= roll < 0.082
            station = None if kerchunk or roll > 0.9 else rng.choice(names)
            dur = rng.uniform(0.3, 0.9) if kerchunk else 180.0 if stuck else rng.uniform(4, 40)
            st_utc = start.astimezone(UTC)
            source = "ani" if station and rng.random() < 0.7 else "voice" if station else None
            ended = (st_utc + timedelta(seconds=dur)).strftime(TS)
            tx_rows.append((
                tx_id, f"{tx_id:032x}", st_utc.strftime(TS), ended,
                (st_utc - timedelta(seconds=0.5)).strftime(TS), dur, "complete", kerchunk, stuck, False,
                f"recordings/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%S}_{tx_id:08x}.ogg", f"{tx_id:064x}",
                int(dur * 1100), dur + 0.5, -3.0, -18.0, "bench", station,
                anis.get(station) if source == "ani" else None, ended,
                "bot" if source == "ani" else None, source, 0.9 if station else None,
                "bench" if station else "no ANI, no name heard"))
            if kerchunk:
                continue
            text = transcript(rng, station)
            if rng.random() < 0.03:  # re-transcribed once: an older, no longer current row
                tr_rows.append((tx_id, "done", "vosk", "old-model", text[: len(text) // 2], "[]", 0.5, "live",
                                0.4, dur, False, ended, False))
            tr_rows.append((tx_id, "done", "vosk", "vosk-model-id", text, words_json(text),
                            rng.uniform(0.5, 0.95), "live", 0.3, dur * 0.4, True, ended, False))
            if len(tx_rows) >= CHUNK:
                yield tx_rows, tr_rows
                tx_rows, tr_rows = [], []
    if tx_rows:
        yield tx_rows, tr_rows


def generate(path: Path, cfg: Config, rows: int, per_day: int, seed: int = 1) -> Generated:
    """Bulk rows into a migrated database, one transaction; the FTS5 triggers index each transcript."""
    rng = random.Random(seed)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")  # one big transaction: no WAL file of its size
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")  # 256 MiB for the index builds
    python_s = tx_s = tr_s = 0.0
    n_tr = 0
    con.execute("BEGIN")
    it = _chunks(cfg, rows, per_day, rng)
    while True:
        t0 = time.perf_counter()
        chunk = next(it, None)
        python_s += time.perf_counter() - t0
        if chunk is None:
            break
        t0 = time.perf_counter()
        con.executemany(TX_SQL, chunk[0])
        t1 = time.perf_counter()
        con.executemany(TR_SQL, chunk[1])
        t2 = time.perf_counter()
        tx_s += t1 - t0
        tr_s += t2 - t1
        n_tr += len(chunk[1])
    t0 = time.perf_counter()
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")  # as the gateway runs it
    con.close()
    finish_s = time.perf_counter() - t0
    days = _day_starts(cfg, rows, per_day)
    return Generated(rows, n_tr, len(days), days[0][0], days[-1][0], python_s, tx_s, tr_s, finish_s,
                     path.stat().st_size)


# --- measuring ----------------------------------------------------------------------------------

# What filing stores in report_terms (gateway/report/terms.py), approximated for the generated log from
# its template phrases (running the extractor over a million transcripts would take most of an hour):
# (FTS5 query, kind, stems). Volumes follow the templates: ~3 % of reports per incident kind.
REPORT_TERMS = [
    ('"banjir"', "category", ["banjir"]), ('"banjir"', "incident", ["banjir"]),
    ('"longsor"', "category", ["longsor"]), ('"longsor"', "incident", ["longsor", "tanah"]),
    ('"kebakaran"', "category", ["kebakaran"]), ('"kebakaran"', "incident", ["kebakaran"]),
    ('"pohon" "tumbang"', "category", ["pohon_tumbang"]),
    ('"pohon" "tumbang"', "incident", ["pohon", "tumbang"]),
    ('"jembatan" "rusak"', "category", ["infrastruktur"]),
    ('"jembatan" "rusak"', "incident", ["infrastruktur"]),
    ('"terpal"', "need", ["terpal"]), ('"makanan"', "need", ["makanan"]), ('"obat"', "need", ["obat"]),
    ('"alat" "berat"', "need", ["alat", "berat"]), ('"beras" "karung"', "need", ["beras"]),
]


def fill_report_terms(path: Path) -> tuple[int, float]:
    """report_terms rows as filing would make them (see REPORT_TERMS), once per kept database."""
    from gateway.report.terms import stem

    con = sqlite3.connect(path)
    if con.execute("SELECT count(*) FROM report_terms").fetchone()[0]:
        con.close()
        return 0, 0.0
    t0 = time.perf_counter()
    matches = "SELECT tr.transmission_id, date(t.started_at) FROM transcripts tr JOIN transmissions t " \
              "ON t.id = tr.transmission_id WHERE tr.current AND tr.id IN " \
              "(SELECT rowid FROM transcripts_fts WHERE transcripts_fts MATCH ?)"
    rows = []
    for query, kind, stems in REPORT_TERMS:
        hits = con.execute(matches, (query,)).fetchall()
        rows += [(day, tx, kind, term) for tx, day in hits for term in stems]
    for desa in DESA:  # the desa of incidents and needs
        hits = con.execute(matches + " AND t.id % 4 = 0", (f'"{desa.lower()}"',)).fetchall()
        rows += [(day, tx, "desa", stem(w)) for tx, day in hits for w in desa.lower().split()]
    hits = con.execute(matches + " AND t.id % 30 = 0", ('"aman"',)).fetchall()  # a station-day's status
    rows += [(day, tx, "status", "aman") for tx, day in hits]
    con.executemany("INSERT INTO report_terms (day, transmission_id, kind, term) VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return len(rows), time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the two nearest ranks."""
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def timed(fn: Callable[[], object], repeat: int, budget_s: float) -> list[float]:
    """ms per call: 2 warm-ups (1 if slow), then ``repeat`` calls or as many as fit ``budget_s`` (>= 5)."""
    t0 = time.perf_counter()
    fn()
    if time.perf_counter() - t0 < 2:
        fn()
    out: list[float] = []
    start = time.perf_counter()
    while len(out) < repeat and (len(out) < 5 or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<46} {value:>22}  {note}")


def login(client: TestClient, name: str, password: str) -> None:
    page = client.get("/login")
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert m, "no csrf field on the login form"
    r = client.post("/login", data={"csrf": m.group(1), "name": name, "password": password, "next": "/"})
    if r.status_code != 303:
        raise SystemExit(f"bench_web: login failed: {r.status_code}")


def capture_sql(db: Database, fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The statements (with their DB-API parameters) that ``fn`` runs through SQLAlchemy."""
    seen: list[tuple[str, Any]] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
    return seen


def run_sql(con: sqlite3.Connection, statements: list[tuple[str, Any]]) -> list[float]:
    """Each statement's time in ms (execute + fetchall)."""
    out = []
    for sql, params in statements:
        t0 = time.perf_counter()
        con.execute(sql, params).fetchall()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def plan(con: sqlite3.Connection, sql: str, params: Any) -> list[str]:
    """EXPLAIN QUERY PLAN, indented, the derived table of day bounds folded to one line."""
    rows = con.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    depth: dict[int, int] = {0: -1}
    out: list[str] = []
    constants = 0
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        if detail in ("SCAN CONSTANT ROW", "UNION ALL"):
            constants += detail == "SCAN CONSTANT ROW"
            continue
        out.append("  " * depth[node] + detail)
    if constants:
        out.append(f"({constants} constant rows: the derived table of day bounds)")
    return out


def short(sql: str, width: int = 150) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def downgrade(db: Database, revision: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from gateway.store.db import MIGRATIONS

    acfg = AlembicConfig()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as conn:
        acfg.attributes["connection"] = conn
        command.downgrade(acfg, revision)


def bench_size(cfg: Config, rows: int, per_day: int, repeat: int, budget_s: float, schema: str | None,
               tmp: Path | None, keep: Path | None = None) -> None:
    if keep is not None:  # a database kept from an earlier run of the same size, or made now and kept
        data = keep / f"rows-{rows}-{per_day}{'-' + schema if schema else ''}"
        data.mkdir(parents=True, exist_ok=True)
        measure_size(cfg, data, rows, per_day, repeat, budget_s, schema)
        return
    with tempfile.TemporaryDirectory(prefix="ht-bench-web-", dir=tmp) as tmp_s:
        measure_size(cfg, Path(tmp_s), rows, per_day, repeat, budget_s, schema)


def measure_size(cfg: Config, data: Path, rows: int, per_day: int, repeat: int, budget_s: float,
                 schema: str | None) -> None:
    path = data / "gateway.sqlite3"
    at = f", schema at migration {schema}" if schema else ""
    print(f"{rows:,} transmissions ({per_day} a day){at}")
    if path.exists() and (data / "complete").exists():
        g = describe(path)
        print(f" (a) kept from an earlier run: {g.rows:,} transmissions, {g.transcripts:,} transcripts "
              f"({g.first_day} .. {g.last_day}); {g.db_bytes / 1e6:,.0f} MB")
        db = Database(default_url(data))
        db.migrate()  # a kept database follows newer migrations
        db.close()
    else:
        path.unlink(missing_ok=True)
        db = Database(default_url(data))
        db.migrate()
        if schema:
            downgrade(db, schema)
        db.close()
        g = generate(path, cfg, rows, per_day)
        (data / "complete").touch()
        total = g.python_s + g.insert_tx_s + g.insert_tr_s + g.finish_s
        print(f" (a) generation: {g.rows:,} transmissions, {g.transcripts:,} transcripts over {g.days} days "
              f"({g.first_day} .. {g.last_day}); {g.db_bytes / 1e6:,.0f} MB")
        _row("Python: timestamps, transcripts, word JSON", f"{g.python_s:.1f} s")
        _row("INSERT transmissions (executemany, indexes)", f"{g.insert_tx_s:.1f} s",
             f"{g.rows / g.insert_tx_s:,.0f} rows/s")
        _row("INSERT transcripts (+ FTS5 by trigger)", f"{g.insert_tr_s:.1f} s",
             f"{g.transcripts / g.insert_tr_s:,.0f} rows/s")
        _row("COMMIT + switch to WAL", f"{g.finish_s:.1f} s")
        _row("generation total", f"{total:.1f} s")
    n_terms, terms_s = fill_report_terms(path)
    if n_terms:
        _row("report_terms (as filing would store them)", f"{terms_s:.1f} s", f"{n_terms:,} rows")
    db = Database(default_url(data))
    with contextlib.suppress(users.UserError):  # a kept database has it already
        users.add_user(db, "bench", "viewer", "bench-viewer-123", "bench")
    app = create_app(cfg, db, data)
    client = TestClient(app, follow_redirects=False)
    client.__enter__()  # one event loop for every request, as a server has
    login(client, "bench", "bench-viewer-123")
    mid = g.first_day + (g.last_day - g.first_day) / 2
    first_station = cfg.stations[0].name if cfg.stations else ""
    pages: list[tuple[str, Callable[[], object]]] = [
        (label, lambda url=url: client.get(url)) for label, url in (
            ("Hari ini (/)", "/"),
            ("log, unfiltered, first page", "/log"),
            (f"log, search common word «{COMMON_WORD}»", f"/log?q={COMMON_WORD}"),
        (f"log, search «{COMMON_WORD}», page 20", f"/log?q={COMMON_WORD}&page=20"),
        (f"log, search «{COMMON_WORD}», one station", f"/log?q={COMMON_WORD}&station={first_station}"),
        ("log, search «harga» (~33 %)", "/log?q=harga"),
        ("log, search «banjir» (~2 %)", "/log?q=banjir"),
        ("log, search «hutatoruan» (~1 %)", "/log?q=hutatoruan"),
            (f"log, search rare word «{RARE_WORD}»", f"/log?q={RARE_WORD}"),
            (f"log, one day ({mid})", f"/log?date={mid}"),
            ("log, filter kejadian banjir", "/log?kategori=banjir"),
            ("log, filter kejadian + station + unverified",
             f"/log?kategori=longsor&station={first_station}&belum=1"),
            ("log, filter perlu didengar", "/log?dengar=1"),
            ("log, filter belum diverifikasi", "/log?belum=1"),
            ("log, filter unknown + belum diverifikasi", "/log?unknown=1&belum=1"),
            ("log, filter situasi aman, one day", f"/log?situasi=aman&date={mid}"),
            ("log, field search «terpal» (need)", "/log?q=terpal"),
            ("log, field search «hutaraja» (desa)", "/log?q=hutaraja"),
            ("log, affix search «terendam»", "/log?q=terendam"),
            ("log, search «banjir hutaraja»", "/log?q=banjir+hutaraja"),
            ("log, field search «banjir», page 20", "/log?q=banjir&page=20"),
            ("log, search «camat banjir»", "/log?q=camat+banjir"),
            ("log, search «banjir longsor» (none has both)", "/log?q=banjir+longsor"),
            ("log, field search «terpal», one station", f"/log?q=terpal&station={first_station}"),
            ("board fragment (/fragment/today)", "/fragment/today"),
            ("kepatuhan, 14 days", "/compliance"),
            ("kepatuhan, 92 days", f"/compliance?from={g.last_day - timedelta(days=91)}&to={g.last_day}"),
        )]
    pages.append(("SSE poll: queries.change_marker() (no HTTP)", lambda: change_marker(db)))
    peer = sqlite3.connect(path)
    peer.execute("PRAGMA busy_timeout=10000")
    print(f" (b) response time in ms, logged in, TestClient → ASGI app in-process; {repeat} timed "
          f"requests (fewer past {budget_s:g} s)")
    print(f"     peer: the page's own SQL statements through sqlite3; target p95 ≤ {TARGET_P95_MS:g} ms")
    print(f"  {'page':<46} {'web p50 / p95':>17}   {'SQL p50 / p95':>15}  n, statements, hits")
    misses: list[tuple[str, list[tuple[str, Any]], list[float]]] = []
    for label, fetch in pages:
        r = fetch()
        note = ""
        if hasattr(r, "status_code"):
            if r.status_code != 200:
                _row(label, f"HTTP {r.status_code}", r.text[:100])
                continue
            hits = re.search(r'<p class="counts">(sekitar )?([\d.]+) transmisi', r.text)
            note = f", {hits.group(1) or ''}{hits.group(2)} found" if hits else ""
        web = timed(fetch, repeat, budget_s)
        statements = capture_sql(db, fetch)
        per_stmt = [run_sql(peer, statements)]
        t0 = time.perf_counter()
        while len(per_stmt) < len(web) and (len(per_stmt) < 5 or time.perf_counter() - t0 < budget_s):
            per_stmt.append(run_sql(peer, statements))
        sql_ms = [sum(x) for x in per_stmt]
        missed = pct(web, 95) > TARGET_P95_MS
        print(f"  {label:<46} {statistics.median(web):>7.1f} / {pct(web, 95):>7.1f}   "
              f"{statistics.median(sql_ms):>6.1f} / {pct(sql_ms, 95):>6.1f}  "
              f"{len(web)}, {len(statements)}{note}{'  MISSED' if missed else ''}")
        if missed:
            medians = [statistics.median(col) for col in zip(*per_stmt, strict=True)]
            misses.append((label, statements, medians))
    for label, statements, medians in misses:
        print(f" (c) {label}: {sum(medians):.1f} ms of SQL (medians); statements over 10 %:")
        for i in sorted(range(len(medians)), key=medians.__getitem__, reverse=True):
            if medians[i] < 0.1 * sum(medians):
                break
            print(f"    {medians[i]:7.1f} ms  {short(statements[i][0])}")
            for line in plan(peer, *statements[i]):
                print(f"               plan: {line}")
    peer.close()
    client.__exit__(None, None, None)
    db.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000],
                    help="database sizes in transmissions (default: 100000 1000000)")
    ap.add_argument("--per-day", type=int, default=500, help="transmissions a day (default 500)")
    ap.add_argument("--repeat", type=int, default=30, help="timed requests per page (default 30)")
    ap.add_argument("--config", default=str(DEFAULT_CONFIG), help="TOML configuration (stations, time zone)")
    ap.add_argument("--budget-s", type=float, default=20.0,
                    help="stop timing a page after this many seconds (at least 5 requests; default 20)")
    ap.add_argument("--schema", metavar="REV",
                    help="downgrade to this migration before generating (e.g. 0005: without 0006's indexes)")
    ap.add_argument("--tmp", type=Path, help="where to make the temporary data directories")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="keep each generated database under DIR and reuse it next time (no generation)")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress also into a file
    cfg = load(args.config)
    print(f"bench_web: Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
          f"{len(cfg.stations)} stations, {time.strftime('%Y-%m-%d %H:%M:%S')}")
    for rows in args.rows:
        t0 = time.perf_counter()
        bench_size(cfg, rows, args.per_day, args.repeat, args.budget_s, args.schema, args.tmp, args.keep)
        print(f"  ({rows:,} rows: {time.perf_counter() - t0:.0f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
