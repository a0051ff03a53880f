"""Indexes for the web UI on a large database (see bench/README.md, bench_web.py).

SQLite has no statistics (no ANALYZE), so it picks among indexes by shape alone:

- ``status = 'complete' AND started_at`` in a day (Hari ini, check-ins, the compliance chart) went
  through the one-column status index and read every complete row: (status, started_at) makes it
  one index range;
- the newest transmission per station (Hari ini's "last heard") scanned the table through the
  station index: (station, started_at) makes it an index scan, and a seek per station;
- the log's join to the current transcript (``transmission_id = ? AND current``) chose between the
  one-column transmission_id and current indexes by their order in the schema, which the batch
  table copy of migration 0004 leaves to chance; with ``current`` each log row read every current
  transcript: (transmission_id, current) wins either way.

How slow each was, and after: bench/README.md, "Reading it: what was slow, what 0006 fixed".

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transmissions_status_started_at", "transmissions", ["status", "started_at"])
    op.create_index("ix_transmissions_station_started_at", "transmissions", ["station", "started_at"])
    op.create_index("ix_transcripts_transmission_id_current", "transcripts", ["transmission_id", "current"])


def downgrade() -> None:
    op.drop_index("ix_transcripts_transmission_id_current", table_name="transcripts")
    op.drop_index("ix_transmissions_station_started_at", table_name="transmissions")
    op.drop_index("ix_transmissions_status_started_at", table_name="transmissions")
