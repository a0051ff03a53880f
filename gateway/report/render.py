"""The daily situation report dict (gateway.report.build) as JSON, CSV, HTML or PDF.

``render(report, fmt)`` is a pure function of the dict: the same dict gives the same bytes (the
PDF's creation date is the report's own filing or generation time). All text the reader sees is
Indonesian; day and month names are written here, never taken from the system locale.

HTML and PDF show the same content, prepared once by :func:`view`: header, summary, one row per
kecamatan, the incidents with the words they were read from (time span in the recording, and the
transmission), the needs, the open follow-ups and the signature block.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from html import escape as esc
from typing import Any

from gateway.report.review import UNVERIFIED_NOTE, mark, review_section
from gateway.timeutil import DAYS, MONTHS

log = logging.getLogger(__name__)

REASON_ID = {"scheduled": "terjadwal", "late_report": "laporan terlambat", "correction": "koreksi"}
ZONE_ID = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
#: Background colours (light, so black text stays readable on paper): situation and missing rows.
SITUATION_COLOURS = {"aman": "#c8e6c9", "waspada": "#fff59d", "siaga": "#ffcc80", "awas": "#ef9a9a"}
MISSING_COLOUR = "#e0e0e0"
#: Count key -> (unit said before the noun, noun): "7 rumah terendam", "2 orang meninggal".
COUNT_ID = {
    "meninggal": ("orang", "meninggal"), "hilang": ("orang", "hilang"), "luka": ("orang", "luka"),
    "luka_berat": ("orang", "luka berat"), "luka_ringan": ("orang", "luka ringan"),
    "dirawat": ("orang", "dirawat"), "mengungsi": ("orang", "mengungsi"),
    "mengungsi_kk": ("KK", "mengungsi"), "mengungsi_jiwa": ("jiwa", "mengungsi"),
    "ternak_mati": ("ekor", "ternak mati"),
}
_PRICE_KEY = re.compile(r"harga_(.+)_rp_per_kg")
_PLACE_WORDS = {"desa", "dusun", "kelurahan", "kampung"}
CSV_HEADER = ("kecamatan", "kode", "status lapor", "jam lapor", "situasi", "kejadian", "kebutuhan", "harga",
              "terverifikasi", "transmisi")


# --- words, numbers, dates ---------------------------------------------------------------------

def thousands(n: int) -> str:
    """11000 -> "11.000" (Indonesian digit grouping)."""
    return f"{n:,}".replace(",", ".")


def date_text(d: date, weekday: bool = False) -> str:
    """"20 November 2026"; with ``weekday`` "Jumat, 20 November 2026"."""
    return (f"{DAYS[d.weekday()]}, " if weekday else "") + f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _ts(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def hhmm(iso: str | None) -> str:
    t = _ts(iso)
    return t.strftime("%H:%M") if t else ""


def zone(report: dict[str, Any]) -> str:
    return ZONE_ID.get(report.get("timezone") or "", report.get("timezone") or "")


def when(iso: str | None, report: dict[str, Any]) -> str:
    """"Jumat, 20 November 2026 pukul 12:00 WIB" ("-" when not set)."""
    t = _ts(iso)
    return f"{date_text(t.date(), True)} pukul {t:%H:%M} {zone(report)}".rstrip() if t else "-"


def span(ev: dict[str, Any]) -> str:
    """The words' time span in the recording, "00:05–00:07" (start rounded down, end up)."""
    def clock(s: int) -> str:
        return (f"{s // 3600}:" if s >= 3600 else "") + f"{s % 3600 // 60:02d}:{s % 60:02d}"

    start, end = ev.get("start"), ev.get("end")
    if start is None:
        return ""
    lo, hi = max(0, math.floor(start)), max(0, math.ceil(end if end is not None else start))
    return clock(lo) if hi <= lo else f"{clock(lo)}–{clock(hi)}"


def count_text(key: str, n: int, csv_style: bool = False) -> str:
    """("rumah_terendam", 7) -> "7 rumah terendam" (CSV: "rumah terendam 7"); prices "beras Rp 11.000/kg"."""
    m = _PRICE_KEY.fullmatch(key)
    if m:
        return f"{m.group(1).replace('_', ' ')} Rp {thousands(n)}/kg"
    unit, noun = COUNT_ID.get(key, ("", key.replace("_", " ")))
    if csv_style:
        return f"{noun} {thousands(n)} {unit}".strip()
    return " ".join(filter(None, (thousands(n), unit, noun)))


