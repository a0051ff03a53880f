"""An Indonesian sound key for matching what the recogniser heard against known words and names."""

from __future__ import annotations

import re
import unicodedata

# The sound key: digraphs first, then one letter per group of sounds the recognisers confuse.
_DIGRAPHS = (("ng", "n"), ("ny", "n"), ("kh", "k"), ("ch", "c"), ("sy", "s"), ("ph", "p"), ("dj", "j"),
             ("tj", "c"), ("oe", "u"))
_CLASSES = str.maketrans({"c": "k", "q": "k", "g": "k", "x": "k", "f": "p", "v": "p", "b": "p",
                          "d": "t", "z": "s", "j": "s", "e": "i", "y": "i", "o": "u", "w": "u",
                          "l": "n", "r": "n", "m": "n", "h": None})


def normalise(text: str) -> str:
    """Lower case, accents folded, letters a-z only: "Siborong-borong" -> "siborongborong"."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if "a" <= ch <= "z")


def phonetic_key(text: str) -> str:
    """An Indonesian sound key: spellings the recogniser mixes up map to the same letters.

    k/c/q/g, p/b/f/v, t/d, s/z/j, e/i, o/u and the sonorants l/r/m/n/ng are merged, h is dropped
    and doubled letters collapse. Whisper heard "Sipoholon" as "si Poholong", "si pohonong",
    "Sipobolong"; "Tarutung" as "taruh tun"; "Purbatua" as "purnatura".
    """
    s = normalise(text)
    for a, b in _DIGRAPHS:
        s = s.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", s.translate(_CLASSES))
