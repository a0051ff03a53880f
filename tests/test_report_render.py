"""The daily report rendered as JSON, CSV, HTML and PDF, from the sample channel's report dict.

The PDF is checked as a reader would get it: poppler's pdftotext finds the text, pdftoppm renders
page 1 (kept in test-artifacts/report_page1.png for people to look at).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

from gateway.report import render_pdf
from gateway.report.model import Evidence
from gateway.report.render import date_text, render, span

from conftest import DATA, REPO, need

EXAMPLE = DATA / "report_example.json"
NAMES = ["Tarutung", "Siatas Barita", "Adiankoting", "Sipoholon", "Pahae Julu", "Pahae Jae", "Simangumban",
         "Purbatua", "Siborongborong", "Pagaran", "Parmonangan", "Sipahutar", "Pangaribuan", "Garoga",
         "Muara"]


def ev(text: str, start: float, end: float, confidence: float = 0.8) -> dict[str, Any]:
    return {"text": text, "start": start, "end": end, "confidence": confidence}


def tx(tid: int, start: str) -> dict[str, Any]:
    return {"transmission_id": tid, "start": start, "audio_path": f"recordings/2026/11/20/{tid}.ogg",
            "preroll_s": 0.5}


@pytest.fixture
def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text())


def station(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in report["stations"] if s["station"] == name)


def add_incident(report: dict[str, Any], name: str, inc: dict[str, Any]) -> None:
    st = station(report, name)
    item = {"place": None, "counts": {}, "place_evidence": None, "count_evidence": {}, "station": name,
            **st["transmissions"][0], **inc}
    st["incidents"].append(item)
    report["incidents"].append(item)
    report["summary"]["incidents"] = len(report["incidents"])


def make_filed(example: dict[str, Any]) -> dict[str, Any]:
    """The example as filed revision 2 after a late report, with a place, a price, a need, a follow-up."""
    r = copy.deepcopy(example)
    r.update(revision=2, filed_at="2026-11-20T12:35:00+07:00", reason="late_report",
             signature={"title": "Bupati Tapanuli Utara", "name": "Ir. Contoh Nama", "place": "Tarutung"})
    late = station(r, "Pahae Julu")
    late.update(checkin="late", checkin_label="terlambat", first_report="2026-11-20T10:42:10+07:00",
                identified_by="voice", situation="siaga", situation_label="Siaga",
                transmissions=[tx(9, "2026-11-20T10:42:10+07:00")])
    r["summary"].update(reported=4, late=["Pahae Julu"], missing=[m for m in r["summary"]["missing"]
                                                                  if m != "Pahae Julu"])
    for flood in (station(r, "Siatas Barita")["incidents"][0], r["incidents"][0]):  # equal, not one object
        flood.update(place="Sitampurung", place_evidence=ev("Desa Sitampurung", 7.1, 8.0))
    add_incident(r, "Pahae Julu", {"category": "longsor", "label": "Tanah longsor", "evidence": ev(
        "tanah longsor", 3.2, 4.0), "counts": {"mengungsi_kk": 12}, "count_evidence": {
        "mengungsi_kk": ev("dua belas KK mengungsi", 4.5, 6.2)}})
    tarutung = station(r, "Tarutung")
    tarutung["prices"] = [{"commodity": "beras", "rupiah_per_kg": 11000, "evidence": ev(
        "beras sebelas ribu rupiah per kilo", 9.0, 11.4), "transmission_id": 1}]
    add_incident(r, "Tarutung", {"category": "harga", "label": "Harga bahan pokok", "evidence": ev(
        "harga beras", 8.5, 9.5), "counts": {"harga_beras_rp_per_kg": 11000}, "count_evidence": {
        "harga_beras_rp_per_kg": ev("beras sebelas ribu rupiah per kilo", 9.0, 11.4)}})
    need_ = {"item": "terpal", "phrase": "mohon bantuan terpal", "station": "Siatas Barita",
             "evidence": ev("mohon bantuan terpal", 9.0, 10.6), "transmission_id": 3}
    station(r, "Siatas Barita")["needs"].append(need_)
    r["needs"].append(need_)
    r["followups"] = [{"id": 1, "day": "2026-11-19", "station": "Sipahutar", "category": "longsor",
                       "item": "alat berat", "phrase": "mohon alat berat", "transmission_id": 2,
                       "status": "diproses", "opd": "Dinas PUPR", "updated_at": "2026-11-20T08:00:00+07:00"}]
    return r


@pytest.fixture
def filed(example: dict[str, Any]) -> dict[str, Any]:
    return make_filed(example)


class StrictParser(HTMLParser):
    """Records the elements and fails on end tags that close nothing open (html.parser never raises)."""

    VOID: ClassVar[set[str]] = {"meta", "br", "img", "hr", "input", "link"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(page: bytes) -> StrictParser:
    p = StrictParser()
    p.feed(page.decode())
    p.close()
    assert not p.errors, p.errors
    assert not p.stack, f"left open: {p.stack}"
    return p


def pdf_text(path: Path, *args: str) -> str:
    if shutil.which("pdftotext") is None:
        need("poppler-utils", "pdftotext not found (apt-get install poppler-utils)")
    return subprocess.run(["pdftotext", "-layout", *args, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def pdf_pages(path: Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[1] for line in out.splitlines() if line.startswith("Pages:")))


# --- words and numbers ----------------------------------------------------------------------------

def test_indonesian_dates_and_spans() -> None:
    assert date_text(date(2026, 11, 20), True) == "Jumat, 20 November 2026"
    assert date_text(date(2026, 1, 4), True) == "Minggu, 4 Januari 2026"
    assert date_text(date(2026, 8, 17)) == "17 Agustus 2026"
    assert span(Evidence.from_dict(ev("Tujuh rumah terendam", 5.41, 6.97))) == "00:05–00:07"
    assert span(Evidence.from_dict(ev("x", 12.0, 12.0))) == "00:12"
    assert span(Evidence.from_dict(ev("x", 3725.2, 3726.5))) == "1:02:05–1:02:07"
    assert span(Evidence("x", None, None, None)) == ""


# --- JSON and CSV ---------------------------------------------------------------------------------

def test_json_round_trips(example: dict[str, Any], filed: dict[str, Any]) -> None:
    for report in (example, filed):
        out = render(report, "json")
        assert json.loads(out.decode("utf-8")) == report
        assert out == render(copy.deepcopy(report), "json")
    assert "\n " in render(example, "json").decode()  # indented


def test_csv_one_row_per_kecamatan(example: dict[str, Any], filed: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(render(example, "csv").decode("utf-8-sig"))))
    assert len(rows) == 15
    assert [r["kecamatan"] for r in rows] == NAMES
    assert list(rows[0]) == ["kecamatan", "kode", "status lapor", "jam lapor", "situasi", "kejadian",
                             "kebutuhan", "harga", "terverifikasi", "transmisi"]
    by = {r["kecamatan"]: r for r in rows}
    assert by["Tarutung"] == {"kecamatan": "Tarutung", "kode": "12.02.01", "status lapor": "tepat waktu",
                              "jam lapor": "07:05", "situasi": "Aman", "kejadian": "", "kebutuhan": "",
                              "harga": "", "terverifikasi": "tidak", "transmisi": "1"}
    assert by["Siatas Barita"]["kejadian"] == "Banjir: rumah terendam 7"
    assert by["Siatas Barita"]["transmisi"] == "3"
    assert by["Sipahutar"]["kejadian"] == "Tanah longsor"
    assert by["Muara"]["status lapor"] == "tidak lapor" and by["Muara"]["jam lapor"] == ""

    by = {r["kecamatan"]: r for r in csv.DictReader(io.StringIO(render(filed, "csv").decode("utf-8-sig")))}
    assert by["Tarutung"]["harga"] == "beras Rp 11.000/kg"
    assert by["Tarutung"]["kejadian"] == "Harga bahan pokok: beras Rp 11.000/kg"
    assert by["Siatas Barita"]["kejadian"] == "Banjir (Desa Sitampurung): rumah terendam 7"
    assert by["Siatas Barita"]["kebutuhan"] == "terpal"
    assert by["Pahae Julu"]["status lapor"] == "terlambat" and by["Pahae Julu"]["jam lapor"] == "10:42"
    assert by["Pahae Julu"]["kejadian"] == "Tanah longsor: mengungsi 12 KK"
    assert by["Pahae Julu"]["situasi"] == "Siaga"


def test_unknown_format(example: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="docx"):
        render(example, "docx")


# --- HTML ----------------------------------------------------------------------------------------

def test_html_draft(example: dict[str, Any]) -> None:
    page = render(example, "html")
    assert page == render(copy.deepcopy(example), "html")
    p = parse_html(page)
    text = " ".join(" ".join(p.text).split())
    assert "Pemerintah Kabupaten Tapanuli Utara" in text
    assert "Laporan Situasi Harian" in text and "Jumat, 20 November 2026" in text
    assert "DRAF" in text
    assert "3 dari 15 kecamatan melapor" in text
    assert "12 — Adiankoting, Sipoholon, Pahae Julu, Pahae Jae, Simangumban, Purbatua, Siborongborong, " \
           "Pagaran, Parmonangan, Pangaribuan, Garoga, Muara" in text
    for name in NAMES:
        assert name in text
    assert "7 rumah terendam" in text
    assert "«Tujuh rumah terendam» 00:05–00:07" in text  # "terendam" alone is inside it: not repeated
    assert "«terendam»" not in text
    assert "rekaman #3 mulai 07:05:23" in text
    assert "Bupati" in text
    assert p.tags.count("tr") == 1 + 15 + 2 + 1 + 2 + 6  # kecamatan table, incidents, meta, summary
    for tag in ("script", "link", "img"):
        assert tag not in p.tags  # standalone: no scripts, no external assets
    assert b"http://" not in page and b"https://" not in page


def test_html_filed(filed: dict[str, Any]) -> None:
    p = parse_html(render(filed, "html"))
    text = " ".join(" ".join(p.text).split())
    assert "Revisi 2 (laporan terlambat)" in text
    assert "Diterbitkan Jumat, 20 November 2026 pukul 12:35 WIB" in text
    assert "4 dari 15 kecamatan melapor" in text
    assert "Terlambat 1 — Pahae Julu" in text
    assert "Tidak lapor 11 — Adiankoting, Sipoholon, Pahae Jae" in text
    assert "Rp 11.000" in text and "beras Rp 11.000/kg" in text
    assert "Desa Sitampurung" in text and "12 KK mengungsi" in text
    assert "«Desa Sitampurung» 00:07–00:08" in text
    assert "«mohon bantuan terpal» 00:09–00:11" in text
    assert "alat berat («mohon alat berat») diproses Dinas PUPR" in text
    assert "Tarutung, 20 November 2026 Bupati Tapanuli Utara Ir. Contoh Nama" in text
    assert "DRAF" not in text


def test_html_colours(filed: dict[str, Any]) -> None:
    page = render(filed, "html").decode()
    assert 'style="background:#c8e6c9">Aman<' in page  # aman green
    assert 'style="background:#ffcc80">Siaga<' in page  # siaga orange
    assert page.count('<td style="background:#e0e0e0">Muara</td>') == 1  # missing: grey


def test_html_escapes_everything(filed: dict[str, Any]) -> None:
    evil = '<script>alert("x")</script>'
    st = station(filed, "Siatas Barita")
    st["station"] = evil
    for inc in (st["incidents"][0], filed["incidents"][0]):
        inc["station"] = evil
        inc["evidence"]["text"] = '"><img src=x onerror=alert(1)> & </td>'
    filed["kabupaten"] = "Tapanuli <b>Utara</b>"
    page = render(filed, "html")
    p = parse_html(page)
    assert "script" not in p.tags and "img" not in p.tags and "b" not in p.tags
    assert b"<script>" not in page and b"<img" not in page
    assert b"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page  # Jinja2's autoescape (markupsafe)
    text = "".join(p.text)
    assert evil in text  # shown to the reader as written
    assert '«"><img src=x onerror=alert(1)> & </td>»' in text


# --- PDF -----------------------------------------------------------------------------------------

def test_pdf_opens_and_reads(filed: dict[str, Any], tmp_path: Path) -> None:
    pdf = render(filed, "pdf")
    assert pdf.startswith(b"%PDF-") and pdf == render(copy.deepcopy(filed), "pdf")  # deterministic
    assert b"/CreationDate (D:20261120123500+07'00')" in pdf
    path = tmp_path / "laporan.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    flat = " ".join(text.split())
    for name in NAMES:
        assert name in text
    for words in ("PEMERINTAH KABUPATEN TAPANULI UTARA", "LAPORAN SITUASI HARIAN", "Jumat, 20 November 2026",
                  "Revisi 2 (laporan terlambat)", "4 dari 15 kecamatan melapor", "rumah terendam", "11.000",
                  "beras Rp 11.000/kg", "«Tujuh rumah terendam»", "00:05–00:07", "rekaman #3",
                  "Tindak lanjut terbuka", "Dinas PUPR", "Tarutung, 20 November 2026",
                  "Bupati Tapanuli Utara", "Ir. Contoh Nama", "Halaman 1 dari"):
        assert words in flat, words
    n = pdf_pages(path)
    assert f"Halaman {n} dari {n}" in flat


def test_same_bytes_in_another_process(filed: dict[str, Any], tmp_path: Path) -> None:
    """A filed revision re-rendered after a restart (other hash seed) gives the same files."""
    src = tmp_path / "report.json"
    src.write_text(json.dumps(filed))
    code = ("import hashlib, json, sys\nfrom gateway.report.render import render\n"
            "r = json.load(open(sys.argv[1]))\n"
            "print(' '.join(hashlib.sha256(render(r, f)).hexdigest()\n"
            "               for f in ('json', 'csv', 'html', 'pdf')))")
    here = " ".join(hashlib.sha256(render(filed, f)).hexdigest() for f in ("json", "csv", "html", "pdf"))
    for seed in ("1",):  # this process has a random seed
        out = subprocess.run([sys.executable, "-c", code, str(src)], cwd=REPO, check=True, text=True,
                             capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
        assert out == here


def test_pdf_page1_renders(example: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "laporan.pdf"
    path.write_bytes(render(example, "pdf"))
    if shutil.which("pdftoppm") is None:
        need("poppler-utils", "pdftoppm not found (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(tmp_path / "page1")], check=True, capture_output=True)
    png = (tmp_path / "page1.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert abs(width - 413) <= 1 and abs(height - 585) <= 1  # A4 portrait (210 x 297 mm) at 50 dpi
    assert 10_000 < len(png) < 1_000_000  # something is drawn, and not a bitmap of noise
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    shutil.copyfile(tmp_path / "page1.png", out / "report_page1.png")


def test_pdf_many_incidents_span_pages(filed: dict[str, Any], tmp_path: Path) -> None:
    for i in range(1, 61):
        add_incident(filed, NAMES[i % 3 if i % 3 != 2 else 11], {
            "category": "pohon_tumbang", "label": "Pohon tumbang", "place": f"Dusun {i}",
            "counts": {"rumah_rusak": i}, "evidence": ev(f"pohon tumbang nomor {i}", 2.0 + i, 3.0 + i)})
    path = tmp_path / "panjang.pdf"
    path.write_bytes(render(filed, "pdf"))
    n = pdf_pages(path)
    assert n >= 4
    flat = " ".join(pdf_text(path).split())
    assert f"Halaman {n} dari {n}" in flat
    for i in range(1, 61):  # rows are never split: each quote is whole, on one page
        assert f"«pohon tumbang nomor {i}»" in flat, i
    pages = [pdf_text(path, "-f", str(p), "-l", str(p)) for p in range(1, n + 1)]
    headed = [p for p, text in enumerate(pages[1:], 2) if "Kata yang terdengar" in text]
    assert len(headed) >= 2  # the incident table's heading is repeated on each page it runs over
    last = pages[-1]
    assert "Bupati Tapanuli Utara" in last and "Ir. Contoh Nama" in last  # the signature block is whole


def test_pdf_missing_font_is_explained(example: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(render_pdf.FONTS, "", Path("/nonexistent/DejaVuSans.ttf"))
    with pytest.raises(render_pdf.PdfError, match="apt-get install fonts-dejavu-core"):
        render(example, "pdf")
