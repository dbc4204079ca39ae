"""A meeting writer's own connection to a SQLite file: a batch of the hall's ballots and
check-ins in two thread hops instead of about twenty.

Why: through SQLAlchemy and aiosqlite a group commit costs about 2.2 ms of the event
loop's CPU whatever its size (each statement is a cursor, an execute and a close, each a
hop to aiosqlite's thread and back, with SQLAlchemy's statement building and greenlet
switch around it), so at 600 ratings a second in batches of 15 the commits alone took a
third of the loop (BENCHMARKS.md, issue 20). Here the batch is two calls on one thread of
our own holding one ``sqlite3`` connection: ``BEGIN IMMEDIATE`` with the catch-up read of
what other processes committed, then (after the runtime decided the commands on the loop)
the inserts with ``COMMIT``.

Only the plain batches come here, those whose rows are the inserts of
:func:`server.storage.store.log_rows` and nothing else (ballots, check-ins, the floor).
Closes of a round or of the meeting, and every batch on PostgreSQL, go through
SQLAlchemy (:func:`server.storage.store.append_events`): the rows are the same, built by
the same function, so the log cannot tell which path wrote them.

The connection takes the same pragmas as the engine's (:func:`server.storage.db.sqlite_pragmas`):
WAL, ``synchronous=FULL`` (a commit is on disk before the phone hears "recorded"), the
busy timeout and foreign keys, so a second process's writer waits for the write lock
as the engine's connections do.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Table

from live.events import Event, from_record
from server.storage import models as m
from server.storage.db import sqlite_pragmas
from server.storage.store import LogRows

T = TypeVar("T")

_CATCH_UP = "SELECT seq, type, data FROM events WHERE meeting_id = ? AND seq > ? ORDER BY seq"


def insert_sql(table: Table, rows: Sequence[dict[str, Any]]) -> str:
    """``INSERT`` of the rows' keys, which must be columns of the table (named parameters)."""
    keys = list(rows[0])
    unknown = [k for k in keys if k not in table.c]
    if unknown:
        raise ValueError(f"not columns of {table.name}: {unknown}")
    return f"INSERT INTO {table.name} ({', '.join(keys)}) VALUES ({', '.join(':' + k for k in keys)})"


class SqliteLog:
    """The connection and its one thread; a transaction at a time (the runtime's lock)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-log")
        self._conn: sqlite3.Connection | None = None
        self._sql: dict[tuple[str, tuple[str, ...]], str] = {}

    async def _run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._call, job)

    def _call(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:  # opened on the thread that uses it
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
            sqlite_pragmas(conn)
            self._conn = conn
        return job(self._conn)

    async def begin(self, meeting_id: int, after_seq: int) -> list[tuple[int, Event]]:
        """``BEGIN IMMEDIATE`` (the write lock) and what was committed after ``after_seq``."""

        def job(conn: sqlite3.Connection) -> list[tuple[int, str, str]]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                return conn.execute(_CATCH_UP, (meeting_id, after_seq)).fetchall()
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        rows = await self._run(job)
        return [(seq, from_record(kind, json.loads(data))) for seq, kind, data in rows]

    async def commit(self, rows: LogRows | None) -> None:
        """The batch's inserts, then ``COMMIT``; rolled back if any fails."""
        statements = [] if rows is None else self._statements(rows)

        def job(conn: sqlite3.Connection) -> None:
            try:
                for sql, params in statements:
                    conn.executemany(sql, params)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        await self._run(job)

    async def rollback(self) -> None:
        def job(conn: sqlite3.Connection) -> None:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

        await self._run(job)

    def _statements(self, rows: LogRows) -> list[tuple[str, list[dict[str, Any]]]]:
        out = []
        for table, params in (
            (m.events, rows.events),
            (m.rating_receipts, rows.receipts),
            (m.vote_receipts, rows.vote_receipts),
            (m.sealed_ballots, rows.sealed),
        ):
            if params:
                key = (table.name, tuple(params[0]))
                sql = self._sql.get(key)
                if sql is None:
                    sql = self._sql[key] = insert_sql(table, params)
                out.append((sql, params))
        return out

    async def disconnect(self) -> None:
        """Close the connection; the next batch opens a new one (as the engine's pool
        does after ``dispose``)."""

        def job() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._thread, job)

    async def close(self) -> None:
        await self.disconnect()
        self._thread.shutdown(wait=False)
