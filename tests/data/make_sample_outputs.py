"""The shared sample's command-line outputs, for the restructuring's equivalence check.

Runs ``process`` on tests/data/sample_morning.flac twice (no recogniser; the model-free fake
recogniser), then ``export transmissions``, ``checkins``, ``identify`` and ``report --draft`` (JSON
and CSV), and returns each output with what differs between two runs of the same code blanked (the
time the draft was built). Only the command line is used, through child processes, so the same
function runs the code of any commit:

    PYTHONPATH=/path/to/old/checkout python tests/data/make_sample_outputs.py tests/data/sample_outputs

wrote tests/data/sample_outputs/ from commit a0f0df6 (before the layout change);
tests/test_sample_equivalence.py runs it on the current code and compares. The report files were
written again on purpose after issue 11 added fields to the report (per-value confidence and
"verified", the review queue, the situation's evidence): the diff was only added keys. Regenerate
only for a deliberate change of behaviour, and say so in the commit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "sample_morning.flac"
DAY = "2026-11-20"
START = "2026-11-20T06:58:00+07:00"

# the command line with the fake recogniser (gateway/asr/fake.py): deterministic "kata1 kata2 ..."
FAKE_ASR = ("import sys; import gateway.daemon as d; from gateway.asr.fake import FakeRecognizer;"
            "d.build_recognizer = lambda cfg: FakeRecognizer(); from gateway.cli import main;"
            "sys.exit(main(sys.argv[1:]))")
VOLATILE = ("built_at", "generated_at", "created_at", "filed_at")
SHA256 = re.compile(r"[0-9a-f]{64}")


def _blank(value: object) -> object:
    """``value`` with what differs between two runs of the same code replaced: the moment a draft
    was built (None), and a recording's sha256 (``<sha256>``; Ogg gives each stream a random serial
    number, so the file's bytes differ run to run)."""
    if isinstance(value, dict):
        return {k: (None if k in VOLATILE else
                    "<sha256>" if k == "sha256" and isinstance(v, str) and SHA256.fullmatch(v) else
                    _blank(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank(v) for v in value]
    return value


def _run(head: list[str], *args: str, cwd: str) -> str:
    # cwd outside any checkout: ``-m``/``-c`` put the working directory first on sys.path, and the
    # code run must be the one PYTHONPATH names
    r = subprocess.run([*head, *args], capture_output=True, text=True, timeout=600, cwd=cwd,
                       env={**os.environ, "TZ": "Asia/Jakarta"})
    if r.returncode != 0:
        raise RuntimeError(f"{args}: exit {r.returncode}: {r.stderr}")
    return r.stdout


def produce(repo_config: Path) -> dict[str, object]:
    """Every output, keyed ``<mode>/<what>`` (mode: ``none`` or ``fake``)."""
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "c.toml"
        cfg.write_text(repo_config.read_text().replace('engine = "auto"', 'engine = "none"'))
        for mode, head in (("none", [sys.executable, "-m", "gateway"]),
                           ("fake", [sys.executable, "-c", FAKE_ASR])):
            base = ("--config", str(cfg), "--data-dir", str(Path(tmp) / mode))
            _run(head, *base, "process", str(SAMPLE), "--start", START, cwd=tmp)
            cli = [sys.executable, "-m", "gateway"]
            out[f"{mode}/export.json"] = _blank(json.loads(
                _run(cli, *base, "export", "transmissions", "--date", DAY, "--format", "json", cwd=tmp)))
            out[f"{mode}/checkins.json"] = json.loads(
                _run(cli, *base, "checkins", "--date", DAY, "--format", "json", cwd=tmp))
            out[f"{mode}/compliance.json"] = json.loads(
                _run(cli, *base, "compliance", "--from", DAY, "--to", DAY, "--format", "json", cwd=tmp))
            out[f"{mode}/report.json"] = _blank(json.loads(
                _run(cli, *base, "report", "--date", DAY, "--draft", "--format", "json", cwd=tmp)))
            out[f"{mode}/report.csv"] = _run(cli, *base, "report", "--date", DAY, "--draft",
                                             "--format", "csv", cwd=tmp)
            out[f"{mode}/identify.txt"] = _run(cli, *base, "identify", "--date", DAY, cwd=tmp)
    return out


def main(dest: Path) -> None:
    repo = HERE.parent.parent
    dest.mkdir(parents=True, exist_ok=True)
    for name, value in produce(repo / "config" / "tapanuli-utara.toml").items():
        path = dest / name.replace("/", "-")
        text = value if isinstance(value, str) else json.dumps(value, indent=1, ensure_ascii=False) + "\n"
        path.write_text(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
