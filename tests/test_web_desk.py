"""The office console, part 2, in-process: formats, report "perubahan", follow-ups, users, the audit
log, correction at the word and the edit conflict.

Truth is what the test puts in or writes by hand: Indonesian number/time conventions written out, report
contents built here with known differences, passwords typed here (a user added in the browser logs in
with it), and the recogniser's word times stored here (a corrected word keeps them).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from test_web_helpers import WIB, WORDS, add_tx, csrf_of, logged_in, login, make_web

from gateway.config import Config
from gateway.store.db import Database
from gateway.store.models import AuditEntry, FollowUp, TranscriptRow, WebUser
from gateway.web import fmt
from gateway.web.report_diff import Change, diff_reports


def test_indonesian_formats() -> None:
    assert fmt.num(9.7) == "9,7" and fmt.num(12345) == "12.345" and fmt.num(1234.5) == "1.234,5"
    assert fmt.seconds(9.74) == "9,7 detik" and fmt.seconds(None) == "-"
    utc = datetime(2026, 11, 20, 0, 12, 5, tzinfo=ZoneInfo("UTC"))  # 07.12.05 in Jakarta (UTC+7)
    assert fmt.local(utc, WIB) == "20-11-2026 07.12.05 WIB"
    assert fmt.local(utc, WIB, "%d-%m-%Y") == "20-11-2026"  # no time of day: no zone
    assert fmt.clock(utc, WIB) == "07.12 WIB" and fmt.clock("09:00", WIB) == "09.00 WIB"
    assert fmt.AUDIT_KINDS["transcript_edit"] == "transkrip diperbaiki"


def _report(stations: list[tuple[str, str, str]], incidents: list[dict],
            needs: list[tuple[str, str]]) -> dict:
    st = [{"station": n, "checkin": c, "checkin_label": c, "situation": s, "situation_label": s}
          for n, c, s in stations]
    return {"summary": {"total": len(st), "reported": sum(c != "missing" for _, c, _ in stations),
                        "on_time": [n for n, c, _ in stations if c == "on_time"], "late": [],
                        "missing": [n for n, c, _ in stations if c == "missing"],
                        "incidents": len(incidents)},
            "stations": st, "incidents": incidents,
            "needs": [{"station": s, "item": i} for s, i in needs]}


def test_report_diff_names_each_field_that_changed() -> None:
    flood = {"station": "Tarutung", "category": "banjir", "label": "Banjir", "place": "Hutatoruan",
             "counts": {"rumah_terendam": 7}}
    slide = {"station": "Sipoholon", "category": "longsor", "label": "Tanah longsor", "place": None,
             "counts": {}}
    old = _report([("Tarutung", "on_time", "aman"), ("Sipoholon", "missing", "-")], [flood],
                  [("Tarutung", "terpal")])
    new = _report([("Tarutung", "on_time", "siaga"), ("Sipoholon", "late", "aman")],
                  [{**flood, "counts": {"rumah_terendam": 12}}, slide], [("Sipoholon", "beras")])
    changes = diff_reports(old, new)
    assert Change("kejadian", "berubah", "Banjir di Tarutung (desa Hutatoruan)", "rumah terendam 7",
                  "rumah terendam 12") in changes
    assert Change("kejadian", "ditambah", "Tanah longsor di Sipoholon", "", "tanpa jumlah") in changes
    assert Change("kecamatan", "berubah", "Tarutung: situasi", "aman", "siaga") in changes
    assert Change("kecamatan", "berubah", "Sipoholon: kehadiran", "missing", "late") in changes
    assert Change("kebutuhan", "ditambah", "beras (Sipoholon)", "", "beras") in changes
    assert Change("kebutuhan", "dihapus", "terpal (Tarutung)", "terpal", "") in changes
    assert Change("ringkasan", "berubah", "kecamatan melapor", "1", "2") in changes
    assert Change("ringkasan", "berubah", "jumlah kejadian", "1", "2") in changes
    assert Change("kecamatan", "berubah", "Sipoholon: situasi", "-", "aman") in changes
    assert Change("ringkasan", "berubah", "tidak lapor", "Sipoholon", "-") in changes
    assert len(changes) == 10, changes
    assert diff_reports(new, new) == []


def _followup(db: Database, tx_id: int) -> int:
    with db.write() as s:
        f = FollowUp(day=date(2026, 11, 20), station="Tarutung", category="banjir", item="terpal",
                     phrase="mohon bantuan terpal", transmission_id=tx_id)
        s.add(f)
        s.flush()
        return f.id


def test_followup_status_opd_note_audited(db: Database, tmp_path: Path, example_config: Config) -> None:
    web = make_web(db, tmp_path, example_config)
    fu = _followup(db, add_tx(web, datetime(2026, 11, 20, 7, 30, tzinfo=WIB), "Tarutung"))
    viewer = logged_in(web, "vivi")
    assert "terpal" in viewer.get("/followups").text
    r = viewer.post(f"/followups/{fu}", data={"csrf": csrf_of(viewer, "/followups"), "status": "selesai"})
    assert r.status_code == 403
    op = logged_in(web, "opi")
    token = csrf_of(op, "/followups")
    note = "dikirim 20 lembar oleh BPBD"
    opd = example_config.report.opd[0] if example_config.report.opd else "BPBD"
    r = op.post(f"/followups/{fu}", data={"csrf": token, "status": "diproses", "opd": opd, "note": note})
    assert r.status_code == 303
    assert op.post(f"/followups/{fu}", data={"csrf": token, "status": "ditolak"}).status_code == 400
    with db.read() as s:
        f = s.get_one(FollowUp, fu)
        assert (f.status, f.opd, f.note) == ("diproses", opd, note)
        a = s.scalars(select(AuditEntry).where(AuditEntry.action == "followup_set")).one()
        assert a.actor == "opi" and a.before["status"] == "baru" and a.after["note"] == note
    page = op.get("/followups").text
    assert note in page


def test_admin_manages_users_in_the_browser(sqlite_db: Database, tmp_path: Path,
                                            example_config: Config) -> None:
    web = make_web(sqlite_db, tmp_path, example_config)
    assert logged_in(web, "opi").get("/admin/users").status_code == 403
    admin = logged_in(web, "ana")
    token = csrf_of(admin, "/admin/users")
    password = "sandi-baru-untuk-budi"
    r = admin.post("/admin/users", data={"csrf": token, "name": "budi", "role": "operator",
                                         "password": password})
    assert r.status_code == 303
    assert login(web.client(), "budi", password).status_code == 303  # the password typed here works
    assert admin.post("/admin/users", data={"csrf": token, "name": "budi", "role": "operator",
                                            "password": password}).status_code == 400  # exists
    assert admin.post("/admin/users", data={"csrf": token, "name": "x", "role": "raja",
                                            "password": password}).status_code == 400
    with sqlite_db.read() as s:
        budi_id = s.scalar(select(WebUser.id).where(WebUser.name == "budi"))
        ana_id = s.scalar(select(WebUser.id).where(WebUser.name == "ana"))
    r = admin.post(f"/admin/users/{budi_id}/password", data={"csrf": token, "password": "kata-sandi-kedua"})
    assert r.status_code == 303
    assert login(web.client(), "budi", password).status_code == 401
    assert login(web.client(), "budi", "kata-sandi-kedua").status_code == 303
    r = admin.post(f"/admin/users/{budi_id}/role", data={"csrf": token, "role": "viewer"})
    assert r.status_code == 303
    assert admin.post(f"/admin/users/{budi_id}/disable", data={"csrf": token}).status_code == 303
    assert login(web.client(), "budi", "kata-sandi-kedua").status_code == 401
    r = admin.post(f"/admin/users/{ana_id}/disable", data={"csrf": token})
    assert r.status_code == 400  # not oneself
    # the audit log, filtered by kind and by user, in words
    page = admin.get("/admin/audit?kind=user_disable").text
    assert "pengguna dinonaktifkan" in page and "pengguna budi" in page
    assert "<td data-label=\"Jenis\">kata sandi diganti" not in page
    page = admin.get("/admin/audit?user=ana&from=2000-01-01&to=2099-12-31").text
    for words in ("pengguna ditambahkan", "kata sandi diganti", "peran pengguna diubah",
                  "pengguna dinonaktifkan"):
        assert f'<td data-label="Jenis">{words}</td>' in page
    import re

    visible = re.sub(r"<[^>]+>", " ", page)  # the text on screen: kinds in words, not codes
    assert "user_add" not in visible and "user_passwd" not in visible
    assert admin.get("/admin/audit?from=2026-11-21&to=2026-11-20").status_code == 400


def test_word_correction_keeps_times_and_conflict_keeps_typed_text(sqlite_db: Database, tmp_path: Path,
                                                                    example_config: Config) -> None:
    web = make_web(sqlite_db, tmp_path, example_config)
    tx_id = add_tx(web, datetime(2026, 11, 20, 7, 30, tzinfo=WIB), "Sipoholon")
    op = logged_in(web, "opi")
    token = csrf_of(op, f"/tx/{tx_id}")
    # the page offers each word, focusable, with its index and times, and documents the shortcuts
    page = op.get(f"/tx/{tx_id}").text
    assert 'id="w-3" data-i="3" tabindex="-1"' in page and "Pintasan papan ketik" in page
    # what the page's script sends after one word is replaced: the text with that word changed
    words = [w for w, *_ in WORDS]
    fixed = [*words[:3], "sipoholon-ku", *words[4:]]
    r = op.post(f"/tx/{tx_id}/transcript", data={"csrf": token, "base": "1", "text": " ".join(fixed)})
    assert r.status_code == 303
    with sqlite_db.read() as s:
        cur = s.scalars(select(TranscriptRow).where(TranscriptRow.current)).one()
    assert [w["word"] for w in cur.words] == fixed
    assert [(w["start"], w["end"]) for w in cur.words] == [(a, b) for _, a, b, _ in WORDS]  # times kept
    # a second tab, still on transcript 1: refused, both versions shown, the typed text kept in the form
    typed = "di sini camat sipoholon jalan amblas"
    r = op.post(f"/tx/{tx_id}/transcript", data={"csrf": token, "base": "1", "text": typed})
    assert r.status_code == 409
    assert "Konflik" in r.text and " ".join(fixed) in r.text
    assert f'<pre class="yours">{typed}</pre>' in r.text
    assert f'<textarea id="text" name="text" rows="4">{typed}</textarea>' in r.text
    assert f'name="base" value="{cur.id}"' in r.text  # saving again is a deliberate overwrite
