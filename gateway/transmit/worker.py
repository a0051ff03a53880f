"""The daemon's transmit worker: queues acknowledgements and scheduled calls, drains the queue.

One worker, supervised like capture (gateway.daemon.run_services), and only when
``transmit.enabled = true``. Each loop: queue acknowledgements for new identified reports, take the
oldest pending message, render it (espeak-ng or clips; no lock held), send it through the
:class:`~gateway.transmit.transmitter.Transmitter` (which waits for a clear channel), and store what
became of it. Roll calls, the reminder and the summary are APScheduler cron jobs in the configured
time zone that queue their message (idempotent: one per day and time). The pending messages are the
database's, so a restart sends what was left.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from gateway.config import Config, parse_hhmm
from gateway.identification import identify
from gateway.logutil import RateLimitedLog
from gateway.segmenter import TxInfo
from gateway.store.db import Database
from gateway.store.models import Assignment, Event, Transmission, TransmitMessage
from gateway.transmit import queue
from gateway.transmit.messages import Voice
from gateway.transmit.transmitter import Transmitter

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class TransmitWorker:
    def __init__(self, cfg: Config, db: Database, transmitter: Transmitter, voice: Voice,
                 clock: Clock | None = None, poll_s: float = 0.1) -> None:
        self.cfg, self.db, self.tx, self.voice = cfg, db, transmitter, voice
        self.clock = clock or (lambda: datetime.now(cfg.tz))
        self.poll_s = poll_s
        self._fault = RateLimitedLog(log, 300.0)
        transmitter.channel.on_own = self.mark_own

    def run(self, stop: threading.Event) -> None:
        scheduler = self._scheduler()
        try:
            while not stop.is_set():
                try:
                    queue.enqueue_acks(self.db, self.cfg, self.clock())
                except Exception as e:  # a database hiccup must not stop sending
                    self._fault.warning("transmit: cannot queue acknowledgements: %s", e)
                if not self.send_next(stop):
                    stop.wait(self.poll_s)
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            self.tx.ptt.unkey()

    def _scheduler(self) -> Any:  # apscheduler's BackgroundScheduler (it has no type information)
        times = queue.scheduled_times(self.cfg)
        if not times:
            return None
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger

        sch = BackgroundScheduler(timezone=self.cfg.tz)
        for kind, hhmm in times:
            t = parse_hhmm(hhmm)
            sch.add_job(self.scheduled, CronTrigger(hour=t.hour, minute=t.minute, timezone=self.cfg.tz),
                        id=f"{kind}-{hhmm}", max_instances=1, coalesce=True, misfire_grace_time=600)
        sch.add_job(self.scheduled, id="catch-up")  # a call missed minutes ago (restart) still goes
        sch.start()
        return sch

    def scheduled(self) -> list[int]:
        return queue.enqueue_scheduled(self.db, self.cfg, self.clock())

    def send_next(self, stop: threading.Event) -> bool:
        """Send the oldest pending message; False if there was none."""
        now = self.clock()
        with self.db.read() as s:
            msg = s.scalar(select(TransmitMessage).where(TransmitMessage.status == "pending")
                           .order_by(TransmitMessage.created_at, TransmitMessage.id).limit(1))
        if msg is None:
            return False
        if msg.created_at < now - timedelta(seconds=self.cfg.transmit.max_wait_s):
            self._finish(msg.id, "expired", None, None, "queued too long ago")
            return True
        try:
            audio = self.voice.render([(k, v) for k, v in msg.parts])
        except Exception as e:  # espeak-ng missing, a broken clip: this message fails
            self._finish(msg.id, "failed", None, None, str(e))
            return True
        try:
            out = self.tx.send(audio, stop, msg.id)
        except Exception as e:
            self._finish(msg.id, "failed", None, None, str(e))
            raise  # the supervisor restarts the worker; PTT was released by send()
        if out.status == "stopped":
            return True  # still pending: sent after the restart
        keyed = datetime.fromtimestamp(out.keyed_at, UTC) if out.keyed_at else None
        unkeyed = datetime.fromtimestamp(out.unkeyed_at, UTC) if out.unkeyed_at else None
        self._finish(msg.id, out.status, keyed, unkeyed,
                     f"cut by the transmit timeout after {out.keyed_s:.1f} s" if out.status == "timeout"
                     else "no clear channel within transmit.max_wait_s" if out.status == "expired" else None)
        return True

    def _finish(self, msg_id: int, status: queue.TransmitStatus, keyed: datetime | None,
                unkeyed: datetime | None, error: str | None) -> None:
        with self.db.write() as s:
            row = s.get_one(TransmitMessage, msg_id)
            row.status, row.keyed_at, row.unkeyed_at, row.error = status, keyed, unkeyed, error
            if status == "timeout":
                s.add(Event(at=unkeyed or datetime.now(UTC), kind="transmit_timeout",
                            message=f"transmit message {msg_id}: {error}"))
        if status == "timeout":
            log.error("transmit_timeout: message %d: %s", msg_id, error)
        elif status != "sent":
            log.warning("transmit message %d: %s (%s)", msg_id, status, error)

    def mark_own(self, tx: TxInfo, msg_id: int) -> None:
        """The pipeline heard our own transmission: assign it to the station ``gateway`` (beats what
        its words say) and link it to the message."""
        with self.db.write() as s:
            row_id = s.scalar(select(Transmission.id).where(Transmission.uid == tx.uid))
            if row_id is None:
                return
            s.add(Assignment(transmission_id=row_id, station=queue.OWN_STATION, by="gateway",
                             note=f"transmit_queue {msg_id}"))
            msg = s.get(TransmitMessage, msg_id)
            if msg is not None:
                msg.transmission_id = row_id
            s.flush()
            identify.reidentify(s, row_id, self.cfg)
        log.info("transmission %d is the gateway's own (message %d)", row_id, msg_id)
