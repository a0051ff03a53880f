"""A small supervisor for the daemon's workers (capture, web UI, report scheduler, health writer).

Each worker is a function ``target(stop)`` run on its own thread. When it raises, the exception is
logged with its traceback (once per distinct error: a worker failing the same way again gets one
line with a count), counted, and the worker is started again after a back-off that doubles from
``backoff_s`` up to ``max_backoff_s`` (and starts over once a run has lasted a minute). A worker
that returns is done unless it was added with ``restart=True`` (a web server that returned without
being asked to). One worker's failure never touches the others: the web UI and the report scheduler
keep running while capture restarts. Setting ``stop`` ends every loop; :meth:`join` waits for them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Target = Callable[[threading.Event], None]
HEALTHY_RUN_S = 60.0


@dataclass
class WorkerState:
    name: str
    state: str = "starting"  # starting | running | backoff | done | stopped
    restarts: int = 0
    last_error: str | None = None
    last_error_at: float | None = None  # epoch seconds
    thread: threading.Thread | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state, "restarts": self.restarts, "last_error": self.last_error,
                "last_error_at": self.last_error_at}


class Supervisor:
    def __init__(self, stop: threading.Event, backoff_s: float = 1.0, max_backoff_s: float = 60.0) -> None:
        self.stop = stop
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.workers: dict[str, WorkerState] = {}

    def add(self, name: str, target: Target, restart: bool = False) -> WorkerState:
        w = WorkerState(name)
        w.thread = threading.Thread(target=self._loop, args=(w, target, restart), name=name, daemon=True)
        self.workers[name] = w
        w.thread.start()
        return w

    def _loop(self, w: WorkerState, target: Target, restart: bool) -> None:
        delay = self.backoff_s
        seen: dict[str, int] = {}
        while not self.stop.is_set():
            started = time.monotonic()
            w.state = "running"
            try:
                target(self.stop)
                if not restart or self.stop.is_set():
                    w.state = "done" if not self.stop.is_set() else "stopped"
                    return
                error = "returned unexpectedly"
                log.error("worker %s %s; restarting in %.0f s", w.name, error, delay)
            except (Exception, SystemExit) as e:  # SystemExit: uvicorn exits when it cannot bind
                error = (str(e).splitlines() or [e.__class__.__name__])[0][:300] or e.__class__.__name__
                error = f"{e.__class__.__name__}: {error}"
                seen[error] = seen.get(error, 0) + 1
                if seen[error] == 1:
                    log.exception("worker %s failed; restarting in %.0f s", w.name, delay)
                else:
                    log.error("worker %s failed again (%d times): %s; restarting in %.0f s",
                              w.name, seen[error], error, delay)
            w.restarts += 1
            w.last_error, w.last_error_at = error, time.time()
            if time.monotonic() - started > HEALTHY_RUN_S:
                delay = self.backoff_s
            w.state = "backoff"
            if self.stop.wait(delay):
                break
            delay = min(delay * 2, self.max_backoff_s)
        w.state = "stopped"

    def join(self, name: str, timeout: float | None = None) -> bool:
        """Wait for one worker's thread to end; True if it did."""
        w = self.workers.get(name)
        if w is None or w.thread is None:
            return True
        w.thread.join(timeout)
        return not w.thread.is_alive()

    def states(self) -> dict[str, dict[str, object]]:
        return {name: w.as_dict() for name, w in self.workers.items()}
