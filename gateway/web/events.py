"""``/events``: server-sent events when something new is stored, for live pages.

The generator polls the database every ``app.state.sse_poll_s`` (1 s) for a change marker (newest
transmission and transcript ids, completed transmissions, newest assignment; see
:func:`gateway.web.queries.change_marker`) — the pipeline may run in another process, so there is
nothing to subscribe to. It sends ``event: change`` when the marker moves, a comment every 15 s to
keep proxies from closing the connection, ``event: window`` at
``checkins.on_time_until`` and ``checkins.late_until`` by ``app.state.clock`` (the stream sleeps to
that second instead of the next poll: the board's late and missing flip on the minute),
and ends after ``app.state.sse_lifetime_s`` (5 min): the
browser's EventSource reconnects by itself (``retry: 2000``), and a logged-out or expired session
then gets its 401. On every poll the session is checked as well: a stream whose session has ended
(logout, expiry, a disabled user, a new password) sends ``event: logout`` and closes at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from gateway.config import Config
from gateway.store.db import Database
from gateway.web.auth import SESSION_COOKIE, current_user, load_session
from gateway.web.board import deadlines
from gateway.web.queries import change_marker

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0


def _session_alive(db: Database, token: str, session_id: int) -> bool:
    user = load_session(db, token)
    return user is not None and user.session_id == session_id


async def _stream(db: Database, poll_s: float, lifetime_s: float, token: str,
                  session_id: int, cfg: Config | None = None,
                  clock: Callable[[], datetime] | None = None) -> AsyncIterator[str]:
    marker = await run_in_threadpool(change_marker, db)
    yield "retry: 2000\n\n"
    yield f"event: hello\ndata: {json.dumps(list(marker))}\n\n"
    start = last_sent = time.monotonic()
    due = deadlines(cfg, clock()) if cfg is not None and clock is not None else []
    while time.monotonic() - start < lifetime_s:
        # sleep to the next window time when it comes before the next poll: the flip is on time
        wait = poll_s
        if due and clock is not None:
            wait = max(0.0, min(poll_s, (due[0] - clock()).total_seconds()))
        await asyncio.sleep(wait)
        if due and clock is not None and clock() >= due[0]:
            passed = [d for d in due if d <= clock()]
            due = [d for d in due if d > clock()] or deadlines(cfg, clock())  # type: ignore[arg-type]
            last_sent = time.monotonic()
            yield f"event: window\ndata: {json.dumps(passed[-1].isoformat())}\n\n"
        try:
            alive = await run_in_threadpool(_session_alive, db, token, session_id)
            now_marker = await run_in_threadpool(change_marker, db) if alive else marker
        except Exception as e:  # a busy or restarting database: try again next time
            log.warning("events: cannot read the database: %s", e)
            continue
        if not alive:
            log.info("events: session %d ended; closing its stream", session_id)
            yield "event: logout\ndata: {}\n\n"
            return
        if now_marker != marker:
            marker = now_marker
            last_sent = time.monotonic()
            yield f"event: change\ndata: {json.dumps(list(marker))}\n\n"
        elif time.monotonic() - last_sent >= KEEPALIVE_S:
            last_sent = time.monotonic()
            yield ": keepalive\n\n"


async def events(request: Request) -> StreamingResponse:
    user = current_user(request)
    state = request.app.state
    token = request.cookies.get(SESSION_COOKIE, "")
    stream = _stream(state.db, state.sse_poll_s, state.sse_lifetime_s, token, user.session_id,
                     state.cfg, state.clock)
    return StreamingResponse(stream,
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
