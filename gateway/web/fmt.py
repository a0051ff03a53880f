"""How the web UI writes numbers, times and record kinds: Indonesian conventions, in one place.

Every template gets these as Jinja filters (:func:`install`):

- ``num``: a decimal comma and thousands grouped with a point (``9,7``; ``12.345``);
- ``seconds``: a duration, ``9,7 detik``;
- ``local``: a moment (a datetime, or ISO 8601 text with an offset) in the configured time zone, hours
  and minutes joined with a point and the zone's abbreviation after it (``20-11-2026 07.12 WIB``)
  whenever the format shows the time of day;
- ``clock``: just the time of day, ``07.12 WIB``;
- ``audit_kind``: an audit action in words (``transcript_edit`` → "transkrip diperbaiki");
- ``role``: a user role in words (``viewer`` → "pembaca");
- ``engine``: who wrote a transcript (``vosk`` → "pengenal suara", ``manual`` → "diketik operator");
- ``flag``: a transmission's mark in words (``kerchunk`` → "tekan singkat tanpa suara").
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from typing import Any

#: audit actions (gateway/web/auth.py, users.py, actions.py, admin.py, transmit.py) in words
AUDIT_KINDS = {
    "login_ok": "masuk", "login_failed": "gagal masuk", "logout": "keluar",
    "login_blocked": "masuk ditolak (terlalu banyak percobaan)", "transcript_edit": "transkrip diperbaiki",
    "transcript_verify": "transkrip diverifikasi", "assign": "stasiun ditetapkan",
    "assign_clear": "penetapan stasiun dihapus", "user_add": "pengguna ditambahkan",
    "user_passwd": "kata sandi diganti", "user_disable": "pengguna dinonaktifkan",
    "user_enable": "pengguna diaktifkan kembali", "user_role": "peran pengguna diubah",
    "followup_set": "tindak lanjut diubah", "announce": "pengumuman dikirim ke radio",
}
ROLES = {"viewer": "pembaca", "operator": "operator", "admin": "pengelola"}
ENGINES = {"vosk": "pengenal suara", "whisper": "pengenal suara (cadangan)", "manual": "diketik operator"}
FLAGS = {"kerchunk": "tekan singkat tanpa suara", "stuck": "penerima terus terbuka",
         "recovered": "dipulihkan", "cut_short": "terpotong", "needs_listening": "perlu didengar",
         "recording": "sedang direkam", "failed": "gagal"}


def num(value: float | int | None, digits: int = 1) -> str:
    """``9,7``; whole numbers without decimals; thousands grouped with a point (``12.345,5``)."""
    if value is None:
        return "-"
    if isinstance(value, int) or digits == 0:
        return f"{round(value):,}".replace(",", ".")
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def seconds(value: float | None) -> str:
    return f"{num(value, 1)} detik" if value is not None else "-"


def local(value: datetime | str | None, tz: tzinfo, fmt: str = "%d-%m-%Y %H:%M:%S") -> str:
    """A moment in ``tz``; ``value`` may also be ISO 8601 text with an offset (health.json's times); other
    text is shown as it is."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        if parsed.tzinfo is None:
            return parsed.strftime(fmt)  # no zone to convert from: as written
        value = parsed
    moment = value.astimezone(tz)
    text = moment.strftime(fmt)
    if "%H" in fmt:
        text = text.replace(":", ".") + " " + (moment.tzname() or "")
    return text.rstrip()


def clock(value: datetime | time | str | None, tz: tzinfo) -> str:
    """The time of day, ``07.12 WIB``: a datetime (converted), a time, or ``HH:MM`` text (a config value)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return local(value, tz, "%H:%M")
    zone = datetime.now(tz).tzname() or ""
    if isinstance(value, time):
        return f"{value:%H.%M} {zone}".rstrip()
    return f"{str(value).replace(':', '.')} {zone}".rstrip()


def words(table: dict[str, str]) -> Any:
    return lambda value: table.get(value or "", value or "-")


def install(env: Any, tz: tzinfo) -> None:
    """Register the filters on a Jinja environment."""
    env.filters.update(
        num=num, seconds=seconds, local=lambda v, fmt="%d-%m-%Y %H:%M:%S": local(v, tz, fmt),
        clock=lambda v: clock(v, tz), audit_kind=words(AUDIT_KINDS), role=words(ROLES),
        engine=words(ENGINES), flag=words(FLAGS))
