"""A bare Vosk run for comparison, in its own process: KaldiRecognizer on given float32 .npy inputs.

    python tests/bare_vosk.py MODEL_DIR OUT.json INPUT.npy...

Each input is fed, in order, to a fresh KaldiRecognizer(model, 16000) with SetWords(True), as 16-bit
PCM in blocks of 4000 samples; every Result() and the FinalResult() are kept. Nothing from the
gateway package is imported: this is the reference the pipeline is compared with.
"""

import json
import sys

import numpy as np
import vosk

vosk.SetLogLevel(-1)
model = vosk.Model(sys.argv[1])
out = []
for path in sys.argv[3:]:
    audio = np.load(path)
    rec = vosk.KaldiRecognizer(model, 16000.0)
    rec.SetWords(True)
    results = []
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    for i in range(0, len(pcm), 4000):
        if rec.AcceptWaveform(pcm[i:i + 4000].tobytes()):
            results.append(json.loads(rec.Result()))
    results.append(json.loads(rec.FinalResult()))
    out.append({"text": " ".join(r["text"] for r in results if r.get("text")),
                "words": [w for r in results for w in r.get("result", [])]})
with open(sys.argv[2], "w") as f:
    json.dump(out, f, ensure_ascii=False)
