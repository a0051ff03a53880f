"""The docs promise what the code does: two Quick start commands that exist, documented commands."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.cli import build_parser

REPO = Path(__file__).resolve().parent.parent


def _quick_start() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert block, "Quick start has a sh code block"
    return [ln for ln in block.group(1).splitlines() if ln.strip()]


def test_quick_start_is_exactly_two_commands_that_exist() -> None:
    cmds = _quick_start()
    assert len(cmds) == 2
    for c in cmds:
        script = REPO / c.split()[0]
        assert script.is_file() and script.stat().st_mode & 0o111, c


def test_ci_runs_the_quick_start_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    test_cmd = next(c for c in _quick_start() if "test" in c)
    assert test_cmd in ci


def test_every_subcommand_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"ht-gateway {name}" in readme, name
