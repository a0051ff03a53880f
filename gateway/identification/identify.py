"""Identification: which station made a transmission, how we know, and why — or why we do not.

Precedence, strongest first:

1. **operator** — the newest assignment (``ht-gateway assign``, later the web UI); kept across
   re-transcription and re-identification; a cleared assignment hands back to the rules below;
2. **ani** — a DTMF PTT-ID heard in the transmission that a configured station sends;
3. **voice** — the station's name found in the current transcript
   (gateway.identification.spoken_id) with at least
   ``identity.spoken_threshold`` confidence; or, when the caller names himself in words the
   matcher cannot resolve, the station the recogniser heard again in the audio
   (gateway.identification.name_check, reason ``name_check``, confidence
   :data:`NAME_CHECK_CONFIDENCE`: queued for an operator to confirm);
4. **continuation** — no identity of its own, but it starts within ``identity.continuation_gap_s``
   after the previous transmission (not a kerchunk), which was identified: the same station went on.
   With ``identity.strict_continuation`` (the default) only when nothing speaks against it: not
   when the previous call ended with a closing word (ganti, demikian, selesai, over, 86) unless this
   one opens with a continuation cue (tambahan, lanjut, ralat, koreksi) — reason
   ``closed_by_procedure_word`` — and not when this call names its caller ("camat …", "di sini …",
   "lapor … dari …") with a name the matcher cannot resolve — reason ``unresolved_self_id`` — and
   not when it opens with another unit's call sign ("Patroli satu …", "Mobil rescue …") — reason
   ``other_unit`` — and not when, opening with no continuation cue, it clearly says another
   station's name, though without a cue word that would make it the caller's ("…, Pahae Julu,
   …" after Sipoholon's call) — reason ``names_other_station``.

Otherwise the station stays unknown and the reasons say why: codes with parameters
(:mod:`gateway.reasons`), stored as JSON in ``identity_reason_data`` and, in English, in
``identity_reason`` (the log line and ``ht-gateway identify``'s output). Kerchunks and stuck-squelch
recordings take an operator's or an ANI identity only. Functions here work inside the caller's write
transaction, so identity changes commit together with what caused them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config, Station
from gateway.reasons import Reason, dumps, loads, say_all
from gateway.store.models import Assignment, TranscriptRow, Transmission, current_transcript

if TYPE_CHECKING:  # imported where used: spoken-name matching loads its tables on first use
    from gateway.identification.name_check import NameCheck
    from gateway.identification.spoken_id import SpokenMatch

log = logging.getLogger(__name__)

#: Confidence of a station the recogniser heard again (gateway/identification/name_check.py):
#: under ``report.review_below``, so the review queue asks an operator to confirm it.
NAME_CHECK_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Identity:
    station: str | None
    source: str | None
    confidence: float | None
    reasons: tuple[Reason, ...]

    @property
    def reason(self) -> str:
        """The reasons in English."""
        return say_all(self.reasons)


@dataclass(frozen=True)
class Heard:
    """What a transcript's words say of their caller: the spoken-name match and an unresolved
    self-introduction. CPU work over the whole text, so a caller that is about to store the
    transcript computes it (:func:`hear`) before its write transaction and passes it in."""

    text: str
    words: list[dict[str, Any]] | None
    match: SpokenMatch
    self_id: str | None

    def of(self, transcript: TranscriptRow) -> bool:
        return self.text == transcript.text and self.words == transcript.words


def hear(text: str, words: list[dict[str, Any]] | None, cfg: Config) -> Heard:
    from gateway.identification.self_id import self_named
    from gateway.identification.spoken_id import match_station

    m = match_station(text, words, cfg.stations, cfg.identity.spoken_threshold)
    return Heard(text, words, m, None if m.station is not None else self_named(text, words, cfg.stations))


def station_by_ani(stations: tuple[Station, ...], code: str) -> Station | None:
    return next((st for st in stations if code in st.ani), None)


def latest_assignment(s: Session, tx_id: int) -> Assignment | None:
    return s.scalar(select(Assignment).where(Assignment.transmission_id == tx_id)
                    .order_by(Assignment.at.desc(), Assignment.id.desc()).limit(1))


def _previous(s: Session, tx: Transmission) -> Transmission | None:
    """The transmission just before this one that could be a report (not kerchunk, not stuck)."""
    return s.scalar(select(Transmission).where(
        Transmission.started_at < tx.started_at, Transmission.status == "complete",
        Transmission.kerchunk.is_(False), Transmission.stuck.is_(False), Transmission.id != tx.id)
        .order_by(Transmission.started_at.desc()).limit(1))


def resolve(s: Session, tx: Transmission, cfg: Config, heard: Heard | None = None) -> Identity:
    """``heard``: :func:`hear` of the current transcript, computed before the transaction (used
    only if it is of the current transcript's text and words)."""
    reasons: list[Reason] = []
    assigned = latest_assignment(s, tx.id)
    if assigned is not None and assigned.station:
        return Identity(assigned.station, "operator", 1.0, (Reason("assigned", {
            "by": assigned.by, "at": f"{assigned.at.astimezone(cfg.tz):%Y-%m-%d %H:%M}"}),))
    if tx.ani:
        st = station_by_ani(cfg.stations, tx.ani)
        if st is not None:
            return Identity(st.name, "ani", 1.0, (Reason("ani", {
                "ani": tx.ani, "position": tx.ani_position or "?", "station": st.name}),))
        reasons.append(Reason("ani_unknown", {"ani": tx.ani}))
    else:
        reasons.append(Reason("no_ani"))
    if tx.kerchunk or tx.stuck:
        reasons.append(Reason("kerchunk" if tx.kerchunk else "stuck"))
        return Identity(None, None, None, tuple(reasons))
    transcript = current_transcript(s, tx.id)
    self_id = None
    said: tuple[tuple[str, str], ...] = ()
    if transcript is None:
        reasons.append(Reason("not_transcribed"))
    elif transcript.status != "done":
        reasons.append(Reason("transcription_failed"))
    else:
        if heard is None or not heard.of(transcript):
            heard = hear(transcript.text, transcript.words, cfg)
        m = heard.match
        if m.station is not None:
            return Identity(m.station, "voice", round(m.confidence, 3), m.reasons)
        reasons += m.reasons
        self_id, said = heard.self_id, m.said
        checked = _name_heard_again(transcript, cfg)
        if checked is not None:
            again = Reason("name_check" if checked.station else "name_check_unsure", {
                "phrase": checked.phrase, "station": checked.best, "margin": checked.margin,
                "other": checked.runner_up})
            if checked.station is not None:
                return Identity(checked.station, "voice", NAME_CHECK_CONFIDENCE, (*m.reasons, again))
            reasons.append(again)
    prev = _previous(s, tx)
    gap_limit = cfg.identity.continuation_gap_s
    if prev is not None and prev.station and prev.ended_at is not None and gap_limit > 0:
        gap = (tx.started_at - prev.ended_at).total_seconds()
        if gap <= gap_limit:
            strict = cfg.identity.strict_continuation
            against = _against_continuation(s, prev, transcript, self_id, said) if strict else None
            if against is None:
                return Identity(prev.station, "continuation", prev.identity_confidence, (Reason("continues", {
                    "tx": prev.id, "station": prev.station, "gap": round(gap, 1)}),))
            reasons.append(against)
    return Identity(None, None, None, tuple(reasons))


def _name_heard_again(transcript: TranscriptRow, cfg: Config) -> NameCheck | None:
    """The recogniser's second hearing of the caller's name, when there is one of configured stations."""
    if not cfg.identity.name_check:
        return None
    from gateway.identification.name_check import NameCheck

    checked = NameCheck.from_json(transcript.name_check)
    names = {st.name for st in cfg.stations}
    if checked is None or checked.best not in names or checked.runner_up not in names:
        return None  # the stations changed since: the check is of another list
    return checked


def _against_continuation(s: Session, prev: Transmission, transcript: TranscriptRow | None,
                          self_id: str | None, said: tuple[tuple[str, str], ...] = ()) -> Reason | None:
    """Why this call is not the continuation of ``prev`` (strict rule), or None. ``said``: station
    names said clearly in it without a cue (:attr:`SpokenMatch.said`)."""
    from gateway.lexicon.procedure import closing_word, continuation_cue, other_unit

    text = transcript.text if transcript is not None and transcript.status == "done" else ""
    if self_id is not None:
        return Reason("unresolved_self_id", {"tx": prev.id, "station": prev.station, "phrase": self_id})
    if (unit := other_unit(text)) is not None:
        return Reason("other_unit", {"tx": prev.id, "station": prev.station, "words": unit})
    cue = continuation_cue(text)
    before = current_transcript(s, prev.id)
    closed = closing_word(before.text) if before is not None and before.status == "done" else None
    if closed is not None and cue is None:
        return Reason("closed_by_procedure_word", {"tx": prev.id, "station": prev.station, "word": closed})
    if said and cue is None and prev.station not in {st for st, _ in said}:
        other, phrase = said[0]
        return Reason("names_other_station", {"tx": prev.id, "station": prev.station, "other": other,
                                              "phrase": phrase})
    return None


def apply(s: Session, tx: Transmission, cfg: Config, heard: Heard | None = None) -> bool:
    """Store the resolved identity on the row; True if it changed."""
    ident = resolve(s, tx, cfg, heard)
    before = (tx.station, tx.identity_source, tx.identity_confidence, tx.identity_reason,
              tx.identity_reason_data)
    after = (ident.station, ident.source, ident.confidence, ident.reason, dumps(ident.reasons))
    if before == after:
        return False
    (tx.station, tx.identity_source, tx.identity_confidence, tx.identity_reason,
     tx.identity_reason_data) = after
    s.flush()
    if before[0] != ident.station:
        log.info("transmission %d: %s (%s)", tx.id, ident.station or "unknown", ident.reason)
    return True


def reidentify(s: Session, tx_id: int, cfg: Config, heard: Heard | None = None) -> None:
    """Resolve a transmission (``heard``: see :func:`resolve`), then the ones after it whose
    continuation may have changed."""
    tx = s.get_one(Transmission, tx_id)
    apply(s, tx, cfg, heard)
    gap_limit = cfg.identity.continuation_gap_s
    while True:
        nxt = s.scalar(select(Transmission).where(
            Transmission.started_at > tx.started_at, Transmission.status == "complete",
            Transmission.kerchunk.is_(False), Transmission.stuck.is_(False))
            .order_by(Transmission.started_at).limit(1))
        if nxt is None or tx.ended_at is None:
            return
        if (nxt.started_at - tx.ended_at).total_seconds() > gap_limit:
            return
        if nxt.identity_source not in (None, "continuation"):
            return
        if not apply(s, nxt, cfg):
            return
        tx = nxt


def assign(s: Session, tx_id: int, station: str | None, by: str, cfg: Config, note: str = "") -> Identity:
    """Record an operator's assignment (``station`` None clears it) and re-identify."""
    if station is not None:
        known = {st.name.casefold(): st.name for st in cfg.stations}
        if station.casefold() not in known:
            raise ValueError(f"station {station!r} is not configured "
                             f"(stations: {', '.join(st.name for st in cfg.stations)})")
        station = known[station.casefold()]
    if s.get(Transmission, tx_id) is None:
        raise ValueError(f"transmission {tx_id} does not exist")
    s.add(Assignment(transmission_id=tx_id, station=station, by=by, note=note))
    s.flush()
    reidentify(s, tx_id, cfg)
    row = s.get_one(Transmission, tx_id)
    return Identity(row.station, row.identity_source, row.identity_confidence,
                    loads(row.identity_reason_data, row.identity_reason))
