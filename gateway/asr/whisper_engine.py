"""faster-whisper engine: a :class:`~gateway.asr.base.Recognizer` over a local CTranslate2 Whisper model.

Whisper cannot stream, so a stream buffers the audio it is fed. With ``asr.whisper.window_s`` = 0
(the default) it decodes the whole call once in ``finish``. Otherwise it decodes windows while the
call is still live: once ``window_s`` of audio is waiting, it is cut at the next pause (a
``PAUSE_S`` run of quiet frames; never in the middle of speech: without a pause it waits), and that
window is decoded in ``accept`` (on the transcription worker, never the pipeline thread), prompted
with the text decoded before it (Whisper's own condition-on-previous-text, across windows);
``finish`` decodes only the rest. The transcript is the windows' words in order, times shifted to
the stream's start; ``extra["windows"]`` lists each window's span and result, so one window that
comes back empty does not hide the others (the retry decision is the transcription stage's).
Everything is offline: the model is a local directory (``model.bin``, ``config.json``,
``tokenizer.json``, ``vocabulary.txt``, as :mod:`gateway.asr.whisper_install` lays it out) and
faster-whisper is told never to look anything up (``local_files_only=True``); the Silero VAD it
uses ships inside the faster-whisper wheel.

Radio noise makes Whisper invent text ("Terima kasih."), so segments that look like noise are
dropped: no-speech probability over the configured threshold, a low average log-probability
together with a fair no-speech probability, or a repetitive (highly compressible) text.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from gateway.asr.base import RecognizerError, Transcript, Word
from gateway.asr.priority import run_lowered
from gateway.config import WhisperConfig

log = logging.getLogger(__name__)

#: Files a model directory must hold (``vocabulary.txt`` is what the CTranslate2 model decodes with).
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
#: Files that make a directory look like a faster-whisper model, for discovery.
MARKER_FILES = ("model.bin", "config.json", "tokenizer.json")
#: Cache of model.bin's SHA-256 next to it: ``<hex> <size> <mtime_ns>``.
SHA_CACHE = ".sha256"

RATE = 16000
MIN_AUDIO_S = 0.3
#: Hallucination guards on top of the no-speech threshold.
LOW_LOGPROB = -1.0
LOW_LOGPROB_NO_SPEECH = 0.3
MAX_COMPRESSION_RATIO = 2.4
#: Text Whisper is known to invent on noise (subtitle credits, video outros): such segments are dropped.
HALLUCINATION = re.compile(
    r"terima kasih (telah|sudah|atas|untuk) (menonton|menyaksikan)|jangan lupa (like|subscribe)"
    r"|\bsubscribe\b|sampai jumpa (di|pada) video|subtitle|teks oleh|amara\.org", re.IGNORECASE)
#: Decoding windows while the call is live (``asr.whisper.window_s``: a window is cut at the first
#: pause after that much audio).
PAUSE_S = 0.3        # quiet frames in a row that make a pause
PAUSE_ABOVE_FLOOR_DB = 6.0  # quiet: within this of the window's 10th-percentile frame level
PAUSE_BELOW_SPEECH_DB = 15.0  # ... and this far below its 90th percentile (steady sound is no pause)
FRAME = 320          # 20 ms level frames
CARRY_CHARS = 200    # the end of the text decoded so far, appended to the next window's prompt

#: Rescoring hypotheses reads the first window of a call (where the caller names himself).
RESCORE_S = 30
RESCORE_FRAMES = 3000  # mel frames of one 30 s window

#: Whisper's prompt holds at most 223 tokens; keep well under it.
MAX_PROMPT_CHARS = 400

INSTALL_HINT = "pip install '.[whisper]'"


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def write_sha_cache(model_dir: Path, digest: str) -> None:
    """Record model.bin's digest with its size and mtime, so a replaced file is noticed."""
    st = (model_dir / "model.bin").stat()
    (model_dir / SHA_CACHE).write_text(f"{digest} {st.st_size} {st.st_mtime_ns}\n", encoding="ascii")


def _read_sha_cache(model_dir: Path) -> str | None:
    try:
        digest, size, mtime_ns = (model_dir / SHA_CACHE).read_text(encoding="ascii").split()
        st = (model_dir / "model.bin").stat()
    except (OSError, ValueError):
        return None
    if int(size) != st.st_size or int(mtime_ns) != st.st_mtime_ns or len(digest) != 64:
        return None
    return digest


