"""SQLAlchemy 2.x tables. Times are stored in UTC and come back timezone-aware (UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.dialects import postgresql  # noqa: F401 - registers to_tsvector's types (the FTS index)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive UTC text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: What transmissions recorded before gateway.id / channel.id existed carry (and the keys' defaults).
DEFAULT_GATEWAY_ID = "gw1"
DEFAULT_CHANNEL_ID = "ch1"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Transmission(Base):
    """One transmission heard on the channel, from squelch open to close."""

    __tablename__ = "transmissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audio_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    # recording: the row is committed, audio is being written to temp_path (or the process died
    # while it was; gateway/recovery.py finishes it); complete: renamed to audio_path and hashed.
    status: Mapped[str] = mapped_column(String(16), default="recording", index=True)
    kerchunk: Mapped[bool] = mapped_column(Boolean, default=False)
    stuck: Mapped[bool] = mapped_column(Boolean, default=False)
    recovered: Mapped[bool] = mapped_column(Boolean, default=False)
    # the gateway stopped (or its input broke off) mid-way; a server default only, so inserts written
    # for older schemas (tests that migrate down) still work
    cut_short: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # speech energy but no words even without the recogniser's filters: "perlu didengar" (0015)
    needs_listening: Mapped[bool] = mapped_column(Boolean, server_default=false())
    audio_path: Mapped[str | None] = mapped_column(String(400))  # relative to the data directory
    temp_path: Mapped[str | None] = mapped_column(String(400))
    sha256: Mapped[str | None] = mapped_column(String(64))
    audio_bytes: Mapped[int | None] = mapped_column(Integer)
    audio_duration_s: Mapped[float | None] = mapped_column(Float)
    peak_dbfs: Mapped[float | None] = mapped_column(Float)
    rms_dbfs: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200), default="")
    station: Mapped[str | None] = mapped_column(String(100), index=True)
    ani: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # identity (gateway/identification/identify.py): who spoke, how we know, and why (or why not)
    ani_position: Mapped[str | None] = mapped_column(String(8))  # bot | eot | mid
    # every sequence: [{digits, start, end, position}]
    dtmf: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    identity_source: Mapped[str | None] = mapped_column(String(16))  # operator|ani|voice|continuation
    identity_confidence: Mapped[float | None] = mapped_column(Float)
    identity_reason: Mapped[str | None] = mapped_column(Text)
    identity_reason_data: Mapped[str | None] = mapped_column(Text)  # JSON: gateway/reasons.py
    # where it was heard: the configuration's gateway.id and channel.id (migration 0022)
    gateway_id: Mapped[str] = mapped_column(String(32), server_default=DEFAULT_GATEWAY_ID)
    channel_id: Mapped[str] = mapped_column(String(32), server_default=DEFAULT_CHANNEL_ID)
    # its transcription job (gateway/jobs.py): asr_pending marks it (set when the row is completed or
    # re-transcription is asked for: asr_redo; cleared with the transcript's write); claimed by one
    # holder until asr_lease_until
    asr_pending: Mapped[bool] = mapped_column(Boolean, server_default=false())
    asr_priority: Mapped[int] = mapped_column(Integer, server_default="0")  # lower first (jobs.PRIORITY_*)
    asr_redo: Mapped[bool] = mapped_column(Boolean, server_default=false())
    asr_claimed_by: Mapped[str | None] = mapped_column(String(100))
    asr_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    asr_attempts: Mapped[int] = mapped_column(Integer, server_default="0")  # claims so far
    # its recording still to be copied into transmission_audio (store.audio_in_db; migration 0024)
    audio_push_pending: Mapped[bool] = mapped_column(Boolean, server_default=false())

    @property
    def audio_purged(self) -> bool:
        """Its recording was deleted by retention (gateway/retention.py): complete, no audio_path."""
        return self.status == "complete" and not self.audio_path

    @property
    def flags(self) -> list[str]:
        return [n for n, on in (("kerchunk", self.kerchunk), ("stuck", self.stuck),
                                ("recovered", self.recovered), ("cut_short", self.cut_short),
                                ("needs_listening", self.needs_listening)) if on]


class TransmissionAudio(Base):
    """A transmission's recording, copied into the database for the office (store.audio_in_db;
    gateway/audiostore.py): the file's bytes and their sha256, equal to the row's when pushed."""

    __tablename__ = "transmission_audio"

    transmission_id: Mapped[int] = mapped_column(ForeignKey("transmissions.id", ondelete="CASCADE"),
                                                 primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(Base):
    """Something an operator should know about: stuck squelch, overflow, recovery after a crash."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")
    transmission_id: Mapped[int | None] = mapped_column(ForeignKey("transmissions.id"))


