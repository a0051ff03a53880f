#!/usr/bin/env python
"""Transcription throughput of ``ht-gateway worker`` processes on one PostgreSQL. Prints, never asserts.

    python bench/bench_workers.py [--workers 1 2 4] [--mornings 101 102] [--flood-channels 4]
                                  [--flood-hours 2] [--url postgresql+psycopg:///ht_bench_workers]

Issue 15 asks for transcription throughput with 1, 2 and 4 worker processes on this machine (audio
hours per wall hour) and the backlog drain time after a simulated flood morning (4 channels,
2 hours of traffic). What runs, all real:

(a) a database of its own on the local PostgreSQL, made fresh; generated mornings
    (gateway.sim.morning, espeak-ng, the accuracy bench's cache) cut and recorded by
    ``ht-gateway process`` with ``asr.engine = "none"``: real Ogg Opus recordings and rows, every
    complete transmission a pending transcription job;
(b) for each ``--workers`` N: every job made pending again (transcripts deleted), N
    ``ht-gateway worker --once`` processes started together with whisper-base (int8,
    ``cpu_threads`` = cores / N, at least 1) and timed from their start until the last exits
    (model loading included: it is part of what a worker costs); throughput = seconds of audio of
    the transcribed transmissions / wall seconds. Checked: every job transcribed exactly once.
    Peer: the same recordings decoded and transcribed one after another by faster-whisper itself
    in this process (same model, compute type, beam size, 2 threads), no database.
(c) the flood morning: its audio is ``--flood-channels`` x ``--flood-hours`` x the duty cycle of a
    busy net (calls of the generated mornings' mean length back to back with the soak's 2-8 s
    gaps), arriving evenly over the flood; with each measured throughput, the backlog left when the
    flood ends and the time until the last call is transcribed. It is computed, not run (a real
    flood would take the 2 hours per worker count); the bench says so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import psycopg  # noqa: E402
from bench_accuracy import CACHE, rendered  # noqa: E402
from bench_office import conninfo, ensure_database  # noqa: E402

DEFAULT_URL = "postgresql+psycopg:///ht_bench_workers"
GAP_S = (2.0 + 8.0) / 2  # the chaos soak's gaps between calls: uniform 2-8 s


def write_config(path: Path, url: str, engine: str, threads: int) -> Path:
    base = (REPO / "config" / "tapanuli-utara.toml").read_text()
    base = base.replace('url = ""', f'url = "{url}"')
    base = base.replace('models_dir = "../asr_models"', f'models_dir = "{REPO / "asr_models"}"')
    if engine == "whisper":
        base = base.replace('engine = "auto"', 'engine = "whisper"')
        base = base.replace('model = ""', 'model = "whisper-base"')
        base += f"\n[asr.whisper]\ncpu_threads = {threads}\n"
    else:
        base = base.replace('engine = "auto"', 'engine = "none"')
    base += "\n[worker]\npoll_s = 0.5\n"
    path.write_text(base)
    return path


def gateway(cfg: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "gateway", "--config", str(cfg), "--data-dir", str(data), *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)


def reset_jobs(url: str) -> None:
    with psycopg.connect(conninfo(url)) as con:
        con.execute("DELETE FROM transcript_extracts")
        con.execute("DELETE FROM transcripts")
        con.execute("UPDATE transmissions SET asr_pending = (status = 'complete'), asr_redo = false, "
                    "asr_claimed_by = NULL, asr_lease_until = NULL, asr_attempts = 0")


def jobs(url: str) -> tuple[int, float, int, int]:
    """(complete transmissions, their audio seconds, current transcripts, transmissions with 2+ current)."""
    with psycopg.connect(conninfo(url)) as con:
        n, audio = con.execute("SELECT count(*), coalesce(sum(audio_duration_s), 0) FROM transmissions "
                               "WHERE status = 'complete'").fetchone() or (0, 0.0)
        current = con.execute("SELECT count(*) FROM transcripts WHERE current").fetchone()
        doubled = con.execute("SELECT count(*) FROM (SELECT transmission_id FROM transcripts WHERE current "
                              "GROUP BY transmission_id HAVING count(*) > 1) d").fetchone()
    return int(n), float(audio), int(current[0] if current else 0), int(doubled[0] if doubled else 0)


def recordings(url: str, data: Path) -> list[tuple[Path, float]]:
    with psycopg.connect(conninfo(url)) as con:
        rows = con.execute("SELECT audio_path, audio_duration_s FROM transmissions WHERE status = 'complete' "
                           "ORDER BY id").fetchall()
    return [(data / p, float(d)) for p, d in rows]


def run_workers(n: int, url: str, data: Path, tmp: Path) -> tuple[float, list[int]]:
    cores = os.cpu_count() or 1
    threads = max(1, cores // n)
    cfgs = [write_config(tmp / f"worker{i}.toml", url, "whisper", threads) for i in range(n)]
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(c), "--data-dir", str(data),
                               "worker", "--once"], cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=open(tmp / f"worker{i}.log", "w"))  # noqa: SIM115 - closed at exit
             for i, c in enumerate(cfgs)]
    codes = [p.wait() for p in procs]
    return time.perf_counter() - t0, codes


def peer(files: list[tuple[Path, float]]) -> float:
    """faster-whisper alone over the same recordings: wall seconds."""
    from faster_whisper import WhisperModel

    from gateway.recorder import decode

    model = WhisperModel(str(REPO / "asr_models" / "whisper-base"), device="cpu", compute_type="int8",
                         cpu_threads=2)
    t0 = time.perf_counter()
    for path, _ in files:
        d = decode(path)  # recorder.sample_rate: 16 kHz, what whisper takes
        if d is None:
            continue
        segments, _info = model.transcribe(d.audio, language="id", beam_size=5, vad_filter=True)
        list(segments)
    return time.perf_counter() - t0


def make_flood(url: str, channels: int, minutes: float, seed: int = 7) -> tuple[int, float]:
    """Copies of the pool's speech transmissions on ``channels`` channels back to back for
    ``minutes`` of air (the soak's 2-8 s gaps), all pending at once, as if no worker had been up
    during the flood; the pool's own jobs are cleared. (rows, audio seconds)."""
    import random
    import uuid
    from datetime import UTC, datetime, timedelta

    rng = random.Random(seed)
    with psycopg.connect(conninfo(url)) as con:
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'transmissions'")]
        keep = [c for c in cols if c not in ("id", "uid", "started_at", "ended_at", "audio_started_at",
                                             "gateway_id", "channel_id")]
        pool = con.execute("SELECT id, audio_duration_s FROM transmissions WHERE status = 'complete' "
                           "AND NOT kerchunk ORDER BY id").fetchall()
        sql = (f"INSERT INTO transmissions (uid, started_at, ended_at, audio_started_at, gateway_id, "
               f"channel_id, {', '.join(keep)}) SELECT %s, %s, %s, %s, %s, %s, {', '.join(keep)} "
               f"FROM transmissions WHERE id = %s")
        t0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
        rows: list[tuple[object, ...]] = []
        audio = 0.0
        for ch in range(1, channels + 1):
            t = 0.0
            while t < minutes * 60:
                src, dur = pool[rng.randrange(len(pool))]
                start = t0 + timedelta(seconds=t)
                rows.append((uuid.uuid4().hex, start, start + timedelta(seconds=dur), start,
                             f"flood{ch}", f"banjir-{ch}", src))
                audio += dur
                t += dur + rng.uniform(2.0, 8.0)
        with con.cursor() as cur:
            cur.executemany(sql, rows)
        con.execute("UPDATE transmissions SET asr_pending = (gateway_id LIKE 'flood%%'), "
                    "asr_claimed_by = NULL, asr_lease_until = NULL, asr_attempts = 0")
    return len(rows), audio


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--mornings", type=int, nargs="+", default=[101, 102])
    ap.add_argument("--flood-channels", type=int, default=4)
    ap.add_argument("--flood-hours", type=float, default=2.0)
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--flood-run-minutes", type=float, default=0.0,
                    help="also run a flood: this many minutes of --flood-channels channels, all pending "
                         "at once (the workers were down), drained by --flood-workers workers")
    ap.add_argument("--flood-workers", type=int, default=2)
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    print(f"bench_workers: {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M:%S')}")
    ensure_database(args.url, fresh=True)
    with tempfile.TemporaryDirectory(prefix="ht-bench-workers-") as tmp_s:
        tmp = Path(tmp_s)
        data = tmp / "data"
        cfg = write_config(tmp / "gateway.toml", args.url, "none", 1)
        r = gateway(cfg, data, "db", "upgrade")
        if r.returncode:
            raise SystemExit(f"bench_workers: db upgrade failed: {r.stderr.strip()[-300:]}")
        lengths: list[float] = []
        for seed in args.mornings:
            flac, truth = rendered(seed, CACHE)
            lengths += [t["end_s"] - t["start_s"] for t in truth["transmissions"]
                        if t.get("kind") != "kerchunk"]
            r = gateway(cfg, data, "process", str(flac))
            if r.returncode:
                raise SystemExit(f"bench_workers: process {flac.name} failed: {r.stderr.strip()[-300:]}")
        n, audio_s, _, _ = jobs(args.url)
        print(f" (a) {len(args.mornings)} mornings: {n} transmissions, {audio_s / 60:.1f} min of audio")
        results: list[tuple[int, float]] = []
        print(" (b) workers  threads each  wall s  audio h / wall h  transcribed  doubled  exit codes")
        for k in args.workers:
            reset_jobs(args.url)
            wall, codes = run_workers(k, args.url, data, tmp)
            _, _, current, doubled = jobs(args.url)
            rate = audio_s / wall
            results.append((k, rate))
            print(f"     {k:>7}  {max(1, (os.cpu_count() or 1) // k):>12}  {wall:>6.1f}  {rate:>16.1f}  "
                  f"{current:>5} / {n:<5}  {doubled:>7}  {codes}")
            if any(codes):
                print(f"     (a worker failed; its log: {(tmp / 'worker0.log').read_text()[-400:]!r})")
        if not args.no_peer:
            wall = peer(recordings(args.url, data))
            print(f"     peer: faster-whisper alone, one process, 2 threads: {wall:.1f} s, "
                  f"{audio_s / wall:.1f} audio h / wall h")
        if args.flood_run_minutes > 0:
            reset_jobs(args.url)
            n_flood, flood_s = make_flood(args.url, args.flood_channels, args.flood_run_minutes)
            wall, codes = run_workers(args.flood_workers, args.url, data, tmp)
            _, _, current, doubled = jobs(args.url)
            print(f" (d) flood run: {args.flood_channels} channels x {args.flood_run_minutes:g} min of air, "
                  f"{n_flood} calls, {flood_s / 3600:.2f} h of audio, all pending when {args.flood_workers} "
                  f"workers start: drained in {wall / 60:.1f} min ({flood_s / wall:.1f} audio h / h); "
                  f"transcribed {current} of {n_flood}, twice {doubled}, exit codes {codes}")
        mean_call = statistics.mean(lengths) if lengths else 10.0
        duty = mean_call / (mean_call + GAP_S)
        flood_h = args.flood_channels * args.flood_hours * duty
        print(f" (c) flood morning: {args.flood_channels} channels x {args.flood_hours:g} h, calls of "
              f"{mean_call:.1f} s with {GAP_S:g} s gaps (duty {duty:.0%}): {flood_h:.2f} h of audio")
        arrival = flood_h / args.flood_hours  # audio hours per hour while the flood lasts
        for k, rate in results:  # a backlog grows only while the channels bring more than is done
            backlog_h = max(0.0, flood_h - rate * args.flood_hours)
            after_s = (backlog_h * 3600 + mean_call) / rate  # the backlog, then the last call itself
            print(f"     {k} worker(s): {rate:.1f} audio h / h against {arrival:.2f} arriving: backlog when "
                  f"the flood ends {backlog_h:.2f} h, the last call transcribed {after_s:.0f} s after it "
                  f"ended (computed from (b), not run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
