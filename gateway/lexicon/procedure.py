"""Procedure words in a call: how it ends (a closing word) and how it opens (a continuation cue,
or another unit's call sign)."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from gateway.lexicon.phonetic import normalise, phonetic_key
from gateway.lexicon.words import CLOSING, CONTINUATION_CUES, FILLERS, OTHER_UNITS, PREFIXES

#: A closing word counts among the call's last this many words ("… demikian laporan kami, ganti").
CLOSING_REACH = 6
#: The call's very last word may be one sound off a closing word of 5 letters or more, in the
#: sound key ("kandit", "kanti" for "ganti"), unless it is a word of its own (:data:`FILLERS`:
#: "kami", "nanti"). Reading a call as closed is the safe side: the next call then continues it
#: only with a cue, else it stays unknown, never someone else's.
CLOSING_LAST_SLACK = 1
_CLOSING_KEYS = [phonetic_key(c) for c in CLOSING if len(c) >= 5 and " " not in c]
#: A continuation cue counts among the call's first this many words ("izin, tambahan …").
OPENING_REACH = 3
#: The call's first word may be this many letters off a cue of 8 letters or more: the recogniser
#: hears the opening "Tambahan" as "Dambaran" or "Sambaran" (the first syllables come up with
#: the squelch).
OPENING_SPELLING_SLACK = 2
#: ... and one letter off a cue of 6 or 7 ("Lantut" for "Lanjut"); shorter cues ("ralat") exactly.
OPENING_SHORT_SLACK = 1
OPENING_SHORT_MIN = 6
#: A cue this long may be glued to the end of an opening word ("anatambahan": ada tambahan).
GLUED_CUE_MIN = 8
#: ... but not after a prefix, which makes another word of it ("pertambahan": growth).
AFFIXES = frozenset(pre for pre, _ in PREFIXES)


def _opening_slack(cue: str) -> int:
    """Letters the call's first word may be off ``cue`` (see :data:`OPENING_SPELLING_SLACK`)."""
    if len(cue) >= 8:
        return OPENING_SPELLING_SLACK
    return OPENING_SHORT_SLACK if len(cue) >= OPENING_SHORT_MIN else 0


def _words(text: str) -> list[str]:
    out = []
    for raw in text.split():
        w = raw.strip(".,;:!?\"'()").lower()
        out.append(w if w.isdigit() else normalise(w))
    return [w for w in out if w]


def _find(words: list[str], phrases: tuple[str, ...]) -> str | None:
    """The first phrase of ``phrases`` said in ``words`` (by spelling, or by sound for 5+ letters)."""
    for i in range(len(words)):
        for p in phrases:
            parts = p.split()
            got = words[i:i + len(parts)]
            if got == parts or (len(parts) == 1 and len(p) >= 5 and got
                                and phonetic_key(got[0]) == phonetic_key(p)):
                return " ".join(words[i:i + len(parts)])
    return None


def closing_word(text: str) -> str | None:
    """The closing procedure word (ganti, demikian, selesai, over, sekian, 86) the call ends with,
    as heard: also its last word when that is a sound off one (:data:`CLOSING_LAST_SLACK`)."""
    words = _words(text)
    found = _find(words[-CLOSING_REACH:], CLOSING)
    if found is None and words and words[-1] not in FILLERS and not words[-1].isdigit():
        key = phonetic_key(words[-1])
        if any(Levenshtein.distance(key, ckey) <= CLOSING_LAST_SLACK for ckey in _CLOSING_KEYS):
            found = words[-1]
    return found


def continuation_cue(text: str) -> str | None:
    """The continuation cue (tambahan, lanjut, ralat, koreksi) the call opens with; its first word
    also when it is a few letters off a cue of 6 letters or more (:func:`_opening_slack`), and an
    opening word that ends with a cue of :data:`GLUED_CUE_MIN` letters or more ("Anatambahan")."""
    words = _words(text)[:OPENING_REACH]
    found = _find(words, CONTINUATION_CUES)
    if found is None:  # glued to the word before ("Ada tambahan" heard "Anatambahan")
        found = next((w for w in words for cue in CONTINUATION_CUES
                      if len(cue) >= GLUED_CUE_MIN and w.endswith(cue) and len(w) > len(cue)
                      and w[:-len(cue)] not in AFFIXES), None)
    if found is None and words:
        first = words[0]
        found = next((first for cue in CONTINUATION_CUES if (slack := _opening_slack(cue))
                      and abs(len(first) - len(cue)) <= 1
                      and Levenshtein.distance(first, cue) <= slack), None)
    return found


#: How far (in sound-key letters) a long call sign may be off where it opens a word: the recogniser
#: glues it to what follows ("Paprolisatuk" = patroli satu) and blurs a sound ("Pertrolis").
UNIT_SLACK = 2
UNIT_LONG = 7  # letters from which a call sign may be matched by sound (shorter: spelled exactly)
_UNIT_KEYS = {unit: phonetic_key(unit) for unit in OTHER_UNITS if len(unit) >= UNIT_LONG}


def other_unit(text: str) -> str | None:
    """The call sign of a non-camat unit (:data:`OTHER_UNITS`: patroli, rescue, BPBD, …) among the
    call's first words, as heard; None when it opens without one."""
    for w in _words(text)[:OPENING_REACH + 1]:
        for unit in OTHER_UNITS:
            if w == unit:
                return w
            if (ukey := _UNIT_KEYS.get(unit)) is not None:
                key = phonetic_key(w)
                if (len(key) >= len(ukey) and key[:2] == ukey[:2]
                        and Levenshtein.distance(key[:len(ukey) + 1], ukey) <= UNIT_SLACK):
                    return w
    return None
