"""The daily situation report (laporan situasi) as a typed model: what build makes, renderers read.

:class:`Report` and its parts are frozen data classes. Their JSON form is the one a filed revision
stores (``report_revisions.content``) and ``--format json`` prints: :meth:`Report.to_json` writes
the fields in the order declared here, the JSON keys being the field names; :meth:`Report.from_json`
reads a stored revision back, including one filed by an older version that lacked later fields
(``verified``, ``confidence``, ``situation_item``, ``letter``, ``review``, evidence ``match``): such
fields take their default here and are left out again when written (see
:class:`gateway.report.model.Part`), so an old revision's JSON stays byte-for-byte what was filed.

To add a report field: add it to the class here (with a default, for older revisions), fill it in
gateway/report/build.py, show it in the renderers that should (gateway/report/view.py for HTML/PDF).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.report.model import Convert, Evidence, Part, part_map, parts


def _strs(v: Any) -> tuple[str, ...]:
    return tuple(v)


@dataclass(frozen=True)
class TxRef(Part):
    """The transmission a value was read from: id, start (ISO 8601, local), recording, pre-roll."""

    transmission_id: int
    start: str | None = None
    audio_path: str | None = None
    preroll_s: float | None = None


@dataclass(frozen=True)
class SituationItem(Part):
    """Where a station's situation was read: the transmission, and how sure it is."""

    transmission_id: int | None = None
    confidence: float | None = None
    verified: bool | None = None


@dataclass(frozen=True)
class IncidentItem(Part):
    """One incident as the report lists it: the extractor's Incident, its station, label and
    transmission, the combined confidence and whether an operator verified the transcript."""

    category: str = ""
    place: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    evidence: Evidence | None = None
    place_evidence: Evidence | None = None
    count_evidence: dict[str, Evidence] = field(default_factory=dict)
    station: str = ""
    label: str = ""
    transmission_id: int | None = None
    start: str | None = None
    audio_path: str | None = None
    preroll_s: float | None = None
    confidence: float | None = None
    verified: bool | None = None  # None: a revision filed before values were marked

    @classmethod
    def nested(cls) -> dict[str, Convert]:
        return {"counts": dict, "evidence": Evidence.from_json, "place_evidence": Evidence.from_json,
                "count_evidence": part_map(Evidence)}


@dataclass(frozen=True)
class PriceItem(Part):
    commodity: str = ""
    rupiah_per_kg: int = 0
    evidence: Evidence | None = None
    transmission_id: int | None = None
    confidence: float | None = None
    verified: bool | None = None

    @classmethod
    def nested(cls) -> dict[str, Convert]:
        return {"evidence": Evidence.from_json}


@dataclass(frozen=True)
class NeedItem(Part):
    item: str = ""
    phrase: str = ""  # the whole request ("mohon bantuan terpal dan beras")
    evidence: Evidence | None = None
    station: str = ""
    transmission_id: int | None = None
    confidence: float | None = None
    verified: bool | None = None

    @classmethod
    def nested(cls) -> dict[str, Convert]:
        return {"evidence": Evidence.from_json}


@dataclass(frozen=True)
class StationEntry(Part):
    """One kecamatan's line: check-in, situation, what it reported, its transmissions."""

    station: str
    code: str = ""
    checkin: str = ""  # on_time | late | missing (gateway.identification.checkins)
    checkin_label: str = ""
    first_report: str | None = None  # ISO 8601, local
    identified_by: str | None = None
    note: str = ""
    situation: str | None = None  # aman | waspada | siaga | awas; None: not said
    situation_label: str = "-"
    situation_item: SituationItem | None = None
    incidents: tuple[IncidentItem, ...] = ()
    prices: tuple[PriceItem, ...] = ()
    needs: tuple[NeedItem, ...] = ()
    verified: bool = False  # every transmission of the station verified (or edited) by an operator
    transmissions: tuple[TxRef, ...] = ()

    @classmethod
    def nested(cls) -> dict[str, Convert]:
        return {"situation_item": SituationItem.from_json, "incidents": parts(IncidentItem),
                "prices": parts(PriceItem), "needs": parts(NeedItem), "transmissions": parts(TxRef)}


