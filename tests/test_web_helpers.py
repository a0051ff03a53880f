"""Helpers shared by the web UI tests (no tests here): users, logins, transmissions with real Ogg audio."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import soundfile as sf
from starlette.testclient import TestClient

from gateway.config import Config
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission
from gateway.web import users
from gateway.web.app import create_app

WIB = ZoneInfo("Asia/Jakarta")
PASSWORDS = {"ana": "admin-rahasia-123", "opi": "operator-rahasia-1", "vivi": "viewer-rahasia-12"}
ROLES = {"ana": "admin", "opi": "operator", "vivi": "viewer"}
WORDS = [("di", 0.2, 0.35, 0.9), ("sini", 0.35, 0.6, 0.9), ("camat", 0.6, 0.9, 0.95),
         ("sipoholon", 0.9, 1.5, 0.4), ("jalan", 1.6, 1.9, 0.8), ("longsor", 1.9, 2.4, 0.85)]


@dataclass
class Web:
    app: object
    db: Database
    data_dir: Path
    cfg: Config

    def client(self, ip: str = "testclient", https: bool = False) -> TestClient:
        return TestClient(self.app, client=(ip, 50000), follow_redirects=False,  # type: ignore[arg-type]
                          base_url="https://testserver" if https else "http://testserver")


def make_web(db: Database, data_dir: Path, cfg: Config, with_users: bool = True) -> Web:
    if with_users:
        for name, pw in PASSWORDS.items():
            users.add_user(db, name, ROLES[name], pw, "test")
    return Web(create_app(cfg, db, data_dir), db, data_dir, cfg)


def form_token(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no csrf field on the page"
    return m.group(1)


def login(client: TestClient, name: str, password: str | None = None, ip_ok: bool = True):
    """GET the form, POST it; returns the POST response."""
    page = client.get("/login")
    assert page.status_code == 200
    return client.post("/login", data={"csrf": form_token(page.text), "name": name,
                                       "password": PASSWORDS.get(name, "") if password is None else password,
                                       "next": "/"})


def logged_in(web: Web, name: str, ip: str = "testclient") -> TestClient:
    client = web.client(ip)
    r = login(client, name)
    assert r.status_code == 303, r.text
    return client


def csrf_of(client: TestClient, path: str = "/") -> str:
    return form_token(client.get(path).text)


def write_ogg(path: Path, seconds: float = 2.5, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * t))
    sf.write(str(path), tone.astype(np.float32), rate, format="OGG", subtype="OPUS")


def add_tx(web: Web, start: datetime, station: str | None = None, text: str | None = "di sini camat "
           "sipoholon jalan longsor", kerchunk: bool = False, audio_path: str | None = "auto",
           seconds: float = 2.5) -> int:
    """A complete transmission with a real Ogg Opus recording under data_dir/recordings."""
    uid = uuid.uuid4().hex
    if audio_path == "auto":
        audio_path = f"recordings/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%S}_{uid[:8]}.ogg"
        write_ogg(web.data_dir / audio_path, seconds)
    with web.db.write() as s:
        tx = Transmission(uid=uid, started_at=start, ended_at=start + timedelta(seconds=seconds),
                          audio_started_at=start - timedelta(seconds=0.5), duration_s=seconds,
                          status="complete",
                          kerchunk=kerchunk, audio_path=audio_path, station=station,
                          identity_source="ani" if station else None, source="test")
        s.add(tx)
        s.flush()
        if text is not None:
            words = [{"word": w, "start": a, "end": b, "conf": c} for w, a, b, c in WORDS] \
                if text == "di sini camat sipoholon jalan longsor" else []
            s.add(TranscriptRow(transmission_id=tx.id, status="done", engine="fake", model="fake", text=text,
                                words=words, confidence=0.8, origin="file", current=True))
        return tx.id


def assert_audio_served(client: TestClient, tx_id: int, data: bytes,
                        unsatisfiable: tuple[str, ...] = ()) -> None:
    """``/audio/ID`` gives ``data`` whole and by range (RFC 9110 §14: 206 with Content-Range, 416
    ``bytes */SIZE`` past the end, and for each of ``unsatisfiable`` too), and HEAD its length."""
    size = len(data)
    r = client.get(f"/audio/{tx_id}")
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "audio/ogg" and r.headers["accept-ranges"] == "bytes"
    assert "content-disposition" not in r.headers  # no file name or path leaves the server
    for header, lo, hi in (("bytes=0-99", 0, 99), ("bytes=100-", 100, size - 1),
                           ("bytes=-50", size - 50, size - 1), (f"bytes=10-{size + 500}", 10, size - 1)):
        r = client.get(f"/audio/{tx_id}", headers={"Range": header})
        assert r.status_code == 206, header
        assert r.headers["content-range"] == f"bytes {lo}-{hi}/{size}", header
        assert r.content == data[lo:hi + 1], header
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", *unsatisfiable):
        r = client.get(f"/audio/{tx_id}", headers={"Range": header})
        assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{size}", header
    head = client.head(f"/audio/{tx_id}")
    assert head.status_code == 200 and int(head.headers["content-length"]) == size
