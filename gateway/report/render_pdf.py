"""The daily situation report as a printable A4 PDF (fpdf2, DejaVu Sans), same content as the HTML.

Everything shown comes from :func:`gateway.report.view.view`. The PDF's creation date is the
report's filing (else generation) time, so the same report always gives the same bytes. Tables
repeat their heading row on every page and never split a row across pages; the signature block is
kept whole. The fonts are Debian's fonts-dejavu-core (Unicode, so «» and – print as such).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from gateway.report.document import Letter, Report, as_report
from gateway.report.letter import number as letter_number
from gateway.report.view import (
    EVIDENCE_NOTE,
    MISSING_COLOUR,
    SECTIONS,
    SITUATION_COLOURS,
    STATION_HEADER,
    TITLE,
    Row,
    View,
)

log = logging.getLogger(__name__)
# fontTools logs every table it subsets at INFO (some 75 lines per PDF): not news for an operator
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
HEAD_FILL = (221, 227, 234)
#: Relative column widths (the tables span the page width between the margins).
STATION_COLS = (7, 25, 15, 11, 20.5, 15, 32, 20.5, 18, 18)
COLS = {"incidents": (7, 22, 25, 24, 30, 48, 26), "needs": (7, 30, 25, 94, 26),
        "followups": (7, 26, 25, 80, 18, 26)}


class PdfError(RuntimeError):
    """The PDF cannot be made (a font is missing)."""


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


class _Doc(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.space = 1.0  # vertical spacing factor (0.8: the tighter layout)

    def footer(self) -> None:
        self.set_y(-12)
        size = 7.5
        self.set_font(FAMILY, "", size)
        while self.get_string_width(self.footer_text) > self.epw - 30 and size > 5:  # long names
            size -= 0.5
            self.set_font(FAMILY, "", size)
        self.set_text_color(90, 90, 90)
        self.cell(self.epw - 28, 5, self.footer_text, align="L")
        self.set_font(FAMILY, "", 7.5)
        self.cell(0, 5, f"Halaman {self.page_no()} dari {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def stamp_keywords(report: Report | Mapping[str, Any]) -> str:
    """The PDF's Keywords: the content hash and revision, so a stored file can be matched to its row."""
    r = as_report(report)
    return f"sha256:{r.content_sha256 or '-'} revisi:{r.revision or 'draf'}"


def filed_pdf_ok(data: bytes, report: Report | Mapping[str, Any]) -> bool:
    """Whether ``data`` is a PDF rendered from ``report`` (its Keywords carry the same hash and revision)."""
    return data.startswith(b"%PDF-") and f"/Keywords ({stamp_keywords(report)})".encode() in data


def _fonts(pdf: FPDF) -> None:
    for style, path in FONTS.items():
        if not path.is_file():
            raise PdfError(f"font {path} not found: the PDF report needs DejaVu Sans "
                           "(apt-get install fonts-dejavu-core)")
        pdf.add_font(FAMILY, style, str(path))


def _stamp(report: Report) -> datetime:
    return datetime.fromisoformat(report.filed_at or report.generated_at or f"{report.date}T00:00:00+00:00")


#: A last page filled less than this (from the top margin) is "half empty": the document is laid out
#: again more tightly, and the tighter one kept if it has fewer pages.
MIN_LAST_FILL = 0.3


def render_pdf(report: Report, v: View) -> bytes:
    """The report as PDF bytes; ``v`` is its :func:`gateway.report.view.view`.

    Laid out at normal spacing first; when that leaves a mostly empty last page after a full one
    (a table row or the signature block pushed over), laid out again tighter, and the version with
    fewer pages kept (the same choice every time: the bytes stay deterministic)."""
    out, pages, fill = _render(report, v, 1.0)
    if pages > 1 and fill < MIN_LAST_FILL:
        tight, tight_pages, _ = _render(report, v, 0.8)
        if tight_pages < pages:
            out, pages = tight, tight_pages
    log.debug("report %s rendered as PDF: %d pages, %d bytes", report.date, pages, len(out))
    return out


