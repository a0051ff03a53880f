"""Configuration: one TOML file → frozen dataclasses, validated at start.

Every key lives in exactly one dataclass of gateway/config_model.py (re-exported here);
:func:`documented_keys` lists them all as dotted paths and ``tests/test_config.py`` fails when one
is missing from ``docs/configuration.md``.
Errors are one line naming the file, the key and the value (:class:`ConfigError`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import tomllib
import types
import typing
import zoneinfo
from datetime import time
from pathlib import Path
from typing import Any

from gateway import config_radio, config_transmit
from gateway.config_checks import (
    CONTROL,
    INT_RANGE,
    gazetteer_problem,
    list_problem,
    mail_problem,
    read_config_text,
    short_repr,
    station_problem,
    store_url_problem,
)
from gateway.config_model import (  # re-exported: ``from gateway.config import Config, ...`` keeps working
    ID_PATTERN,
    AlertsConfig,
    AsrConfig,
    AudioConfig,
    ChannelConfig,
    CheckinsConfig,
    Config,
    DtmfConfig,
    EmailConfig,
    GatewayConfig,
    IdentityConfig,
    RecorderConfig,
    ReportConfig,
    SegmenterConfig,
    SerialSquelchConfig,
    SquelchConfig,
    Station,
    StoreConfig,
    VoxConfig,
    WebConfig,
    WhisperConfig,
    WorkerConfig,
)

__all__ = [
    "AlertsConfig", "AsrConfig", "AudioConfig", "ChannelConfig", "CheckinsConfig", "Config", "ConfigError",
    "DtmfConfig",
    "ENV_CONFIG",
    "EmailConfig", "GatewayConfig", "IdentityConfig", "PATH_KEYS", "RecorderConfig", "ReportConfig",
    "SegmenterConfig", "SerialSquelchConfig", "SquelchConfig", "Station", "StoreConfig", "VoxConfig",
    "WebConfig", "WhisperConfig", "WorkerConfig", "documented_keys", "load", "parse", "parse_hhmm",
    "validate",
]

ENV_CONFIG = "HT_GATEWAY_CONFIG"


class ConfigError(ValueError):
    """A configuration problem, worded as one line for the operator."""


# --- path keys: resolved once, at load, against the config file's folder ---------------------
# (asr.model only when it is a path, i.e. holds a "/"; a bare name is a directory under models_dir)
PATH_KEYS = ("gateway.data_dir", "asr.models_dir", "asr.model", "transmit.clips_dir", "lexicon.gazetteer")
_NOT_KEYS = {"source_path", "written_paths"}


def _resolve_paths(cfg: Config) -> Config:
    """Every non-empty path key made absolute (see :data:`PATH_KEYS`); what was written is kept in
    ``written_paths`` so that messages can show both."""
    written: dict[str, str] = {}
    tables: dict[str, dict[str, str]] = {}
    for dotted in PATH_KEYS:
        value = _lookup(cfg, dotted)
        if not value or (dotted == "asr.model" and "/" not in value):
            continue
        table, key = dotted.split(".")
        written[dotted] = value
        tables.setdefault(table, {})[key] = str(cfg.resolve_path(value))
    changes = {t: dataclasses.replace(getattr(cfg, t), **kv) for t, kv in tables.items()}
    return dataclasses.replace(cfg, written_paths=written, **changes)


# --- checks beyond types: (dotted key, predicate, what it must be) ---------------------------
_RULES: list[tuple[str, typing.Callable[[Any], bool], str]] = [
    ("gateway.id", lambda v: re.fullmatch(ID_PATTERN, v) is not None,
     "a short slug: 1-32 of a-z, 0-9 and '-', not starting with '-' (e.g. 'taput-1')"),
    ("channel.id", lambda v: re.fullmatch(ID_PATTERN, v) is not None,
     "a short slug: 1-32 of a-z, 0-9 and '-', not starting with '-' (e.g. 'rig-2m')"),
    ("gateway.heartbeat_s", lambda v: 1 <= v <= 600, "1..600 s"),
    ("alerts.silent_after_min", lambda v: 1 <= v <= 10080, "1..10080 min"),
    ("alerts.backlog_limit", lambda v: 0 <= v <= 10_000_000, "0 (off) or a number of jobs"),
    ("alerts.check_s", lambda v: 5 <= v <= 3600, "5..3600 s"),
    ("worker.lease_s", lambda v: 10 <= v <= 3600, "10..3600 s"),
    ("worker.poll_s", lambda v: 0.1 <= v <= 60, "0.1..60 s"),
    ("worker.max_attempts", lambda v: 1 <= v <= 100, "1..100"),
    ("retention.audio_days", lambda v: 0 <= v <= 36500, "0 (keep for ever) or a number of days"),
    ("retention.rows_days", lambda v: 0 <= v <= 36500, "0 (keep for ever) or a number of days"),
    ("retention.run_at", lambda v: _is_hhmm(v), "a time of day HH:MM"),
    ("audio.rate", lambda v: v in (0, 8000, 16000, 22050, 32000, 44100, 48000), "0 or a standard rate"),
    ("audio.channel", lambda v: 0 <= v < 32, "0..31"),
    ("audio.block_ms", lambda v: 5 <= v <= 200, "5..200"),
    ("audio.buffer_s", lambda v: 1 <= v <= 600, "1..600"),
    ("audio.journal_s", lambda v: v == 0 or 10 <= v <= 3600, "0 (off) or 10..3600"),
    ("squelch.serial.pin", lambda v: v in ("cts", "dsr", "dcd", "ri"), "'cts', 'dsr', 'dcd' or 'ri'"),
    ("squelch.vox.open_db", lambda v: 1 <= v <= 40, "1..40 dB"),
    ("squelch.vox.close_db", lambda v: 0 < v <= 40, "0..40 dB"),
    ("squelch.vox.attack_ms", lambda v: 0 <= v <= 500, "0..500 ms"),
    ("squelch.vox.floor_rise_db_per_s", lambda v: 0 < v <= 20, "more than 0, at most 20 dB/s"),
    ("squelch.vox.floor_min_dbfs", lambda v: -120 <= v <= 0, "-120..0 dBFS"),
    ("squelch.vox.min_open_dbfs", lambda v: -120 <= v <= 0, "-120..0 dBFS"),
    ("segmenter.pre_roll_s", lambda v: 0 <= v <= 5, "0..5 s"),
    ("segmenter.hang_s", lambda v: 0 <= v <= 10, "0..10 s"),
    ("segmenter.min_s", lambda v: 0 <= v <= 30, "0..30 s"),
    ("segmenter.max_s", lambda v: 5 <= v <= 3600, "5..3600 s"),
    ("segmenter.tail_max_s", lambda v: 0 <= v <= 2, "0..2 s"),
    ("recorder.sample_rate", lambda v: v in (8000, 12000, 16000, 24000, 48000), "an Opus rate"),
    ("recorder.bitrate_kbps", lambda v: 6 <= v <= 64, "6..64 kbit/s"),
    ("asr.engine", lambda v: v in ("auto", "vosk", "whisper", "none"),
     "'auto', 'vosk', 'whisper' or 'none'"),
    ("asr.queue_s", lambda v: 1 <= v <= 3600, "1..3600 s"),
    ("asr.nice", lambda v: 0 <= v <= 19, "0..19"),
    ("identity.spoken_threshold", lambda v: 0.5 <= v <= 1.0, "0.5..1.0"),
    ("identity.continuation_gap_s", lambda v: 0 <= v <= 600, "0..600 s"),
    ("checkins.on_time_until", lambda v: _is_hhmm(v), "a time of day HH:MM"),
    ("checkins.late_until", lambda v: _is_hhmm(v), "a time of day HH:MM"),
    ("report.file_at", lambda v: _is_hhmm(v), "a time of day HH:MM"),
    ("report.recheck_minutes", lambda v: 1 <= v <= 1440, "1..1440"),
    ("report.recheck_days", lambda v: 0 <= v <= 31, "0..31"),
    ("report.review_below", lambda v: 0 <= v <= 1, "0..1"),
    ("report.email.smtp_port", lambda v: 1 <= v <= 65535, "1..65535"),
    ("report.email.smtp_tls", lambda v: v in ("starttls", "tls", "none"), "'starttls', 'tls' or 'none'"),
    ("web.host", lambda v: bool(v.strip()), "a host name or address, e.g. '127.0.0.1'"),
    ("web.port", lambda v: 1 <= v <= 65535, "1..65535"),
    ("web.session_hours", lambda v: 0.25 <= v <= 720, "0.25..720 h"),
    ("web.login_max_failures", lambda v: 1 <= v <= 100, "1..100"),
    ("web.login_window_minutes", lambda v: 1 <= v <= 1440, "1..1440 min"),
    ("web.trusted_proxies", lambda v: all(_is_network(a) for a in v),
     "a list of IP addresses or networks, e.g. ['127.0.0.1', '10.0.0.0/24']"),
    ("asr.whisper.compute_type", lambda v: v in ("int8", "int8_float32", "float32", "int16"),
     "'int8', 'int8_float32', 'int16' or 'float32'"),
    ("asr.whisper.beam_size", lambda v: 1 <= v <= 10, "1..10"),
    ("asr.whisper.cpu_threads", lambda v: 0 <= v <= 64, "0..64"),
    ("asr.whisper.no_speech_threshold", lambda v: 0 < v <= 1, "0..1"),
    ("asr.whisper.window_s", lambda v: v == 0 or 3 <= v <= 25, "0, or 3..25 s"),
    ("dtmf.min_tone_ms", lambda v: v <= 1000, "25..1000 ms"),
    ("dtmf.min_gap_ms", lambda v: v <= 1000, "0..1000 ms"),
    ("dtmf.max_twist_db", lambda v: v <= 20, "0..20 dB"),
    ("dtmf.max_digits", lambda v: v <= 16, "min_digits..16"),
    ("dtmf.max_interdigit_gap_ms", lambda v: v <= 5000, "min_gap_ms..5000 ms"),
    ("dtmf.sequence_window_s", lambda v: v <= 60, "0..60 s"),
    ("dtmf.min_level_dbfs", lambda v: -90 <= v <= 0, "-90..0 dBFS"),
    *config_radio.RULES,
]


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return True


def _is_hhmm(text: str) -> bool:
    return bool(re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text))


def parse_hhmm(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def documented_keys(cls: type = Config, prefix: str = "") -> list[str]:
    """Every configuration key as a dotted path (``stations[].ani`` for list items)."""
    keys: list[str] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in _NOT_KEYS:
            continue
        tp = hints[f.name]
        path = f"{prefix}{f.name}"
        if _is_dataclass_type(tp):
            keys += documented_keys(tp, path + ".")
        elif typing.get_origin(tp) is tuple and _is_dataclass_type(typing.get_args(tp)[0]):
            keys += documented_keys(typing.get_args(tp)[0], path + "[].")
        else:
            keys.append(path)
    return keys


def _convert(value: Any, tp: Any, key: str, where: str) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{where}: {key} = {short_repr(value)}: expected {expected}")

    if _is_dataclass_type(tp):
        if not isinstance(value, dict):
            raise bad("a table")
        return _build(tp, value, key + ".", where)
    origin = typing.get_origin(tp)
    if origin is tuple:
        item_tp = typing.get_args(tp)[0]
        if isinstance(value, str) and not _is_dataclass_type(item_tp):
            value = [value]
        if not isinstance(value, list):
            raise bad("a list")
        if _is_dataclass_type(item_tp):
            return tuple(_convert(v, item_tp, f"{key}[{i}]", where) for i, v in enumerate(value))
        return tuple(_convert(v, item_tp, key, where) for v in value)
    if origin in (typing.Union, types.UnionType):
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if tp is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            raise bad("a whole number that fits 64 bits")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad("a number")
        try:
            number = float(value)
        except OverflowError:  # an int too big for a float
            raise bad("a finite number") from None
        if not math.isfinite(number):
            raise bad("a finite number (not nan or inf)")
        return number
    if tp is str:
        if isinstance(value, int) and not isinstance(value, bool) and key.endswith("ani"):
            return str(value)  # ani = 101 written without quotes
        if not isinstance(value, str):
            raise bad("a string")
        if CONTROL.search(value):
            raise bad("a string without control characters (line breaks, NUL)")
        return value
    raise bad(str(tp))  # pragma: no cover - every field type is handled above


def _build(cls: type, table: dict[str, Any], prefix: str, where: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)} - _NOT_KEYS
    for k in table:
        if k not in names:
            raise ConfigError(f"{where}: unknown key {prefix}{k} (see docs/configuration.md)")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in table:
            kwargs[f.name] = _convert(table[f.name], hints[f.name], prefix + f.name, where)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: {prefix}{f.name} is required")
    try:
        return cls(**kwargs)
    except ValueError as e:  # a settings dataclass that checks itself (DtmfConfig)
        raise ConfigError(f"{where}: {e}") from None


def _lookup(cfg: Config, dotted: str) -> Any:
    obj: Any = cfg
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def validate(cfg: Config, where: str = "config") -> Config:
    for key, ok, expected in _RULES:
        value = _lookup(cfg, key)
        if not ok(value):
            raise ConfigError(f"{where}: {key} = {value!r}: expected {expected}")
    try:
        zoneinfo.ZoneInfo(cfg.gateway.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: gateway.timezone = {cfg.gateway.timezone!r}: not a known time zone"
        ) from None
    if cfg.squelch.vox.close_db > cfg.squelch.vox.open_db:
        raise ConfigError(
            f"{where}: squelch.vox.close_db = {cfg.squelch.vox.close_db}: must not exceed open_db"
        )
    if parse_hhmm(cfg.checkins.late_until) < parse_hhmm(cfg.checkins.on_time_until):
        raise ConfigError(f"{where}: checkins.late_until = {cfg.checkins.late_until!r}: "
                          f"earlier than checkins.on_time_until ({cfg.checkins.on_time_until})")
    if cfg.report.email.to and not (cfg.report.email.smtp_host and cfg.report.email.sender):
        raise ConfigError(f"{where}: report.email.to is set: report.email.smtp_host and "
                          "report.email.sender are required too")
    if cfg.report.email.smtp_tls == "none" and (cfg.report.email.smtp_user or cfg.report.email.smtp_password):
        raise ConfigError(f"{where}: report.email.smtp_tls = 'none' with smtp_user/smtp_password: the "
                          "password would cross the network in clear text; use 'starttls' or 'tls'")
    if cfg.alerts.enabled and not (cfg.alerts.recipients or cfg.report.email.to):
        raise ConfigError(f"{where}: alerts.enabled = true: alerts.recipients (or report.email.to) "
                          "must name someone to mail")
    if cfg.alerts.enabled and not (cfg.report.email.smtp_host and cfg.report.email.sender):
        raise ConfigError(f"{where}: alerts.enabled = true: alerts are mailed through report.email; "
                          "report.email.smtp_host and report.email.sender are required")
    for key in ("audio_days", "rows_days"):  # the filer re-reads these days: a purge would file a change
        days = getattr(cfg.retention, key)
        if 0 < days <= cfg.report.recheck_days:
            raise ConfigError(f"{where}: retention.{key} = {days}: must be more than report.recheck_days "
                              f"({cfg.report.recheck_days}), the days the filer still reads")
    if cfg.squelch.type == "serial" and not cfg.squelch.serial.port:
        raise ConfigError(f"{where}: squelch.serial.port = '': required when squelch.type = 'serial'")
    from gateway.report import letter

    problem = config_radio.problem(cfg) or station_problem(cfg.stations) or letter.problem(cfg) \
        or list_problem("report.opd", cfg.report.opd) \
        or list_problem("report.email.to", cfg.report.email.to) \
        or list_problem("alerts.recipients", cfg.alerts.recipients) \
        or mail_problem(cfg.report.email, cfg.alerts.recipients) \
        or config_transmit.problem(cfg) or store_url_problem(cfg.store.url) or gazetteer_problem(cfg)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return cfg


def parse(text: str, where: str = "config") -> Config:
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML: {e}") from None
    except RecursionError:  # arrays/inline tables nested thousands deep
        raise ConfigError(f"{where}: not valid TOML: nested too deeply") from None
    if "stations" in table and not isinstance(table["stations"], list):
        raise ConfigError(f"{where}: stations: expected [[stations]] tables")
    cfg = _build(Config, table, "", where)
    return _resolve_paths(validate(dataclasses.replace(cfg, source_path=where), where))


def load(path: str | os.PathLike[str] | None) -> Config:
    """Load the config from ``path``, else ``$HT_GATEWAY_CONFIG``, else built-in defaults."""
    if path is None:
        path = os.environ.get(ENV_CONFIG) or None
    if path is None:
        return Config()
    p = Path(path)
    text, problem = read_config_text(p)
    if text is None:
        raise ConfigError(f"{short_repr(str(p)) if CONTROL.search(str(p)) else p}: {problem}")
    return parse(text, str(p))
