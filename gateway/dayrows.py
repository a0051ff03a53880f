"""Which rows belong to a day: the one rule ``ht-gateway backup`` packs and retention deletes by.

A local day D (``gateway.timezone``) owns

- its **transmissions**: complete rows whose ``started_at`` falls in D (rows still ``recording``
  belong to the writer and recovery, never to a backup or a purge), optionally of some gateways only;
- what is keyed by them: their **transcripts** (current or not) and each transcript's **extract**,
  operator **assignments**, **events** naming them, **report_terms** and **followups** naming them,
  and **transmit_queue** messages that came back as them;
- the **events** of D that name no transmission (a stuck squelch, an overflow);
- D's filed **report revisions** and each revision's mail **delivery**.

Web users, sessions and the audit log are not a day's (the audit log names rows by id, which a
restore into another database may change). :data:`TABLES` is the order rows are written in (a
table after the ones it points to) and the reverse of the order they are deleted in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Date, Table, select
from sqlalchemy.engine import Connection

from gateway.store.models import (
    Base,
    UTCDateTime,
)
from gateway.timeutil import day_bounds

#: The day's tables, parents first.
TABLES: tuple[str, ...] = ("transmissions", "transcripts", "transcript_extracts", "assignments", "events",
                           "report_terms", "followups", "transmit_queue", "report_revisions",
                           "report_deliveries")
_CHUNK = 500


def table(name: str) -> Table:
    return Base.metadata.tables[name]


@dataclass
class DayRows:
    """A day's rows, table by table, as plain column dicts (Python values: aware datetimes, dates)."""

    day: date
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in TABLES})

    def ids(self, name: str, column: str = "id") -> list[int]:
        return [r[column] for r in self.rows[name]]

    def counts(self) -> dict[str, int]:
        return {t: len(v) for t, v in self.rows.items()}


def chunks(items: Sequence[Any], n: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _by(conn: Connection, name: str, column: str, values: Sequence[Any]) -> list[dict[str, Any]]:
    t = table(name)
    out: list[dict[str, Any]] = []
    for part in chunks(sorted(set(values))):
        out += [dict(r._mapping) for r in conn.execute(select(t).where(t.c[column].in_(part))
                                                       .order_by(*t.primary_key.columns))]
    return out


def collect(conn: Connection, day: date, tz: ZoneInfo, gateways: Iterable[str] = ()) -> DayRows:
    """Every row of ``day`` (see the module docstring), read on ``conn`` (one snapshot when the caller
    opened a transaction on it)."""
    lo, hi = day_bounds(day, tz)
    out = DayRows(day)
    tx = table("transmissions")
    q = select(tx).where(tx.c.started_at >= lo, tx.c.started_at < hi, tx.c.status == "complete")
    if gateways := sorted(set(gateways)):
        q = q.where(tx.c.gateway_id.in_(gateways))
    out.rows["transmissions"] = [dict(r._mapping) for r in conn.execute(q.order_by(tx.c.started_at, tx.c.id))]
    tx_ids = out.ids("transmissions")
    out.rows["transcripts"] = _by(conn, "transcripts", "transmission_id", tx_ids)
    out.rows["transcript_extracts"] = _by(conn, "transcript_extracts", "transcript_id",
                                          out.ids("transcripts"))
    out.rows["assignments"] = _by(conn, "assignments", "transmission_id", tx_ids)
    ev = table("events")
    named = _by(conn, "events", "transmission_id", tx_ids)
    free = [dict(r._mapping) for r in conn.execute(select(ev).where(
        ev.c.transmission_id.is_(None), ev.c.at >= lo, ev.c.at < hi).order_by(ev.c.id))]
    out.rows["events"] = sorted(named + free, key=lambda r: r["id"])
    out.rows["report_terms"] = _by(conn, "report_terms", "transmission_id", tx_ids)
    out.rows["followups"] = _by(conn, "followups", "transmission_id", tx_ids)
    out.rows["transmit_queue"] = _by(conn, "transmit_queue", "transmission_id", tx_ids)
    out.rows["report_revisions"] = _by(conn, "report_revisions", "day", [day])
    out.rows["report_deliveries"] = _by(conn, "report_deliveries", "revision_id", out.ids("report_revisions"))
    return out


def delete_transmissions(conn: Connection, tx_ids: Sequence[int]) -> dict[str, int]:
    """Delete transmissions and every row keyed by them (children first); messages that came back as
    them lose that link. Report revisions are not touched. Returns the rows deleted per table."""
    deleted = {t: 0 for t in TABLES}
    tr, ex = table("transcripts"), table("transcript_extracts")
    tx, q = table("transmissions"), table("transmit_queue")
    for part in chunks(list(tx_ids)):
        tr_ids = list(conn.scalars(select(tr.c.id).where(tr.c.transmission_id.in_(part))))
        for tp in chunks(tr_ids):
            gone = conn.execute(ex.delete().where(ex.c.transcript_id.in_(tp)))
            deleted["transcript_extracts"] += gone.rowcount
        for name in ("transcripts", "assignments", "events", "report_terms", "followups"):
            t = table(name)
            deleted[name] += conn.execute(t.delete().where(t.c.transmission_id.in_(part))).rowcount
        conn.execute(q.update().where(q.c.transmission_id.in_(part)).values(transmission_id=None))
        deleted["transmissions"] += conn.execute(tx.delete().where(tx.c.id.in_(part))).rowcount
    return deleted


def delete_free_events(conn: Connection, lo: datetime, hi: datetime) -> int:
    """Delete the events of [lo, hi) that name no transmission."""
    ev = table("events")
    return int(conn.execute(ev.delete().where(ev.c.transmission_id.is_(None), ev.c.at >= lo,
                                              ev.c.at < hi)).rowcount)


# --- rows as JSON: by column type, the same both ways ---------------------------------------------

def to_json(name: str, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for col in table(name).columns:
        value = row.get(col.name)
        if value is not None and isinstance(col.type, UTCDateTime):
            value = value.isoformat()
        elif value is not None and isinstance(col.type, Date):
            value = value.isoformat()
        out[col.name] = value
    return out


def from_json(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """A row read back; ValueError for a column this schema does not have or a bad value."""
    t = table(name)
    unknown = set(data) - set(t.columns.keys())
    if unknown:
        raise ValueError(f"{name}: unknown column(s) {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for col in t.columns:
        value = data.get(col.name)
        out[col.name] = _parse(col, value) if value is not None else None
    return out


def _parse(col: Column[Any], value: Any) -> Any:
    if isinstance(col.type, UTCDateTime):
        dt = datetime.fromisoformat(value)
        if dt.tzinfo is None:
            raise ValueError(f"{col.table.name}.{col.name}: {value!r} has no UTC offset")
        return dt
    if isinstance(col.type, Date):
        return date.fromisoformat(value)
    return value
