"""The bench meeting: a body of its own with N deputies, one question and a chair user,
written straight into the tables of a migrated database."""

from __future__ import annotations

import datetime as dt
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from live.setup import BodyKind
from live.setup import Settings as MeetingSettings
from server.base.keys import hash_password
from server.storage import models as m
from server.storage.store import settings_to_json

GROUP_SIZE = 50


@dataclass(frozen=True)
class Seeded:
    meeting_id: int
    question_id: int
    deputy_ids: tuple[int, ...]
    chair_user: str
    chair_password: str


async def seed_meeting(engine: AsyncEngine, n: int) -> Seeded:
    """A meeting of its own body with ``n`` deputies, one question and a chair user."""
    tag = f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    now = int(time.time() * 1000)
    password = secrets.token_urlsafe(12)
    chair = f"bench-chair-{tag}"
    async with engine.begin() as conn:

        async def add(table: Any, **values: Any) -> int:
            key = (await conn.execute(insert(table).values(**values))).inserted_primary_key
            assert key is not None
            return int(key[0])

        body_id = await add(m.bodies, name=f"压力测试人大 {tag}", kind=BodyKind.CONGRESS.value)
        group_ids = [
            await add(m.groups, body_id=body_id, name=f"第{pos + 1}代表小组", position=pos)
            for pos in range(max(1, math.ceil(n / GROUP_SIZE)))
        ]
        rows = [
            {
                "body_id": body_id,
                "group_id": group_ids[i // GROUP_SIZE],
                "name": f"代表{i + 1:04d}",
                "card_no": f"B{i + 1:05d}",
                "short_code": f"{secrets.randbelow(10**8):08d}",
                "card_version": 1,
                "phone": "",
                "notes": "",
            }
            for i in range(n)
        ]
        await conn.execute(insert(m.deputies), rows)
        deputy_ids = tuple(
            int(d)
            for d in (
                await conn.execute(
                    select(m.deputies.c.id).where(m.deputies.c.body_id == body_id).order_by(m.deputies.c.id)
                )
            ).scalars()
        )
        # Members from the start of a term that covers today, so every one is 应到.
        starts_on = dt.date(2022, 1, 1)
        await add(m.terms, body_id=body_id, number=1, starts_on=starts_on)
        await conn.execute(
            insert(m.mandates),
            [{"deputy_id": d, "starts_on": starts_on, "start_reason": "elected"} for d in deputy_ids],
        )
        official_id = await add(
            m.officials, body_id=body_id, name="测试局长", title="局长", organisation="压力测试局"
        )
        meeting_id = await add(
            m.meetings,
            body_id=body_id,
            kind="inquiry",
            title=f"压力测试问政会 {tag}",
            settings=settings_to_json(MeetingSettings()),
            created_ms=now,
        )
        await add(m.agenda_items, meeting_id=meeting_id, position=1, kind="inquiry", title="问政")
        question_id = await add(
            m.questions,
            meeting_id=meeting_id,
            position=1,
            title="压力测试问题：老旧小区改造进度如何？",
            text="",
            asker_id=deputy_ids[0],
            group_id=group_ids[0],
        )
        await conn.execute(
            insert(m.question_respondents).values(
                question_id=question_id, official_id=official_id, position=0
            )
        )
        await conn.execute(
            insert(m.users).values(
                username=chair,
                display_name="压力测试主持人",
                password_hash=hash_password(password),
                roles="chair",
                created_ms=now,
            )
        )
    return Seeded(meeting_id, question_id, deputy_ids, chair, password)


async def seed(engine: AsyncEngine, n: int) -> Seeded:
    """:func:`seed_meeting`, then let go of the engine (it belongs to this event loop)."""
    try:
        return await seed_meeting(engine, n)
    finally:
        await engine.dispose()
