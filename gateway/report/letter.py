"""The PDF as an official letter: letterhead (logo, office, address), nomor surat, NIP under the
signature. Configured in ``[report.letter]`` (docs/configuration.md).

The report content carries these as ``letter`` (not part of its content hash: a new logo or NIP is
not a change to what the report says); the number is made at render time from the pattern, the
report's date and revision, so every revision of a day has its own number.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.report.document import Letter

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
FIELDS = ("seq", "rev", "day", "month", "month_roman", "year")
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


def number(pattern: str, day: date, revision: int | None) -> str:
    """``pattern`` filled in: {seq} the day of the year (3 digits), {rev} the revision (1 for a
    draft), {day} {month} (2 digits), {month_roman} (XI), {year}."""
    if not pattern:
        return ""
    return pattern.format(seq=f"{day.timetuple().tm_yday:03d}", rev=revision or 1, day=f"{day.day:02d}",
                          month=f"{day.month:02d}", month_roman=ROMAN[day.month - 1], year=day.year)


def info(cfg: Any) -> Letter:
    """What the report content keeps of ``[report.letter]`` (the logo as an absolute path)."""
    le = cfg.report.letter
    return Letter(logo=str(cfg.resolve_path(le.logo)) if le.logo else None, office=le.office,
                  address=le.address, number_pattern=le.number_pattern, nip=le.signatory_nip)


def problem(cfg: Any) -> str | None:
    """A line saying what is wrong with ``[report.letter]``, else None."""
    le = cfg.report.letter
    if le.number_pattern:
        try:
            number(le.number_pattern, date(2026, 11, 20), 1)
        except (KeyError, IndexError, ValueError):
            return (f"report.letter.number_pattern = {le.number_pattern!r}: unknown field or braces; "
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
