"""The transaction of one group-commit batch: through SQLAlchemy, or for the hall's plain
commands on SQLite through the meeting writer's own connection (server/storage/sqlite_log.py).

Both hold the meeting's write lock from the catch-up read to the commit and write the
same rows (:func:`server.storage.store.log_rows`); the runtime decides the commands
between the two the same way whichever it got.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from live.commands import CastRating, CastVote, CheckIn, Command, RequestFloor, WithdrawFloor
from live.events import Event
from server.base.ballot_box import BallotBox
from server.storage import store
from server.storage.db import meeting_write
from server.storage.sqlite_log import SqliteLog

# What phones send by the thousand in a burst. Their events only insert rows (log, receipt,
# sealed choice); a batch of anything else (a close above all) goes through SQLAlchemy.
PLAIN_COMMANDS: tuple[type, ...] = (CastRating, CastVote, CheckIn, RequestFloor, WithdrawFloor)

Rows = Sequence[tuple[Event, str, str]]  # each event with its actor and device


def plain(commands: Sequence[Command]) -> bool:
    return all(isinstance(c, PLAIN_COMMANDS) for c in commands)


class BatchTransaction(Protocol):
    async def read_after(self, seq: int) -> list[tuple[int, Event]]:
        """What is in the log after ``seq`` (other processes' commits); called first."""

    async def write(self, first_seq: int, rows: Rows, now_ms: int) -> None:
        """The batch's events, numbered from ``first_seq``; called at most once, last."""

    @property
    def conn(self) -> AsyncConnection | None:
        """The SQLAlchemy connection, for what only it does (opening a round's sealed ballots)."""


class SqlBatch:
    def __init__(self, conn: AsyncConnection, meeting_id: int, box: BallotBox) -> None:
        self._conn, self.meeting_id, self.box = conn, meeting_id, box

    @property
    def conn(self) -> AsyncConnection:
        return self._conn

    async def read_after(self, seq: int) -> list[tuple[int, Event]]:
        return await store.load_events(self._conn, self.meeting_id, seq)

    async def write(self, first_seq: int, rows: Rows, now_ms: int) -> None:
        await store.append_events(self._conn, self.meeting_id, first_seq, rows, now_ms, self.box)


class NotPlain(Exception):
    """A plain command's events needed more than inserts: a bug in PLAIN_COMMANDS."""


class SqliteBatch:
    def __init__(self, log: SqliteLog, meeting_id: int, box: BallotBox) -> None:
        self.log, self.meeting_id, self.box = log, meeting_id, box
        self.committed = False

    @property
    def conn(self) -> None:
        return None

    async def read_after(self, seq: int) -> list[tuple[int, Event]]:
        return await self.log.begin(self.meeting_id, seq)

    async def write(self, first_seq: int, rows: Rows, now_ms: int) -> None:
        written = store.log_rows(self.meeting_id, first_seq, rows, now_ms, self.box)
        if not written.plain:
            raise NotPlain([type(e).__name__ for e, _, _ in rows])
        await self.log.commit(written)
        self.committed = True


@asynccontextmanager
async def batch_transaction(
    engine: AsyncEngine, log: SqliteLog | None, meeting_id: int, box: BallotBox, commands: Sequence[Command]
) -> AsyncIterator[BatchTransaction]:
    """The transaction of a batch of ``commands``; committed when the block ends (the
    SQLite path commits in :meth:`SqliteBatch.write`), rolled back if it raises."""
    if log is None or not plain(commands):
        async with meeting_write(engine, meeting_id) as conn:
            yield SqlBatch(conn, meeting_id, box)
        return
    batch = SqliteBatch(log, meeting_id, box)
    try:
        yield batch
    except BaseException:
        await log.rollback()
        raise
    if not batch.committed:  # every command refused: end the transaction, nothing written
        await log.commit(None)
