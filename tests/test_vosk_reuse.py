"""A reused KaldiRecognizer decodes each transmission exactly as a new one would.

``VoskRecognizer`` keeps its recogniser between transmissions (a new one spends a second rebuilding
the lazily composed graph; gateway/asr/vosk_engine.py). Over inputs that end in every state Vosk
can be in (right after an endpoint, mid-utterance, with several utterances, empty) the gateway's
streams must give what tests/bare_vosk.py gives with a new recogniser per input: same text, word
times, confidences. Each side runs in its own new process over the same inputs in the same order
(Kaldi's dither draws from a process-wide random generator).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import REPO, need

GATEWAY_SIDE = """
import json, sys
import numpy as np
from gateway.asr.vosk_engine import VoskRecognizer
rec = VoskRecognizer(sys.argv[1])
out = []
for path in sys.argv[3:]:
    audio = np.load(path)
    stream = rec.start()
    for i in range(0, len(audio), 333):  # odd block sizes, as capture delivers them
        stream.accept(audio[i:i + 333])
    t = stream.finish()
    out.append({"text": t.text, "words": [[w.word, w.start, w.end, w.conf] for w in t.words],
                "endpoint": stream.ended_at_endpoint, "decoders": rec.decoders_made})
json.dump(out, open(sys.argv[2], "w"), ensure_ascii=False)
"""


FIRST_ENDPOINT = """
import sys
import numpy as np, vosk
vosk.SetLogLevel(-1)
rec = vosk.KaldiRecognizer(vosk.Model(sys.argv[1]), 16000.0)
pcm = (np.clip(np.load(sys.argv[2]), -1.0, 1.0) * 32767.0).astype("<i2")
for i in range(0, len(pcm), 4000):
    if rec.AcceptWaveform(pcm[i:i + 4000].tobytes()):
        print(min(i + 4000, len(pcm)))
        break
"""


def _speech(text: str, tmp: Path, name: str, speed: int = 150) -> np.ndarray:
    wav = tmp / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", str(speed), "-w", str(wav), text], check=True)
    audio, rate = sf.read(wav, dtype="float32")
    from gateway.audio.dsp import Resampler

    return Resampler(rate, 16000).process(audio, last=True)


def test_reused_recognizer_equals_a_new_one_per_transmission(vosk_ko_path: Path, tmp_path: Path) -> None:
    if shutil.which("espeak-ng") is None:
        need("espeak-ng", "not installed")
    quiet = np.zeros(16000 * 2, np.float32)
    a = _speech("안녕하세요. 오늘 날씨가 좋습니다.", tmp_path, "a")
    b = _speech("여기는 서울입니다. 비가 많이 옵니다. 감사합니다.", tmp_path, "b", 170)
    # where Vosk, in a new process, first says "endpoint" on speech and a long silence: cut there, the
    # input ends in that state (the other inputs follow it, so the history up to there is the same)
    first = np.concatenate([quiet[:4000], a, quiet, quiet])
    np.save(probe_in := tmp_path / "probe.npy", first)
    probe = subprocess.run([sys.executable, "-c", FIRST_ENDPOINT, str(vosk_ko_path), str(probe_in)],
                           check=True, timeout=600, capture_output=True, text=True).stdout.strip()
    assert probe, "Vosk found an endpoint in 4 s of silence"
    inputs = [
        first[:int(probe)],  # ends in an endpoint
        b[: len(b) * 2 // 3],  # cut mid-utterance
        np.concatenate([a, quiet, b, quiet[:8000]]),  # two utterances with a pause between
        np.zeros(0, np.float32),  # nothing at all
        quiet[:3000],  # a kerchunk's worth of silence
        np.concatenate([b, quiet]),
    ]
    paths = []
    for i, x in enumerate(inputs):
        paths.append(tmp_path / f"in{i}.npy")
        np.save(paths[-1], x.astype(np.float32))
    ours, bare = tmp_path / "ours.json", tmp_path / "bare.json"
    subprocess.run([sys.executable, "-c", GATEWAY_SIDE, str(vosk_ko_path), str(ours), *map(str, paths)],
                   check=True, timeout=600, cwd=REPO)
    subprocess.run([sys.executable, str(REPO / "tests" / "bare_vosk.py"), str(vosk_ko_path), str(bare),
                    *map(str, paths)], check=True, timeout=600)
    got, want = json.loads(ours.read_text()), json.loads(bare.read_text())
    assert [g["decoders"] for g in got] == [1] * len(inputs), "one recogniser, reused every time"
    assert {g["endpoint"] for g in got} == {True, False}, "both ways a transmission can end"
    assert sum(bool(w["text"]) for w in want) >= 3, "the reference heard words"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g["text"] == w["text"], i
        assert [x[:3] for x in g["words"]] == \
            [[x["word"], round(x["start"], 3), round(x["end"], 3)] for x in w["words"]], i
        assert [x[3] for x in g["words"]] == pytest.approx([x["conf"] for x in w["words"]], abs=1e-4), i
