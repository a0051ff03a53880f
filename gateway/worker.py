"""``ht-gateway worker``: a transcription worker that claims jobs from PostgreSQL (docs/channels.md).

It loops: claim the first pending job (gateway/jobs.py: live calls before re-transcription, then the
oldest), read the recording the row names from the data directory (``DATA_DIR/<gateway_id>/`` when
that folder exists: each gateway's data directory mounted there; else ``DATA_DIR`` itself), check
the bytes against the row's sha256, transcribe with the configured engine, store the transcript with
what the report reads from it and the speaker's identity (the same steps as the daemon's stage), and
release. A keeper thread renews its leases; a worker that is killed leaves its job to the next one
once the lease has run out. SIGTERM/SIGINT finish the job in hand, give back what is still claimed
and stop.

Workers need PostgreSQL: with SQLite the gateway's daemon is the one writer and transcribes itself.
With ``alerts.enabled`` a worker (not ``--once``) also checks the gateways table and mails alerts, as
the daemons do (gateway/alerts.py), so an office that runs only workers still hears of a silent gateway.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from gateway.asr.base import Recognizer
from gateway.config import Config, ConfigError
from gateway.jobs import Claims, given_up, holder_name
from gateway.logutil import RateLimitedLog
from gateway.recovery import STORE_ERRORS
from gateway.store.db import Database, safe_url

log = logging.getLogger(__name__)


@dataclass
class WorkerResult:
    claimed: int = 0  # jobs claimed
    stored: int = 0  # transcripts stored (done or failed)
    not_stored: int = 0  # its claim had run out (another holder took over), or it had a transcript


def open_worker_db(cfg: Config) -> Database:
    """The shared PostgreSQL database, at the schema this version needs; one line otherwise."""
    db = Database(cfg.store.url) if cfg.store.url else None
    if db is None or db.dialect != "postgresql":
        shown = safe_url(cfg.store.url) if cfg.store.url else ""
        if db is not None:
            db.close()
        raise ConfigError(f"ht-gateway worker needs PostgreSQL: store.url = {shown!r} (empty: SQLite, "
                          "where the gateway's daemon transcribes itself); set store.url = "
                          "'postgresql+psycopg://user:password@host/dbname' as on the gateways")
    try:
        db.check_schema()
    except BaseException:
        db.close()
        raise
    return db


def run_worker(cfg: Config, data_dir: Path, recognizer: Recognizer, db: Database,
               stop: threading.Event, once: bool = False) -> WorkerResult:
    """Claim and transcribe jobs until ``stop`` is set (``once``: until none is pending)."""
    from gateway.asr.vocabulary import station_words
    from gateway.identification import identify
    from gateway.identification.name_check import checker
    from gateway.report.extracts import on_transcript
    from gateway.transcripts import store_transcript, transcribe_file

    claims = Claims(db, holder_name(cfg.gateway.id, "worker"), cfg.worker.lease_s).start()
    words = station_words(cfg.stations)
    prepare = on_transcript(db, cfg)
    errors = RateLimitedLog(log, 60.0)
    result = WorkerResult()
    log.info("worker %s: transcribing with %s (%s) from %s", claims.name, recognizer.engine,
             recognizer.model_id, data_dir)
    alerts = None
    if cfg.alerts.enabled and not once:  # an office machine with only workers checks the gateways too
        from gateway.alerts import AlertScheduler

        alerts = AlertScheduler(db, cfg).start()
    try:
        while not stop.is_set():
            tx_id = None
            try:
                job = claims.next()
                if job is None:
                    if once:
                        break
                    stop.wait(cfg.worker.poll_s)
                    continue
                tx_id = job.tx_id
                result.claimed += 1
                reason = given_up(job, cfg.worker.max_attempts)
                if reason is not None:
                    log.error("transmission %d: %s", tx_id, reason)
                    stored = store_transcript(db, tx_id, recognizer, None, "file", error=reason,
                                              claims=claims)
                else:
                    stored = transcribe_file(db, data_dir, tx_id, recognizer, words, prepare=prepare,
                                             after=lambda s, t: identify.reidentify(s, t, cfg), claims=claims,
                                             by_gateway=True, check=checker(cfg))
                result.stored += stored
                result.not_stored += not stored
            except STORE_ERRORS as e:  # the database is away: wait, the lease gives the job back
                errors.error("worker: database error (%s); retrying every %g s",
                             str(e).splitlines()[0][:200], cfg.worker.poll_s)
                if tx_id is not None:
                    claims.forget(tx_id)
                stop.wait(cfg.worker.poll_s)
    finally:
        if alerts is not None:
            alerts.stop()
        claims.stop(release=True)
    log.info("worker %s: %d claimed, %d stored, %d not stored", claims.name, result.claimed,
             result.stored, result.not_stored)
    return result
