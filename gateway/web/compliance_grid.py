"""The compliance chart's cells as HTML, built in one pass per row.

A 92-day chart of 15 stations has 1,380 cells; through Jinja (a loop turn, five dictionary
lookups, two ``strftime`` calls, a URL-encoding and escaping per cell) they were most of the page's
time and, with the garbage they left, its p95. Here each row is one ``str.join`` of f-strings over
values prepared once per day and per station; the markup is exactly what the template used to
write (``tests/test_web_compliance.py`` reads it).
"""

from __future__ import annotations

from jinja2.filters import do_urlencode
from markupsafe import Markup, escape

from gateway.web.queries import ComplianceView

LABELS = {"on_time": "tepat waktu", "late": "terlambat", "missing": "tidak lapor", "pending": "belum lapor"}
MARKS = {"on_time": "✓", "late": "!", "missing": "✗", "pending": "·"}
LOOK = {"on_time": "badge st-on_time", "late": "badge st-late", "missing": "badge st-pending",
        "pending": "muted"}


def row_cells(view: ComplianceView, day_titles: list[str]) -> list[Markup]:
    """Per station row, the ``<td>`` of every day, as the template writes them."""
    titles = [str(escape(t)) for t in day_titles]
    isodays = [d.isoformat() for d in view.days]
    badge = {s: f'<span class="{LOOK[s]}">{MARKS[s]}</span>' for s in LABELS}
    out = []
    for r in view.rows:
        station = str(escape(r.station))
        station_q = str(escape(do_urlencode(r.station)))
        parts = []
        for i, c in enumerate(r.cells):
            title = f"{station}, {titles[i]}: {LABELS[c.status]}"
            if c.first_report:
                title += f", lapor pertama {c.first_report:%H.%M %Z}"  # as fmt.clock writes it (07.12 WIB)
            if c.note:
                title += f" ({escape(c.note)})"
            if c.first_report:
                inner = f'<a href="/log?date={isodays[i]}&amp;station={station_q}">{badge[c.status]}</a>'
            else:
                inner = badge[c.status]
            parts.append(f'<td data-status="{c.status}" title="{title}">{inner}</td>')
        out.append(Markup("".join(parts)))
    return out
