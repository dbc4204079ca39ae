"""Read what the draft minutes need from the database and draw them (server/record/minutes.py):
the meeting's record, its chair, who reported on its 述职 items, and its 交办 decision with
the items it made (their organs, the lead first).

Reads only; the caller's connection should be a snapshot read so the log, the setup and
the decision agree.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import followup_reads
from server.record import load, reporters
from server.record.minutes import AssignedItem, Decision, Minutes, draft
from server.storage import models as m


async def decision_of(conn: AsyncConnection, meeting_id: int) -> Decision | None:
    fd = m.followup_decisions
    row = (await conn.execute(select(fd).where(fd.c.meeting_id == meeting_id))).first()
    if row is None:
        return None
    items, closed = await followup_reads.decided(conn, int(row.id))
    organs = await followup_reads.item_organ_names(conn, [int(i.id) for i in items])
    dues = {i.reply_due for i in items}
    return Decision(
        organ=str(row.organ),
        decided_on=row.decided_on,
        document_no=str(row.document_no),
        reply_due=dues.pop() if len(dues) == 1 else None,
        items=tuple(
            AssignedItem(
                str(i.title),
                bool(i.priority),
                tuple(
                    name + ("（牵头）" if lead and len(organs[int(i.id)]) > 1 else "")
                    for name, lead in organs[int(i.id)]
                ),
            )
            for i in items
        ),
        closed=tuple((str(c.title), str(c.reason)) for c in closed),
    )


async def minutes_of(conn: AsyncConnection, meeting_id: int) -> Minutes:
    """Raises store.MeetingNotFound for a meeting that does not exist."""
    held = await load.held_meeting(conn, meeting_id)
    chair = (await conn.execute(select(m.meetings.c.chair).where(m.meetings.c.id == meeting_id))).scalar()
    return draft(
        held.record,
        chair=str(chair or "").strip(),
        decision=await decision_of(conn, meeting_id),
        reporters=await reporters.reporters(conn, meeting_id),
    )
