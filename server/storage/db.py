"""Database engines: SQLite (WAL) embedded by default, PostgreSQL in production.

Writers of one meeting are serialised across processes, so the writer that holds the
lock can read the log up to the end and then append the next sequence numbers:
SQLite by ``BEGIN IMMEDIATE`` (the database write lock), PostgreSQL by a transaction
advisory lock on the meeting id. The unique (meeting_id, seq) constraint stays as a
guard behind both.

Neither waits for a lock for ever. SQLite gives up after its busy timeout; PostgreSQL
connections run with ``lock_timeout`` of the same length, so a writer that finds the
meeting's advisory lock or a row held longer than that fails with SQLSTATE 55P03 (lock
not available), its transaction rolls back, and the sender hears "未记录，请重试" as on
SQLite (``server/web/app.py`` maps the error). Migrations run over the same engine: one that
waits longer than that for a lock fails (run it again) instead of queueing every other
statement behind its own lock request.

``hide_parameters``: a database error's text names the statement but not its values, so
a logged error never holds a ballot's choice, a password hash or a token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_BUSY_MS = 5000
POSTGRES_LOCK_TIMEOUT_MS = SQLITE_BUSY_MS
SNAPSHOT_OPTION = "wenzheng_snapshot"


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_pragmas(dbapi_conn: Any) -> None:
    """What every connection to the SQLite file runs first: the engine's, and the meeting
    writer's own (server/storage/sqlite_log.py)."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before the phone is told "recorded".
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def sqlite_file(engine: AsyncEngine) -> str | None:
    """The database file of a SQLite engine; None for PostgreSQL or an in-memory database
    (which a second connection would not see)."""
    if not is_sqlite(engine):
        return None
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, pool_size=5, max_overflow=5, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" hook issue BEGIN itself (pysqlite would defer it).
            dbapi_conn.isolation_level = None
            sqlite_pragmas(dbapi_conn)

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # A snapshot read needs no write lock: in WAL mode a deferred BEGIN reads one
            # consistent snapshot from its first read to its end.
            snapshot = conn.get_execution_options().get(SNAPSHOT_OPTION)
            conn.exec_driver_sql("BEGIN" if snapshot else "BEGIN IMMEDIATE")

        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_driver_name() == "asyncpg":
        # Sent with the connection's startup packet: every session has it, no round trip.
        connect_args["server_settings"] = {"lock_timeout": str(POSTGRES_LOCK_TIMEOUT_MS)}
    return create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args=connect_args,
        hide_parameters=True,
    )


@asynccontextmanager
async def meeting_write(engine: AsyncEngine, meeting_id: int) -> AsyncIterator[AsyncConnection]:
    """A transaction that holds the meeting's write lock until it commits."""
    async with engine.begin() as conn:
        if not is_sqlite(engine):
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": meeting_id})
        yield conn


@asynccontextmanager
async def snapshot_read(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only transaction whose statements all see one snapshot, taking no lock.

    Reading the log and then the ballot counts must agree: SQLite gets this from a
    deferred transaction in WAL mode, PostgreSQL from REPEATABLE READ.
    """
    async with engine.connect() as conn:
        if is_sqlite(engine):
            conn = await conn.execution_options(**{SNAPSHOT_OPTION: True})
        else:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            yield conn


async def ping(engine: AsyncEngine) -> bool:
    """The database answers. A read that takes no lock: on SQLite a plain connection
    begins IMMEDIATE and would wait behind any writer (a big roster import), so a
    health check would report the server stalled when only the write lock is busy."""
    try:
        async with snapshot_read(engine) as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
