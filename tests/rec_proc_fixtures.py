"""The demo meeting held through the real action path (server/record/hold.py, sitting.py),
for the proceedings' tests (rec-proc's own fixture module)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from server.base.keys import Keys
from server.base.settings import Settings
from server.record.facts import MeetingRecord, TimedEvent
from server.record.load import meeting_record, timed_events
from server.record.sitting import hold_sitting
from server.storage import models as m
from server.storage.db import create_engine, snapshot_read

START_MS = 1_752_561_000_000  # 2025-07-15 14:30 China time
CHAIR = "王建国"
NOTE = "本次会议由镇人大主席团召集。\n县人大常委会有关同志列席会议。"


async def _hold(settings: Settings, meeting_id: int) -> tuple[MeetingRecord, list[TimedEvent]]:
    engine = create_engine(settings.database_url)
    try:
        await hold_sitting(engine, Keys(settings.secret_key).box, meeting_id, START_MS)
        async with engine.begin() as conn:
            await conn.execute(
                update(m.meetings).where(m.meetings.c.id == meeting_id).values(chair=CHAIR, record_note=NOTE)
            )
        async with snapshot_read(engine) as conn:
            return await meeting_record(conn, meeting_id), await timed_events(conn, meeting_id)
    finally:
        await engine.dispose()


def held_sitting(settings: Settings, meeting_id: int) -> tuple[MeetingRecord, list[TimedEvent]]:
    """Hold the demo meeting's whole sitting; the record and the log it left."""
    return asyncio.run(_hold(settings, meeting_id))


@pytest.fixture(name="held")
def held_fixture(settings: Settings, meeting_id: int) -> tuple[MeetingRecord, list[TimedEvent]]:
    return held_sitting(settings, meeting_id)
