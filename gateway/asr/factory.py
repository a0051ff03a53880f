"""Build the configured recogniser (or none) from ``[asr]``; the one place engines are chosen."""

from __future__ import annotations

import logging
from pathlib import Path

from gateway.asr.base import Recognizer, RecognizerError
from gateway.asr.models import ModelError, find_model
from gateway.config import Config

log = logging.getLogger(__name__)


def models_dir(cfg: Config) -> Path:
    return cfg.resolve_path(cfg.asr.models_dir)


def _vosk_model(cfg: Config, engine: str, model: str) -> Path | None:
    """The Vosk model directory ``engine``/``model`` selects (any installed one for "auto")."""
    return find_model(models_dir(cfg), "vosk", model if engine == "vosk" else "")


def prefetch(cfg: Config) -> None:
    """Start loading the configured Vosk model in the background (see vosk_engine.start_loading).

    Best effort: whatever is wrong is reported by :func:`build_recognizer` later, in its place.
    """
    if cfg.asr.engine not in ("auto", "vosk"):
        return
    try:
        path = _vosk_model(cfg, cfg.asr.engine, cfg.asr.model)
        if path is not None:
            from gateway.asr.vosk_engine import start_loading

            start_loading(path, cfg.asr.nice)
    except (ModelError, RecognizerError) as e:
        log.debug("no model prefetched: %s", e)


def select_model(cfg: Config, engine: str | None = None,
                 model: str | None = None) -> tuple[str, Path] | None:
    """The engine and model directory ``engine``/``model`` (default: the configured ones) select,
    without loading anything; None when there is none ("none", or "auto" with nothing installed).

    Raises :class:`RecognizerError` (one line) when "vosk"/"whisper" or a named model is not usable.
    """
    engine = engine or cfg.asr.engine
    model = cfg.asr.model if model is None else model
    where = models_dir(cfg)
    if engine == "none":
        return None
    try:
        if engine in ("auto", "vosk"):
            path = _vosk_model(cfg, engine, model)
            if path is not None:
                return "vosk", path
            if engine == "vosk":
                raise RecognizerError(f"asr.engine = 'vosk': no Vosk model in {where} "
                                      "(see asr_models/README.md)")
        path = find_model(where, "whisper", model if engine == "whisper" else "")
        if path is None:
            if engine == "whisper":
                raise RecognizerError(f"asr.engine = 'whisper': no Whisper model in {where} "
                                      "(ht-gateway models install whisper-base)")
            return None
        return "whisper", path
    except ModelError as e:
        raise RecognizerError(f"asr.model = {model!r}: {e}") from None


def build_recognizer(cfg: Config, engine: str | None = None, model: str | None = None) -> Recognizer | None:
    """The recogniser for ``engine``/``model`` (default: the configured ones); None for no ASR.

    With a configuration file, the configured recogniser must be usable: a missing or broken model
    fails with the line ``config check`` prints (only ``asr.engine = "none"`` runs without
    transcription). Built-in defaults (no file: trying it out) keep "auto" lenient, with a warning.
    """
    if cfg.source_path and engine is None and model is None:
        from gateway.configcheck import asr_problems

        problems = asr_problems(cfg)[1]
        if problems:
            raise RecognizerError(problems[0].line())
    chosen = select_model(cfg, engine, model)
    if chosen is None:
        if (engine or cfg.asr.engine) != "none":
            log.warning("no speech recognition model in %s: transmissions are stored untranscribed "
                        "(see asr_models/README.md)", models_dir(cfg))
        return None
    kind, path = chosen
    if kind == "vosk":
        from gateway.asr.vosk_engine import VoskRecognizer
        from gateway.lexicon.bias import phrases

        return VoskRecognizer(path, phrases(cfg) if cfg.asr.phrase_list else None, cfg.asr.nice)
    from gateway.asr.whisper_engine import WhisperRecognizer

    # no hotwords: see gateway/lexicon/bias.py
    return WhisperRecognizer(path, cfg.asr.whisper, nice=cfg.asr.nice)
