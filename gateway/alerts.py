"""Alerts by mail from the gateways table: a gateway silent, a squelch stuck, a backlog too long.

Every daemon with ``alerts.enabled`` runs :class:`AlertScheduler`: every ``alerts.check_s`` it reads
the gateways table (gateway/fleet.py), decides what is wrong (:func:`findings`, a pure function of
the rows and the database's clock), and then:

- **once per episode, once across daemons**: an alert opens its (gateway, kind) row in
  ``gateway_alerts`` by one conditional write -- ``INSERT … ON CONFLICT DO NOTHING``, or, when the
  row is there from an earlier episode, ``UPDATE … WHERE NOT active`` -- and only the process whose
  write changed a row queues the mail, in the same transaction. A second daemon (or the next minute)
  finds the row active and does nothing. Recovery is the same with ``UPDATE … WHERE active``: one
  "back" (pulih) mail.
- **delivery with retry**: the mails are rows of ``alert_mails``; :func:`deliver` claims each due
  one with a conditional ``UPDATE`` (a lease, so two daemons never send the same mail and a
  sender that dies leaves it to the next after :data:`CLAIM_S`), sends it through the report mail's
  SMTP client (gateway/report/mail.py, ``report.email``'s server) to ``alerts.recipients`` (else
  ``report.email.to``) and on failure tries again after 1, 2, 4, … minutes, at most 60
  (gateway/report/delivery.py ``backoff_s``).

Kinds: ``silent`` -- no heartbeat for ``alerts.silent_after_min`` (the daemon is stopped, hung, or
cut off), or capture delivered no audio for that long (or is down and never delivered any); a
gateway with no radio configured (capture ``idle``) is silent only by its heartbeat. ``squelch`` --
the squelch is stuck open (the segmenter closed a transmission at ``segmenter.max_s``) until it
closes again. ``backlog`` -- more than ``alerts.backlog_limit`` pending transcription jobs; back at
or below the limit.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.fleet import db_now
from gateway.logutil import RateLimitedLog
from gateway.store.db import Database
from gateway.store.office_models import AlertMail, GatewayAlert, GatewayRow

log = logging.getLogger(__name__)

KINDS = ("silent", "squelch", "backlog")
TITLE = {"silent": "gateway senyap", "squelch": "squelch macet terbuka",
         "backlog": "antrean transkripsi menumpuk"}
CLAIM_S = 120.0  # a mail's sender holds it this long (SMTP gives each step 10 s)


@dataclass(frozen=True)
class Finding:
    gateway_id: str
    channel_id: str
    kind: str
    detail: str  # what is wrong, in Indonesian (the mail's body)


def findings(rows: list[GatewayRow], now: datetime, cfg: Config) -> list[Finding]:
    """What is wrong now, per gateway and kind (see the module docstring)."""
    a, tz = cfg.alerts, cfg.tz
    silent_s = a.silent_after_min * 60.0

    def at(t: datetime) -> str:
        return t.astimezone(tz).strftime("%d-%m-%Y %H.%M")

    out = []
    for r in rows:
        def add(kind: str, detail: str, r: GatewayRow = r) -> None:
            out.append(Finding(r.gateway_id, r.channel_id, kind, detail))

        beat_age = (now - r.updated_at).total_seconds()
        at_beat = r.updated_at + timedelta(seconds=r.clock_offset_s)  # the gateway's clock then
        if beat_age > silent_s:
            add("silent", f"Tidak ada kabar (detak) dari gateway sejak {at(r.updated_at)} "
                          f"({beat_age / 60:.0f} menit); daemon mati, macet, atau terputus dari database.")
        elif r.capture_state != "idle" and r.last_frame_at is not None \
                and (at_beat - r.last_frame_at).total_seconds() > silent_s:
            add("silent", f"Tidak ada suara dari radio sejak {at(r.last_frame_at)} (penangkap suara: "
                          f"{r.capture_state}).")
        elif r.capture_state == "down" and r.last_frame_at is None:
            add("silent", "Penangkap suara terputus dan belum pernah menerima suara dari radio.")
        if r.squelch_stuck:
            add("squelch", "Squelch macet terbuka: penerima terus terbuka lebih lama dari "
                           f"segmenter.max_s; rekaman ditutup dan ditandai (detak {at(r.updated_at)}).")
        if a.backlog_limit and r.backlog > a.backlog_limit:
            add("backlog", f"Antrean transkripsi gateway ini {r.backlog} transmisi, di atas batas "
                           f"{a.backlog_limit} (detak {at(r.updated_at)}).")
    return out


def _subject(what: str, f: tuple[str, str, str]) -> str:
    gid, cid, kind = f
    head = "PERINGATAN" if what == "alert" else "PULIH"
    return f"[HT Gateway] {head}: {gid} (kanal {cid}) {TITLE[kind]}"


def _queue(s: Session, what: str, key: tuple[str, str, str], detail: str, now: datetime) -> None:
    body = "\n".join(["Yth. Bapak/Ibu,", "", detail if what == "alert" else
                      f"Sudah normal kembali: {TITLE[key[2]]} pada gateway {key[0]} (kanal {key[1]}).", "",
                      "Lihat halaman 'Gateway & kanal' pada antarmuka web ht-gateway.",
                      "Pesan ini dikirim otomatis oleh ht-gateway; mohon tidak dibalas.", ""])
    s.add(AlertMail(gateway_id=key[0], kind=key[2], what=what, subject=_subject(what, key), body=body,
                    created_at=now, attempts=0, next_attempt_at=now))


def _open(s: Session, f: Finding, now: datetime) -> bool:
    """Claim the episode: True for the one process whose write opened it."""
    values = {"gateway_id": f.gateway_id, "kind": f.kind, "active": True, "episode_start": now,
              "detail": f.detail, "ended_at": None}
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        ins: Any = pg_insert(GatewayAlert).values(**values).on_conflict_do_nothing() \
            .returning(GatewayAlert.kind)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        ins = sqlite_insert(GatewayAlert).values(**values).on_conflict_do_nothing() \
            .returning(GatewayAlert.kind)
    # RETURNING says whether a row was written (rowcount is -1 for this statement on psycopg)
    if s.connection().execute(ins).first() is not None:
        return True
    reopened = s.connection().execute(update(GatewayAlert).where(
        GatewayAlert.gateway_id == f.gateway_id, GatewayAlert.kind == f.kind, GatewayAlert.active.is_(False))
        .values(active=True, episode_start=now, detail=f.detail, ended_at=None).returning(GatewayAlert.kind))
    return reopened.first() is not None


def _close(s: Session, gateway_id: str, kind: str, now: datetime) -> bool:
    ended = s.connection().execute(update(GatewayAlert).where(
        GatewayAlert.gateway_id == gateway_id, GatewayAlert.kind == kind, GatewayAlert.active.is_(True))
        .values(active=False, ended_at=now).returning(GatewayAlert.kind))
    return ended.first() is not None


def check(db: Database, cfg: Config, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """One round: open new episodes, close ended ones, queueing their mails. Returns what this
    process queued: (``alert``|``back``, gateway id, kind)."""
    with db.read() as s:
        now = now or db_now(s)
        rows = list(s.scalars(select(GatewayRow)))
        active = {(g, k) for g, k in s.execute(select(GatewayAlert.gateway_id, GatewayAlert.kind)
                                               .where(GatewayAlert.active.is_(True)))}
    channel = {r.gateway_id: r.channel_id for r in rows}
    found = {(f.gateway_id, f.kind): f for f in findings(rows, now, cfg)}
    queued = []
    for key, f in found.items():
        if key in active:
            continue
        with db.write() as s:
            if _open(s, f, now):
                _queue(s, "alert", (f.gateway_id, f.channel_id, f.kind), f.detail, now)
                queued.append(("alert", f.gateway_id, f.kind))
                log.warning("alert: %s (%s): %s", f.gateway_id, f.kind, f.detail)
    for gid, kind in sorted(active - found.keys()):
        with db.write() as s:
            if _close(s, gid, kind, now):
                _queue(s, "back", (gid, channel.get(gid, "?"), kind), "", now)
                queued.append(("back", gid, kind))
                log.info("alert over: %s (%s)", gid, kind)
    return queued


def deliver(db: Database, cfg: Config, stop: threading.Event | None = None) -> int:
    """Send every due alert mail this process can claim; return how many were delivered. A failure
    is stored and retried with back-off; never raises for a mail failure."""
    from gateway.report.delivery import backoff_s
    from gateway.report.mail import MailError, send_text

    to = cfg.alerts.recipients or cfg.report.email.to
    with db.read() as s:
        due = list(s.scalars(select(AlertMail.id).where(
            AlertMail.delivered_at.is_(None), AlertMail.next_attempt_at <= db_now(s)).order_by(AlertMail.id)))
    delivered = 0
    for mail_id in due:
        if stop is not None and stop.is_set():
            break
        with db.write() as s:
            now = db_now(s)
            claimed = s.connection().execute(update(AlertMail).where(
                AlertMail.id == mail_id, AlertMail.delivered_at.is_(None), AlertMail.next_attempt_at <= now,
                or_(AlertMail.claimed_until.is_(None), AlertMail.claimed_until < now))
                .values(claimed_until=now + timedelta(seconds=CLAIM_S), attempts=AlertMail.attempts + 1)
                .returning(AlertMail.id))
            if claimed.first() is None:
                continue  # another daemon has it
            mail = s.get_one(AlertMail, mail_id)
            subject, body, attempts = mail.subject, mail.body, mail.attempts
        error = None
        try:
            send_text(cfg.report.email, to, subject, body, now.astimezone(cfg.tz))
        except MailError as e:
            error = str(e)
        with db.write() as s:
            mail = s.get_one(AlertMail, mail_id)
            mail.claimed_until = None
            if error is None:
                mail.delivered_at, mail.last_error = db_now(s), None
            else:
                mail.last_error = error
                mail.next_attempt_at = db_now(s) + timedelta(seconds=backoff_s(attempts))
        if error is None:
            delivered += 1
        else:
            log.warning("alert mail %d (attempt %d) failed: %s", mail_id, attempts, error)
    return delivered


class AlertScheduler:
    """The daemon's ``alerts`` job: :func:`check` then :func:`deliver` every ``alerts.check_s``."""

    def __init__(self, db: Database, cfg: Config) -> None:
        self.db, self.cfg = db, cfg
        self._scheduler = BackgroundScheduler(timezone=cfg.tz)
        self._fault = RateLimitedLog(log, 600.0)
        self._stop = threading.Event()

    def run_once(self) -> None:
        try:
            check(self.db, self.cfg)
            deliver(self.db, self.cfg, self._stop)
        except Exception as e:  # e.g. the database is away; the next round tries again
            self._fault.error("checking the gateways for alerts failed: %s", " ".join(str(e).split())[:200])

    def start(self) -> AlertScheduler:
        # the first round after this daemon's first heartbeat: not "silent" about itself at a restart
        first = datetime.now(self.cfg.tz) + timedelta(seconds=self.cfg.gateway.heartbeat_s)
        self._scheduler.add_job(self.run_once, IntervalTrigger(seconds=self.cfg.alerts.check_s), id="alerts",
                                max_instances=1, coalesce=True, next_run_time=first)
        self._scheduler.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
