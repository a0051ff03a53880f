"""``/status``: the daemon's health, read-only, from ``<data-dir>/health.json`` (see gateway/health.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.health import status as read_status
from gateway.web.views import page


async def status_page(request: Request) -> Response:
    import json

    rc, text = read_status(request.app.state.data_dir, as_json=True)
    try:
        data = json.loads(text)
    except ValueError:
        data = {"error": text}
    return page(request, "status.html", {"rc": rc, "h": data})
