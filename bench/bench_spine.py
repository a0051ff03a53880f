#!/usr/bin/env python
"""Figures for the spine (capture → VOX → segmenter → Opus recorder → store). Prints, never asserts.

    python bench/bench_spine.py [--idle-s 20] [--file AUDIO] [--config TOML] [--no-live]

(a) idle CPU of live capture + VOX on a silent input, next to a bare PyAudio stream on the same
    device (PortAudio "pulse" on a private PulseAudio null sink, started here via tests/pulse.py);
(b) speed of ``process`` as a multiple of real time (CLI in a subprocess, and in-process), next to
    ``sox FILE -n stat`` and a plain soundfile decode of the same file;
(c) stored bytes per hour of recorded audio (sum audio_bytes / sum audio_duration_s), in MB/h
    (10^6 bytes) against the 4 MB/h target.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from sqlalchemy import func, select  # noqa: E402

from gateway.config import Config, load  # noqa: E402
from gateway.daemon import build_squelch, process_file, run_pipeline  # noqa: E402
from gateway.store.db import Database, default_url  # noqa: E402
from gateway.store.models import Transmission  # noqa: E402

import pulse  # noqa: E402  (tests/pulse.py: the private PulseAudio null sink)

SAMPLE = Path("/work/shared/samples/sample_morning.flac")
TARGET_MB_PER_H = 3.0
START = datetime(2026, 11, 20, 0, 5, tzinfo=UTC)


def _cpu() -> tuple[float, float, float]:
    """(process CPU seconds, user, system) for every thread of this process."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return time.process_time(), ru.ru_utime, ru.ru_stime


def _measure(seconds: float) -> tuple[float, float, float]:
    """CPU % of one core over ``seconds`` of wall time: (total, user, system)."""
    c0, u0, s0 = _cpu()
    w0 = time.monotonic()
    time.sleep(seconds)
    c1, u1, s1 = _cpu()
    wall = time.monotonic() - w0
    return 100 * (c1 - c0) / wall, 100 * (u1 - u0) / wall, 100 * (s1 - s0) / wall


def _row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<44} {value:>14}  {note}")


# --- (a) idle CPU -------------------------------------------------------------------------------

def idle_cpu(cfg: Config, seconds: float) -> None:
    print(f"(a) idle CPU, silent input, {seconds:.0f} s each (% of one core; user/sys)")
    missing = pulse.missing_tools()
    if missing:
        print(f"  skipped: {', '.join(missing)} not found (Debian: {pulse.DEBIAN_PACKAGES})")
        return
    from gateway.audio.pyaudio_source import PyAudioSource

    try:
        with pulse.null_sink("ht_bench"):
            src = PyAudioSource("pulse", cfg.audio.rate, cfg.audio.channel, cfg.audio.block_ms,
                                cfg.audio.buffer_s)
            rate, block = src.rate, src.block
            pipe = _pipeline_cpu(cfg, src, seconds)
            bare = _bare_stream_cpu(rate, block, seconds)
    except pulse.PulseUnavailable as e:
        print(f"  skipped: {e}")
        return
    _row("PyAudioSource + VOX + segmenter (pipeline)", f"{pipe[0]:.2f} %",
         f"user {pipe[1]:.2f} / sys {pipe[2]:.2f}; {rate} Hz, {block}-sample blocks")
    _row("peer: bare pyaudio stream, no-op callback", f"{bare[0]:.2f} %",
         f"user {bare[1]:.2f} / sys {bare[2]:.2f}")
    _row("pipeline minus peer", f"{pipe[0] - bare[0]:.2f} %")


def _pipeline_cpu(cfg: Config, src, seconds: float) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory(prefix="ht-bench-") as tmp:
        data = Path(tmp)
        db = Database(default_url(data))
        db.migrate()
        stop, capturing = threading.Event(), threading.Event()
        t = threading.Thread(target=run_pipeline, args=(cfg, data, src, build_squelch(cfg), db, stop),
                             kwargs={"heartbeat": capturing.set}, daemon=True)
        t.start()
        try:
            if not capturing.wait(15):
                raise pulse.PulseUnavailable("no audio from the pulse device within 15 s")
            time.sleep(0.5)  # let the start-up settle
            return _measure(seconds)
        finally:
            stop.set()
            t.join(5)
            db.close()


def _bare_stream_cpu(rate: int, block: int, seconds: float) -> tuple[float, float, float]:
    import pyaudio

    from gateway.audio.pyaudio_source import _quiet_stderr, find_input, list_inputs

    dev = find_input(list_inputs(), "pulse")
    first = threading.Event()

    def callback(in_data, frame_count, time_info, status):
        first.set()
        return (None, pyaudio.paContinue)

    with _quiet_stderr():
        pa = pyaudio.PyAudio()
        stream = pa.open(format=pyaudio.paInt16, channels=1, rate=rate, input=True,
                         input_device_index=dev.index, frames_per_buffer=block, stream_callback=callback)
    try:
        first.wait(15)
        time.sleep(0.5)
        return _measure(seconds)
    finally:
        stream.stop_stream()
        stream.close()
        pa.terminate()


# --- (b) process speed and (c) bytes per hour ---------------------------------------------------

