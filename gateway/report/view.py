"""What the report's readers see, as text: Indonesian words, numbers, dates, and the :class:`View`
that HTML (gateway/report/templates/report.html) and PDF (gateway/report/render_pdf.py) share.

All text the reader sees is Indonesian; day and month names are written here (gateway.timeutil),
never taken from the system locale. :func:`view` prepares, once, everything both show: header,
summary, one row per kecamatan, the incidents with the words they were read from (time span in the
recording, and the transmission), the needs, the open follow-ups and the signature block.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime

from gateway.report.document import (
    FollowUpItem,
    IncidentItem,
    NeedItem,
    PriceItem,
    Report,
    ReviewItem,
    StationEntry,
    TxRef,
)
from gateway.report.model import Evidence
from gateway.report.review import UNVERIFIED_NOTE, mark, unattributed_calls
from gateway.timeutil import DAYS, MONTHS

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


def zone(report: Report) -> str:
    return ZONE_ID.get(report.timezone or "", report.timezone or "")


def when(iso: str | None, report: Report) -> str:
    """"Jumat, 20 November 2026 pukul 12:00 WIB" ("-" when not set)."""
    t = _ts(iso)
    return f"{date_text(t.date(), True)} pukul {t:%H:%M} {zone(report)}".rstrip() if t else "-"


def span(ev: Evidence) -> str:
    """The words' time span in the recording, "00:05–00:07" (start rounded down, end up)."""
    def clock(s: int) -> str:
        return (f"{s // 3600}:" if s >= 3600 else "") + f"{s % 3600 // 60:02d}:{s % 60:02d}"

    start, end = ev.start, ev.end
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


def place_text(inc: IncidentItem) -> str:
    """The place, with the word said before it when it was desa/dusun/kelurahan ("Desa Sitampurung")."""
    place = inc.place or ""
    said = (inc.place_evidence.text if inc.place_evidence else "").split()
    if place and said and said[0].lower() in _PLACE_WORDS and not place.lower().startswith(said[0].lower()):
        return f"{said[0].capitalize()} {place}"
    return place


def incident_label(inc: IncidentItem) -> str:
    label = inc.label or inc.category or "-"
    return mark(inc, label[:1].upper() + label[1:])  # "*": no operator verified it


def incident_text(inc: IncidentItem, csv_style: bool = False) -> str:
    """"Banjir (Desa X): 7 rumah terendam" (CSV: "...: rumah terendam 7"); "Tanah longsor"."""
    text = incident_label(inc) + (f" ({place_text(inc)})" if place_text(inc) else "")
    counts = [count_text(k, v, csv_style) for k, v in inc.counts.items()]
    return f"{text}: {', '.join(counts)}" if counts else text


def price_text(p: PriceItem) -> str:
    return mark(p, f"{p.commodity} Rp {thousands(int(p.rupiah_per_kg))}/kg")


def evidence(inc: IncidentItem) -> list[str]:
    """The words an incident was read from, quoted with their time span, in spoken order; words lying
    inside a longer quoted phrase are not repeated ("terendam" inside "Tujuh rumah terendam")."""
    evs = [e for e in (inc.evidence, inc.place_evidence, *inc.count_evidence.values()) if e and e.text]

    def inside(a: Evidence, b: Evidence) -> bool:
        if len(a.text) >= len(b.text):
            return False
        if a.start is None or b.start is None:
            return a.text.lower() in b.text.lower()
        return bool(b.start <= a.start and (a.end or a.start) <= (b.end or b.start))

    out: list[str] = []
    for e in sorted(evs, key=lambda e: (e.start is None, e.start or 0)):
        if not any(inside(e, o) for o in evs) and quote(e) not in out:
            out.append(quote(e))
    return out


def quote(ev: Evidence) -> str:
    """«Tujuh rumah terendam» 00:05–00:07"""
    return f"«{ev.text or ''}» {span(ev)}".rstrip()


def audio_ref(transmission_id: int | None, start: str | None) -> str:
    """"rekaman #3\nmulai 07:05:23" (the transmission an item was read from)."""
    t = _ts(start)
    return f"rekaman #{transmission_id}" + (f"\nmulai {t:%H:%M:%S}" if t else "")


def revision_text(report: Report) -> str:
    """"Revisi 2 (laporan terlambat)"; a report not filed yet is a draft."""
    if report.revision is None:
        return "DRAF (belum diterbitkan)"
    reason = report.reason
    return f"Revisi {report.revision}" + (f" ({REASON_ID.get(reason, reason)})" if reason else "")


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
    review: list[ReviewItem]  # the "perlu diperiksa" queue (shown on drafts)
    footer: str  # with the start of the content hash, so a printout can be matched to its revision


