"""Reading a transcript's tokens (:mod:`gateway.report.tokenize`): fuzzy phrase matching, negation.

Phrase matching (:class:`PhraseSet`) compares the tokens' letters with each phrase's letters, spaces
ignored, so a split word ("long sor") or a merged one ("putingbeliung") still matches. A phrase of
fewer than :data:`FUZZY_MIN_LEN` letters must match exactly; a longer one matches at rapidfuzz
``ratio`` >= :data:`FUZZY_MIN_RATIO` (one wrong letter in six, "terendem"; three in twenty), unless
the heard word is itself a known word (a real word such as "banjar" is never read as "banjir") or
the recogniser gave the words a confidence under :data:`FUZZY_MIN_CONF`, or, next to number words,
the heard word holds a whole number word the phrase does not (``HELD_NUMBER_WORDS``: "ngempat
kurut satu ribu" is empat run into a neighbour, not "gempa").

:class:`Doc` holds one transcript being read and turns token ranges into :class:`Evidence`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from gateway.lexicon import report as lx
from gateway.lexicon.correct import NUMBER_NEIGHBOUR_SPAN, NUMBER_NEIGHBOURS, held_number_words
from gateway.lexicon.phonetic import phonetic_key
from gateway.report.model import Evidence
from gateway.report.tokenize import Tok, clean_word, repaired, source_words, tokenize

__all__ = ["Doc", "Hit", "PhraseSet", "negated"]

FUZZY_MIN_LEN = 5
FUZZY_MIN_RATIO = 82.0
FUZZY_MIN_CONF = 0.3
#: Sound-alike matching (``lexicon.correct``): same Indonesian sound key and at least this spelling
#: similarity; a sound-alike scores the mean of its spelling and key similarity, times this factor.
PHONETIC_MIN_SPELLING = 0.6
PHONETIC_FACTOR = 0.9
#: Shorter words are not matched by sound ("rindu" sounds like "lindu", gempa).
PHONETIC_MIN_LEN = 6


@dataclass(frozen=True)
class Hit:
    start: int  # token range [start, end)
    end: int
    label: str
    phrase: str
    exact: bool
    score: float = 1.0  # 1.0 exact; fuzzy ratio / 100; sound-alike (see PHONETIC_FACTOR)


class PhraseSet:
    """Phrases -> labels, matched over tokens exactly or fuzzily (see the module docstring)."""

    def __init__(self, phrases: Mapping[str, str] | Iterable[str]) -> None:
        items = phrases.items() if isinstance(phrases, Mapping) else ((p, p) for p in phrases)
        #: (words in the phrase, letters without spaces, label, phrase)
        self.entries = [(len(p.split()), p.replace(" ", ""), label, p) for p, label in items]
        self.joined = [e[1] for e in self.entries]
        self.exact: dict[str, list[int]] = {}
        for k, e in enumerate(self.entries):
            self.exact.setdefault(e[1], []).append(k)
        self.max_words = max((e[0] for e in self.entries), default=1)
        self._keys: dict[str, list[int]] | None = None

    def _sound_alikes(self, heard: str) -> Iterable[tuple[int, float]]:
        """Entries of 5+ letters with ``heard``'s sound key, and their score."""
        if self._keys is None:
            self._keys = {}
            for k, e in enumerate(self.entries):
                if len(e[1]) >= PHONETIC_MIN_LEN:
                    self._keys.setdefault(phonetic_key(e[1]), []).append(k)
        for k in self._keys.get(phonetic_key(heard), ()):
            spelling = Levenshtein.normalized_similarity(heard, self.entries[k][1])
            if spelling >= PHONETIC_MIN_SPELLING:
                yield k, round(PHONETIC_FACTOR * (1.0 + spelling) / 2, 3)

    def _windows(self, toks: Sequence[Tok]) -> Iterable[tuple[int, int, str]]:
        """(start, tokens, letters) of every run of up to max_words + 1 tokens within a sentence."""
        for i in range(len(toks)):
            heard = ""
            for j in range(i, min(len(toks), i + self.max_words + 1)):
                if not toks[j].norm:
                    break
                heard += toks[j].norm
                yield i, j + 1 - i, heard
                if toks[j].sentence_end:
                    break

    def find(self, toks: Sequence[Tok], confs: Sequence[float | None] | None = None,
             fuzzy: bool = True, phonetic: bool = False) -> list[Hit]:
        """Non-overlapping matches, longest phrase first, in token order. A phrase of k words may
        match k - 1, k or k + 1 tokens (words merged or split by the recogniser). ``phonetic``
        (``lexicon.correct``): also words that sound like a phrase beyond fuzzy reach."""
        cands: list[tuple[int, float, int, int, str, str]] = []
        for i, m, heard in self._windows(toks):
            for k in self.exact.get(heard, ()):
                words, joined, label, phrase = self.entries[k]
                if abs(words - m) <= 1:
                    cands.append((-len(joined), 0.0, i, i + m, label, phrase))
            if not fuzzy or not heard.isalpha() or not self._window_ok(toks[i:i + m], confs):
                continue
            held = held_number_words(heard)
            if held and not _near_numbers(toks, i, i + m):
                held = []
            for joined, score, k in process.extract(heard, self.joined, scorer=fuzz.ratio, limit=None,
                                                    score_cutoff=FUZZY_MIN_RATIO):
                words, _, label, phrase = self.entries[k]
                if (score < 100.0 and abs(words - m) <= 1 and len(joined) >= FUZZY_MIN_LEN
                        and abs(len(heard) - len(joined)) <= 3 and all(n in joined for n in held)):
                    cands.append((-len(joined), 100.0 - score, i, i + m, label, phrase))
            if phonetic and len(heard) >= PHONETIC_MIN_LEN:
                for k, score in self._sound_alikes(heard):
                    words, joined, label, phrase = self.entries[k]
                    if joined != heard and abs(words - m) <= 1 and all(n in joined for n in held):
                        cands.append((-len(joined), 100.0 * (1.0 - score), i, i + m, label, phrase))
        chosen: list[Hit] = []
        taken: set[int] = set()
        for _, miss, a, b, label, phrase in sorted(cands):
            if taken.isdisjoint(range(a, b)):
                taken.update(range(a, b))
                chosen.append(Hit(a, b, label, phrase, miss == 0.0, round(1.0 - miss / 100.0, 3)))
        return sorted(chosen, key=lambda h: h.start)

    @staticmethod
    def _window_ok(window: Sequence[Tok], confs: Sequence[float | None] | None) -> bool:
        """Whether these tokens may be matched fuzzily: not known words, not doubted by the recogniser."""
        if any(t.norm in lx.CONFUSABLE for t in window) or all(t.norm in lx.VOCAB for t in window):
            return False
        if confs is not None:
            known = [c for t in window if (c := confs[t.word]) is not None]
            if known and sum(known) / len(known) < FUZZY_MIN_CONF:
                return False
        return True


