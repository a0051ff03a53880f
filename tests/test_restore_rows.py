"""``ht-gateway restore`` of a hand-edited archive whose checksums were recomputed (so they pass): every
row is checked against the columns' types and the values the product holds before anything is
written; a fault is one line naming the table, the row, the column and what is wrong, and nothing
changes (gateway/restore_rows.py). A clean archive, and a station this configuration does not
know, still restore. SQLite and a real PostgreSQL."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from daykit import DAY, build_day, snapshot
from test_web_helpers import logged_in, make_web

from gateway.backup import make_backup
from gateway.cli.main import main
from gateway.config import Config
from gateway.restore import RestoreError, restore
from gateway.store.db import Database, default_url
from gateway.transcripts import TRANSCRIPT_STATUSES
from gateway.transmit.queue import TRANSMIT_STATUSES

Rows = list[dict[str, Any]]
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def archive(example_config: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real backup of a small generated day (3 transmissions, their report), made once."""
    src = tmp_path_factory.mktemp("src")
    db = Database(default_url(src))
    db.migrate()
    build_day(db, example_config, src, next_day=False)
    out = src / "day.tar"
    make_backup(db, src, DAY, example_config.tz, out)
    db.close()
    return out


def edited(src: Path, dst: Path, table: str, edit: Callable[[Rows], None]) -> Path:
    """``src`` with ``rows/<table>.jsonl`` edited, its sha256, size and count in the manifest and the
    manifest's own sha256 recomputed, as the archive format requires (gateway/backup.py)."""
    with tarfile.open(src) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    name = f"rows/{table}.jsonl"
    rows = [json.loads(line) for line in members[name].decode().splitlines()]
    edit(rows)
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode()
    members[name] = data
    man = json.loads(members["manifest.json"])
    man["members"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    man["counts"][table] = len(rows)
    members["manifest.json"] = json.dumps(man, indent=1, sort_keys=True).encode()
    members["manifest.json.sha256"] = hashlib.sha256(members["manifest.json"]).hexdigest().encode() + b"\n"
    with tarfile.open(dst, "w") as tar:
        for member, body in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return dst


def setter(column: str, value: Any, index: int = 0) -> Callable[[Rows], None]:
    def edit(rows: Rows) -> None:
        rows[index][column] = value
    return edit


def without(column: str) -> Callable[[Rows], None]:
    def edit(rows: Rows) -> None:
        del rows[0][column]
    return edit


def duplicate_uid(rows: Rows) -> None:
    rows.append({**rows[0], "id": max(r["id"] for r in rows) + 100})


def free_event_at(value: str) -> Callable[[Rows], None]:
    def edit(rows: Rows) -> None:
        next(r for r in rows if r["transmission_id"] is None)["at"] = value
    return edit


BAD = [  # table, edit, the column the one line names
    ("transmissions", setter("kerchunk", "yes"), "kerchunk"),
    ("transmissions", setter("duration_s", "abc"), "duration_s"),
    ("transmissions", setter("id", 2 ** 70), "id"),
    ("transmissions", setter("uid", None), "uid"),
    ("transmissions", setter("uid", "../x"), "uid"),
    ("transmissions", setter("status", "weird"), "status"),
    ("transmissions", setter("id", -5), "id"),
    ("transmissions", without("sha256"), "sha256"),
    ("transmissions", setter("started_at", "2030-01-01T08:00:00+07:00"), "started_at"),
    # 00:30 on the next day in the archive's zone (Asia/Jakarta), though still the 20th in UTC
    ("transmissions", setter("started_at", "2026-11-20T17:30:00+00:00"), "started_at"),
    ("transmissions", setter("ended_at", "20261120"), "ended_at"),
    ("transmissions", setter("station", "A" * 101), "station"),
    ("transmissions", duplicate_uid, "uid"),
    ("transcripts", setter("transmission_id", 999999), "transmission_id"),
    ("transcripts", setter("text", "di sini\x00camat"), "text"),
    ("transcripts", setter("current", 1), "current"),
    ("events", free_event_at("2026-11-20T17:30:00+00:00"), "at"),
    ("followups", setter("status", "weird"), "status"),
    ("transmit_queue", setter("status", "stopped"), "status"),  # a stopped send is left pending
    ("report_revisions", setter("day", "2026-11-21"), "day"),
]


def counts(db: Database) -> dict[str, int]:
    return {t: len(rows) for t, rows in snapshot(db, DAY).items()}


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


@pytest.mark.parametrize(("table", "edit", "column"), BAD,
                         ids=[f"{t}.{c}-{i}" for i, (t, _e, c) in enumerate(BAD)])
def test_a_hand_edited_row_is_refused_with_one_line_and_nothing_changes(
        db: Database, archive: Path, tmp_path: Path, table: str, edit: Callable[[Rows], None],
        column: str) -> None:
    data = tmp_path / "data"
    bad = edited(archive, tmp_path / "bad.tar", table, edit)
    before = counts(db)
    with pytest.raises(RestoreError) as e:
        restore(db, data, bad)
    msg = str(e.value)
    assert "\n" not in msg and "damaged archive" in msg and msg.endswith("; nothing restored"), msg
    assert f"rows/{table}.jsonl" in msg and f": {column}: " in msg, msg
    assert counts(db) == before and files(data) == [], "nothing restored"
    # the archive as it was made still restores into the same database
    done = restore(db, data, archive)
    assert done.inserted["transmissions"] == 3 and counts(db)["transmissions"] == 3


def test_the_command_line_says_one_line_and_exits_2(archive: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()

    def cli(*args: str) -> int:
        return main(["--config", str(REPO / "config" / "tapanuli-utara.toml"), "--data-dir", str(data),
                     *args])

    assert cli("db", "upgrade") == 0
    capsys.readouterr()
    for n, (table, edit, column) in enumerate(BAD[:4]):  # the ones that were tracebacks
        bad = edited(archive, tmp_path / f"bad{n}.tar", table, edit)
        assert cli("restore", str(bad)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"restore: {bad}: damaged archive: rows/{table}.jsonl" in err, err
        assert f": {column}: " in err and err.rstrip().endswith("nothing restored"), err
    db = Database(default_url(data))
    try:
        assert sum(counts(db).values()) == 0 and files(data / "recordings") == []
    finally:
        db.close()


def test_a_station_this_gateway_does_not_know_is_kept_but_not_any_text(
        db: Database, archive: Path, example_config: Config, tmp_path: Path) -> None:
    """An archive may come from a gateway whose configuration had other stations: its rows are
    restored as they are and the pages show them; a value the column cannot hold is still refused."""
    data = tmp_path / "data"
    long = edited(archive, tmp_path / "long.tar", "transmissions", setter("station", "A" * 101))
    with pytest.raises(RestoreError, match=r"damaged archive: .*: station: 'AAAA.* longer than 100"):
        restore(db, data, long)
    # the first instant of the archive's day (local midnight, the 19th in UTC) is inside it
    def atlantis(rows: Rows) -> None:
        rows[0]["station"] = "Atlantis"
        rows[0]["started_at"] = "2026-11-19T17:00:00+00:00"

    done = restore(db, data, edited(archive, tmp_path / "atlantis.tar", "transmissions", atlantis))
    assert done.inserted["transmissions"] == 3
    tx = next(r for r in snapshot(db, DAY)["transmissions"] if r["station"] == "Atlantis")
    cfg = dataclasses.replace(example_config, gateway=dataclasses.replace(example_config.gateway,
                                                                          kabupaten="Tapanuli Utara"))
    client = logged_in(make_web(db, data, cfg), "vivi")
    page = client.get(f"/log?date={DAY.isoformat()}")
    assert page.status_code == 200 and "Atlantis" in page.text
    assert f'href="/tx/{tx["id"]}"' in page.text
    one = client.get(f"/tx/{tx['id']}")
    assert one.status_code == 200 and "Atlantis" in one.text
    assert client.get(f"/audio/{tx['id']}").status_code == 200


def test_an_id_beyond_postgresql_integer_is_refused_there(pg_url: str, archive: Path, tmp_path: Path) -> None:
    """PostgreSQL's INTEGER columns hold 32 bits (SQLite's 64): such an id does not fit, one line."""
    db = Database(pg_url)
    db.migrate()
    try:
        def big_id(rows: Rows) -> None:  # an event no row points to
            next(r for r in rows if r["transmission_id"] is None)["id"] = 2 ** 40

        big = edited(archive, tmp_path / "big.tar", "events", big_id)
        with pytest.raises(RestoreError) as e:
            restore(db, tmp_path / "data", big)
        msg = str(e.value)
        assert "\n" not in msg and "does not fit this database" in msg and ": id: 1099511627776" in msg, msg
        assert sum(counts(db).values()) == 0 and files(tmp_path / "data") == []
    finally:
        db.close()


# -- the statuses restore accepts are the ones the code sets -----------------------------------

#: Per table: its model, its statuses, the modules that set them, and what those set but never store.
WRITERS = {
    "transmit_queue": ("TransmitMessage", TRANSMIT_STATUSES,
                       ("gateway/transmit/queue.py", "gateway/transmit/worker.py",
                        "gateway/transmit/transmitter.py"),
                       {"stopped"}),  # the transmitter's: the worker then leaves the message pending
    "transcripts": ("TranscriptRow", TRANSCRIPT_STATUSES,
                    ("gateway/transcripts.py", "gateway/web/actions.py"), set()),
}


def _callee(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _statuses_set(path: Path) -> set[str]:
    """The strings a module sets as a ``status``: ``status=`` arguments and parameter defaults,
    ``status = ...`` and ``x.status = ...`` (also inside a tuple), an argument given by position to a
    ``status`` parameter or field of the module's own functions and dataclasses, and what its own
    function returns when that is set as a status; through ``a if c else b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defs = {d.name: d for d in ast.walk(tree) if isinstance(d, ast.FunctionDef | ast.ClassDef)}

    def params(d: ast.FunctionDef | ast.ClassDef) -> list[str]:  # positional, or a dataclass's fields
        if isinstance(d, ast.ClassDef):
            return [f.target.id for f in d.body
                    if isinstance(f, ast.AnnAssign) and isinstance(f.target, ast.Name)]
        return [a.arg for a in d.args.args if a.arg != "self"]

    def values(node: ast.expr | None) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return values(node.body) | values(node.orelse)
        if isinstance(node, ast.Call) and isinstance(fn := defs.get(_callee(node)), ast.FunctionDef):
            return set().union(*(values(r.value) for r in ast.walk(fn) if isinstance(r, ast.Return)))
        return set()

    def named_status(target: ast.expr) -> bool:
        return (target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)) == "status"

    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            out |= set().union(*(values(k.value) for k in n.keywords if k.arg == "status"))
            if (d := defs.get(_callee(n))) is not None and "status" in params(d):
                i = params(d).index("status")
                out |= values(n.args[i]) if i < len(n.args) else set()
        elif isinstance(n, ast.FunctionDef):
            args = [*n.args.posonlyargs, *n.args.args]
            pairs = [*zip(args[len(args) - len(n.args.defaults):], n.args.defaults, strict=True),
                     *zip(n.args.kwonlyargs, n.args.kw_defaults, strict=True)]
            out |= set().union(*(values(v) for a, v in pairs if a.arg == "status"))
        elif isinstance(n, ast.Assign | ast.AnnAssign):
            for target in n.targets if isinstance(n, ast.Assign) else [n.target]:
                if isinstance(target, ast.Tuple) and isinstance(n.value, ast.Tuple):
                    out |= set().union(*(values(v) for t, v in zip(target.elts, n.value.elts, strict=True)
                                         if named_status(t)))
                elif named_status(target):
                    out |= values(n.value)
    return out


def _makes(node: ast.AST, model: str) -> bool:
    """``Model(...)``, or ``update(Model)....values(status=...)``."""
    if not isinstance(node, ast.Call):
        return False
    return _callee(node) == model or (_callee(node) == "values" and f"update({model})" in ast.unparse(node)
                                      and any(k.arg == "status" for k in node.keywords))


@pytest.mark.parametrize("table", WRITERS)
def test_the_statuses_restore_accepts_are_exactly_the_ones_the_code_sets(table: str) -> None:
    from gateway.restore_rows import STATUSES

    model, statuses, modules, never_stored = WRITERS[table]
    assert STATUSES[table] is statuses  # restore's are the constant
    found = set().union(*(_statuses_set(REPO / m) for m in modules))
    assert found - never_stored == set(statuses), "a status set that is not in the constant, or the reverse"
    # every module that makes the table's rows, or sets their status in an update(), is scanned
    makers = {str(p.relative_to(REPO)) for p in (REPO / "gateway").rglob("*.py")
              if any(_makes(c, model) for c in ast.walk(ast.parse(p.read_text(encoding="utf-8"))))}
    assert makers <= set(modules), makers - set(modules)
