"""Real parts for the radio tests: a hamlib ``rigctld`` dummy rig, and a pty standing in for hidraw."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import tty
from collections.abc import Iterator

from conftest import need


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rigctld:
    """``rigctld -m 1`` (hamlib's dummy rig) with PTT and DCD handled by the rig, on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["rigctld", "-m", "1", "-P", "RIG", "-D", "RIG", "-T", "127.0.0.1",
                                      "-t", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("rigctld did not start listening")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def ask(self, cmd: str) -> str:
        """One command on a connection of its own: the rig's truth, independent of the code tested.

        rigctld 4.5.4 now and then resets a connection it has just accepted (a few in a thousand
        under load, seen in CI and reproduced by opening connections in a loop while another client
        keys). A reset before any answer is asked again on a new connection, up to three times; the
        product's client does the same once (``RigctlConnection.command``)."""
        for attempt in range(3):
            try:
                with socket.create_connection(("127.0.0.1", self.port), 2) as s:
                    s.sendall(cmd.encode() + b"\n")
                    data = b""
                    while not data.endswith(b"\n"):
                        chunk = s.recv(100)
                        if not chunk:
                            raise ConnectionResetError("rigctld closed the connection")
                        data += chunk
                return data.decode().strip()
            except ConnectionResetError:
                if attempt == 2:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")


@contextlib.contextmanager
def rigctld() -> Iterator[Rigctld]:
    if not shutil.which("rigctld"):
        need("rigctld", "apt-get install libhamlib-utils")
    rig = Rigctld()
    rig.start()
    try:
        yield rig
    finally:
        rig.stop()


class FakeHidraw:
    """A pty in raw mode standing in for /dev/hidrawN: what the code writes to ``path`` is read on
    the master side byte for byte, and input reports written to the master are read from ``path``.
    Closing the master makes the node fail like an unplugged device (EIO)."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(self.master)
        self.path = os.ttyname(slave)
        self._slave = slave  # kept open so the pty stays usable between the code's opens

    def read_written(self, timeout: float = 1.0, n: int = 1024) -> bytes:
        import select

        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                out += os.read(self.master, n)
            elif out:
                break
        return out

    def send_report(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.master = -1

    def close(self) -> None:
        self.unplug()
        with contextlib.suppress(OSError):
            os.close(self._slave)
