"""The central database's backup recipe of docs/operations.md, run for real: ``pg_dump --format=custom``
of a database with a filed day, ``pg_restore`` into a new empty database, and the restored database
is at the schema head with the same rows, and takes new rows (its id sequences came along)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from daykit import DAY, add_recorded, at, build_day, snapshot
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway.config import Config
from gateway.store.db import Database


def test_pg_dump_and_pg_restore_bring_the_database_back(pg_url: str, pg_server_url: str, tmp_path: Path,
                                                        example_config: Config) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore not installed")
    url = make_url(pg_url)
    if url.host or url.username:
        pytest.skip("the recipe is run here over the local socket only")
    cfg = dataclasses.replace(example_config)
    db = Database(pg_url)
    db.migrate()
    build_day(db, cfg, tmp_path / "data")
    before = snapshot(db, DAY)
    db.close()

    dump = tmp_path / "central.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={url.database}"], check=True,
                   timeout=120)
    name = f"htg_restored_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={name}", str(dump)],
                       check=True, timeout=120)
        restored = Database(pg_url.rsplit("/", 1)[0] + f"/{name}")
        try:
            restored.check_schema()  # the head revision: the gateways can point at it as it is
            assert snapshot(restored, DAY) == before
            when = at("07:00", DAY + timedelta(days=1))
            tx_id = add_recorded(restored, cfg, tmp_path / "data", when, "101", "situasi aman ganti")[0]
            assert tx_id > max(r["id"] for r in before["transmissions"])
        finally:
            restored.close()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
