"""Biasing the recogniser with the lexicon (``asr.bias``).

* Vosk with a dynamic graph and ``asr.phrase_list``: :func:`phrases` adds every lexicon word and
  every desa/kelurahan of the stations' kabupaten to today's list (names, report words, numbers);
  Vosk keeps only the words its model knows.
* faster-whisper: its prompt already names the stations and says a report's words
  (``gateway.asr.whisper_engine.build_prompt``). faster-whisper 1.2's ``hotwords`` were tried and
  are NOT used: on the sample channel (tests/data/sample_morning.flac, whisper-base) they made it
  write words that were not said — "Banjir, tanah longsor" in a call about flooded houses,
  "Sipoholon" seven times over — and lose "tujuh" in "tujuh rumah terendam"
  (tests/test_whisper_pipeline.py then fails). Hotwords go before the prompt in the same 448-token
  context with no combined limit; on radio audio the model copies them. Measure again with
  bench/bench_accuracy.py before turning them on.

``asr.bias = false`` gives today's behaviour: the phrase list of
:func:`gateway.asr.vocabulary.phrases`.
"""

from __future__ import annotations

import logging

from gateway.asr.vocabulary import phrases as base_phrases
from gateway.config import Config
from gateway.lexicon import gazetteer
from gateway.lexicon.report import CATEGORIES, COUNT_NOUNS, UNITS_AFTER
from gateway.lexicon.words import CLOSING, CONTINUATION_CUES, UNIT_WORDS

log = logging.getLogger(__name__)


def kabupaten(cfg: Config) -> gazetteer.Kabupaten | None:
    """The gazetteer of the stations' kabupaten (``lexicon.gazetteer`` or the shipped file); None when
    the station codes name no single kabupaten or no data is there (logged, never fatal)."""
    code = gazetteer.kabupaten_of([st.code for st in cfg.stations])
    if code is None:
        return None
    try:
        path = cfg.resolve_path(cfg.lexicon.gazetteer) if cfg.lexicon.gazetteer else None
        return gazetteer.load(path, code)
    except gazetteer.GazetteerError as e:
        log.warning("no gazetteer: %s", e)
        return None


def phrases(cfg: Config) -> list[str]:
    """The Vosk phrase list: today's, then the lexicon's words and the gazetteer's desa names."""
    if not cfg.asr.bias:
        return base_phrases(cfg.stations)
    words = [*CATEGORIES, *COUNT_NOUNS, *UNITS_AFTER, *UNIT_WORDS, *CLOSING, *CONTINUATION_CUES]
    kab = kabupaten(cfg)
    desa = [d.lower() for d in kab.all_desa()] if kab else []
    return list(dict.fromkeys([*base_phrases(cfg.stations), *(w.lower() for w in words), *desa]))