def _render(report: Report, v: View, space: float) -> tuple[bytes, int, float]:
    pdf = _Doc(v.footer)
    pdf.space = space
    _fonts(pdf)
    pdf.set_creation_date(_stamp(report))
    pdf.set_title(f"{TITLE} Kabupaten {v.kabupaten} — {v.date_long}")
    pdf.set_subject(v.revision)
    pdf.set_keywords(stamp_keywords(report))  # which revision these bytes are: see filed_pdf_ok
    pdf.set_author(f"Pemerintah Kabupaten {v.kabupaten}")
    pdf.set_creator("ht-gateway")
    pdf.set_lang("id")
    pdf.set_margins(14, 12, 14)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    letter = report.letter
    _letterhead(pdf, v, letter)
    _header(pdf, v, letter_number(letter.number_pattern or "", date.fromisoformat(report.date),
                                  report.revision))
    _summary(pdf, v)
    _heading(pdf, "Rekap per kecamatan")
    _stations(pdf, v)
    for title, head, key, empty in SECTIONS:
        _heading(pdf, title)
        rows: list[Row] = getattr(v, key)
        if rows:
            _table(pdf, head, COLS[key], rows)
        _note(pdf, EVIDENCE_NOTE if rows and key == "incidents" else "" if rows else empty)
    _signature(pdf, v, letter.nip or "")
    fill = (pdf.get_y() - pdf.t_margin) / (pdf.page_break_trigger - pdf.t_margin)
    return bytes(pdf.output()), pdf.page_no(), fill


