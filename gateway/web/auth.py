"""Logging in and out: server-side sessions, CSRF tokens, login rate limiting, the auth middleware.

- A session is a random 32-byte token in the ``htg_session`` cookie (HttpOnly, SameSite=Lax, Secure
  with ``web.secure_cookies``); the database keeps only its SHA-256, the user, a per-session CSRF
  token and the expiry (``web.session_hours`` after login). Logging out deletes the row.
- Every POST carries the CSRF token in a hidden ``csrf`` field, compared in constant time; the login
  form, which has no session yet, uses a double-submit token (cookie ``htg_login`` = field).
- Failed logins are audit rows (``login_failed``); ``web.login_max_failures`` of them within
  ``web.login_window_minutes`` from one address, or for one user name, refuse further attempts
  (HTTP 429 with Retry-After) until the window has passed; a successful login clears the count.
- :class:`AuthMiddleware` lets only ``/login`` and ``/static/`` through without a session: pages
  redirect to the login form, audio, events, fragments and JSON answer 401.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import WebConfig
from gateway.store.db import Database
from gateway.store.models import AuditEntry, WebSession, WebUser, utcnow
from gateway.web import users

log = logging.getLogger(__name__)

SESSION_COOKIE = "htg_session"
LOGIN_COOKIE = "htg_login"
PUBLIC_PREFIXES = ("/login", "/static/")
API_PREFIXES = ("/audio/", "/events", "/fragment/")


@dataclass(frozen=True)
class CurrentUser:
    id: int
    name: str
    role: str
    csrf: str
    session_id: int

    def can(self, role: str) -> bool:
        return users.RANK[self.role] >= users.RANK[role]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_session(db: Database, token: str) -> CurrentUser | None:
    with db.read() as s:
        row = s.execute(select(WebSession, WebUser).join(WebUser, WebUser.id == WebSession.user_id)
                        .where(WebSession.token_sha256 == token_hash(token))).first()
    if row is None:
        return None
    sess, user = row
    if sess.expires_at <= utcnow() or user.disabled:
        return None
    return CurrentUser(user.id, user.name, user.role, sess.csrf_token, sess.id)


def end_session(db: Database, user: CurrentUser, ip: str | None) -> None:
    with db.write() as s:
        s.execute(delete(WebSession).where(WebSession.id == user.session_id))
        users.audit(s, "logout", user.name, f"user:{user.name}", ip)
    log.info("web: %s logged out (%s)", user.name, ip)


@dataclass(frozen=True)
class LoginResult:
    token: str | None = None  # set on success
    user: str | None = None
    retry_after: int | None = None  # set when refused by the rate limit


def _failures(s: Session, key: object, value: str, since: datetime) -> list[datetime]:
    """Failed logins for one address or name since ``since`` and since its last success."""
    last_ok = s.scalar(select(func.max(AuditEntry.at)).where(
        AuditEntry.action == "login_ok", key == value, AuditEntry.at >= since))
    after = max(since, last_ok) if last_ok is not None else since
    return list(s.scalars(select(AuditEntry.at).where(
        AuditEntry.action == "login_failed", key == value, AuditEntry.at > after).order_by(AuditEntry.at)))


def _retry_after(failed: list[datetime], limit: int, window: timedelta, now: datetime) -> int | None:
    if len(failed) < limit:
        return None
    frees_at = failed[len(failed) - limit] + window  # then only limit - 1 failures remain in the window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def attempt_login(db: Database, cfg: WebConfig, name: str, password: str, ip: str) -> LoginResult:
    typed = name.strip().lower()[:100]
    now = utcnow()
    window = timedelta(minutes=cfg.login_window_minutes)
    with db.write() as s:  # one login at a time in this process: the count cannot be raced
        waits = [w for w in (
            _retry_after(_failures(s, AuditEntry.ip, ip, now - window), cfg.login_max_failures, window, now),
            _retry_after(_failures(s, AuditEntry.actor, typed, now - window), cfg.login_max_failures,
                         window, now)) if w is not None]
        if waits:
            users.audit(s, "login_blocked", typed, f"user:{typed}", ip)
            log.warning("web: login for %r from %s refused: too many failures (retry in %d s)",
                        typed, ip, max(waits))
            return LoginResult(retry_after=max(waits))
        user = s.scalar(select(WebUser).where(WebUser.name == typed))
        ok = users.verify_password(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            why = "no such user" if user is None else "disabled" if ok else "wrong password"
            users.audit(s, "login_failed", typed, f"user:{typed}", ip, after={"reason": why})
            log.warning("web: failed login for %r from %s (%s)", typed, ip, why)
            return LoginResult()
        if users.needs_rehash(user.password_hash):
            user.password_hash = users.hash_password(password)
        s.execute(delete(WebSession).where(WebSession.expires_at <= now))
        token = secrets.token_urlsafe(32)
        s.add(WebSession(token_sha256=token_hash(token), user_id=user.id,
                         csrf_token=secrets.token_urlsafe(32), created_at=now,
                         expires_at=now + timedelta(hours=cfg.session_hours), ip=ip))
        users.audit(s, "login_ok", user.name, f"user:{user.name}", ip, after={"role": user.role})
    log.info("web: %s logged in from %s", user.name, ip)
    return LoginResult(token=token, user=user.name)


# --- request helpers --------------------------------------------------------------------------

def client_ip(request: Request | Scope) -> str:
    client = request.client if isinstance(request, Request) else request.get("client")
    return (client[0] if client else "") or "unknown"


def current_user(request: Request) -> CurrentUser:
    user = request.scope.get("htg_user")
    if user is None:  # the middleware lets no such request through
        raise HTTPException(401)
    return user


def require(request: Request, role: str) -> CurrentUser:
    user = current_user(request)
    if not user.can(role):
        log.warning("web: %s (%s) refused: %s %s needs %s", user.name, user.role, request.method,
                    request.url.path, role)
        raise HTTPException(403, "Anda tidak berwenang melakukan ini.")
    return user


def same(a: object, b: str) -> bool:
    return isinstance(a, str) and bool(a) and hmac.compare_digest(a.encode(), b.encode())


async def checked_form(request: Request, role: str = "viewer") -> tuple[CurrentUser, FormData]:
    """The POSTed form of a user with at least ``role``, after checking its CSRF token (else 403)."""
    user = require(request, role)
    form = await request.form()
    if not same(form.get("csrf"), user.csrf):
        log.warning("web: %s %s by %s without a valid CSRF token", request.method, request.url.path,
                    user.name)
        raise HTTPException(403, "Token formulir tidak sah; muat ulang halaman dan coba lagi.")
    return user, form


def safe_next(target: object) -> str:
    """A local path to go to after login; anything else (other hosts, schemes) is replaced by /."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    return target


