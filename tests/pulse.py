"""Real audio without a sound card: a private PulseAudio server with a null sink (not a test module).

``null_sink()`` starts ``pulseaudio`` with its own runtime directory (so it never meets another
server of the same user, nor another test run), loads a null sink with a unique name, points this
process at it (``PULSE_RUNTIME_PATH`` for the server, ``PULSE_SOURCE=<sink>.monitor`` for capture;
both must be in the environment before PortAudio opens the ALSA "pulse" device) and yields the sink
name. Whatever is played into the sink with :func:`play` comes out of PortAudio's "pulse" input.
On exit the server (and only that server, by its pid) is stopped and the environment restored.

Without ``pulseaudio``/``paplay``/``pactl`` the caller is skipped, or failed when ``$CI`` is set:
CI must run the live-audio tests. The bench uses :func:`missing_tools` and :func:`null_sink` too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

TOOLS = ("pulseaudio", "paplay", "pactl")
DEBIAN_PACKAGES = "pulseaudio pulseaudio-utils libasound2-plugins portaudio19-dev"
START_TIMEOUT_S = 10.0
# Variables that would send PulseAudio clients (ALSA plugin, paplay) to another server.
_ENV_KEYS = ("PULSE_RUNTIME_PATH", "PULSE_SOURCE", "PULSE_SERVER", "PULSE_SINK")


class PulseUnavailable(RuntimeError):
    """The private PulseAudio server cannot be had on this machine."""


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def unavailable(message: str) -> None:
    """Skip the calling test, or fail it under CI (``$CI`` set), with ``message``."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: the live-audio tests must run here)", pytrace=False)
    pytest.skip(message)


def _check_tools() -> None:
    missing = missing_tools()
    if missing:
        raise PulseUnavailable(f"{', '.join(missing)} not found; install the Debian packages "
                               f"{DEBIAN_PACKAGES}")


def _pactl_ok(env: dict[str, str]) -> bool:
    try:
        return subprocess.run(["pactl", "info"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=5).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@contextlib.contextmanager
def null_sink(prefix: str = "ht_radio") -> Iterator[str]:
    """Start a private PulseAudio server with a null sink; yield the sink's name.

    Raises :class:`PulseUnavailable` when the tools are missing or the server will not start.
    """
    _check_tools()
    sink = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    runtime = Path(tempfile.mkdtemp(prefix="ht-pulse-"))
    runtime.chmod(0o700)
    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    env = {k: v for k, v in os.environ.items() if k not in ("PULSE_SERVER", "PULSE_SINK")}
    env["PULSE_RUNTIME_PATH"] = str(runtime)
    log_path = runtime.parent / f"{runtime.name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--system=false", "-n",
             "--log-target=stderr", f"--load=module-null-sink sink_name={sink}",
             "--load=module-native-protocol-unix"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _pactl_ok(env):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise PulseUnavailable(f"pulseaudio did not start (exit {proc.poll()}): "
                                       + " | ".join(tail))
            time.sleep(0.1)
        os.environ.pop("PULSE_SERVER", None)
        os.environ.pop("PULSE_SINK", None)
        os.environ["PULSE_RUNTIME_PATH"] = str(runtime)
        os.environ["PULSE_SOURCE"] = f"{sink}.monitor"
        yield sink
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(runtime, ignore_errors=True)
        with contextlib.suppress(OSError):
            log_path.unlink()


def fixture(scope: str = "module", name: str = "pulse_sink") -> Callable[..., Any]:
    """A pytest fixture (``name``) yielding a null sink, skipping/failing when none can be had."""
    import pytest

    @pytest.fixture(scope=scope, name=name)  # type: ignore[call-overload]
    def _sink() -> Iterator[str]:
        try:
            cm = null_sink()
            sink = cm.__enter__()
        except PulseUnavailable as e:
            unavailable(str(e))
            raise AssertionError("unreachable") from e
        try:
            yield sink
        finally:
            cm.__exit__(None, None, None)

    return _sink


def play(path: str | os.PathLike[str], sink: str) -> subprocess.Popen[bytes]:
    """Play a sound file into ``sink`` (``paplay -d``); the caller waits on the returned process."""
    return subprocess.Popen(["paplay", "-d", sink, str(path)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
