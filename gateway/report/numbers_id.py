"""Indonesian numbers as camats say them and as recognisers write them, turned into values.

Accepted forms (tokens are matched case-insensitively):

* number words: ``nol`` .. ``sembilan``, ``X belas`` (12..19), ``X puluh [Y]``, ``X ratus``, the scales
  ``ribu``, ``juta``, ``miliar``/``milyar``, ``triliun``, and the ``se-`` forms ``sepuluh``,
  ``sebelas``, ``seratus``, ``seribu``, ``sejuta``, ``semiliar`` -- also split as recognisers split
  them (``se belas``, ``se ratus``, ``se ribu``) and the non-standard ``satu ratus``/``satu ribu``;
* digits: ``12``, ``60.000`` or ``60,000`` (a separator followed by exactly three digits is a
  thousands separator), ``1,5``/``1.5`` (decimal), with a scale written after (``11 ribu``,
  ``1,5 juta``) or glued on (``60rb``, ``60ribu``, ``15k``, ``2jt``);
* halves and decimals: ``setengah`` (0.5), ``satu setengah`` (1.5), ``dua setengah juta``
  (2 500 000), ``satu koma lima`` (1.5, digits after ``koma`` are read one by one);
* ``X ribuan`` ("about X thousand", as prices are often said) counts as X thousand; a bare
  ``ribuan``/``ratusan``/``puluhan`` ("thousands of") is an amount, not a number, and gives nothing;
* a few spellings recognisers produce for number words (``tuju``, ``puruh``, ``rebu``, ``rb``...).

Digit-by-digit readings. A run of bare digit words (``satu``..``sembilan``, ``nol``, or one-digit
numerals, none followed by ``belas``/``puluh``/``ratus``/a scale) is how codes, phone numbers and
ANIs are read out. The rule, for quantities (the default):

* three or more bare digits (``satu nol satu``), or two starting with ``nol`` (``nol lima``), are
  read digit by digit: 101, 5;
* exactly two (``satu dua``, ``dua tiga``, ``delapan enam``) are ambiguous -- in speech they are a
  range ("one or two", "two or three houses") or a radio code ("86" = roger) -- so
  :func:`parse_number` gives nothing there and :func:`scan_numbers` skips both tokens.

When the caller knows the words are read digit by digit (an ANI, a phone number),
``parse_number(..., digit_by_digit=True)`` reads any run that way ("satu dua" -> 12), and
:func:`read_digits` returns the digit string itself, keeping leading zeros ("nol delapan" -> "08";
``kosong`` counts as 0 there only; a group said as a number counts as its digits, "nol delapan dua
belas" -> "0812").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Number = int | float

UNITS = {"nol": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
         "delapan": 8, "sembilan": 9}
SCALES = {"ribu": 10**3, "ribuan": 10**3, "juta": 10**6, "miliar": 10**9, "triliun": 10**12}
#: ``se-`` + scale in one word: one of that scale.
SE_SCALES = {"seribu": 10**3, "sejuta": 10**6, "semiliar": 10**9, "setriliun": 10**12}
#: How recognisers (and speakers) spell number words; mapped before anything else.
VARIANTS = {"tuju": "tujuh", "lapan": "delapan", "ampat": "empat", "pulu": "puluh", "puruh": "puluh",
            "blas": "belas", "rebu": "ribu", "ribuh": "ribu", "rb": "ribu", "rbu": "ribu", "jt": "juta",
            "jta": "juta", "milyar": "miliar", "millyar": "miliar", "se-": "se"}
#: Words that make the digit word before them part of a compound number.
COMBINERS = {"belas", "puluh", "ratus", "setengah", "koma", *SCALES}
#: Zero as read in phone numbers; only inside :func:`read_digits`.
DIGIT_ZERO = {"kosong"}

_SEP_THOUSANDS = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")
_DECIMAL = re.compile(r"^\d+[.,]\d+$")
_NUMERAL = re.compile(r"^(\d[\d.,]*?\d|\d)(rb|rbu|ribu|rebu|k|jt|juta|miliar|milyar)?$")
_GLUED_SCALE = {"rb": 10**3, "rbu": 10**3, "ribu": 10**3, "rebu": 10**3, "k": 10**3, "jt": 10**6,
                "juta": 10**6, "miliar": 10**9, "milyar": 10**9}
_SINGLE_DIGIT = re.compile(r"^\d$")


def _tok(tokens: Sequence[str], j: int) -> str:
    """Token j, lower-cased and with recogniser spellings mapped; "" past the end."""
    if j < 0 or j >= len(tokens):
        return ""
    t = tokens[j].lower()
    return VARIANTS.get(t, t)


def _clean(value: Number) -> Number:
    """An int when the value is whole (floating-point noise from ``1.2 * 10**6`` removed)."""
    value = round(value, 6)
    return int(value) if float(value).is_integer() else float(value)


#: Longer digit strings are read as no number at all (a typed or misheard run of digits, not a count
#: or a price; Python also refuses to convert integers of more than 4300 digits).
MAX_NUMERAL_CHARS = 18


def numeral_value(token: str) -> tuple[Number, int] | None:
    """A token written in digits: (value, glued-on scale or 1), e.g. "60.000" -> (60000, 1),
    "60rb" -> (60, 1000), "1,5" -> (1.5, 1); None when it is not such a token."""
    m = _NUMERAL.match(token.lower())
    if not m:
        return None
    digits, suffix = m.group(1), m.group(2)
    if len(digits) > MAX_NUMERAL_CHARS:  # no count or price has that many digits: not a quantity
        return None
    if _SEP_THOUSANDS.match(digits):
        value: Number = int(re.sub(r"[.,]", "", digits))
    elif _DECIMAL.match(digits):
        value = float(digits.replace(",", "."))
    elif digits.isdigit():
        value = int(digits)
    else:
        return None
    return value, _GLUED_SCALE[suffix] if suffix else 1


def _unit(t: str) -> int | None:
    return UNITS.get(t)


def _is_bare_digit(tokens: Sequence[str], j: int) -> bool:
    t = _tok(tokens, j)
    return (t in UNITS or bool(_SINGLE_DIGIT.match(t))) and _tok(tokens, j + 1) not in COMBINERS


def _bare_run(tokens: Sequence[str], i: int) -> int:
    n = 0
    while _is_bare_digit(tokens, i + n):
        n += 1
    return n


def _digit_char(t: str) -> str | None:
    if t in UNITS:
        return str(UNITS[t])
    if t in DIGIT_ZERO:
        return "0"
    if t.isdigit():
        return t
    return None


def read_digits(tokens: Sequence[str], i: int) -> tuple[str, int] | None:
    """A number read digit by digit ("satu nol satu", "nol 8 1 2"): (digit string, tokens used).
    Groups said as numbers inside it count as their digits ("nol delapan dua belas" -> "0812")."""
    out: list[str] = []
    j = i
    while True:
        t = _tok(tokens, j)
        if _is_bare_digit(tokens, j) or t in DIGIT_ZERO or (t.isdigit() and len(t) > 1):
            out.append(_digit_char(t) or "")
            j += 1
        elif (group := _small(tokens, j)) and group[0] >= 10 and _tok(tokens, group[1]) not in SCALES:
            out.append(str(group[0]))
            j = group[1]
        else:
            break
    return ("".join(out), j - i) if out else None


def _tens(tokens: Sequence[str], k: int, allow_zero: bool) -> tuple[int, int] | None:
    """0..99 at k: (value, index after)."""
    t = _tok(tokens, k)
    if t == "sepuluh":
        return 10, k + 1
    if t == "sebelas":
        return 11, k + 1
    if t == "se" and _tok(tokens, k + 1) in ("puluh", "belas"):
        return (10 if _tok(tokens, k + 1) == "puluh" else 11), k + 2
    d = _unit(t)
    if d is None:
        return None
    if d == 0:
        return (0, k + 1) if allow_zero else None
    after = _tok(tokens, k + 1)
    if after == "belas":
        return 10 + d, k + 2
    if after == "puluh":
        u = _unit(_tok(tokens, k + 2))
        if u and _tok(tokens, k + 3) not in ("belas", "puluh", "ratus"):
            return d * 10 + u, k + 3
        return d * 10, k + 2
    if after == "ratus":
        return None
    return d, k + 1


def _small(tokens: Sequence[str], j: int) -> tuple[int, int] | None:
    """0..999 in words at j: (value, index after)."""
    t = _tok(tokens, j)
    hundreds, k = 0, j
    if t == "seratus":
        hundreds, k = 100, j + 1
    elif t == "se" and _tok(tokens, j + 1) == "ratus":
        hundreds, k = 100, j + 2
    elif (u := _unit(t)) and _tok(tokens, j + 1) == "ratus":
        hundreds, k = u * 100, j + 2
    rest = _tens(tokens, k, allow_zero=not hundreds)
    if rest:
        return hundreds + rest[0], rest[1]
    return (hundreds, k) if k > j else None


def _decimals(tokens: Sequence[str], k: int) -> tuple[str, int]:
    """Digits after ``koma``, read one by one: (digit string, index after)."""
    out: list[str] = []
    while True:
        t = _tok(tokens, k)
        if t in UNITS:
            out.append(str(UNITS[t]))
        elif t.isdigit():
            out.append(t)
        else:
            return "".join(out), k
        k += 1


def _group(tokens: Sequence[str], j: int) -> tuple[Number, int, int] | None:
    """One group "value [scale]" at j: (value, scale, index after)."""
    t = _tok(tokens, j)
    if t in SE_SCALES:
        return 1, SE_SCALES[t], j + 1
    if t == "se" and _tok(tokens, j + 1) in SCALES:
        return 1, SCALES[_tok(tokens, j + 1)], j + 2
    value: Number
    if t == "setengah":
        value, k = 0.5, j + 1
    elif (num := numeral_value(t)) is not None:
        value, glued = num
        if glued > 1:
            return value, glued, j + 1
        k = j + 1
    elif (small := _small(tokens, j)) is not None:
        value, k = small
        if _tok(tokens, k) == "setengah":
            value, k = value + 0.5, k + 1
        elif _tok(tokens, k) == "koma":
            digits, k2 = _decimals(tokens, k + 1)
            if digits:
                value, k = float(f"{value}.{digits}"), k2
    else:
        return None
    scale = SCALES.get(_tok(tokens, k))
    return (value, scale, k + 1) if scale else (value, 1, k)


def parse_number(tokens: Sequence[str], i: int, *, digit_by_digit: bool = False) -> tuple[Number, int] | None:
    """The number starting at ``tokens[i]``: (value, tokens consumed), or None.

    The value is an int when whole ("dua belas" -> 12, "setengah juta" -> 500000) and a float
    otherwise ("satu setengah" -> 1.5). Parsing is greedy but stops where the words stop forming
    one number: a scale must be smaller than the one before it ("lima ribu dua ribu" is 5000,
    then 2000). See the module docstring for digit-by-digit readings.
    """
    if i < 0 or i >= len(tokens):
        return None
    if digit_by_digit:
        read = read_digits(tokens, i)
        return (int(read[0]), read[1]) if read else None
    run = _bare_run(tokens, i)
    if run >= 3 or (run == 2 and _tok(tokens, i) in ("nol", "0")):
        read = read_digits(tokens[: i + run], i)
        return (int(read[0]), run) if read else None
    if run == 2:
        return None
    total: Number = 0
    j, last, got = i, None, False
    while (g := _group(tokens, j)) is not None:
        value, scale, after = g
        if last is not None and value * scale >= last:
            break
        total += value * scale
        j, got = after, True
        if scale == 1:
            break
        last = scale
    return (_clean(total), j - i) if got else None


def scan_numbers(tokens: Sequence[str]) -> list[tuple[int, int, Number]]:
    """Every number in ``tokens``, left to right: (start, end, value); ambiguous two-digit runs
    ("dua tiga") are skipped whole, so their second word is not taken as a number either."""
    out: list[tuple[int, int, Number]] = []
    i = 0
    while i < len(tokens):
        run = _bare_run(tokens, i)
        if run == 2 and _tok(tokens, i) not in ("nol", "0"):
            i += 2
            continue
        got = parse_number(tokens, i)
        if got is None:
            i += 1
            continue
        out.append((i, i + got[1], got[0]))
        i += got[1]
    return out


def split_number_text(text: str) -> list[str]:
    """Text to number tokens: lower case, split on spaces and hyphens ("se-belas"), outer
    punctuation dropped (inner dots and commas of numerals kept)."""
    tokens = []
    for part in re.split(r"[\s\-]+", text.lower()):
        part = part.strip(".,;:!?\"'()")
        if part:
            tokens.append(part)
    return tokens


def words_to_number(text: str) -> int | None:
    """The whole text as one whole number ("dua belas" -> 12, "60.000" -> 60000); None when the
    text is not exactly one number or the number is not whole (use :func:`parse_number` for 0.5)."""
    tokens = split_number_text(text)
    got = parse_number(tokens, 0) if tokens else None
    if got is None or got[1] != len(tokens) or not isinstance(got[0], int):
        return None
    return got[0]