def set_session_cookie(response: Response, token: str, cfg: WebConfig) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(cfg.session_hours * 3600), path="/",
                        httponly=True, samesite="lax", secure=cfg.secure_cookies)


class AuthMiddleware:
    """Loads the session of every request; refuses what needs one and has none."""

    def __init__(self, app: ASGIApp, db: Database) -> None:
        self.app, self.db = app, db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        request = Request(scope)
        token = request.cookies.get(SESSION_COOKIE)
        user = await run_in_threadpool(load_session, self.db, token) if token else None
        scope["htg_user"] = user
        if user is None and not path.startswith(PUBLIC_PREFIXES):
            response: Response
            if path.startswith(API_PREFIXES) or path.endswith(".json"):
                response = PlainTextResponse("login required", status_code=401,
                                             headers={"WWW-Authenticate": 'Cookie realm="ht-gateway"'})
            else:
                query = scope["query_string"].decode("latin-1")
                target = safe_next(path + (f"?{query}" if query else ""))
                response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SecurityHeadersMiddleware:
    """Headers on every response: no framing, no sniffing, same-origin everything, no caching of pages."""

    CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                extra = {b"x-content-type-options": b"nosniff", b"x-frame-options": b"DENY",
                         b"referrer-policy": b"same-origin", b"content-security-policy": self.CSP.encode(),
                         b"cache-control": b"no-store"}
                if scope["path"].startswith("/static/"):
                    extra[b"cache-control"] = b"public, max-age=3600"
                headers += [(k, v) for k, v in extra.items() if k not in have]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
