"""The PDF as an official letter: letterhead with a logo, nomor surat, NIP; no half-empty pages; the
filed file served as stored; quiet logs.

Truth: the values put into the configuration / report (a logo drawn here with Pillow, the number of
20 November 2026 counted by hand: day 324), poppler (pdftotext, pdftoppm) reading the PDF, and the
bytes of the file on disk.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from test_report_render import EXAMPLE, add_incident, ev, make_filed, pdf_pages, pdf_text
from test_web_helpers import WIB, Web, add_tx, logged_in, make_web

from gateway.config import ConfigError, parse
from gateway.report import render_pdf
from gateway.report.filing import file_report
from gateway.report.render import render
from gateway.report.schedule import write_files
from gateway.store.db import Database

from conftest import REPO, need

ARTIFACTS = REPO / "test-artifacts"
NIP = "19700101 199003 1 001"


def _logo(path: Path) -> Path:
    im = Image.new("RGB", (120, 140), "white")
    d = ImageDraw.Draw(im)
    d.polygon([(60, 5), (115, 40), (100, 135), (20, 135), (5, 40)], fill=(20, 90, 40), outline="black")
    d.ellipse((35, 45, 85, 95), fill=(230, 190, 40))
    im.save(path)
    return path


def _letter(logo: Path | None) -> dict[str, Any]:
    return {"logo": str(logo) if logo else None, "office": "Badan Penanggulangan Bencana Daerah",
            "address": "Jl. Balige No. 1, Tarutung", "number_pattern": "{seq}/LAPSIT/{month_roman}/{year}",
            "nip": NIP}


def _emptiness(pdf: Path, prefix: Path) -> list[float]:
    """Per page: the share of the page (above the footer band) below its last inked row."""
    if shutil.which("pdftoppm") is None:
        need("poppler-utils", "pdftoppm not found (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(prefix)], check=True, capture_output=True)
    out = []
    for png in sorted(prefix.parent.glob(prefix.name + "-*.png")):
        im = Image.open(png).convert("L")
        w, h = im.size
        body = int(h * 0.93)  # the footer line sits in the bottom 7 %
        px = im.load()
        last = max((y for y in range(body) if any(px[x, y] < 200 for x in range(0, w, 2))), default=0)
        out.append(1 - last / body)
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(png, ARTIFACTS / png.name)
    return out


def test_letterhead_number_nip_and_logo(tmp_path: Path) -> None:
    report = make_filed(json.loads(EXAMPLE.read_text()))
    report["letter"] = _letter(_logo(tmp_path / "logo.png"))
    path = tmp_path / "surat.pdf"
    data = render(report, "pdf")
    path.write_bytes(data)
    flat = " ".join(pdf_text(path).split())
    for words in ("PEMERINTAH KABUPATEN TAPANULI UTARA", "BADAN PENANGGULANGAN BENCANA DAERAH",
                  "Jl. Balige No. 1, Tarutung", "Nomor: 324/LAPSIT/XI/2026", f"NIP. {NIP}",
                  "Tarutung, 20 November 2026", "Ir. Contoh Nama"):
        assert words in flat, words
    assert b"/Subtype /Image" in data  # the logo is drawn
    pages = _emptiness(path, tmp_path / "report_letter")
    assert len(pages) == pdf_pages(path) == 2
    assert all(e <= 0.7 for e in pages[:-1]), pages


def test_no_half_empty_page_when_the_signature_would_go_over(tmp_path: Path) -> None:
    """Incidents are added until the normal layout pushes the last rows and the signature block onto
    an almost empty page; the PDF is then laid out tighter, one page shorter, none mostly empty."""
    from gateway.report.document import Report
    from gateway.report.render import view

    report = make_filed(json.loads(EXAMPLE.read_text()))
    report["letter"] = _letter(None)
    for i in range(40):
        add_incident(report, ("Tarutung", "Siatas Barita", "Sipahutar")[i % 3], {
            "category": "pohon_tumbang", "label": "Pohon tumbang", "place": f"Dusun {i}",
            "counts": {"rumah_rusak": i + 1}, "evidence": ev(f"pohon tumbang nomor {i}", 2.0 + i, 3.0 + i)})
        typed = Report.from_json(report)
        _, normal_pages, fill = render_pdf._render(typed, view(typed), 1.0)
        if normal_pages > 1 and fill < render_pdf.MIN_LAST_FILL:
            break
    else:
        pytest.fail("no layout with an almost empty last page found")
    path = tmp_path / "padat.pdf"
    path.write_bytes(render(report, "pdf"))
    pages = _emptiness(path, tmp_path / "report_dense")
    assert len(pages) == normal_pages - 1, pages
    assert all(e <= 0.7 for e in pages[:-1]), pages
    flat = " ".join(pdf_text(path).split())
    assert "Ir. Contoh Nama" in flat and f"«pohon tumbang nomor {i}»" in flat


def test_letter_config_checked_at_start(tmp_path: Path) -> None:
    cfg_path = tmp_path / "gateway.toml"
    (tmp_path / "logo.png").write_bytes(b"not an image")
    cases = {
        'logo = "missing.png"': "report.letter.logo = 'missing.png': cannot read",
        'logo = "logo.png"': "is not a PNG or JPEG image",
        'number_pattern = "{seq}/{bulan}"': "report.letter.number_pattern",
    }
    for line, message in cases.items():
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")) as e:
            parse(f"[report.letter]\n{line}\n", str(cfg_path))
        assert "\n" not in str(e.value)
    _logo(tmp_path / "logo.png")
    cfg = parse('[report.letter]\nlogo = "logo.png"\nsignatory_nip = "1"\n', str(cfg_path))
    assert cfg.report.letter.logo == "logo.png" and cfg.resolve_path("logo.png") == tmp_path / "logo.png"


def test_fonttools_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    report = json.loads(EXAMPLE.read_text())
    with caplog.at_level(logging.DEBUG):
        render(report, "pdf")
    noisy = [r for r in caplog.records if r.name.startswith("fontTools") and r.levelno >= logging.INFO]
    assert noisy == []


@pytest.fixture
def web(sqlite_db: Database, tmp_path: Path, example_config: Any) -> Web:
    return make_web(sqlite_db, tmp_path, example_config)


def test_web_serves_the_filed_pdf_byte_identical(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    add_tx(web, datetime(2026, 11, 20, 7, 30, tzinfo=WIB), "Sipoholon")
    rev = file_report(web.db, web.cfg, datetime(2026, 11, 20).date(), datetime(2026, 11, 20, 12, tzinfo=WIB))
    assert rev is not None
    pdf = next(p for p in write_files(web.data_dir, rev) if p.suffix == ".pdf")
    on_disk = pdf.read_bytes()
    client = logged_in(web, "vivi")
    import gateway.report.render as render_mod

    def no_render(*_: Any) -> bytes:
        raise AssertionError("rendered again")

    monkeypatch.setattr(render_mod, "render", no_render)
    r = client.get("/reports/2026-11-20/1.pdf")
    assert r.status_code == 200 and r.content == on_disk  # served from the file, not rendered
    monkeypatch.undo()
    # an altered file is not served: the revision is rendered from the database instead
    pdf.write_bytes(on_disk.replace(b"revisi:1", b"revisi:9"))
    again = client.get("/reports/2026-11-20/1.pdf")
    assert again.status_code == 200 and again.content == on_disk
    pdf.unlink()  # missing: rendered
    assert client.get("/reports/2026-11-20/1.pdf").content == on_disk


def test_deterministic_with_the_letter(tmp_path: Path) -> None:
    report = make_filed(json.loads(EXAMPLE.read_text()))
    report["letter"] = _letter(_logo(tmp_path / "logo.png"))
    assert render(report, "pdf") == render(copy.deepcopy(report), "pdf")
    assert render_pdf.filed_pdf_ok(render(report, "pdf"), report)
