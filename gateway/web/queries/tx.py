"""One transmission with its transcripts, neighbours and history."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    and_,
    or_,
    select,
)

from gateway.store.db import Database
from gateway.store.models import Assignment, AuditEntry, TranscriptRow, Transmission

log = logging.getLogger(__name__)


@dataclass
class TxView:
    tx: Transmission
    current: TranscriptRow | None
    history: list[TranscriptRow]  # every transcript, newest first (the current one included)
    assignments: list[Assignment]
    audit: list[AuditEntry]
    prev_id: int | None
    next_id: int | None


def tx_view(db: Database, tx_id: int) -> TxView | None:
    with db.read() as s:
        tx = s.get(Transmission, tx_id)
        if tx is None:
            return None
        history = list(s.scalars(select(TranscriptRow).where(TranscriptRow.transmission_id == tx_id)
                                 .order_by(TranscriptRow.id.desc())))
        assignments = list(s.scalars(select(Assignment).where(Assignment.transmission_id == tx_id)
                                     .order_by(Assignment.id.desc())))
        audit = list(s.scalars(select(AuditEntry).where(AuditEntry.target == f"transmission:{tx_id}")
                               .order_by(AuditEntry.id.desc()).limit(50)))
        prev_id = s.scalar(select(Transmission.id).where(_before(tx))
                           .order_by(Transmission.started_at.desc(), Transmission.id.desc()).limit(1))
        next_id = s.scalar(select(Transmission.id).where(_after(tx))
                           .order_by(Transmission.started_at, Transmission.id).limit(1))
    current = next((t for t in history if t.current), None)
    return TxView(tx, current, history, assignments, audit, prev_id, next_id)


def _before(tx: Transmission) -> ColumnElement[bool]:
    return or_(Transmission.started_at < tx.started_at,
               and_(Transmission.started_at == tx.started_at, Transmission.id < tx.id))


def _after(tx: Transmission) -> ColumnElement[bool]:
    return or_(Transmission.started_at > tx.started_at,
               and_(Transmission.started_at == tx.started_at, Transmission.id > tx.id))