@dataclass(frozen=True)
class Summary(Part):
    total: int = 0
    reported: int = 0
    on_time: tuple[str, ...] = ()
    late: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    incidents: int = 0

    @classmethod
    def nested(cls) -> dict[str, Convert]:
        return {"on_time": _strs, "late": _strs, "missing": _strs}


@dataclass(frozen=True)
class Period(Part):
    start: str | None = None  # ISO 8601
    end: str | None = None


@dataclass(frozen=True)
class CheckinWindows(Part):
    on_time_until: str = "-"  # HH:MM
    late_until: str = "-"


@dataclass(frozen=True)
class Signature(Part):
    title: str = ""
    name: str = ""
    place: str = ""


@dataclass(frozen=True)
class Letter(Part):
    """``[report.letter]`` as the report keeps it (gateway/report/letter.py)."""

    logo: str | None = None
    office: str = ""
    address: str = ""
    number_pattern: str = ""
    nip: str = ""


@dataclass(frozen=True)
class FollowUpItem(Part):
    """An open follow-up from an earlier day (``FollowUp.as_dict``), as it stood when built."""

    id: int | None = None
    day: str | None = None
    station: str = ""
    category: str | None = None
    item: str = ""
    phrase: str = ""
    transmission_id: int | None = None
    status: str = ""
    opd: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class ReviewItem(Part):
    """One entry of the "perlu diperiksa" queue (gateway/report/review.py)."""

    kind: str = ""  # a key of review.REVIEW_TEXT
    transmission_id: int = 0
    start: str = ""  # ISO 8601, local time
    station: str | None = None
    what: str = ""  # the value or the transcript, as text
    confidence: float | None = None
    reason: str = ""  # Indonesian, REVIEW_TEXT[kind]


# Not part of the content hash: when it was made, and the follow-ups' progress (a status change by
# an agency is not a change to the day's report, so it files no revision; each revision shows the
# follow-ups as they stood when it was filed).
# The review queue is derived from the content (and the day's unknown stations): not hashed either.
UNSTABLE = ("generated_at", "revision", "filed_at", "reason", "followups", "review", "letter")


@dataclass(frozen=True)
class Report(Part):
    """The whole day's report; a filed revision is this with revision, filed_at and reason set."""

    kind: str = "laporan_situasi_harian"
    kabupaten: str = ""
    date: str = ""  # YYYY-MM-DD
    timezone: str = ""
    period: Period = field(default_factory=Period)
    checkin_windows: CheckinWindows = field(default_factory=CheckinWindows)
    generated_at: str | None = None
    revision: int | None = None  # None: a draft
    filed_at: str | None = None
    reason: str | None = None  # scheduled | late_report | correction
    summary: Summary = field(default_factory=Summary)
    stations: tuple[StationEntry, ...] = ()
    incidents: tuple[IncidentItem, ...] = ()
    needs: tuple[NeedItem, ...] = ()
    followups: tuple[FollowUpItem, ...] = ()
    signature: Signature = field(default_factory=Signature)
    letter: Letter = field(default_factory=Letter)
    content_sha256: str | None = None
    review: tuple[ReviewItem, ...] = ()

    @classmethod
    def nested(cls) -> dict[str, Convert]:
        return {"period": Period.from_json, "checkin_windows": CheckinWindows.from_json,
                "summary": Summary.from_json, "stations": parts(StationEntry),
                "incidents": parts(IncidentItem), "needs": parts(NeedItem),
                "followups": parts(FollowUpItem), "signature": Signature.from_json,
                "letter": Letter.from_json, "review": parts(ReviewItem)}

    def content_hash(self) -> str:
        """SHA-256 of what the report says (not when it was generated or filed)."""
        stable = {k: v for k, v in self.to_json().items() if k not in (*UNSTABLE, "content_sha256")}
        return hashlib.sha256(json.dumps(stable, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def filed(self, revision: int, filed_at: str, reason: str) -> Report:
        return replace(self, revision=revision, filed_at=filed_at, reason=reason,
                       absent=self.absent - {"revision", "filed_at", "reason"})

    def heard(self) -> set[int]:
        """The ids of the transmissions the report was read from."""
        return {t.transmission_id for s in self.stations for t in s.transmissions}


def as_report(content: Report | Mapping[str, Any]) -> Report:
    """A stored revision's JSON (or a report already typed) as a :class:`Report`."""
    return content if isinstance(content, Report) else Report.from_json(content)
