"""The meeting writer's own SQLite connection (server/storage/sqlite_log.py): the hall's
plain batches go through it, everything else through SQLAlchemy, and the log, the
receipts and the sealed ballots cannot tell which path wrote them.

The rest of the suite runs over it too: every rating, vote and check-in of the tests on
SQLite (tests/test_actions.py checks each against a fresh fold of the log), the busy and
full database of tests/test_db_faults.py, and two processes of tests/test_multiprocess.py.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from live.commands import CastRating, CheckIn, CheckInMethod, CloseMeeting, CloseRating, OpenCheckIn
from live.events import DeputyCheckedIn, Event
from live.state import Choice
from server.base.settings import Settings
from server.room import transaction
from server.room.runtime import MeetingRuntime, NotRecorded, load_state
from server.storage import models as m
from server.storage.db import create_engine, sqlite_file
from tests.conftest import CHAIR, STAFF, Rig, deputy
from tests.test_actions import check_in_all, to_rating

STORED = (m.events, m.rating_receipts, m.sealed_ballots)


async def rows(rig: Rig) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a plain batch writes, without the row ids."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with rig.check.connect() as conn:
        for table in STORED:
            result = await conn.execute(select(table).order_by(table.c.id))
            out[table.name] = [{k: v for k, v in r._mapping.items() if k != "id"} for r in result]
        await conn.rollback()
    return out


def take_write_lock(rig: Rig) -> sqlite3.Connection:
    """Another writer that does not wait: raises if the lock is held."""
    path = sqlite_file(rig.runtime.engine)
    assert path is not None
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def test_both_paths_write_the_same_rows(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rig.runtime.sqlite_log is not None, "a SQLite file: the plain batches take the writer's own path"
    ids = sorted(rig.state.setup.deputies)[:4]
    await rig.verify(OpenCheckIn(), STAFF)
    await check_in_all(rig, ids)
    question = rig.state.setup.questions[0].id
    await to_rating(rig, question)

    used: list[str] = []
    real = transaction.SqliteBatch.write

    async def noted(self: transaction.SqliteBatch, *args: Any) -> None:
        used.append("sqlite")
        await real(self, *args)

    monkeypatch.setattr(transaction.SqliteBatch, "write", noted)
    before = await rows(rig)
    await rig.verify(CastRating(ids[0], question, Choice.SATISFIED, "k-0"), deputy(ids[0]))
    await rig.verify(CastRating(ids[1], question, Choice.BASIC, "k-1"), deputy(ids[1]))
    raw = await rows(rig)
    assert used == ["sqlite", "sqlite"]

    log, rig.runtime.sqlite_log = rig.runtime.sqlite_log, None  # the same kind of batch through SQLAlchemy
    try:
        await rig.verify(CastRating(ids[2], question, Choice.SATISFIED, "k-2"), deputy(ids[2]))
        await rig.verify(CastRating(ids[3], question, Choice.BASIC, "k-3"), deputy(ids[3]))
    finally:
        rig.runtime.sqlite_log = log
    assert used == ["sqlite", "sqlite"]
    both = await rows(rig)

    def added(after: dict[str, list[dict[str, Any]]], since: dict[str, list[dict[str, Any]]]) -> Any:
        return {t: after[t][len(since[t]) :] for t in after}

    by_sqlite, by_sqlalchemy = added(raw, before), added(both, raw)
    for table in STORED:
        assert len(by_sqlite[table.name]) == len(by_sqlalchemy[table.name]) == 2, table.name
        for a, b in zip(by_sqlite[table.name], by_sqlalchemy[table.name], strict=True):
            assert a.keys() == b.keys()
            assert {k: type(v) for k, v in a.items()} == {k: type(v) for k, v in b.items()}, table.name
    # Deputy, question, key and seq differ; everything else is the same, value for value.
    events_a, events_b = by_sqlite["events"], by_sqlalchemy["events"]
    assert [e["type"] for e in events_a] == [e["type"] for e in events_b] == ["RatingCast", "RatingCast"]
    assert [e["seq"] for e in events_a + events_b] == list(range(events_a[0]["seq"], events_a[0]["seq"] + 4))
    assert {e["actor"] for e in events_a} == {f"deputy:{d}" for d in ids[:2]}
    assert {e["device"] for e in events_a + events_b} == {"pytest"}
    receipts = by_sqlite["rating_receipts"] + by_sqlalchemy["rating_receipts"]
    assert [(r["deputy_id"], r["ballot_key"]) for r in receipts] == [(d, f"k-{i}") for i, d in enumerate(ids)]
    # The sealed choices open to the same count, whoever sealed them.
    await rig.verify(CloseRating())
    rating = rig.state.ratings[question]
    assert (rating.counts[Choice.SATISFIED], rating.counts[Choice.BASIC]) == (2, 2)


async def test_a_refused_batch_leaves_no_lock_behind(rig: Rig) -> None:
    a = min(rig.state.setup.deputies)
    await rig.refuse(CheckIn(a, CheckInMethod.HALL_QR), deputy(a), "checkin_not_open")
    take_write_lock(rig).execute("ROLLBACK")  # would raise "database is locked"
    await rig.verify(OpenCheckIn(), STAFF)
    await rig.verify(CheckIn(a, CheckInMethod.HALL_QR), deputy(a))
    take_write_lock(rig).execute("ROLLBACK")


async def test_a_plain_command_that_needs_more_than_inserts_is_not_recorded(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a close ever counted plain by mistake, its totals would not be written: the
    batch is refused whole, and nothing of it stays."""
    ids = sorted(rig.state.setup.deputies)[:2]
    await rig.verify(OpenCheckIn(), STAFF)
    await check_in_all(rig, ids)
    question = rig.state.setup.questions[0].id
    await to_rating(rig, question)
    await rig.verify(CastRating(ids[0], question, Choice.SATISFIED, "k"), deputy(ids[0]))
    monkeypatch.setattr(transaction, "PLAIN_COMMANDS", (*transaction.PLAIN_COMMANDS, CloseRating))
    before = await rig.counts()
    with pytest.raises(NotRecorded):
        await rig.runtime.submit(CloseRating(), STAFF)
    assert await rig.counts() == before
    assert rig.state.ratings[question].open, "the state was reloaded from the database"
    take_write_lock(rig).execute("ROLLBACK")
    monkeypatch.undo()
    await rig.verify(CloseRating())
    assert not rig.state.ratings[question].open

    # The close of the meeting freezes the attendance record: rows beyond the inserts.
    monkeypatch.setattr(transaction, "PLAIN_COMMANDS", (*transaction.PLAIN_COMMANDS, CloseMeeting))
    before = await rig.counts()
    with pytest.raises(NotRecorded):
        await rig.runtime.submit(CloseMeeting(), CHAIR)
    assert await rig.counts() == before
    assert not rig.state.closed
    take_write_lock(rig).execute("ROLLBACK")
    monkeypatch.undo()
    await rig.verify(CloseMeeting())


