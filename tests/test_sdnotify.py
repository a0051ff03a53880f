"""Tests for gateway.sdnotify against real AF_UNIX datagram sockets."""

from __future__ import annotations

import logging
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.sdnotify import SystemdNotifier, WatchdogPinger

RECV_TIMEOUT = 2.0


def _recv(sock: socket.socket) -> str:
    return sock.recv(4096).decode("utf-8")


def _assert_nothing_pending(sock: socket.socket) -> None:
    sock.setblocking(False)
    try:
        with pytest.raises(BlockingIOError):
            sock.recv(4096)
    finally:
        sock.settimeout(RECV_TIMEOUT)


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket bound to a file in tmp_path, like systemd's."""
    path = tmp_path / "notify.sock"
    if len(os.fsencode(path)) >= 100:  # sun_path is 108 bytes incl. NUL
        pytest.skip(f"tmp_path too long for an AF_UNIX address: {path}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(RECV_TIMEOUT)
    yield sock, str(path)
    sock.close()


@pytest.fixture
def abstract_socket() -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket in the Linux abstract namespace ('@name')."""
    if not sys.platform.startswith("linux"):
        pytest.skip("abstract AF_UNIX sockets are Linux-only")
    name = f"ht-gateway-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(RECV_TIMEOUT)
    yield sock, "@" + name
    sock.close()


# -- messages arrive --------------------------------------------------------


def test_messages_arrive_on_path_socket(path_socket: tuple[socket.socket, str]) -> None:
    sock, address = path_socket
    with SystemdNotifier({"NOTIFY_SOCKET": address}) as notifier:
        assert notifier.enabled
        assert notifier.ready()
        assert _recv(sock) == "READY=1"
        assert notifier.status("Listening on hw:1,0")
        assert _recv(sock) == "STATUS=Listening on hw:1,0"
        assert notifier.watchdog()
        assert _recv(sock) == "WATCHDOG=1"
        assert notifier.stopping()
        assert _recv(sock) == "STOPPING=1"


def test_messages_arrive_on_abstract_socket(
    abstract_socket: tuple[socket.socket, str],
) -> None:
    sock, address = abstract_socket
    with SystemdNotifier({"NOTIFY_SOCKET": address}) as notifier:
        assert notifier.ready()
        assert _recv(sock) == "READY=1"
        assert notifier.watchdog()
        assert _recv(sock) == "WATCHDOG=1"


def test_reads_process_environment_by_default(
    path_socket: tuple[socket.socket, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sock, address = path_socket
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    with SystemdNotifier() as notifier:
        assert notifier.ready()
    assert _recv(sock) == "READY=1"


def test_status_is_kept_on_one_line(path_socket: tuple[socket.socket, str]) -> None:
    sock, address = path_socket
    with SystemdNotifier({"NOTIFY_SOCKET": address}) as notifier:
        notifier.status("recording\nREADY=1")
    assert _recv(sock) == "STATUS=recording READY=1"


def test_status_with_non_ascii_text(path_socket: tuple[socket.socket, str]) -> None:
    sock, address = path_socket
    with SystemdNotifier({"NOTIFY_SOCKET": address}) as notifier:
        notifier.status("Siaga — 3 rekaman")
    assert _recv(sock) == "STATUS=Siaga — 3 rekaman"


def test_several_assignments_in_one_datagram(
    path_socket: tuple[socket.socket, str],
) -> None:
    sock, address = path_socket
    with SystemdNotifier({"NOTIFY_SOCKET": address}) as notifier:
        assert notifier.notify("READY=1", "STATUS=up")
    assert _recv(sock) == "READY=1\nSTATUS=up"


def test_socket_reopens_after_close(path_socket: tuple[socket.socket, str]) -> None:
    sock, address = path_socket
    notifier = SystemdNotifier({"NOTIFY_SOCKET": address})
    notifier.ready()
    notifier.close()
    notifier.close()  # idempotent
    assert notifier.watchdog()
    notifier.close()
    assert [_recv(sock), _recv(sock)] == ["READY=1", "WATCHDOG=1"]


# -- no systemd ---------------------------------------------------------------


def test_no_socket_is_a_noop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = SystemdNotifier()
    assert not notifier.enabled
    assert notifier.ready() is False
    assert notifier.status("x") is False
    assert notifier.watchdog() is False
    assert notifier.stopping() is False
    assert notifier._sock is None  # no socket was even created
    notifier.close()


def test_empty_socket_variable_is_a_noop() -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": ""})
    assert not notifier.enabled
    assert notifier.ready() is False


# -- failures never raise -------------------------------------------------------


def test_missing_socket_path_does_not_raise_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    with caplog.at_level(logging.DEBUG, logger="gateway.sdnotify"):
        assert notifier.ready() is False
        assert notifier.watchdog() is False
        assert notifier.stopping() is False
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "gone.sock" in warnings[0].getMessage()
    notifier.close()


def test_closed_listener_does_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.close()  # the file stays, nobody listens: ECONNREFUSED
    with SystemdNotifier({"NOTIFY_SOCKET": str(path)}) as notifier:
        assert notifier.watchdog() is False


def test_socket_path_that_is_a_regular_file_does_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "not-a-socket"
    path.write_text("")
    with SystemdNotifier({"NOTIFY_SOCKET": str(path)}) as notifier:
        assert notifier.ready() is False


def test_abstract_name_nobody_listens_on_does_not_raise() -> None:
    name = f"@ht-gateway-test-nobody-{uuid.uuid4().hex}"
    with SystemdNotifier({"NOTIFY_SOCKET": name}) as notifier:
        assert notifier.ready() is False


@pytest.mark.parametrize("address", ["relative.sock", "vsock:2:1234", "@"])
def test_unsupported_address_does_not_raise(address: str, caplog: pytest.LogCaptureFixture) -> None:
    notifier = SystemdNotifier({"NOTIFY_SOCKET": address})
    with caplog.at_level(logging.WARNING, logger="gateway.sdnotify"):
        assert notifier.ready() is False
        assert notifier.ready() is False
    assert len(caplog.records) == 1


# -- watchdog interval ------------------------------------------------------------


def test_watchdog_interval_is_half_of_watchdog_usec() -> None:
    notifier = SystemdNotifier({"WATCHDOG_USEC": "30000000"})
    assert notifier.watchdog_interval() == pytest.approx(15.0)


def test_watchdog_interval_with_matching_pid() -> None:
    env = {"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())}
    assert SystemdNotifier(env).watchdog_interval() == pytest.approx(0.5)


def test_watchdog_interval_with_other_pid_is_none() -> None:
    env = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert SystemdNotifier(env).watchdog_interval() is None


def test_watchdog_interval_from_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert SystemdNotifier().watchdog_interval() == pytest.approx(10.0)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"WATCHDOG_USEC": ""},
        {"WATCHDOG_USEC": "0"},
        {"WATCHDOG_USEC": "-5"},
        {"WATCHDOG_USEC": "30s"},
        {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "self"},
    ],
)
def test_watchdog_interval_absent_or_invalid_is_none(env: dict[str, str]) -> None:
    assert SystemdNotifier(env).watchdog_interval() is None


# -- WatchdogPinger -------------------------------------------------------------------


class RecordingNotifier(SystemdNotifier):
    """A notifier that counts watchdog pings instead of sending them."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        super().__init__(environ or {})
        self.pings = 0

    def watchdog(self) -> bool:
        self.pings += 1
        return True


def test_pinger_rate_is_limited_to_interval() -> None:
    notifier = RecordingNotifier()
    pinger = WatchdogPinger(notifier, interval=15.0)
    sent_at = [t for t in (0.0, 0.1, 1.0, 14.9, 15.0, 15.1, 29.99, 30.0, 100.0) if pinger.tick(t)]
    assert sent_at == [0.0, 15.0, 30.0, 100.0]
    assert notifier.pings == 4


def test_pinger_ticking_every_iteration_pings_at_most_every_interval() -> None:
    notifier = RecordingNotifier()
    pinger = WatchdogPinger(notifier, interval=15.0)
    for i in range(6000):  # 60 s of a loop running at 100 Hz
        pinger.tick(1000.0 + i * 0.01)
    assert notifier.pings == 4  # at 0, 15, 30 and 45 s


def test_pinger_takes_interval_from_environment() -> None:
    notifier = RecordingNotifier({"WATCHDOG_USEC": "30000000"})
    pinger = WatchdogPinger(notifier)
    assert pinger.interval == pytest.approx(15.0)
    assert [pinger.tick(t) for t in (5.0, 19.0, 20.0)] == [True, False, True]


def test_pinger_without_watchdog_never_pings() -> None:
    notifier = RecordingNotifier({})
    pinger = WatchdogPinger(notifier)
    assert pinger.interval is None
    assert not any(pinger.tick(float(t)) for t in range(100))
    assert notifier.pings == 0


def test_pinger_pings_when_clock_goes_backwards() -> None:
    notifier = RecordingNotifier()
    pinger = WatchdogPinger(notifier, interval=10.0)
    assert pinger.tick(100.0)
    assert pinger.tick(50.0)
    assert not pinger.tick(55.0)


@pytest.mark.parametrize("interval", [0.0, -1.0])
def test_pinger_rejects_non_positive_interval(interval: float) -> None:
    with pytest.raises(ValueError):
        WatchdogPinger(RecordingNotifier(), interval=interval)


def test_pinger_sends_real_datagrams(path_socket: tuple[socket.socket, str]) -> None:
    sock, address = path_socket
    env = {
        "NOTIFY_SOCKET": address,
        "WATCHDOG_USEC": "2000000",
        "WATCHDOG_PID": str(os.getpid()),
    }
    with SystemdNotifier(env) as notifier:
        pinger = WatchdogPinger(notifier)
        results = [pinger.tick(t) for t in (0.0, 0.5, 1.0, 1.5)]
    assert results == [True, False, True, False]
    assert [_recv(sock), _recv(sock)] == ["WATCHDOG=1", "WATCHDOG=1"]
    _assert_nothing_pending(sock)
