"""The README's command synopsis, generated from the parser: ``python -m gateway.cli.doc``.

Prints the table (``--write`` puts it into README.md between the ``commands:begin``/``commands:end``
markers); ``tests/test_layout.py`` fails when README.md's copy differs from what the parser says.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from gateway.cli.main import build_parser

BEGIN, END = "<!-- commands:begin (python -m gateway.cli.doc --write) -->", "<!-- commands:end -->"
_COMMON = re.compile(r" \[-h\]| \[--config PATH\]| \[--data-dir PATH\]| \[-v\]")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def table() -> str:
    """One row per command: its synopsis (global options left out) and its help line."""
    rows = ["| synopsis | |", "|---|---|"]
    for p in _subcommands(build_parser()).values():
        usage = " ".join(p.format_usage().split())  # one line, however argparse wrapped it
        usage = _COMMON.sub("", usage.removeprefix("usage: ")).replace("|", "\\|")
        rows.append(f"| `{usage}` | {(p.description or '').replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def readme_with_table(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    return head + BEGIN + "\n" + table() + END + rest.split(END, 1)[1]


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        readme = Path(__file__).resolve().parents[2] / "README.md"
        readme.write_text(readme_with_table(readme.read_text()))
        return 0
    sys.stdout.write(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
