"""Wiring: build the stages from the configuration and run them live or on a file.

``run`` and ``process`` differ only in the source they hand to :class:`gateway.pipeline.Pipeline`.
Order of start-up is chosen so that bad input fails before anything is written: the data directory
is checked, then the source and squelch are opened, and only then is the database touched.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway import identify
from gateway.asr.base import Recognizer
from gateway.audio.source import AudioSource, FileSource
from gateway.config import Config
from gateway.lock import DataDirLock
from gateway.pipeline import PROCESSING_RATE, Pipeline, PipelineStats, TransmissionWriter, source_identity
from gateway.recorder import Recorder
from gateway.recovery import recover_at_start
from gateway.squelch.base import Squelch
from gateway.store.db import Database, default_url
from gateway.store.models import Transmission
from gateway.transcribe import TranscriptionStage

log = logging.getLogger(__name__)

ENV_DATA_DIR = "HT_GATEWAY_DATA_DIR"


class DataDirError(RuntimeError):
    pass


def resolve_data_dir(cli_value: str | None, cfg: Config) -> Path:
    value = cli_value or os.environ.get(ENV_DATA_DIR) or cfg.gateway.data_dir
    if not value:
        base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        value = os.path.join(base, "ht-gateway")
    return Path(value).expanduser().resolve()


def prepare_data_dir(path: Path) -> Path:
    """Create the data directory if needed and prove it is writable, or fail with one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise DataDirError(f"data directory {path}: not writable ({e.strerror or e})") from None
    return path


def open_store(cfg: Config, data_dir: Path) -> Database:
    db = Database(cfg.store.url or default_url(data_dir))
    db.migrate()
    recover_at_start(db, data_dir, cfg)
    return db


def build_squelch(cfg: Config) -> Squelch:
    if cfg.squelch.type == "serial":
        from gateway.squelch.serial_pin import SerialPinSquelch

        return SerialPinSquelch(cfg.squelch.serial)
    from gateway.squelch.vox import VoxSquelch

    return VoxSquelch(cfg.squelch.vox, PROCESSING_RATE)


def build_recognizer(cfg: Config) -> Recognizer | None:
    from gateway.asr.factory import build_recognizer as build

    return build(cfg)


def transcription_stage(cfg: Config, recognizer: Recognizer | None, db: Database,
                        data_dir: Path) -> TranscriptionStage | None:
    if recognizer is None:
        return None
    from gateway.asr.vocabulary import station_words

    log.info("transcribing with %s (%s)", recognizer.engine, recognizer.model_id)
    return TranscriptionStage(recognizer, db, data_dir, PROCESSING_RATE, cfg.asr.queue_s,
                              station_words(cfg.stations),
                              after_store=lambda s, tx_id: identify.reidentify(s, tx_id, cfg)).start()


@dataclass
class RunResult:
    stats: PipelineStats
    transmission_ids: list[int]
    transcribed: int = 0


def run_pipeline(cfg: Config, data_dir: Path, source: AudioSource, squelch: Squelch, db: Database,
                 stop: threading.Event | None = None, progress: Callable[[int], None] | None = None,
                 heartbeat: Callable[[], None] | None = None,
                 stage: TranscriptionStage | None = None) -> RunResult:
    from gateway.ani import AniAnalyzer

    recorder = Recorder(data_dir / "recordings", PROCESSING_RATE, cfg.recorder, cfg.tz)
    writer = TransmissionWriter(db, recorder, data_dir, source.name, [stage] if stage else [],
                                analyzers=[AniAnalyzer(PROCESSING_RATE, cfg.dtmf)],
                                identify=lambda s, row: identify.apply(s, row, cfg), cfg=cfg,
                                uid_seed=source_identity(source))
    pipeline = Pipeline(source, squelch, cfg.segmenter, writer, stop)
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


def run_daemon(cfg: Config, data_dir: Path, stop: threading.Event | None = None) -> int:
    """``ht-gateway run``: live capture, or the demo channel when no radio is configured."""
    from gateway.sdnotify import SystemdNotifier, WatchdogPinger

    stop = stop or threading.Event()
    notifier = SystemdNotifier()
    pinger = WatchdogPinger(notifier)
    source: AudioSource | None
    if cfg.audio.device:  # open the hardware first: a wrong device name must leave nothing behind
        from gateway.audio.pyaudio_source import PyAudioSource

        source = PyAudioSource(cfg.audio.device, cfg.audio.rate, cfg.audio.channel,
                               cfg.audio.block_ms, cfg.audio.buffer_s)
        squelch = build_squelch(cfg)
        recognizer = build_recognizer(cfg)
        prepare_data_dir(data_dir)
    else:
        squelch = build_squelch(cfg)
        recognizer = build_recognizer(cfg)
        prepare_data_dir(data_dir)
    lock = DataDirLock(data_dir, "ht-gateway run").acquire()  # before the database is touched
    if not cfg.audio.device:
        source = _demo_source(cfg, data_dir)
    db = open_store(cfg, data_dir)
    stage = transcription_stage(cfg, recognizer, db, data_dir)
    web = start_web(cfg, db, data_dir) if cfg.web.serve else None
    reports = None
    if cfg.stations:
        from gateway.report.schedule import ReportScheduler

        reports = ReportScheduler(db, cfg, data_dir).start()
    notifier.ready()
    notifier.status(f"listening on {source.name}" if source else "idle")
    try:
        if source is not None:
            result = run_pipeline(cfg, data_dir, source, squelch, db, stop,
                                  heartbeat=lambda: pinger.tick(time.monotonic()), stage=stage)
            log.info("%s: %d transmission(s) from %.0f s of audio", source.name,
                     len(result.transmission_ids), result.stats.audio_s)
        if not cfg.audio.device:
            log.info("demo channel done; no radio configured (audio.device), idling until stopped")
            notifier.status("demo done; idle (no radio configured)")
            while not stop.wait(1.0):
                pinger.tick(time.monotonic())
    finally:
        notifier.stopping()
        if web is not None:
            web.should_exit = True
        if reports is not None:
            reports.stop()
        if stage is not None:
            stage.stop()
        db.close()
        lock.release()
    return 0


def start_web(cfg: Config, db: Database, data_dir: Path):  # noqa: ANN201 - uvicorn.Server
    """The web UI in a thread of the daemon (uvicorn installs no signal handlers off the main thread)."""
    import uvicorn

    from gateway.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(cfg, db, data_dir), host=cfg.web.host,
                                           port=cfg.web.port, log_level="warning", server_header=False))
    threading.Thread(target=server.run, name="web", daemon=True).start()
    log.info("web UI on http://%s:%d/ (create users with: ht-gateway user add NAME --role admin)",
             cfg.web.host, cfg.web.port)
    return server


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
