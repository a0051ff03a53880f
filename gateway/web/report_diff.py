"""What changed between two versions of a day's report content ("perubahan"), field by field.

The report content is a :class:`gateway.report.document.Report` (or the JSON a revision stores). Two of
them (the previous revision and this one, or the last filed revision and today's draft) are compared
on what a reader of the report cares about:

- **ringkasan** (summary): the counts (kecamatan melapor, kejadian) and who is on time, late, missing;
- **kecamatan** (stations): each station's check-in and situation;
- **kejadian** (incidents): keyed by station, category and place; added, removed, or changed counts;
- **kebutuhan** (needs): keyed by station and item; added or removed.

Each difference is one :class:`Change` with Indonesian labels, in a stable order. Bookkeeping fields
(revision, filed_at, generated_at, content hash, audio paths, evidence times) are not compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.report.document import IncidentItem, NeedItem, Report, as_report

SUMMARY_COUNTS = {"reported": "kecamatan melapor", "incidents": "jumlah kejadian",
                  "total": "jumlah kecamatan"}
SUMMARY_LISTS = {"on_time": "tepat waktu", "late": "terlambat", "missing": "tidak lapor"}


@dataclass(frozen=True)
class Change:
    section: str  # ringkasan | kecamatan | kejadian | kebutuhan
    kind: str  # ditambah | dihapus | berubah
    what: str  # the thing changed, in words
    before: str = ""
    after: str = ""


def _counts(counts: dict[str, Any] | None) -> str:
    if not counts:
        return "tanpa jumlah"
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(counts.items()))


def _incident_key(i: IncidentItem) -> tuple[str, str, str]:
    return (i.station or "-", i.category or "-", i.place or "-")


def _incident_name(key: tuple[str, str, str], label: str) -> str:
    station, _, place = key
    return f"{label} di {station}" + (f" (desa {place})" if place != "-" else "")


def _merged_counts(items: list[IncidentItem]) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for i in items:
        for k, v in i.counts.items():
            counts[k] = max(counts.get(k, v), v) if isinstance(v, int | float) else v
    return counts


def diff_reports(old: Report | Mapping[str, Any] | None, new: Report | Mapping[str, Any]) -> list[Change]:
    """The changes from ``old`` to ``new`` (``old`` None: the first version, everything is new).
    Either may be a stored revision's JSON (read with :meth:`Report.from_json`)."""
    before, after = as_report(old or {}), as_report(new)
    out: list[Change] = []
    os_, ns = before.summary, after.summary
    for key, label in SUMMARY_COUNTS.items():
        unknown = "summary" in before.absent or key in os_.absent  # the first version, or an old one
        if not unknown and getattr(os_, key) == getattr(ns, key):
            continue
        out.append(Change("ringkasan", "berubah", label, "-" if unknown else str(getattr(os_, key)),
                          str(getattr(ns, key))))
    for key, label in SUMMARY_LISTS.items():
        names_before, names_after = list(getattr(os_, key)), list(getattr(ns, key))
        if sorted(names_before) != sorted(names_after):
            out.append(Change("ringkasan", "berubah", label, ", ".join(names_before) or "-",
                              ", ".join(names_after) or "-"))

    old_st = {s.station: s for s in before.stations}
    for st in after.stations:
        prev = old_st.get(st.station)
        if prev is None:
            out.append(Change("kecamatan", "ditambah", st.station, "", st.checkin_label))
            continue
        if prev.checkin != st.checkin:
            out.append(Change("kecamatan", "berubah", f"{st.station}: kehadiran",
                              prev.checkin_label or "-", st.checkin_label or "-"))
        if prev.situation != st.situation:
            out.append(Change("kecamatan", "berubah", f"{st.station}: situasi",
                              prev.situation_label or "-", st.situation_label or "-"))
    for name in old_st.keys() - {s.station for s in after.stations}:
        out.append(Change("kecamatan", "dihapus", name, old_st[name].checkin_label, ""))

    old_inc: dict[tuple[str, str, str], list[IncidentItem]] = {}
    new_inc: dict[tuple[str, str, str], list[IncidentItem]] = {}
    for items, group in ((before.incidents, old_inc), (after.incidents, new_inc)):
        for i in items:
            group.setdefault(_incident_key(i), []).append(i)
    for inc_key in sorted(old_inc.keys() | new_inc.keys()):
        label = (new_inc.get(inc_key) or old_inc[inc_key])[0].label or inc_key[1]
        name = _incident_name(inc_key, label)
        if inc_key not in old_inc:
            out.append(Change("kejadian", "ditambah", name, "", _counts(_merged_counts(new_inc[inc_key]))))
        elif inc_key not in new_inc:
            out.append(Change("kejadian", "dihapus", name, _counts(_merged_counts(old_inc[inc_key])), ""))
        else:
            counts_before, counts_after = _merged_counts(old_inc[inc_key]), _merged_counts(new_inc[inc_key])
            if counts_before != counts_after:
                out.append(Change("kejadian", "berubah", name, _counts(counts_before), _counts(counts_after)))

    def need_key(n: NeedItem) -> tuple[str, str]:
        return (n.station or "-", n.item or "-")

    old_needs = {need_key(n) for n in before.needs}
    new_needs = {need_key(n) for n in after.needs}
    for station, item in sorted(new_needs - old_needs):
        out.append(Change("kebutuhan", "ditambah", f"{item} ({station})", "", item))
    for station, item in sorted(old_needs - new_needs):
        out.append(Change("kebutuhan", "dihapus", f"{item} ({station})", item, ""))
    return out
