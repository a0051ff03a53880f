"""Commands next to a running daemon (a real process holding the data-directory lock): short row
writes go through, long ones are refused with its pid, nothing migrates; an empty data directory
stays empty; `db upgrade` / `db status`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from test_report_filing import at, report_tx

from gateway.config import Config
from gateway.store.db import MIGRATIONS, Database, default_url
from gateway.store.models import Transmission

from conftest import REPO, run_cli

CONFIG = REPO / "config" / "tapanuli-utara.toml"
HOLD = ("import sys, time; from pathlib import Path; from gateway.lock import DataDirLock;"
        "DataDirLock(Path(sys.argv[1]), 'ht-gateway run').acquire(); print('held', flush=True);"
        "time.sleep(120)")


def alembic_head() -> str:
    """The head according to Alembic itself (not the gateway's cheap file scan)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def stored_revision(data: Path) -> str:
    eng = create_engine(default_url(data))
    with eng.connect() as c:
        rev = c.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    eng.dispose()
    return rev


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A real process holding the data directory, as `ht-gateway run` does."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def cli(data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    if stdin is None:
        return run_cli("--config", str(CONFIG), "--data-dir", str(data), *args, timeout=120)
    return subprocess.run([sys.executable, "-m", "gateway", "--config", str(CONFIG), "--data-dir", str(data),
                           *args], input=stdin, capture_output=True, text=True, cwd=REPO, timeout=120)


def test_next_to_a_daemon_row_writes_go_through_and_long_work_is_refused(
        tmp_path: Path, example_config: Config) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = Database(default_url(data))
    db.migrate()
    tx = report_tx(db, example_config, at("07:30"), None, "situasi aman")
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(data)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        r = cli(data, "assign", str(tx), "Muara", "--by", "ops")
        assert r.returncode == 0, r.stderr
        r = cli(data, "user", "add", "kepala", "--role", "admin", "--password-stdin",
                stdin="sandi-kepala-kantor\n")
        assert r.returncode == 0, r.stderr
        from gateway.web import users

        assert [(u.name, u.role) for u in users.list_users(db)] == [("kepala", "admin")]
        with db.read() as s:
            row = s.get_one(Transmission, tx)
            assert (row.station, row.identity_source) == ("Muara", "operator")
        for args in (["transcribe"], ["identify", "--date", "2026-11-20"],
                     ["report", "--date", "2026-11-20", "--file"], ["db", "upgrade"]):
            r = cli(data, *args)
            assert r.returncode == 1, (args, r.stdout, r.stderr)
            assert r.stderr.count("\n") == 1 and r.stderr.startswith("ht-gateway: error: ")
            assert f"pid {proc.pid} (ht-gateway run)" in r.stderr, r.stderr
        r = cli(data, "checkins", "--date", "2026-11-20")  # reading is fine
        assert r.returncode == 0 and "1 dari 15 kecamatan melapor" in r.stdout
    finally:
        proc.kill()
        proc.wait()
        db.close()
    r = cli(data, "report", "--date", "2026-11-20", "--file")  # the daemon is gone: allowed now
    assert r.returncode == 0 and "revision 1 filed (scheduled)" in r.stdout, r.stderr


def test_a_schema_behind_is_never_migrated_by_commands(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    data = tmp_path / "data"
    db = Database(default_url(data))
    db.migrate("0005")
    db.close()
    for args in (["assign", "1", "Muara"], ["checkins", "--date", "2026-11-20"],
                 ["user", "add", "kepala", "--role", "admin", "--password-stdin"]):
        r = cli(data, *args, stdin="sandi-kepala-kantor\n")
        assert r.returncode == 1, (args, r.stderr)
        assert "schema revision 0005" in r.stderr and "`ht-gateway db upgrade`" in r.stderr
        assert r.stderr.count("\n") == 1
    assert stored_revision(data) == "0005"
    r = cli(data, "db", "status")
    assert r.returncode == 1 and "schema: 0005" in r.stdout and f"pid {holder.pid}" in r.stdout
    r = cli(data, "db", "upgrade")
    assert r.returncode == 1 and f"pid {holder.pid}" in r.stderr
    assert stored_revision(data) == "0005"
    holder.kill()
    holder.wait()
    r = cli(data, "db", "upgrade")
    assert r.returncode == 0, r.stderr
    assert stored_revision(data) == alembic_head()
    r = cli(data, "db", "status")
    assert r.returncode == 0 and f"schema: {alembic_head()}" in r.stdout and "not in use" in r.stdout


def test_an_empty_data_directory_stays_empty(tmp_path: Path) -> None:
    data = tmp_path / "nothing-here"
    for args in (["checkins", "--date", "2026-11-20"], ["export", "transmissions", "--date", "2026-11-20"],
                 ["report", "--date", "2026-11-20", "--format", "json"], ["followups", "list"]):
        r = cli(data, *args)
        assert r.returncode == 1, (args, r.stderr)
        assert r.stderr.startswith("ht-gateway: error: no database yet") and r.stderr.count("\n") == 1
        assert "nothing has been recorded" in r.stderr
    assert not data.exists()


def test_the_cheap_head_is_alembics_and_a_newer_schema_is_named(tmp_path: Path) -> None:
    from gateway.store.db import SchemaBehind, head_revision

    assert head_revision() == alembic_head()
    db = Database(default_url(tmp_path))
    db.migrate()
    db.check_schema()  # at the head: fine
    with db.engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(SchemaBehind, match="revision 9999_future, which this version does not know"):
        db.check_schema()
    db.close()
