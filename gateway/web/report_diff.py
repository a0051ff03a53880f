"""What changed between two versions of a day's report content ("perubahan"), field by field.

The report content is the JSON a revision stores (:func:`gateway.report.build.build_report`). Two of
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

from dataclasses import dataclass
from typing import Any

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


def _incident_key(i: dict[str, Any]) -> tuple[str, str, str]:
    return (str(i.get("station") or "-"), str(i.get("category") or "-"), str(i.get("place") or "-"))


def _incident_name(key: tuple[str, str, str], label: str) -> str:
    station, _, place = key
    return f"{label} di {station}" + (f" (desa {place})" if place != "-" else "")


def _group(items: list[dict[str, Any]], key: Any) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out


def _merged_counts(items: list[dict[str, Any]]) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for i in items:
        for k, v in (i.get("counts") or {}).items():
            counts[k] = max(counts.get(k, v), v) if isinstance(v, int | float) else v
    return counts


def diff_reports(old: dict[str, Any] | None, new: dict[str, Any]) -> list[Change]:
    """The changes from ``old`` to ``new`` (``old`` None: the first version, everything is new)."""
    old = old or {"summary": {}, "stations": [], "incidents": [], "needs": []}
    out: list[Change] = []
    os_, ns = old.get("summary") or {}, new.get("summary") or {}
    for key, label in SUMMARY_COUNTS.items():
        if os_.get(key) != ns.get(key):
            out.append(Change("ringkasan", "berubah", label, str(os_.get(key, "-")), str(ns.get(key, "-"))))
    for key, label in SUMMARY_LISTS.items():
        before, after = list(os_.get(key) or []), list(ns.get(key) or [])
        if sorted(before) != sorted(after):
            out.append(Change("ringkasan", "berubah", label, ", ".join(before) or "-",
                              ", ".join(after) or "-"))

    old_st = {s["station"]: s for s in old.get("stations") or []}
    for st in new.get("stations") or []:
        prev = old_st.get(st["station"])
        if prev is None:
            out.append(Change("kecamatan", "ditambah", st["station"], "", st.get("checkin_label", "")))
            continue
        if prev.get("checkin") != st.get("checkin"):
            out.append(Change("kecamatan", "berubah", f"{st['station']}: kehadiran",
                              prev.get("checkin_label") or "-", st.get("checkin_label") or "-"))
        if prev.get("situation") != st.get("situation"):
            out.append(Change("kecamatan", "berubah", f"{st['station']}: situasi",
                              prev.get("situation_label") or "-", st.get("situation_label") or "-"))
    for name in old_st.keys() - {s["station"] for s in new.get("stations") or []}:
        out.append(Change("kecamatan", "dihapus", name, old_st[name].get("checkin_label", ""), ""))

    old_inc = _group(old.get("incidents") or [], _incident_key)
    new_inc = _group(new.get("incidents") or [], _incident_key)
    for key in sorted(old_inc.keys() | new_inc.keys()):
        label = (new_inc.get(key) or old_inc.get(key) or [{}])[0].get("label") or key[1]
        name = _incident_name(key, label)
        if key not in old_inc:
            out.append(Change("kejadian", "ditambah", name, "", _counts(_merged_counts(new_inc[key]))))
        elif key not in new_inc:
            out.append(Change("kejadian", "dihapus", name, _counts(_merged_counts(old_inc[key])), ""))
        else:
            counts_before, counts_after = _merged_counts(old_inc[key]), _merged_counts(new_inc[key])
            if counts_before != counts_after:
                out.append(Change("kejadian", "berubah", name, _counts(counts_before), _counts(counts_after)))

    def need_key(n: dict[str, Any]) -> tuple[str, str]:
        return (str(n.get("station") or "-"), str(n.get("item") or "-"))

    old_needs = {need_key(n) for n in old.get("needs") or []}
    new_needs = {need_key(n) for n in new.get("needs") or []}
    for station, item in sorted(new_needs - old_needs):
        out.append(Change("kebutuhan", "ditambah", f"{item} ({station})", "", item))
    for station, item in sorted(old_needs - new_needs):
        out.append(Change("kebutuhan", "dihapus", f"{item} ({station})", item, ""))
    return out
