"""Read a meeting's record from the database: the setup, the log with each event's commit
moment, and the commitments typed in the hall, folded by :func:`server.record.facts.fold`.

Reads only; a caller that holds no transaction should use a snapshot read
(server.storage.db.snapshot_read) so the log and the setup agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.events import from_record
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


async def timed_events(conn: AsyncConnection, meeting_id: int) -> list[TimedEvent]:
    """The meeting's log in order, each event with its sequence number and commit moment."""
    ev = m.events
    rows = await conn.execute(
        select(ev.c.seq, ev.c.created_ms, ev.c.type, ev.c.data)
        .where(ev.c.meeting_id == meeting_id)
        .order_by(ev.c.seq)
    )
    return [(int(r.seq), int(r.created_ms), from_record(r.type, json.loads(r.data))) for r in rows]


async def meeting_record(conn: AsyncConnection, meeting_id: int) -> MeetingRecord:
    """Raises store.MeetingNotFound for a meeting that does not exist."""
    setup = await store.load_setup(conn, meeting_id)
    lines = await question_commitments.of_meeting(conn, meeting_id)
    commitments = {q: tuple(c.text for c in cs) for q, cs in lines.items()}
    return fold(setup, await timed_events(conn, meeting_id), commitments)


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
