"""``/gateways`` (Gateway & kanal): every gateway on this database with its last heartbeat.

Read from the gateways table (gateway/fleet.py): channel, host, version, capture state, the last
audio block and the last transmission heard, the transcription backlog, the clock offset from the
database, a stuck squelch, and the alerts open for it (gateway/alerts.py). A gateway whose heartbeat
is older than three of its ``gateway.heartbeat_s`` is shown as stale ("tidak ada kabar").
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from gateway.alerts import TITLE
from gateway.fleet import STALE_BEATS, gateway_states
from gateway.web.views import page

CAPTURE_ID = {"up": "aktif", "down": "TERPUTUS", "idle": "tidak ada radio", "starting": "memulai",
              "stopped": "dihentikan"}


async def gateways_page(request: Request) -> Response:
    state = request.app.state
    now, rows = await run_in_threadpool(gateway_states, state.db)
    return page(request, "gateways.html", {"now": now, "rows": rows, "capture_id": CAPTURE_ID,
                                           "alert_titles": TITLE, "stale_beats": STALE_BEATS,
                                           "alerts_on": state.cfg.alerts.enabled})
