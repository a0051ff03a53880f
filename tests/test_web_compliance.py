"""Web UI, Kepatuhan (compliance chart): stations × days, on time / late / missing.

The grid comes from one grouped query (``gateway.web.queries.first_reports``); it must say exactly
what ``gateway.identification.checkins.checkins_for`` / ``compliance`` say, day by day, over SQLite and a real
PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from test_web_helpers import WIB, Web, csrf_of, logged_in, make_web

from gateway.config import Config
from gateway.identification.checkins import checkins_for, compliance
from gateway.store.db import Database
from gateway.store.models import Transmission
from gateway.web.queries import MAX_COMPLIANCE_DAYS, ComplianceView, compliance_view

FIRST, LAST = date(2026, 11, 10), date(2026, 11, 23)
AFTER = datetime(2026, 12, 1, 12, 0, tzinfo=WIB)  # "now" well after the range: nothing pending


@pytest.fixture
def web(db: Database, tmp_path: Path, example_config: Config) -> Web:
    return make_web(db, tmp_path, example_config)


@pytest.fixture
def sqlite_web(sqlite_db: Database, tmp_path: Path, example_config: Config) -> Web:
    return make_web(sqlite_db, tmp_path, example_config)


def _at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), WIB)


def _tx(start: datetime, station: str | None, *, status: str = "complete", kerchunk: bool = False,
        stuck: bool = False) -> Transmission:
    return Transmission(uid=uuid.uuid4().hex, started_at=start, ended_at=start + timedelta(seconds=5),
                        audio_started_at=start - timedelta(seconds=0.5), duration_s=5.0, status=status,
                        kerchunk=kerchunk, stuck=stuck, station=station, source="test",
                        identity_source="ani" if station else None)


def seed(db: Database, cfg: Config) -> None:
    """Random days for every station, plus every edge the rules have."""
    rng = random.Random(20261120)
    names = [st.name for st in cfg.stations]
    rows: list[Transmission] = []
    day = FIRST - timedelta(days=1)
    while day <= LAST + timedelta(days=1):
        for name in names:
            kind = rng.choices(["on_time", "late", "after", "none"], [5, 2, 1, 2])[0]
            if kind == "none":
                continue
            hours = {"on_time": (6, 8), "late": (9, 11), "after": (12, 20)}[kind]
            hh = rng.randint(*hours)
            first = _at(day, hh, rng.randint(0, 59), rng.randint(1, 59))
            rows.append(_tx(first, name))
            for _ in range(rng.randint(0, 3)):  # more reports later that day: only the first counts
                rows.append(_tx(first + timedelta(minutes=rng.randint(1, 600)), name))
            if rng.random() < 0.3:  # an earlier kerchunk or stuck recording is not a report
                early = first - timedelta(minutes=rng.randint(5, 300))
                if early.astimezone(WIB).date() == day:
                    rows.append(_tx(early, name, kerchunk=True) if rng.random() < 0.5
                                else _tx(early, name, stuck=True))
        day += timedelta(days=1)
    d1, d2, d3 = FIRST, FIRST + timedelta(days=1), LAST
    edges = [
        _tx(_at(d1, 9, 0, 0), "Tarutung"),  # exactly on_time_until: on time
        _tx(_at(d1, 9, 0, 1), "Siatas Barita"),  # a second later: late
        _tx(_at(d1, 12, 0, 0), "Adiankoting"),  # exactly late_until: late
        _tx(_at(d1, 12, 0, 1), "Sipoholon"),  # a second later: missing, with a note
        _tx(_at(d1, 0, 0, 0), "Pahae Julu"),  # local midnight (17:00 UTC the day before): this day
        _tx(_at(d1, 6, 30), "Pahae Jae"),  # 23:30 UTC the day before: this day, on time
        _tx(_at(d1 - timedelta(days=1), 23, 59, 59), "Purbatua"),  # the day before the range
        _tx(_at(d2, 7, 0), "Simangumban", kerchunk=True),
        _tx(_at(d2, 7, 5), "Simangumban", stuck=True),
        _tx(_at(d2, 7, 10), "Simangumban", status="recording"),
        _tx(_at(d2, 10, 0), "Simangumban"),  # the first *report*: late
        _tx(_at(d2, 7, 0), None),  # unidentified: nobody's report
        _tx(_at(d2, 7, 0), "Jakarta"),  # not a configured station
        _tx(_at(d3 + timedelta(days=1), 0, 0, 0), "Muara"),  # the day after the range
    ]
    # the edge rows alone decide these stations' days
    taken = {(t.station, t.started_at.astimezone(WIB).date()) for t in edges} | {("Purbatua", d1)}
    assert {st for st, _ in taken} - {None, "Jakarta"} <= set(names)
    rows = [r for r in rows if (r.station, r.started_at.astimezone(WIB).date()) not in taken]
    with db.write() as s:
        s.add_all(rows + edges)


def _cells(html: str, station: str) -> list[str]:
    m = re.search(rf'<tr data-station="{station}">(.*?)</tr>', html, re.S)
    assert m, station
    return re.findall(r'<td data-status="([a-z_]+)"', m.group(1))


def _totals(html: str, station: str) -> dict[str, int]:
    m = re.search(rf'<tr data-station="{station}">(.*?)</tr>', html, re.S)
    assert m, station
    return {k: int(v) for k, v in re.findall(r'<td data-total="([a-z_]+)">(\d+)</td>', m.group(1))}


def _check_against_checkins(db: Database, cfg: Config, view: ComplianceView) -> None:
    assert view.days == [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    assert [r.station for r in view.rows] == [st.name for st in cfg.stations]
    for i, day in enumerate(view.days):
        for row, c in zip(view.rows, checkins_for(db, day, cfg), strict=True):
            cell = row.cells[i]
            assert (row.station, day, cell.status) == (c.station, day, c.status)
            got = cell.first_report.isoformat(timespec="seconds") if cell.first_report else None
            assert got == c.first_report, (row.station, day)
            assert bool(cell.note) == bool(c.note), (row.station, day)
    expected = {c.station: (c.on_time, c.late, c.missing) for c in compliance(db, FIRST, LAST, cfg)}
    assert {r.station: (r.totals["on_time"], r.totals["late"], r.totals["missing"]) for r in view.rows} \
        == expected
    assert all(r.totals["pending"] == 0 for r in view.rows)


def test_grid_agrees_with_checkins_and_compliance(db: Database, example_config: Config) -> None:
    seed(db, example_config)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        view = compliance_view(db, example_config, FIRST, LAST, AFTER)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements  # one grouped query for the whole range, not one per day
    _check_against_checkins(db, example_config, view)
    by = {r.station: r for r in view.rows}
    assert by["Tarutung"].cells[0].status == "on_time" and by["Siatas Barita"].cells[0].status == "late"
    assert by["Adiankoting"].cells[0].status == "late" and by["Sipoholon"].cells[0].status == "missing"
    assert by["Sipoholon"].cells[0].note and by["Sipoholon"].cells[0].first_report is not None
    assert by["Pahae Julu"].cells[0].status == "on_time" and by["Pahae Jae"].cells[0].status == "on_time"
    assert by["Purbatua"].cells[0].status == "missing" and by["Purbatua"].cells[0].first_report is None
    assert by["Simangumban"].cells[1].status == "late"
    assert by["Simangumban"].cells[1].first_report == _at(FIRST + timedelta(days=1), 10, 0)
    assert view.totals["on_time"] + view.totals["late"] + view.totals["missing"] == 15 * len(view.days)
    assert view.reported == [sum(r.cells[i].status in ("on_time", "late") for r in view.rows)
                             for i in range(len(view.days))]


def test_page_shows_the_grid_and_totals(web: Web, example_config: Config) -> None:
    seed(web.db, example_config)
    view = compliance_view(web.db, example_config, FIRST, LAST, AFTER)
    client = logged_in(web, "vivi")
    r = client.get(f"/compliance?from={FIRST}&to={LAST}")
    assert r.status_code == 200
    html = r.text
    assert "Kepatuhan lapor harian, 10-11-2026 s.d. 23-11-2026" in html
    assert '<a href="/compliance" class="here">Kepatuhan</a>' in html
    for row in view.rows:
        assert _cells(html, row.station) == [c.status for c in row.cells]
        assert _totals(html, row.station) == {k: row.totals[k] for k in ("on_time", "late", "missing")}
    assert 'title="Tarutung, Selasa 10-11-2026: tepat waktu, lapor pertama 09.00 WIB"' in html
    assert ('title="Sipoholon, Selasa 10-11-2026: tidak lapor, lapor pertama 12.00 WIB '
            '(lapor setelah 12.00 WIB)"') in html
    assert 'href="/log?date=2026-11-10&amp;station=Siatas%20Barita"' in html
    for mark, look in (("✓", "badge st-on_time"), ("!", "badge st-late"), ("✗", "badge st-pending")):
        assert f'<span class="{look}">{mark}</span>' in html  # a symbol besides the colour
    assert "Belum</th>" not in html  # nothing pending in the past
    assert "<script" not in html.split("</head>")[1] and "http://" not in html and "https://" not in html


def test_today_is_pending_until_late_until_and_future_days_are_pending(db: Database,
                                                                        example_config: Config) -> None:
    day = LAST
    with db.write() as s:
        s.add_all([_tx(_at(day, 7, 30), "Tarutung"), _tx(_at(day, 9, 30), "Sipoholon")])
    morning = compliance_view(db, example_config, day - timedelta(days=1), day + timedelta(days=2),
                              _at(day, 10, 0))
    by = {r.station: [c.status for c in r.cells] for r in morning.rows}
    assert by["Tarutung"] == ["missing", "on_time", "pending", "pending"]
    assert by["Sipoholon"] == ["missing", "late", "pending", "pending"]
    assert by["Muara"] == ["missing", "pending", "pending", "pending"]
    evening = compliance_view(db, example_config, day, day, _at(day, 12, 0, 1))
    assert {r.station: r.cells[0].status for r in evening.rows}["Muara"] == "missing"
    assert evening.totals == {"on_time": 1, "late": 1, "missing": 13, "pending": 0}


def test_default_range_is_the_last_14_days(sqlite_web: Web) -> None:
    client = logged_in(sqlite_web, "vivi")
    html = client.get("/compliance").text
    today = datetime.now(WIB).date()
    assert f'name="from" value="{today - timedelta(days=13)}"' in html
    assert f'name="to" value="{today}"' in html
    assert len(_cells(html, "Tarutung")) == 14
    only_to = client.get("/compliance?to=2026-11-20").text
    assert 'name="from" value="2026-11-07"' in only_to and len(_cells(only_to, "Tarutung")) == 14
    assert len(_cells(client.get("/compliance?from=2026-11-20&to=2026-11-20").text, "Tarutung")) == 1


@pytest.mark.parametrize(("query", "message"), [
    ("from=kemarin", "Tanggal tidak sah: from=&#39;kemarin&#39; (YYYY-MM-DD)."),
    ("from=2026-11-01&to=2026-02-30", "Tanggal tidak sah: to=&#39;2026-02-30&#39; (YYYY-MM-DD)."),
    ("to=2026-13-01", "Tanggal tidak sah: to=&#39;2026-13-01&#39;"),
    ("from=2026-11-20&to=2026-11-19", "Tanggal awal 20-11-2026 sesudah tanggal akhir 19-11-2026."),
    ("from=2026-01-01&to=2026-12-31", "Rentang terlalu panjang: 365 hari; paling banyak 92 hari."),
    ("from=2026-08-20&to=2026-11-20", "Rentang terlalu panjang: 93 hari; paling banyak 92 hari."),
])
def test_bad_dates_and_long_ranges_are_400_with_a_reason(sqlite_web: Web, query: str, message: str) -> None:
    client = logged_in(sqlite_web, "vivi")
    r = client.get(f"/compliance?{query}")
    assert r.status_code == 400
    assert message in r.text, r.text


def test_the_longest_range_is_allowed(sqlite_web: Web) -> None:
    first = date(2026, 8, 21)
    last = first + timedelta(days=MAX_COMPLIANCE_DAYS - 1)
    client = logged_in(sqlite_web, "vivi")
    r = client.get(f"/compliance?from={first}&to={last}")
    assert r.status_code == 200 and len(_cells(r.text, "Tarutung")) == MAX_COMPLIANCE_DAYS


def test_every_role_may_see_it_and_nobody_else(sqlite_web: Web) -> None:
    anon = sqlite_web.client()
    r = anon.get("/compliance?from=2026-11-10&to=2026-11-23")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fcompliance%3Ffrom%3D2026-11-10%26to%3D2026-11-23"
    for name in ("vivi", "opi", "ana"):
        client = logged_in(sqlite_web, name)
        assert client.get("/compliance").status_code == 200, name
    client = logged_in(sqlite_web, "vivi")
    assert 'href="/compliance"' in client.get("/").text  # in the navigation
    client.post("/logout", data={"csrf": csrf_of(client)})
    assert client.get("/compliance").status_code == 303
    assert anon.post("/compliance").status_code in (303, 405)
