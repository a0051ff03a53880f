"""Mailing the filed report over SMTP, against real local SMTP servers (aiosmtpd) started by the tests."""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.config import EmailConfig
from gateway.report.mail import MailError, send_report

from conftest import DATA, need

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:  # pragma: no cover - the test extra installs it
    Controller = None  # type: ignore[assignment,misc]

NOW = datetime(2026, 11, 20, 12, 0, 5, tzinfo=ZoneInfo("Asia/Jakarta"))
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"  # every byte value: none may be altered


@pytest.fixture
def report() -> dict[str, Any]:
    r = json.loads((DATA / "report_example.json").read_text())
    r.update(revision=2, filed_at="2026-11-20T12:35:00+07:00", reason="late_report")
    return r


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Inbox:
    """An aiosmtpd handler keeping what arrives; refuses recipients at @refused.example."""

    envelopes: list[Any] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        self.tls.append(session.ssl is not None)
        return "250 Message accepted for delivery"


def start(inbox: Inbox, **kwargs: Any) -> Controller:
    if Controller is None:
        need("aiosmtpd", "pip install aiosmtpd (the test extra)")
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def server() -> Iterator[tuple[Inbox, Controller]]:
    inbox = Inbox()
    controller = start(inbox)
    yield inbox, controller
    controller.stop()


def cfg_for(port: int, **kwargs: Any) -> EmailConfig:
    base = {"to": ("bupati@taput.example", "bpbd@taput.example"), "sender": "gateway@taput.example",
            "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none"}  # these servers have no TLS
    return EmailConfig(**{**base, **kwargs})


def test_report_arrives(server: tuple[Inbox, Controller], report: dict[str, Any]) -> None:
    inbox, controller = server
    send_report(cfg_for(controller.port), report, PDF, NOW)  # smtp_tls = none: no login either
    (env,) = inbox.envelopes
    assert env.mail_from == "gateway@taput.example"
    assert env.rcpt_tos == ["bupati@taput.example", "bpbd@taput.example"]
    msg = email.message_from_bytes(env.content, policy=email.policy.default)
    assert msg["Subject"] == "Laporan Situasi Harian Tapanuli Utara 20 November 2026 (revisi 2)"
    assert msg["To"] == "bupati@taput.example, bpbd@taput.example"
    assert msg["From"] == "gateway@taput.example"
    assert msg["Date"].datetime == NOW
    text = msg.get_body(("plain",)).get_content()
    assert "Laporan Situasi Harian Kabupaten Tapanuli Utara, Jumat, 20 November 2026" in text
    assert "Revisi 2 (laporan terlambat)" in text
    assert "3 dari 15 kecamatan melapor" in text
    assert "Tidak lapor: 12 — Adiankoting" in text
    assert "Banjir: 7 rumah terendam" in text
    (part,) = list(msg.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == "laporan-situasi-2026-11-20-r2.pdf"
    assert part.get_content() == PDF  # byte-identical


def test_refused_recipient(server: tuple[Inbox, Controller], report: dict[str, Any]) -> None:
    inbox, controller = server
    with pytest.raises(MailError) as e:
        send_report(cfg_for(controller.port, to=("nobody@refused.example",)), report, PDF, NOW)
    msg = str(e.value)
    assert f"127.0.0.1:{controller.port}" in msg and "nobody@refused.example" in msg and "550" in msg
    assert "\n" not in msg
    assert inbox.envelopes == []
    # the others get it
    with pytest.raises(MailError, match=re.escape("recipients refused: nobody@refused.example")):
        send_report(cfg_for(controller.port, to=("bupati@taput.example", "nobody@refused.example")),
                    report, PDF, NOW)
    assert [e.rcpt_tos for e in inbox.envelopes] == [["bupati@taput.example"]]


def test_connection_refused(report: dict[str, Any]) -> None:
    port = free_port()  # nothing listens there now
    with pytest.raises(MailError, match=rf"127\.0\.0\.1:{port}: connection refused$"):
        send_report(cfg_for(port), report, PDF, NOW)


class Passwords:
    def __init__(self, user: str, password: str) -> None:
        self.good = (user.encode(), password.encode())

    def __call__(self, server, session, envelope, mechanism: str, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == self.good
        return AuthResult(success=ok, handled=False)


def test_login(report: dict[str, Any], tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    inbox = Inbox()
    controller = start(inbox, tls_context=context, authenticator=Passwords("lapsit", "rahasia"),
                       auth_required=True)
    tls = {"smtp_tls": "starttls"}
    try:
        with pytest.raises(MailError) as e:
            send_report(cfg_for(controller.port, smtp_user="lapsit", smtp_password="salah", **tls),
                        report, PDF, NOW)
        assert f"127.0.0.1:{controller.port}" in str(e.value)
        assert "login as 'lapsit' refused (535" in str(e.value)
        assert "\n" not in str(e.value)
        with pytest.raises(MailError, match="530"):  # no login: the server wants one
            send_report(cfg_for(controller.port, **tls), report, PDF, NOW)
        assert inbox.envelopes == []
        send_report(cfg_for(controller.port, smtp_user="lapsit", smtp_password="rahasia", **tls),
                    report, PDF, NOW)
        assert len(inbox.envelopes) == 1
    finally:
        controller.stop()


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with openssl) and its key."""
    if shutil.which("openssl") is None:
        need("openssl", "apt-get install openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_starttls(report: dict[str, Any], tls_files: tuple[Path, Path],
                  monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = start(inbox, tls_context=context, require_starttls=True,
                       authenticator=Passwords("lapsit", "rahasia"), auth_required=True)
    cfg = cfg_for(controller.port, smtp_user="lapsit", smtp_password="rahasia", smtp_tls="starttls")
    try:
        with pytest.raises(MailError, match=r"TLS failed: .*CERTIFICATE_VERIFY_FAILED"):  # not trusted yet
            send_report(cfg, report, PDF, NOW)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the client trusts it
        send_report(cfg, report, PDF, NOW)
        assert inbox.tls == [True]
        with pytest.raises(MailError, match="530"):  # smtp_tls = none: the server insists on TLS
            send_report(cfg_for(controller.port), report, PDF, NOW)
    finally:
        controller.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_implicit_tls(report: dict[str, Any], tls_files: tuple[Path, Path],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    inbox = Inbox()
    # the whole connection is TLS (aiosmtpd's ssl_context), so its STARTTLS-based AUTH check is off
    controller = start(inbox, ssl_context=context, authenticator=Passwords("lapsit", "rahasia"),
                       auth_required=True, auth_require_tls=False)
    try:
        send_report(cfg_for(controller.port, smtp_user="lapsit", smtp_password="rahasia", smtp_tls="tls"),
                    report, PDF, NOW)
        assert len(inbox.envelopes) == 1
        monkeypatch.setattr("gateway.report.mail.TIMEOUT_S", 1.0)
        with pytest.raises(MailError, match="no answer within 1 s"):  # a plain client gets no greeting
            send_report(cfg_for(controller.port), report, PDF, NOW)
    finally:
        controller.stop()
