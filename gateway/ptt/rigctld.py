"""PTT through hamlib's ``rigctld`` (any radio hamlib drives: CAT, CI-V, or its own PTT/DCD lines).

rigctld's network protocol is one command per line and one answer: ``T 1`` / ``T 0`` set PTT and
answer ``RPRT 0`` (a negative number is a hamlib error); ``t`` and ``\\get_dcd`` answer the value on a
line of its own, or ``RPRT -n``. :class:`RigctlConnection` is that client (also used by the rigctld
squelch); every call has a timeout, and a lost connection is reopened once before giving up.
"""

from __future__ import annotations

import contextlib
import socket

from gateway.config_radio import RigctldConfig
from gateway.ptt.base import PttError, SwitchedPtt


class RigctlError(RuntimeError):
    pass


class RigctlConnection:
    def __init__(self, host: str, port: int, timeout_s: float = 2.0) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.where = f"rigctld {host}:{port}"
        self._sock: socket.socket | None = None
        self._buf = b""

    def _connect(self) -> socket.socket:
        if self._sock is None:
            try:
                self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
            except OSError as e:
                raise RigctlError(f"{self.where}: cannot connect ({e.strerror or e})") from None
            self._buf = b""
        return self._sock

    def _line(self, sock: socket.socket) -> str:
        while b"\n" not in self._buf:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionResetError("connection closed by rigctld")
            self._buf += chunk
            if len(self._buf) > 65536:
                raise RigctlError(f"{self.where}: answer too long")
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode("ascii", "replace").strip()

    def command(self, cmd: str) -> str:
        """Send one command; the answer's first line. ``RPRT n`` with n != 0 raises."""
        for attempt in (1, 2):
            sock = self._connect()
            try:
                sock.sendall(cmd.encode("ascii") + b"\n")
                answer = self._line(sock)
                break
            except OSError as e:  # socket.timeout is an OSError
                self.close()
                if attempt == 2 or isinstance(e, TimeoutError):
                    what = "no answer" if isinstance(e, TimeoutError) else (e.strerror or str(e))
                    raise RigctlError(f"{self.where}: {cmd!r}: {what}") from None
        if answer.startswith("RPRT"):
            code = answer.split()[1] if len(answer.split()) > 1 else "?"
            if code != "0":
                raise RigctlError(f"{self.where}: {cmd!r} refused (hamlib error {code})")
        return answer

    def get_bool(self, cmd: str) -> bool:
        answer = self.command(cmd)
        if answer not in ("0", "1"):
            raise RigctlError(f"{self.where}: {cmd!r}: unexpected answer {answer[:40]!r}")
        return answer == "1"

    def set(self, cmd: str) -> None:
        answer = self.command(cmd)
        if answer != "RPRT 0":
            raise RigctlError(f"{self.where}: {cmd!r}: unexpected answer {answer[:40]!r}")

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None


class RigctldPtt(SwitchedPtt):
    """``T 1``/``T 0`` over one connection; opening checks the connection by unkeying."""

    def __init__(self, cfg: RigctldConfig, timeout_s: float = 2.0) -> None:
        self.cfg = cfg
        self.name = f"rigctld {cfg.host}:{cfg.port}"
        self._conn = RigctlConnection(cfg.host, cfg.port, timeout_s)
        super().__init__()
        try:
            self._conn.set("T 0")
        except RigctlError as e:
            self._conn.close()
            raise PttError(f"ptt.rigctld: {e}") from None

    def _set(self, keyed: bool) -> None:
        try:
            self._conn.set("T 1" if keyed else "T 0")
        except RigctlError as e:
            raise PttError(f"ptt {'key' if keyed else 'unkey'}: {e}") from None
        self._keyed = keyed

    def _release(self) -> None:
        self._conn.close()
