"""Words worth knowing on this channel, for the recogniser (the lists live in :mod:`gateway.lexicon`).

Used as faster-whisper's initial prompt (names only) and, for Vosk models with a dynamic graph, as
the optional phrase list (``asr.phrase_list``), where only the words the model knows are kept.
With ``asr.bias`` (the default) :mod:`gateway.lexicon.bias` adds the lexicon and the gazetteer to
the phrase list.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.config import Station
from gateway.lexicon.words import INCIDENTS, NUMBERS, PROCEDURE, STATUS

__all__ = ["INCIDENTS", "NUMBERS", "PROCEDURE", "STATUS", "phrases", "station_words"]


def station_words(stations: Iterable[Station]) -> tuple[str, ...]:
    """Station names and their aliases, in configuration order, without repeats."""
    out: dict[str, None] = {}
    for st in stations:
        for name in (st.name, *st.aliases):
            out[name] = None
    return tuple(out)


def phrases(stations: Iterable[Station]) -> list[str]:
    """Phrase list for a Vosk grammar: names (whole and word by word) and the report vocabulary."""
    names = station_words(stations)
    parts = [w for n in names for w in n.replace("-", " ").split()]
    return ([n.lower() for n in names] + [p.lower() for p in parts] + list(PROCEDURE) + list(STATUS)
            + list(INCIDENTS) + list(NUMBERS))
