"""Mail delivery against real local SMTP servers: a stalled one (accepts TCP, never answers) holds up
nothing and the mail is retried until a good server takes it; a server without STARTTLS never sees
the password; smtp_tls = "none" with a password is a configuration error."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import email
import email.policy
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select
from test_report_filing import DAY, at
from test_report_mail import Controller, Inbox

from gateway.config import Config, EmailConfig
from gateway.report import delivery, mail
from gateway.report.schedule import ReportScheduler
from gateway.store.db import Database
from gateway.store.models import ReportRevision

from conftest import REPO

CONFIG = REPO / "config" / "tapanuli-utara.toml"


def wait_for(what: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Staller:
    """Accepts TCP connections and never says a word (a hung SMTP server)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept (Linux), frees the port
            self._thread.join(5)
        self.sock.close()
        for c in self.accepted:
            c.close()


def with_mail(cfg: Config, **email_kwargs: object) -> Config:
    em = EmailConfig(**{"to": ("bupati@taput.example",), "sender": "gateway@taput.example",
                        "smtp_host": "127.0.0.1", **email_kwargs})  # type: ignore[arg-type]
    return dataclasses.replace(cfg, report=dataclasses.replace(cfg.report, email=em))


def test_a_stalled_server_delays_nothing_and_the_mail_is_retried_until_delivered(
        sqlite_db: Database, example_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail, "TIMEOUT_S", 1.0)  # the stall costs 1 s per attempt, not 10
    staller = Staller()
    cfg = with_mail(example_config, smtp_port=staller.port, smtp_tls="none")
    sched = ReportScheduler(sqlite_db, cfg, tmp_path, clock=lambda: at("12:30"), retry_base_s=0.5,
                            retry_max_s=1.0, poll_s=0.2)
    t0 = time.monotonic()
    sched.start()  # the cutoff (12:00) has passed: revision 1 is filed in the background
    started_in = time.monotonic() - t0
    controller = None
    try:
        assert started_in < 0.5, started_in
        first = wait_for(lambda: [s for s in delivery.states(sqlite_db, DAY) if s.attempts >= 2])
        (st,) = first  # type: ignore[misc]
        assert st.state == "pending" and st.delivered_at is None
        assert st.last_error == f"cannot mail the report via 127.0.0.1:{staller.port}: no answer within 1 s"
        assert delivery.summary(sqlite_db).pending == 1 and delivery.summary(sqlite_db).failing == 1
        r = subprocess.run([sys.executable, "-m", "gateway", "--config", str(CONFIG), "--data-dir",
                            str(tmp_path), "report", "--date", DAY.isoformat(), "--status"],
                           capture_output=True, text=True, cwd=REPO, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"{DAY} revision 1: mail pending, ") and "no answer within 1 s" in r.stdout
        staller.close()  # the server comes back healthy on the same port
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=staller.port)
        controller.start()
        wait_for(lambda: inbox.envelopes, 30)
        (st,) = wait_for(lambda: [s for s in delivery.states(sqlite_db, DAY) if s.state == "delivered"])  # type: ignore[misc]
        assert st.attempts >= 3 and st.last_error is None and st.next_attempt_at is None
        assert delivery.summary(sqlite_db).pending == 0
        with sqlite_db.read() as s:
            assert s.scalar(select(ReportRevision.emailed_at)) == st.delivered_at
        (env,) = inbox.envelopes  # once
        msg = email.message_from_bytes(env.content, policy=email.policy.default)
        assert msg["Subject"].endswith("(revisi 1)")
        (part,) = list(msg.iter_attachments())
        filed = tmp_path / "reports" / DAY.isoformat() / f"laporan-situasi-{DAY}-r1.pdf"
        assert part.get_content() == filed.read_bytes()
    finally:
        t1 = time.monotonic()
        sched.stop()
        assert time.monotonic() - t1 < 3.0
        staller.close()
        if controller is not None:
            controller.stop()


class Recorder(socketserver.StreamRequestHandler):
    """A bare SMTP server without STARTTLS that offers AUTH in the clear and keeps every byte sent."""

    received: ClassVar[list[bytes]] = []  # shared: the server makes a new handler per connection

    def handle(self) -> None:
        self.wfile.write(b"220 plain.example ESMTP\r\n")
        while line := self.rfile.readline():
            self.received.append(line)
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250-plain.example\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def recorder() -> Iterator[tuple[int, list[bytes]]]:
    Recorder.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], Recorder.received
    server.shutdown()
    server.server_close()


def test_no_starttls_with_a_password_sends_nothing_and_says_why(
        sqlite_db: Database, example_config: Config, tmp_path: Path,
        recorder: tuple[int, list[bytes]]) -> None:
    port, received = recorder
    cfg = with_mail(example_config, smtp_port=port, smtp_user="lapsit", smtp_password="rahasia-negara",
                    smtp_tls="starttls")
    sched = ReportScheduler(sqlite_db, cfg, tmp_path, clock=lambda: at("12:30"))
    assert [r.revision for r in sched.run_once()] == [1]  # filed; one delivery attempt, refused
    wire = b"".join(received)
    assert wire.upper().startswith(b"EHLO")  # the server was reached ...
    for secret in (b"rahasia-negara", base64.b64encode(b"rahasia-negara"),
                   base64.b64encode(b"\0lapsit\0rahasia-negara")):
        assert secret not in wire  # ... and never saw the password in any form
    assert b"AUTH" not in wire.upper() and b"MAIL FROM" not in wire.upper()
    (st,) = delivery.states(sqlite_db, DAY)
    assert (st.state, st.attempts) == ("pending", 1)
    assert st.last_error == (f"cannot mail the report via 127.0.0.1:{port}: the server does not offer "
                             "STARTTLS (report.email.smtp_tls = 'starttls'); nothing was sent")


def test_smtp_tls_none_with_a_password_is_a_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "mail.toml"
    cfg.write_text(CONFIG.read_text() + '\n[report.email]\nto = ["bupati@taput.example"]\n'
                   'sender = "gateway@taput.example"\nsmtp_host = "mail.example"\n'
                   'smtp_user = "lapsit"\nsmtp_password = "rahasia"\nsmtp_tls = "none"\n')
    r = subprocess.run([sys.executable, "-m", "gateway", "--config", str(cfg), "config", "check"],
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == (f"ht-gateway: error: {cfg}: report.email.smtp_tls = 'none' with smtp_user/"
                        "smtp_password: the password would cross the network in clear text; use "
                        "'starttls' or 'tls'\n")