def view(report: Report) -> View:
    day = date.fromisoformat(report.date)
    s, win, sig = report.summary, report.checkin_windows, report.signature
    stamp = _ts(report.filed_at or report.generated_at)
    meta = [("Periode", _period(report)), ("Dibuat", when(report.generated_at, report))]
    if report.revision is not None:
        meta += [("Diterbitkan", when(report.filed_at, report)), ("Status", revision_text(report))]
    levels = Counter(st.situation for st in report.stations)
    summary = [
        *((k, f"{len(names)} — {', '.join(names)}" if names else "0") for k, names in (
            ("Tepat waktu", s.on_time), ("Terlambat", s.late))),
        ("Tidak lapor", missing_text(report)),
        ("Kejadian", f"{s.incidents} kejadian dilaporkan"),
        ("Situasi", ", ".join(f"{k.capitalize()} {levels[k]} kecamatan" for k in SITUATION_COLOURS
                              if levels[k]) or "tidak disebutkan"),
        ("Batas lapor", f"tepat waktu s.d. {win.on_time_until}, "
                        f"terlambat s.d. {win.late_until} {zone(report)}".rstrip()),
    ]
    fills = []
    for st in report.stations:
        base = MISSING_COLOUR if st.checkin == "missing" else None
        fills.append([base] * 5 + [SITUATION_COLOURS.get(st.situation or "", base)] + [base] * 4)
    refs = {t.transmission_id: t for st in report.stations for t in st.transmissions}
    return View(
        kabupaten=report.kabupaten, date_long=date_text(day, True), meta=meta,
        draft=report.revision is None, revision=revision_text(report),
        headline=f"{s.reported} dari {s.total} kecamatan melapor",
        summary=summary, stations=[_station_row(i, st) for i, st in enumerate(report.stations, 1)],
        fills=fills, incidents=[_incident_row(i, x) for i, x in enumerate(report.incidents, 1)],
        needs=[_need_row(i, n, refs) for i, n in enumerate(report.needs, 1)],
        followups=[_followup_row(i, f) for i, f in enumerate(report.followups, 1)],
        review=list(report.review),
        signature=(f"{sig.place or '.' * 20}, {date_text(stamp.date() if stamp else day)}",
                   sig.title or "", sig.name or ""),
        footer=f"{TITLE} Kab. {report.kabupaten} · {date_text(day)} · {revision_text(report)}"
        + (f" · sidik isi {report.content_sha256[:16]}" if report.content_sha256 else ""))


def missing_text(report: Report) -> str:
    """The missing list, and when calls of the day are still unattributed (in the review queue with
    no station) a caveat: any of the "missing" may have been one of them."""
    names = report.summary.missing
    if not names:
        return "0"
    text = f"{len(names)} — {', '.join(names)}"
    unknown = unattributed_calls(report.review)
    if unknown:
        text += f" (belum pasti: {unknown} panggilan belum dikenali stasiunnya)"
    return text


def _period(report: Report) -> str:
    lo, hi = _ts(report.period.start), _ts(report.period.end)
    if not lo or not hi:
        return "-"
    return f"{date_text(lo.date())} {lo:%H:%M} s.d. {date_text(hi.date())} {hi:%H:%M} {zone(report)}".rstrip()


def _station_row(no: int, st: StationEntry) -> Row:
    label = st.checkin_label or st.checkin or ""
    late = re.fullmatch(r"reported after (\d\d:\d\d)", st.note or "")
    label += f" (melapor setelah {late.group(1)})" if late else f" ({st.note})" if st.note else ""
    verified = ("ya" if st.verified else "tidak") if st.transmissions else "-"
    incidents = [incident_text(i) for i in st.incidents]
    if len(incidents) > CELL_INCIDENTS:
        incidents[CELL_INCIDENTS - 1:] = [f"… dan {len(incidents) - CELL_INCIDENTS + 1} kejadian lain"]
    return [str(no), st.station, st.code or "", hhmm(st.first_report) or "-", label,
            st.situation_label or "-",
            "\n".join(incidents) or "-",
            "\n".join(mark(n, n.item) for n in st.needs) or "-",
            "\n".join(price_text(p) for p in st.prices) or "-", verified]


def _incident_row(no: int, inc: IncidentItem) -> Row:
    amounts = ", ".join(count_text(k, n) for k, n in inc.counts.items())
    quotes = "\n".join(evidence(inc))
    return [str(no), incident_label(inc), inc.station or "", place_text(inc) or "-", amounts or "-",
            quotes or "-", audio_ref(inc.transmission_id, inc.start)]


def _need_row(no: int, need: NeedItem, refs: dict[int, TxRef]) -> Row:
    ev = need.evidence or Evidence("", None, None, None)
    ref = refs.get(need.transmission_id) if need.transmission_id is not None else None
    quoted = quote(replace(ev, text=ev.text or need.phrase or ""))
    return [str(no), mark(need, need.item), need.station or "", quoted,
            audio_ref(need.transmission_id, ref.start if ref else None)]


def _followup_row(no: int, f: FollowUpItem) -> Row:
    since = date_text(date.fromisoformat(f.day)) if f.day else "-"
    what = f.item or ""
    if f.phrase and f.phrase != what:
        what += f" («{f.phrase}»)"
    return [str(no), since, f.station or "", what, f.status or "", f.opd or "belum ditunjuk"]
