"""Every value the web UI takes from a URL or a form is checked here, in one place.

- **Ids** (``/tx/{tx_id}``, ``/audio/{tx_id}``, a report's revision): decimal digits only, 1..2^63-1
  (the database's integer range); anything else is a 404 naming what was asked for, never a query.
- **Dates** (``?date=``, ``?from=``/``?to=``, a report's day): ``YYYY-MM-DD``, a real calendar date,
  within :data:`MIN_DATE`..:data:`MAX_DATE` (so that a day's start and end, the day before and
  after, and the time zone offset all stay inside Python's and the database's calendars); anything
  else is a 400 (in a path: 404) with the reason in Indonesian.
- **Channel ids** (``?channel=``): a ``channel.id`` slug (gateway/config_model.py ``ID_PATTERN``);
  anything else is a 400 saying what a channel id looks like.
- **Free text** from forms (transcript edits, notes, names): control characters (C0 but tab and
  newline, DEL, C1) and the Unicode bidirectional overrides/isolates are removed, so nothing stored
  can hide or reorder text on a page, in a CSV or in a terminal.
"""

from __future__ import annotations

import re
from datetime import date

from starlette.exceptions import HTTPException
from starlette.requests import Request

from gateway.config_model import ID_PATTERN

MAX_ID = 2**63 - 1
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2199, 12, 31)
_ID_RE = re.compile(r"[0-9]{1,19}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SLUG_RE = re.compile(ID_PATTERN)
# C0 except \t and \n, DEL, C1; LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI, LRM/RLM/ALM.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def parse_id(text: object, what: str = "Data") -> int:
    """A database id from URL text: 1..2^63-1, else HTTP 404 (the thing asked for cannot exist)."""
    if isinstance(text, str) and _ID_RE.fullmatch(text):
        value = int(text)
        if 1 <= value <= MAX_ID:
            return value
    shown = text[:40] if isinstance(text, str) else ""
    raise HTTPException(404, f"{what} {shown!r} tidak ada.")


def path_id(request: Request, name: str = "tx_id", what: str = "Transmisi") -> int:
    """The id in the path parameter ``name`` (see :func:`parse_id`)."""
    return parse_id(request.path_params.get(name), what)


def parse_date(text: str, name: str = "date", status: int = 400) -> date:
    """``YYYY-MM-DD`` within MIN_DATE..MAX_DATE, else HTTP ``status`` saying why, in Indonesian."""
    shown = text[:40]
    if not _DATE_RE.fullmatch(text):
        raise HTTPException(status, f"Tanggal tidak sah: {name}={shown!r} (YYYY-MM-DD).")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise HTTPException(status, f"Tanggal tidak sah: {name}={shown!r} (YYYY-MM-DD). Tanggal itu "
                                    "tidak ada di kalender.") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise HTTPException(status, f"Tanggal di luar rentang: {name}={shown!r} (antara "
                                    f"{MIN_DATE:%d-%m-%Y} dan {MAX_DATE:%d-%m-%Y}).")
    return day


def query_date(request: Request, name: str = "date", default: date | None = None) -> date | None:
    """The date in query parameter ``name``; ``default`` when it is absent (see :func:`parse_date`)."""
    text = request.query_params.get(name)
    if not text:
        return default
    return parse_date(text, name)


def query_slug(request: Request, name: str, what: str) -> str:
    """A gateway or channel id from the query; "" when absent; anything but a slug is HTTP 400."""
    text = request.query_params.get(name, "")
    if text and not _SLUG_RE.fullmatch(text):
        raise HTTPException(400, f"{what} tidak sah: {name}={text[:40]!r} (huruf kecil a-z, angka 0-9 dan "
                                 "'-', paling banyak 32, misalnya 'ch1').")
    return text


def query_int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    """A small whole number from the query (a page number): bad text gives ``default``, out of range
    is clamped to ``lo``..``hi``."""
    text = request.query_params.get(name, "")
    try:
        value = int(text[:100]) if text else default
    except ValueError:
        return default
    return min(hi, max(lo, value))


def clean_text(text: str) -> str:
    """``text`` without control characters and bidi overrides (see the module docstring)."""
    return _CONTROL_RE.sub("", text)
