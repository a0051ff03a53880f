"""The web UI's bad-input corpus (tests/data/bad_web_inputs.json) against every route of the real app.

Routes are taken from ``app.routes``, so a new route is covered without touching this file: each
path parameter is given every bad value of its kind (ids, dates, other text), each GET every bad query
parameter, each POST every bad form field and CSRF token and a body over the limit, and every route
every hostile header set. Over a real SQLite database with a real transmission, logged in as an
operator (the login form anonymously). What must hold, for every request: no response >= 500, no
traceback or error in the log, every 4xx says what is wrong (an Indonesian title, and for a 400 the
reason), and no redirect leaves the site.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from argon2 import PasswordHasher
from sqlalchemy import select
from starlette.routing import Route
from starlette.testclient import TestClient
from test_web_helpers import PASSWORDS, WIB, add_tx, form_token, make_web

from gateway.config import Config, WebConfig
from gateway.store.db import Database
from gateway.store.models import TranscriptRow
from gateway.web import users
from gateway.web.app import TITLES

CORPUS = json.loads((Path(__file__).with_name("data") / "bad_web_inputs.json").read_text())
BIG = "1" * 5000
VALID = {"tx_id": None, "day": "2026-11-20", "rev": "1", "fmt": "json"}  # tx_id: the real one


def _expand(value: str) -> str:
    return value.replace("{big}", BIG)


def _kind(param: str) -> str:
    return "ids" if param.endswith("id") or param == "rev" else "dates" if param in ("day", "date") \
        else "texts"


class Run:
    def __init__(self, app: Any, db: Database, tx_id: int, portal: BlockingPortal) -> None:
        self.app, self.db, self.tx_id, self.portal = app, db, tx_id, portal
        self.failures: list[str] = []
        self.count = 0
        self.unsendable = 0
        self.n = 0
        self.operator = self.login()
        self.operator_csrf = form_token(self.operator.get("/").text)

    def client(self) -> TestClient:
        self.n += 1
        c = TestClient(self.app, client=(f"10.7.{self.n // 250}.{self.n % 250}", 50000),
                       follow_redirects=False, raise_server_exceptions=False)  # type: ignore[arg-type]
        c.portal = self.portal  # one event loop thread for the run, not a new one per request
        return c

    def login(self) -> TestClient:
        c = self.client()
        page = c.get("/login")
        r = c.post("/login", data={"csrf": form_token(page.text), "name": "opi",
                                   "password": PASSWORDS["opi"]})
        assert r.status_code == 303, r.text
        return c

    def anonymous_login_client(self) -> tuple[TestClient, str]:
        c = self.client()
        return c, form_token(c.get("/login").text)

    def base(self) -> str:
        with self.db.read() as s:
            return str(s.scalar(select(TranscriptRow.id).where(TranscriptRow.transmission_id == self.tx_id,
                                                               TranscriptRow.current)) or "")

    def send(self, what: str, client: TestClient, method: str, url: str, **kw: Any) -> None:
        try:
            r = client.request(method, url, **kw)
        except (httpx.HTTPError, UnicodeError, ValueError, TypeError):
            self.unsendable += 1  # the client library refuses to send it at all: nothing reached the app
            return
        self.count += 1
        self.check(what, r)

    def check(self, what: str, r: httpx.Response) -> None:
        label = f"{what} -> {r.status_code}"
        if r.status_code >= 500:
            self.failures.append(f"{label}: {r.text[:200]!r}")
            return
        location = r.headers.get("location", "")
        if (location and not location.startswith("/")) or location.startswith("//") or "evil" in location:
            self.failures.append(f"{label}: redirect off the site: {location!r}")
        if 400 <= r.status_code < 500:
            text = r.text
            if r.headers.get("content-type", "").startswith("text/html"):
                title = TITLES.get(r.status_code, "Kesalahan")
                if title not in text and "Terlalu banyak percobaan" not in text and "salah" not in text:
                    self.failures.append(f"{label}: no message: {text[:200]!r}")
                if r.status_code == 400 and not re.search(r"</h1>\s*<p>[^<]{8,}</p>", text):
                    self.failures.append(f"{label}: a 400 without its reason")
            elif r.status_code == 416 and re.fullmatch(r"bytes \*/\d+", r.headers.get("content-range", "")):
                pass  # HTTP's own answer to an unsatisfiable range: the size, in Content-Range
            elif not text.strip():
                self.failures.append(f"{label}: empty body")


def _path(route: Route, run: Run, override: dict[str, str] | None = None) -> str:
    values = {**{k: str(run.tx_id) if v is None else v for k, v in VALID.items()}, **(override or {})}
    path = route.path
    for name in route.param_convertors:
        path = path.replace(f"{{{name}}}", quote(values.get(name, "1"), safe=""))
    return path


def _routes(app: Any) -> list[Route]:
    found = [r for r in app.routes if isinstance(r, Route)]
    assert {"/login", "/tx/{tx_id}", "/reports/{day}/{rev}.{fmt}"} <= {r.path for r in found}
    return sorted(found, key=lambda r: r.path == "/logout")  # logging out last


@pytest.fixture
def run(sqlite_db: Database, tmp_path: Path, example_config: Config,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    # argon2 at its cheapest here: hundreds of logins are checked, the hashing is tested elsewhere
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    monkeypatch.setattr(users, "_dummy_hash", None)
    cfg = dataclasses.replace(example_config, web=WebConfig(login_max_failures=100))
    web = make_web(sqlite_db, tmp_path, cfg)
    web.app.state.sse_lifetime_s = 0.0  # type: ignore[attr-defined]
    tx_id = add_tx(web, datetime(2026, 11, 20, 7, 30, tzinfo=WIB), "Sipoholon")
    with start_blocking_portal() as portal:
        yield Run(web.app, sqlite_db, tx_id, portal)


def test_every_route_survives_the_corpus(run: Run, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    for route in _routes(run.app):
        for method in sorted(route.methods or {"GET"}):
            if method == "HEAD":
                continue
            _attack(run, route, method)
    for path in CORPUS["static_paths"]:
        run.send(f"GET {path[:60]}", run.operator, "GET", _expand(path))
    errors = [f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records
              if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()]
    assert run.count > 1000, run.count
    assert not run.failures, f"{len(run.failures)} of {run.count} requests:\n" + "\n".join(run.failures[:40])
    assert not errors, "\n".join(errors[:20])


def _attack(run: Run, route: Route, method: str) -> None:
    public = route.path.startswith("/login")

    def who() -> tuple[TestClient, dict[str, str]]:
        """The client to send with and the form fields that make the POST otherwise valid."""
        if public:
            client, token = run.anonymous_login_client()
            return client, {"csrf": token, "name": "tamu", "password": "salah-salah-salah", "next": "/"}
        if route.path == "/logout":  # a valid logout ends the session: a fresh one each time
            client = run.login()
            token = form_token(client.get("/").text)
        else:
            client, token = run.operator, run.operator_csrf
        return client, {"csrf": token, "base": run.base(), "text": "di sini camat",
                        "station": "Muara", "note": "catatan"}

    def send(what: str, url: str, **kw: Any) -> None:
        client, fields = who() if method == "POST" else (run.operator if not public else run.client(), {})
        if method == "POST":
            kw["data"] = {**fields, **kw.get("data", {})}
        run.send(f"{method} {what}", client, method, url, **kw)

    for name in route.param_convertors:
        for value in CORPUS[_kind(name)]:
            v = _expand(value)
            send(f"{route.path} {name}={value[:40]!r}", _path(route, run, {name: v}))
    url = _path(route, run)
    if method == "GET":
        for qname, kind in CORPUS["query_names"].items():
            for value in CORPUS[kind]:
                send(f"{url}?{qname}={value[:40]!r}", url, params={qname: _expand(value)})
    else:
        for field in CORPUS["form_fields"]:
            for value in CORPUS["texts"]:
                send(f"{url} {field}={value[:40]!r}", url, data={field: _expand(value)})
        for value in CORPUS["csrf"]:
            send(f"{url} csrf={value[:40]!r}", url, data={"csrf": _expand(value)})
        over = CORPUS["body_limit_bytes"] + 1000
        client, fields = who()
        try:
            r = client.post(url, data={**fields, "text": "x" * over})
        except httpx.HTTPError:
            r = None
        if r is not None:
            run.count += 1
            run.check(f"POST {url} body over the limit", r)
            if r.status_code not in (413, 403, 429) and not public:
                run.failures.append(f"POST {url} body over the limit -> {r.status_code}, not 413")
    for headers in CORPUS["headers"]:
        h = {k: _expand(v) for k, v in headers.items()}
        send(f"{url} headers={json.dumps(headers)[:80]}", url, headers=h)
