#!/usr/bin/env python3
"""Where whisper-base loses the words of the generated mornings: the synthetic voice or the radio.

Each camat call of the given mornings is decoded three times by the product's recogniser (the
shipped ``[asr]`` config and prompt), and each transcript's word error rate is measured against the
generator's own text:

* **clean**: espeak-ng's speech as the generator made it (same voice, speed, pitch, SSML pauses),
  at 16 kHz, with 0.5 s of near-silence either side (whisper drops the first words of audio that
  starts with speech);
* **band**: the same, through the radio model's 300-3000 Hz band-pass only;
* **channel**: the call cut from the rendered morning (band-pass, carrier hiss, hum, level, the
  ANI tones beside it), 0.3 s either side of the speech, as the accuracy bench feeds it.

If clean and channel are close, the gap between the accuracy bench's figures and its "exact words"
column is the recogniser on espeak-ng's Indonesian, not the channel the gateway hears.

    python bench/bench_channel_loss.py                 # tuning mornings 101 and 102 (~10 min on 2 cores)
    python bench/bench_channel_loss.py --seeds 101 105 106

Needs espeak-ng and whisper-base in ``asr_models/``; mornings are rendered (or taken from the
accuracy bench's cache, ``~/.cache/ht-gateway/bench-accuracy/mornings``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_accuracy import CACHE, base_config, rendered
from bench_stored_asr import wer, words

from gateway.asr.whisper_engine import build_prompt
from gateway.sim import morning as sim_morning
from gateway.sim import radio
from gateway.sim.speech import resample, speak

RATE = 16000
PAD_S = 0.5
CUT_MARGIN_S = 0.3
CONDITIONS = ("clean", "band", "channel")


def clean_audio(item: dict[str, Any]) -> np.ndarray:
    voice = speak(item["text"], voice=item.get("voice", "id"), speed=item.get("speed", 150),
                  pitch=item.get("pitch", 50), rate=RATE, ssml=item.get("ssml", False))
    voice = voice / max(1e-6, float(np.abs(voice).max())) * 0.5
    pad = np.zeros(int(PAD_S * RATE), np.float32)
    out = np.concatenate([pad, voice, pad])
    return (out + np.random.default_rng(0).normal(0.0, 1e-4, len(out))).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[101, 102], help="mornings (default 101 102)")
    ap.add_argument("--cache", type=Path, default=CACHE, help=f"rendered mornings (default {CACHE})")
    ap.add_argument("--show", action="store_true", help="print each call's three transcripts")
    args = ap.parse_args(argv)
    from gateway.daemon import build_recognizer

    cfg = base_config()
    rec = build_recognizer(cfg)
    if rec is None or not hasattr(rec, "transcribe"):
        print("bench_channel_loss: error: needs whisper-base (see asr_models/README.md)")
        return 1
    prompt = build_prompt(tuple(st.name for st in cfg.stations))
    rates: dict[str, list[float]] = {c: [] for c in CONDITIONS}
    print(f"{'call':<28} {'words':>5} " + " ".join(f"{c:>8}" for c in CONDITIONS))
    for seed in args.seeds:
        flac, truth = rendered(seed, args.cache)
        audio, rate = soundfile.read(flac, dtype="float32", always_2d=False)
        scenario = sim_morning.morning(seed)["transmissions"]
        for n, (item, told) in enumerate(zip(scenario, truth["transmissions"], strict=True)):
            if told.get("speaker") != "camat":
                continue
            said = sim_morning.spoken_text(item)
            clean = clean_audio(item)
            cut = audio[max(0, int((told["speech_start_s"] - CUT_MARGIN_S) * rate)):
                        int((told["speech_end_s"] + CUT_MARGIN_S) * rate)]
            fed = {"clean": clean, "band": radio.bandpass(clean, RATE).astype(np.float32),
                   "channel": resample(cut, rate, RATE)}
            heard = {c: rec.transcribe(fed[c], prompt).text for c in CONDITIONS}
            row = {c: wer([said], [heard[c]]) for c in CONDITIONS}
            for c in CONDITIONS:
                rates[c].append(row[c])
            print(f"{seed}/{n:02d} {told['station']:<21} {len(words(said)):>5} "
                  + " ".join(f"{row[c]:>8.2f}" for c in CONDITIONS), flush=True)
            if args.show:
                print(f"    said:    {said}")
                for c in CONDITIONS:
                    print(f"    {c + ':':<8} {heard[c]}")
    for label, stat in (("mean word error rate", statistics.fmean), ("median", statistics.median)):
        print(f"{label:<34} " + " ".join(f"{stat(rates[c]):>8.3f}" for c in CONDITIONS))
    print(f"calls: {len(rates['clean'])}; model {getattr(rec, 'model_id', '?')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
