"""Hostile command-line input: ``--out`` targets that are not plain files, a password that is not
UTF-8, a stations CSV the config would refuse, ``followups list`` filters, a reversed date range.

Truth is what the test itself put in: the rows it inserted (read back with the csv/json/tarfile
modules), the bytes it wrote, the file types it made (``os.mkfifo``, symlinks under tmp_path; no
real device node is ever a target, /dev/full is only pointed at by a symlink of ours).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.store.db import Database, default_url
from gateway.store.models import FollowUp, Transmission, WebUser

from conftest import REPO, run_cli

DAY = "2026-11-20"
STATIONS = ["Tarutung", "Sipoholon", "Pahae Jae"]
CONFIG = str(REPO / "config" / "tapanuli-utara.toml")


def _data(tmp_path: Path, recordings: bool = False) -> Path:
    """A data directory holding one transmission per station on DAY (08:0N WIB)."""
    data = tmp_path / "d"
    data.mkdir()
    db = Database(default_url(data))
    db.migrate()
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    with db.write() as s:
        for i, name in enumerate(STATIONS):
            start = t0.replace(minute=i)
            rel, digest = "", None
            if recordings:
                rel = f"recordings/2026/11/20/{i}.ogg"
                (data / rel).parent.mkdir(parents=True, exist_ok=True)
                (data / rel).write_bytes(f"rekaman {name}".encode())
                digest = hashlib.sha256(f"rekaman {name}".encode()).hexdigest()
            s.add(Transmission(uid=f"u{i:030d}", started_at=start, audio_started_at=start,
                               ended_at=start.replace(second=30), duration_s=30.0, status="complete",
                               station=name, audio_path=rel, sha256=digest))
    db.close()
    return data


def _fifo_reader(path: Path) -> int:
    """A FIFO at ``path`` with its reading end open (non-blocking), so a writer's open does not wait;
    what is written (less than a pipe buffer) waits in the pipe until :func:`_drain`."""
    os.mkfifo(path)
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK)


def _drain(fd: int) -> bytes:
    chunks = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except BlockingIOError:  # a writer still has it open: nothing more now
        pass
    finally:
        os.close(fd)
    return b"".join(chunks)


def _stations_in_csv(data: bytes) -> list[str]:
    return [r["station"] for r in csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))]


# --- 1. --out: FIFOs and devices written through, symlinks kept ----------------------------------

def test_export_out_writes_through_a_fifo_and_leaves_it_a_fifo(tmp_path: Path) -> None:
    data = _data(tmp_path)
    fifo = tmp_path / "pipe"
    fd = _fifo_reader(fifo)
    rc = main(["--data-dir", str(data), "export", "transmissions", "--date", DAY, "--format", "csv",
               "--out", str(fifo)])
    got = _drain(fd)
    assert rc == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # not replaced by a regular file
    assert _stations_in_csv(got) == STATIONS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "pipe"]  # no temporary file left


def test_out_symlink_to_stdout_writes_to_stdout(tmp_path: Path) -> None:
    """The tester's case: ``--out`` a symlink to /proc/self/fd/1 (here stdout is a pipe)."""
    data = _data(tmp_path)
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    r = run_cli("--data-dir", str(data), "export", "transmissions", "--date", DAY, "--format", "csv",
                "--out", str(link))
    assert r.returncode == 0, r.stderr
    assert _stations_in_csv(r.stdout.encode("utf-8")) == STATIONS
    assert os.readlink(link) == "/proc/self/fd/1"


def test_out_symlink_to_a_file_is_written_atomically_at_the_file(tmp_path: Path) -> None:
    data = _data(tmp_path)
    real = tmp_path / "real"
    real.mkdir()
    (real / "tx.json").write_text("old\n")
    link = tmp_path / "tx.json"
    link.symlink_to(real / "tx.json")
    rc = main(["--data-dir", str(data), "export", "transmissions", "--date", DAY, "--out", str(link)])
    assert rc == 0
    assert link.is_symlink() and os.readlink(link) == str(real / "tx.json")
    assert [t["station"] for t in json.loads((real / "tx.json").read_text())] == STATIONS
    assert sorted(p.name for p in real.iterdir()) == ["tx.json"]  # the temporary file was renamed
    dangling = tmp_path / "new.json"  # a symlink to a path not there yet: the file is made there
    dangling.symlink_to(real / "new.json")
    assert main(["--data-dir", str(data), "export", "transmissions", "--date", DAY,
                 "--out", str(dangling)]) == 0
    assert dangling.is_symlink() and (real / "new.json").is_file()
    assert json.loads((real / "new.json").read_text()) == json.loads((real / "tx.json").read_text())


