"""Why a transmission has (or lacks) a station, in Indonesian for the web UI.

The reasons are stored as data (codes and parameters, :mod:`gateway.reasons`); they are said here
from the same table the CLI uses for English. A row identified before reasons were data shows its
stored text as it is (the ``legacy`` code) until it is identified again.
"""

from __future__ import annotations

from typing import Any

from gateway.reasons import loads, say_all


def reason_id(tx: Any) -> str:
    """A transmission's identity reasons in Indonesian (``tx``: a row with ``identity_reason_data``
    and ``identity_reason``)."""
    data, text = getattr(tx, "identity_reason_data", None), getattr(tx, "identity_reason", None)
    return say_all(loads(data, text), "id")