def place_text(inc: dict[str, Any]) -> str:
    """The place, with the word said before it when it was desa/dusun/kelurahan ("Desa Sitampurung")."""
    place = inc.get("place") or ""
    said = ((inc.get("place_evidence") or {}).get("text") or "").split()
    if place and said and said[0].lower() in _PLACE_WORDS and not place.lower().startswith(said[0].lower()):
        return f"{said[0].capitalize()} {place}"
    return place


def incident_label(inc: dict[str, Any]) -> str:
    label = inc.get("label") or inc.get("category") or "-"
    return mark(inc, label[:1].upper() + label[1:])  # "*": no operator verified it


def incident_text(inc: dict[str, Any], csv_style: bool = False) -> str:
    """"Banjir (Desa X): 7 rumah terendam" (CSV: "...: rumah terendam 7"); "Tanah longsor"."""
    text = incident_label(inc) + (f" ({place_text(inc)})" if place_text(inc) else "")
    counts = [count_text(k, v, csv_style) for k, v in (inc.get("counts") or {}).items()]
    return f"{text}: {', '.join(counts)}" if counts else text


def price_text(p: dict[str, Any]) -> str:
    return mark(p, f"{p['commodity']} Rp {thousands(int(p['rupiah_per_kg']))}/kg")


def evidence(inc: dict[str, Any]) -> list[str]:
    """The words an incident was read from, quoted with their time span, in spoken order; words lying
    inside a longer quoted phrase are not repeated ("terendam" inside "Tujuh rumah terendam")."""
    evs = [e for e in (inc.get("evidence"), inc.get("place_evidence"), *(inc.get("count_evidence") or {})
                       .values()) if e and e.get("text")]

    def inside(a: dict[str, Any], b: dict[str, Any]) -> bool:
        if len(a["text"]) >= len(b["text"]):
            return False
        if a.get("start") is None or b.get("start") is None:
            return a["text"].lower() in b["text"].lower()
        return bool(b["start"] <= a["start"] and (a.get("end") or a["start"]) <= (b.get("end") or b["start"]))

    out: list[str] = []
    for e in sorted(evs, key=lambda e: (e.get("start") is None, e.get("start") or 0)):
        if not any(inside(e, o) for o in evs) and quote(e) not in out:
            out.append(quote(e))
    return out


def quote(ev: dict[str, Any]) -> str:
    """«Tujuh rumah terendam» 00:05–00:07"""
    return f"«{ev.get('text') or ''}» {span(ev)}".rstrip()


def audio_ref(item: dict[str, Any]) -> str:
    """"rekaman #3\nmulai 07:05:23" (the transmission an item was read from)."""
    t = _ts(item.get("start"))
    return f"rekaman #{item.get('transmission_id')}" + (f"\nmulai {t:%H:%M:%S}" if t else "")


def revision_text(report: dict[str, Any]) -> str:
    """"Revisi 2 (laporan terlambat)"; a report not filed yet is a draft."""
    if report.get("revision") is None:
        return "DRAF (belum diterbitkan)"
    reason = report.get("reason")
    return f"Revisi {report['revision']}" + (f" ({REASON_ID.get(reason, reason)})" if reason else "")


# --- the view HTML and PDF share ----------------------------------------------------------------

TITLE = "Laporan Situasi Harian"
STATION_HEADER = ("No", "Kecamatan", "Kode", "Jam lapor", "Status lapor", "Situasi", "Kejadian", "Kebutuhan",
                  "Harga", "Verifikasi")
INCIDENT_HEADER = ("No", "Kejadian", "Kecamatan", "Tempat", "Jumlah", "Kata yang terdengar", "Rekaman")
NEED_HEADER = ("No", "Kebutuhan", "Kecamatan", "Ucapan", "Rekaman")
FOLLOWUP_HEADER = ("No", "Sejak", "Kecamatan", "Kebutuhan", "Status", "OPD")
#: The listed sections after the kecamatan table: title, header, View field, text when empty.
SECTIONS = (("Daftar kejadian", INCIDENT_HEADER, "incidents", "Tidak ada kejadian yang dilaporkan."),
            ("Kebutuhan yang disampaikan", NEED_HEADER, "needs", "Tidak ada kebutuhan yang disampaikan."),
            ("Tindak lanjut terbuka", FOLLOWUP_HEADER, "followups", "Tidak ada tindak lanjut terbuka."))
EVIDENCE_NOTE = ("Kata yang terdengar: kutipan hasil pengenalan suara, dengan posisinya (menit:detik) "
                 "dalam rekaman. " + UNVERIFIED_NOTE)
