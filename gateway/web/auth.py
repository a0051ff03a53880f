"""Logging in and out: server-side sessions, CSRF tokens, login rate limiting, the auth middleware.

- A session is a random 32-byte token in the ``htg_session`` cookie (HttpOnly, SameSite=Lax, Secure
  with ``web.secure_cookies``); the database keeps only its SHA-256, the user, a per-session CSRF
  token and the expiry (``web.session_hours`` after login). Logging out deletes the row.
- Every POST carries the CSRF token in a hidden ``csrf`` field, compared in constant time; the login
  form, which has no session yet, uses a double-submit token (cookie ``htg_login`` = field).
- Failed logins are audit rows (``login_failed``); ``web.login_max_failures`` of them within
  ``web.login_window_minutes`` from one address, or for one user name, refuse further attempts
  (HTTP 429 with Retry-After) until the window has passed. A successful login clears the failures
  for that account only (from every address), never those for other names tried from the same
  address. The password check (argon2) runs outside the database write lock.
- The client's address is the TCP peer; ``X-Forwarded-For`` is believed only from a peer listed in
  ``web.trusted_proxies``.
- :class:`AuthMiddleware` lets only ``/login`` and ``/static/`` through without a session: pages
  redirect to the login form, audio, events, fragments and JSON answer 401.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
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
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import WebConfig
from gateway.store.db import Database
from gateway.store.models import AuditEntry, WebSession, WebUser, utcnow
from gateway.web import users
from gateway.web.params import clean_text

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

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


@dataclass(frozen=True)
class _Account:
    """What a login needs to know of a user, read before the (slow) password check."""
    id: int
    name: str
    role: str
    password_hash: str
    disabled: bool


# Logins being checked right now (argon2 runs outside the write lock, so the database does not yet
# show their outcome): counted with the failures, so a burst cannot run more than the limit allows.
_pending: Counter[tuple[str, str]] = Counter()
_pending_lock = threading.Lock()


@contextlib.contextmanager
def _reserve(ip: str, name: str) -> Iterator[tuple[int, int]]:
    """Counts this attempt as pending for its address and its name; yields the pending counts before it."""
    keys = (("ip", ip), ("name", name))
    with _pending_lock:
        before = (_pending[keys[0]], _pending[keys[1]])
        for k in keys:
            _pending[k] += 1
    try:
        yield before
    finally:
        with _pending_lock:
            for k in keys:
                _pending[k] -= 1
                if _pending[k] <= 0:
                    del _pending[k]


def _name_failures(s: Session, name: str, since: datetime) -> list[datetime]:
    """Failed logins for one account since ``since`` and since that account's last success."""
    last_ok = s.scalar(select(func.max(AuditEntry.at)).where(
        AuditEntry.action == "login_ok", AuditEntry.actor == name, AuditEntry.at >= since))
    after = max(since, last_ok) if last_ok is not None else since
    return list(s.scalars(select(AuditEntry.at).where(
        AuditEntry.action == "login_failed", AuditEntry.actor == name, AuditEntry.at > after)
        .order_by(AuditEntry.at)))


def _address_failures(s: Session, ip: str, since: datetime) -> list[datetime]:
    """Failed logins from one address since ``since``. A success clears only the failures for the
    account that logged in, never those for other names (one account cannot reset a spray)."""
    rows = s.execute(select(AuditEntry.at, AuditEntry.actor).where(
        AuditEntry.action == "login_failed", AuditEntry.ip == ip, AuditEntry.at > since)).all()
    names = {actor for _, actor in rows if actor}
    ok: dict[str | None, datetime] = dict(s.execute(
        select(AuditEntry.actor, func.max(AuditEntry.at)).where(
            AuditEntry.action == "login_ok", AuditEntry.actor.in_(names), AuditEntry.at > since)
        .group_by(AuditEntry.actor)).all()) if names else {}
    return sorted(at for at, actor in rows if actor not in ok or ok[actor] < at)


def _retry_after(failed: list[datetime], pending: int, limit: int, window: timedelta,
                 now: datetime) -> int | None:
    if len(failed) + pending < limit:
        return None
    if len(failed) < limit:  # refused because of attempts still being checked: soon free again
        return 1
    frees_at = failed[len(failed) - limit] + window  # then only limit - 1 failures remain in the window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def _throttled(s: Session, cfg: WebConfig, ip: str, name: str, pending: tuple[int, int],
               now: datetime) -> int | None:
    """Seconds to wait if the address or the account has used up its failures, else None."""
    window = timedelta(minutes=cfg.login_window_minutes)
    limit = cfg.login_max_failures
    waits = [w for w in (_retry_after(_address_failures(s, ip, now - window), pending[0], limit, window, now),
                         _retry_after(_name_failures(s, name, now - window), pending[1], limit, window, now))
             if w is not None]
    return max(waits) if waits else None


