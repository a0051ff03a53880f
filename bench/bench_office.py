#!/usr/bin/env python
"""Office pages on PostgreSQL at 10 M transmissions over 50 gateways. Prints, never asserts.

    python bench/bench_office.py [--rows 10000000] [--gateways 50] [--per-day 500] [--repeat 30]
                                 [--url postgresql+psycopg:///ht_bench_office] [--fresh]

Issue 15's target: p95 <= 200 ms for the Today board, the log's first page and a rare-word search
on PostgreSQL at 10 M transmissions over 50 gateways. What runs:

(a) a database of its own on the local PostgreSQL (created when missing; kept between runs, so the
    generation is paid once; ``--fresh`` makes it again), migrated to head by the gateway's own
    migrations; ``--rows`` transmissions, ``--per-day`` a day on each of ``--gateways`` gateways
    (gateway ``gwNN`` on channel ``kanal-NN``), up to now, with the transcripts, word JSON,
    kerchunks and unidentified calls of bench_web.py's generator (the same phrase templates;
    a rare word in one transcript in 20,000). Rows go in with COPY after the secondary indexes are
    dropped; the indexes are then built again from their own definitions (as read from
    ``pg_indexes`` before the drop, so they are exactly the migrations' indexes) and the tables
    ANALYZEd.
(b) logged in as a viewer, p50/p95 of pages fetched in-process through the app's ASGI interface
    (Starlette's TestClient), as bench_web.py does; peer: the same SQL statements (captured with a
    SQLAlchemy cursor event) replayed through a plain psycopg connection, so the web layer's share
    shows. A page over the target gets EXPLAIN (ANALYZE, BUFFERS) of its slowest statement.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import psycopg  # noqa: E402
from bench_web import (  # noqa: E402
    COMMON_WORD,
    RARE_WORD,
    TARGET_P95_MS,
    capture_sql,
    login,
    pct,
    short,
    timed,
    transcript,
    words_json,
)
from sqlalchemy.engine import make_url  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from gateway.config import Config, load  # noqa: E402
from gateway.store.db import Database  # noqa: E402
from gateway.web import users  # noqa: E402
from gateway.web.app import create_app  # noqa: E402

DEFAULT_CONFIG = REPO / "config" / "tapanuli-utara.toml"
DEFAULT_URL = "postgresql+psycopg:///ht_bench_office"
TX_COLUMNS = ("id", "uid", "started_at", "ended_at", "audio_started_at", "duration_s", "status", "kerchunk",
              "stuck", "recovered", "audio_path", "sha256", "audio_bytes", "audio_duration_s", "peak_dbfs",
              "rms_dbfs", "source", "station", "ani", "created_at", "ani_position", "identity_source",
              "identity_confidence", "identity_reason", "gateway_id", "channel_id", "asr_pending")
TR_COLUMNS = ("transmission_id", "status", "engine", "model", "text", "words", "confidence", "origin",
              "latency_s", "processing_s", "current", "created_at", "verified")
TABLES = ("transmissions", "transcripts")


def conninfo(url: str) -> str:
    """The SQLAlchemy URL as a libpq URI (``postgresql+psycopg:///db`` → ``postgresql:///db``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: str, fresh: bool) -> None:
    name = make_url(url).database
    admin = make_url(url).set(database="postgres")
    with psycopg.connect(conninfo(admin.render_as_string(hide_password=False)), autocommit=True) as con:
        exists = con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            con.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            con.execute(f'CREATE DATABASE "{name}"')


def gateway_ids(n: int) -> list[tuple[str, str]]:
    return [(f"gw{g:02d}", f"kanal-{g:02d}") for g in range(1, n + 1)]


def rows_of(cfg: Config, rows: int, gateways: int, per_day: int, rng: random.Random, words: bool = True
            ) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(transmission, its transcripts), oldest day first; ``per_day`` per gateway and day.

    ``words=False`` leaves the word JSON out (it draws nothing from ``rng``: the rows are the same).
    """
    names = [st.name for st in cfg.stations] or ["Tarutung"]
    anis = {st.name: (st.ani[0] if st.ani else None) for st in cfg.stations}
    ids = gateway_ids(gateways)
    days = -(-rows // (per_day * gateways))
    today = datetime.now(cfg.tz).date()
    now = datetime.now(UTC)
    tx_id = 0
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        midnight = datetime(day.year, day.month, day.day, tzinfo=cfg.tz)
        for gw, ch in ids:
            n = min(per_day, rows - tx_id)
            if n <= 0:
                return
            secs = sorted(int(rng.triangular(5 * 3600, 22 * 3600, 8 * 3600)) + rng.random() for _ in range(n))
            for s in secs:
                start = (midnight + timedelta(seconds=s)).astimezone(UTC)
                if start > now:  # today: only what has been heard so far
                    start = now - timedelta(seconds=rng.uniform(1, 3600))
                tx_id += 1
                roll = rng.random()
                kerchunk, stuck = roll < 0.08, 0.08 <= roll < 0.082
                station = None if kerchunk or roll > 0.9 else rng.choice(names)
                dur = rng.uniform(0.3, 0.9) if kerchunk else 180.0 if stuck else rng.uniform(4, 40)
                source = "ani" if station and rng.random() < 0.7 else "voice" if station else None
                ended = start + timedelta(seconds=dur)
                tx = (tx_id, f"{tx_id:032x}", start, ended, start - timedelta(seconds=0.5), dur, "complete",
                      kerchunk, stuck, False, f"recordings/{gw}/{start:%Y/%m/%d}/{tx_id:08x}.ogg",
                      f"{tx_id:064x}", int(dur * 1100), dur + 0.5, -3.0, -18.0, "bench", station,
                      anis.get(station) if source == "ani" else None, ended,
                      "bot" if source == "ani" else None, source, 0.9 if station else None,
                      "bench" if station else "no ANI, no name heard", gw, ch, False)
                trs: list[tuple[Any, ...]] = []
                if not kerchunk:
                    text = transcript(rng, station)
                    word_json = words_json(text) if words else ""
                    trs.append((tx_id, "done", "vosk", "vosk-model-id", text, word_json,
                                rng.uniform(0.5, 0.95), "live", 0.3, dur * 0.4, True, ended, False))
                yield tx, trs


def secondary_indexes(con: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of each index on TABLES that no constraint owns."""
    return [(name, ddl) for name, ddl in con.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
        "quote_ident(i.indexname))::regclass)", (list(TABLES),)).fetchall()]


