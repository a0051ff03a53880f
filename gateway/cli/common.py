"""Small pieces the command-line modules share: the argument types for dates and record ids.

Every subcommand takes its dates with :func:`iso_date` and its record ids (transmissions,
follow-ups, revisions) with :func:`record_id`, so a bad value is always argparse's one usage line
(``ht-gateway assign: error: argument TX_ID: ...``, exit status 2), never a traceback:

- dates are YYYY-MM-DD between :data:`MIN_DATE` and :data:`MAX_DATE`: a day's bounds in any time
  zone (``export.day_bounds``), "the day after" and ranges of days stay inside what ``datetime``,
  SQLite and PostgreSQL can hold;
- ids are whole numbers 1 .. 2^63-1 (a 64-bit database integer); ``0``, negative, ``1e3``, ``0x10``
  and anything larger are refused.

Every ``--out`` (export, report, stations, backup) is written by :func:`gateway.outfile.out_file`:
checked before any work, then whole or not at all, except a FIFO or a device, which is written through.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import date

from gateway.outfile import OutFile, check_out, out_file, write_out
from gateway.timeutil import MAX_DATE, MIN_DATE

__all__ = ["MAX_DATE", "MIN_DATE", "OutFile", "check_out", "iso_date", "out_file", "port_number",
           "record_id", "write_out"]

#: ``cmd(name, help)`` from gateway.cli.main: adds one subcommand's parser (with the global options).
CommandAdder = Callable[[str, str], argparse.ArgumentParser]

MAX_ID = 2**63 - 1
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ID = re.compile(r"[0-9]{1,19}")


def iso_date(text: str) -> date:
    """An argparse type: YYYY-MM-DD in MIN_DATE..MAX_DATE (argparse prefixes the option's name)."""
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_show(text)}: expected YYYY-MM-DD") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise argparse.ArgumentTypeError(f"{_show(text)}: expected a date from {MIN_DATE} to {MAX_DATE}")
    return day


def record_id(text: str) -> int:
    """An argparse type: a record id, a whole number 1..2^63-1 written in decimal digits."""
    value = int(text) if _ID.fullmatch(text.strip()) else 0
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"{_show(text)}: expected an id, a whole number from 1 to {MAX_ID}")
    return value


def port_number(text: str) -> int:
    """An argparse type: a TCP port 1..65535."""
    value = int(text) if re.fullmatch(r"[0-9]{1,5}", text.strip()) else 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{_show(text)}: expected a port number from 1 to 65535")
    return value


def _show(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:39] + "…")
