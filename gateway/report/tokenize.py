"""A transcript as match tokens: each recognised word normalised and split, and (with
``lexicon.correct``) repaired where the recogniser ran words together or scattered commas.

Each recognised word becomes one or more tokens (lower case, outer punctuation removed, "Rp40.000/kg"
-> ``rp 40.000 per kg``, "perkilogram" -> ``per kilogram``, "situasiaman" -> ``situasi aman``); every
token remembers the word it came from, so any token range maps back to a span of words with times
and confidences. Punctuation is kept as two flags on the last token of a word: a clause ends after it
(comma, semicolon, colon) or a sentence does (full stop, question or exclamation mark).

Matching the tokens against the lexicon's phrases is :mod:`gateway.report.tokens`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Levenshtein

from gateway.lexicon import report as lx
from gateway.lexicon.correct import NUMBER_WORDS, glued_number_words, near_unit
from gateway.report.numbers_id import numeral_value

#: Number words read out of letters glued across them ("ribuli maratus"): scored this, times the
#: spelling similarity when a piece was misheard, so that an operator checks the value.
GLUED_NUMBER_SCORE = 0.9

_TRAIL = ".,;:!?…\"')]-"
_LEAD = "\"'([-"
_PER_UNIT = re.compile(r"^per(kilogram|kilo|kg|liter|ltr|ons|butir|ekor|tabung|ikat|buah|gram)$")
_RP_GLUED = re.compile(r"^rp\.?(\d.*)$")


@dataclass(frozen=True)
class SourceWord:
    """One recognised word: its text as written and, when known, its time span and confidence."""

    text: str
    start: float | None = None
    end: float | None = None
    conf: float | None = None


@dataclass(frozen=True)
class Tok:
    norm: str  # lower case, punctuation removed; "" for a word that was only punctuation
    raw: str  # the word's text without outer punctuation, as recognised (for names)
    word: int  # index of the source word
    clause_end: bool = False  # a comma, semicolon or colon (or a sentence end) follows
    sentence_end: bool = False


def source_words(text: str, words: Iterable[Any] | None) -> list[SourceWord]:
    """Words with times when given (``Word`` objects or ``{word, start, end, conf}`` dicts), else
    the text split on spaces (no times)."""
    out: list[SourceWord] = []
    for w in words or ():
        if isinstance(w, Mapping):
            out.append(SourceWord(str(w["word"]), w.get("start"), w.get("end"), w.get("conf")))
        else:
            out.append(SourceWord(str(w.word), w.start, w.end, w.conf))
    if not out:
        out = [SourceWord(part) for part in text.split()]
    return [w for w in out if w.text.strip()]


def clean_word(text: str) -> str:
    """A word without outer punctuation, as shown in evidence."""
    return text.strip().strip(_TRAIL).lstrip(_LEAD).strip()


def _split_merged(body: str, depth: int = 0) -> list[str]:
    """"situasiaman" -> ["situasi", "aman"]: only when every piece is a known word of 3+ letters."""
    if depth > 2 or len(body) < 6 or not body.isalpha() or body in lx.VOCAB:
        return [body]
    for k in range(len(body) - 3, 2, -1):
        left, right = body[:k], body[k:]
        if left in lx.VOCAB:
            rest = _split_merged(right, depth + 1)
            if all(p in lx.VOCAB for p in rest):
                return [left, *rest]
    return [body]


def _pieces(body: str) -> list[str]:
    """One word (lower case, no outer punctuation) as match tokens."""
    if not body:
        return []
    if body in lx.ASR_VARIANTS:
        return list(lx.ASR_VARIANTS[body])
    if m := _RP_GLUED.match(body):
        return ["rp", *_pieces(m.group(1))]
    if "/" in body:
        out: list[str] = []
        for n, part in enumerate(body.split("/")):
            out += (["per"] if n else []) + _pieces(part)
        return out
    if m := _PER_UNIT.match(body):
        return ["per", m.group(1)]
    if body.startswith("se-") and len(body) > 3:
        return ["se", *_pieces(body[3:])]
    if "-" in body and numeral_value(body) is None:
        parts = [p for p in body.split("-") if p]
        if len(parts) == 2 and parts[1].startswith(parts[0]):  # luka-luka, obat-obatan
            return [body]
        return [p for part in parts for p in _pieces(part)]
    return _split_merged(body)


def tokenize(words: Sequence[SourceWord]) -> list[Tok]:
    toks: list[Tok] = []
    for idx, w in enumerate(words):
        text = w.text.strip()
        body = text.rstrip(_TRAIL)
        trail = text[len(body):]
        body = body.lstrip(_LEAD)
        raw = body
        pieces = _pieces(body.lower())
        sentence_end = any(c in trail for c in ".!?…")
        clause_end = sentence_end or any(c in trail for c in ",;:")
        if not pieces:
            pieces = [""]
        for n, p in enumerate(pieces):
            last = n == len(pieces) - 1
            toks.append(Tok(p, raw, idx, clause_end and last, sentence_end and last))
    return toks


#: Whisper unsure of what it hears may write a comma after every word ("Manjir, Pinesa, Pangga,
#: Enam, Belas, rumah, terendam,"). In a run of at least this many one-word clauses those commas
#: mark nothing, so (``lexicon.correct``) they do not end clauses: "enam belas rumah terendam" is
#: read across them, each word whose comma was dropped scored :data:`SOFT_COMMA_SCORE` so that an
#: operator checks a value read across them. Sentence ends are kept.
WORD_COMMA_RUN = 4
SOFT_COMMA_SCORE = 0.9


def soften_word_commas(toks: list[Tok]) -> tuple[list[Tok], list[int]]:
    """The tokens with the commas of each run of :data:`WORD_COMMA_RUN` or more one-word clauses
    taken out (see there), and the indexes of the tokens that lost theirs."""
    words: list[list[int]] = []  # token indexes per source word
    for i, t in enumerate(toks):
        if not words or toks[words[-1][0]].word != t.word:
            words.append([])
        words[-1].append(i)
    alone = [toks[w[-1]].clause_end and not toks[w[-1]].sentence_end
             and (k == 0 or toks[words[k - 1][-1]].clause_end) for k, w in enumerate(words)]
    out = list(toks)
    softened: list[int] = []
    k = 0
    while k < len(words):
        if not alone[k]:
            k += 1
            continue
        run = k
        while run < len(words) and alone[run]:
            run += 1
        if run - k >= WORD_COMMA_RUN:
            for w in words[k:run - 1]:
                out[w[-1]] = dataclasses.replace(out[w[-1]], clause_end=False)
                softened.append(w[-1])
        k = run
    return out, softened


def _numberish(norm: str) -> bool:
    return norm in NUMBER_WORDS or norm in lx.PRICE_CURRENCY or norm.startswith("rup")


def unglue_numbers(toks: list[Tok]) -> tuple[list[Tok], dict[int, float]]:
    """``lexicon.correct``: number words the recogniser ran together, cut apart ("dua puuhenam
    ribuli maratus rupiah" -> dua puluh enam ribu lima ratus rupiah), with the score of each new
    token. One or two words of one clause are cut only into more number words than they were
    (:func:`gateway.lexicon.correct.glued_number_words`), and only next to a number word or a
    currency word ("rupi...") or when the cut ends in a unit word ("enambela sekol" -> enam belas
    ekor; "belas rinurupian" -> belas ribu rupiah), so no number appears where no number-like words
    were said."""
    out: list[Tok] = []
    scores: dict[int, float] = {}
    i = 0
    while i < len(toks):
        for width in (2, 1):
            window = toks[i:i + width]
            if (len(window) < width or any(t.clause_end for t in window[:-1])
                    or all(t.norm in NUMBER_WORDS for t in window)
                    or any(t.norm in lx.VOCAB and t.norm not in NUMBER_WORDS for t in window)):
                continue
            heard = "".join(t.norm for t in window)
            words = glued_number_words(heard, lx.GLUED_NUMBER_TAILS)
            if words is None:
                continue
            unit = words[-1] if words[-1] in lx.GLUED_NUMBER_TAILS else None
            shifted = unit is not None and not near_unit(window[-1].norm, unit)  # "bela sekol"
            if len(words) <= width and not shifted:
                continue
            before = out[-1] if out and not out[-1].clause_end else None
            after = toks[i + width] if i + width < len(toks) and not window[-1].clause_end else None
            counted = unit in lx.GLUED_UNITS and len(words) >= 2  # "enambela sekol": a count
            beside = (before and before.norm in NUMBER_WORDS) or (after and _numberish(after.norm))
            if not (counted or beside):
                continue
            score = GLUED_NUMBER_SCORE * Levenshtein.normalized_similarity(heard, "".join(words))
            ends = [sum(len(t.norm) for t in window[:k + 1]) for k in range(width)]
            scale, pos = len(heard) / len("".join(words)), 0
            for n, w in enumerate(words):  # each piece belongs to the word its letters start in
                src = window[next(k for k in range(width) if pos * scale < ends[k] or k == width - 1)]
                last = n == len(words) - 1
                scores[len(out)] = round(score, 3)
                out.append(Tok(w, src.raw, src.word, window[-1].clause_end and last,
                               window[-1].sentence_end and last))
                pos += len(w)
            i += width
            break
        else:
            out.append(toks[i])
            i += 1
    return out, scores


def repaired(toks: list[Tok]) -> tuple[list[Tok], dict[int, float]]:
    """``lexicon.correct``: the tokens with glued number words cut apart (:func:`unglue_numbers`)
    and word commas taken out (:func:`soften_word_commas`), and the score of each token changed."""
    toks, scores = unglue_numbers(toks)
    toks, softened = soften_word_commas(toks)
    scores.update({i: min(SOFT_COMMA_SCORE, scores.get(i, 1.0)) for i in softened})
    return toks, scores
