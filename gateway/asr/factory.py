"""Build the configured recogniser (or none) from ``[asr]``; the one place engines are chosen."""

from __future__ import annotations

import logging
from pathlib import Path

from gateway.asr.base import Recognizer, RecognizerError
from gateway.asr.models import ModelError, find_model
from gateway.asr.vocabulary import phrases
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

            start_loading(path)
    except (ModelError, RecognizerError) as e:
        log.debug("no model prefetched: %s", e)


def build_recognizer(cfg: Config, engine: str | None = None, model: str | None = None) -> Recognizer | None:
    """The recogniser for ``engine``/``model`` (default: the configured ones); None for no ASR."""
    engine = engine or cfg.asr.engine
    model = cfg.asr.model if model is None else model
    where = models_dir(cfg)
    if engine == "none":
        return None
    try:
        if engine in ("auto", "vosk"):
            path = _vosk_model(cfg, engine, model)
            if path is not None:
                from gateway.asr.vosk_engine import VoskRecognizer

                return VoskRecognizer(path, phrases(cfg.stations) if cfg.asr.phrase_list else None)
            if engine == "vosk":
                raise RecognizerError(f"asr.engine = 'vosk': no Vosk model in {where} "
                                      "(see asr_models/README.md)")
        path = find_model(where, "whisper", model if engine == "whisper" else "")
        if path is None:
            if engine == "whisper":
                raise RecognizerError(f"asr.engine = 'whisper': no Whisper model in {where} "
                                      "(ht-gateway models install whisper-base)")
            log.warning("no speech recognition model in %s: transmissions are stored untranscribed "
                        "(see asr_models/README.md)", where)
            return None
        from gateway.asr.whisper_engine import WhisperRecognizer

        return WhisperRecognizer(path, cfg.asr.whisper)
    except ModelError as e:
        raise RecognizerError(f"asr.model = {model!r}: {e}") from None
