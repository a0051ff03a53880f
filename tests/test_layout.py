"""The house matches its plan: the README's module table names the files that exist, its command
synopsis is the parser's, and each shared table (day names, settings) lives in one place."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from gateway.cli import doc

REPO = Path(__file__).resolve().parent.parent
GATEWAY = REPO / "gateway"


def _module_table() -> list[str]:
    readme = (REPO / "README.md").read_text()
    table = readme.split("| module | stage |", 1)[1].split("\n\n", 1)[0]
    return [path for row in table.splitlines()[2:]
            for path in re.findall(r"`(gateway/[^`]*)`", row.split(" | ")[0])]


def test_every_path_in_the_module_table_exists() -> None:
    paths = _module_table()
    assert len(paths) > 20
    missing = [p for p in paths if not (REPO / p).exists()]
    assert missing == []


def test_every_module_and_package_is_in_the_module_table() -> None:
    """Each top-level module and each package of gateway/ is named (a package by its folder)."""
    named = set(_module_table())
    tree = {f"gateway/{p.name}" for p in GATEWAY.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    tree |= {f"gateway/{p.name}/" for p in GATEWAY.iterdir() if (p / "__init__.py").is_file()}
    # a module inside a package counts for its package when the table names only the module
    named |= {p.split("/", 2)[0] + "/" + p.split("/", 2)[1] + "/" for p in named if p.count("/") >= 2}
    readme = (REPO / "README.md").read_text()
    unnamed = sorted(p for p in tree if p not in named and f"`{p.removeprefix('gateway/')}`" not in readme)
    assert unnamed == []


def test_readme_command_synopsis_is_the_parsers() -> None:
    readme = (REPO / "README.md").read_text()
    assert doc.BEGIN in readme and doc.END in readme
    assert doc.readme_with_table(readme) == readme, "README drifted: python -m gateway.cli.doc --write"


def test_help_lists_the_commands_of_the_synopsis() -> None:
    out = subprocess.run([sys.executable, "-m", "gateway", "--help"], capture_output=True, text=True,
                         cwd=REPO, timeout=60).stdout
    listed = re.findall(r"^\s{4}(\w+)\s", out, flags=re.M)
    in_table = re.findall(r"^\| `ht-gateway (\w+)", doc.table(), flags=re.M)
    assert listed == in_table and "report" in listed


def test_day_names_are_one_table() -> None:
    from gateway import timeutil
    from gateway.report import render
    from gateway.web import views

    assert views.WEEKDAYS is timeutil.DAYS and render.DAYS is timeutil.DAYS
    assert timeutil.DAYS[date(2026, 11, 20).weekday()] == "Jumat"  # 20 November 2026 is a Friday
    assert timeutil.DAYS[date(2024, 8, 17).weekday()] == "Sabtu"  # 17 Agustus 2024 was a Saturday
    assert render.MONTHS is timeutil.MONTHS and timeutil.MONTHS[7] == "Agustus"


def test_settings_depend_on_nothing_of_the_stages() -> None:
    """gateway/config_model.py imports no stage: the stages import their settings from it."""
    text = (GATEWAY / "config_model.py").read_text()
    imports = re.findall(r"^from (gateway\.\S+) import", text, flags=re.M)
    assert imports == ["gateway.config_radio", "gateway.config_transmit"]  # settings modules only
    for name in imports:
        other = (GATEWAY / (name.split(".")[1] + ".py")).read_text()
        assert not re.findall(r"^from gateway\.", other, flags=re.M), f"{name} imports from gateway"
    from gateway.config import DtmfConfig
    from gateway.identification import dtmf

    assert dtmf.DtmfConfig is DtmfConfig
