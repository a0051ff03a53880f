"""Web subcommands: ``web`` (serve the UI) and ``user`` (add, list, passwd, disable, enable).

There is no default user: create the first admin with ``ht-gateway user add NAME --role admin``. The
password is asked twice on the terminal, or read from standard input with ``--password-stdin`` (one
line of UTF-8 text) for scripts; at least 10 characters.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.common import CommandAdder, port_number
from gateway.config import Config, ConfigError

if TYPE_CHECKING:
    from gateway.store.db import Database

log = logging.getLogger(__name__)
NOT_UTF8 = "the password is not valid UTF-8 text; nothing changed"


def add_parsers(cmd: CommandAdder) -> None:
    p = cmd("web", "serve the web UI (web.host:web.port; log in with a user made by `ht-gateway user add`)")
    p.add_argument("--host", help="listen on this address instead of web.host")
    p.add_argument("--port", type=port_number, help="listen on this port instead of web.port")
    p = cmd("user", "web UI users: add, list, passwd, disable, enable")
    p.add_argument("action", choices=["add", "list", "passwd", "disable", "enable"])
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("--role", choices=["viewer", "operator", "admin"], help="for add (required)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input (one line) instead of asking twice")


def _actor() -> str:
    return f"cli:{os.environ.get('SUDO_USER') or getpass.getuser()}"


def read_password(from_stdin: bool) -> str:
    """The password, one line; refused unless it is UTF-8 text (it is hashed as UTF-8)."""
    if from_stdin:
        raw = getattr(sys.stdin, "buffer", None)  # bytes: the locale's decoding would hide bad ones
        try:
            line = raw.readline().decode("utf-8") if raw is not None else sys.stdin.readline()
        except UnicodeDecodeError:
            raise ConfigError(NOT_UTF8) from None
        return _utf8(line[:-1] if line.endswith("\n") else line)
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask the password on: use --password-stdin")
    try:
        first, again = getpass.getpass("Password: "), getpass.getpass("Password again: ")
    except (EOFError, KeyboardInterrupt):
        raise ConfigError("cancelled; nothing changed") from None
    if first != again:
        raise ConfigError("the two passwords differ; nothing changed")
    return _utf8(first)


def _utf8(password: str) -> str:
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, carried as surrogates (surrogateescape)
        raise ConfigError(NOT_UTF8) from None
    return password


def dispatch(args: argparse.Namespace, cfg: Config, data_dir: Path) -> int:
    from gateway.cli.db import READ, ROW, open_db

    # user changes are a few rows in one short transaction: allowed next to a running daemon (the
    # office creates its first admin while the recorder runs); see gateway.cli.db
    what = "web" if args.command == "web" else f"user {args.action}"
    access = READ if args.command == "user" and args.action == "list" else ROW
    with open_db(cfg, data_dir, what, access) as db:
        if args.command == "web":
            return _serve(args, cfg, db, data_dir)
        return _user(args, db)


def _user(args: argparse.Namespace, db: Database) -> int:
    from gateway.web import users

    if args.action != "list" and not args.name:
        raise ConfigError(f"user {args.action}: give a user NAME")
    try:
        if args.action == "list":
            rows = users.list_users(db)
            for u in rows:
                state = "disabled" if u.disabled else "active"
                print(f"{u.name}\t{u.role}\t{state}\tcreated {u.created_at:%Y-%m-%d %H:%M} UTC")
            if not rows:
                print("no users: create the first with `ht-gateway user add NAME --role admin`")
            return 0
        if args.action == "add":
            if args.role is None:
                raise ConfigError("user add: --role viewer|operator|admin is required")
            users.normalize_name(args.name)
            u = users.add_user(db, args.name, args.role, read_password(args.password_stdin), _actor())
            print(f"user {u.name} added ({u.role})")
        elif args.action == "passwd":
            users.set_password(db, args.name, read_password(args.password_stdin), _actor())
            print(f"user {args.name}: password changed; their sessions ended")
        else:
            users.set_disabled(db, args.name, args.action == "disable", _actor())
            print(f"user {args.name} {args.action}d")
    except users.UserError as e:
        raise ConfigError(f"user {args.action}: {e}") from None
    return 0


def _serve(args: argparse.Namespace, cfg: Config, db: Database, data_dir: Path) -> int:
    import uvicorn

    from gateway.web import users
    from gateway.web.app import create_app

    host = args.host or cfg.web.host
    port = args.port or cfg.web.port
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port {port}: expected 1..65535")
    if not any(u.role == "admin" and not u.disabled for u in users.list_users(db)):
        log.warning("no active admin user yet: create one with `ht-gateway user add NAME --role admin`")
    if host not in ("127.0.0.1", "::1", "localhost") and not cfg.web.secure_cookies:
        log.warning("web.host = %r serves the network over plain HTTP: put an HTTPS reverse proxy in front "
                    "and set web.secure_cookies = true", host)
    app = create_app(cfg, db, data_dir)
    print(f"ht-gateway web UI on http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    # proxy_headers=False: the app itself honours X-Forwarded-For, and only from web.trusted_proxies
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False, proxy_headers=False)
    return 0
