"""The demo meeting held through the real action path (server/record/hold.py, sitting.py),
and who did what in it: the duty records' tests read their figures from here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select

from server.base.keys import Keys
from server.base.settings import Settings
from server.record.facts import MeetingRecord
from server.record.load import meeting_record
from server.record.sitting import hold_sitting, roster
from server.storage import models as m
from server.storage.db import create_engine, snapshot_read

START_MS = 1_750_000_000_000  # 2025-06-15, a Sunday afternoon in China


@dataclass(frozen=True)
class Sat:
    """A held meeting and its cast, named as sitting.py names them."""

    meeting_id: int
    body_id: int
    record: MeetingRecord
    on_leave: int
    absent: tuple[int, int]
    late: int
    leaves: int
    returns: int
    speaker: int

    def asker(self, n: int = 0) -> int:
        return self.record.questions[n].question.asker_id

    def follower(self, n: int = 0) -> int:
        return self.record.questions[n].followup_speakers[0]

    def plain_voter(self) -> int:
        """A member present all along who asked, followed up and spoke in nothing: the
        record to compare with ``leaves``'s."""
        busy = {self.speaker, self.late, self.returns, self.leaves}
        for q in self.record.questions:
            busy |= {q.question.asker_id, *q.followup_speakers}
        present = [a.deputy_id for a in self.record.attendance if a.status == "present"]
        return next(d for d in present if d not in busy)


async def _hold(settings: Settings, meeting_id: int) -> Sat:
    engine = create_engine(settings.database_url)
    try:
        setup = await hold_sitting(engine, Keys(settings.secret_key).box, meeting_id, START_MS)
        async with snapshot_read(engine) as conn:
            record = await meeting_record(conn, meeting_id)
            body_id = (
                await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
            ).scalar_one()
    finally:
        await engine.dispose()
    members = roster(setup)
    punctual = [d for d in members[:-4] if d not in setup.on_leave]
    return Sat(
        meeting_id,
        int(body_id),
        record,
        on_leave=members[-1],
        absent=(members[-3], members[-2]),
        late=members[-4],
        leaves=punctual[9],
        returns=punctual[10],
        speaker=punctual[1],
    )


def hold_demo(settings: Settings, meeting_id: int) -> Sat:
    return asyncio.run(_hold(settings, meeting_id))