def generate(url: str, cfg: Config, rows: int, gateways: int, per_day: int) -> None:
    rng = random.Random(1)
    with psycopg.connect(conninfo(url)) as con:
        con.execute("SET maintenance_work_mem = '1GB'")
        indexes = secondary_indexes(con)
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        t0 = time.perf_counter()
        n_tr = 0
        with con.cursor() as cur, \
                cur.copy(f"COPY transmissions ({', '.join(TX_COLUMNS)}) FROM STDIN") as tx_copy:
            for i, (tx, _trs) in enumerate(rows_of(cfg, rows, gateways, per_day, rng, words=False), 1):
                tx_copy.write_row(tx)
                if i % 1_000_000 == 0:
                    print(f"    {i:,} transmissions generated ({time.perf_counter() - t0:.0f} s)")
        print(f"  COPY transmissions: {time.perf_counter() - t0:.0f} s")
        # the transcripts in a second pass of the same seeded generator (memory stays flat)
        t0 = time.perf_counter()
        rng = random.Random(1)
        with con.cursor() as cur, \
                cur.copy(f"COPY transcripts ({', '.join(TR_COLUMNS)}) FROM STDIN") as tr_copy:
            for _tx, trs in rows_of(cfg, rows, gateways, per_day, rng):
                for tr in trs:
                    tr_copy.write_row(tr)
                    n_tr += 1
        print(f"  COPY transcripts ({n_tr:,}): {time.perf_counter() - t0:.0f} s")
        for table in TABLES:
            con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
        con.commit()
        for name, ddl in indexes:
            t0 = time.perf_counter()
            con.execute(ddl)
            con.commit()
            print(f"  index {name}: {time.perf_counter() - t0:.0f} s")
        con.autocommit = True
        for table in TABLES:
            con.execute(f"VACUUM ANALYZE {table}")
        con.execute("CREATE TABLE IF NOT EXISTS bench_office (rows bigint, gateways int, per_day int)")
        con.execute("INSERT INTO bench_office VALUES (%s, %s, %s)", (rows, gateways, per_day))


def generated(url: str) -> tuple[int, int, int] | None:
    with psycopg.connect(conninfo(url)) as con:
        if con.execute("SELECT to_regclass('bench_office')").fetchone() == (None,):
            return None
        row = con.execute("SELECT rows, gateways, per_day FROM bench_office").fetchone()
        return (int(row[0]), int(row[1]), int(row[2])) if row else None


def replay(con: psycopg.Connection[Any], statements: list[tuple[str, Any]]) -> list[float]:
    out = []
    for sql, params in statements:
        t0 = time.perf_counter()
        with con.cursor() as cur:
            cur.execute(sql, params)
            if cur.description is not None:
                cur.fetchall()
        out.append((time.perf_counter() - t0) * 1000)
    con.rollback()
    return out


