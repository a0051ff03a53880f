"""Command line: ``python -m gateway.sim SCENARIO.json OUT.flac`` (or OUT.wav).

Writes the recording and ``OUT.truth.json`` beside it, and prints one line per item.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from gateway.sim.channel import load_scenario, write_channel

log = logging.getLogger(__name__)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway.sim", description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path, help="scenario JSON file")
    parser.add_argument("out", type=Path, help="output audio file, .flac or .wav")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        truth = write_channel(load_scenario(args.scenario), args.out)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for tx in truth["transmissions"]:
        label = tx.get("station") or tx.get("kind", "speech")
        ani = f" ANI {tx['ani']}" if tx.get("ani") else ""
        print(f"{tx['start_s']:8.3f} - {tx['end_s']:8.3f}  {label}{ani}")
    truth_name = f"{args.out.stem}.truth.json"
    print(f"{args.out}: {truth['duration_s']:.3f} s at {truth['rate']} Hz, truth in {truth_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
