"""Words worth knowing on this channel, for the recogniser (the lists live in :mod:`gateway.lexicon`).

Used as faster-whisper's initial prompt (names only) and, for Vosk models with a dynamic graph, as
the optional phrase list (``asr.phrase_list``), where only the words the model knows are kept.
With ``asr.bias`` (the default) :mod:`gateway.lexicon.bias` adds the lexicon and the gazetteer to
the phrase list.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.config import Station
from gateway.lexicon.phonetic import normalise
from gateway.lexicon.words import INCIDENTS, NUMBERS, PROCEDURE, STATUS

__all__ = ["INCIDENTS", "NUMBERS", "PROCEDURE", "STATUS", "echoed_names", "echoed_report", "phrases",
           "station_words"]


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


#: What may stand between names Whisper copies from its prompt ("Tarutung, Siatas Barita dan Muara").
ECHO_SEPARATORS = frozenset(("dan", "serta", "kecamatan"))


def echoed_names(text: str, names: Iterable[str]) -> list[str]:
    """Prompt names the transcript lists back to back (two or more different ones, only commas,
    "dan" or "kecamatan" between): Whisper writing out its prompt ("kecamatan Tarutung, Siatas
    Barita, Muara") instead of the name it did not catch. Empty when there is no such list."""
    spellings: dict[tuple[str, ...], str] = {}
    for name in names:
        words = tuple(w for w in (normalise(x) for x in name.replace("-", " ").split()) if w)
        if words:
            spellings[words] = name
            spellings[("".join(words),)] = name
    longest = max((len(k) for k in spellings), default=0)
    tokens = [t for t in (normalise(x) for x in text.replace("-", " ").split()) if t]
    run: list[str] = []
    i = 0
    while i < len(tokens):
        hit = next(((k, spellings[tuple(tokens[i:i + k])]) for k in range(longest, 0, -1)
                    if tuple(tokens[i:i + k]) in spellings), None)
        if hit is not None:
            run.append(hit[1])
            i += hit[0]
            continue
        if tokens[i] not in ECHO_SEPARATORS:
            if len(set(run)) >= 2:
                return list(dict.fromkeys(run))
            run = []
        i += 1
    return list(dict.fromkeys(run)) if len(set(run)) >= 2 else []


def echoed_report(text: str, phrases: tuple[str, ...]) -> list[str]:
    """The prompt's report phrases (``phrases``, in the prompt's order) the transcript lists back to
    back: two or more different ones, each later in the prompt than the one before, nothing but
    commas, full stops or "dan" between ("Situasi aman kondusif. Banjir, pohon tumbang, rumah
    terendam."): Whisper writing its prompt out over words it did not catch. A report that says
    one incident and then another with words between ("banjir di desa X, pohon tumbang di desa Y")
    is no such list. Empty when there is none."""
    keys = [tuple(normalise(w) for w in p.split()) for p in phrases]
    tokens = [t for t in (normalise(x) for x in text.replace("-", " ").split()) if t]
    run: list[int] = []
    best: list[int] = []
    i = 0
    while i < len(tokens):
        hit = next((k for k, key in enumerate(keys) if tuple(tokens[i:i + len(key)]) == key), None)
        if hit is not None:
            if run and hit <= run[-1]:  # back in the prompt's order: a new list starts here
                best, run = max(best, run, key=len), []
            run.append(hit)
            i += len(keys[hit])
            continue
        if tokens[i] not in ECHO_SEPARATORS:
            best, run = max(best, run, key=len), []
        i += 1
    best = max(best, run, key=len)
    return [phrases[k] for k in best] if len(best) >= 2 else []