def measure(url: str, cfg: Config, repeat: int, budget_s: float, common: bool = False) -> None:
    db = Database(url)
    with contextlib.suppress(users.UserError):
        users.add_user(db, "bench", "viewer", "bench-viewer-123", "bench")
    with tempfile.TemporaryDirectory(prefix="ht-bench-office-") as tmp:
        client = TestClient(create_app(cfg, db, Path(tmp)), follow_redirects=False)
        client.__enter__()
        login(client, "bench", "bench-viewer-123")
        pages = [
            ("Hari ini (/), every channel", "/"),
            ("Hari ini (/), one channel", "/?channel=kanal-07"),
            ("board fragment (/fragment/today)", "/fragment/today"),
            ("log, first page, every channel", "/log"),
            ("log, first page, one channel", "/log?channel=kanal-07"),
            (f"log, search rare word «{RARE_WORD}»", f"/log?q={RARE_WORD}"),
            (f"log, search «{RARE_WORD}», one channel", f"/log?q={RARE_WORD}&channel=kanal-07"),
        ]
        if common:  # ~9 M matches: tens of seconds a request on PostgreSQL (bench/README.md)
            pages.append((f"log, search common word «{COMMON_WORD}»", f"/log?q={COMMON_WORD}"))
        peer = psycopg.connect(conninfo(url), options="-c jit=off")  # as gateway/store/db.py connects
        print(f" (b) response time in ms, logged in, TestClient → ASGI app in-process; {repeat} timed "
              f"requests (fewer past {budget_s:g} s); peer: the page's SQL through psycopg; "
              f"target p95 ≤ {TARGET_P95_MS:g} ms")
        print(f"  {'page':<44} {'web p50 / p95':>17}   {'SQL p50 / p95':>15}  n, statements, hits")
        for label, url_path in pages:
            def fetch(u: str = url_path) -> Any:
                return client.get(u)
            r = fetch()
            if r.status_code != 200:
                print(f"  {label:<44} HTTP {r.status_code} {r.text[:100]!r}")
                continue
            hits = re.search(r'<p class="counts">(sekitar )?([\d.]+) transmisi', r.text)
            note = f", {hits.group(1) or ''}{hits.group(2)} found" if hits else ""
            web = timed(fetch, repeat, budget_s)
            statements = capture_sql(db, fetch)
            per_stmt = [replay(peer, statements) for _ in range(max(5, min(len(web), 10)))]
            sql_ms = [sum(x) for x in per_stmt]
            missed = pct(web, 95) > TARGET_P95_MS
            print(f"  {label:<44} {statistics.median(web):>7.1f} / {pct(web, 95):>7.1f}   "
                  f"{statistics.median(sql_ms):>6.1f} / {pct(sql_ms, 95):>6.1f}  "
                  f"{len(web)}, {len(statements)}{note}{'  MISSED' if missed else ''}")
            if missed:
                medians = [statistics.median(col) for col in zip(*per_stmt, strict=True)]
                worst = max(range(len(medians)), key=medians.__getitem__)
                print(f"    slowest: {medians[worst]:.1f} ms  {short(statements[worst][0])}")
                with peer.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statements[worst][0], statements[worst][1])
                    for (line,) in cur.fetchall()[:25]:
                        print(f"      {line}")
                peer.rollback()
        peer.close()
        client.__exit__(None, None, None)
    db.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--gateways", type=int, default=50)
    ap.add_argument("--per-day", type=int, default=500, help="transmissions a day on each gateway")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--budget-s", type=float, default=20.0)
    ap.add_argument("--url", default=DEFAULT_URL, help=f"the bench's own database (default {DEFAULT_URL})")
    ap.add_argument("--config", default=str(DEFAULT_CONFIG))
    ap.add_argument("--fresh", action="store_true", help="drop and generate the database again")
    ap.add_argument("--common", action="store_true",
                    help=f"also a search for the common word «{COMMON_WORD}» (slow on PostgreSQL)")
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    cfg = load(args.config)
    ensure_database(args.url, args.fresh)
    with psycopg.connect(conninfo(args.url)) as con:
        version = con.execute("SHOW server_version").fetchone()
    print(f"bench_office: PostgreSQL {version[0] if version else '?'}, {time.strftime('%Y-%m-%d %H:%M:%S')}")
    db = Database(args.url)
    db.migrate()
    db.close()
    have = generated(args.url)
    want = (args.rows, args.gateways, args.per_day)
    if have is not None and have != want:
        raise SystemExit(f"bench_office: {args.url} holds {have} (rows, gateways, per day), not {want}; "
                         "use --fresh or another --url")
    if have is None:
        t0 = time.perf_counter()
        print(f" (a) generating {args.rows:,} transmissions, {args.gateways} gateways, "
              f"{args.per_day} a day each")
        generate(args.url, cfg, *want)
        print(f"  generation total: {time.perf_counter() - t0:.0f} s")
    else:
        print(f" (a) kept from an earlier run: {have[0]:,} transmissions, {have[1]} gateways")
    with psycopg.connect(conninfo(args.url)) as con:
        size = con.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()
    print(f"  database size {size[0] if size else '?'}")
    measure(args.url, cfg, args.repeat, args.budget_s, args.common)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