def _near_numbers(toks: Sequence[Tok], a: int, b: int) -> bool:
    """Whether a number word (or "rupiah") is within ``NUMBER_NEIGHBOUR_SPAN`` tokens of [a, b)."""
    span = NUMBER_NEIGHBOUR_SPAN
    near = [*range(max(0, a - span), a), *range(b, min(len(toks), b + span))]
    return any(toks[k].norm in NUMBER_NEIGHBOURS for k in near)


def negated(toks: Sequence[Tok], start: int, end: int, negated_ends: Iterable[int] = ()) -> bool:
    """Whether the keyword at tokens [start, end) is denied: "tidak ada korban jiwa", "tanpa korban",
    "korban jiwa nihil", "banjir tidak terjadi", and "tidak ada banjir maupun longsor"
    (``negated_ends``: last token of each keyword already found denied)."""
    denied = set(negated_ends)
    j = start - 1
    while j >= 0 and start - j <= 4 and not toks[j].clause_end:
        norm = toks[j].norm
        if norm in lx.NEGATORS or (norm in lx.NEG_CARRY and j - 1 in denied):
            return True
        if norm not in lx.NEG_FILLERS and norm not in lx.NEG_CARRY:
            return False
        j -= 1
    if end < len(toks) and not toks[end - 1].clause_end:
        after = toks[end].norm
        nxt = toks[end + 1].norm if end + 1 < len(toks) and not toks[end].clause_end else ""
        return after == "nihil" or (after in ("tidak", "belum") and nxt in lx.NEG_AFTER_VERBS)
    return False


class Doc:
    """One transcript being read: its words, tokens, sentence numbers and evidence spans."""

    def __init__(self, text: str, words: Iterable[Any] | None, correct: bool = False) -> None:
        self.correct = correct  # lexicon.correct: sound-alike matching too
        self.scores: dict[int, float] = {}  # token -> best match score of a phrase found over it
        self.words = source_words(text, words)
        self.toks = tokenize(self.words)
        if correct:
            self.toks, self.scores = repaired(self.toks)
        self.n = len(self.toks)
        self.confs = [w.conf for w in self.words]
        self.cased = any(c.isupper() for w in self.words for c in w.text)
        self._found: dict[tuple[int, bool], list[Hit]] = {}
        self.sent: list[int] = []
        s = 0
        for t in self.toks:
            self.sent.append(s)
            s += t.sentence_end

    def find(self, phrases: PhraseSet, fuzzy: bool = True) -> list[Hit]:
        """``phrases`` matched over this transcript (computed once per phrase set)."""
        key = (id(phrases), fuzzy)
        if key not in self._found:
            self._found[key] = phrases.find(self.toks, self.confs, fuzzy, fuzzy and self.correct)
            for h in self._found[key]:
                self.mark(h.start, h.end, h.score)
        return self._found[key]

    def mark(self, a: int, b: int, score: float) -> None:
        """Tokens [a, b) were matched to a known word or name with ``score``."""
        for i in range(a, b):
            self.scores[i] = max(self.scores.get(i, 0.0), score)

    def norm(self, i: int) -> str:
        """Token i's normalised text; "" outside the transcript."""
        return self.toks[i].norm if 0 <= i < self.n else ""

    def breaks_after(self, i: int) -> bool:
        """Whether a sentence ends after token i."""
        return 0 <= i < self.n and self.toks[i].sentence_end

    def evidence(self, a: int, b: int) -> Evidence:
        """Evidence for tokens [a, b): the whole words they come from; ``match`` is the weakest
        match score of the tokens in it that were matched to a word list (None: none was)."""
        span = self.words[self.toks[a].word:self.toks[b - 1].word + 1]
        confs = [w.conf for w in span]
        known = [c for c in confs if c is not None]
        conf = round(sum(known) / len(known), 4) if len(known) == len(confs) else None
        scores = [self.scores[i] for i in range(a, b) if i in self.scores]
        return Evidence(" ".join(clean_word(w.text) for w in span), span[0].start, span[-1].end, conf,
                        min(scores) if scores else None)

    def denied(self, hits: list[Hit]) -> list[Hit]:
        """The hits that are not negated (a denial carries over "maupun"/"atau" to the next one)."""
        kept: list[Hit] = []
        ends: set[int] = set()
        for h in hits:
            if negated(self.toks, h.start, h.end, ends):
                ends.add(h.end - 1)
            else:
                kept.append(h)
        return kept