CELL_INCIDENTS = 4  # listed in a kecamatan's row; all are in the incident list
Row = list[str]  # one table row, cells in header order; "\n" separates lines inside a cell


@dataclass(frozen=True)
class View:
    """Everything HTML and PDF show, as text, in reading order."""

    kabupaten: str
    date_long: str  # "Jumat, 20 November 2026"
    meta: list[tuple[str, str]]  # period, generated, filed, revision
    revision: str
    draft: bool
    headline: str  # "3 dari 15 kecamatan melapor"
    summary: list[tuple[str, str]]
    stations: list[Row]
    fills: list[list[str | None]]  # background of each station cell: situation colour, grey if missing
    incidents: list[Row]
    needs: list[Row]
    followups: list[Row]
    signature: tuple[str, str, str]  # "place, date", title, name
    review: list[dict[str, Any]]  # the "perlu diperiksa" queue (shown on drafts)
    footer: str  # with the start of the content hash, so a printout can be matched to its revision


def view(report: dict[str, Any]) -> View:
    day = date.fromisoformat(report["date"])
    s, win, sig = report["summary"], report.get("checkin_windows") or {}, report.get("signature") or {}
    stamp = _ts(report.get("filed_at") or report.get("generated_at"))
    meta = [("Periode", _period(report)), ("Dibuat", when(report.get("generated_at"), report))]
    if report.get("revision") is not None:
        meta += [("Diterbitkan", when(report.get("filed_at"), report)), ("Status", revision_text(report))]
    levels = Counter(st.get("situation") for st in report["stations"])
    summary = [
        *((k, f"{len(names)} — {', '.join(names)}" if names else "0") for k, names in (
            ("Tepat waktu", s["on_time"]), ("Terlambat", s["late"]), ("Tidak lapor", s["missing"]))),
        ("Kejadian", f"{s['incidents']} kejadian dilaporkan"),
        ("Situasi", ", ".join(f"{k.capitalize()} {levels[k]} kecamatan" for k in SITUATION_COLOURS
                              if levels[k]) or "tidak disebutkan"),
        ("Batas lapor", f"tepat waktu s.d. {win.get('on_time_until', '-')}, "
                        f"terlambat s.d. {win.get('late_until', '-')} {zone(report)}".rstrip()),
    ]
    fills = []
    for st in report["stations"]:
        base = MISSING_COLOUR if st.get("checkin") == "missing" else None
        fills.append([base] * 5 + [SITUATION_COLOURS.get(st.get("situation") or "", base)] + [base] * 4)
    refs = {t["transmission_id"]: t for st in report["stations"] for t in st.get("transmissions") or []}
    return View(
        kabupaten=report["kabupaten"], date_long=date_text(day, True), meta=meta,
        draft=report.get("revision") is None, revision=revision_text(report),
        headline=f"{s['reported']} dari {s['total']} kecamatan melapor",
        summary=summary, stations=[_station_row(i, st) for i, st in enumerate(report["stations"], 1)],
        fills=fills, incidents=[_incident_row(i, x) for i, x in enumerate(report.get("incidents") or [], 1)],
        needs=[_need_row(i, n, refs) for i, n in enumerate(report.get("needs") or [], 1)],
        followups=[_followup_row(i, f) for i, f in enumerate(report.get("followups") or [], 1)],
        review=list(report.get("review") or []),
        signature=(f"{sig.get('place') or '.' * 20}, {date_text(stamp.date() if stamp else day)}",
                   sig.get("title") or "", sig.get("name") or ""),
        footer=f"{TITLE} Kab. {report['kabupaten']} · {date_text(day)} · {revision_text(report)}"
        + (f" · sidik isi {report['content_sha256'][:16]}" if report.get("content_sha256") else ""))


def _period(report: dict[str, Any]) -> str:
    period = report.get("period") or {}
    lo, hi = _ts(period.get("start")), _ts(period.get("end"))
    if not lo or not hi:
        return "-"
    return f"{date_text(lo.date())} {lo:%H:%M} s.d. {date_text(hi.date())} {hi:%H:%M} {zone(report)}".rstrip()


