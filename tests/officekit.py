"""Helpers for the office integration test (tests/test_office_integration.py), not a test module:
a private PostgreSQL server that a test may stop and start, generated channels with their truth,
and the gateway / worker / web processes of a small office.

The PostgreSQL server is the test's own (``initdb`` into a temporary directory, its own port and
socket directory), so stopping it for an outage disturbs no other test. ``initdb`` refuses to run
as root: then the server runs as the ``postgres`` user (``runuser``), which owns its directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conftest import REPO

#: Stations of config/tapanuli-utara.toml with their ANI (the radio's PTT-ID), the generator's truth.
STATIONS = [("Tarutung", "101"), ("Siatas Barita", "102"), ("Adiankoting", "103"), ("Sipoholon", "104"),
            ("Pahae Julu", "105"), ("Pahae Jae", "106"), ("Simangumban", "107"), ("Purbatua", "108"),
            ("Siborongborong", "109"), ("Pagaran", "110"), ("Parmonangan", "111"), ("Sipahutar", "112"),
            ("Pangaribuan", "113"), ("Garoga", "114"), ("Muara", "115")]
VOICES = ["id+m1", "id+f2", "id+m3", "id+f4", "id+m5", "id+m7", "id+f1"]

#: ``ht-gateway`` with the shipped model-free recogniser (gateway/asr/fake.py) as its engine:
#: argv: seconds of work per second of audio, then the command line's arguments.
FAKE_ASR_CLI = ("import sys; from gateway.asr import factory; from gateway.asr.fake import FakeRecognizer; "
                "sps = float(sys.argv[1]); "
                "factory.build_recognizer = lambda cfg, *a, **k: FakeRecognizer(seconds_per_second=sps); "
                "from gateway.cli.main import main; sys.exit(main(sys.argv[2:]))")


def pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        for ver in sorted(root.iterdir(), key=lambda p: p.name, reverse=True):
            if (ver / "bin" / name).is_file():
                return str(ver / "bin" / name)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """One PostgreSQL server of the test's own: :meth:`start`, :meth:`stop` (an outage), :attr:`url`."""

    def __init__(self) -> None:
        initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise FileNotFoundError("initdb/pg_ctl not found (Debian package postgresql)")
        self.pg_ctl = pg_ctl
        self.as_root = os.geteuid() == 0
        if self.as_root and shutil.which("runuser") is None:
            raise FileNotFoundError("running as root and runuser is missing (initdb refuses root)")
        self.root = Path(tempfile.mkdtemp(prefix="ht-office-pg-"))
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        self.port = free_port()
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        self._run([initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--no-sync"])
        self.url = f"postgresql+psycopg://postgres@/office?host={self.sock}&port={self.port}"
        self.start()
        self._run([pg_bin("createdb") or "createdb", "-h", str(self.sock), "-p", str(self.port),
                   "-U", "postgres", "office"])

    def _run(self, argv: list[str]) -> None:
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()[-500:]}")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.sock} -c listen_addresses='' -c fsync=off"
        self._run([self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w",
                   "-t", "60", "start"])

    def stop(self) -> None:
        """Stop the server (fast: open sessions are cut, as in a crash of the database host)."""
        self._run([self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"])

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def scenario(seed: int, stations: list[tuple[str, str]], start: str = "2026-12-01T07:00:00+07:00",
             gaps: tuple[float, ...] = (4.0, 5.0, 6.0), long_gap: tuple[int, float] | None = None
             ) -> dict[str, Any]:
    """A channel of short reports, one per station, each sending its ANI at the start;
    ``long_gap``: (index, seconds) a longer silence after that transmission."""
    txs = []
    for i, (name, ani) in enumerate(stations):
        gap = long_gap[1] if long_gap and long_gap[0] == i else gaps[i % len(gaps)]
        txs.append({"station": name, "ani": ani, "voice": VOICES[(seed + i) % len(VOICES)], "speed": 175,
                    "text": f"Di sini Camat {name}. Situasi aman. Ganti.", "then_gap_s": gap})
    return {"seed": seed, "recording_start": start, "timezone": "Asia/Jakarta", "lead_s": 2.0, "rate": 48000,
            "transmissions": txs}


def gateway_config(path: Path, url: str, gateway_id: str, channel_id: str, *, web_port: int | None,
                   lease_s: float, engine: str = "none") -> Path:
    """The example configuration on the pulse device, with this gateway's ids and the shared store."""
    base = (REPO / "config" / "tapanuli-utara.toml").read_text()
    base = base.replace('device = ""', 'device = "pulse"')
    base = base.replace('models_dir = "../asr_models"', f'models_dir = "{REPO / "asr_models"}"')
    base = base.replace('engine = "auto"', f'engine = "{engine}"')
    base = base.replace('url = ""', f'url = "{url}"')
    base = base.replace('[gateway]\n', f'[gateway]\nid = "{gateway_id}"\n', 1)
    base += f'\n[channel]\nid = "{channel_id}"\n'
    base += f"\n[worker]\nlease_s = {lease_s}\npoll_s = 0.3\n"
    base += ("\n[web]\nserve = false\n" if web_port is None
             else f'\n[web]\nserve = true\nhost = "127.0.0.1"\nport = {web_port}\n')
    path.write_text(base)
    return path


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A child process of the office, its output in ``log``."""
    full = {**os.environ, "PYTHONPATH": str(REPO), "HT_GATEWAY_FAULT": "", **(env or {})}
    with open(log, "ab") as out:
        return subprocess.Popen(argv, cwd=REPO, env=full, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=REPO, input=stdin, text=True,
                          capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO), "HT_GATEWAY_FAULT": ""})


def fake_asr_argv(cfg: Path, data_dir: Path, sps: float, command: str) -> list[str]:
    """``ht-gateway COMMAND`` (``worker``, ``run``) with the fake recogniser as its engine."""
    return [sys.executable, "-c", FAKE_ASR_CLI, str(sps), "--config", str(cfg), "--data-dir", str(data_dir),
            command]


def stop_process(p: subprocess.Popen[bytes], timeout: float = 60.0) -> int | None:
    """SIGTERM and wait; SIGKILL if it does not stop. Its exit status (None if it had to be killed)."""
    if p.poll() is None:
        p.terminate()
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
            return None
    return p.returncode


@contextlib.contextmanager
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Every child started into the yielded list is stopped (by its own pid) on the way out."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for p in started:
            if p.poll() is None:
                with contextlib.suppress(OSError):
                    p.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(10)


def wait_for(pred: Any, timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())
