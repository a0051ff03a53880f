"""The operator's "Kirim" (send) button: text queued for the daemon's transmitter.

The same path as ``ht-gateway announce``: a row in ``transmit_queue`` that the daemon's transmit
worker sends when the channel is clear. Operator role and CSRF token required; refused (409) when
``transmit.enabled`` is false; the text is checked like the command line's (400 naming what is
wrong). Audited.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from gateway.config import ConfigError
from gateway.web.auth import checked_form, client_ip
from gateway.web.users import audit


async def post_announce(request: Request) -> RedirectResponse:
    from gateway.cli.transmit import announce_text

    user, form = await checked_form(request, "operator")
    state = request.app.state
    if not state.cfg.transmit.enabled:
        raise HTTPException(409, "Pemancar tidak diaktifkan (transmit.enabled = false).")
    raw = form.get("text")
    try:
        text = announce_text(raw if isinstance(raw, str) else "")
    except ConfigError as e:
        raise HTTPException(400, f"Teks pengumuman tidak sah: {str(e).removeprefix('announce: ')}") from None

    def enqueue() -> int | None:
        from gateway.transmit import messages, queue

        msg = queue.enqueue(state.db, "announce", messages.announcement(text), by=user.name)
        with state.db.write() as s:
            audit(s, "announce", user.name, f"transmit_queue:{msg}", client_ip(request), None, {"text": text})
        return msg

    msg = await run_in_threadpool(enqueue)
    return RedirectResponse(f"/?sent={msg}", status_code=303)
