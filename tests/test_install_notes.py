"""The install notes (systemd/README.md) work in the order written, and `config check` refuses
every misconfiguration that would leave the daemon half-working.

The notes' commands are the ```sh blocks of systemd/README.md, run in document order by bash in a
scratch directory, with the system paths (/etc/ht-gateway, /var/lib/ht-gateway, /opt/ht-gateway,
/usr/local/src/ht-gateway) and the service user replaced (see SUBSTITUTE). Skipped, by the word
after ``sh``: ``apt`` (system packages), ``pypi`` (the venv is installed from PyPI: this test puts
a wrapper that runs this checkout at /opt/ht-gateway/venv/bin/ht-gateway instead), ``system``
(useradd, udev, kernel modules, systemctl: they need a booted systemd and change the machine),
``editor`` (an interactive edit), ``later`` (operation, not installation). The Vosk zip the notes
install is replaced by the real Korean Vosk model from PyPI; the admin's password, typed twice on a
terminal in the notes, comes on stdin (``--password-stdin``).

Truth is independent of the code under test: paths the notes and this test chose, the generator's
list of transmissions, and the files the test itself broke or removed.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli

NOTES = REPO / "systemd" / "README.md"
SKIP_TAGS = {"apt", "pypi", "system", "editor", "later"}


def blocks() -> list[tuple[str, str]]:
    """(tag, script) for every ```sh block, in document order; tag "" means: run it."""
    found = re.findall(r"^```sh(?: ([a-z]+))?\n(.*?)^```$", NOTES.read_text(), flags=re.S | re.M)
    return [(tag, body) for tag, body in found]


def substitutions(root: Path, model: Path) -> list[tuple[str, str]]:
    me = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    return [
        ("/usr/local/src/ht-gateway", str(REPO)),
        ("/etc/ht-gateway", str(root / "etc/ht-gateway")),
        ("/var/lib/ht-gateway", str(root / "var/lib/ht-gateway")),
        ("/opt/ht-gateway", str(root / "opt/ht-gateway")),
        ("runuser -u ht-gateway -- ", ""),
        ("-o root ", f"-o {me} "),
        ("-o ht-gateway ", f"-o {me} "),
        ("-g ht-gateway ", f"-g {group} "),
        ("ht-gateway:ht-gateway", f"{me}:{group}"),
        ("vosk-model-id-0.x.zip", str(model)),
        ("user add admin --role admin", "user add admin --role admin --password-stdin"),
    ]


def test_every_block_is_run_or_skipped_for_a_stated_reason() -> None:
    found = blocks()
    assert len(found) == NOTES.read_text().count("```sh"), "a ```sh block the extractor missed"
    assert {tag for tag, _ in found} <= SKIP_TAGS | {""}, "an unknown skip word"
    run = [body for tag, body in found if not tag]
    assert len(run) >= 6
    assert "config check" in run[-2] and "user add" in run[-1]


def test_install_notes_in_order_then_process(tmp_path: Path, vosk_ko_path: Path,
                                             korean_channel: tuple[Path, dict]) -> None:
    root = tmp_path / "root"
    venv_bin = root / "opt/ht-gateway/venv/bin"
    venv_bin.mkdir(parents=True)
    wrapper = venv_bin / "ht-gateway"  # what step 3's pip install provides
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m gateway "$@"\n')
    wrapper.chmod(0o755)
    subst = substitutions(root, vosk_ko_path)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HT_GATEWAY_")},
           "PYTHONPATH": str(REPO)}
    outputs = []
    for tag, body in blocks():
        if tag:
            continue
        for old, new in subst:
            body = body.replace(old, new)
        for system in ("/etc/ht-gateway", "/var/lib/ht-gateway", "/opt/ht-gateway", "runuser", "sudo"):
            left = re.search(rf"(?<!<scratch>){re.escape(system)}", body.replace(str(root), "<scratch>"))
            assert left is None, f"unsubstituted {system!r} in:\n{body}"
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=tmp_path, env=env,
                           input="s3cret-pass\n", capture_output=True, text=True, timeout=240)
        assert r.returncode == 0, f"step failed:\n{body}\n{r.stdout}\n{r.stderr}"
        outputs.append(r.stdout)
    config = root / "etc/ht-gateway/config.toml"
    data = root / "var/lib/ht-gateway"
    check = next(o for o in outputs if ": OK" in o)  # the config check step
    assert check.splitlines()[0] == f"{config}: OK"
    assert f"{data} (--data-dir)" in check
    assert f"vosk, model {data / 'asr_models' / vosk_ko_path.name}" in check
    assert "demo channel: no audio.device" in check and "stations            15" in check
    assert (data / "gateway.sqlite3").is_file()  # the first admin's user row is in it

    audio, truth = korean_channel
    r = subprocess.run([str(wrapper), "--config", str(config), "process", str(audio), "--start",
                        truth["recording_start"]], env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    n = len(truth["transmissions"])
    assert f"{n} transmission(s)" in r.stdout and f"{n} transcribed" in r.stdout, r.stdout
    assert f"-> {data}" in r.stdout  # gateway.data_dir, as step 5 set it


# -- config check: one line per misconfiguration, exit 2 ---------------------------------------

@pytest.fixture
def installed(tmp_path: Path, vosk_ko_path: Path) -> tuple[Path, Path]:
    """A good installation: a config whose relative models_dir holds a (linked) real model."""
    models = tmp_path / "asr_models"
    models.mkdir()
    (models / "ko").symlink_to(vosk_ko_path, target_is_directory=True)
    etc = tmp_path / "etc"
    etc.mkdir()
    cfg = etc / "config.toml"
    cfg.write_text('[gateway]\ndata_dir = "../data"\n[asr]\nmodels_dir = "../asr_models"\n')
    return cfg, tmp_path


def _errors(cfg: Path, *extra: str) -> tuple[int, list[str], str]:
    r = run_cli("--config", str(cfg), *extra, "config", "check")
    assert "Traceback" not in r.stderr
    return r.returncode, r.stderr.strip().splitlines(), r.stdout


def test_good_installation_passes(installed: tuple[Path, Path]) -> None:
    cfg, tmp = installed
    rc, errors, out = _errors(cfg)
    assert (rc, errors) == (0, []), out
    assert f"{tmp / 'data'} (gateway.data_dir)" in out
    assert f"{tmp / 'asr_models'} (asr.models_dir)" in out and f"model {tmp / 'asr_models' / 'ko'}" in out
    assert not (tmp / "data").exists(), "config check creates nothing"


def test_relative_models_dir_moved_with_the_config(installed: tuple[Path, Path]) -> None:
    cfg, tmp = installed
    moved = tmp / "srv" / "ht" / "config.toml"  # ../asr_models now means srv/asr_models
    moved.parent.mkdir(parents=True)
    shutil.copy(cfg, moved)
    rc, errors, _ = _errors(moved)
    assert rc == 2 and errors == [f"ht-gateway: error: asr.models_dir = '../asr_models' "
                                  f"({tmp / 'srv' / 'asr_models'}): no such directory; install a model "
                                  "there (ht-gateway models install) or set asr.engine = 'none' to run "
                                  "without transcription"]


def test_empty_models_dir(installed: tuple[Path, Path]) -> None:
    cfg, tmp = installed
    (tmp / "asr_models" / "ko").unlink()
    rc, errors, _ = _errors(cfg)
    assert rc == 2 and len(errors) == 1
    assert errors[0].startswith(f"ht-gateway: error: asr.models_dir = '../asr_models' "
                                f"({tmp / 'asr_models'}): no usable Vosk or Whisper model "
                                "for asr.engine = 'auto'")


def test_models_dir_with_a_broken_model(installed: tuple[Path, Path], vosk_ko_path: Path) -> None:
    cfg, tmp = installed
    (tmp / "asr_models" / "ko").unlink()
    broken = tmp / "asr_models" / "vosk-half"  # a copy that lost its graph and configuration
    (broken / "am").mkdir(parents=True)
    os.link(vosk_ko_path / "am" / "final.mdl", broken / "am" / "final.mdl")
    rc, errors, _ = _errors(cfg)
    assert rc == 2 and len(errors) == 1
    assert "no usable Vosk or Whisper model" in errors[0]
    assert "vosk-half: vosk, missing conf/model.conf, conf/mfcc.conf, graph/HCLG.fst" in errors[0]


def test_named_vosk_model_that_is_broken_stops_the_daemon_with_the_same_line(
        installed: tuple[Path, Path]) -> None:
    cfg, tmp = installed
    (tmp / "asr_models" / "empty-model" / "conf").mkdir(parents=True)
    cfg.write_text(cfg.read_text() + 'engine = "vosk"\nmodel = "empty-model"\n')
    rc, errors, _ = _errors(cfg)
    assert rc == 2 and len(errors) == 1 and "asr.model = 'empty-model'" in errors[0]
    assert "missing am/final.mdl, conf/model.conf, conf/mfcc.conf" in errors[0]
    r = run_cli("--config", str(cfg), "run")  # the daemon: demo channel, no audio.device
    assert r.returncode == 2 and r.stderr.strip().splitlines() == errors
    assert not (tmp / "data").exists(), "nothing written"


def test_daemon_without_a_model_refuses_to_start(installed: tuple[Path, Path]) -> None:
    cfg, tmp = installed
    (tmp / "asr_models" / "ko").unlink()
    _, errors, _ = _errors(cfg)
    r = run_cli("--config", str(cfg), "run")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == errors, r.stderr
    assert not (tmp / "data").exists()
    # said on purpose, it runs untranscribed: config check agrees
    cfg.write_text(cfg.read_text() + 'engine = "none"\n')
    rc, errors, out = _errors(cfg)
    assert (rc, errors) == (0, []) and "none (asr.engine = 'none'" in out


def test_absent_audio_device(installed: tuple[Path, Path]) -> None:
    cfg, _ = installed
    cfg.write_text(cfg.read_text() + '[audio]\ndevice = "HT-no-such-card-7"\n')
    rc, errors, _ = _errors(cfg)
    assert rc == 2 and len(errors) == 1
    assert errors[0].startswith("ht-gateway: error: audio.device = 'HT-no-such-card-7': no such input device")


def test_absent_serial_port(installed: tuple[Path, Path], tmp_path: Path) -> None:
    cfg, _ = installed
    port = tmp_path / "dev" / "ttyUSB-gone"
    cfg.write_text(cfg.read_text() + f'[squelch]\ntype = "serial"\n[squelch.serial]\nport = "{port}"\n')
    rc, errors, _ = _errors(cfg)
    assert (rc, errors) == (2, [f"ht-gateway: error: squelch.serial.port = '{port}': no such device"])
    master, slave = os.openpty()  # a port that exists: no problem
    try:
        cfg.write_text(cfg.read_text().replace(str(port), os.ttyname(slave)))
        assert _errors(cfg)[:2] == (0, [])
    finally:
        os.close(master)
        os.close(slave)


def test_unwritable_data_dir(installed: tuple[Path, Path], tmp_path: Path) -> None:
    cfg, _ = installed
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, errors, _ = _errors(cfg, "--data-dir", str(blocker / "data"))
    assert rc == 2 and len(errors) == 1
    assert errors[0].startswith(f"ht-gateway: error: --data-dir = '{blocker / 'data'}': not writable")
    if os.geteuid() == 0:
        ro = Path("/proc/ht-gateway-data")  # root ignores permission bits; /proc refuses anyone
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
    rc, errors, _ = _errors(cfg, "--data-dir", str(ro))
    assert rc == 2 and len(errors) == 1
    assert f"--data-dir = '{ro}'" in errors[0] and "not writable" in errors[0]
