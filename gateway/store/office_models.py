"""The office's tables (migration 0023): each gateway's heartbeat and the alert episodes and mails
(gateway/fleet.py, gateway/alerts.py). Part of :mod:`gateway.store.models`' metadata."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base, UTCDateTime


class GatewayRow(Base):
    """One gateway daemon's last heartbeat (migration 0023; gateway/fleet.py writes it)."""

    __tablename__ = "gateways"

    gateway_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(40))
    capture_state: Mapped[str] = mapped_column(String(16))  # up | down | idle | starting | stopped
    capture_up: Mapped[bool] = mapped_column(Boolean)
    last_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the gateway's clock
    last_heard_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its newest transmission
    backlog: Mapped[int] = mapped_column(Integer)  # its pending transcription jobs
    squelch_stuck: Mapped[bool] = mapped_column(Boolean)
    clock_offset_s: Mapped[float] = mapped_column(Float)  # its wall clock minus the database's now()
    heartbeat_s: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the database's clock (PostgreSQL)


class GatewayAlert(Base):
    """An alert episode per (gateway, kind), claimed by one conditional write (gateway/alerts.py)."""

    __tablename__ = "gateway_alerts"

    gateway_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # silent | squelch | backlog
    active: Mapped[bool] = mapped_column(Boolean)
    episode_start: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertMail(Base):
    """An alert or recovery mail: pending until delivered, retried with back-off, claimed by lease."""

    __tablename__ = "alert_mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    what: Mapped[str] = mapped_column(String(8))  # alert | back
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
