"""Transcription jobs, claimed from the database: one holder at a time, by lease.

There is no queue table. A transmission's job lives on its row (migration 0022): it is *pending*
while the row is complete and has no current transcript (what gateway/transcribe.py always called
pending), or while ``asr_redo`` asks for a new transcript (``ht-gateway transcribe --queue``).
``asr_pending`` marks those rows so that a claim is one seek in a small partial index, however many
transmissions the table holds: the writer and recovery set it when they complete a row, ``--queue``
when it asks for a redo, and the transcript's write clears it. A row marked but transcribed meanwhile
by a path that does not clear the mark (an operator's edit) is unmarked by the next claim that meets
it. A
process that transcribes — the daemon's transcription stage, or ``ht-gateway worker`` on another
machine — first *claims* the job: ``asr_claimed_by`` names it and ``asr_lease_until`` says how long
the claim lasts. A keeper thread renews the process's claims every third of ``worker.lease_s``; a
process that dies (SIGKILL, power cut) stops renewing, and once the lease has run out any other
process may claim the job again. Storing the transcript checks, in its own transaction and with the
row locked, that the claim is still this process's and clears it (:meth:`Claims.finish_in`), so a
process whose lease ran out never writes over the one that took the job over: every job is
transcribed once.

Order: ``asr_priority`` (lower first: :data:`PRIORITY_LIVE` for what the gateways record,
:data:`PRIORITY_REDO` for re-transcription asked for later), then the oldest. Each claim counts in
``asr_attempts``; a job claimed more than ``worker.max_attempts`` times (every holder died on it) is
stored as failed instead of being handed out for ever (:func:`given_up`).

PostgreSQL: the claim is ``SELECT ... FOR UPDATE SKIP LOCKED`` then ``UPDATE``, and lease times come
from the database's clock (machines' clocks may differ). SQLite: the same statements under the one
writer (``Database.write``), with this machine's clock; only the daemon claims there, because
``ht-gateway worker`` needs PostgreSQL (docs/channels.md).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.orm import Session

from gateway.logutil import RateLimitedLog
from gateway.recovery import STORE_ERRORS
from gateway.store.db import Database
from gateway.store.models import TranscriptRow, Transmission, utcnow

log = logging.getLogger(__name__)

PRIORITY_LIVE = 0  # transmissions the gateways record
PRIORITY_REDO = 10  # re-transcription of stored days, asked for later


#: A claim given back in good order: free again, and not an attempt (gateway.jobs.given_up).
_RELEASED = {Transmission.asr_claimed_by: None, Transmission.asr_lease_until: None,
             Transmission.asr_attempts: Transmission.asr_attempts - 1}


@dataclass(frozen=True)
class Job:
    tx_id: int
    attempts: int  # claims of this job so far, this one included
    redo: bool  # a re-transcription: the new transcript replaces the current one


def holder_prefix(gateway_id: str, role: str) -> str:
    """What every holder name of this role on this machine starts with."""
    return f"{gateway_id}:{role}@{socket.gethostname()[:40]}:"


def holder_name(gateway_id: str, role: str) -> str:
    """A claim holder's name: unique per process (``gw1:worker@host:pid:3f9a1c``), readable in SQL."""
    return f"{holder_prefix(gateway_id, role)}{os.getpid()}:{secrets.token_hex(3)}"


def has_current() -> ColumnElement[bool]:
    return exists().where(TranscriptRow.transmission_id == Transmission.id, TranscriptRow.current)


def pending_conds() -> list[ColumnElement[bool]]:
    """A transmission marked with a transcription job, claimed or not (the partial index
    ``ix_transmissions_asr_pending``: ``= true`` as the index's predicate says it)."""
    return [Transmission.asr_pending == True, Transmission.status == "complete"]  # noqa: E712


def given_up(job: Job, max_attempts: int) -> str | None:
    """Why the job is failed instead of transcribed again: every earlier holder died on it."""
    if job.attempts <= max_attempts:
        return None
    return (f"given up after {job.attempts - 1} claims (worker.max_attempts = {max_attempts}): each "
            "holder stopped before storing a transcript (killed, or its lease ran out)")