async def test_a_plain_batch_catches_up_with_another_process(rig: Rig, settings: Settings) -> None:
    """Another writer on the same file (a second worker) commits first: the next plain
    batch here reads it inside its own transaction and numbers after it."""
    a, b = sorted(rig.state.setup.deputies)[:2]
    await rig.verify(OpenCheckIn(), STAFF)
    engine = create_engine(settings.database_url)
    async with engine.connect() as conn:
        state = await load_state(conn, rig.meeting_id)
        await conn.rollback()

    async def quiet(*_: Any) -> None:
        return None

    other = MeetingRuntime(engine, state, quiet, rig.runtime.box)
    other.start()
    try:
        theirs = await other.submit(CheckIn(a, CheckInMethod.HALL_QR), deputy(a))
    finally:
        await other.stop()
        await engine.dispose()
    seq = rig.state.seq
    published = len(rig.published)
    ours = await rig.runtime.submit(CheckIn(b, CheckInMethod.HALL_QR), deputy(b))
    caught = rig.published[published]
    assert caught == (seq + 1, theirs, False), "what the other process committed, published as caught up"
    assert rig.published[published + 1] == (seq + 1 + len(theirs), ours, True)
    assert rig.state.is_present(a) and rig.state.is_present(b)
    stored = await rig.stored_since(seq)
    assert [type(e) for _, e in stored if isinstance(e, DeputyCheckedIn)] == [DeputyCheckedIn] * 2
    assert [s for s, _ in stored] == list(range(seq + 1, rig.state.seq + 1))


async def test_the_writer_connection_closes_with_the_runtime(rig: Rig) -> None:
    await rig.verify(OpenCheckIn(), STAFF)
    a = min(rig.state.setup.deputies)
    await rig.verify(CheckIn(a, CheckInMethod.HALL_QR), deputy(a))
    log = rig.runtime.sqlite_log
    assert log is not None
    await rig.runtime.stop()
    with pytest.raises(RuntimeError):  # its thread is gone
        await log.begin(rig.meeting_id, 0)
    rig.runtime.start()  # the fixture stops it again
    rig.runtime.sqlite_log = None
    events: list[Event] = await rig.runtime.submit(CheckIn(a, CheckInMethod.HALL_QR), deputy(a))
    assert events == []  # a retry: already present


def test_only_a_file_gets_the_writer_connection() -> None:
    assert sqlite_file(create_async_engine("sqlite+aiosqlite:///:memory:")) is None
    assert sqlite_file(create_engine("sqlite+aiosqlite:////tmp/x.db")) == "/tmp/x.db"
    assert sqlite_file(create_engine("postgresql+asyncpg://u@127.0.0.1/db")) is None
