"""The demo meeting held through the real action path (server/record/sitting.py), for the
draft minutes' tests: the record folded from its log, its chair set, optionally its 交办
decision recorded as the office records one (server/office/followup.record_decision)."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from docx import Document
from sqlalchemy import update

from server.base.keys import Keys
from server.base.settings import Settings
from server.record.facts import MeetingRecord
from server.record.load import meeting_record
from server.record.minutes import Minutes
from server.record.minutes_docx import minutes_docx
from server.record.minutes_load import minutes_of
from server.record.sitting import hold_sitting
from server.storage import models as m
from server.storage.db import create_engine, snapshot_read
from tests.test_followup import decide

START_MS = 1_750_000_000_000  # 2025-06-15, China afternoon
CHAIR = "镇人大主席陈明远"


@dataclass(frozen=True)
class Held:
    record: MeetingRecord
    minutes: Minutes
    docx: bytes


async def _hold(settings: Settings, meeting_id: int, decided: bool) -> Held:
    engine = create_engine(settings.database_url)
    try:
        await hold_sitting(engine, Keys(settings.secret_key).box, meeting_id, START_MS)
        async with engine.begin() as conn:
            await conn.execute(update(m.meetings).where(m.meetings.c.id == meeting_id).values(chair=CHAIR))
            if decided:
                await decide(conn, meeting_id)
        async with snapshot_read(engine) as conn:
            record = await meeting_record(conn, meeting_id)
            minutes = await minutes_of(conn, meeting_id)
    finally:
        await engine.dispose()
    return Held(record, minutes, minutes_docx(minutes))


def held(settings: Settings, meeting_id: int, decided: bool = False) -> Held:
    return asyncio.run(_hold(settings, meeting_id, decided))


def docx_text(data: bytes) -> list[str]:
    """The paragraphs of a DOCX's body, in order."""
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]