def _station_row(no: int, st: dict[str, Any]) -> Row:
    label = st.get("checkin_label") or st.get("checkin") or ""
    late = re.fullmatch(r"reported after (\d\d:\d\d)", st.get("note") or "")
    label += f" (melapor setelah {late.group(1)})" if late else f" ({st['note']})" if st.get("note") else ""
    verified = ("ya" if st.get("verified") else "tidak") if st.get("transmissions") else "-"
    incidents = [incident_text(i) for i in st.get("incidents") or []]
    if len(incidents) > CELL_INCIDENTS:
        incidents[CELL_INCIDENTS - 1:] = [f"… dan {len(incidents) - CELL_INCIDENTS + 1} kejadian lain"]
    return [str(no), st["station"], st.get("code") or "", hhmm(st.get("first_report")) or "-", label,
            st.get("situation_label") or "-",
            "\n".join(incidents) or "-",
            "\n".join(mark(n, n["item"]) for n in st.get("needs") or []) or "-",
            "\n".join(price_text(p) for p in st.get("prices") or []) or "-", verified]


def _incident_row(no: int, inc: dict[str, Any]) -> Row:
    amounts = ", ".join(count_text(k, n) for k, n in (inc.get("counts") or {}).items())
    quotes = "\n".join(evidence(inc))
    return [str(no), incident_label(inc), inc.get("station") or "", place_text(inc) or "-", amounts or "-",
            quotes or "-", audio_ref(inc)]


def _need_row(no: int, need: dict[str, Any], refs: dict[int, dict[str, Any]]) -> Row:
    ev = need.get("evidence") or {}
    tx_id = need.get("transmission_id")
    missing = {"transmission_id": tx_id}
    ref = refs.get(tx_id, missing) if tx_id is not None else missing
    quoted = quote({**ev, "text": ev.get("text") or need.get("phrase") or ""})
    return [str(no), mark(need, need["item"]), need.get("station") or "", quoted, audio_ref(ref)]


def _followup_row(no: int, f: dict[str, Any]) -> Row:
    since = date_text(date.fromisoformat(f["day"])) if f.get("day") else "-"
    what = f.get("item") or ""
    if f.get("phrase") and f["phrase"] != what:
        what += f" («{f['phrase']}»)"
    return [str(no), since, f.get("station") or "", what, f.get("status") or "",
            f.get("opd") or "belum ditunjuk"]


# --- formats -----------------------------------------------------------------------------------

def render(report: dict[str, Any], fmt: str) -> bytes:
    """The report as ``fmt`` ("json", "csv", "html" or "pdf"), as bytes."""
    if fmt == "json":
        return (json.dumps(report, ensure_ascii=False, indent=1) + "\n").encode()
    if fmt == "csv":
        return render_csv(report)
    if fmt == "html":
        return render_html(report)
    if fmt == "pdf":
        from gateway.report.render_pdf import render_pdf

        return render_pdf(report, view(report))
    raise ValueError(f"unknown report format {fmt!r}: expected json, csv, html or pdf")


def render_csv(report: dict[str, Any]) -> bytes:
    """One row per kecamatan, UTF-8 with a byte-order mark (spreadsheets then read it as UTF-8);
    text that a spreadsheet would run as a formula is neutralised (:func:`gateway.export.csv_cell`)."""
    from gateway.export import csv_cell  # here: rendering must not import the database layer
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for st in report["stations"]:
        w.writerow(csv_cell(c) for c in [
            st["station"], st.get("code") or "", st.get("checkin_label") or "", hhmm(st.get("first_report")),
            st.get("situation_label") if st.get("situation") else "",
            "; ".join(incident_text(i, csv_style=True) for i in st.get("incidents") or []),
            "; ".join(mark(n, n["item"]) for n in st.get("needs") or []),
            "; ".join(price_text(p) for p in st.get("prices") or []),
            "ya" if st.get("verified") else "tidak",
            " ".join(str(t["transmission_id"]) for t in st.get("transmissions") or []),
        ])
    return buf.getvalue().encode("utf-8-sig")


# --- HTML --------------------------------------------------------------------------------------

