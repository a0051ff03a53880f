"""``ht-gateway config check``: what the configuration will do on this machine, and every reason
it cannot.

It prints each resolved path, the stations, the speech engine and model, the audio input, the
squelch input, the transmit output, the database and the web address; then one line per problem (``key = value
(resolved path): what``) and exits 2 when there is any. Nothing is created or written.

:func:`asr_problems` is also what the daemon uses at start (gateway/asr/factory.py), so a missing
or broken model stops ``run`` with the very line ``config check`` prints.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.config import Config

if TYPE_CHECKING:
    from gateway.asr.models import ModelCheck

ENGINE_PACKAGES = {"vosk": ("vosk", "pip install vosk"),
                   "whisper": ("faster_whisper", "pip install '.[whisper]'")}


@dataclass(frozen=True)
class Problem:
    key: str
    value: str  # as written in the file
    resolved: str  # the path it means, or ""
    what: str

    def line(self) -> str:
        where = f" ({self.resolved})" if self.resolved and self.resolved != self.value else ""
        return f"{self.key} = {self.value!r}{where}: {self.what}"


def _written(cfg: Config, key: str, value: str) -> str:
    return cfg.written_paths.get(key, value)


def _broken(models: list[ModelCheck]) -> str:
    bad = [f"{c.path.name}: " + ("not a model directory" if c.kind == "unknown"
                                 else f"{c.kind}, missing {', '.join(c.missing)}")
           for c in models if not c.ok]
    return f" (unusable: {'; '.join(bad)})" if bad else ""


def asr_problems(cfg: Config) -> tuple[str, list[Problem]]:
    """What speech recognition will run with (one phrase), and why it cannot (problems)."""
    from gateway.asr.factory import models_dir
    from gateway.asr.models import list_models, verify

    engine = cfg.asr.engine
    if engine == "none":
        return "none (asr.engine = 'none': transmissions are stored untranscribed)", []
    where = models_dir(cfg)
    md = _written(cfg, "asr.models_dir", cfg.asr.models_dir)
    wanted = "Vosk or Whisper" if engine == "auto" else engine.capitalize()
    hint = ("; install a model there (ht-gateway models install) or set asr.engine = 'none' to "
            "run without transcription")
    if cfg.asr.model:
        named = Path(cfg.asr.model)
        path = named if named.is_absolute() else where / cfg.asr.model
        if not named.is_absolute() and not where.is_dir():
            return "", [Problem("asr.models_dir", md, str(where), "no such directory" + hint)]
        check = verify(path)
        written = _written(cfg, "asr.model", cfg.asr.model)
        if not path.is_dir():
            return "", [Problem("asr.model", written, str(path), "no such model directory" + hint)]
        if not check.ok:
            what = ("not a Vosk or Whisper model directory (no am/, conf/, graph/ nor model.bin)"
                    if check.kind == "unknown" else
                    f"incomplete {check.kind} model: missing {', '.join(check.missing)}")
            return "", [Problem("asr.model", written, str(path), what)]
        if engine != "auto" and check.kind != engine:
            return "", [Problem("asr.model", written, str(path),
                                f"a {check.kind} model, but asr.engine = {engine!r}")]
        kind = check.kind
    else:
        if not where.is_dir():
            return "", [Problem("asr.models_dir", md, str(where), "no such directory" + hint)]
        models = list_models(where)
        usable = [c for c in models if c.ok and (engine == "auto" or c.kind == engine)]
        if not usable:
            return "", [Problem("asr.models_dir", md, str(where),
                                f"no usable {wanted} model for asr.engine = {engine!r}"
                                + _broken(models) + hint)]
        kind = "vosk" if any(c.kind == "vosk" for c in usable) else "whisper"
        path = next(c.path for c in usable if c.kind == kind)
    module, install = ENGINE_PACKAGES[kind]
    if importlib.util.find_spec(module) is None:
        return "", [Problem("asr.engine", engine, "",
                            f"the {kind} model {path} needs the Python package {module} ({install})")]
    return f"{kind}, model {path} (asr.engine = {engine!r})", []


def _data_dir_problem(data_dir: Path, key: str, value: str) -> Problem | None:
    """Writable as the daemon needs it (it creates a missing directory); nothing is left behind."""
    from gateway.datadir import file_in_the_way

    if (there := file_in_the_way(data_dir)) is not None:
        return Problem(key, value, str(data_dir), f"not writable ({there} is not a directory)")
    p = next((q for q in (data_dir, *data_dir.parents) if q.exists()), data_dir)
    try:
        if p != data_dir:  # the daemon will create it: a directory must be creatable in p
            tempfile.TemporaryDirectory(dir=p, prefix=".config-check-").cleanup()
        else:
            with tempfile.TemporaryFile(dir=data_dir, prefix=".config-check-"):
                pass
    except OSError as e:
        return Problem(key, value, str(data_dir), f"not writable ({e.strerror or e} in {p})")
    return None


def _audio(cfg: Config) -> tuple[str, list[Problem]]:
    if not cfg.audio.device:
        return "demo channel: no audio.device", []
    from gateway.audio.pyaudio_source import find_input, list_inputs
    from gateway.audio.source import AudioSourceError

    try:
        dev = find_input(list_inputs(), cfg.audio.device)
    except AudioSourceError as e:
        what = str(e).split(": ", 1)[1] if ": " in str(e) else str(e)
        return "", [Problem("audio.device", cfg.audio.device, "", what)]
    rates = ", ".join(str(r) for r in dev.rates) or "none of 48000/44100/16000"
    return f"{dev.name!r} (PortAudio input {dev.index}, accepts {rates} Hz)", []


def _transmit(cfg: Config) -> tuple[str, list[Problem]]:
    """The output ``transmit.enabled`` will play on, found as the daemon finds it (like
    ``audio.device``: devices come and go, so this is checked here and when the daemon starts,
    not whenever the file is read)."""
    if not cfg.transmit.enabled:
        return "off (transmit.enabled = false)", []
    from gateway.audio.source import AudioSourceError
    from gateway.transmit.player import PyAudioPlayer

    device = cfg.transmit.device
    try:
        player = PyAudioPlayer(device, cfg.transmit.rate)
    except AudioSourceError as e:
        what = str(e).split(": ", 1)[1] if str(e).startswith("transmit.device = ") else str(e)
        return "", [Problem("transmit.device", device, "", what)]
    where = repr(device) if device else "the default output"
    return f"{where} (PortAudio output {player.index if player.index is not None else 'default'}, " \
           f"{player.rate} Hz)", []


def _squelch(cfg: Config) -> tuple[str, list[Problem]]:
    if cfg.squelch.type == "vox":
        return "vox (on the received audio)", []
    s = cfg.squelch.serial
    text = f"serial pin {s.pin}{' (inverted)' if s.invert else ''} on {s.port}"
    if "://" in s.port:
        return text + " (a pyserial URL, not checked)", []
    port = Path(s.port)
    if not port.exists():
        return text, [Problem("squelch.serial.port", s.port, "", "no such device")]
    if not os.access(port, os.R_OK | os.W_OK):
        return text, [Problem("squelch.serial.port", s.port, str(port.resolve()),
                              "not readable and writable by this user (group dialout?)")]
    return text, []


def check(cfg: Config, cli_data_dir: str | None) -> tuple[list[tuple[str, str]], list[Problem]]:
    """(label, what) facts to print, and the problems found."""
    from sqlalchemy.engine import make_url

    from gateway.datadir import ENV_DATA_DIR, resolve_data_dir
    from gateway.store.db import default_url

    facts: list[tuple[str, str]] = [("stations", str(len(cfg.stations)))]
    problems: list[Problem] = []
    data_dir = resolve_data_dir(cli_data_dir, cfg)
    if cli_data_dir:
        key, value = "--data-dir", cli_data_dir
    elif os.environ.get(ENV_DATA_DIR):
        key, value = ENV_DATA_DIR, os.environ[ENV_DATA_DIR]
    elif cfg.gateway.data_dir:
        key, value = "gateway.data_dir", _written(cfg, "gateway.data_dir", cfg.gateway.data_dir)
    else:
        key, value = "gateway.data_dir", ""
    facts.append(("data directory", f"{data_dir} ({key if value else 'default'})"))
    if (p := _data_dir_problem(data_dir, key, value)) is not None:
        problems.append(p)
    url = make_url(cfg.store.url or default_url(data_dir))
    facts.append(("database", url.render_as_string(hide_password=True)))
    from gateway.asr.factory import models_dir

    facts.append(("models directory", f"{models_dir(cfg)} (asr.models_dir)"))
    for label, part in (("speech recognition", asr_problems), ("audio input", _audio),
                        ("squelch", _squelch), ("transmit output", _transmit)):
        text, found = part(cfg)
        facts.append((label, text or "unusable (see below)"))
        problems += found
    facts.append(("web UI", f"http://{cfg.web.host}:{cfg.web.port}/"
                  + ("" if cfg.web.serve else " (web.serve = false: `ht-gateway web` only)")))
    return facts, problems


def main(cfg: Config, cli_data_dir: str | None) -> int:
    """Print the facts (stdout) and one ``ht-gateway: error:`` line per problem (stderr)."""
    facts, problems = check(cfg, cli_data_dir)
    source = cfg.source_path or "built-in defaults (no --config, no $HT_GATEWAY_CONFIG)"
    print(f"{source}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    width = max(len(label) for label, _ in facts)
    for label, text in facts:
        print(f"  {label:<{width}}  {text}")
    sys.stdout.flush()
    for p in problems:
        print(f"ht-gateway: error: {p.line()}", file=sys.stderr)
    return 2 if problems else 0
