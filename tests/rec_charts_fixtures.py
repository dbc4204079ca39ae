"""A whole sitting of the demo meeting held through the real action path, for the chart
tests (server/record/hold.py + sitting.py), and its record read back."""

from __future__ import annotations

import asyncio

from server.base.keys import Keys
from server.base.settings import Settings
from server.record.facts import MeetingRecord
from server.record.load import meeting_record
from server.record.sitting import hold_sitting
from server.storage.db import create_engine, snapshot_read

START_MS = 1_750_000_000_000  # 2025-06-15, a sitting held long ago


async def _hold(settings: Settings, meeting_id: int) -> MeetingRecord:
    engine = create_engine(settings.database_url)
    try:
        await hold_sitting(engine, Keys(settings.secret_key).box, meeting_id, START_MS)
        async with snapshot_read(engine) as conn:
            return await meeting_record(conn, meeting_id)
    finally:
        await engine.dispose()


def held(settings: Settings, meeting_id: int) -> MeetingRecord:
    """Hold the sitting (it closes the meeting) and return its record."""
    return asyncio.run(_hold(settings, meeting_id))


async def _record(settings: Settings, meeting_id: int) -> MeetingRecord:
    engine = create_engine(settings.database_url)
    try:
        async with snapshot_read(engine) as conn:
            return await meeting_record(conn, meeting_id)
    finally:
        await engine.dispose()


def record_of(settings: Settings, meeting_id: int) -> MeetingRecord:
    return asyncio.run(_record(settings, meeting_id))