def model_sha256(model_dir: Path) -> str:
    """SHA-256 of ``model_dir/model.bin``, from the cache file when it is still current."""
    digest = _read_sha_cache(model_dir)
    if digest is None:
        log.info("hashing %s (once; cached in %s)", model_dir / "model.bin", SHA_CACHE)
        digest = file_sha256(model_dir / "model.bin")
        try:
            write_sha_cache(model_dir, digest)
        except OSError as e:  # a read-only model directory: hash again next start
            log.warning("cannot cache the model hash in %s: %s", model_dir, e)
    return digest


def find_whisper_models(models_dir: Path) -> list[Path]:
    """Directories directly under ``models_dir`` that hold a faster-whisper model, sorted by name."""
    if not models_dir.is_dir():
        return []
    return sorted(p for p in models_dir.iterdir()
                  if p.is_dir() and not p.name.startswith(".")
                  and all((p / f).is_file() for f in MARKER_FILES))


#: The words of a situation report, after the names: biases Whisper towards "banjir", "rumah
#: terendam", "harga beras" where base otherwise hears "Panggit", "Tujuhumat" (sample channel).
REPORT_SENTENCES = (" Situasi aman kondusif. Banjir, tanah longsor, pohon tumbang, rumah terendam,"
                    " warga dievakuasi. Harga beras per kilogram. Ganti.")
#: The report phrases of :data:`REPORT_SENTENCES`, in its order: a transcript that lists two or more
#: of them back to back is Whisper writing its prompt out (gateway/transcripts.py decodes it again
#: with ``plain``: a prompt without them).
REPORT_PHRASES = ("situasi aman kondusif", "banjir", "tanah longsor", "pohon tumbang", "rumah terendam",
                  "warga dievakuasi", "harga beras per kilogram")


def build_prompt(prompt_words: tuple[str, ...], report: bool = True) -> str:
    """A short Indonesian prompt that names the stations, then (``report``) the words of a report,
    biasing Whisper towards their spelling.

    A sentence, not a bare list: after "Laporan camat: A, B, C." Whisper tends to go on listing
    the names instead of transcribing (seen on the sample recording).
    """
    names: dict[str, str] = {}
    for w in prompt_words:
        w = " ".join(w.split())
        if w:
            names.setdefault(w.casefold(), w)
    kept: list[str] = []
    for name in names.values():
        if sum(len(k) + 2 for k in kept) + len(name) > MAX_PROMPT_CHARS:
            break
        kept.append(name)
    tail = REPORT_SENTENCES if report else ""
    if not kept:
        return "Laporan camat kepada bupati." + tail
    listed = kept[0] if len(kept) == 1 else ", ".join(kept[:-1]) + " dan " + kept[-1]
    return f"Laporan camat kepada bupati dari kecamatan {listed}." + tail