@pytest.mark.skipif(not os.path.exists("/dev/full") or not stat.S_ISCHR(os.stat("/dev/full").st_mode),
                    reason="no /dev/full character device")
def test_out_symlink_to_a_full_device_is_one_line_and_the_link_stays(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _data(tmp_path)
    link = tmp_path / "full"
    link.symlink_to("/dev/full")  # written to (ENOSPC), never renamed over
    rc = main(["--data-dir", str(data), "export", "transmissions", "--date", DAY, "--out", str(link)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("ht-gateway: error: --out ") and "No space left" in err
    assert len(err.strip().splitlines()) == 1
    assert link.is_symlink() and os.readlink(link) == "/dev/full"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "full"]


def test_report_and_stations_out_write_through_a_fifo(tmp_path: Path) -> None:
    data = _data(tmp_path)
    fifo = tmp_path / "report.json"
    fd = _fifo_reader(fifo)
    rc = main(["--config", CONFIG, "--data-dir", str(data), "report", "--date", DAY, "--draft",
               "--format", "json", "--out", str(fifo)])
    got = _drain(fd)
    assert rc == 0 and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(got)["date"] == DAY
    fifo = tmp_path / "stations.toml"
    fd = _fifo_reader(fifo)
    assert main(["stations", "init", "--kabupaten", "12.02", "--out", str(fifo)]) == 0
    got = _drain(fd)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    shipped = REPO / "gateway" / "lexicon" / "data" / "12.02.csv"
    with shipped.open(newline="", encoding="utf-8") as f:
        kecamatan = [code for code, _ in csv.reader(f) if code.count(".") == 2]
    assert [line.split('"')[1] for line in got.decode().splitlines() if line.startswith("code = ")] \
        == kecamatan


def test_backup_out_writes_through_a_fifo(tmp_path: Path) -> None:
    data = _data(tmp_path, recordings=True)
    fifo = tmp_path / "day.tar.gz"
    fd = _fifo_reader(fifo)
    rc = main(["--data-dir", str(data), "backup", "--date", DAY, "--out", str(fifo)])
    got = _drain(fd)
    assert rc == 0 and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with tarfile.open(fileobj=io.BytesIO(got), mode="r:gz") as tar:
        rows = tar.extractfile("rows/transmissions.jsonl").read().decode().splitlines()  # type: ignore[union-attr]
        audio = {m.name: tar.extractfile(m).read() for m in tar.getmembers()  # type: ignore[union-attr]
                 if m.name.startswith("audio/")}
    assert sorted(json.loads(r)["station"] for r in rows) == sorted(STATIONS)
    assert sorted(audio.values()) == sorted(f"rekaman {n}".encode() for n in STATIONS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "day.tar.gz"]


# --- 2. user add: a password that is not UTF-8 -----------------------------------------------------

def test_user_add_refuses_a_password_that_is_not_utf8(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    Database(default_url(data)).migrate()
    add = [sys.executable, "-m", "gateway", "--data-dir", str(data), "user", "add"]
    r = subprocess.run([*add, "u4", "--role", "viewer", "--password-stdin"], cwd=REPO, capture_output=True,
                       input=b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\n", timeout=120)
    err = r.stderr.decode()
    assert r.returncode == 2 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("ht-gateway: error: ") and "not valid UTF-8" in err
    r = subprocess.run([*add, "u5", "--role", "viewer", "--password-stdin"], cwd=REPO, capture_output=True,
                       input="kata-sandi-ü-12\n".encode(), timeout=120)  # UTF-8 beyond ASCII is fine
    assert r.returncode == 0, r.stderr
    db = Database(default_url(data))
    with db.read() as s:
        assert [u.name for u in s.query(WebUser).all()] == ["u5"]  # no u4
    db.close()


# --- 3. stations init: names the config would refuse ----------------------------------------------

@pytest.mark.parametrize(("rows", "code"), [
    ('12.77.01,"Lembah\nHijau"', "12.77.01"),  # a line break: the TOML string would be broken
    ("12.77.01,Lembah Hijau\n12.77.02,", "12.77.02"),  # empty
    ("12.77.01,Lembah Hijau\n12.77.02,LEMBAH HIJAU", "12.77.02"),  # the same name twice
    ("12.77.01,Bukit-Tinggi\n12.77.02,Bukittinggi", "12.77.02"),  # another's alias
    ("12.77.01,Lembah\x00Hijau", "12.77.01"),
])
def test_stations_init_refuses_names_the_config_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        rows: str, code: str) -> None:
    wilayah = tmp_path / "base.csv"
    wilayah.write_text(f"12,SUMATERA UTARA\n12.77,KAB. CONTOH\n{rows}\n", encoding="utf-8")
    out = tmp_path / "stations.toml"
    rc = main(["stations", "init", "--kabupaten", "12.77", "--wilayah", str(wilayah), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert err.startswith(f"ht-gateway: error: {wilayah}: kecamatan {code}: ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.csv"]


def test_stations_init_bad_csv_is_one_line_naming_the_code(tmp_path: Path) -> None:
    wilayah = tmp_path / "base.csv"
    wilayah.write_text('12.77,KAB. CONTOH\n12.77.01,Lembah Hijau\n12.77.02,"Bukit\nTinggi"\n',
                       encoding="utf-8")
    r = run_cli("stations", "init", "--kabupaten", "12.77", "--wilayah", str(wilayah))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("ht-gateway: error: ") and len(r.stderr.strip().splitlines()) == 1
    assert "12.77.02" in r.stderr and "line break" in r.stderr
    wilayah.write_text("12.77,KAB. CONTOH\n12.77.01," + "x" * 200_000 + "\n", encoding="utf-8")
    r = run_cli("stations", "init", "--kabupaten", "12.77", "--wilayah", str(wilayah))  # over csv's limit
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr


# --- 4. followups list --status / --opd ----------------------------------------------------------

def _followups(tmp_path: Path) -> Path:
    data = _data(tmp_path)
    db = Database(default_url(data))
    with db.write() as s:
        for i, (status, opd) in enumerate([("baru", None), ("diproses", "BPBD"), ("selesai", "BPBD"),
                                           ("selesai", "Dinas Sosial"), ("diproses", "Dinas Sosial")], 1):
            s.add(FollowUp(day=date(2026, 11, 20), station="Tarutung", item=f"barang {i}", phrase="mohon",
                           transmission_id=1 + i % 3, status=status, opd=opd))
    db.close()
    return data


def _listed(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> list[int]:
    assert main(["--config", CONFIG, "--data-dir", str(data), "followups", "list", *args]) == 0
    return [int(line.split("\t")[0]) for line in capsys.readouterr().out.splitlines()]


def test_followups_list_filters_by_status_and_opd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _followups(tmp_path)
    assert _listed(capsys, data) == [1, 2, 5]  # open ones
    assert _listed(capsys, data, "--all") == [1, 2, 3, 4, 5]
    assert _listed(capsys, data, "--status", "selesai") == [3, 4]
    assert _listed(capsys, data, "--status", "diproses") == [2, 5]
    assert _listed(capsys, data, "--opd", "BPBD") == [2]
    assert _listed(capsys, data, "--opd", "BPBD", "--all") == [2, 3]
    assert _listed(capsys, data, "--opd", "Dinas Sosial", "--status", "selesai") == [4]
    assert _listed(capsys, data, "--opd", "x") == []


def test_followups_list_refuses_an_unknown_status_and_documents_its_options(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["followups", "list", "--status", "done"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert err.splitlines() == [
        "ht-gateway followups: error: argument --status: invalid choice: 'done' "
        "(choose from 'baru', 'diproses', 'selesai') (see ht-gateway followups --help)"]
    with pytest.raises(SystemExit):
        main(["followups", "--help"])
    helped = " ".join(capsys.readouterr().out.split())
    for option in ("--status {baru,diproses,selesai} list: only", "--opd OPD list: only"):
        assert option in helped


# --- 5. transcribe --queue: a reversed range ------------------------------------------------------

@pytest.mark.parametrize("queue", [["--queue"], []])
def test_transcribe_refuses_a_reversed_range(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             queue: list[str]) -> None:
    data = _data(tmp_path)
    cfg = tmp_path / "no-asr.toml"  # no model is loaded even if the range were not checked first
    cfg.write_text(Path(CONFIG).read_text(encoding="utf-8").replace('engine = "auto"', 'engine = "none"', 1))
    rc = main(["--config", str(cfg), "--data-dir", str(data), "transcribe", *queue,
               "--from", "2026-12-01", "--to", "2026-11-01"])
    err = capsys.readouterr().err
    assert rc == 2 and err == "ht-gateway: error: --to 2026-11-01 is before --from 2026-12-01\n"
    db = Database(default_url(data))
    with db.read() as s:
        assert not any(t.asr_redo for t in s.query(Transmission).all())
    db.close()
    rc = main(["--data-dir", str(data), "transcribe", "--queue", "--from", DAY, "--to", DAY])
    assert rc == 0 and capsys.readouterr().out.startswith("queued 3 transmission(s)")