CSS = """
@page { size: A4 portrait; margin: 14mm 12mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #111; line-height: 1.35;
       margin: 1.5em auto; max-width: 60em; }
header { text-align: center; border-bottom: 2px solid #111; padding-bottom: .6em; margin-bottom: 1em; }
.gov { font-size: 13pt; font-weight: bold; text-transform: uppercase; margin: 0; }
h1 { font-size: 17pt; margin: .2em 0; text-transform: uppercase; } .date { font-size: 12pt; margin: 0 0 .5em }
.draft { display: inline-block; border: 2px solid #b00020; color: #b00020; font-weight: bold; padding: 0 1em }
h2 { font-size: 12.5pt; border-bottom: 1px solid #888; margin: 1.2em 0 .5em; padding-bottom: .15em; }
table { border-collapse: collapse; } @media print { body { margin: 0; max-width: none; } }
.meta { margin: .4em auto 0; text-align: left; font-size: 9.5pt; }
.meta th, .meta td, .summary th, .summary td { padding: .05em .6em; vertical-align: top; text-align: left; }
.headline { font-size: 13pt; font-weight: bold; margin: .2em 0 .4em; } .grid { width: 100%; font-size: 9pt; }
.grid th, .grid td { border: 1px solid #777; padding: .25em .35em; vertical-align: top; text-align: left; }
.grid thead th { background: #dde3ea; } .grid thead { display: table-header-group; }
.grid tr, .sign { page-break-inside: avoid; }
.note { font-size: 8.5pt; color: #444; margin: .4em 0; } .meta th, .summary th { white-space: nowrap; }
.chip { display: inline-block; width: 1em; height: .8em; border: 1px solid #777; vertical-align: middle; }
.sign { margin: 2.5em 0 0 auto; width: 20em; text-align: center; } .sign .space { height: 5.5em; }
.sign .name { font-weight: bold; text-decoration: underline; }
footer { margin-top: 2em; font-size: 8pt; color: #555; border-top: 1px solid #aaa; padding-top: .3em; }
"""


def _grid(head: tuple[str, ...], rows: list[Row], fills: list[list[str | None]] | None = None) -> str:
    heads = "".join(f"<th>{esc(h)}</th>" for h in head)
    out = [f'<table class="grid"><thead><tr>{heads}</tr></thead><tbody>']
    blank: list[list[str | None]] = [[None] * len(head)] * len(rows)
    for row, colours in zip(rows, fills or blank, strict=True):
        cells = ((f'<td style="background:{c}">' if c else "<td>") + esc(x).replace("\n", "<br>") + "</td>"
                 for x, c in zip(row, colours, strict=True))
        out.append(f"<tr>{''.join(cells)}</tr>")
    return "\n".join([*out, "</tbody></table>"])


def _section(title: str, body: str) -> str:
    return f"<section>\n<h2>{esc(title)}</h2>\n{body}\n</section>\n"


def _pairs(cls: str, pairs: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(x)}</td></tr>" for k, x in pairs)
    return f'<table class="{cls}">{rows}</table>'


def html_page(v: View) -> str:
    """The standalone, printable page (inline CSS, every text escaped)."""
    legend = " ".join(f'<span class="chip" style="background:{c}"></span> {esc(k)}'
                      for k, c in (*((k.capitalize(), c) for k, c in SITUATION_COLOURS.items()),
                                   ("Tidak lapor", MISSING_COLOUR)))
    place_date, title, name = v.signature
    note = '\n<p class="note">{}</p>'.format
    lists = [_section(h, _grid(head, getattr(v, key)) + (note(esc(EVIDENCE_NOTE)) if key == "incidents"
                                                          else "") if getattr(v, key) else note(esc(none)))
             for h, head, key, none in SECTIONS]
    return "".join([
        '<!DOCTYPE html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{TITLE} — Kab. {esc(v.kabupaten)} — {esc(v.date_long)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<header>\n",
        f'<p class="gov">Pemerintah Kabupaten {esc(v.kabupaten)}</p>\n<h1>{TITLE}</h1>\n',
        f'<p class="date">{esc(v.date_long)}</p>\n',
        '<div class="draft">DRAF — belum diterbitkan</div>\n' if v.draft else "",
        _pairs("meta", v.meta), "\n</header>\n",
        _section("Ringkasan", f'<p class="headline">{esc(v.headline)}</p>\n{_pairs("summary", v.summary)}'),
        _section("Rekap per kecamatan", _grid(STATION_HEADER, v.stations, v.fills)
                 + f'\n<p class="note">Situasi: {legend}. {esc(UNVERIFIED_NOTE)}</p>'),
        review_section(v.review, esc) if v.draft else "",
        *lists,
        f'<section class="sign">\n<p>{esc(place_date)}</p>\n<p><strong>{esc(title)}</strong></p>\n'
        f'<div class="space"></div>\n<p class="name">{esc(name) or "(" + "." * 40 + ")"}</p>\n</section>\n',
        f"<footer>{esc(v.footer)}</footer>\n</body>\n</html>\n",
    ])


def render_html(report: dict[str, Any]) -> bytes:
    return html_page(view(report)).encode()
