"""The settings: one frozen dataclass per TOML table, the whole file as :class:`Config`.

Settings are depended on and depend on nothing (stages import their table from here, e.g.
:class:`DtmfConfig` for gateway/identification/dtmf.py). Reading, checking and the one-line errors
are gateway/config.py's; every field here is a documented key (``tests/test_config.py``).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from gateway.config_radio import Cm108SquelchConfig, PttConfig, RigctldSquelchConfig
from gateway.config_transmit import TransmitConfig  # [transmit]: checks itself, like DtmfConfig


@dataclass(frozen=True)
class DtmfConfig:
    """Limits of the DTMF decoder (config keys ``dtmf.<field>``).

    Attributes:
        min_tone_ms: Shortest tone that is a digit, ms (ITU-T Q.24 / Bell: 40). Lengths are
            measured to about a 4 ms hop, so tones measuring ``min_tone_ms - 8`` ms or more are
            kept: 40 ms tones are always accepted, tones of 25 ms or less always rejected.
        min_gap_ms: Shortest pause that separates two tones, ms (20). A longer pause between two
            equal tones makes two digits ("11"); a shorter drop-out inside a tone is bridged.
            Classic receivers must see 40 ms pauses and bridge drop-outs of up to 10 ms.
        max_freq_dev: Relative frequency error of either tone that is accepted (0.015: +-1.5 %,
            Q.24). The cut-off is 1 point above it (2.5 %), so +-3.5 % is always rejected.
        min_snr_db: Signal-to-noise ratio down to which tones are decoded, dB (15). It sets the
            share of each 12 ms block's energy the two tones must carry, ``tone_share``:
            1 - 10^(-(min_snr_db - 5)/10), 0.90 at 15 dB. Lowering it decodes noisier tones but
            weakens the talk-off guard (at 10 dB, 0.68, espeak speech yields digits).
        max_twist_db: Level difference between the high and the low group, either way, that is
            accepted, dB (8: radios with pre-emphasis make the high group louder). The cut-off
            is 2 dB above it, so 12 dB of twist is rejected at the default.
        min_digits: Shortest sequence :func:`ani` takes for a station's code (3).
        max_digits: Longest sequence :func:`ani` takes for a station's code (5).
        max_interdigit_gap_ms: Digits further apart than this, ms, start a new sequence (300).
        sequence_window_s: A sequence starting within this many seconds of the audio's start is
            ``bot``, one ending within this many seconds of its end ``eot`` (2.0; the audio
            starts with the segmenter's 0.5 s pre-roll and the key-up delay).
        min_level_dbfs: Quietest tone pair decoded, RMS dBFS of both tones together (-45; ANIs
            are about -13 dBFS on the sample channel, carrier hiss -50).
    """

    min_tone_ms: float = 40.0
    min_gap_ms: float = 20.0
    max_freq_dev: float = 0.015
    min_snr_db: float = 15.0
    max_twist_db: float = 8.0
    min_digits: int = 3
    max_digits: int = 5
    max_interdigit_gap_ms: float = 300.0
    sequence_window_s: float = 2.0
    min_level_dbfs: float = -45.0

    def __post_init__(self) -> None:
        checks = [
            ("min_tone_ms", self.min_tone_ms >= 25, "must be >= 25"),
            ("min_gap_ms", self.min_gap_ms >= 0, "must be >= 0"),
            ("max_freq_dev", 0 < self.max_freq_dev <= 0.04, "must be in (0, 0.04]"),
            ("min_snr_db", 10 <= self.min_snr_db <= 30, "must be in 10..30"),
            ("max_twist_db", self.max_twist_db >= 0, "must be >= 0"),
            ("min_digits", 1 <= self.min_digits <= self.max_digits, "must be in 1..max_digits"),
            ("max_interdigit_gap_ms", self.max_interdigit_gap_ms > self.min_gap_ms,
             "must be > min_gap_ms"),
            ("sequence_window_s", self.sequence_window_s > 0, "must be > 0"),
        ]
        for name, ok, message in checks:
            if not ok:
                raise ValueError(f"dtmf.{name} = {getattr(self, name)!r}: {message}")



#: A gateway's or a channel's id (``gateway.id``, ``channel.id``): a short slug, stored on every
#: transmission (gateway/config.py checks it).
ID_PATTERN = r"[a-z0-9][a-z0-9-]{0,31}"


@dataclass(frozen=True)
class GatewayConfig:
    timezone: str = "Asia/Jakarta"
    kabupaten: str = ""
    data_dir: str = ""
    id: str = "gw1"  # this site; stable: stored on every transmission (docs/channels.md)
    heartbeat_s: float = 15.0  # the gateways-table heartbeat (gateway/fleet.py); stale after 3 of them


@dataclass(frozen=True)
class ChannelConfig:
    """The radio channel this gateway records (one per gateway process for now)."""

    id: str = "ch1"  # stable: stored on every transmission, the log's ?channel= filter


@dataclass(frozen=True)
class WorkerConfig:
    """Transcription jobs claimed from the database (gateway/jobs.py, ``ht-gateway worker``)."""

    lease_s: float = 60.0  # a claim lasts this long unless renewed (every third of it while working)
    poll_s: float = 2.0  # an idle worker looks for work this often
    max_attempts: int = 3  # claims of one job (workers that died on it) before it is failed


@dataclass(frozen=True)
class RetentionConfig:
    """Deleting old recordings and rows (gateway/retention.py); 0 keeps them for ever."""

    audio_days: int = 0  # recordings of days older than this many days (their rows stay)
    rows_days: int = 0  # transmissions and their rows (and recordings) of older days
    run_at: str = "03:00"  # local time of the daemon's daily run (it also runs at start)


@dataclass(frozen=True)
class AudioConfig:
    device: str = ""  # empty: no radio configured → `run` plays the demo channel
    rate: int = 0  # 0: negotiate 48000, 44100, 16000 in that order
    channel: int = 0
    block_ms: int = 20
    buffer_s: float = 30.0
    journal_s: float = 120.0  # the capture journal (gateway/audio/journal.py); 0: none


@dataclass(frozen=True)
class VoxConfig:
    open_db: float = 8.0
    close_db: float = 5.0
    attack_ms: int = 60
    floor_rise_db_per_s: float = 0.5
    floor_min_dbfs: float = -90.0
    min_open_dbfs: float = -66.0


@dataclass(frozen=True)
class SerialSquelchConfig:
    port: str = ""
    pin: str = "cts"
    invert: bool = False


@dataclass(frozen=True)
class SquelchConfig:
    type: str = "vox"
    vox: VoxConfig = field(default_factory=VoxConfig)
    serial: SerialSquelchConfig = field(default_factory=SerialSquelchConfig)
    cm108: Cm108SquelchConfig = field(default_factory=Cm108SquelchConfig)
    rigctld: RigctldSquelchConfig = field(default_factory=RigctldSquelchConfig)
    inputs: tuple[str, ...] = ()  # for type "any"/"all" (gateway/config_radio.py)


@dataclass(frozen=True)
class SegmenterConfig:
    pre_roll_s: float = 0.5
    hang_s: float = 1.5
    min_s: float = 1.0
    max_s: float = 180.0
    tail_trim: bool = True
    tail_max_s: float = 0.4
    end_at_tail: bool = True  # a squelch tail / DTMF EOT ends the call without waiting out hang_s


@dataclass(frozen=True)
class RecorderConfig:
    sample_rate: int = 16000
    bitrate_kbps: float = 12.0


@dataclass(frozen=True)
class WhisperConfig:
    compute_type: str = "int8"
    beam_size: int = 5
    cpu_threads: int = 2
    no_speech_threshold: float = 0.6
    vad: bool = True
    window_s: float = 0.0  # live decoding windows of this much audio; 0: decode once at the close


@dataclass(frozen=True)
class AsrConfig:
    engine: str = "auto"  # auto: a Vosk model if one is installed, else faster-whisper, else none
    model: str = ""  # a model directory name under models_dir, or a path; empty: the first found
    models_dir: str = "asr_models"  # relative paths: from the config file's folder (or the cwd)
    phrase_list: bool = False
    bias: bool = True  # the lexicon and gazetteer in the Vosk phrase list (gateway/lexicon/bias.py)
    queue_s: float = 120.0
    nice: int = 10  # recognition runs this much below capture and the web UI (gateway/asr/priority.py)
    whisper: WhisperConfig = field(default_factory=WhisperConfig)


@dataclass(frozen=True)
class IdentityConfig:
    spoken_threshold: float = 0.80
    continuation_gap_s: float = 10.0
    strict_continuation: bool = True  # no continuation across a closing word or a self-named caller
    name_check: bool = False  # hear an unresolved self-named caller's name again (name_check.py)


@dataclass(frozen=True)
class CheckinsConfig:
    on_time_until: str = "09:00"
    late_until: str = "12:00"


@dataclass(frozen=True)
class EmailConfig:
    to: tuple[str, ...] = ()
    sender: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: str = "starttls"


@dataclass(frozen=True)
class LetterConfig:
    """The PDF as an official letter (gateway/report/letter.py)."""

    logo: str = ""  # PNG/JPEG path, relative to the config file's folder
    office: str = ""  # the line under "PEMERINTAH KABUPATEN ...", e.g. the agency
    address: str = ""
    number_pattern: str = ""  # e.g. "{seq}/LAPSIT/{month_roman}/{year}"
    signatory_nip: str = ""


@dataclass(frozen=True)
class ReportConfig:
    file_at: str = "12:00"
    recheck_minutes: int = 5
    recheck_days: int = 2
    signatory_title: str = "Bupati"
    signatory_name: str = ""
    signatory_place: str = ""
    opd: tuple[str, ...] = ("BPBD", "Dinas PUPR", "Dinas Sosial", "Dinas Kesehatan", "Dinas Pertanian")
    review_below: float = 0.6  # unverified values under this combined confidence are "perlu diperiksa"
    email: EmailConfig = field(default_factory=EmailConfig)
    letter: LetterConfig = field(default_factory=LetterConfig)


@dataclass(frozen=True)
class AlertsConfig:
    """Mail when a gateway goes silent, its squelch sticks or its backlog grows (gateway/alerts.py)."""

    enabled: bool = False
    silent_after_min: float = 10.0  # no heartbeat, or no audio from capture, for this long
    backlog_limit: int = 200  # pending transcription jobs of one gateway; 0: no backlog alert
    recipients: tuple[str, ...] = ()  # empty: report.email.to (over report.email's SMTP server)
    check_s: float = 60.0  # how often the gateways table is checked


@dataclass(frozen=True)
class WebConfig:
    serve: bool = True  # `ht-gateway run` serves the UI too (`ht-gateway web` serves it alone)
    host: str = "127.0.0.1"  # loopback only unless set: put a TLS reverse proxy in front otherwise
    port: int = 8080
    secure_cookies: bool = False  # true behind HTTPS: the session cookie is then sent over HTTPS only
    session_hours: float = 12.0
    login_max_failures: int = 5
    login_window_minutes: int = 10
    trusted_proxies: tuple[str, ...] = ()  # addresses/CIDRs whose X-Forwarded-For is believed


@dataclass(frozen=True)
class StoreConfig:
    url: str = ""  # empty: SQLite file gateway.sqlite3 in the data directory
    audio_in_db: bool = False  # copy each recording into the database too (gateway/audiostore.py)


@dataclass(frozen=True)
class Station:
    name: str
    code: str = ""
    ani: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class LexiconConfig:
    correct: bool = True  # correct misheard report words against the lexicon (gateway.lexicon)
    gazetteer: str = ""  # a kabupaten's wilayah CSV; empty: the shipped one for the stations' codes


@dataclass(frozen=True)
class Config:
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    squelch: SquelchConfig = field(default_factory=SquelchConfig)
    ptt: PttConfig = field(default_factory=PttConfig)
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    recorder: RecorderConfig = field(default_factory=RecorderConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
    dtmf: DtmfConfig = field(default_factory=DtmfConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    checkins: CheckinsConfig = field(default_factory=CheckinsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    transmit: TransmitConfig = field(default_factory=TransmitConfig)
    lexicon: LexiconConfig = field(default_factory=LexiconConfig)
    stations: tuple[Station, ...] = ()
    source_path: str = field(default="", compare=False)  # not a key: where this was loaded from
    # not a key: each path key resolved at load, as it was written ({"asr.models_dir": "../m"})
    written_paths: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.gateway.timezone)

    def resolve_path(self, value: str) -> Path:
        """A path from the config: relative ones are taken from the config file's folder."""
        p = Path(value).expanduser()
        if p.is_absolute():
            return p
        base = Path(self.source_path).parent if self.source_path else Path.cwd()
        return (base / p).resolve()
