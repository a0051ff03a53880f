#!/usr/bin/env python
"""Talk-back latency: end of a camat's report (squelch close) to the acknowledgement's PTT key.

    python bench/bench_talkback.py [--reports 4] [--burners 2]

A simulated channel (gateway.sim: espeak-ng reports with a DTMF ANI, so each is identified at
close) is played in real time (FileSource, realtime pacing) through the real pipeline (VOX,
segmenter, recorder, SQLite store) with the transmitter's channel listener; the real transmit worker
queues each acknowledgement, renders it with espeak-ng and keys a FakePtt (audio to a SilentPlayer,
which takes the audio's time). Measured: the pipeline's on_close of each report (monotonic) to the
PTT key that answers it (monotonic), guard time (transmit.guard_s = 0.5 s) included.

Two runs, the same channel: "recogniser busy" (``--burners`` processes spinning the CPU with numpy
matrix products, standing in for Vosk/whisper decoding on both cores) and its peer "recogniser
idle". Target: <= 1.5 s busy. Prints, never asserts. See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gateway.audio.source import FileSource  # noqa: E402
from gateway.config import Config, Station  # noqa: E402
from gateway.config_transmit import TransmitConfig  # noqa: E402
from gateway.daemon import build_squelch, run_pipeline  # noqa: E402
from gateway.ptt.fake import FakePtt  # noqa: E402
from gateway.sim.channel import render  # noqa: E402
from gateway.store.db import Database, default_url  # noqa: E402
from gateway.transmit.player import SilentPlayer  # noqa: E402
from gateway.transmit.setup import build_worker  # noqa: E402

NAMES = ["Tarutung", "Sipoholon", "Siatas Barita", "Pahae Jae", "Sipahutar", "Pangaribuan"]
TARGET_S = 1.5


def _burn(stop: mp.Event) -> None:  # type: ignore[valid-type]
    import numpy as np

    a = np.random.default_rng(0).random((300, 300))
    while not stop.is_set():
        a = (a @ a) / 300.0


def run(n: int, burners: int, tmp: Path) -> list[float]:
    stations = tuple(Station(name, f"12.02.{i:02d}", (f"1{i:02d}",)) for i, name in enumerate(NAMES, 1))
    scenario = {"seed": 5, "recording_start": "2026-11-20T07:05:00+07:00", "timezone": "Asia/Jakarta",
                "lead_s": 1.5, "rate": 16000, "transmissions": [
                    {"station": NAMES[i], "ani": f"1{i + 1:02d}", "voice": "id+m3", "speed": 170,
                     "text": f"Bupati, di sini Camat {NAMES[i]}. Situasi aman. Ganti.", "then_gap_s": 14}
                    for i in range(n)]}
    audio, truth = render(scenario)
    wav = tmp / f"channel-{burners}.wav"
    sf.write(wav, audio, truth["rate"], subtype="PCM_16")
    data = tmp / f"data-{burners}"
    data.mkdir()
    cfg = dataclasses.replace(Config(), stations=stations,
                              transmit=TransmitConfig(enabled=True, ack_within_s=3600))
    db = Database(default_url(data))
    db.migrate()
    ptt = FakePtt()
    worker, channel = build_worker(cfg, db, ptt, SilentPlayer(16000))
    stop = threading.Event()
    wt = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    wt.start()
    mp_stop = mp.Event()
    procs = [mp.Process(target=_burn, args=(mp_stop,), daemon=True) for _ in range(burners)]
    for p in procs:
        p.start()
    try:
        # the file's clock starts now, so "recent" reports are acknowledged
        source = FileSource(wav, time.time(), block_ms=20, realtime=True)
        run_pipeline(cfg, data, source, build_squelch(cfg), db, threading.Event(), listeners=(channel,))
        time.sleep(4.0)
        with db.read() as s:
            from sqlalchemy import select

            from gateway.store.models import Transmission

            got = [(r.station, r.identity_source) for r in s.scalars(select(Transmission))]
        print(f"  [{'busy' if burners else 'idle'}] stored: {got}", file=sys.stderr)
    finally:
        mp_stop.set()
        stop.set()
        wt.join(10)
        for p in procs:
            p.join(5)
        db.close()
    closes = list(channel.closed_at)
    keys = [t for t, k in ptt.changes if k]
    # each acknowledgement answers the last close before its key (its own echo closes after unkey)
    return [k - max(c for c in closes if c < k) for k in keys if any(c < k for c in closes)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--reports", type=int, default=4)
    ap.add_argument("--burners", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        rows = [("recogniser busy", run(args.reports, args.burners, Path(d))),
                ("recogniser idle (peer)", run(args.reports, 0, Path(d)))]
    print(f"squelch close -> acknowledgement PTT key, {args.reports} reports, target <= {TARGET_S} s")
    print(f"{'condition':<24} {'n':>3} {'median s':>9} {'max s':>7}  verdict")
    for name, lat in rows:
        if not lat:
            print(f"{name:<24} {0:>3} {'-':>9} {'-':>7}  no acknowledgement keyed")
            continue
        verdict = "meets target" if max(lat) <= TARGET_S else "MISSES target"
        print(f"{name:<24} {len(lat):>3} {statistics.median(lat):>9.2f} {max(lat):>7.2f}  {verdict}")


if __name__ == "__main__":
    main()
