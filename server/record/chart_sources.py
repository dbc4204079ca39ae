"""What the chart routes read: a meeting's standing (closed? a rehearsal?) in one cheap
query, and the rows of each chart from the record or the body's attendance grid.

The standing comes first so that a closed meeting's chart, which never changes, can be
served from a cache without folding its log again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import attendance_history
from server.record import charts
from server.record.facts import MeetingRecord
from server.record.load import meeting_record
from server.storage import models as m

MEETING_KINDS: dict[str, Callable[[MeetingRecord], Sequence[tuple[Any, ...]]]] = {
    "satisfaction": charts.satisfaction_rows,
    "votes": charts.vote_rows,
    "speaking": charts.speaking_rows,
}


@dataclass(frozen=True)
class Standing:
    meeting_id: int
    body_id: int
    rehearsal: bool
    closed_ms: int | None

    @property
    def public(self) -> bool:
        """Its charts may be shown to anyone: closed, and not a rehearsal."""
        return self.closed_ms is not None and not self.rehearsal


async def standing(conn: AsyncConnection, meeting_id: int) -> Standing | None:
    mt = m.meetings
    row = (
        await conn.execute(select(mt.c.body_id, mt.c.rehearsal, mt.c.closed_ms).where(mt.c.id == meeting_id))
    ).first()
    if row is None:
        return None
    closed = int(row.closed_ms) if row.closed_ms is not None else None
    return Standing(meeting_id, int(row.body_id), bool(row.rehearsal), closed)


async def meeting_rows(conn: AsyncConnection, meeting_id: int, kind: str) -> list[tuple[Any, ...]]:
    """The rows of a meeting chart (``kind`` in :data:`MEETING_KINDS`), from its record."""
    return list(MEETING_KINDS[kind](await meeting_record(conn, meeting_id)))


async def attendance_rows(conn: AsyncConnection, body_id: int) -> list[charts.Row4] | None:
    """Per meeting of the body (rehearsals never count), oldest first; None: no such body."""
    if await attendance_history.body(conn, body_id) is None:
        return None
    return charts.attendance_rows(await attendance_history.grid(conn, body_id))
