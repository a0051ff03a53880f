"""Minimal, dependency-free client for the systemd notify protocol.

systemd starts a ``Type=notify`` service with ``$NOTIFY_SOCKET`` pointing at
an ``AF_UNIX`` datagram socket.  The service reports its state by sending
newline-separated ``KEY=VALUE`` assignments to it (see ``sd_notify(3)``):

* ``READY=1``     -- start-up finished; ``systemctl start`` returns.
* ``STATUS=...``  -- free-form one-line text shown by ``systemctl status``.
* ``WATCHDOG=1``  -- keep-alive; with ``WatchdogSec=`` set, systemd kills and
  (with ``Restart=on-failure``) restarts the service when pings stop.
* ``STOPPING=1``  -- shutdown has begun.

Outside systemd (``$NOTIFY_SOCKET`` unset: a terminal, the tests) every call
is a cheap no-op.  Sending never raises: a failure is logged once per
notifier and then ignored, because the radio gateway must keep recording even
if systemd's socket went away.

Typical use in the daemon::

    notifier = SystemdNotifier()
    pinger = WatchdogPinger(notifier)
    ...  # open audio device, database
    notifier.ready()
    while running:
        ...  # one iteration of the capture pipeline
        pinger.tick(time.monotonic())
    notifier.stopping()
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping

__all__ = ["SystemdNotifier", "WatchdogPinger"]

logger = logging.getLogger(__name__)


def _socket_address(raw: str) -> str | None:
    """Turn a ``$NOTIFY_SOCKET`` value into an address for ``sendto``.

    A leading ``@`` denotes a Linux abstract socket, whose kernel name starts
    with a NUL byte.  Anything that is neither absolute path nor abstract name
    (e.g. the ``vsock:`` addresses of newer systemd) is unsupported: ``None``.
    """
    if raw.startswith("@") and len(raw) > 1:
        return "\0" + raw[1:]
    if raw.startswith("/"):
        return raw
    return None


class SystemdNotifier:
    """Send ``sd_notify`` messages to ``$NOTIFY_SOCKET``.

    The environment is read once, in the constructor; pass *environ* to use
    another mapping (tests do).  The datagram socket is opened lazily on the
    first send and reused; call :meth:`close` (or use ``with``) to release it.
    Every public method returns ``True`` when a datagram was sent and
    ``False`` otherwise (no socket configured, or the send failed).
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._raw_socket = env.get("NOTIFY_SOCKET") or None
        self._watchdog_usec = env.get("WATCHDOG_USEC")
        self._watchdog_pid = env.get("WATCHDOG_PID")
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._error_logged = False

    # -- state --------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """True when ``$NOTIFY_SOCKET`` was set, i.e. running under systemd."""
        return self._raw_socket is not None

    def watchdog_interval(self) -> float | None:
        """Seconds between watchdog pings, or ``None`` if no watchdog is set.

        systemd exports ``WATCHDOG_USEC`` (the ``WatchdogSec=`` value in
        microseconds) and ``WATCHDOG_PID``.  The variables are only meant for
        the process whose PID matches (a child that inherited them must not
        ping).  Following ``sd_watchdog_enabled(3)``, we ping at half the
        timeout so one late iteration does not trigger a restart.
        """
        if not self._watchdog_usec:
            return None
        try:
            usec = int(self._watchdog_usec)
        except ValueError:
            return None
        if usec <= 0:
            return None
        if self._watchdog_pid:
            try:
                pid = int(self._watchdog_pid)
            except ValueError:
                return None
            if pid != os.getpid():
                return None
        return usec / 2 / 1_000_000

    # -- messages -----------------------------------------------------------

    def ready(self) -> bool:
        """Tell systemd that start-up is complete (``READY=1``)."""
        return self.notify("READY=1")

    def status(self, text: str) -> bool:
        """Set the one-line status shown by ``systemctl status``."""
        # The protocol is line-based: a newline would start a new assignment.
        one_line = " ".join(text.splitlines())
        return self.notify(f"STATUS={one_line}")

    def watchdog(self) -> bool:
        """Send a watchdog keep-alive (``WATCHDOG=1``)."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """Tell systemd that the service is shutting down (``STOPPING=1``)."""
        return self.notify("STOPPING=1")

    def notify(self, *assignments: str) -> bool:
        """Send raw ``KEY=VALUE`` assignments in one datagram.

        Returns ``True`` if the datagram was handed to the kernel.  Never
        raises; the first failure is logged as a warning, later ones at
        debug level so a missing socket cannot flood the journal.
        """
        if self._raw_socket is None or not assignments:
            return False
        address = _socket_address(self._raw_socket)
        if address is None:
            self._log_failure(f"unsupported NOTIFY_SOCKET address {self._raw_socket!r}")
            return False
        payload = "\n".join(assignments).encode("utf-8", errors="replace")
        try:
            with self._lock:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.sendto(payload, address)
        except (OSError, ValueError) as exc:
            self._log_failure(f"cannot send to NOTIFY_SOCKET {self._raw_socket!r}: {exc}")
            return False
        return True

    # -- lifecycle ----------------------------------------------------------

    def close(self) -> None:
        """Close the datagram socket; a later send reopens it."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def __enter__(self) -> SystemdNotifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _log_failure(self, message: str) -> None:
        if self._error_logged:
            logger.debug("sd_notify: %s", message)
            return
        self._error_logged = True
        logger.warning("sd_notify: %s (further errors are not logged)", message)


class WatchdogPinger:
    """Rate-limit ``WATCHDOG=1`` pings from the daemon's main loop.

    Call :meth:`tick` with a monotonic timestamp on every iteration of the
    loop.  A ping is sent on the first tick and then whenever at least
    *interval* seconds have passed since the last one.  The ping is tied to
    the loop on purpose: if the pipeline hangs, the ticks stop, systemd's
    watchdog fires and the service is restarted.

    *interval* defaults to :meth:`SystemdNotifier.watchdog_interval`; when
    that is ``None`` (no ``WatchdogSec=``), :meth:`tick` does nothing.
    """

    def __init__(self, notifier: SystemdNotifier, interval: float | None = None) -> None:
        self._notifier = notifier
        self._interval = notifier.watchdog_interval() if interval is None else interval
        if self._interval is not None and self._interval <= 0:
            raise ValueError(f"watchdog interval must be positive, got {self._interval!r}")
        self._last: float | None = None

    @property
    def interval(self) -> float | None:
        """Seconds between pings, or ``None`` when the watchdog is disabled."""
        return self._interval

    def tick(self, now: float) -> bool:
        """Ping if due at time *now* (monotonic seconds); True if a ping was due.

        A clock that appears to go backwards counts as due, so a bad
        timestamp can never silence the watchdog for long.
        """
        if self._interval is None:
            return False
        last = self._last
        if last is not None and last <= now < last + self._interval:
            return False
        self._last = now
        self._notifier.watchdog()
        return True