def _letterhead(pdf: FPDF, v: View, letter: Letter) -> None:
    """Logo at the left, the government and office centred, the address, a double rule."""
    top = pdf.get_y()
    logo = letter.logo
    size = 22.0
    if logo:
        try:
            pdf.image(logo, x=pdf.l_margin, y=top, h=size, keep_aspect_ratio=True)
        except (OSError, ValueError, RuntimeError) as e:  # the file went away since the config was read
            log.warning("report: letterhead logo %s not drawn: %s", logo, e)
    pdf.set_xy(pdf.l_margin, top + (1 if logo else 0))
    pdf.set_font(FAMILY, "B", 14)
    pdf.cell(0, 7, f"Pemerintah Kabupaten {v.kabupaten}".upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    if letter.office:
        pdf.set_font(FAMILY, "B", 12)
        pdf.cell(0, 6, str(letter.office).upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    if letter.address:
        pdf.set_font(FAMILY, "", 9)
        pdf.cell(0, 5, str(letter.address), align="C", new_x="LMARGIN", new_y="NEXT")
    y = max(pdf.get_y() + 1.5, top + size + 1.5) if logo else pdf.get_y() + 1.5
    pdf.set_line_width(0.9)
    pdf.line(pdf.l_margin, y, pdf.l_margin + pdf.epw, y)
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, y + 1.2, pdf.l_margin + pdf.epw, y + 1.2)
    pdf.set_line_width(0.2)
    pdf.set_y(y + 3)

def _header(pdf: FPDF, v: View, number: str) -> None:
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(0, 7, TITLE.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    if number:
        pdf.set_font(FAMILY, "", 10.5)
        pdf.cell(0, 5.5, f"Nomor: {number}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 11.5)
    pdf.cell(0, 6, v.date_long, align="C", new_x="LMARGIN", new_y="NEXT")
    if v.draft:
        pdf.ln(1)
        pdf.set_font(FAMILY, "B", 10)
        pdf.set_text_color(176, 0, 32)
        pdf.set_draw_color(176, 0, 32)
        w = pdf.get_string_width("DRAF — belum diterbitkan") + 8
        pdf.set_x(pdf.l_margin + (pdf.epw - w) / 2)
        pdf.cell(w, 6, "DRAF — belum diterbitkan", border=1, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
    pdf.ln(1.5)
    label_w = 24
    pdf.set_font(FAMILY, "", 9)
    widest = max(pdf.get_string_width(x) for _, x in v.meta)
    x0 = pdf.l_margin + max(0.0, (pdf.epw - label_w - widest) / 2)
    for label, text in v.meta:
        pdf.set_x(x0)
        pdf.set_font(FAMILY, "B", 9)
        pdf.cell(label_w, 4.6, label)
        pdf.set_font(FAMILY, "", 9)
        pdf.multi_cell(0, 4.6, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.set_line_width(0.2)
    pdf.ln(2)


def _heading(pdf: _Doc, text: str) -> None:
    if pdf.get_y() + 30 > pdf.page_break_trigger:  # a heading never ends a page alone
        pdf.add_page()
    pdf.ln(2.5 * pdf.space)
    pdf.set_font(FAMILY, "B", 11.5)
    pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(140, 140, 140)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(1.5)


def _note(pdf: FPDF, text: str) -> None:
    if not text:
        return
    pdf.set_font(FAMILY, "", 8)
    pdf.set_text_color(70, 70, 70)
    pdf.multi_cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def _summary(pdf: _Doc, v: View) -> None:
    _heading(pdf, "Ringkasan")
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(0, 7, v.headline, new_x="LMARGIN", new_y="NEXT")
    for label, text in v.summary:
        pdf.set_font(FAMILY, "B", 9.5)
        pdf.cell(28, 5, label)
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")


def _table(pdf: _Doc, head: tuple[str, ...], widths: tuple[float, ...], rows: list[Row],
           fills: list[list[str | None]] | None = None) -> None:
    pdf.set_font(FAMILY, "", 8)
    pdf.set_draw_color(110, 110, 110)
    heading = FontFace(family=FAMILY, emphasis="BOLD", fill_color=HEAD_FILL)
    with pdf.table(col_widths=widths, line_height=3.9 if pdf.space >= 1 else 3.5,
                   padding=(0.9 * pdf.space, 1.1), text_align="LEFT",
                   v_align="TOP", headings_style=heading, repeat_headings=1) as table:
        hr = table.row()
        for h in head:
            hr.cell(h)
        for n, cells in enumerate(rows):
            row = table.row()
            for k, text in enumerate(cells):
                fill = fills[n][k] if fills else None
                row.cell(text, style=FontFace(fill_color=_rgb(fill)) if fill else None)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(1.5)


def _stations(pdf: _Doc, v: View) -> None:
    _table(pdf, STATION_HEADER, STATION_COLS, v.stations, v.fills)
    pdf.set_font(FAMILY, "", 8)
    pdf.cell(pdf.get_string_width("Situasi: ") + 1, 4, "Situasi: ")
    for label, colour in [*((k.capitalize(), c) for k, c in SITUATION_COLOURS.items()),
                          ("Tidak lapor", MISSING_COLOUR)]:
        pdf.set_fill_color(*_rgb(colour))
        pdf.cell(4, 3.2, "", border=1, fill=True)
        pdf.cell(pdf.get_string_width(label) + 5, 4, f" {label}")
    pdf.set_fill_color(255, 255, 255)
    pdf.ln(5)


def _signature(pdf: _Doc, v: View, nip: str) -> None:
    place_date, title, name = v.signature
    if pdf.get_y() + 48 * pdf.space + (5 if nip else 0) > pdf.page_break_trigger:  # never split
        pdf.add_page()
    pdf.ln(8 * pdf.space)
    w = pdf.epw * 0.45
    x = pdf.l_margin + pdf.epw - w
    for text, style in ((place_date, ""), (title, "B")):
        pdf.set_x(x)
        pdf.set_font(FAMILY, style, 10.5)
        pdf.cell(w, 6, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(24 * pdf.space)  # room to sign
    pdf.set_x(x)
    pdf.set_font(FAMILY, "B" if name else "", 10.5)
    pdf.cell(w, 6, name or "(" + "." * 45 + ")", align="C", new_x="LMARGIN", new_y="NEXT")
    if name:
        nw = pdf.get_string_width(name)
        pdf.line(x + (w - nw) / 2, pdf.get_y() - 0.8, x + (w + nw) / 2, pdf.get_y() - 0.8)
    if nip:
        pdf.set_x(x)
        pdf.set_font(FAMILY, "", 10)
        pdf.cell(w, 5, f"NIP. {nip}", align="C", new_x="LMARGIN", new_y="NEXT")
