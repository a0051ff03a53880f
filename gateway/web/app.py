"""The web UI application: routes, middleware, templates. Serve it with ``ht-gateway web``.

``create_app(cfg, db, data_dir)`` builds a Starlette app over an open, migrated database. Everything
but the login form and the static files needs a session (``gateway.web.auth``); changes need the
operator role and a CSRF token. Tunables for tests live on ``app.state`` (``sse_poll_s``,
``sse_lifetime_s``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import Config
from gateway.identification.checkins import SOURCE_ID
from gateway.logutil import RateLimitedLog
from gateway.store.db import Database
from gateway.store.models import utcnow
from gateway.web import actions, admin, events, fleet_view, fmt, health_view, media, views
from gateway.web import transmit as talkback
from gateway.web.auth import API_PREFIXES, AuthMiddleware, SecurityHeadersMiddleware, trusted_networks
from gateway.web.reasons import reason_id

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
MAX_BODY = 1 << 20  # forms only: 1 MiB is plenty (Starlette >= 1.6 refuses more with 413)
TITLES = {400: "Permintaan tidak sah", 401: "Perlu login", 403: "Tidak diizinkan", 404: "Tidak ditemukan",
          405: "Metode tidak diizinkan", 409: "Konflik", 413: "Terlalu besar", 503: "Belum tersedia"}


def _templates(cfg: Config) -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    def approx(value: int) -> str:
        """An estimate to two significant figures, thousands grouped the Indonesian way: 820.000."""
        rounded = int(float(f"{value:.2g}")) if value >= 100 else value
        return f"{rounded:,}".replace(",", ".")

    fmt.install(env, cfg.tz)  # num, seconds, local, clock, audit_kind, role, engine, flag
    env.filters.update(approx=approx, reason=lambda tx: reason_id(tx, cfg.tz),
                       source=lambda v: SOURCE_ID.get(v or "", "-"))
    return Jinja2Templates(env=env)


def routes() -> list[Any]:
    return [
        Route("/login", views.login_form, methods=["GET"]),
        Route("/login", views.login_post, methods=["POST"]),
        Route("/logout", views.logout, methods=["POST"]),
        Route("/", views.today, methods=["GET"]),
        Route("/fragment/today", views.today_fragment, methods=["GET"]),
        Route("/events", events.events, methods=["GET"]),
        Route("/log", views.log_page, methods=["GET"]),
        Route("/tx/{tx_id}", views.tx_page, methods=["GET"]),
        Route("/tx/{tx_id}/transcript", actions.post_transcript, methods=["POST"]),
        Route("/tx/{tx_id}/verify", actions.post_verify, methods=["POST"]),
        Route("/tx/{tx_id}/assign", actions.post_assign, methods=["POST"]),
        Route("/transmit/announce", talkback.post_announce, methods=["POST"]),
        Route("/audio/{tx_id}", media.audio, methods=["GET"]),
        Route("/audio/{tx_id}/peaks.json", media.peaks, methods=["GET"]),
        Route("/compliance", views.compliance, methods=["GET"]),
        Route("/reports", views.reports, methods=["GET"]),
        Route("/status", health_view.status_page, methods=["GET"]),
        Route("/gateways", fleet_view.gateways_page, methods=["GET"]),
        Route("/reports/{day}/{rev}.{fmt}", views.report_file, methods=["GET"]),
        *admin_routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def admin_routes() -> list[Route]:
    """Administration in the browser (gateway/web/admin.py)."""
    user_change = [Route(f"/admin/users/{{user_id}}/{a}", admin.user_change, methods=["POST"])
                   for a in ("disable", "enable", "password", "role")]
    return [Route("/followups", admin.followups_page, methods=["GET"]),
            Route("/followups/{fu_id}", admin.followup_post, methods=["POST"]),
            Route("/admin/users", admin.users_page, methods=["GET"]),
            Route("/admin/users", admin.user_add, methods=["POST"]), *user_change,
            Route("/admin/audit", admin.audit_page, methods=["GET"]),
            Route("/reports/draft", admin.draft_page, methods=["GET"]),
            Route("/reports/{day}/{rev}", admin.revision_page, methods=["GET"])]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    path = request.url.path
    if path.startswith(API_PREFIXES) or path.endswith(".json") or exc.status_code == 405:
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=headers)
    detail = exc.detail if exc.detail and exc.detail != _default_phrase(exc.status_code) else ""
    return views.page(request, "error.html", {"status": exc.status_code, "detail": detail,
                                              "title": TITLES.get(exc.status_code, "Kesalahan")},
                      exc.status_code, headers)


def _default_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class SlashRedirectMiddleware:
    """``/log/`` → ``/log``: a relative redirect, built from the path only (Starlette's own redirect
    puts the Host header into an absolute URL, so it is switched off)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/") \
                and not path.startswith("/static/"):
            target = "/" + path.strip("/")
            if not target.startswith("//") and _matches(scope, target):
                query = scope.get("query_string", b"").decode("latin-1")
                location = quote(target, safe="/:@!$&'()*+,;=-._~") + (f"?{query}" if query else "")
                await RedirectResponse(location, status_code=307)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class StoreUnavailableMiddleware:
    """While the database is away (an outage, a restart of PostgreSQL): a 503 page saying so, with
    ``Retry-After``, instead of a 500 and a traceback per request; logged once a minute at most."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._log = RateLimitedLog(log, 60.0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except (OperationalError, InterfaceError) as e:
            if started:  # a streamed response already under way: nothing else can be sent
                raise
            self._log.warning("web: the database is unreachable (%s); answering 503",
                              (str(e.orig or e).splitlines() or [""])[0][:200])
            request = Request(scope)
            headers = {"Retry-After": "10"}
            path = request.url.path
            if path.startswith(API_PREFIXES) or path.endswith(".json"):
                response: Response = PlainTextResponse("database unreachable; try again shortly", 503,
                                                       headers=headers)
            else:
                response = views.page(request, "error.html", {
                    "status": 503, "title": "Basis data tidak terjangkau",
                    "detail": "Basis data sedang tidak dapat dihubungi. Gateway tetap merekam ke disk; "
                              "rekaman masuk ke sini saat basis data kembali. Muat ulang halaman sebentar "
                              "lagi."}, 503, headers)
            await response(scope, receive, send)


def _matches(scope: Scope, path: str) -> bool:
    app = scope.get("app")
    child = {**scope, "path": path}
    return app is not None and any(r.matches(child)[0] != Match.NONE for r in app.router.routes)


def create_app(cfg: Config, db: Database, data_dir: Path) -> Starlette:
    app = Starlette(routes=routes(), max_body_size=MAX_BODY,
                    middleware=[Middleware(SecurityHeadersMiddleware), Middleware(SlashRedirectMiddleware),
                                Middleware(StoreUnavailableMiddleware), Middleware(AuthMiddleware, db=db)],
                    exception_handlers={HTTPException: _http_error})
    app.router.redirect_slashes = False
    app.state.trusted_networks = trusted_networks(cfg.web.trusted_proxies)
    app.state.cfg = cfg
    app.state.db = db
    app.state.data_dir = Path(data_dir)
    app.state.templates = _templates(cfg)
    app.state.sse_poll_s = 1.0
    app.state.sse_lifetime_s = 300.0
    app.state.clock = utcnow  # the board's and /events' clock (tests inject one)
    return app
