"""A filed report's PDF as the daemon wrote it (``<data-dir>/reports/YYYY-MM-DD/``), served instead of
rendering it again on every request (1-3 s per PDF).

The file is used when its Keywords carry the revision's content hash and number
(:func:`gateway.report.render_pdf.filed_pdf_ok`); a missing, older or altered file is rendered
from the stored revision instead (and the mismatch logged). Nothing is written here: the filing job
writes the files (gateway/report/schedule.py).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def filed_path(data_dir: Path, day: date, revision: int) -> Path:
    return data_dir / "reports" / day.isoformat() / f"laporan-situasi-{day.isoformat()}-r{revision}.pdf"


def filed_pdf(data_dir: Path, day: date, revision: int, content: dict[str, Any]) -> bytes | None:
    """The stored PDF's bytes when they belong to ``content``; else None (render it)."""
    from gateway.report.render_pdf import filed_pdf_ok

    path = filed_path(data_dir, day, revision)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        log.warning("report %s rev %d: cannot read %s: %s", day, revision, path, e)
        return None
    if not filed_pdf_ok(data, content):
        log.warning("report %s rev %d: %s does not match the filed revision; rendering it again",
                    day, revision, path)
        return None
    return data