def login_name(name: str) -> str:
    """A typed user name as it is looked up and audited (control characters removed)."""
    return clean_text(name).strip().lower()[:100]


def attempt_login(db: Database, cfg: WebConfig, name: str, password: str, ip: str) -> LoginResult:
    """Check a login. The argon2 work runs between a read and a short write, never inside
    ``db.write()``: a burst of logins does not hold up the pipeline's commits."""
    typed = login_name(name)
    now = utcnow()
    with _reserve(ip, typed) as pending:
        with db.read() as s:
            wait = _throttled(s, cfg, ip, typed, pending, now)
            row = s.scalar(select(WebUser).where(WebUser.name == typed)) if wait is None else None
            account = _Account(row.id, row.name, row.role, row.password_hash, row.disabled) \
                if row is not None else None
        if wait is not None:
            with db.write() as s:
                users.audit(s, "login_blocked", typed, f"user:{typed}", ip)
            log.warning("web: login for %r from %s refused: too many failures (retry in %d s)",
                        typed, ip, wait)
            return LoginResult(retry_after=wait)
        ok = users.verify_password(account.password_hash if account else None, password)
        new_hash = users.hash_password(password) \
            if account is not None and ok and users.needs_rehash(account.password_hash) else None
        token = secrets.token_urlsafe(32)
        with db.write() as s:
            user = s.get(WebUser, account.id) if account is not None else None
            if user is not None and account is not None and user.password_hash != account.password_hash:
                ok = False  # the password was changed while this one was being checked
            if user is None or not ok or user.disabled:
                why = "no such user" if user is None else "disabled" if ok else "wrong password"
                users.audit(s, "login_failed", typed, f"user:{typed}", ip, after={"reason": why})
                log.warning("web: failed login for %r from %s (%s)", typed, ip, why)
                return LoginResult()
            if new_hash is not None:
                user.password_hash = new_hash
            s.execute(delete(WebSession).where(WebSession.expires_at <= now))
            s.add(WebSession(token_sha256=token_hash(token), user_id=user.id,
                             csrf_token=secrets.token_urlsafe(32), created_at=now,
                             expires_at=now + timedelta(hours=cfg.session_hours), ip=ip))
            users.audit(s, "login_ok", user.name, f"user:{user.name}", ip, after={"role": user.role})
            user_name = user.name
    log.info("web: %s logged in from %s", user_name, ip)
    return LoginResult(token=token, user=user_name)


# --- request helpers --------------------------------------------------------------------------

def trusted_networks(addresses: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """``web.trusted_proxies`` as networks (the config check has made sure each one parses)."""
    return tuple(ipaddress.ip_network(a.strip(), strict=False) for a in addresses)


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def forwarded_client(peer: str, forwarded_for: list[str], trusted: tuple[IPNetwork, ...]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy; then the nearest address in
    X-Forwarded-For (read from the right) that is not itself a trusted proxy. A header that does not
    parse, or one sent by anybody else, is ignored."""
    addr = _address(peer)
    if addr is None or not any(addr in net for net in trusted):
        return peer
    hops = [h for value in forwarded_for for h in value.split(",")]
    for hop in reversed(hops):
        hop_addr = _address(hop)
        if hop_addr is None:
            return peer  # a hop that is no address: nothing to the left of it can be believed
        if not any(hop_addr in net for net in trusted):
            return str(hop_addr)
    return peer


def client_ip(request: Request) -> str:
    """The client's address, as recorded in the audit log and used by the login rate limit."""
    client = request.client
    peer = (client[0] if client else "") or "unknown"
    trusted = getattr(request.app.state, "trusted_networks", ())
    if not trusted:
        return peer
    values = [v.decode("latin-1") for k, v in request.scope["headers"] if k == b"x-forwarded-for"]
    return forwarded_client(peer, values, trusted)[:64]


def current_user(request: Request) -> CurrentUser:
    user = request.scope.get("htg_user")
    if not isinstance(user, CurrentUser):  # the middleware lets no such request through
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

        async def with_headers(message: Message) -> None:
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
