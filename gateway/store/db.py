"""The database handle: engine set-up, migrations, the schema check, and the single writer.

Migrations run only where the schema may change under nobody: at daemon start (``run``,
``process``) and by ``ht-gateway db upgrade``, both holding the data-directory lock. Every other
command calls :meth:`Database.check_schema`, which compares ``alembic_version`` with the head
revision read from the migration files (no Alembic import) and fails with one line when the
database is missing (:class:`NoDatabase`) or behind (:class:`SchemaBehind`).

SQLite (the default, ``gateway.sqlite3`` in the data directory) runs in WAL mode so the web UI can
read while the pipeline writes; all writes go through :meth:`Database.write`, which serialises them
in this process (one writer) and commits or rolls back as a whole. A PostgreSQL URL
(``postgresql+psycopg://...``) works the same way.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(RuntimeError):
    pass


class NoDatabase(StoreError):
    """There is no database (or an empty one) yet: nothing has been recorded."""


class SchemaBehind(StoreError):
    """The database's schema is older than this program's (``ht-gateway db upgrade``)."""


class Unreadable(StoreError):
    """The database file is there but SQLite cannot read it (not a database, or damaged)."""


#: SQLite's primary result codes for a file that is not, or no longer, a database it can read
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


def unreadable(e: BaseException, url: str | None) -> Unreadable | None:
    """The one line for a database file SQLite cannot read (``e``: SQLAlchemy's error or sqlite3's),
    pointing at the way back; None for any other error. Nothing is changed or moved: what is in the
    file may still be saved by hand. Restore before the next start: a restore leaves alone the rows
    that start would adopt from the recordings, so their transcripts would not come back."""
    orig = getattr(e, "orig", None) or e
    code = getattr(orig, "sqlite_errorcode", None)
    if code is None or code & 0xFF not in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return None
    from sqlalchemy.engine import make_url

    where = (make_url(url).database or safe_url(url)) if url else "the database file"
    return Unreadable(f"{where}: not a readable database ({orig}); left as it is. Move it aside "
                      "(keep it), then `ht-gateway db upgrade` and `ht-gateway restore` the days backed "
                      "up (docs/operations.md#restoring); the next start adopts the recordings on disk "
                      "that have no row")


_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)


def head_revision() -> str:
    """The newest migration's id, read from the files in migrations/versions (the one no other
    migration names as its ``down_revision``); cheap, and without importing Alembic."""
    return _revisions()[1]


@functools.cache
def _revisions() -> tuple[frozenset[str], str]:
    revisions, downs = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text_ = path.read_text(encoding="utf-8")
        if m := _REVISION.search(text_):
            revisions.add(m.group(1))
        if m := _DOWN.search(text_):
            downs.add(m.group(1))
    heads = revisions - downs
    if len(heads) != 1:
        raise StoreError(f"{MIGRATIONS / 'versions'}: expected one head revision, found {sorted(heads)}")
    return frozenset(revisions), heads.pop()


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'gateway.sqlite3'}"


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True, **_engine_options(url))
        except (SQLAlchemyError, ImportError, ValueError) as e:
            raise StoreError(f"store.url = {safe_url(url)!r}: {str(e).splitlines()[0]}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self, target: str = "head", ids: tuple[str, str] | None = None) -> None:
        """Bring the schema to the newest Alembic revision (or ``target``). Only for a process that
        holds the data directory (daemon start, ``db upgrade``): never under a running daemon.
        ``ids``: (gateway.id, channel.id) for rows stored before they existed (migration 0022)."""
        from alembic import command
        from alembic.config import Config as AlembicConfig
        from alembic.util import CommandError

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                if ids is not None:
                    cfg.attributes["gateway_id"], cfg.attributes["channel_id"] = ids
                command.upgrade(cfg, target)
        except DatabaseError as e:
            raise unreadable(e, self.url) or StoreError(
                f"store.url = {safe_url(self.url)!r}: {str(e.orig).splitlines()[0]}") from None
        except CommandError as e:  # e.g. a revision written by a newer version
            raise StoreError(f"store.url = {safe_url(self.url)!r}: cannot upgrade the schema: "
                             f"{' '.join(str(e).split())}") from None

    def exists(self) -> bool:
        """Whether a SQLite file is there (checked without connecting, which would create it)."""
        if self.dialect != "sqlite":
            return True
        path = self.engine.url.database
        return not path or path == ":memory:" or Path(path).exists()

    def current_revision(self) -> str | None:
        """The schema revision stored in the database; None when there is no schema (or no file)."""
        if not self.exists():
            return None
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table("alembic_version"):
                    return None
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DatabaseError as e:  # OperationalError among them: the server away, a locked file
            raise unreadable(e, self.url) or StoreError(
                f"store.url = {safe_url(self.url)!r}: {str(e.orig).splitlines()[0]}") from None

    def check_schema(self) -> None:
        """Raise :class:`NoDatabase` or :class:`SchemaBehind` (one line each) unless the schema is
        the head revision. Never creates or changes anything."""
        where = safe_url(self.url)
        current = self.current_revision()
        if current is None:
            raise NoDatabase(f"no database yet at {where}: nothing has been recorded "
                             "(`ht-gateway run` creates it, or `ht-gateway db upgrade`)")
        known, head = _revisions()
        if current not in known:
            raise SchemaBehind(f"the database at {where} has schema revision {current}, which this "
                               f"version does not know (newest here: {head}): a newer ht-gateway "
                               "wrote it; run that version")
        if current != head:
            raise SchemaBehind(f"the database at {where} has schema revision {current}, this version "
                               f"needs {head}: stop the daemon, then run `ht-gateway db upgrade`")

    def unreachable(self) -> str | None:
        """Why the database server cannot be reached now (one line), or None when it answers — even
        if only to refuse (a wrong password, a missing database: for the caller to report)."""
        try:
            with self.engine.connect():
                return None
        except OperationalError as e:
            why = (str(e.orig or e).splitlines() or [type(e).__name__])[0][:200]
            refused = ("authentication", "does not exist", "permission denied", "pg_hba", "too many")
            return None if any(word in why for word in refused) else why

    def tables(self) -> set[str]:
        return set(inspect(self.engine).get_table_names())

    def read(self) -> Session:
        """A session for reading (use as a context manager)."""
        return self._sessions()

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction; serialised with every other writer in this process."""
        with self._write_lock, self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()


