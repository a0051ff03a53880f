"""The web UI's listening sockets, bound before uvicorn starts.

Left to uvicorn, a port already in use is an error line from uvicorn plus ``SystemExit`` with its
traceback from the daemon's supervisor. Bound here, the failure is an ``OSError`` the daemon turns
into one line per attempt while it waits for the port (gateway/daemon.py).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from gateway.supervisor import WorkerState

log = logging.getLogger("gateway.daemon")


def bind(host: str, port: int) -> list[socket.socket]:
    """Bound sockets for ``host:port``, made as asyncio's ``create_server`` makes them (every address
    the host resolves to, ``SO_REUSEADDR``, IPv6 sockets IPv6-only), for ``uvicorn.Server.run(sockets=…)``,
    which listens on them. OSError (nothing left open) when any address cannot be bound."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    socks: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    return socks


def bind_retrying(host: str, port: int, stop: threading.Event, failed: Callable[[str, float], None],
                  first_s: float = 1.0, max_s: float = 60.0) -> list[socket.socket] | None:
    """:func:`bind`, tried again after a back-off doubling from ``first_s`` to ``max_s`` while it
    fails; each failure is told to ``failed(why, next_delay_s)`` (one line: why, not where in the
    code). None once ``stop`` is set."""
    delay = first_s
    while not stop.is_set():
        try:
            return bind(host, port)
        except OSError as e:
            failed(e.strerror or str(e) or type(e).__name__, delay)
        if stop.wait(delay):
            break
        delay = min(delay * 2, max_s)
    return None


def bind_for(worker: WorkerState, host: str, port: int, stop: threading.Event) -> list[socket.socket] | None:
    """:func:`bind_retrying` for the daemon's web worker: each failure is one log line and the
    supervisor's record of the worker (backoff, restarts, last error: ``health.json``); running
    once bound."""
    def failed(why: str, delay: float) -> None:
        worker.state, worker.restarts = "backoff", worker.restarts + 1
        worker.last_error, worker.last_error_at = why, time.time()
        log.error("web UI: cannot listen on %s:%d (%s); retrying in %.0f s", host, port, why, delay)

    socks = bind_retrying(host, port, stop, failed)
    if socks is not None:
        worker.state = "running"
    return socks
