"""Web UI, access: no default user, sessions, roles, CSRF, login rate limiting, audit log, headers.

Every test runs over SQLite and a real PostgreSQL (the `db` fixture), in-process (Starlette's
TestClient; no server, no browser).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from test_web_helpers import (
    PASSWORDS,
    WIB,
    Web,
    add_tx,
    csrf_of,
    form_token,
    logged_in,
    login,
    make_web,
)

from gateway.config import Config, WebConfig
from gateway.store.db import Database
from gateway.store.models import Assignment, AuditEntry, TranscriptRow, Transmission, WebSession, WebUser
from gateway.web import users


@pytest.fixture
def web(db: Database, tmp_path: Path, example_config: Config) -> Web:
    return make_web(db, tmp_path, example_config)


@pytest.fixture
def tx_id(web: Web) -> int:
    return add_tx(web, datetime(2026, 11, 20, 7, 30, tzinfo=WIB), "Sipoholon")


def _audit(db: Database, action: str) -> list[AuditEntry]:
    with db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_no_default_user_after_migrate(db: Database, tmp_path: Path, example_config: Config) -> None:
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(WebUser)) == 0
    web = make_web(db, tmp_path, example_config, with_users=False)
    client = web.client()
    for name, password in (("admin", "admin"), ("admin", ""), ("root", "root"), ("ht-gateway", "ht-gateway")):
        r = login(client, name, password)
        assert r.status_code == 401 and "htg_session" not in r.headers.get("set-cookie", "")
    assert client.get("/").status_code == 303


def test_unauthenticated_requests_read_nothing(web: Web, tx_id: int) -> None:
    client = web.client()
    for path in ("/", "/?date=2026-11-20", "/log", "/log?q=longsor", f"/tx/{tx_id}", "/reports",
                 "/reports/2026-11-20/1.html", "/reports/2026-11-20/1.pdf", "/no/such/page"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path
        assert "sipoholon" not in r.text.lower()
    for path in (f"/audio/{tx_id}", f"/audio/{tx_id}/peaks.json", "/events", "/fragment/today",
                 "/reports/2026-11-20/1.json"):
        r = client.get(path)
        assert r.status_code == 401 and r.content == b"login required", path
    for path in (f"/tx/{tx_id}/transcript", f"/tx/{tx_id}/verify", f"/tx/{tx_id}/assign", "/logout"):
        r = client.post(path, data={"text": "diubah", "station": "Muara", "base": "1"})
        assert r.status_code in (303, 401), path
    with web.db.read() as s:
        assert s.scalar(select(func.count()).select_from(TranscriptRow)) == 1
    assert client.get("/login").status_code == 200
    assert client.get("/static/style.css").status_code == 200


def test_login_session_cookie_and_logout(web: Web) -> None:
    client = web.client()
    r = login(client, "vivi")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "htg_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie
    assert client.get("/").status_code == 200
    with web.db.read() as s:
        sess = s.scalars(select(WebSession)).one()
        assert len(sess.token_sha256) == 64 and sess.token_sha256 not in cookie  # only the hash is stored
        hours = (sess.expires_at - sess.created_at).total_seconds() / 3600
    assert hours == pytest.approx(12)
    token = csrf_of(client)
    r = client.post("/logout", data={"csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    with web.db.read() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0
    assert client.get("/").status_code == 303
    assert [e.actor for e in _audit(web.db, "logout")] == ["vivi"]


def test_secure_cookies_and_session_expiry(db: Database, tmp_path: Path, example_config: Config) -> None:
    cfg = dataclasses.replace(example_config, web=WebConfig(secure_cookies=True, session_hours=2))
    web = make_web(db, tmp_path, cfg)
    assert login(web.client(), "opi").status_code == 403  # plain HTTP: the Secure form cookie never returns
    r = login(web.client(https=True), "opi")
    assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()
    web = make_web(db, tmp_path, example_config, with_users=False)
    client = logged_in(web, "opi")
    with db.write() as s:
        s.execute(update(WebSession).values(expires_at=datetime.now(WIB) - timedelta(seconds=1)))
    assert client.get("/").status_code == 303


def test_disabled_user_and_new_password_end_sessions(web: Web) -> None:
    viewer, operator = logged_in(web, "vivi"), logged_in(web, "opi")
    users.set_disabled(web.db, "vivi", True, "test")
    assert viewer.get("/").status_code == 303
    assert login(web.client(), "vivi").status_code == 401
    users.set_password(web.db, "opi", "a-brand-new-password", "test")
    assert operator.get("/").status_code == 303
    assert login(web.client(), "opi").status_code == 401
    assert login(web.client(), "opi", "a-brand-new-password").status_code == 303


def test_open_redirect_after_login_is_refused(web: Web) -> None:
    for target, expect in (("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/\\evil", "/"),
                           ("/log?q=longsor", "/log?q=longsor")):
        client = web.client()
        page = client.get("/login")
        r = client.post("/login", data={"csrf": form_token(page.text), "name": "vivi",
                                        "password": PASSWORDS["vivi"], "next": target})
        assert r.status_code == 303 and r.headers["location"] == expect, target


def test_viewer_reads_but_cannot_change(web: Web, tx_id: int) -> None:
    client = logged_in(web, "vivi")
    page = client.get(f"/tx/{tx_id}")
    assert page.status_code == 200 and "sipoholon" in page.text
    assert f'action="/tx/{tx_id}/transcript"' not in page.text and "<textarea" not in page.text
    token = form_token(page.text)  # the logout form's token: valid, but the role is not enough
    for path, data in ((f"/tx/{tx_id}/transcript", {"text": "diubah", "base": "1"}),
                       (f"/tx/{tx_id}/verify", {"base": "1"}), (f"/tx/{tx_id}/assign", {"station": "Muara"})):
        r = client.post(path, data={"csrf": token, **data})
        assert r.status_code == 403, path
    with web.db.read() as s:
        rows = list(s.scalars(select(TranscriptRow)))
    assert len(rows) == 1 and not rows[0].verified and rows[0].text.endswith("longsor")


def test_posts_without_a_valid_csrf_token_are_refused(web: Web, tx_id: int) -> None:
    client = logged_in(web, "opi")
    other = csrf_of(logged_in(web, "ana"))  # another session's token
    for token in (None, "", "x" * 43, other):
        sent = {} if token is None else {"csrf": token}
        r = client.post(f"/tx/{tx_id}/transcript", data={"text": "x", "base": "1", **sent})
        assert r.status_code == 403
        assert client.post(f"/tx/{tx_id}/verify", data={"base": "1", **sent}).status_code == 403
        assert client.post(f"/tx/{tx_id}/assign", data={"station": "Muara", **sent}).status_code == 403
        assert client.post("/logout", data=sent).status_code == 403
    assert client.get("/").status_code == 200  # still logged in
    bare = web.client()
    bare.get("/login")
    r = bare.post("/login", data={"name": "opi", "password": PASSWORDS["opi"]})
    assert r.status_code == 403
    with web.db.read() as s:
        assert s.scalar(select(func.count()).select_from(TranscriptRow)) == 1


def test_operator_edits_verifies_and_assigns_with_audit(web: Web, tx_id: int) -> None:
    client = logged_in(web, "opi")
    token = csrf_of(client, f"/tx/{tx_id}")
    r = client.post(f"/tx/{tx_id}/transcript", data={"csrf": token, "base": "1",
                                                     "text": "di sini camat  sipoholon, jalan putus"})
    assert r.status_code == 303 and r.headers["location"] == f"/tx/{tx_id}?ok=edit"
    with web.db.read() as s:
        rows = list(s.scalars(select(TranscriptRow).order_by(TranscriptRow.id)))
    assert [(t.engine, t.origin, t.current) for t in rows] == [("fake", "file", False),
                                                                ("manual", "edit", True)]
    new = rows[1]
    assert new.text == "di sini camat sipoholon, jalan putus" and new.model == "opi"
    assert [w["word"] for w in new.words] == new.text.split()
    assert new.words[0]["start"] == 0.2 and new.words[-1]["start"] == 1.9  # times kept / taken over
    page = client.get(f"/tx/{tx_id}")
    assert "Riwayat transkrip" in page.text and "jalan longsor" in page.text and "jalan putus" in page.text
    # a form built on the old transcript is refused, not applied over the new one
    r = client.post(f"/tx/{tx_id}/transcript", data={"csrf": token, "base": "1", "text": "lain"})
    assert r.status_code == 409
    r = client.post(f"/tx/{tx_id}/verify", data={"csrf": token, "base": str(new.id)})
    assert r.status_code == 303
    r = client.post(f"/tx/{tx_id}/assign", data={"csrf": token, "station": "Muara", "note": "suara jelas"})
    assert r.status_code == 303
    with web.db.read() as s:
        cur = s.get_one(TranscriptRow, new.id)
        assert cur.verified and cur.verified_by == "opi" and cur.verified_at is not None
        a = s.scalars(select(Assignment)).one()
        assert (a.station, a.by, a.note) == ("Muara", "opi", "suara jelas")
        assert s.get_one(Transmission, tx_id).station == "Muara"
    edit = _audit(web.db, "transcript_edit")[0]
    assert edit.actor == "opi" and edit.target == f"transmission:{tx_id}" and edit.ip == "testclient"
    assert edit.before["text"].endswith("longsor") and edit.after["text"].endswith("putus")
    verify = _audit(web.db, "transcript_verify")[0]
    assert verify.before["verified"] is False and verify.after["verified"] is True
    assign = _audit(web.db, "assign")[0]
    assert assign.before["station"] == "Sipoholon"
    assert assign.after["station"] == "Muara" and assign.after["identity_source"] == "operator"
    assert client.post(f"/tx/{tx_id}/assign", data={"csrf": token, "station": "Atlantis"}).status_code == 400
    r = client.post("/tx/99999/transcript", data={"csrf": token, "base": "", "text": "x"})
    assert r.status_code == 404


def test_login_audit_rows(web: Web) -> None:
    assert login(web.client(), "opi", "salah-sekali-ya").status_code == 401
    assert login(web.client(), "opi").status_code == 303
    failed, ok = _audit(web.db, "login_failed"), _audit(web.db, "login_ok")
    assert [(e.actor, e.ip, e.after["reason"]) for e in failed] == [("opi", "testclient", "wrong password")]
    assert [(e.actor, e.ip) for e in ok] == [("opi", "testclient")]
    assert all(e.at.tzinfo is not None for e in failed + ok)


def test_login_rate_limited_per_username(web: Web) -> None:
    for i in range(5):
        assert login(web.client(f"10.0.0.{i}"), "vivi", "salah-salah-salah").status_code == 401
    r = login(web.client("10.0.0.99"), "vivi")  # the right password, from a fresh address
    assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 600
    assert "Terlalu banyak" in r.text and "htg_session" not in r.headers.get("set-cookie", "")
    assert login(web.client("10.0.0.99"), "opi").status_code == 303  # other users are not affected
    assert _audit(web.db, "login_blocked")[0].actor == "vivi"


def test_login_rate_limited_per_address(web: Web) -> None:
    for i in range(5):
        assert login(web.client("10.9.9.9"), f"tebak{i}", "salah-salah-salah").status_code == 401
    r = login(web.client("10.9.9.9"), "opi")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert login(web.client("10.9.9.8"), "opi").status_code == 303


def test_a_successful_login_clears_the_count(web: Web) -> None:
    client = web.client("10.1.1.1")
    for _ in range(4):
        assert login(client, "opi", "salah-salah-salah").status_code == 401
    assert login(client, "opi").status_code == 303
    for _ in range(4):
        assert login(web.client("10.1.1.1"), "opi", "salah-salah-salah").status_code == 401
    assert login(web.client("10.1.1.1"), "opi").status_code == 303


def test_security_headers(web: Web) -> None:
    client = logged_in(web, "vivi")
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "<script src=\"/static/app.js\"" in r.text and "http://" not in r.text and "https://" not in r.text


def test_an_oversized_form_is_refused(web: Web, tx_id: int) -> None:
    client = logged_in(web, "opi")
    token = csrf_of(client, f"/tx/{tx_id}")
    r = client.post(f"/tx/{tx_id}/transcript", data={"csrf": token, "base": "1", "text": "x" * (2 << 20)})
    assert r.status_code == 413
    with web.db.read() as s:
        assert s.scalar(select(func.count()).select_from(TranscriptRow)) == 1