class WhisperRecognizer:
    """One loaded faster-whisper model; :meth:`start` gives a stream per transmission."""

    engine = "whisper"
    rate = RATE
    report_phrases = REPORT_PHRASES  # what its prompt says of a report (see :meth:`start`)
    report_sentences = REPORT_SENTENCES

    def __init__(self, model_dir: Path, cfg: WhisperConfig, language: str = "id", nice: int = 0) -> None:
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise RecognizerError(f"whisper model {model_dir}: not a directory")
        for name in REQUIRED_FILES:
            if not (model_dir / name).is_file():
                raise RecognizerError(f"whisper model {model_dir}: {name} is missing")
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise RecognizerError(f"faster-whisper is not installed: {INSTALL_HINT}") from None
        self.model_dir = model_dir
        self.cfg = cfg
        self.language = language
        self.model_id = f"{model_dir.name}@{model_sha256(model_dir)[:12]}"
        try:
            # built in a lowered thread: CTranslate2's worker threads inherit its priority (priority.py)
            self.model = run_lowered(nice, lambda: WhisperModel(
                str(model_dir), device="cpu", compute_type=cfg.compute_type, cpu_threads=cfg.cpu_threads,
                local_files_only=True))
        except Exception as e:  # CTranslate2 raises RuntimeError or ValueError on a bad model
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise RecognizerError(f"whisper model {model_dir}: cannot load: {first}") from e
        self._lock = threading.Lock()  # one decode at a time: the cpu_threads are the budget
        log.info("loaded %s (%s, %d thread(s), language %s)", self.model_id, cfg.compute_type,
                 cfg.cpu_threads, language)

    def start(self, prompt_words: tuple[str, ...] = (), *, unfiltered: bool = False,
              plain: bool = False) -> WhisperStream:
        """``plain``: a prompt without the report's words (:data:`REPORT_PHRASES`), for the retry
        of a transcript that wrote them out."""
        return WhisperStream(self, build_prompt(tuple(prompt_words), report=not plain), unfiltered,
                             self.cfg.window_s)

    def ready(self) -> None:
        """Loaded in the constructor already."""

    def transcribe(self, audio: np.ndarray, prompt: str, unfiltered: bool = False) -> Transcript:
        """Transcribe one whole transmission (float32 mono at 16 kHz). ``unfiltered``: no VAD and no
        no-speech threshold (segments are still dropped for repetition or known hallucinations)."""
        duration = len(audio) / RATE
        if duration < MIN_AUDIO_S:
            return Transcript("", (), {"segments": 0, "dropped_segments": 0, "no_speech_prob": None,
                                       "skipped": "too short"})
        cfg = self.cfg
        with self._lock:
            segments, info = self.model.transcribe(
                audio, language=self.language, initial_prompt=prompt, vad_filter=cfg.vad and not unfiltered,
                word_timestamps=True, beam_size=cfg.beam_size, condition_on_previous_text=False,
                no_speech_threshold=None if unfiltered else cfg.no_speech_threshold)
            segments = list(segments)  # the generator does the decoding
        texts: list[str] = []
        words: list[Word] = []
        dropped = 0
        sampled = False
        for seg in segments:
            if self._is_noise(seg, unfiltered):
                dropped += 1
                log.debug("dropped segment %.2f-%.2f %r (no_speech %.2f, logprob %.2f, ratio %.2f)",
                          seg.start, seg.end, seg.text, seg.no_speech_prob, seg.avg_logprob,
                          seg.compression_ratio)
                continue
            text = seg.text.strip()
            if text:
                texts.append(text)
            sampled = sampled or (seg.temperature or 0.0) > 0.0
            for w in seg.words or ():
                token = w.word.strip()
                if not token:
                    continue
                start = min(max(float(w.start), 0.0), duration)
                end = min(max(float(w.end), start), duration)
                conf = min(max(float(w.probability), 0.0), 1.0)
                words.append(Word(token, round(start, 3), round(end, 3), round(conf, 4)))
        extra: dict[str, Any] = {
            "language": info.language,
            "language_probability": float(info.language_probability),
            "segments": len(segments) - dropped,
            "dropped_segments": dropped,
            # None: Whisper gave no segment at all (VAD found no speech, or it skipped the window itself)
            "no_speech_prob": max((float(s.no_speech_prob) for s in segments), default=None),
            # True: a kept segment came from Whisper's temperature fallback (the greedy decode looked
            # bad, so it sampled): its words can differ from one decode of the same audio to the next
            "sampled": sampled,
        }
        return Transcript(" ".join(texts), tuple(words), extra)

    def rescore(self, audio: np.ndarray, prompt_words: tuple[str, ...], texts: list[str]) -> list[float]:
        """How well each of ``texts`` fits ``audio`` (its first 30 s) as its transcript: the summed
        log-probability of the text's tokens, each given the audio and the tokens before it, under
        the prompt a decode of the call has (:func:`build_prompt`). Only comparable between texts
        of the same audio (:mod:`gateway.identification.name_check`)."""
        if not texts:
            return []
        import ctranslate2
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        model = self.model
        with self._lock:
            tok = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                            language=self.language)
            features = model.feature_extractor(np.asarray(audio[:RESCORE_S * RATE], dtype=np.float32))
            frames = min(features.shape[-1], RESCORE_FRAMES)
            encoded = np.asarray(model.encode(pad_or_trim(features, RESCORE_FRAMES)))
            prompt = tok.encode(" " + build_prompt(prompt_words).strip())[-(model.max_length // 2 - 1):]
            start = [tok.sot_prev, *prompt, *tok.sot_sequence]
            scores = []
            encoded_sv = ctranslate2.StorageView.from_array(encoded)
            for text in texts:  # one at a time: batching copies the audio per text and is slower
                tokens = tok.encode(" " + text.strip())
                result = model.model.align(encoded_sv, start, [tokens], frames)[0]
                probs = np.asarray(result.text_token_probs)
                scores.append(float(np.log(np.maximum(probs, 1e-9)).sum()))
        return scores

    def _is_noise(self, seg: Any, unfiltered: bool = False) -> bool:
        if not unfiltered and seg.no_speech_prob > self.cfg.no_speech_threshold:
            return True
        if not unfiltered and seg.avg_logprob < LOW_LOGPROB and seg.no_speech_prob > LOW_LOGPROB_NO_SPEECH:
            return True
        if seg.compression_ratio > MAX_COMPRESSION_RATIO:
            return True
        return HALLUCINATION.search(seg.text) is not None


def _levels(audio: np.ndarray) -> np.ndarray:
    """dB level of each whole 20 ms frame of ``audio``."""
    n = len(audio) // FRAME
    frames = audio[:n * FRAME].reshape(n, FRAME).astype(np.float64)
    levels: np.ndarray = 10.0 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)
    return levels


def window_cut(audio: np.ndarray, min_s: float) -> int | None:
    """Where to end the next window of ``audio`` (samples), or None to wait for more: the middle of
    the first pause (``PAUSE_S`` of frames near the floor and well below the speech) that ends after
    ``min_s``. Never in the middle of speech: with no pause the window waits (for a pause, or the
    close, when the rest is decoded whole)."""
    if min_s <= 0 or len(audio) < min_s * RATE:
        return None
    levels = _levels(audio)
    floor, loud = np.percentile(levels, [10, 90])
    quiet = (levels <= floor + PAUSE_ABOVE_FLOOR_DB) & (levels <= loud - PAUSE_BELOW_SPEECH_DB)
    need = round(PAUSE_S * RATE / FRAME)
    first = round(min_s * RATE / FRAME)
    run = 0
    for i, q in enumerate(quiet):
        run = run + 1 if q else 0
        if run >= need and i + 1 >= first:
            return (i + 1 - run // 2) * FRAME
    return None


def join(parts: list[tuple[float, float, Transcript]]) -> Transcript:
    """The windows' (offset s, duration s, transcript) as one transcript: words shifted by each
    window's offset. One window is returned as it is (the transcript of a short call is as before)."""
    if len(parts) == 1:
        return parts[0][2]
    words = tuple(Word(w.word, round(w.start + off, 3), round(w.end + off, 3), w.conf)
                  for off, _, t in parts for w in t.words)
    texts = [t.text for _, _, t in parts if t.text]
    known = [t.extra["no_speech_prob"] for _, _, t in parts if t.extra.get("no_speech_prob") is not None]
    extra = {k: v for k, v in parts[-1][2].extra.items() if k in ("language", "language_probability")}
    extra.update(
        segments=sum(t.extra.get("segments", 0) for _, _, t in parts),
        dropped_segments=sum(t.extra.get("dropped_segments", 0) for _, _, t in parts),
        no_speech_prob=max(known) if known else None,
        sampled=any(t.extra.get("sampled", False) for _, _, t in parts))
    extra["windows"] = [{"start": round(off, 3), "end": round(off + dur, 3), "words": len(t.words),
                         "no_speech_prob": t.extra.get("no_speech_prob"),
                         "dropped_segments": t.extra.get("dropped_segments", 0)} for off, dur, t in parts]
    return Transcript(" ".join(texts), words, extra)


class WhisperStream:
    """One transmission: with ``window_s`` > 0, windows decoded while it is live (:func:`window_cut`),
    each prompted with the text decoded before it, and only the rest at :meth:`finish`; with 0 (or
    ``unfiltered``, the retry of a call that came back empty), the whole call decoded once at
    :meth:`finish`."""

    def __init__(self, recognizer: WhisperRecognizer, prompt: str, unfiltered: bool = False,
                 window_s: float = 0.0) -> None:
        self._recognizer = recognizer
        self._prompt = prompt
        self._unfiltered = unfiltered
        self._window_s = 0.0 if unfiltered else window_s
        self._chunks: list[np.ndarray] = []  # audio not yet decoded
        self._pending = 0  # samples in _chunks
        self._offset = 0  # samples decoded so far
        self._parts: list[tuple[float, float, Transcript]] = []
        self._done = False

    def accept(self, samples: np.ndarray) -> None:
        if self._done:
            raise RuntimeError("accept() after finish()")
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if not samples.size:
            return
        self._chunks.append(samples)
        self._pending += samples.size
        if self._window_s <= 0 or self._pending < self._window_s * RATE:
            return
        buf = np.concatenate(self._chunks)
        self._chunks = [buf]
        while (cut := window_cut(buf, self._window_s)) is not None:
            self._decode(buf[:cut])
            buf = buf[cut:]
            self._chunks, self._pending = [buf], len(buf)

    def _decode(self, audio: np.ndarray) -> None:
        said = " ".join(t.text for _, _, t in self._parts if t.text)
        prompt = self._prompt + (" " + said[-CARRY_CHARS:] if said else "")
        t = self._recognizer.transcribe(audio, prompt, self._unfiltered)
        self._parts.append((self._offset / RATE, len(audio) / RATE, t))
        self._offset += len(audio)

    def finish(self) -> Transcript:
        if self._done:
            raise RuntimeError("finish() called twice")
        self._done = True
        rest = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)
        self._chunks, self._pending = [], 0
        if len(rest) or not self._parts:
            self._decode(rest)
        return join(self._parts)
