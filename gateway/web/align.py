"""Word alignment of an edited transcript against the recogniser's timed words, in O(n log n).

``difflib.SequenceMatcher`` is quadratic (and worse) on long token lists: a 5,000-word transcript
took tens of seconds. This is a patience diff instead:

1. the common prefix and suffix are matched;
2. small remainders (``len(a) * len(b) <= SMALL``) go to difflib, which is cheap there and gives the
   same answer as before on ordinary edits;
3. larger ones are split at *anchors*, tokens that occur exactly once on each side, taking the
   longest increasing run of them (patience sorting, O(k log k)), and the gaps between anchors are
   aligned the same way, at most ``MAX_DEPTH`` levels deep; a gap without anchors is a replacement.

Each level costs O(n log n); difflib only ever sees pieces whose product is at most ``SMALL``, so its
total work is O(sqrt(SMALL) * n).
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

SMALL = 1024
MAX_DEPTH = 4
_EDGE_PUNCT = re.compile(r"^\W+|\W+$")

Block = tuple[int, int, int]  # a[i:i+n] == b[j:j+n]


def key(word: str) -> str:
    """How words are compared: case and edge punctuation do not count."""
    return _EDGE_PUNCT.sub("", word).casefold()


def _lis(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of ``pairs`` (sorted by the first item) increasing in the second item."""
    tails: list[int] = []  # tails[k]: smallest j ending a run of length k + 1
    tail_at: list[int] = []  # index into pairs of that end
    prev = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(n)
        else:
            tails[k], tail_at[k] = j, n
        prev[n] = tail_at[k - 1] if k > 0 else -1
    out: list[tuple[int, int]] = []
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        out.append(pairs[n])
        n = prev[n]
    return out[::-1]


def _match(a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int, bhi: int, depth: int,
           out: list[Block]) -> None:
    head = 0
    while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
        head += 1
    if head:
        out.append((alo, blo, head))
    alo, blo = alo + head, blo + head
    tail = 0
    while alo < ahi - tail and blo < bhi - tail and a[ahi - tail - 1] == b[bhi - tail - 1]:
        tail += 1
    ahi, bhi = ahi - tail, bhi - tail
    if alo < ahi and blo < bhi:
        if (ahi - alo) * (bhi - blo) <= SMALL:
            sm = difflib.SequenceMatcher(a=a[alo:ahi], b=b[blo:bhi], autojunk=False)
            out += [(alo + i, blo + j, n) for i, j, n in sm.get_matching_blocks() if n]
        elif depth < MAX_DEPTH:
            _split_at_anchors(a, b, alo, ahi, blo, bhi, depth, out)
    if tail:
        out.append((ahi, bhi, tail))


def _split_at_anchors(a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int, bhi: int,
                      depth: int, out: list[Block]) -> None:
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and a[i] in where_b]
    anchors = _lis(pairs)
    if not anchors:
        return  # nothing in common that can be told apart: the whole gap is a replacement
    i0, j0 = alo, blo
    for i, j in anchors:
        _match(a, b, i0, i, j0, j, depth + 1, out)
        out.append((i, j, 1))
        i0, j0 = i + 1, j + 1
    _match(a, b, i0, ahi, j0, bhi, depth + 1, out)


def matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[Block]:
    """Blocks of equal items, increasing in both sequences (like difflib's, without the sentinel)."""
    out: list[Block] = []
    _match(a, b, 0, len(a), 0, len(b), 0, out)
    return out


def opcodes(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """``equal``/``replace``/``delete``/``insert`` steps from ``a`` to ``b``, as difflib names them."""
    ops: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    for ai, bj, n in [*matching_blocks(a, b), (len(a), len(b), 0)]:
        tag = "replace" if i < ai and j < bj else "delete" if i < ai else "insert" if j < bj else ""
        if tag:
            ops.append((tag, i, ai, j, bj))
        i, j = ai + n, bj + n
        if n:
            ops.append(("equal", ai, i, bj, j))
    return ops


def realign(old_words: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Words for an edited text, timed from the recogniser's words: an unchanged word keeps its time,
    new words share the span of the words they replace (or the gap they are inserted in)."""
    tokens = text.split()
    timed = [w for w in old_words
             if isinstance(w.get("start"), int | float) and isinstance(w.get("end"), int | float)]
    if not timed or not tokens:
        return []
    out: list[dict[str, Any]] = []
    old_keys = [key(str(w.get("word", ""))) for w in timed]
    for tag, i1, i2, j1, j2 in opcodes(old_keys, [key(t) for t in tokens]):
        if tag == "equal":
            out += [{"word": tokens[j1 + k], "start": timed[i1 + k]["start"], "end": timed[i1 + k]["end"],
                     "conf": 1.0} for k in range(j2 - j1)]
        elif tag in ("replace", "insert"):
            if i2 > i1:
                lo, hi = float(timed[i1]["start"]), float(timed[i2 - 1]["end"])
            else:  # inserted between two words: the gap between them (may be empty)
                lo = float(timed[i1 - 1]["end"]) if i1 > 0 else float(timed[0]["start"])
                hi = float(timed[i1]["start"]) if i1 < len(timed) else lo
            step = max(0.0, hi - lo) / (j2 - j1)
            out += [{"word": tokens[j1 + k], "start": round(lo + k * step, 3),
                     "end": round(lo + (k + 1) * step, 3), "conf": 1.0} for k in range(j2 - j1)]
    return out