class TranscriptRow(Base):
    """One recogniser run over one transmission. Exactly one row per transmission is ``current``."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transmission_id: Mapped[int] = mapped_column(ForeignKey("transmissions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # gateway/transcripts.py TRANSCRIPT_STATUSES
    engine: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    # [{word, start, end, conf}], s from audio start
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    confidence: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(8))  # live (streamed while heard) | file (from the recording)
    latency_s: Mapped[float | None] = mapped_column(Float)  # squelch close → stored (live only)
    processing_s: Mapped[float | None] = mapped_column(Float)
    # the recogniser asked again which station an unresolved self-introduction names
    # (gateway/identification/name_check.py): {phrase, best, margin, runner_up}, or None
    name_check: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)  # an operator checked it
    verified_by: Mapped[str | None] = mapped_column(String(100))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def current_transcript(s: Session, tx_id: int) -> TranscriptRow | None:
    """The transmission's ``current`` transcript (the newest, should the one-row rule ever be
    broken), or None before it has any."""
    return s.scalar(select(TranscriptRow).where(TranscriptRow.transmission_id == tx_id, TranscriptRow.current)
                    .order_by(TranscriptRow.id.desc()).limit(1))


class Assignment(Base):
    """An operator's say on who spoke; the newest row per transmission counts (station None: cleared)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transmission_id: Mapped[int] = mapped_column(ForeignKey("transmissions.id"), index=True)
    station: Mapped[str | None] = mapped_column(String(100))
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class ReportRevision(Base):
    """A filed daily report. Never updated: a change after filing makes the next revision."""

    __tablename__ = "report_revisions"
    __table_args__ = (UniqueConstraint("day", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    revision: Mapped[int] = mapped_column(Integer)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(20))  # scheduled | late_report | correction | manual
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportDelivery(Base):
    """Mailing one filed revision: pending until delivered, retried with back-off (report/delivery.py)."""

    __tablename__ = "report_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("report_revisions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FollowUp(Base):
    """Something a camat asked for, followed up until done (baru → diproses → selesai)."""

    __tablename__ = "followups"
    __table_args__ = (UniqueConstraint("transmission_id", "item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    station: Mapped[str] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(40))
    item: Mapped[str] = mapped_column(String(200))
    phrase: Mapped[str] = mapped_column(Text, default="")
    transmission_id: Mapped[int] = mapped_column(ForeignKey("transmissions.id"))
    status: Mapped[str] = mapped_column(String(12), default="baru")  # baru | diproses | selesai
    opd: Mapped[str | None] = mapped_column(String(100))  # the agency (OPD) assigned
    note: Mapped[str] = mapped_column(Text, default="", server_default="")  # the office's note (web UI)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_dict(self, tz: tzinfo) -> dict[str, Any]:
        return {"id": self.id, "day": self.day.isoformat(), "station": self.station,
                "category": self.category, "item": self.item, "phrase": self.phrase,
                "transmission_id": self.transmission_id, "status": self.status, "opd": self.opd,
                "updated_at": self.updated_at.astimezone(tz).isoformat(timespec="seconds")}


# --- web UI (gateway/web): users, sessions, audit log, transcript search ------------------------

from sqlalchemy import Index, func  # noqa: E402 - kept with the web section it serves
from sqlalchemy import text as sql_text  # noqa: E402


class WebUser(Base):
    """Someone who may log in to the web UI. There is no default user: ``ht-gateway user add``."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # lower case
    role: Mapped[str] = mapped_column(String(12))  # viewer | operator | admin
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, PHC string
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ip: Mapped[str | None] = mapped_column(String(64))


class AuditEntry(Base):
    """Who did what, when: logins (and failures, which also drive rate limiting), logouts, changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(100), index=True)  # user name (as typed, on failure)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(100))  # e.g. "transmission:12", "user:ana"
    ip: Mapped[str | None] = mapped_column(String(64), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TransmitMessage(Base):
    """Something the gateway is to say on the radio (gateway.transmit): queued here by the daemon's
    acknowledgements and roll calls, by ``ht-gateway announce`` and by the web UI; the daemon's
    transmitter sends them oldest first (migration 0011_talkback)."""

    __tablename__ = "transmit_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ack | roll_call | reminder | summary | announce
    # a key that makes queueing idempotent, e.g. "ack:12", "roll_call:2026-11-20T08:30"
    dedupe: Mapped[str | None] = mapped_column(String(100), unique=True)
    text: Mapped[str] = mapped_column(Text)
    parts: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [[kind, value]]: phrase/station/text
    by: Mapped[str] = mapped_column(String(100), default="gateway")
    station: Mapped[str | None] = mapped_column(String(100))  # an acknowledgement's station
    # gateway/transmit/queue.py TRANSMIT_STATUSES
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    keyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unkeyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    transmission_id: Mapped[int | None] = mapped_column(ForeignKey("transmissions.id"))  # how it came back


# Full-text search over transcripts: on PostgreSQL this GIN expression index (migration 0005); on
# SQLite an FTS5 table ``transcripts_fts`` kept in sync by triggers (migration 0005, no model).
Index("ix_transcripts_text_fts", func.to_tsvector(sql_text("'simple'::regconfig"), TranscriptRow.text),
      postgresql_using="gin").ddl_if(dialect="postgresql")

# Web UI on a large database (migration 0006, which says why): a day's complete transmissions by time,
# a station's transmissions by time, and a transmission's current transcript.
Index("ix_transmissions_status_started_at", Transmission.status, Transmission.started_at)
Index("ix_transmissions_station_started_at", Transmission.station, Transmission.started_at)
Index("ix_transcripts_transmission_id_current", TranscriptRow.transmission_id, TranscriptRow.current)
# Channels and jobs (migration 0022): the log by channel; a worker's claims (few rows, renewed often)
Index("ix_transmissions_channel_started_at", Transmission.channel_id, Transmission.started_at)
Index("ix_transmissions_asr_pending", Transmission.asr_priority, Transmission.started_at, Transmission.id,
      sqlite_where=sql_text("asr_pending = 1"), postgresql_where=sql_text("asr_pending"))
Index("ix_transmissions_audio_push_pending", Transmission.gateway_id, Transmission.id,  # 0024
      sqlite_where=sql_text("audio_push_pending = 1"), postgresql_where=sql_text("audio_push_pending"))
Index("ix_transmissions_asr_claimed_by", Transmission.asr_claimed_by,
      sqlite_where=sql_text("asr_claimed_by IS NOT NULL"),
      postgresql_where=sql_text("asr_claimed_by IS NOT NULL"))


class ReportTerm(Base):
    """A word the filed report read from a transmission (migration 0016; gateway.report.terms)."""

    __tablename__ = "report_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    transmission_id: Mapped[int] = mapped_column(ForeignKey("transmissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # incident | desa | need | status
    term: Mapped[str] = mapped_column(String(64))  # the word's stem


Index("ix_report_terms_term", ReportTerm.term, ReportTerm.transmission_id)
Index("ix_report_terms_term_kind", ReportTerm.term, ReportTerm.kind, ReportTerm.transmission_id)  # 0020
Index("ix_transmissions_needs_listening", Transmission.started_at,
      sqlite_where=sql_text("needs_listening = 1"), postgresql_where=sql_text("needs_listening"))


class TranscriptExtract(Base):
    """What the report's extractor read from one transcript (migration 0020; gateway.report.extracts)."""

    __tablename__ = "transcript_extracts"

    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)  # gateway.report.model.EXTRACTOR_VERSION
    key: Mapped[str] = mapped_column(String(64))  # code, lexicon and options digest (extracts.key_for)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # StationExtract.to_dict()


# The office's tables (gateways, alerts) live in office_models.py; imported here so that every table
# is in Base.metadata whichever module is imported first.
import gateway.store.office_models  # noqa: E402,F401
