"""The gateways table: each daemon's heartbeat, read by the office page and the alerts.

Every ``gateway.heartbeat_s`` the daemon's ``heartbeat`` worker (its own thread, never the capture
thread) writes one row per gateway id (:func:`beat`): what :class:`gateway.health.Health` knows
(capture state, the last audio block, a stuck squelch) and what the database knows about this
gateway (its newest transmission, its pending transcription jobs), read first in a read session,
then stored in one short write transaction (an upsert), under no other lock.

Times: ``updated_at`` is the database's ``now()`` on PostgreSQL, so rows from gateways whose clocks
differ compare; ``clock_offset_s`` is the gateway's wall clock minus that ``now()`` (0 on SQLite,
where the database's clock is the gateway's). ``last_frame_at`` and ``last_heard_at`` are on the
gateway's clock (transmission times are). A row is **stale** when its ``updated_at`` is older than
:data:`STALE_BEATS` × its own ``heartbeat_s``: the daemon is stopped, hung, or cut off from the
database.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gateway.logutil import RateLimitedLog
from gateway.store.db import Database
from gateway.store.models import Transmission, utcnow
from gateway.store.office_models import GatewayRow

if TYPE_CHECKING:
    from gateway.config import Config
    from gateway.health import Health

log = logging.getLogger(__name__)

STALE_BEATS = 3


def db_now(s: Session) -> datetime:
    """The database's clock: ``now()`` on PostgreSQL, this machine's clock on SQLite."""
    if s.get_bind().dialect.name == "postgresql":
        value = s.execute(text("SELECT now()")).scalar_one()
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
    return utcnow()


@dataclass(frozen=True)
class Beat:
    """What one heartbeat says (built from Health and the database, then stored)."""

    gateway_id: str
    channel_id: str
    host: str
    version: str
    capture_state: str
    last_frame_at: datetime | None
    last_heard_at: datetime | None
    backlog: int
    squelch_stuck: bool
    heartbeat_s: float

    @property
    def capture_up(self) -> bool:
        return self.capture_state in ("up", "idle")  # idle: no radio configured, nothing to hear


def _epoch(t: float | None) -> datetime | None:
    return datetime.fromtimestamp(t, UTC) if t else None


def observe(db: Database, cfg: Config, health: Health, state: str | None = None) -> Beat:
    """The heartbeat's content: Health's state and two index seeks in a read session."""
    from gateway import __version__

    gid, cid = cfg.gateway.id, cfg.channel.id
    with db.read() as s:
        # newest first on (channel_id, started_at): this gateway's rows are that channel's newest
        heard = s.scalar(select(Transmission.started_at).where(
            Transmission.channel_id == cid, Transmission.gateway_id == gid)
            .order_by(Transmission.started_at.desc()).limit(1))
        backlog = s.scalar(select(func.count()).select_from(Transmission).where(
            Transmission.asr_pending.is_(True), Transmission.gateway_id == gid)) or 0
    return Beat(gateway_id=gid, channel_id=cid, host=socket.gethostname()[:255], version=__version__,
                capture_state=state or str(health.capture["state"]), last_frame_at=_epoch(health.last_frame),
                last_heard_at=heard, backlog=backlog, squelch_stuck=health.stuck_since is not None,
                heartbeat_s=cfg.gateway.heartbeat_s)


def store(db: Database, beat: Beat, wall: datetime | None = None) -> None:
    """Upsert ``beat`` in one short write transaction. ``wall``: this gateway's clock (a test's)."""
    with db.write() as s:
        now = db_now(s)
        offset = ((wall or utcnow()) - now).total_seconds() if db.dialect == "postgresql" else 0.0
        values: dict[str, Any] = {
            "gateway_id": beat.gateway_id, "channel_id": beat.channel_id, "host": beat.host,
            "version": beat.version, "capture_state": beat.capture_state, "capture_up": beat.capture_up,
            "last_frame_at": beat.last_frame_at, "last_heard_at": beat.last_heard_at,
            "backlog": beat.backlog, "squelch_stuck": beat.squelch_stuck,
            "clock_offset_s": round(offset, 3), "heartbeat_s": beat.heartbeat_s,
            "updated_at": now if wall is None or db.dialect == "postgresql" else wall}
        s.execute(_upsert(db.dialect, values))


def _upsert(dialect: str, values: dict[str, Any]) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        q = pg_insert(GatewayRow).values(**values)
        return q.on_conflict_do_update(index_elements=["gateway_id"],
                                       set_={k: q.excluded[k] for k in values if k != "gateway_id"})
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    sq = sqlite_insert(GatewayRow).values(**values)
    return sq.on_conflict_do_update(index_elements=["gateway_id"],
                                    set_={k: sq.excluded[k] for k in values if k != "gateway_id"})


def beat(db: Database, cfg: Config, health: Health, state: str | None = None) -> None:
    store(db, observe(db, cfg, health, state))


def heartbeat_worker(db: Database, cfg: Config, health: Health) -> Callable[[threading.Event], None]:
    """The daemon's ``heartbeat`` worker: a beat every ``gateway.heartbeat_s`` until stopped, then a
    last one saying ``stopped``. A database fault is logged (rate-limited) and the next beat tries
    again; capture never waits for it."""
    fault = RateLimitedLog(log, 600.0)

    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            attempt(None)
            stop.wait(cfg.gateway.heartbeat_s)
        attempt("stopped")  # the office page says so at once, instead of going stale

    def attempt(state: str | None) -> None:
        try:
            beat(db, cfg, health, state)
        except Exception as e:  # the database is away: the office sees the row go stale
            fault.warning("gateway heartbeat not stored: %s", " ".join(str(e).split())[:200])

    return run


@dataclass(frozen=True)
class GatewayState:
    """A gateways row as the office page shows it."""

    row: GatewayRow
    stale: bool
    age_s: float  # since its last heartbeat, on the database's clock
    open_alerts: tuple[str, ...]


def gateway_states(db: Database, now: datetime | None = None) -> tuple[datetime, list[GatewayState]]:
    """Every gateway (by channel, then id) with whether its heartbeat is stale, and its open alerts."""
    from gateway.store.office_models import GatewayAlert

    with db.read() as s:
        now = now or db_now(s)
        rows = list(s.scalars(select(GatewayRow).order_by(GatewayRow.channel_id, GatewayRow.gateway_id)))
        alerts: dict[str, list[str]] = {}
        for gid, kind in s.execute(select(GatewayAlert.gateway_id, GatewayAlert.kind)
                                   .where(GatewayAlert.active.is_(True)).order_by(GatewayAlert.kind)):
            alerts.setdefault(gid, []).append(kind)
    out = []
    for r in rows:
        age = (now - r.updated_at).total_seconds()
        stale = age > STALE_BEATS * r.heartbeat_s
        out.append(GatewayState(r, stale, age, tuple(alerts.get(r.gateway_id, ()))))
    return now, out


def channel_ids(db: Database, cfg: Config) -> list[str]:
    """The channels the office knows: the gateways table's and this configuration's."""
    with db.read() as s:
        known = set(s.scalars(select(GatewayRow.channel_id).distinct()))
    return sorted(known | {cfg.channel.id})


__all__ = ["STALE_BEATS", "Beat", "GatewayState", "beat", "channel_ids", "db_now", "gateway_states",
           "heartbeat_worker", "observe", "store"]
