"""Two filers at the same instant -- two threads with their own connections, and two processes --
file exactly one revision, on SQLite and on the real PostgreSQL (the unique (day, revision) guard)."""

from __future__ import annotations

import copy
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select
from test_report_filing import DAY, at, report_tx

from gateway.config import Config
from gateway.report import filing
from gateway.report.build import build_report
from gateway.report.filing import file_report, revisions
from gateway.store.db import Database
from gateway.store.models import ReportRevision

from conftest import REPO

CONFIG = REPO / "config" / "tapanuli-utara.toml"

FILER = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
from gateway.config import load
from gateway.report.filing import file_report
from gateway.store.db import Database
cfg = load(sys.argv[1])
db = Database(sys.argv[2])
now = datetime(2026, 11, 20, 12, 30, tzinfo=ZoneInfo("Asia/Jakarta"))
from gateway.report.build import build_report
import copy
import gateway.report.filing as filing
report = build_report(db, now.date(), cfg, now)  # built before the start line: both go straight to
filing.build_report = lambda *a, **k: copy.deepcopy(report)  # the check-and-insert when released
print("ready", flush=True)
sys.stdin.readline()  # "go": the parent releases both at once
rev = file_report(db, cfg, now.date(), now)
print("filed", rev.revision if rev else "none", flush=True)
"""


def count(db: Database) -> list[int]:
    with db.read() as s:
        return list(s.scalars(select(ReportRevision.revision).where(ReportRevision.day == DAY)
                              .order_by(ReportRevision.revision)))


def race_threads(db: Database, cfg: Config, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Two threads, each with its own engine (own connections, like two processes), released by a
    barrier at the same instant once the report is built, i.e. right before the check-and-insert."""
    dbs = [Database(db.url), Database(db.url)]
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]
    report = build_report(db, DAY, cfg, at("12:30"))

    def built(*_args: object, **_kwargs: object) -> dict:
        barrier.wait(30)
        return copy.deepcopy(report)

    monkeypatch.setattr(filing, "build_report", built)

    def run(i: int) -> None:
        try:
            results[i] = file_report(dbs[i], cfg, DAY, at("12:30"))
        except Exception as e:  # reported by the assertion below
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for d in dbs:
        d.close()
    assert not any(isinstance(r, Exception) for r in results), results
    return results


def test_two_threads_file_one_revision(db: Database, example_config: Config,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    report_tx(db, example_config, at("07:05"), "101", "situasi aman kondusif")
    results = race_threads(db, example_config, monkeypatch)
    assert sorted(r is None for r in results) == [False, True]  # one filed, the other saw it
    assert count(db) == [1]
    report_tx(db, example_config, at("07:40"), "102", "situasi aman")  # the report changes
    race_threads(db, example_config, monkeypatch)
    assert count(db) == [1, 2]
    assert [r.reason for r in revisions(db, DAY)] == ["scheduled", "late_report"]


def test_two_processes_file_one_revision(db: Database, example_config: Config) -> None:
    report_tx(db, example_config, at("07:05"), "101", "situasi aman kondusif")
    procs = [subprocess.Popen([sys.executable, "-c", FILER, str(CONFIG), db.url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
             for _ in range(2)]
    for p in procs:  # both warmed up and waiting
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(out.strip())
    assert sorted(outs) == ["filed 1", "filed none"]
    assert count(db) == [1]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(ReportRevision)) == 1
