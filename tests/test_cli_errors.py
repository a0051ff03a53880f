"""Bad input: one clear line, a non-zero exit, and nothing left behind (no rows, no files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import DATA, run_cli


def _one_line_error(r, *needles: str) -> None:
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ht-gateway: error:")]
    assert len(errors) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in errors[0], errors[0]


def _nothing_in(path: Path) -> None:
    assert not path.exists() or not any(path.iterdir()), list(path.rglob("*"))


def test_missing_config(tmp_path: Path) -> None:
    r = run_cli("--config", str(tmp_path / "none.toml"), "--data-dir", str(tmp_path / "d"), "run")
    _one_line_error(r, "none.toml", "not found")
    _nothing_in(tmp_path / "d")


def test_config_from_environment_is_validated(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[segmenter]\nhang_s = -1\n")
    r = run_cli("--data-dir", str(tmp_path / "d"), "run", env={"HT_GATEWAY_CONFIG": str(cfg)})
    _one_line_error(r, "c.toml", "segmenter.hang_s = -1.0")
    assert r.returncode == 2
    _nothing_in(tmp_path / "d")


def test_unreadable_config(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(b"\xff\xfe\x00bad")
    r = run_cli("--config", str(cfg), "config", "check")
    _one_line_error(r, "c.toml", "cannot read config file")


def test_non_audio_file(tmp_path: Path) -> None:
    bogus = tmp_path / "laporan.wav"
    bogus.write_text("this is not audio\n" * 100)
    r = run_cli("--data-dir", str(tmp_path / "d"), "process", str(bogus), "--start",
                "2026-11-20T07:00:00+07:00")
    _one_line_error(r, "laporan.wav", "not a readable audio file")
    assert not (tmp_path / "d").exists()


def test_missing_audio_file(tmp_path: Path) -> None:
    r = run_cli("--data-dir", str(tmp_path / "d"), "process", str(tmp_path / "nope.flac"))
    _one_line_error(r, "nope.flac", "not found")
    assert not (tmp_path / "d").exists()


def test_bad_start_time(tmp_path: Path) -> None:
    r = run_cli("--data-dir", str(tmp_path / "d"), "process", str(DATA / "sample_morning.flac"),
                "--start", "kemarin pagi")
    _one_line_error(r, "--start 'kemarin pagi'")
    assert not (tmp_path / "d").exists()


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli("--data-dir", str(blocker / "data"), "process", str(DATA / "sample_morning.flac"),
                "--start", "2026-11-20T07:05:00+07:00")
    _one_line_error(r, "data directory", "not writable")


def test_read_only_data_dir(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        ro = Path("/proc/ht-gateway-data")  # root ignores permission bits; /proc refuses anyone
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
    r = run_cli("--data-dir", str(ro), "process", str(DATA / "sample_morning.flac"), "--start",
                "2026-11-20T07:05:00+07:00")
    _one_line_error(r, "data directory", "not writable")


def test_busy_serial_port(tmp_path: Path) -> None:
    import serial

    master, slave = os.openpty()
    name = os.ttyname(slave)
    holder = serial.Serial(name, exclusive=True)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[squelch]\ntype = "serial"\n[squelch.serial]\nport = "{name}"\n')
    try:
        r = run_cli("--config", str(cfg), "--data-dir", str(tmp_path / "d"), "process",
                    str(DATA / "sample_morning.flac"), "--start", "2026-11-20T07:05:00+07:00")
    finally:
        holder.close()
        os.close(master)
        os.close(slave)
    _one_line_error(r, "squelch.serial.port", "busy")
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("args, needle", [
    (["export", "transmissions", "--date", "20-11-2026"], "--date: '20-11-2026': expected YYYY-MM-DD"),
    (["export", "transmissions", "--date", "2026-11-20", "--format", "xml"], "invalid choice: 'xml'"),
    (["followups", "--status", "bogus"], "--status: invalid choice: 'bogus'"),
    (["bogus"], "COMMAND: invalid choice: 'bogus'"),
    ([], "required: COMMAND"),
])
def test_argument_errors_are_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    """A bad argument: one line naming it and where the usage is (not argparse's usage block), exit 2,
    and no data directory made."""
    r = run_cli("--data-dir", str(tmp_path / "d"), *args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, r.stderr
    assert needle in lines[0] and lines[0].startswith("ht-gateway") and "--help)" in lines[0], lines[0]
    assert not (tmp_path / "d").exists()