def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _channel(tmp: Path, given: Path | None) -> tuple[Path, str]:
    if given is not None:
        return given, "given"
    if SAMPLE.is_file():
        return SAMPLE, "shared sample"
    path = tmp / "generated.flac"
    if shutil.which("espeak-ng"):
        from gateway.sim.channel import write_channel

        scenario = {"seed": 3, "recording_start": START.isoformat(), "timezone": "Asia/Jakarta",
                    "transmissions": [{"text": "Bupati, di sini Camat Tarutung. Situasi aman kondusif. "
                                               "Harga beras sebelas ribu rupiah. Ganti.", "then_gap_s": 6},
                                      {"kind": "kerchunk", "ms": 300, "then_gap_s": 5},
                                      {"text": "Lapor, banjir di Desa Sitampurung. Ganti.", "then_gap_s": 7}]}
        write_channel(scenario, path)
        return path, "generated with gateway.sim"
    rate, rng = 48000, np.random.default_rng(3)
    x = rng.normal(0, 10 ** (-72 / 20), 60 * rate)
    for at, dur in ((2, 9), (18, 0.4), (24, 8), (40, 7)):
        n0, n = int(at * rate), int(dur * rate)
        tone = 0.1 * np.sin(2 * np.pi * 700 * np.arange(n) / rate) * (1 + 0.5 * np.sin(np.arange(n) / 900))
        x[n0:n0 + n] += tone + rng.normal(0, 0.003, n)
        x[n0 + n:n0 + n + int(0.14 * rate)] += rng.normal(0, 0.3, int(0.14 * rate))  # squelch tail
    sf.write(path, np.clip(x, -0.9, 0.9).astype(np.float32), rate)
    return path, "generated tone bursts"


def process_speed(cfg: Config, config_path: str | None, given: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="ht-bench-") as tmp_s:
        tmp = Path(tmp_s)
        path, origin = _channel(tmp, given)
        info = sf.info(str(path))
        audio_s = info.duration
        print(f"(b) process speed on {path} ({origin}; {audio_s:.1f} s, {info.samplerate} Hz, "
              f"{info.channels} ch) as a multiple of real time")
        exe = [sys.executable, "-m", "gateway"]  # this interpreter and this tree, not another install
        cmd = [*exe, *(["--config", config_path] if config_path else []), "--data-dir", str(tmp / "cli"),
               "process", str(path), "--start", START.isoformat(), "--no-progress"]
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            _row("ht-gateway process (subprocess)", "failed", (r.stderr.strip().splitlines()[-1:] and
                 r.stderr.strip().splitlines()[-1]) or f"exit {r.returncode}")
        else:
            _row("ht-gateway process (subprocess, fresh DB)", f"{audio_s / wall:.1f} x",
                 f"{wall:.2f} s wall, incl. interpreter start-up and migrations")
        best = min(_timed(lambda i=i: process_file(cfg, tmp / f"inproc{i}", path, START)) for i in range(3))
        _row("process_file in-process (best of 3, fresh DB)", f"{audio_s / best:.1f} x", f"{best:.2f} s wall")
        db = Database(default_url(tmp / "inproc0"))
        from gateway.audio.source import FileSource

        def pipeline_only() -> None:
            src = FileSource(path, START.timestamp(), cfg.audio.channel, cfg.audio.block_ms)
            run_pipeline(cfg, tmp / "inproc0", src, build_squelch(cfg), db)

        best_p = min(_timed(pipeline_only) for _ in range(3))
        _row("pipeline only (best of 3, DB open)", f"{audio_s / best_p:.1f} x", f"{best_p:.2f} s wall")
        db.close()
        if shutil.which("sox"):
            w = min(_timed(lambda: subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True))
                    for _ in range(3))
            _row("peer: sox FILE -n stat (best of 3)", f"{audio_s / w:.1f} x", f"{w:.2f} s wall")
        else:
            _row("peer: sox FILE -n stat", "n/a", "sox not installed")
        w = min(_timed(lambda: sf.read(str(path), dtype="float32")) for _ in range(3))
        _row("peer: soundfile decode (best of 3)", f"{audio_s / w:.1f} x", f"{w:.3f} s wall")
        bytes_per_hour(cfg, tmp / "inproc1")


def bytes_per_hour(cfg: Config, data_dir: Path) -> None:
    db = Database(default_url(data_dir))
    try:
        with db.read() as s:
            n, size, dur = s.execute(select(func.count(Transmission.id), func.sum(Transmission.audio_bytes),
                                            func.sum(Transmission.audio_duration_s))
                                     .where(Transmission.status == "complete")).one()
    finally:
        db.close()
    print(f"(c) stored bytes per hour of recorded audio (Ogg Opus, recorder.bitrate_kbps = "
          f"{cfg.recorder.bitrate_kbps:g}, {cfg.recorder.sample_rate} Hz)")
    if not n or not dur:
        _row("recordings", "none", "nothing was cut from the file")
        return
    mb_h = size / dur * 3600 / 1e6
    _row(f"{n} recordings, {dur:.1f} s, {size} bytes", f"{mb_h:.2f} MB/h",
         f"target {TARGET_MB_PER_H:g} MB/h: {'within' if mb_h <= TARGET_MB_PER_H else 'OVER'}; "
         f"{size * 8 / dur / 1000:.1f} kbit/s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idle-s", type=float, default=20.0, help="seconds of each idle-CPU window")
    ap.add_argument("--file", type=Path, help="channel recording for (b)/(c) (default: the shared sample)")
    ap.add_argument("--config", help="TOML configuration (default: built-in defaults)")
    ap.add_argument("--no-live", action="store_true", help="skip (a), which needs PulseAudio")
    args = ap.parse_args()
    cfg = load(args.config) if args.config else Config()
    print(f"bench_spine: Python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S')}")
    if not args.no_live:
        idle_cpu(cfg, args.idle_s)
    process_speed(cfg, args.config, args.file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
