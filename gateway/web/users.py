"""Web UI users and the audit log: argon2id password hashes, roles, and who changed what.

There is no default user and no default password: the first admin is created on the command line
(``ht-gateway user add NAME --role admin``). Roles are ordered ``viewer`` < ``operator`` < ``admin``:
viewers read, operators also correct transcripts, verify them and assign stations; admins may do
everything an operator may, and manage users (on the command line or in the web UI, /admin/users).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from gateway.store.db import Database
from gateway.store.models import AuditEntry, WebSession, WebUser, utcnow

log = logging.getLogger(__name__)

ROLES = ("viewer", "operator", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")

# argon2id with the RFC 9106 "low memory" parameters (t=3, m=64 MiB, p=4): argon2-cffi's defaults.
_hasher = PasswordHasher()
_dummy_hash: str | None = None


class UserError(ValueError):
    """A bad user name, role or password; the message is one line for the operator."""


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    role: str
    disabled: bool
    created_at: datetime
    password_changed_at: datetime


def _info(u: WebUser) -> UserInfo:
    return UserInfo(u.id, u.name, u.role, u.disabled, u.created_at, u.password_changed_at)


def normalize_name(name: str) -> str:
    n = name.strip().lower()
    if not NAME_RE.fullmatch(n):
        raise UserError(f"user name {name!r}: 2-40 of a-z 0-9 . _ -, starting with a letter or digit")
    return n


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"password too long: at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; with no hash (no such user) the same work is done, for timing."""
    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("no such user, never matches")
        password_hash, password = _dummy_hash, password + "\0"
    try:
        return _hasher.verify(password_hash, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def audit(s: Session, action: str, actor: str | None = None, target: str | None = None,
          ip: str | None = None, before: dict[str, Any] | None = None,
          after: dict[str, Any] | None = None) -> None:
    """One audit row, in the caller's write transaction (so it commits with the change it records)."""
    s.add(AuditEntry(at=utcnow(), actor=(actor or None) and actor[:100], action=action,
                     target=target, ip=ip, before=before, after=after))


def add_user(db: Database, name: str, role: str, password: str, actor: str,
             ip: str | None = None) -> UserInfo:
    name = normalize_name(name)
    if role not in ROLES:
        raise UserError(f"role {role!r}: expected {', '.join(ROLES)}")
    check_password(password)
    password_hash = hash_password(password)
    with db.write() as s:
        if s.scalar(select(WebUser.id).where(WebUser.name == name)) is not None:
            raise UserError(f"user {name!r} already exists")
        now = utcnow()
        user = WebUser(name=name, role=role, password_hash=password_hash, disabled=False, created_at=now,
                       password_changed_at=now)
        s.add(user)
        s.flush()
        audit(s, "user_add", actor, f"user:{name}", ip, after={"name": name, "role": role})
        info = _info(user)
    log.info("web user %s added (%s) by %s", name, role, actor)
    return info


def list_users(db: Database) -> list[UserInfo]:
    with db.read() as s:
        return [_info(u) for u in s.scalars(select(WebUser).order_by(WebUser.name))]


def _delete_sessions(s: Session, user_id: int) -> int:
    """End every web session of ``user_id``; how many there were."""
    # a DELETE gives a CursorResult (it has rowcount); Session.execute is typed as the base Result
    result = cast(CursorResult[Any], s.execute(delete(WebSession).where(WebSession.user_id == user_id)))
    return result.rowcount


def _get(s: Session, name: str) -> WebUser:
    user = s.scalar(select(WebUser).where(WebUser.name == normalize_name(name)))
    if user is None:
        raise UserError(f"no user {name!r} (ht-gateway user list)")
    return user


def set_password(db: Database, name: str, password: str, actor: str, ip: str | None = None) -> None:
    """A new password; the user's sessions end (every browser must log in again)."""
    check_password(password)
    password_hash = hash_password(password)
    with db.write() as s:
        user = _get(s, name)
        before = {"password_changed_at": user.password_changed_at.isoformat()}
        user.password_hash, user.password_changed_at = password_hash, utcnow()
        ended = _delete_sessions(s, user.id)
        audit(s, "user_passwd", actor, f"user:{user.name}", ip, before=before,
              after={"password_changed_at": user.password_changed_at.isoformat(), "sessions_ended": ended})
    log.info("web user %s: password changed by %s", name, actor)


def set_disabled(db: Database, name: str, disabled: bool, actor: str, ip: str | None = None) -> None:
    """Disable (or enable again) a user; disabling ends the user's sessions at once."""
    with db.write() as s:
        user = _get(s, name)
        before = {"disabled": user.disabled}
        user.disabled = disabled
        ended = _delete_sessions(s, user.id) if disabled else 0
        audit(s, "user_disable" if disabled else "user_enable", actor, f"user:{user.name}", ip, before=before,
              after={"disabled": disabled, "sessions_ended": ended})
    log.info("web user %s %s by %s", name, "disabled" if disabled else "enabled", actor)


def set_role(db: Database, name: str, role: str, actor: str, ip: str | None = None) -> None:
    """A new role; the user's sessions end, so that every page is shown with the new rights."""
    if role not in ROLES:
        raise UserError(f"role {role!r}: expected {', '.join(ROLES)}")
    with db.write() as s:
        user = _get(s, name)
        before = {"role": user.role}
        if user.role == role:
            return
        user.role = role
        ended = _delete_sessions(s, user.id)
        audit(s, "user_role", actor, f"user:{user.name}", ip, before=before,
              after={"role": role, "sessions_ended": ended})
    log.info("web user %s: role %s by %s", name, role, actor)
