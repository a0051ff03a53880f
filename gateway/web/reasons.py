"""Why a transmission has (or lacks) a station, in Indonesian for the web UI.

The reasons are stored as data (codes and parameters, :mod:`gateway.reasons`); they are said here
from the same table the CLI uses for English. A row identified before reasons were data shows its
stored text as it is (the ``legacy`` code) until it is identified again. A moment in a reason (when
an operator assigned the station) is said as the rest of the UI says times: ``20-11-2026 07.12 WIB``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from gateway.reasons import Reason, loads, say_all
from gateway.web.fmt import local


def _local_at(reason: Reason, tz: tzinfo | None) -> Reason:
    """``assigned``'s ``at`` (stored as the configured zone's wall time, ``2026-11-20 07:12``, or ISO with an
    offset) in the UI's format; a value that is no time stays as it is."""
    at = reason.params.get("at")
    if reason.code != "assigned" or tz is None or not isinstance(at, str):
        return reason
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return reason
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return Reason(reason.code, {**reason.params, "at": local(moment, tz, "%d-%m-%Y %H:%M")})


def reason_id(tx: Any, tz: tzinfo | None = None) -> str:
    """A transmission's identity reasons in Indonesian (``tx``: a row with ``identity_reason_data``
    and ``identity_reason``); with ``tz``, times as the UI writes them."""
    data, text = getattr(tx, "identity_reason_data", None), getattr(tx, "identity_reason", None)
    return say_all((_local_at(r, tz) for r in loads(data, text)), "id")
