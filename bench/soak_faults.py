#!/usr/bin/env python
"""Crash soak: SIGKILL ``process`` at random points of random transmissions, restart, check. Prints a
tally; exits 1 if any run broke an invariant (this is the long version of tests/test_faults_kill.py).

    python bench/soak_faults.py [--runs 40] [--seed 1] [--url postgresql+psycopg:///postgres]

Each run: a fresh data directory; the generated channel of tests/faultkit.py processed with
``HT_GATEWAY_FAULT`` naming a random step (open commit, a random audio frame, before/after rename,
after commit) at a random transmission; a restart (recovery alone) and the check of
tests/faultkit.py (every row complete, every file listed once and decoding to its sha256, no .part
left, no transmission stored twice, ANI as generated; a recovered transmission cut before its ANI
ended may have none); then the same file again, which must leave every transmission stored exactly
once, none recovered.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from faultkit import SCENARIO, START, check, cli, config, rows, silence  # noqa: E402

STEPS = ("after_open_commit", "audio", "before_rename", "after_rename", "after_commit")


def _pg_database(server: str) -> str:
    from sqlalchemy import create_engine, text

    name = f"htg_soak_{uuid.uuid4().hex[:10]}"
    eng = create_engine(server, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return f"{server.rsplit('/', 1)[0]}/{name}"


def one_run(tmp: Path, chan: Path, truth: dict, rng: random.Random, url_server: str | None) -> str:
    data = tmp / "data"
    url = _pg_database(url_server) if url_server else None
    cfg = config(tmp / "c.toml", url)
    items = truth["transmissions"]
    step = rng.choice(STEPS)
    if step == "audio":
        frames = sum(round((t["end_s"] - t["start_s"] + 0.5) / 0.02) for t in items)
        fault = f"audio@{rng.randint(1, frames)}"
    else:
        fault = f"{step}@{rng.randint(1, len(items))}"
    r = cli(data, cfg, "process", str(chan), "--start", START, fault=fault)
    if r.returncode != -9:
        return f"{fault}: not killed (exit {r.returncode})"
    r = cli(data, cfg, "process", str(silence(tmp)), "--start", START)
    if r.returncode != 0:
        return f"{fault}: restart failed: {r.stderr.strip().splitlines()[-1:]}"
    try:
        check(data, url, truth, set(), cut_ani_ok=True)
        r = cli(data, cfg, "process", str(chan), "--start", START)
        assert r.returncode == 0, r.stderr
        got = check(data, url, truth, set(range(len(items))))
        assert len(rows(data, url)) == len(items) and not any(t.recovered for t in got.values())
    except AssertionError as e:
        return f"{fault}: {str(e).splitlines()[0] if str(e) else 'assertion'}"
    return ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--url", help="a PostgreSQL server URL (a fresh database per run); default SQLite")
    args = ap.parse_args()
    from gateway.sim.channel import write_channel

    rng = random.Random(args.seed)
    failures: list[str] = []
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as td:
        chan = Path(td) / "chan.flac"
        truth = write_channel(SCENARIO, chan)
        for i in range(args.runs):
            run_dir = Path(td) / f"run{i}"
            run_dir.mkdir()
            msg = one_run(run_dir, chan, truth, rng, args.url)
            print(f"run {i + 1:3d}: {msg or 'ok'}", flush=True)
            if msg:
                failures.append(msg)
    print(f"{args.runs} runs, {len(failures)} broke an invariant, {time.monotonic() - t0:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