class Claims:
    """One process's claims on transcription jobs: taken, renewed by a keeper thread, released."""

    def __init__(self, db: Database, name: str, lease_s: float, gateway_id: str | None = None) -> None:
        """``gateway_id``: :meth:`next` claims only that gateway's jobs (a daemon: it reads recordings
        from its own data directory, so another gateway's are not there)."""
        self.db, self.name, self.lease_s, self.gateway_id = db, name, lease_s, gateway_id
        self._renew_log = RateLimitedLog(log, 60.0)
        self._held: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- clock: the database's on PostgreSQL (one clock for every machine), this one's on SQLite --
    def _now(self) -> Any:
        return func.now() if self.db.dialect == "postgresql" else utcnow()

    def _until(self) -> Any:
        return self._now() + timedelta(seconds=self.lease_s)

    def _free(self, mine: bool = False) -> ColumnElement[bool]:
        """Nobody holds it (or the lease ran out); ``mine``: or this process holds it already."""
        free = [Transmission.asr_claimed_by.is_(None), Transmission.asr_lease_until < self._now()]
        return or_(*free, *([Transmission.asr_claimed_by == self.name] if mine else []))

    @property
    def held(self) -> set[int]:
        with self._lock:
            return set(self._held)

    def next(self, skip_ids: set[int] | None = None) -> Job | None:
        """Claim the first pending job nobody holds (priority, then oldest); None when there is none."""
        q = select(Transmission.id, Transmission.asr_attempts, Transmission.asr_redo,
                   has_current().label("done")).where(*pending_conds(), self._free())
        if skip_ids:
            q = q.where(Transmission.id.not_in(skip_ids))
        if self.gateway_id is not None:
            q = q.where(Transmission.gateway_id == self.gateway_id)
        q = q.order_by(Transmission.asr_priority, Transmission.started_at, Transmission.id).limit(1)
        if self.db.dialect == "postgresql":
            q = q.with_for_update(of=Transmission, skip_locked=True)
        with self.db.write() as s:
            while True:
                row = s.execute(q).first()
                if row is None:
                    return None
                if not row.done or row.asr_redo:
                    break
                # transcribed meanwhile by a path that left the mark (an operator's edit): unmark
                s.execute(update(Transmission).where(Transmission.id == row.id).values(asr_pending=False))
            self._claim(s, row.id)
        with self._lock:
            self._held.add(row.id)
        return Job(row.id, row.asr_attempts + 1, bool(row.asr_redo))

    def take(self, uid: str) -> int | None:
        """Claim the transmission ``uid`` whatever its state (the daemon's live transcription, at
        the transmission's open): its id, or None when another process holds it or it has no row."""
        q = select(Transmission.id).where(Transmission.uid == uid, self._free(mine=True))
        if self.db.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        with self.db.write() as s:
            tx_id = s.scalar(q)
            if tx_id is None:
                return None
            self._claim(s, tx_id)
        with self._lock:
            self._held.add(tx_id)
        return tx_id

    def _claim(self, s: Session, tx_id: int) -> None:
        s.execute(update(Transmission).where(Transmission.id == tx_id).values(
            asr_claimed_by=self.name, asr_lease_until=self._until(),
            asr_attempts=Transmission.asr_attempts + 1))

    def finish_in(self, s: Session, tx_id: int) -> bool | None:
        """In the transaction that stores the job's transcript: None when this process no longer
        holds the claim (its lease ran out and another took the job: store nothing), else whether
        the job was a re-transcription. Clears the claim, the redo request and the priority."""
        q = select(Transmission.asr_claimed_by, Transmission.asr_redo).where(Transmission.id == tx_id)
        if self.db.dialect == "postgresql":
            q = q.with_for_update()
        row = s.execute(q).first()
        with self._lock:
            self._held.discard(tx_id)
        if row is None or row.asr_claimed_by != self.name:
            log.warning("transmission %d: the claim on its transcription was lost (lease ran out; "
                        "held by %s now): result dropped", tx_id, row.asr_claimed_by if row else None)
            return None
        s.execute(update(Transmission).where(Transmission.id == tx_id).values(
            asr_claimed_by=None, asr_lease_until=None, asr_pending=False, asr_redo=False,
            asr_priority=PRIORITY_LIVE))
        return bool(row.asr_redo)

    def forget(self, tx_id: int) -> None:
        """Stop renewing a claim (the database is away, so it cannot be released): it runs out."""
        with self._lock:
            self._held.discard(tx_id)

    def release(self, tx_id: int) -> None:
        """Give a claim back unfinished (a live transcription deferred to the recording); a claim
        given back does not count as an attempt."""
        with self._lock:
            self._held.discard(tx_id)
        with self.db.write() as s:
            s.execute(update(Transmission).where(Transmission.id == tx_id,
                                                 Transmission.asr_claimed_by == self.name)
                      .values(_RELEASED))

    def release_stale(self, prefix: str) -> int:
        """Release claims whose holder's name starts with ``prefix``: a daemon at its start, for
        what its own earlier run on this machine held when it was killed (no need to wait out the
        lease: the data-directory lock says that run is gone). How many were released."""
        with self.db.write() as s:
            result = s.execute(update(Transmission).where(Transmission.asr_claimed_by.startswith(prefix,
                                                                                             autoescape=True))
                               .values(asr_claimed_by=None, asr_lease_until=None))
        return int(getattr(result, "rowcount", 0) or 0)

    def release_all(self) -> None:
        """Give back every claim this process holds (a clean stop); not counted as attempts."""
        with self._lock:
            self._held.clear()
        with self.db.write() as s:
            s.execute(update(Transmission).where(Transmission.asr_claimed_by == self.name).values(_RELEASED))

    def renew(self) -> int:
        """Extend the lease of every claim this process holds; how many rows were extended."""
        held = self.held
        if not held:
            return 0
        with self.db.write() as s:
            result = s.execute(update(Transmission).where(Transmission.id.in_(held),
                                                          Transmission.asr_claimed_by == self.name)
                               .values(asr_lease_until=self._until()))
        return int(getattr(result, "rowcount", 0) or 0)

    # -- the keeper thread ---------------------------------------------------------------------
    def start(self) -> Claims:
        self._thread = threading.Thread(target=self._keep, name="claims", daemon=True)
        self._thread.start()
        return self

    def _keep(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                self.renew()
            except STORE_ERRORS as e:  # the database is away: the lease may run out meanwhile
                self._renew_log.warning("claims: renewing the leases failed (%s)",
                                        str(e).splitlines()[0][:200])

    def stop(self, release: bool = True) -> None:
        """Stop renewing; ``release``: give back every claim still held (a clean shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        if release:
            try:
                self.release_all()
            except STORE_ERRORS as e:
                log.warning("claims: not released (%s); they run out in %.0f s",
                            str(e).splitlines()[0][:200], self.lease_s)
