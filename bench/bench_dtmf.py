#!/usr/bin/env python
"""gateway.identification.dtmf next to multimon-ng on the same signals. Prints, never asserts.

    python bench/bench_dtmf.py [--trials 12] [--talk-s 55] [--no-multimon]

For each condition of the receiver matrix (tone length, twist, frequency error, S/N) it sends
``--trials`` random 3-5 digit codes (each in its own file, through the radio band-pass with
carrier hiss, as in tests/test_dtmf.py) and counts, per decoder, the codes decoded exactly and
the false digits (digits printed that are not part of the code). Then both decoders get the
talk-off corpus (espeak-ng Indonesian reports, 12 voices, ``--talk-s`` seconds each): every
digit there is false. Last, the speed of each as a multiple of real time.
multimon-ng reads 16-bit WAV at 22050 Hz through sox (Debian: multimon-ng sox).
See bench/README.md for how to read the table.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from test_dtmf import KEYS, RATE, dtmf_signal, stream, talk_corpus  # noqa: E402

from gateway.identification.dtmf import DtmfDecoder  # noqa: E402
from gateway.sim.speech import resample  # noqa: E402

MULTIMON_RATE = 22050

#: (group, label, keyword arguments of tests/test_dtmf.dtmf_signal). Tones 80 ms / gaps 60 ms
#: (the channel simulator's ANI timing) unless the row changes them.
CONDITIONS: list[tuple[str, str, dict]] = [
    *[("tone length (40 ms gaps)", f"{ms} ms", {"tone_ms": ms, "gap_ms": 40})
      for ms in (20, 25, 30, 35, 40, 50, 70, 100)],
    *[("twist (high - low)", f"{tw:+.0f} dB", {"twist_db": tw})
      for tw in (-12, -10, -8, -4, 0, 4, 8, 10, 12)],
    *[("frequency error", f"{100 * e:+.1f} %", {"freq_error": e})
      for e in (-0.035, -0.025, -0.015, -0.011, -0.01, -0.005, 0.0, 0.005, 0.01, 0.011, 0.015, 0.025, 0.035)],
    *[("S/N (band-limited white noise)", f"{snr} dB", {"snr_db": snr})
      for snr in (30, 20, 15, 12, 10, 6)],
    *[("S/N, 40 ms tones and gaps", f"{snr} dB", {"snr_db": snr, "tone_ms": 40, "gap_ms": 40})
      for snr in (20, 15, 12)],
]


def multimon(path: Path) -> str:
    done = subprocess.run(["multimon-ng", "-q", "-c", "-a", "DTMF", "-t", "wav", str(path)],
                          capture_output=True, text=True, timeout=120, check=True)
    return "".join(line.split(":", 1)[1].strip() for line in done.stdout.splitlines()
                   if line.startswith("DTMF:"))


def write_wav(audio: np.ndarray, path: Path) -> Path:
    sf.write(path, np.clip(resample(audio, RATE, MULTIMON_RATE), -1, 1), MULTIMON_RATE, subtype="PCM_16")
    return path


def ours(audio: np.ndarray) -> str:
    return "".join(s.digits for s in stream(audio))


def score(code: str, heard: str) -> tuple[int, int]:
    """(1 if decoded exactly else 0, false digits: those printed beyond the ones matching the code)."""
    blocks = difflib.SequenceMatcher(None, code, heard, autojunk=False).get_matching_blocks()
    matched = sum(b.size for b in blocks)
    return int(heard == code), len(heard) - matched


def run_matrix(trials: int, use_multimon: bool, tmp: Path, pool: ThreadPoolExecutor) -> None:
    print(f"(a) receiver matrix: {trials} random 3-5 digit codes per row, one file each")
    print(f"  {'condition':<40} {'gateway.identification.dtmf':>20} {'multimon-ng':>20}")
    print(f"  {'':<40} {'exact   false dig.':>20} {'exact   false dig.':>20}")
    group = None
    for number, (name, label, kw) in enumerate(CONDITIONS):
        if name != group:
            print(f"  {name}")
            group = name
        rng = np.random.default_rng(1000 + number)
        codes = ["".join(rng.choice(list(KEYS), int(rng.integers(3, 6)))) for _ in range(trials)]
        signals = [dtmf_signal(code, seed=number * 100 + i, **kw) for i, code in enumerate(codes)]
        mine = [score(c, ours(a)) for c, a in zip(codes, signals, strict=True)]
        cells = [_cell(mine, trials)]
        if use_multimon:
            wavs = [write_wav(a, tmp / f"c{number}_{i}.wav") for i, a in enumerate(signals)]
            heard = list(pool.map(multimon, wavs))
            cells.append(_cell([score(c, h) for c, h in zip(codes, heard, strict=True)], trials))
        else:
            cells.append(f"{'-':>20}")
        print(f"    {label:<38} {cells[0]} {cells[1]}")


def _cell(scores: list[tuple[int, int]], trials: int) -> str:
    exact = sum(s[0] for s in scores)
    false = sum(s[1] for s in scores)
    return f"{f'{exact}/{trials}':>9} {false:>10}"


def _timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run_talk_off(talk_s: float, use_multimon: bool, tmp: Path, pool: ThreadPoolExecutor) -> None:
    t = time.perf_counter()
    corpus = talk_corpus(talk_s)
    total = sum(len(a) for _, a in corpus) / RATE
    print(f"(b) talk-off: false digits in {total / 60:.1f} min of espeak-ng speech, 12 voices "
          f"(made in {time.perf_counter() - t:.1f} s)")
    wavs = [write_wav(a, tmp / f"talk{i}.wav") for i, (_, a) in enumerate(corpus)] if use_multimon else []
    heard = list(pool.map(multimon, wavs)) if use_multimon else ["-"] * len(corpus)
    mine_total = mm_total = 0
    for (name, audio), mm in zip(corpus, heard, strict=True):
        mine = ours(audio)
        mine_total += len(mine)
        mm_total += len(mm) if use_multimon else 0
        detail = f"  ours {mine!r}, multimon-ng {mm!r}" if mine or (use_multimon and mm) else ""
        print(f"    {name:<38} {len(mine):>20} {(len(mm) if use_multimon else '-'):>20}{detail}")
    print(f"    {'total':<38} {mine_total:>20} {(mm_total if use_multimon else '-'):>20}")

    print("(c) speed on the talk-off corpus, x real time (best of 3)")
    whole = np.concatenate([a for _, a in corpus])

    def frames() -> None:
        dec = DtmfDecoder(RATE)
        for i in range(0, len(whole), RATE // 50):
            dec.feed(whole[i:i + RATE // 50], i / RATE)
        dec.finish()

    def one_shot() -> None:
        dec = DtmfDecoder(RATE)
        dec.feed(whole, 0.0)
        dec.finish()

    runs: list[tuple[str, Callable[[], object]]] = [
        ("gateway.identification.dtmf, 20 ms frames (as in the pipeline)", frames),
        ("gateway.identification.dtmf, one call", one_shot)]
    if use_multimon:
        wav = write_wav(whole, tmp / "talk_all.wav")
        runs.append(("multimon-ng -a DTMF (22050 Hz WAV via sox, 1 process)", lambda: multimon(wav)))
    for label, fn in runs:
        print(f"  {label:<52} {total / min(_timed(fn) for _ in range(3)):8.0f} x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=12, help="codes per condition (default 12)")
    ap.add_argument("--talk-s", type=float, default=55.0, help="seconds of speech per voice (default 55)")
    ap.add_argument("--no-multimon", action="store_true", help="only gateway.identification.dtmf")
    args = ap.parse_args()
    use_multimon = not args.no_multimon
    if use_multimon and (shutil.which("multimon-ng") is None or shutil.which("sox") is None):
        print("multimon-ng or sox not found (Debian: apt-get install multimon-ng sox): "
              "only gateway.identification.dtmf")
        use_multimon = False
    if shutil.which("espeak-ng") is None:
        print("espeak-ng not found: the talk-off part is skipped")
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_dtmf_") as d, ThreadPoolExecutor(2) as pool:
        run_matrix(args.trials, use_multimon, Path(d), pool)
        if shutil.which("espeak-ng") is not None:
            run_talk_off(args.talk_s, use_multimon, Path(d), pool)
    print(f"({time.perf_counter() - t:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
