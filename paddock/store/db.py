"""Engine, sessions, SQLite pragmas, migrations at start-up."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# How often a SQLite transaction refused for a stale snapshot is run again (Database.call).
SQLITE_BUSY_RETRIES = 6
# The newest migration's revision. A test checks it against the migrations folder.
HEAD_REVISION = "0016"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # NORMAL is durable in WAL mode except for the last transactions on power loss,
    # and avoids an fsync per commit: the log pipeline commits many times a second.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision. Serialised, since Alembic is not thread-safe.

    A database already at the head is left alone without loading Alembic at all: that keeps
    ~10 MB of modules out of a running server.
    """
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    rebuilding = _sqlite_file_engine(engine)
    runner = rebuilding if rebuilding is not None else engine
    try:
        with _migrate_lock, runner.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            if rebuilding is not None:
                _check_references(conn)
    finally:
        if rebuilding is not None:
            rebuilding.dispose()


def _sqlite_file_engine(engine: Engine) -> Engine | None:
    """For a SQLite file: an engine whose one transaction holds the whole upgrade, DDL too,
    with foreign keys off. SQLite changes a table by rebuilding it (copy, DROP, rename), and
    with the keys on, the DROP of a parent deletes its children through ON DELETE CASCADE.
    The driver's own transaction handling is off (it would commit before each DDL statement),
    so a failed upgrade leaves nothing behind. None for another database (or one in memory,
    which is new and empty)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    rebuilding = create_engine(engine.url, connect_args={"timeout": 30})

    @event.listens_for(rebuilding, "connect")
    def _keys_off(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # no implicit BEGIN/COMMIT: ours below
        dbapi_conn.execute("PRAGMA foreign_keys=OFF")  # only outside a transaction
        dbapi_conn.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(rebuilding, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return rebuilding


def _check_references(conn: Any) -> None:
    """What the foreign keys would have refused while they were off stops the upgrade."""
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise MigrationFailed(
            f"the upgrade would leave {len(broken)} rows pointing at nothing"
            f" (tables: {', '.join(tables)}); nothing was changed"
        )


_migrate_lock = threading.Lock()


class MigrationFailed(RuntimeError):
    pass


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _is_busy(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig)


class Database:
    """Owns the engine. Blocking work runs in threads so the event loop never waits on the disk."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._limiter = anyio.CapacityLimiter(8)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> None:
        migrate(self.engine)

    def migrate_in_child(self) -> None:
        """Migrate in a short-lived child process when the schema is behind.

        A long-running server never loads Alembic (and keeps ~10 MB less for good). An
        in-memory SQLite database exists only in this process, so it migrates here.
        """
        if current_revision(self.engine) == HEAD_REVISION:
            return
        if self.is_sqlite and self.engine.url.database in (None, "", ":memory:"):
            self.migrate()
            return
        done = subprocess.run(
            [sys.executable, "-m", "paddock.store.db"],
            input=self.url,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
            raise MigrationFailed(f"database migration failed: {tail[0]}")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction, committed on success and rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def call(self, fn: Callable[[Session], T]) -> T:
        """`fn(session)` in one transaction. On SQLite, a transaction that read, then wrote
        after another connection committed is refused at once ("database is locked": its
        snapshot is stale, and waiting cannot help); it is rolled back and run again, whole,
        a few times."""
        for retry in range(SQLITE_BUSY_RETRIES + 1):
            try:
                with self.session() as session:
                    return fn(session)
            except OperationalError as exc:
                if not (self.is_sqlite and _is_busy(exc)) or retry == SQLITE_BUSY_RETRIES:
                    raise
                time.sleep(0.005 * 2**retry)
        raise AssertionError("unreachable")

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in a worker thread, in one transaction."""
        return await anyio.to_thread.run_sync(self.call, fn, limiter=self._limiter)

    def dispose(self) -> None:
        self.engine.dispose()


if __name__ == "__main__":
    # Database.migrate_in_child: the URL comes on stdin, never on a command line (passwords).
    database = Database(sys.stdin.read().strip())
    try:
        database.migrate()
    finally:
        database.dispose()
