"""The demo channel: a morning of camat reports synthesised with espeak-ng (gateway.sim).

Used by ``ht-gateway run`` when no radio is configured. The recording is generated once into
``<data>/demo/`` (temporary name, then renamed) and dated today, at the scenario's time of day.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

SCENARIO = "demo_tapanuli.json"


def scenario_path() -> Path:
    return Path(str(resources.files("gateway.sim") / "scenarios" / SCENARIO))


def demo_channel(data_dir: Path, tz: ZoneInfo, today: datetime | None = None) -> tuple[Path, datetime]:
    from gateway.sim.channel import load_scenario, write_channel

    scenario = load_scenario(scenario_path())
    out = data_dir / "demo" / SCENARIO.replace(".json", ".flac")
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}.tmp.flac")
        log.info("synthesising the demo channel with espeak-ng into %s", out)
        write_channel(scenario, tmp)
        os.replace(tmp, out)
        truth = tmp.with_name(f"{tmp.stem}.truth.json")
        if truth.exists():
            os.replace(truth, out.with_name(f"{out.stem}.truth.json"))
    at = datetime.fromisoformat(scenario["recording_start"]).astimezone(tz)
    day = (today or datetime.now(tz)).astimezone(tz)
    start = day.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    return out, start