#: PostgreSQL: seconds a connection attempt may take before it fails (a database host that is away
#: can otherwise hold a writer for the kernel's TCP timeout, minutes). ``connect_timeout`` in
#: ``store.url`` overrides it.
PG_CONNECT_TIMEOUT_S = 5


def _engine_options(url: str) -> dict[str, Any]:
    """PostgreSQL: test a pooled connection before use (after the server restarted, the pool's
    connections are dead: without the test the first statement on each fails), bound the time
    a connection attempt may take, and turn JIT compilation off."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return {}  # create_engine says what is wrong with it
    if parsed.get_backend_name() != "postgresql":
        return {}
    options: dict[str, Any] = {"pool_pre_ping": True}
    connect: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    if "options" not in parsed.query:  # the URL's own options win
        # No JIT: this is short OLTP work, and the planner's row estimates for a full-text word
        # pass the JIT threshold, so a 35 ms search took 140 ms compiling (bench/bench_office.py)
        connect["options"] = "-c jit=off"
    if connect:
        options["connect_args"] = connect
    return options


def safe_url(url: str) -> str:
    """The URL without its password, for error messages; in one that does not parse, everything
    from the first ":" after the user to the last "@" (a password may hold "/", ":" or "@")."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # only for display
        head, sep, rest = url.partition("://")
        userinfo, at, host = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        return f"{head}{sep}{user}:***@{host}" if sep and at and colon else url
