"""A transcript as tokens for finding a caller's name in it, and the cue words around names.

Shared by :mod:`gateway.identification.spoken_id` (which station's name is said) and
:mod:`gateway.identification.self_id` (does the caller introduce himself): the recogniser's words
with their times and probabilities (hyphen-joined pieces kept together unless one is a cue word:
"Saya-cama" is two; a cue word glued to a name split off: "Camathuara" -> "Camat" "huara",
"Narikamikhamat" -> "Narikami" "khamat"), each station's spellings with their Indonesian sound
keys, and the words that are never part of a name (procedure and report words).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Levenshtein

from gateway.config import Station
from gateway.lexicon.phonetic import normalise, phonetic_key
from gateway.lexicon.words import (
    FILLERS,
    INCIDENTS,
    NOT_CUES,
    NUMBERS,
    OTHER_UNITS,
    PLACE_BEFORE,
    PROCEDURE,
    STATUS,
)

CUES_BEFORE = ("camat", "kecamatan", "sini", "dari")  # before the caller's name; after it:
CUES_AFTER = ("melapor", "lapor")
#: ... and "memanggil" ("Camat Siatas Barita memanggil": calling), of 7 letters or more as heard
#: (a shorter word one or two sounds off it is another word: "memang").
CALLING = "memanggil"
CALLING_MIN = 7
#: A name right after one of these is a village or hamlet, not a kecamatan.
NOT_STATION_BEFORE = frozenset(("desa", "dusun", "kampung", "kelurahan", "lingkungan"))

#: Shortest name part split off a glued cue word.
GLUED_MIN = 3  # "kamatkan roga": camat + "kan" (a filler word) + "roga" = Garoga
#: Cue words split off the end of a word, and the fewest letters such a tail has.
GLUED_TAILS = ("camat", "melapor")
GLUED_TAIL_MIN = 5
#: How many tokens a cue word may stand from the name (procedure words skipped).
CUE_REACH = 3


@dataclass(frozen=True)
class Token:
    """One word of the transcript (or a piece split off one) as a name may be made of."""

    text: str
    norm: str
    start: float | None = None
    end: float | None = None
    conf: float | None = None  # the recogniser's word probability


@dataclass(frozen=True)
class Variant:
    """One spelling of a station's name (its name or an alias)."""

    station: str
    compact: str  # normalised, no spaces: "siatasbarita"
    key: str


def _norm(raw: str) -> str:
    return "" if raw.startswith("[") and raw.endswith("]") else normalise(raw)  # Vosk's "[unk]"


def _pieces(raw: str) -> list[str]:
    """A word the recogniser hyphenated across a cue word, in its pieces ("Saya-cama": saya, camat);
    any other word whole ("Siborong-borong", "kepaka-paka")."""
    parts = [p for p in raw.split("-") if p]
    if len(parts) > 1 and any(is_cue(_norm(p), CUES_BEFORE) for p in parts):
        return parts
    return [raw]


def tokens(text: str, words: list[dict[str, Any]] | None) -> list[Token]:
    if not words:
        return [Token(p, _norm(p)) for t in text.split() for p in _pieces(t)]
    out: list[Token] = []
    glue = False
    for w in words:
        raw = str(w.get("word", "")).strip()
        conf = None if w.get("conf") is None else float(w["conf"])
        *first, raw = _pieces(raw) if raw.strip("-") else [raw]
        out += [Token(p, _norm(p), _time(w.get("start")), _time(w.get("start")), conf) for p in first]
        tok = Token(raw, _norm(raw), _time(w.get("start")), _time(w.get("end")), conf)
        # "Siburong", "-Rong": one word; but not onto a cue word ("jamat-panmonangan": camat Parmonangan)
        if (out and (glue or raw.startswith("-")) and not is_cue(out[-1].norm, CUES_BEFORE)
                and not is_cue(tok.norm, CUES_BEFORE)):
            prev = out[-1]
            confs = [c for c in (prev.conf, tok.conf) if c is not None]
            out[-1] = Token(prev.text + raw, prev.norm + tok.norm, prev.start, tok.end,
                             sum(confs) / len(confs) if confs else None)
        else:
            out.append(tok)
        glue = raw.endswith("-")
    return out


def _time(v: Any) -> float | None:
    return None if v is None else float(v)


_GLUED_TAIL_KEYS = tuple((c, phonetic_key(c)) for c in GLUED_TAILS)


def glued_tail(norm: str) -> int | None:
    """Where a cue word glued to the end of a word starts: "narikamikhamat" (dari kami camat),
    "jaramelapol" (the name, then "melapor"); None if it has none."""
    found = []
    for n in range(GLUED_MIN, len(norm) - GLUED_TAIL_MIN + 1):
        key = phonetic_key(norm[n:])
        # exactly a cue's sound ("khamat"); "melapor" may be one sound off ("melapol" is, "malapol" is
        # not) if it starts as the cue does: a looser tail would find a cue inside any word
        # ("kemakaran" ends like "kamat")
        for c, ckey in _GLUED_TAIL_KEYS:
            d = Levenshtein.distance(key, ckey)
            if d == 0 or (d == 1 and len(c) >= 7 and norm[n] == c[0]):
                found.append((d, -n))
    return -min(found)[1] if found else None  # the closest-sounding tail, the shortest of equals


