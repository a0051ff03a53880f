"""The daily situation report (a :class:`~gateway.report.document.Report`) as JSON, CSV, HTML or PDF.

``render(report, fmt)`` is a pure function of the report: the same report gives the same bytes (the
PDF's creation date is the report's own filing or generation time). A stored revision's JSON is
accepted too and read with :meth:`Report.from_json` first. JSON is :meth:`Report.to_json`; HTML is
the Jinja2 template gateway/report/templates/report.html (autoescaped) and PDF
gateway/report/render_pdf.py, both from the same :func:`gateway.report.view.view`.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from gateway.report.document import Report, as_report
from gateway.report.review import UNVERIFIED_NOTE, mark, percent
from gateway.report.view import (  # re-exported: the text helpers' old home
    EVIDENCE_NOTE,
    MISSING_COLOUR,
    SECTIONS,
    SITUATION_COLOURS,
    STATION_HEADER,
    TITLE,
    View,
    date_text,
    hhmm,
    incident_text,
    price_text,
    span,
    view,
)
from gateway.timeutil import DAYS, MONTHS

__all__ = ["DAYS", "MONTHS", "View", "date_text", "incident_text", "render", "render_csv", "render_html",
           "span", "view"]

CSV_HEADER = ("kecamatan", "kode", "status lapor", "jam lapor", "situasi", "kejadian", "kebutuhan", "harga",
              "terverifikasi", "transmisi")
TEMPLATES = Path(__file__).resolve().parent / "templates"


def render(report: Report | Mapping[str, Any], fmt: str) -> bytes:
    """The report as ``fmt`` ("json", "csv", "html" or "pdf"), as bytes."""
    if fmt not in ("json", "csv", "html", "pdf"):
        raise ValueError(f"unknown report format {fmt!r}: expected json, csv, html or pdf")
    r = as_report(report)
    if fmt == "json":
        return (json.dumps(r.to_json(), ensure_ascii=False, indent=1) + "\n").encode()
    if fmt == "csv":
        return render_csv(r)
    if fmt == "html":
        return render_html(r)
    from gateway.report.render_pdf import render_pdf

    return render_pdf(r, view(r))


def render_csv(report: Report) -> bytes:
    """One row per kecamatan, UTF-8 with a byte-order mark (spreadsheets then read it as UTF-8);
    text that a spreadsheet would run as a formula is neutralised (:func:`gateway.export.csv_cell`)."""
    from gateway.export import csv_cell  # here: rendering must not import the database layer
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for st in report.stations:
        w.writerow(csv_cell(c) for c in [
            st.station, st.code or "", st.checkin_label or "", hhmm(st.first_report),
            st.situation_label if st.situation else "",
            "; ".join(incident_text(i, csv_style=True) for i in st.incidents),
            "; ".join(mark(n, n.item) for n in st.needs),
            "; ".join(price_text(p) for p in st.prices),
            "ya" if st.verified else "tidak",
            " ".join(str(t.transmission_id) for t in st.transmissions),
        ])
    return buf.getvalue().encode("utf-8-sig")


def _lines(text: str) -> Markup:
    """A cell's text, escaped, its lines separated by <br>."""
    return Markup("<br>").join(escape(text).split("\n"))


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["lines"] = _lines
    env.filters["percent"] = percent
    return env.get_template("report.html")


def html_page(v: View) -> str:
    """The standalone, printable page (inline CSS, every text escaped)."""
    legend = [*((k.capitalize(), c) for k, c in SITUATION_COLOURS.items()), ("Tidak lapor", MISSING_COLOUR)]
    return _template().render(v=v, title=TITLE, station_header=STATION_HEADER, sections=SECTIONS,
                              legend=legend, unverified_note=UNVERIFIED_NOTE, evidence_note=EVIDENCE_NOTE)


def render_html(report: Report | Mapping[str, Any]) -> bytes:
    return html_page(view(as_report(report))).encode()
