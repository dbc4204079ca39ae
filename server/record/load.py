"""Read a meeting's record from the database: the setup, the log with each event's commit
moment, and the commitments typed in the hall, folded by :func:`server.record.facts.fold`.

Reads only; a caller that holds no transaction should use a snapshot read
(server.storage.db.snapshot_read) so the log and the setup agree.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.events import from_record
from live.setup import Setup
from server.office import question_commitments
from server.record.facts import MeetingRecord, TimedEvent, fold
from server.storage import models as m
from server.storage import store


@dataclass(frozen=True)
class HeldMeeting:
    """A meeting's row as the record's pages and documents need it, with its record."""

    meeting_id: int
    body_id: int
    kind: str
    rehearsal: bool
    record: MeetingRecord


async def _log_rows(conn: AsyncConnection, meeting_id: int) -> list[tuple[int, int, str, str]]:
    ev = m.events
    rows = await conn.execute(
        select(ev.c.seq, ev.c.created_ms, ev.c.type, ev.c.data)
        .where(ev.c.meeting_id == meeting_id)
        .order_by(ev.c.seq)
    )
    return [(int(r.seq), int(r.created_ms), str(r.type), str(r.data)) for r in rows]


def _decoded(rows: list[tuple[int, int, str, str]]) -> list[TimedEvent]:
    return [(seq, at, from_record(kind, json.loads(data))) for seq, at, kind, data in rows]


def _fold_rows(
    setup: Setup, rows: list[tuple[int, int, str, str]], commitments: dict[int, tuple[str, ...]]
) -> MeetingRecord:
    return fold(setup, _decoded(rows), commitments)


async def timed_events(conn: AsyncConnection, meeting_id: int) -> list[TimedEvent]:
    """The meeting's log in order, each event with its sequence number and commit moment."""
    return _decoded(await _log_rows(conn, meeting_id))


async def meeting_record(conn: AsyncConnection, meeting_id: int) -> MeetingRecord:
    """Raises store.MeetingNotFound for a meeting that does not exist.

    Decoding and folding a national meeting's log (3,000 members: about 30,000 events) costs
    some 200 ms of CPU: done on the event loop, a staff member opening the results during
    the session would stall every phone in the hall that long. It runs in a thread, so the
    loop keeps its turns (the interpreter switches threads every few ms). Not the workshop:
    a Setup holds mapping proxies, which do not pickle."""
    setup = await store.load_setup(conn, meeting_id)
    lines = await question_commitments.of_meeting(conn, meeting_id)
    commitments = {q: tuple(c.text for c in cs) for q, cs in lines.items()}
    rows = await _log_rows(conn, meeting_id)
    return await asyncio.to_thread(_fold_rows, setup, rows, commitments)


async def held_meeting(conn: AsyncConnection, meeting_id: int) -> HeldMeeting:
    row = (
        await conn.execute(
            select(m.meetings.c.body_id, m.meetings.c.kind, m.meetings.c.rehearsal).where(
                m.meetings.c.id == meeting_id
            )
        )
    ).first()
    if row is None:
        raise store.MeetingNotFound(meeting_id)
    record = await meeting_record(conn, meeting_id)
    return HeldMeeting(meeting_id, int(row.body_id), str(row.kind), bool(row.rehearsal), record)
