"""Start-up: ``process``/``run`` import Alembic only when the schema really needs an upgrade.

Truth: ``sys.modules`` of a fresh interpreter (a subprocess each time, so nothing imported by other
tests counts), and the revision SQLite itself holds (``alembic_version``) against the migration files.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from gateway.store.db import head_revision

PROBE = """
import json, sys
from pathlib import Path
from gateway.config import Config
from gateway.daemon import open_store
db = open_store(Config(), Path(sys.argv[1]))
db.close()
print(json.dumps({m: m in sys.modules for m in ("alembic", "starlette", "jinja2")}))
"""


def _probe(data: Path) -> dict[str, bool]:
    r = subprocess.run([sys.executable, "-c", PROBE, str(data)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_alembic_is_imported_only_when_the_schema_is_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    first = _probe(data)  # a new database: migrated, so Alembic is needed
    assert first["alembic"] is True
    with sqlite3.connect(data / "gateway.sqlite3") as conn:
        (rev,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert rev == head_revision()
    second = _probe(data)  # current schema: checked by revision only
    assert second == {"alembic": False, "starlette": False, "jinja2": False}


CAPTURE_PROBE = """
import json, sys
import gateway.audio.live as live

def opened(cfg, health):  # instead of the sound card: what is loaded when the card would be opened
    print(json.dumps({m: m in sys.modules for m in ("gateway.daemon", "sqlalchemy", "vosk", "faster_whisper",
                                                       "gateway.pipeline", "starlette")}))
    raise SystemExit(0)

live.open_live_source = opened
from gateway.cli.main import main
main(["--config", sys.argv[1], "--data-dir", sys.argv[2], "run"])
"""


def test_run_opens_the_sound_card_before_the_rest_of_the_program_is_loaded(tmp_path: Path) -> None:
    """A restarted daemon is listening again as soon as it can: the card is opened before the
    database code, the pipeline, the recogniser or the web UI are imported (gateway/audio/live.py)."""
    cfg = tmp_path / "c.toml"
    cfg.write_text('[audio]\ndevice = "USB Audio"\n[asr]\nengine = "none"\n')
    r = subprocess.run([sys.executable, "-c", CAPTURE_PROBE, str(cfg), str(tmp_path / "data")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    loaded = json.loads(r.stdout.strip().splitlines()[-1])
    assert loaded == dict.fromkeys(loaded, False)
    assert not (tmp_path / "data").exists()  # nothing touched before the card is open
