"""Wiring: build the stages from the configuration and run them live or on a file.

``run`` and ``process`` differ only in the source they hand to :class:`gateway.pipeline.Pipeline`.
Order of start-up is chosen so that bad input fails before anything is written: the data directory
is checked, then the source and squelch are opened, and only then is the database touched.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from gateway.asr.base import Recognizer
from gateway.audio.live import open_live_source
from gateway.audio.source import AudioSource, FileSource
from gateway.audiostore import push_now, pusher_for
from gateway.config import Config
from gateway.datadir import (  # noqa: F401 - re-exported: the daemon's entry points
    ENV_DATA_DIR,
    DataDirError,
    ensure_schema,
    open_store,
    open_store_for_run,
    prepare_data_dir,
    resolve_data_dir,
)
from gateway.identification import identify, name_check
from gateway.lock import DataDirLock
from gateway.pipeline import Pipeline, PipelineStats
from gateway.recorder import Recorder
from gateway.recovery import RETRY_ERRORS, STORE_ERRORS, recover_interrupted
from gateway.replay import attach_journal, with_replay
from gateway.segmenter import TransmissionSink
from gateway.squelch.base import Squelch
from gateway.squelch.factory import build_squelch
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission
from gateway.transcribe import TranscriptionStage
from gateway.writer import PROCESSING_RATE, TransmissionWriter, source_identity

if TYPE_CHECKING:
    from gateway.audio.journal import CaptureJournal
    from gateway.health import Health
    from gateway.sdnotify import SystemdNotifier

log = logging.getLogger(__name__)

def build_recognizer(cfg: Config) -> Recognizer | None:
    from gateway.asr.factory import build_recognizer as build

    return build(cfg)


def transcription_stage(cfg: Config, recognizer: Recognizer | None, db: Database,
                        data_dir: Path) -> TranscriptionStage | None:
    if recognizer is None:
        return None
    from gateway.asr.vocabulary import station_words
    from gateway.jobs import Claims, holder_name, holder_prefix
    from gateway.report.extracts import on_transcript

    log.info("transcribing with %s (%s)", recognizer.engine, recognizer.model_id)
    claims = Claims(db, holder_name(cfg.gateway.id, "daemon"), cfg.worker.lease_s, cfg.gateway.id)
    try:
        stale = claims.release_stale(holder_prefix(cfg.gateway.id, "daemon"))  # we hold the data directory
    except STORE_ERRORS:  # the database is away (logged at start): those claims run out by lease
        stale = 0
    if stale:
        log.warning("released %d transcription claim(s) of this gateway's earlier run", stale)
    return TranscriptionStage(recognizer, db, data_dir, PROCESSING_RATE, cfg.asr.queue_s,
                              station_words(cfg.stations),
                              after_store=lambda s, tx_id: identify.reidentify(s, tx_id, cfg),
                              prepare=on_transcript(db, cfg), nice=cfg.asr.nice, claims=claims,
                              max_attempts=cfg.worker.max_attempts, check=name_check.checker(cfg)).start()


@dataclass
class RunResult:
    stats: PipelineStats
    transmission_ids: list[int]
    transcribed: int = 0


def run_pipeline(cfg: Config, data_dir: Path, source: AudioSource, squelch: Squelch, db: Database,
                 stop: threading.Event | None = None, progress: Callable[[int], None] | None = None,
                 heartbeat: Callable[[], None] | None = None,
                 stage: TranscriptionStage | None = None,
                 listeners: tuple[TransmissionSink, ...] = (),
                 journal: CaptureJournal | None = None,
                 on_alarm: Callable[[str, float, str], None] | None = None,
                 store_later: Callable[[], None] | None = None) -> RunResult:
    from gateway.identification.ani import AniAnalyzer
    from gateway.replay import JournalMarks

    if journal is not None:  # which transmission is open, for a replay after a kill
        listeners = (*listeners, JournalMarks(journal))

    recorder = Recorder(data_dir / "recordings", PROCESSING_RATE, cfg.recorder, cfg.tz)
    sinks = [*listeners, *([stage] if stage else [])]  # listeners: e.g. the transmitter's channel watch
    writer = TransmissionWriter(db, recorder, data_dir, source.name, sinks,
                                analyzers=[AniAnalyzer(PROCESSING_RATE, cfg.dtmf)],
                                identify=lambda s, row: identify.apply(s, row, cfg), cfg=cfg,
                                uid_seed=source_identity(source), store_later=store_later)
    pipeline = Pipeline(source, squelch, cfg.segmenter, writer, stop,
                        on_squelch=journal.mark_squelch if journal is not None else None, on_alarm=on_alarm)
    stats = pipeline.run(progress=progress, heartbeat=heartbeat)
    return RunResult(stats, writer.closed)


_FROM_CONFIG: Any = object()


def process_file(cfg: Config, data_dir: Path, path: Path, start: datetime, realtime: bool = False,
                 progress: Callable[[int], None] | None = None, stop: threading.Event | None = None,
                 recognizer: Recognizer | None = _FROM_CONFIG) -> RunResult:
    """``ht-gateway process``: the live pipeline on a recording, dated from ``start``.

    Returns once every transmission heard is stored and, with a recogniser, transcribed.
    """
    source = FileSource(path, start.timestamp(), cfg.audio.channel, cfg.audio.block_ms, realtime)
    squelch = build_squelch(cfg)
    if recognizer is _FROM_CONFIG:
        recognizer = build_recognizer(cfg)
    prepare_data_dir(data_dir)
    lock = DataDirLock(data_dir, "ht-gateway process").acquire()  # before the database is touched
    try:
        db = open_store(cfg, data_dir)
    except BaseException:
        lock.release()
        raise
    stage = transcription_stage(cfg, recognizer, db, data_dir)
    try:
        result = run_pipeline(cfg, data_dir, source, squelch, db, stop, progress, stage=stage)
        if stage is not None:
            while not stage.drain(0.5):
                if stop is not None and stop.is_set():
                    break
            result.transcribed = stage.done
        push_now(cfg, db, data_dir)  # store.audio_in_db: the recordings into the database
        return result
    finally:
        if stage is not None:
            stage.stop()
        db.close()
        lock.release()


def install_signal_handlers(stop: threading.Event) -> None:
    def handler(signum: int, _frame: object) -> None:
        log.info("%s received: finishing the current transmission and stopping",
                 signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def open_transmit_hardware(cfg: Config) -> tuple[Any, Any] | None:
    """(PTT, audio output) when ``transmit.enabled``: opened with the rest of the hardware, before
    the database, so a wrong device is one line and leaves nothing behind."""
    if not cfg.transmit.enabled:
        return None
    from gateway.transmit.player import PyAudioPlayer
    from gateway.transmit.setup import build_ptt

    return build_ptt(cfg), PyAudioPlayer(cfg.transmit.device, cfg.transmit.rate)


def run_daemon(cfg: Config, data_dir: Path, stop: threading.Event | None = None,
               early: tuple[Health, AudioSource] | None = None) -> int:
    """``ht-gateway run``: live capture, or the demo channel when no radio is configured.

    ``early``: the health record and the source the command line already opened and started,
    before importing this module (gateway/cli/main.py ``_capture_first``)."""
    from gateway.health import Health
    from gateway.sdnotify import SystemdNotifier

    stop = stop or threading.Event()
    health = early[0] if early else Health()
    source: AudioSource | None
    if cfg.audio.device:  # open the hardware first: a wrong device name must leave nothing behind
        # started: capture first, see gateway/audio/live.py
        source = early[1] if early else open_live_source(cfg, health)
        squelch = build_squelch(cfg, health)
        recognizer = build_recognizer(cfg)
        prepare_data_dir(data_dir)
    else:
        squelch = build_squelch(cfg, health)
        recognizer = build_recognizer(cfg)
        prepare_data_dir(data_dir)
    transmit_hw = open_transmit_hardware(cfg)  # PTT and audio out, also before the database
    lock = DataDirLock(data_dir, "ht-gateway run").acquire()  # before the database is touched
    try:
        if not cfg.audio.device:
            source = _demo_source(cfg, data_dir)
        journal = attach_journal(source, cfg, data_dir) if source is not None else None
        db, deferred = open_store_for_run(cfg, data_dir)  # recovery (unless the database is away)
        if source is not None and not deferred:  # then what the journal holds and nothing stores
            source, squelch = with_replay(source, squelch, journal, db, cfg)
        stage = transcription_stage(cfg, recognizer, db, data_dir)
        store = {"deferred": deferred}  # the next writer stores the start's work when it can

        def rebuild() -> tuple[AudioSource | None, Squelch]:
            """After capture failed: finish what it left (rows in ``recording``), then open afresh."""
            try:
                recover_interrupted(db, data_dir, cfg)
            except RETRY_ERRORS:  # the database is away: the next writer does it
                store["deferred"] = True
            fresh = open_live_source(cfg, health) if cfg.audio.device else None
            if fresh is not None and journal is not None:
                fresh.attach_journal(journal)  # type: ignore[attr-defined]
            return fresh, build_squelch(cfg, health)

        return run_services(cfg, data_dir, source, squelch, db, stage, stop, health, SystemdNotifier(),
                            rebuild, transmit_hw=transmit_hw, journal=journal, store=store)
    finally:
        lock.release()


def run_services(cfg: Config, data_dir: Path, source: AudioSource | None, squelch: Squelch,
                 db: Database, stage: TranscriptionStage | None, stop: threading.Event, health: Health,
                 notifier: SystemdNotifier,
                 rebuild: Callable[[], tuple[AudioSource | None, Squelch]] | None = None,
                 alive_s: float = 10.0, transmit_hw: tuple[Any, Any] | None = None,
                 journal: CaptureJournal | None = None, store: dict[str, bool] | None = None) -> int:
    """The daemon's workers under a :class:`Supervisor`: capture first, READY as soon as audio
    flows, then the web UI, the report scheduler and the health file, each restarted on its own if
    it fails. The watchdog is fed only while capture is alive (see :meth:`Health.capture_alive`)."""
    from gateway.health import FILE, WRITE_EVERY_S, write_atomic
    from gateway.sdnotify import WatchdogPinger
    from gateway.supervisor import Supervisor

    sup = Supervisor(stop)
    pinger = WatchdogPinger(notifier)
    parts: dict[str, Any] = {"source": source, "squelch": squelch}
    servers: dict[str, Any] = {}
    from gateway.transmit.setup import build_worker  # talk back: None unless transmit.enabled

    talkback = build_worker(cfg, db, *transmit_hw) if transmit_hw else build_worker(cfg, db)
    pusher = pusher_for(cfg, db, data_dir)  # recordings into the database: None unless store.audio_in_db
    listeners: tuple[TransmissionSink, ...] = (*((talkback[1],) if talkback else ()),
                                               *((pusher,) if pusher else ()))

    def capture(stop_evt: threading.Event) -> None:
        if parts:
            src, sq = parts.pop("source"), parts.pop("squelch")
        elif rebuild is not None:
            src, sq = rebuild()
        else:
            src, sq = None, None
        if src is not None and sq is not None:
            health.capture["source"] = src.name
            notifier.status(f"listening on {src.name}")
            deferred = store is not None and store.pop("deferred", False)
            result = run_pipeline(cfg, data_dir, src, sq, db, stop_evt, heartbeat=health.frame, stage=stage,
                                  listeners=listeners, journal=journal, on_alarm=health.alarm,
                                  store_later=(lambda: ensure_schema(db, cfg)) if deferred else None)
            log.info("%s: %d transmission(s) from %.0f s of audio", src.name,
                     len(result.transmission_ids), result.stats.audio_s)
        elif sq is not None:
            sq.close()
        if stop_evt.is_set():
            return
        if cfg.audio.device:
            raise RuntimeError(f"capture from {cfg.audio.device!r} ended by itself")
        log.info("demo channel done; no radio configured (audio.device), idling until stopped")
        health.capture_idle("no radio configured (audio.device)")
        notifier.status("demo done; idle (no radio configured)")

    def web(stop_evt: threading.Event) -> None:
        import uvicorn

        from gateway.web.app import create_app
        from gateway.web.listen import bind_for

        socks = bind_for(sup.workers["web"], cfg.web.host, cfg.web.port, stop_evt)  # None: stopped
        if socks is None:
            return
        server = uvicorn.Server(uvicorn.Config(create_app(cfg, db, data_dir), host=cfg.web.host,
                                               port=cfg.web.port, log_level="warning", server_header=False,
                                               proxy_headers=False))  # X-Forwarded-For: see web/auth.py
        servers["web"] = server
        try:
            if not stop_evt.is_set():
                server.run(sockets=socks)
        finally:  # also when uvicorn gave up before listening: the next try must find the port free
            for sock in socks:
                sock.close()

    def reports(stop_evt: threading.Event) -> None:
        from gateway.report.schedule import ReportScheduler

        scheduler = ReportScheduler(db, cfg, data_dir).start()
        try:
            stop_evt.wait()
        finally:
            scheduler.stop()

    def alerts(stop_evt: threading.Event) -> None:
        from gateway.alerts import AlertScheduler

        scheduler = AlertScheduler(db, cfg).start()
        try:
            stop_evt.wait()
        finally:
            scheduler.stop()

    def write_health(stop_evt: threading.Event) -> None:
        while True:
            write_atomic(data_dir / FILE, health.snapshot(db, stage, sup.states()))
            if stop_evt.wait(WRITE_EVERY_S):
                return

    sup.add("capture", capture)
    deadline = time.monotonic() + 20.0
    while not (health.first_block.is_set() or sup.workers["capture"].state != "running"
               or stop.is_set() or time.monotonic() > deadline):
        stop.wait(0.05)
    notifier.ready()
    if cfg.web.serve:
        sup.add("web", web, restart=True)
        log.info("web UI on http://%s:%d/ (create users with: ht-gateway user add NAME --role admin)",
                 cfg.web.host, cfg.web.port)
    if cfg.stations:
        sup.add("reports", reports)
    from gateway.retention import RetentionJob, enabled

    if enabled(cfg):  # once now, then daily at retention.run_at (gateway/retention.py)
        sup.add("retention", RetentionJob(db, cfg, data_dir).run, restart=True)
    sup.add("health", write_health, restart=True)
    from gateway.fleet import heartbeat_worker

    sup.add("heartbeat", heartbeat_worker(db, cfg, health), restart=True)  # the office's gateways table
    if cfg.alerts.enabled:
        sup.add("alerts", alerts, restart=True)
    if talkback:
        sup.add("transmit", talkback[0].run, restart=True)
    if pusher:
        sup.add("audio_push", pusher.run, restart=True)
    shown = None
    period = min(0.5, pinger.interval / 2) if pinger.interval else 0.5
    try:
        while not stop.wait(period):
            if health.capture_alive(alive_s):
                pinger.tick(time.monotonic())
            state = (health.capture["state"], health.squelch["state"])
            if state != shown and state[0] in ("up", "down"):
                shown = state
                notifier.status(f"capture {state[0]}" + (f": {health.capture['reason']}"
                                                         if state[0] == "down" else "")
                                + (f"; squelch port down: {health.squelch['reason']}"
                                   if state[1] == "down" else ""))
    finally:
        notifier.stopping()
        sup.join("capture", 60.0)
        if "web" in servers:
            servers["web"].should_exit = True
        if pusher:
            pusher.wake()
        for name in ("web", "reports", "health", "heartbeat", "alerts", "transmit", "audio_push"):
            sup.join(name, 10.0)
        if talkback:
            talkback[0].tx.ptt.close()
        if stage is not None:
            stage.stop()
        db.close()
        (data_dir / FILE).unlink(missing_ok=True)  # `ht-gateway status`: not running
    return 0


def _demo_source(cfg: Config, data_dir: Path) -> FileSource | None:
    """The demo channel, dated today at the scenario's time of day; None if already processed today."""
    from gateway.demo import demo_channel

    path, start = demo_channel(data_dir, cfg.tz)
    db = Database(cfg.store.url or default_url(data_dir))
    try:
        if "transmissions" in db.tables():
            with db.read() as s:
                seen = s.scalar(select(Transmission.id).where(
                    Transmission.source == f"file:{path.name}",
                    Transmission.started_at >= start).limit(1))
            if seen is not None:
                log.info("demo channel for today already processed")
                return None
    finally:
        db.close()
    log.info("no radio configured (audio.device is empty): processing the demo channel %s", path)
    return FileSource(path, start.timestamp(), block_ms=cfg.audio.block_ms, realtime=False)
