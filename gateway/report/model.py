"""The extractor's results: frozen data classes, JSON-ready through ``to_dict``/``from_dict``.

:class:`Part` is the base of these and of the report model (gateway/report/document.py): its
``to_json`` writes the fields in declaration order (the JSON keys are the field names), and
``from_json`` reads them back, remembering which keys the stored JSON did not have (``absent``:
a revision filed by an older version) so that writing it again gives the same JSON.

Every value carries its :class:`Evidence`: the words it was read from, as recognised, with their
time span (seconds from the start of the recording) and mean recogniser confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

#: A follow-up's states, in order (gateway.store.models.FollowUp.status): the CLI's, the web UI's
#: and filing's one list.
FOLLOWUP_STATUSES = ("baru", "diproses", "selesai")

#: Bumped when the rules change what they read, so stored extracts can be told apart.
EXTRACTOR_VERSION = 6


P = TypeVar("P", bound="Part")
Convert = Callable[[Any], Any]


def _out(v: Any) -> Any:
    if isinstance(v, Part):
        return v.to_json()
    if isinstance(v, tuple | list):
        return [_out(x) for x in v]
    if isinstance(v, dict):
        return {k: _out(x) for k, x in v.items()}
    return v


@dataclass(frozen=True)
class Part:
    """A JSON object as a frozen data class (see the module docstring)."""

    absent: frozenset[str] = field(default=frozenset(), kw_only=True, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {f.name: _out(getattr(self, f.name)) for f in fields(self)
                if f.name != "absent" and f.name not in self.absent}

    @classmethod
    def nested(cls) -> dict[str, Convert]:
        """How to read the fields that are not plain JSON values (objects, lists as tuples)."""
        return {}

    @classmethod
    def from_json(cls: type[P], d: Mapping[str, Any]) -> P:
        names = [f.name for f in fields(cls) if f.name != "absent"]
        conv = cls.nested()
        kw = {n: conv[n](d[n]) if n in conv and d[n] is not None else d[n] for n in names if n in d}
        return cls(**kw, absent=frozenset(n for n in names if n not in d))


def parts(kind: type[Part]) -> Convert:
    """A JSON list of ``kind`` objects as a tuple."""
    return lambda v: tuple(kind.from_json(x) for x in v)


def part_map(kind: type[Part]) -> Convert:
    """A JSON object of ``kind`` objects as a dict."""
    return lambda v: {k: kind.from_json(x) for k, x in v.items()}


@dataclass(frozen=True)
class Evidence(Part):
    """The words a value was read from: text as recognised, seconds from the recording start, mean
    recogniser confidence (times and confidence are None when only text was given), and ``match``:
    how well the words matched the lexicon (1.0 exact, lower for a corrected mishearing, None when
    no word list was involved, e.g. a bare number)."""

    text: str
    start: float | None
    end: float | None
    confidence: float | None
    match: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.to_json()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls.from_json(d)


def _ev(d: dict[str, Any] | None) -> Evidence | None:
    return Evidence.from_dict(d) if d else None


@dataclass(frozen=True)
class Incident:
    category: str
    place: str | None
    counts: dict[str, int]
    evidence: Evidence  # the words naming the incident
    place_evidence: Evidence | None = None
    count_evidence: dict[str, Evidence] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "place": self.place, "counts": dict(self.counts),
                "evidence": self.evidence.to_dict(),
                "place_evidence": self.place_evidence.to_dict() if self.place_evidence else None,
                "count_evidence": {k: e.to_dict() for k, e in self.count_evidence.items()}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Incident:
        return cls(d["category"], d.get("place"), dict(d.get("counts", {})),
                   Evidence.from_dict(d["evidence"]), _ev(d.get("place_evidence")),
                   {k: Evidence.from_dict(e) for k, e in d.get("count_evidence", {}).items()})


@dataclass(frozen=True)
class Price:
    commodity: str
    rupiah_per_kg: int
    evidence: Evidence

    def to_dict(self) -> dict[str, Any]:
        return {"commodity": self.commodity, "rupiah_per_kg": self.rupiah_per_kg,
                "evidence": self.evidence.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Price:
        return cls(d["commodity"], int(d["rupiah_per_kg"]), Evidence.from_dict(d["evidence"]))


@dataclass(frozen=True)
class Need:
    item: str
    phrase: str  # the whole request ("mohon bantuan terpal dan beras")
    evidence: Evidence  # the whole request's words

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "phrase": self.phrase, "evidence": self.evidence.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Need:
        return cls(d["item"], d["phrase"], Evidence.from_dict(d["evidence"]))


@dataclass(frozen=True)
class StationExtract:
    status: str | None  # "aman", "waspada", "siaga", "awas"; None when no status word was said
    status_evidence: Evidence | None
    incidents: tuple[Incident, ...] = ()
    prices: tuple[Price, ...] = ()
    needs: tuple[Need, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"version": EXTRACTOR_VERSION, "status": self.status,
                "status_evidence": self.status_evidence.to_dict() if self.status_evidence else None,
                "incidents": [i.to_dict() for i in self.incidents],
                "prices": [p.to_dict() for p in self.prices], "needs": [n.to_dict() for n in self.needs]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StationExtract:
        return cls(d.get("status"), _ev(d.get("status_evidence")),
                   tuple(Incident.from_dict(i) for i in d.get("incidents", ())),
                   tuple(Price.from_dict(p) for p in d.get("prices", ())),
                   tuple(Need.from_dict(n) for n in d.get("needs", ())))
