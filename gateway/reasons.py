"""Why a transmission has (or lacks) its station, as data: a code and its parameters.

:mod:`gateway.identify` and :mod:`gateway.spoken_id` produce :class:`Reason` values; they are
stored as JSON (``transmissions.identity_reason_data``) and said in words only when shown, from
ONE table (:data:`TEXT`): English for the CLI and the log (also kept in ``identity_reason``),
Indonesian for the web UI (:mod:`gateway.web.reasons`). Nothing reads the words back.

Rows identified before reasons were data (migration 0018_lexicon) have only the English text; they read as
the code ``legacy`` with that text until they are identified again (``ht-gateway identify``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

LANGS = ("en", "id")


@dataclass(frozen=True)
class Reason:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


#: code -> (English, Indonesian). ``{context}`` is a :data:`CONTEXT` dict, ``{names}`` a list.
TEXT: dict[str, tuple[str, str]] = {
    "assigned": ("assigned by {by} at {at}", "ditetapkan oleh {by} pada {at}"),
    "ani": ("ANI {ani} ({position}) is {station}", "ID otomatis radio {ani} milik {station}"),
    "ani_unknown": ("ANI {ani} belongs to no configured station",
                    "ID otomatis radio {ani} tidak terdaftar pada stasiun mana pun"),
    "no_ani": ("no ANI", "tanpa ID otomatis radio"),
    "kerchunk": ("kerchunk", "tekan singkat tanpa suara"),
    "stuck": ("stuck squelch", "penerima terus terbuka"),
    "not_transcribed": ("not transcribed yet", "belum ditranskripsi"),
    "transcription_failed": ("transcription failed", "transkripsi gagal"),
    "no_stations": ("no stations configured", "belum ada stasiun dalam konfigurasi"),
    "empty_transcript": ("empty transcript", "transkrip kosong"),
    "no_name": ("no station name spoken", "tidak ada nama stasiun yang diucapkan"),
    "no_name_closest": ("no station name spoken (closest: {station} {confidence:.2f})",
                        "tidak ada nama stasiun yang diucapkan (terdekat: {station} {confidence:.2f})"),
    "prompt_echo": ("only a list of station names ({names}): the recogniser echoing its prompt, not a caller",
                    "hanya deretan nama stasiun ({names}): gema dari petunjuk pengenal, bukan pemanggil"),
    "ignored_list": ("ignored a list of names ({names})", "deretan nama diabaikan ({names})"),
    "name_repeated": ("{station} said {times} times in a row: the one called, or the recogniser repeating "
                      "itself, not the caller",
                      "{station} disebut {times} kali berturut-turut: yang dipanggil, atau pengenal "
                      "mengulang-ulang, bukan pemanggil"),
    "below_threshold": ("best candidate {station} {confidence:.2f} < {threshold:.2f} ('{phrase}', {context})",
                        "calon terbaik {station} {confidence:.2f} < {threshold:.2f} ('{phrase}', {context})"),
    "two_equal": ("two stations equally likely: {station} {confidence:.2f}, {other} {other_confidence:.2f}",
                  "dua stasiun sama kuat: {station} {confidence:.2f}, {other} {other_confidence:.2f}"),
    "voice": ("'{phrase}' ≈ {station} ({how}, {context})", "'{phrase}' ≈ {station} ({how}, {context})"),
    "name_check": ("the recogniser, asked again, hears '{phrase}' as {station} "
                   "({margin:.1f} ahead of {other})",
                   "pengenal suara, ditanya ulang, mendengar '{phrase}' sebagai {station} "
                   "(unggul {margin:.1f} atas {other})"),
    "name_check_unsure": ("the recogniser, asked again, hears no station clearly in '{phrase}' "
                          "({station} only {margin:.1f} ahead of {other})",
                          "pengenal suara, ditanya ulang, tidak jelas mendengar stasiun dalam '{phrase}' "
                          "({station} hanya unggul {margin:.1f} atas {other})"),
    "continues": ("continues transmission {tx} ({station}) {gap:.1f} s later",
                  "lanjutan transmisi {tx} ({station}), {gap:.1f} s kemudian"),
    "closed_by_procedure_word": (
        "no continuation: transmission {tx} ({station}) ended with '{word}' and this one opens with no "
        "continuation cue (tambahan, lanjut, ralat, koreksi)",
        "bukan lanjutan: transmisi {tx} ({station}) ditutup dengan '{word}' dan transmisi ini tidak dibuka "
        "dengan kata lanjutan (tambahan, lanjut, ralat, koreksi)"),
    "other_unit": (
        "no continuation of transmission {tx} ({station}): the call opens with another unit's call sign "
        "('{words}')",
        "bukan lanjutan transmisi {tx} ({station}): panggilan dibuka dengan tanda panggil unit lain "
        "('{words}')"),
    "unresolved_self_id": (
        "no continuation of transmission {tx} ({station}): the caller names himself ('{phrase}') as no "
        "configured station",
        "bukan lanjutan transmisi {tx} ({station}): pemanggil menyebut dirinya ('{phrase}'), bukan stasiun "
        "yang terdaftar"),
    "names_other_station": (
        "no continuation of transmission {tx} ({station}): the call says another station's name "
        "('{phrase}': {other}) and opens with no continuation cue",
        "bukan lanjutan transmisi {tx} ({station}): panggilan menyebut nama stasiun lain "
        "('{phrase}': {other}) dan tidak dibuka dengan kata lanjutan"),
    "legacy": ("{text}", "{text}"),
}
#: How a name stands in the call (spoken_id's context), and the recogniser's doubt about it.
CONTEXT: dict[str, tuple[str, str]] = {
    "after": ("after '{words}'", "setelah '{words}'"),
    "before": ("before '{words}'", "sebelum '{words}'"),
    "village": ("after '{words}'", "setelah '{words}'"),
    "place": ("a place or the one called, after '{words}'", "tempat atau yang dipanggil, setelah '{words}'"),
    "opening": ("opens the call, no cue word", "membuka panggilan, tanpa kata penanda"),
    "none": ("no cue word", "tanpa kata penanda"),
}
THEN = (" and before '{words}'", " dan sebelum '{words}'")  # a name between two cues
REST = ("; part of the name only: '{words}' follows", "; hanya sebagian nama: diikuti '{words}'")
UNSURE = ("; the recogniser is unsure of it (p {p:.3f})", "; pengenal ragu akan kata itu (p {p:.3f})")
HOW = {"exact": ("exact", "persis"), "spelling": ("spelling", "ejaan"), "phonetic": ("phonetic", "bunyi")}


def _context(ctx: Mapping[str, Any], lang: int) -> str:
    text = CONTEXT[ctx["kind"]][lang].format(words=ctx.get("words", ""))
    if ctx.get("then"):
        text += THEN[lang].format(words=ctx["then"])
    if ctx.get("rest"):
        text += REST[lang].format(words=ctx["rest"])
    if ctx.get("unsure_p") is not None:
        text += UNSURE[lang].format(p=ctx["unsure_p"])
    return text


def say(reason: Reason, lang: str = "en") -> str:
    """One reason in words (``lang`` "en" or "id")."""
    i = LANGS.index(lang)
    p = dict(reason.params)
    if "context" in p:
        p["context"] = _context(p["context"], i)
    if "names" in p:
        p["names"] = ", ".join(p["names"])
    if "how" in p:
        how = HOW[p["how"]][i]
        p["how"] = how if p["how"] == "exact" else f"{how} {p['similarity']:.2f}"
    p.setdefault("position", "?")
    template = TEXT[reason.code][i] if reason.code in TEXT else "{code}"
    return template.format(code=reason.code, **p)


def say_all(reasons: Iterable[Reason], lang: str = "en") -> str:
    return "; ".join(say(r, lang) for r in reasons)


def dumps(reasons: Sequence[Reason]) -> str:
    return json.dumps([r.to_dict() for r in reasons], ensure_ascii=False)


def loads(data: str | None, text: str | None = None) -> tuple[Reason, ...]:
    """Stored reasons; a row with only the old English text reads as one ``legacy`` reason."""
    if data:
        return tuple(Reason(d["code"], d.get("params") or {}) for d in json.loads(data))
    return (Reason("legacy", {"text": text}),) if text else ()
