"""A serial port with real modem lines that can be unplugged: pyserial's RFC 2217 server side
(``serial.rfc2217.PortManager``) around a ``loop://`` port whose CTS/DSR the test sets, on a
loopback TCP port (not a test module).

A pty cannot carry modem lines (TIOCMGET on a pty fails with ENOTTY), so this stands in for a radio
interface's COS line: :meth:`cos` raises or lowers the line, the gateway opens
``rfc2217://127.0.0.1:PORT`` as its squelch port, :meth:`unplug` closes the server and every
connection (what a network serial server or a USB adapter does when it goes away) and :meth:`plug`
brings it back on the same port. The bench's chaos soak uses it too."""

from __future__ import annotations

import contextlib
import socket
import threading

import serial
import serial.rfc2217
from serial.urlhandler.protocol_loop import Serial as LoopSerial


class _Line(LoopSerial):  # type: ignore[misc]
    """``loop://`` whose CTS and DSR are the radio's (set by the test), not the client's RTS/DTR:
    an RFC 2217 client sets RTS and DTR when it opens, which on a plain loop would open the squelch."""

    def __init__(self) -> None:
        super().__init__("loop://", timeout=0.05)
        self.lines = {"cts": False, "dsr": False}

    @property
    def cts(self) -> bool:
        return self.lines["cts"]

    @property
    def dsr(self) -> bool:
        return self.lines["dsr"]


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock, contextlib.suppress(OSError):
            self.sock.sendall(data)


class CosServer:
    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.line = _Line()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self.plug()

    @property
    def url(self) -> str:
        return f"rfc2217://127.0.0.1:{self.port}"

    def cos(self, on: bool, pin: str = "cts") -> None:
        self.line.lines[pin] = on

    def plug(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        sock.listen(4)
        self._listener, self._stop = sock, threading.Event()
        threading.Thread(target=self._accept, args=(sock, self._stop), name="rfc2217-accept",
                         daemon=True).start()

    def unplug(self) -> None:
        self._stop.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        for c in self._conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                c.close()
        self._conns.clear()

    def close(self) -> None:
        self.unplug()
        self.line.close()

    def _accept(self, sock: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            conn.settimeout(0.01)
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn, stop), name="rfc2217-conn",
                             daemon=True).start()

    def _serve(self, conn: socket.socket, stop: threading.Event) -> None:
        manager = serial.rfc2217.PortManager(self.line, _Conn(conn))
        while not stop.is_set():
            try:
                data = conn.recv(1024)
                if not data:
                    return
                for byte in manager.filter(data):
                    self.line.write(byte)
            except TimeoutError:
                pass
            except OSError:
                return
            manager.check_modem_lines()  # notifies the client when CTS/DSR changed
