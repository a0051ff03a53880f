"""The PDF as an official letter: letterhead (logo, office, address), nomor surat, NIP under the
signature. Configured in ``[report.letter]`` (docs/configuration.md).

The report content carries these as ``letter`` (not part of its content hash: a new logo or NIP is
not a change to what the report says); the number is made at render time from the pattern, the
report's date and revision, so every revision of a day has its own number.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from gateway.config_checks import short_repr
from gateway.report.document import Letter

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
FIELDS = ("seq", "rev", "day", "month", "month_roman", "year")
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
MAX_PATTERN = 100  # characters: a nomor surat is one short line


#: A pattern's pieces: ``{{`` and ``}}`` (a brace), ``{...}`` (a field), a lone brace (an error).
_PIECE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is no number pattern, else None. Only the plain fields of :data:`FIELDS`:
    no attribute or index access (``{seq.__class__}``), no conversion (``!r``), no format spec
    (``{seq:>99999999}``), no positional field; ``{{`` and ``}}`` are braces."""
    if len(pattern) > MAX_PATTERN:
        return f"longer than {MAX_PATTERN} characters"
    for m in _PIECE.finditer(pattern):
        if m.group(0) in ("{{", "}}"):
            continue
        if m.group(1) is None:
            return f"unmatched {m.group(0)!r} (write {m.group(0) * 2!r} for a brace)"
        if re.fullmatch(r"\w+", m.group(1)) and m.group(1) not in FIELDS:
            return f"unknown field {m.group(0)!r}"
        if m.group(1) not in FIELDS:
            return f"{m.group(0)!r}: only plain fields (no format spec, conversion, index or attribute)"
    return None


def number(pattern: str, day: date, revision: int | None) -> str:
    """``pattern`` filled in: {seq} the day of the year (3 digits), {rev} the revision (1 for a
    draft), {day} {month} (2 digits), {month_roman} (XI), {year}. Only these plain fields are
    filled in (never ``str.format``: a report filed with another pattern cannot reach attributes
    or ask for a huge width); anything else stays as written."""
    if not pattern:
        return ""
    values = {"seq": f"{day.timetuple().tm_yday:03d}", "rev": str(revision or 1), "day": f"{day.day:02d}",
              "month": f"{day.month:02d}", "month_roman": ROMAN[day.month - 1], "year": str(day.year)}

    def fill(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        return values.get(m.group(1) or "", m.group(0))

    return _PIECE.sub(fill, pattern)


def info(cfg: Any) -> Letter:
    """What the report content keeps of ``[report.letter]`` (the logo as an absolute path)."""
    le = cfg.report.letter
    return Letter(logo=str(cfg.resolve_path(le.logo)) if le.logo else None, office=le.office,
                  address=le.address, number_pattern=le.number_pattern, nip=le.signatory_nip)


def problem(cfg: Any) -> str | None:
    """A line saying what is wrong with ``[report.letter]``, else None."""
    le = cfg.report.letter
    if le.number_pattern and (why := pattern_problem(le.number_pattern)) is not None:
        return (f"report.letter.number_pattern = {short_repr(le.number_pattern)}: {why}; "
                f"use {', '.join('{' + f + '}' for f in FIELDS)}")
    if le.logo:
        path = cfg.resolve_path(le.logo)
        try:
            head = path.read_bytes()[:8]
        except OSError as e:
            return f"report.letter.logo = {le.logo!r}: cannot read {path}: {e.strerror or e}"
        if not head.startswith(IMAGE_MAGIC):
            return f"report.letter.logo = {le.logo!r}: {path} is not a PNG or JPEG image"
    return None
