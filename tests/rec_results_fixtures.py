"""A meeting held through the real action path, for the results' tests (rec-results).

``hold_sitting`` runs server/record/sitting.py's sitting on a meeting (the demo's, or its
rehearsal) through MeetingRuntime, then reads its record back as the pages do. Named
after the branch, so the record's other tests keep fixtures of their own.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from server.base.keys import Keys
from server.base.settings import Settings
from server.office import rehearsals
from server.record.facts import MeetingRecord
from server.record.load import meeting_record
from server.record.reporters import Reporter, reporters
from server.record.sitting import hold_sitting as held_through_the_room
from server.storage import models as m
from server.storage.db import create_engine, snapshot_read

START_MS = 1_750_000_000_000  # 2025-06-15 23:06 China time: any fixed moment will do
FORMULA_TITLE = "=1+1"


async def _hold(
    settings: Settings, meeting_id: int, before: str
) -> tuple[MeetingRecord, dict[int, Reporter]]:
    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            if before == "formula":  # staff typed a formula as a question's title
                q = m.questions
                first = min(r.id for r in await conn.execute(q.select().where(q.c.meeting_id == meeting_id)))
                await conn.execute(update(q).where(q.c.id == first).values(title=FORMULA_TITLE))
            # the rated report names who reports: a 述职评议 result of a deputy of the higher congress
            ai = m.agenda_items
            await conn.execute(
                update(ai)
                .where(ai.c.meeting_id == meeting_id, ai.c.position == 1)
                .values(
                    reporter_kind="higher", reporter_name="周卫东", reporter_congress="某某市人民代表大会"
                )
            )
        await held_through_the_room(engine, Keys(settings.secret_key).box, meeting_id, START_MS)
        async with snapshot_read(engine) as conn:
            return await meeting_record(conn, meeting_id), await reporters(conn, meeting_id)
    finally:
        await engine.dispose()


def hold_sitting(
    settings: Settings, meeting_id: int, before: str = ""
) -> tuple[MeetingRecord, dict[int, Reporter]]:
    """Hold the whole sitting on the meeting; its record and reporters as read afterwards."""
    return asyncio.run(_hold(settings, meeting_id, before))


async def _rehearsal(settings: Settings, meeting_id: int) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            return await rehearsals.create(conn, meeting_id, actor="staff:chair", device="", now_ms=START_MS)
    finally:
        await engine.dispose()


def make_rehearsal(settings: Settings, meeting_id: int) -> int:
    return asyncio.run(_rehearsal(settings, meeting_id))
