"""``ht-gateway user`` (and ``web``'s parser): the first admin from a script, password rules, no default user.

Runs ``gateway.cli.web`` through its own argparse wiring (as gateway/cli/main.py mounts it), over SQLite and
a real PostgreSQL; and, once gateway/cli/main.py wires it, through the real command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from test_web_helpers import login, make_web

from gateway.cli import web as cli_web
from gateway.config import Config, ConfigError, StoreConfig
from gateway.store.db import Database
from gateway.store.models import AuditEntry, WebUser

from conftest import REPO, need


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ht-gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_web.add_parsers(lambda name, help: sub.add_parser(name, help=help))
    return parser


def run_user(db: Database, tmp_path: Path, argv: list[str], stdin: str = "",
             monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    cfg = dataclasses.replace(Config(), store=StoreConfig(url=db.url))
    args = _parser().parse_args(argv)
    assert monkeypatch is not None
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return cli_web.dispatch(args, cfg, tmp_path)


def test_add_an_admin_from_a_script(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str], example_config: Config) -> None:
    assert run_user(db, tmp_path, ["user", "list"], monkeypatch=monkeypatch) == 0
    assert "no users" in capsys.readouterr().out
    rc = run_user(db, tmp_path, ["user", "add", "Kepala", "--role", "admin", "--password-stdin"],
                  "sandi-kepala-kantor\n", monkeypatch)
    assert rc == 0 and "user kepala added (admin)" in capsys.readouterr().out
    with db.read() as s:
        u = s.scalars(select(WebUser)).one()
        assert (u.name, u.role, u.disabled) == ("kepala", "admin", False)
        assert u.password_hash.startswith("$argon2id$") and "sandi" not in u.password_hash
        added = s.scalars(select(AuditEntry).where(AuditEntry.action == "user_add")).one()
        assert added.actor.startswith("cli:") and added.after == {"name": "kepala", "role": "admin"}
    run_user(db, tmp_path, ["user", "list"], monkeypatch=monkeypatch)
    assert "kepala\tadmin\tactive" in capsys.readouterr().out
    web = make_web(db, tmp_path, example_config, with_users=False)
    assert login(web.client(), "kepala", "sandi-kepala-kantor").status_code == 303


def test_password_rules_and_bad_input(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="password too short: at least 10"):
        run_user(db, tmp_path, ["user", "add", "ana", "--role", "admin", "--password-stdin"], "pendek\n",
                 monkeypatch)
    with pytest.raises(ConfigError, match="password too short"):
        run_user(db, tmp_path, ["user", "add", "ana", "--role", "admin", "--password-stdin"], "", monkeypatch)
    with pytest.raises(ConfigError, match="--role"):
        run_user(db, tmp_path, ["user", "add", "ana", "--password-stdin"], "cukup-panjang-1\n", monkeypatch)
    with pytest.raises(ConfigError, match="user name"):
        run_user(db, tmp_path, ["user", "add", "../x", "--role", "admin", "--password-stdin"],
                 "cukup-panjang-1\n", monkeypatch)
    with pytest.raises(ConfigError, match="use --password-stdin"):  # no terminal to prompt on
        run_user(db, tmp_path, ["user", "add", "ana", "--role", "admin"], "", monkeypatch)
    with pytest.raises(SystemExit):
        _parser().parse_args(["user", "add", "ana", "--role", "root"])
    with db.read() as s:
        assert s.scalars(select(WebUser)).all() == []
    add = ["user", "add", "ana", "--role", "viewer", "--password-stdin"]
    run_user(db, tmp_path, add, "cukup-panjang-1\n", monkeypatch)
    with pytest.raises(ConfigError, match="already exists"):
        run_user(db, tmp_path, ["user", "add", "ANA", "--role", "admin", "--password-stdin"],
                 "cukup-panjang-2\n", monkeypatch)
    with pytest.raises(ConfigError, match="no user"):
        run_user(db, tmp_path, ["user", "disable", "budi"], monkeypatch=monkeypatch)


def test_passwd_disable_enable(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               example_config: Config) -> None:
    run_user(db, tmp_path, ["user", "add", "opi", "--role", "operator", "--password-stdin"],
             "sandi-lama-123\n", monkeypatch)
    web = make_web(db, tmp_path, example_config, with_users=False)
    with pytest.raises(ConfigError, match="too short"):
        run_user(db, tmp_path, ["user", "passwd", "opi", "--password-stdin"], "pendek\n", monkeypatch)
    run_user(db, tmp_path, ["user", "passwd", "opi", "--password-stdin"], "sandi-baru-456\n", monkeypatch)
    assert login(web.client(), "opi", "sandi-lama-123").status_code == 401
    assert login(web.client(), "opi", "sandi-baru-456").status_code == 303
    run_user(db, tmp_path, ["user", "disable", "opi"], monkeypatch=monkeypatch)
    assert login(web.client(), "opi", "sandi-baru-456").status_code == 401
    run_user(db, tmp_path, ["user", "enable", "opi"], monkeypatch=monkeypatch)
    assert login(web.client(), "opi", "sandi-baru-456").status_code == 303


def test_web_parser_defaults_to_the_config() -> None:
    args = _parser().parse_args(["web"])
    assert args.command == "web" and args.host is None and args.port is None
    assert Config().web.host == "127.0.0.1" and Config().web.port == 8080


def test_the_real_command_line(tmp_path: Path) -> None:
    from gateway.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    if "user" not in sub.choices:  # type: ignore[operator]
        need("ht-gateway user", "gateway/cli/main.py does not wire gateway/cli/web.py yet")
    r = subprocess.run([sys.executable, "-m", "gateway", "--data-dir", str(tmp_path), "user", "list"],
                       text=True, capture_output=True, cwd=REPO, timeout=120)
    assert r.returncode == 1 and "no database yet" in r.stderr  # commands never create the database
    assert list(tmp_path.iterdir()) == []
    r = subprocess.run([sys.executable, "-m", "gateway", "--data-dir", str(tmp_path), "db", "upgrade"],
                       text=True, capture_output=True, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "gateway", "--data-dir", str(tmp_path), "user", "add", "kepala",
                        "--role", "admin", "--password-stdin"], input="sandi-kepala-kantor\n", text=True,
                       capture_output=True, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "gateway", "--data-dir", str(tmp_path), "user", "add", "budi",
                        "--role", "viewer", "--password-stdin"], input="pendek\n", text=True,
                       capture_output=True, cwd=REPO, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("ht-gateway: error: user add: password too short")
