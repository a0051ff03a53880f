"""Checks of the configuration that look at more than one value (stations, lists), and reading
the file with limits. :mod:`gateway.config` calls these; each returns a problem as the part of the
one-line message after the file name (``"stations[2].ani = '101': already used by Tarutung"``), or
``None`` when all is well, and ``gateway.config`` raises :class:`~gateway.config.ConfigError`."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

#: Config files are small; a bigger one (or /dev/zero) is refused before it is read into memory.
MAX_CONFIG_BYTES = 1 << 20
#: Whole numbers fit SQLite's and PostgreSQL's 64-bit integers, whatever their own rule says.
INT_RANGE = (-(2**63), 2**63 - 1)
#: Characters no configuration string may hold (line breaks would end up in mail headers, CSV
#: cells and log lines; NUL in a path is an error deep inside the OS layer). Tab is allowed.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
ANI = re.compile(r"[0-9A-D*#]{3,5}")
#: A bare mail address (``name@host.example``): what SMTP's envelope and the From/To headers take.
_ATOM = r"[^\s@<>()\[\],;:\\\"]+"
MAIL_ADDRESS = re.compile(rf"{_ATOM}@[^\s@<>()\[\],;:\\\".]+(\.[^\s@<>()\[\],;:\\\".]+)*")
#: A host name: labels of letters, digits and '-' (an IPv4 address is one too).
HOST = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
#: Gazetteer files are a kabupaten's rows or the whole base.csv (a few MB) or its wheel.
MAX_GAZETTEER_BYTES = 64 << 20


def _is_host(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return HOST.fullmatch(text) is not None
    return True


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr`` for a one-line message: cut at ``limit`` characters, safe for values nested deep."""
    try:
        text = repr(value)
    except RecursionError:
        text = f"<{type(value).__name__} nested too deeply>"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def spoken_form(text: str) -> str:
    """A name as identification hears it: case and spacing do not tell two names apart."""
    return " ".join(text.casefold().split())


def station_problem(stations: tuple[Any, ...]) -> str | None:
    """Names non-empty and unique (case-insensitively), ANIs well-formed and unique, codes unique,
    and no spoken name or alias shared by two stations (identification would have to guess)."""
    names: set[str] = set()
    anis: dict[str, str] = {}
    codes: dict[str, str] = {}
    spoken: dict[str, str] = {}
    for i, st in enumerate(stations):
        if not st.name.strip():
            return f"stations[{i}].name = {st.name!r}: must not be empty"
        if st.name.casefold() in names:
            return f"stations[{i}].name = {st.name!r}: duplicate station"
        names.add(st.name.casefold())
        for code in st.ani:
            if not ANI.fullmatch(code):
                return f"stations[{i}].ani = {code!r}: expected 3-5 DTMF digits"
            if code in anis:
                return f"stations[{i}].ani = {code!r}: already used by {anis[code]}"
            anis[code] = st.name
        if st.code and st.code in codes:
            return f"stations[{i}].code = {st.code!r}: already used by {codes[st.code]}"
        codes[st.code] = st.name
        for alias in st.aliases:
            if not alias.strip():
                return f"stations[{i}].aliases = {alias!r}: must not be empty"
        for alias in (st.name, *st.aliases):
            owner = spoken.setdefault(spoken_form(alias), st.name)
            if owner != st.name:
                return f"stations[{i}].aliases = {alias!r}: already the name or an alias of {owner}"
    return None


def list_problem(key: str, values: tuple[str, ...]) -> str | None:
    """A list of names (OPDs, mail recipients): no empty entries, none twice."""
    seen: set[str] = set()
    for v in values:
        if not v.strip():
            return f"{key} = {v!r}: must not be empty"
        if v.casefold() in seen:
            return f"{key} = {v!r}: listed twice"
        seen.add(v.casefold())
    return None


def mail_problem(email: Any, recipients: tuple[str, ...]) -> str | None:
    """``report.email``'s addresses and server, and ``alerts.recipients``: bare addresses
    (``bpbd@taput.example``, no display name), a host name or address without scheme or port."""
    for key, values in (("report.email.to", email.to), ("alerts.recipients", recipients),
                        ("report.email.sender", (email.sender,) if email.sender else ())):
        for v in values:
            if not MAIL_ADDRESS.fullmatch(v):
                return f"{key} = {short_repr(v)}: not a mail address; expected e.g. 'bpbd@taput.example'"
    if email.smtp_host and not _is_host(email.smtp_host):
        return (f"report.email.smtp_host = {short_repr(email.smtp_host)}: not a host name or address; "
                "expected e.g. 'mail.taput.example' (the port is report.email.smtp_port)")
    return None


def store_url_problem(url: str) -> str | None:
    """``store.url``: a database URL SQLAlchemy can read, of a database it knows (the driver
    package itself is needed only when it connects)."""
    if not url:
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from gateway.store.db import safe_url

    shown = short_repr(safe_url(url))  # never the password
    expected = "expected e.g. 'postgresql+psycopg://user:password@host/dbname' (empty: SQLite)"
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return f"store.url = {shown}: not a database URL; {expected}"
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        return f"store.url = {shown}: unknown database {parsed.drivername!r}; {expected}"
    except ImportError as e:  # a dialect module that needs a package not installed
        return f"store.url = {shown}: {parsed.drivername!r} needs a package not installed ({e.name})"
    return None


def gazetteer_problem(cfg: Any) -> str | None:
    """``lexicon.gazetteer``: a file holding the rows of the kabupaten the stations' codes name
    (gateway/lexicon/gazetteer.py reads it), or empty."""
    if not cfg.lexicon.gazetteer:
        return None
    from gateway.lexicon import gazetteer

    value = short_repr(cfg.lexicon.gazetteer)
    path = cfg.resolve_path(cfg.lexicon.gazetteer)
    code = gazetteer.kabupaten_of([st.code for st in cfg.stations])
    if code is None:
        return (f"lexicon.gazetteer = {value}: the stations' codes name no one kabupaten to read from it "
                "(set stations[].code, e.g. '12.02.01', or leave lexicon.gazetteer empty)")
    try:
        if not path.is_file():
            return f"lexicon.gazetteer = {value}: {path}: " + (
                "not a file" if path.exists() else "no such file")
        if path.stat().st_size > MAX_GAZETTEER_BYTES:
            return f"lexicon.gazetteer = {value}: {path}: larger than {MAX_GAZETTEER_BYTES >> 20} MiB"
        gazetteer.load(path, code)
    except gazetteer.GazetteerError as e:
        return f"lexicon.gazetteer = {value}: {str(e).splitlines()[0] if str(e) else e.__class__.__name__}"
    except (OSError, ValueError) as e:
        return f"lexicon.gazetteer = {value}: cannot read {path}: {e.__class__.__name__}"
    return None


def read_config_text(p: Path) -> tuple[str | None, str]:
    """The file's text, or (None, why not): not found, not a regular file, too big, unreadable,
    not UTF-8. Never raises for a bad path (NUL in it, a directory, a FIFO, /dev/zero)."""
    try:
        if not p.exists():
            return None, "config file not found"
        if not p.is_file():
            return None, "cannot read config file: not a regular file"
        with p.open("rb") as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            return None, f"cannot read config file: larger than {MAX_CONFIG_BYTES} bytes"
        return data.decode("utf-8"), ""
    except FileNotFoundError:
        return None, "config file not found"
    except (OSError, ValueError) as e:  # ValueError: not UTF-8, or NUL in the path
        return None, f"cannot read config file: {e.__class__.__name__}"
