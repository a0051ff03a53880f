"""Time helpers every stage shares: a local day's bounds in the configured time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: The days a gateway's rows and recordings can have, and the command line takes: a day's bounds in
#: any time zone, the day before and after, stay inside ``datetime``, and retention can date them.
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2099, 12, 31)

#: Days whose bounds are computable in every zone (UTC offsets stay inside datetime's range);
#: the command line takes MIN_DATE..MAX_DATE (``gateway.cli.common.iso_date``).
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight; ValueError for a day at the calendar's edges."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day}: outside {FIRST_DAY}..{LAST_DAY}")
    start = datetime.combine(day, time(0), tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tz)


#: Indonesian day names, Monday first (``DAYS[d.weekday()]``): the web UI's and the report's.
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
#: Indonesian month names, January first (``MONTHS[d.month - 1]``).
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")