def unglue(tokens: list[Token], variants: list[Variant]) -> list[Token]:
    """Split a cue word the recogniser glued to the name: "Camathuara" -> "Camat" "huara", and one
    glued to the end of a word: "Narikamikhamat" -> "Narikami" "khamat", "Jaramelapol" -> "Jara"
    "melapol" (not when a station's own name could be split so)."""
    glue_keys = {phonetic_key(w) for w in CUES_BEFORE if len(w) >= 5}
    heads = not any(v.key.startswith(k) for v in variants for k in glue_keys)
    tails = not any(glued_tail(v.compact) is not None for v in variants)
    out: list[Token] = []
    for tok in tokens:
        cut = next((n for n in range(3, len(tok.norm) - GLUED_MIN + 1)
                    if phonetic_key(tok.norm[:n]) in glue_keys), None) if heads else None
        if cut is None and tails and not is_cue(tok.norm, GLUED_TAILS):
            cut = glued_tail(tok.norm)
        if cut is None:
            out.append(tok)
            continue
        plain = tok.text[:cut].casefold() == tok.norm[:cut]  # letters only: the text splits alike
        out += [Token(tok.text[:cut] if plain else tok.norm[:cut], tok.norm[:cut], tok.start, tok.start,
                       tok.conf),
                Token(tok.text[cut:] if plain else tok.norm[cut:], tok.norm[cut:], tok.start, tok.end,
                       tok.conf)]
    return out


def variants(stations: Sequence[Station]) -> list[Variant]:
    out = []
    for st in stations:
        for spelling in dict.fromkeys((st.name, *st.aliases)):
            if compact := normalise(spelling):
                out.append(Variant(st.name, compact, phonetic_key(compact)))
    return out


def procedure_words(stations: Sequence[Station]) -> set[str]:
    """Procedure and report words, minus any word that is part of a station name."""
    words = {normalise(w) for p in (*PROCEDURE, *STATUS, *INCIDENTS, *NUMBERS, *FILLERS) for w in p.split()}
    in_names = {normalise(w) for st in stations for n in (st.name, *st.aliases)
                for w in re.split(r"[\s-]+", n)}
    return words - in_names - {""}


def skippable(tok: Token, procedure: set[str]) -> bool:
    return not tok.norm or tok.norm in procedure


def is_cue(norm: str, cues: Sequence[str]) -> bool:
    """A cue word, also as misheard: "kamat", "chama", "kecemasan", "camatkan", "melakor".

    Cues of five letters or more may be one sound off in the key (two from eight letters on),
    or begin a longer token; a word of :data:`~gateway.lexicon.words.NOT_CUES` ("sangat") is none."""
    if norm in NOT_CUES and norm not in cues:
        return False
    key = phonetic_key(norm)
    for cue in cues:
        if norm == cue:
            return True
        if len(cue) >= 5:
            ckey = phonetic_key(cue)
            if Levenshtein.distance(key, ckey) <= (1 if len(cue) < 8 else 2) or key.startswith(ckey):
                return True
    return False


#: A place word of this many letters or more may be heard one letter off ("wilayat", "melintati").
PLACE_FUZZY_MIN = 6
#: A word this many letters off "sini" or fewer may be it ("silik"): "di silik kecamatan" is the cue.
SINI_SLACK = 2


def _place_word(norm: str) -> bool:
    return norm in PLACE_BEFORE or (len(norm) >= PLACE_FUZZY_MIN and any(
        len(p) >= PLACE_FUZZY_MIN and Levenshtein.distance(norm, p) <= 1 for p in PLACE_BEFORE))


def place_word_before(tokens: Sequence[Token], i: int) -> int | None:
    """Where the word stands that makes the "camat"/"kecamatan" at ``i`` a place or the one called,
    not the caller ("posisi di kecamatan …", "kami di wilayat kecamatan …", "melintati kecamatan …"):
    right before it, or two before it with one word between and no punctuation ("kami di miraya
    kecamatan": "wilayah" lost), but not "di sini" (the caller's cue), also as heard ("di silik
    kecamatan"). None when there is none."""
    if i > 0 and _place_word(tokens[i - 1].norm):
        return i - 1
    between = tokens[i - 1].norm if i > 0 else ""
    if (i > 1 and _place_word(tokens[i - 2].norm) and Levenshtein.distance(between, "sini") > SINI_SLACK
            and not is_cue(between, CUES_BEFORE)
            and not any(t.text.rstrip()[-1:] in ",.;:!?" for t in tokens[i - 2:i])):
        return i - 2
    return None


#: The call's first words searched for another unit's call sign (:func:`unit_opening`).
UNIT_OPENING_REACH = 4


def unit_opening(tokens: Sequence[Token]) -> int | None:
    """Where the call opens with another unit's call sign, spelled as listed ("Mobil PLN di
    kecamatan …", "Unit patroli dua, …"): the token's index among the first
    :data:`UNIT_OPENING_REACH`, or None. Spelled exactly, not by sound: a station's own name can
    sound like a call sign ("Pagaran", "patroli")."""
    for k, t in enumerate(tokens[:UNIT_OPENING_REACH]):
        if t.norm in OTHER_UNITS:
            return k
    return None


def not_the_callers(tokens: Sequence[Token], i: int) -> int | None:
    """Where the words start that make the "camat"/"kecamatan" at ``i`` a place or the one called,
    not the caller: a place word before it (:func:`place_word_before`) or, before it, the call
    sign of another unit the call opens with (:func:`unit_opening`). None when there are none."""
    if (k := place_word_before(tokens, i)) is not None:
        return k
    k = unit_opening(tokens)
    return k if k is not None and k < i else None


def is_cue_after(norm: str) -> bool:
    """A cue that follows the caller's name: "melapor", "lapor", "memanggil" (also as misheard)."""
    return is_cue(norm, CUES_AFTER) or (len(norm) >= CALLING_MIN and is_cue(norm, (CALLING,)))


def words_of(tokens: list[Token]) -> str:
    return " ".join(t.text.strip(",.;:!?") for t in tokens).strip()
