"""Scoring one processed morning against its generated truth (used by bench_accuracy.py).

Input: the morning's scenario truth (gateway.sim.morning + channel.render's start_s/end_s), the
stored transmissions (seconds from the recording start, station, transcript text, flags) and the
day's report (gateway.report.build.build_report, with its review queue). Output: counters that
add up over mornings (:class:`Score`); rates are computed when printing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from statistics import median
from typing import Any

from gateway.report.review import unattributed_calls

OVERLAP_S = 0.2  # a stored transmission "covers" a truth item when they overlap this long


@dataclass
class Stored:
    id: int
    start: float  # s from the recording start
    end: float
    station: str | None
    text: str | None  # current transcript; None: none stored
    needs_listening: bool
    kerchunk: bool


@dataclass
class Score:
    speech: int = 0  # truth speech transmissions
    cut_right: int = 0  # exactly one stored transmission, covering only it
    merges: int = 0
    merges_no_end_mark: int = 0  # ... where the earlier call had neither a squelch tail nor an EOT ANI
    splits: int = 0
    not_stored: int = 0
    end_error_s: list[float] = field(default_factory=list)
    camat_calls: int = 0
    attr_right: int = 0
    attr_wrong: int = 0
    attr_unknown: int = 0
    other_calls: int = 0  # non-camat traffic
    other_attributed: int = 0  # ... given to a station (wrong)
    mornings: int = 0
    missing_exact: int = 0
    missing_diff: list[str] = field(default_factory=list)
    #: mornings whose missing list names a kecamatan that did call, and says it is not sure ("belum
    #: pasti": calls with no station are on the review queue, gateway.report.review.unattributed_calls)
    missing_wrong: int = 0
    missing_caveat: int = 0
    inc_truth: int = 0
    inc_reported: int = 0
    inc_matched: int = 0
    place_total: int = 0
    place_exact: int = 0
    counts_total: int = 0
    counts_exact: int = 0
    price_truth: int = 0
    price_exact: int = 0
    price_reported: int = 0
    need_truth: int = 0
    need_exact: int = 0
    need_reported: int = 0
    status_total: int = 0
    status_exact: int = 0
    empty_speech: int = 0
    empty_flagged: int = 0
    wrong_values: int = 0
    wrong_flagged: int = 0
    review_items: int = 0  # entries in the review queue: what flagging costs the operator
    #: each wrong value: "flagged|UNFLAGGED kind tx value (confidence)", printed by --detail
    wrong_list: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _norm(s: str | None) -> str:
    return " ".join((s or "").lower().replace("-", " ").split())


def cuts(truth_items: list[dict[str, Any]], stored: list[Stored],
         sc: Score) -> tuple[dict[int, Stored], dict[int, list[Stored]]]:
    """Merges/splits; returns truth index -> the stored transmission that covers it most, and -> all
    stored transmissions that cover it."""
    speech = [i for i, t in enumerate(truth_items) if t.get("kind", "speech") == "speech"]
    covers: dict[int, list[Stored]] = {i: [] for i in speech}
    for st in stored:
        hit = [i for i in speech if _overlap(st.start, st.end, truth_items[i]["start_s"],
                                             truth_items[i]["end_s"]) >= OVERLAP_S]
        sc.merges += max(0, len(hit) - 1)
        sc.merges_no_end_mark += sum(1 for i in hit[:-1] if not truth_items[i].get("tail", True)
                                     and truth_items[i].get("ani_at") != "eot")
        for i in hit:
            covers[i].append(st)
    best: dict[int, Stored] = {}
    for i in speech:
        t, got = truth_items[i], covers[i]
        sc.speech += 1
        sc.splits += max(0, len(got) - 1)
        if not got:
            sc.not_stored += 1
            continue
        best[i] = max(got, key=lambda s: _overlap(s.start, s.end, t["start_s"], t["end_s"]))
        alone = len(got) == 1 and all(
            _overlap(got[0].start, got[0].end, truth_items[j]["start_s"], truth_items[j]["end_s"]) < OVERLAP_S
            for j in speech if j != i)
        if alone:
            sc.cut_right += 1
            sc.end_error_s.append(round(got[0].end - t["end_s"], 2))
    return best, covers


def _wrong(sc: Score, flagged: bool, what: str = "", value: dict[str, Any] | None = None) -> None:
    sc.wrong_values += 1
    sc.wrong_flagged += flagged
    conf = (value or {}).get("confidence")
    sc.wrong_list.append(f"{'flagged  ' if flagged else 'UNFLAGGED'} {what}"
                         + (f" (confidence {conf})" if value is not None else ""))


def score_morning(truth: dict[str, Any], stored: list[Stored], report: dict[str, Any]) -> Score:
    sc = Score(mornings=1)
    items = truth["transmissions"]
    best, covers = cuts(items, stored, sc)
    review = report.get("review") or []
    sc.review_items = len(review)
    by_tx: dict[int, set[str]] = {}
    for r in review:
        by_tx.setdefault(int(r["transmission_id"]), set()).add(r["kind"])
    whole = {"listen", "unknown_station"}

    def flagged(tx_id: int | None, kind: str) -> bool:
        kinds = by_tx.get(int(tx_id or 0), set())
        return bool(kinds & ({kind} | whole))

    # attribution (by the piece that covers a call most; any piece given another station is wrong),
    # empty speech
    for i, st in best.items():
        t = items[i]
        wrong = [c for c in covers[i] if c.station is not None and c.station != t.get("station")]
        for c in wrong:
            _wrong(sc, flagged(c.id, "station") or c.needs_listening, f"station #{c.id} {c.station}")
        if t.get("station"):
            sc.camat_calls += 1
            if wrong:
                sc.attr_wrong += 1
            elif st.station == t["station"]:
                sc.attr_right += 1
            else:
                sc.attr_unknown += 1
        else:
            sc.other_calls += 1
            sc.other_attributed += bool(wrong)
        if not (st.text or "").strip():
            sc.empty_speech += 1
            sc.empty_flagged += st.needs_listening
    for i in [i for i, t in enumerate(items) if t.get("kind", "speech") == "speech" and i not in best]:
        sc.camat_calls += bool(items[i].get("station"))
        sc.other_calls += not items[i].get("station")
        sc.attr_unknown += bool(items[i].get("station"))
    # the missing list
    want, got = sorted(truth["missing"]), sorted(report["summary"]["missing"])
    sc.missing_exact += want == got
    if set(got) - set(want):
        sc.missing_wrong += 1
        sc.missing_caveat += unattributed_calls(review) > 0
    if want != got:
        sc.missing_diff += [f"seed {truth['seed']}: missing wrongly {sorted(set(got) - set(want))}, "
                            f"not missing wrongly {sorted(set(want) - set(got))}"]
    _fields(sc, items, report, flagged)
    return sc


def score_fields(truth: dict[str, Any], report: dict[str, Any]) -> Score:
    """Only the report fields (status, incidents, prices, needs), nothing flagged: for a report made
    from the exact words (the extractor's ceiling, without the recogniser)."""
    sc = Score()
    _fields(sc, truth["transmissions"], report, lambda *_: False)
    sc.wrong_values = sc.wrong_flagged = 0
    sc.wrong_list = []
    return sc


def _fields(sc: Score, items: list[dict[str, Any]], report: dict[str, Any], flagged: Any) -> None:
    """Per station: status, incidents (category, place, counts), prices, needs."""
    by_station: dict[str, list[dict[str, Any]]] = {}
    for t in items:
        if t.get("station"):
            by_station.setdefault(t["station"], []).append(t)
    levels = ("aman", "waspada", "siaga", "awas")
    for st in report["stations"]:
        said = by_station.get(st["station"], [])
        want_status = max((t["status"] for t in said if t.get("status")), key=levels.index, default=None)
        if want_status:
            sc.status_total += 1
            sc.status_exact += st.get("situation") == want_status
        truth_inc = [i for t in said for i in t.get("incidents", [])]
        got_inc = [i for i in st.get("incidents") or [] if i["category"] != "harga"]
        sc.inc_truth += len(truth_inc)
        sc.inc_reported += len(got_inc)
        left = list(got_inc)
        for ti in truth_inc:
            same = [g for g in left if g["category"] == ti["category"]]
            if not same:
                sc.wrong_list.append(f"MISSED    incident {ti['category']} at {ti['place']!r}"
                                     f" ({st['station']})")
                continue
            g = next((g for g in same if _norm(g.get("place")) == _norm(ti["place"])), same[0])
            left.remove(g)
            sc.inc_matched += 1
            sc.place_total += 1
            if _norm(g.get("place")) == _norm(ti["place"]):
                sc.place_exact += 1
            else:
                _wrong(sc, flagged(g.get("transmission_id"), "incident"),
                       f"place #{g.get('transmission_id')} {g.get('place')!r} said {ti['place']!r}", g)
            if ti["counts"]:
                sc.counts_total += 1
                if dict(g.get("counts") or {}) == ti["counts"]:
                    sc.counts_exact += 1
                else:
                    _wrong(sc, flagged(g.get("transmission_id"), "incident"),
                           f"counts #{g.get('transmission_id')} {g.get('counts')} said {ti['counts']}", g)
        for g in left:  # reported, not said
            _wrong(sc, flagged(g.get("transmission_id"), "incident"),
                   f"incident #{g.get('transmission_id')} {g['category']} not said", g)
        truth_p = Counter((_norm(p["commodity"]), p["rupiah_per_kg"])
                          for t in said for p in t.get("prices", []))
        got_p = [(_norm(p["commodity"]), int(p["rupiah_per_kg"]), p) for p in st.get("prices") or []]
        sc.price_truth += sum(truth_p.values())
        sc.price_reported += len(got_p)
        for c, rp, p in got_p:
            tx = p.get("transmission_id")
            if truth_p[(c, rp)] > 0:
                truth_p[(c, rp)] -= 1
                sc.price_exact += 1
            else:
                _wrong(sc, flagged(tx, "price"), f"price #{tx} {c} {rp} not said", p)
        for (c, rp), left_p in truth_p.items():
            sc.wrong_list += [f"MISSED    price {c} {rp} ({st['station']})"] * left_p
        truth_n = Counter(_norm(n) for t in said for n in t.get("needs", []))
        sc.need_truth += sum(truth_n.values())
        for n in st.get("needs") or []:
            sc.need_reported += 1
            if truth_n[_norm(n["item"])] > 0:
                truth_n[_norm(n["item"])] -= 1
                sc.need_exact += 1
            else:
                _wrong(sc, flagged(n.get("transmission_id"), "need"),
                       f"need #{n.get('transmission_id')} {n['item']!r} not said", n)


# --- the ceiling and the printed figures -----------------------------------------------------

def text_ceiling(truth: dict[str, Any]) -> Score:
    """The report fields read by the extractor from the generator's exact words, each call under its
    true station: what the rules get without the recogniser's errors or any cut/attribution error."""
    from gateway.report.extract import extract
    from gateway.sim.morning import spoken_text

    levels = ("aman", "waspada", "siaga", "awas")
    stations: dict[str, dict[str, Any]] = {}
    for i, t in enumerate(truth["transmissions"]):
        if not t.get("station"):
            continue
        ex = extract(spoken_text(t))
        st = stations.setdefault(t["station"], {"station": t["station"], "situation": None,
                                                "incidents": [], "prices": [], "needs": []})
        if ex.status and (st["situation"] is None or levels.index(ex.status) > levels.index(st["situation"])):
            st["situation"] = ex.status
        st["incidents"] += [{**inc.to_dict(), "transmission_id": i} for inc in ex.incidents]
        st["prices"] += [{**p.to_dict(), "transmission_id": i} for p in ex.prices]
        st["needs"] += [{**n.to_dict(), "transmission_id": i} for n in ex.needs]
    return score_fields(truth, {"stations": list(stations.values())})


def _rate(a: int, b: int) -> str:
    return f"{a / b:.2f} ({a}/{b})" if b else "- (0/0)"


def figures(sc: Score) -> list[tuple[str, str, str, bool | None]]:
    """(figure, value, target, met?) rows."""
    p = sc.inc_matched / sc.inc_reported if sc.inc_reported else 1.0
    r = sc.inc_matched / sc.inc_truth if sc.inc_truth else 1.0
    attributed = sc.attr_right / sc.camat_calls if sc.camat_calls else 1.0
    cp_total = sc.counts_total + sc.price_truth
    cp = (sc.counts_exact + sc.price_exact) / cp_total if cp_total else 1.0
    unflagged = sc.empty_speech - sc.empty_flagged
    wf = sc.wrong_flagged / sc.wrong_values if sc.wrong_values else 1.0
    ends = sorted(sc.end_error_s)
    return [
        ("transmissions cut right", _rate(sc.cut_right, sc.speech), "all", sc.cut_right == sc.speech),
        ("  merges", str(sc.merges), "0", sc.merges == 0),
        ("    after a call without tail/EOT", str(sc.merges_no_end_mark), "", None),
        ("  splits", str(sc.splits), "0", sc.splits == 0),
        ("  speech not stored", str(sc.not_stored), "0", sc.not_stored == 0),
        ("  end - true end, median s", f"{median(ends):.2f}" if ends else "-", "", None),
        ("camat calls attributed right", _rate(sc.attr_right, sc.camat_calls), ">= 0.95", attributed >= 0.95),
        ("  wrong station", str(sc.attr_wrong), "0", sc.attr_wrong == 0),
        ("  unknown", str(sc.attr_unknown), "", None),
        ("non-camat calls given a station", _rate(sc.other_attributed, sc.other_calls), "0",
         sc.other_attributed == 0),
        ("missing list exact (mornings)", _rate(sc.missing_exact, sc.mornings), "all",
         sc.missing_exact == sc.mornings),
        ("  wrongly missing, marked 'belum pasti'", _rate(sc.missing_caveat, sc.missing_wrong), "", None),
        ("status exact", _rate(sc.status_exact, sc.status_total), "", None),
        ("incident category precision", _rate(sc.inc_matched, sc.inc_reported), ">= 0.95", p >= 0.95),
        ("incident category recall", _rate(sc.inc_matched, sc.inc_truth), ">= 0.9", r >= 0.9),
        ("incident place exact", _rate(sc.place_exact, sc.place_total), "", None),
        ("incident counts exact", _rate(sc.counts_exact, sc.counts_total), "", None),
        ("prices exact", _rate(sc.price_exact, sc.price_truth), "", None),
        ("  counts and prices exact", _rate(sc.counts_exact + sc.price_exact, cp_total), ">= 0.8", cp >= 0.8),
        ("needs exact", _rate(sc.need_exact, sc.need_truth), "", None),
        ("  needs reported, not said", str(sc.need_reported - sc.need_exact), "", None),
        ("empty transcripts of speech", str(sc.empty_speech), "", None),
        ("  of them flagged needs_listening", str(sc.empty_flagged), "", None),
        ("  unflagged", str(unflagged), "0", unflagged == 0),
        ("wrong values flagged for review", _rate(sc.wrong_flagged, sc.wrong_values), ">= 0.90", wf >= 0.9),
        ("  review queue entries (all kinds)", str(sc.review_items), "", None),
    ]
