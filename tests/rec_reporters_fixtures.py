"""Helpers for the tests of who reports on an agenda item (rec-reporters): the demo meeting's
body, groups and members, reporters named through the office's own function
(server/office/agenda_reporters.py), and the demo sitting held through the real action path
(server/record/hold.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.base.settings import Settings
from server.office import agenda_reporters
from server.office import meetings_admin as admin
from server.office.bodies import Who
from server.record.sitting import hold_sitting
from server.storage import models as m
from server.storage.db import create_engine
from tests.test_meetings_admin import run  # noqa: F401  (the tests import it from here)

WHO = Who("staff:chair", "pytest")
START_MS = 1_750_000_000_000
HIGHER = ("李秀英", "某某市人民代表大会")


@dataclass(frozen=True)
class Demo:
    body_id: int
    groups: list[tuple[int, str]]  # (id, name) in the body's order
    members: list[tuple[int, str, int]]  # (id, name, group id)
    items: list[Any]  # the agenda rows, in order


async def demo(conn: AsyncConnection, meeting_id: int) -> Demo:
    row = await admin.meeting_row(conn, meeting_id)
    g, d = m.groups.c, m.deputies.c
    groups = [
        (int(r.id), str(r.name))
        for r in await conn.execute(
            select(g.id, g.name).where(g.body_id == row.body_id).order_by(g.position, g.id)
        )
    ]
    members = [
        (int(r.id), str(r.name), int(r.group_id))
        for r in await conn.execute(
            select(d.id, d.name, d.group_id).where(d.body_id == row.body_id).order_by(d.id)
        )
    ]
    return Demo(int(row.body_id), groups, members, await admin.agenda(conn, meeting_id))


async def name(conn: AsyncConnection, meeting_id: int, item_id: int, **form: str) -> None:
    """Name who reports on an item the way the edit page does (raises Invalid)."""
    row = await admin.meeting_row(conn, meeting_id)
    await agenda_reporters.save(conn, meeting_id, row, {"item_id": str(item_id), **form}, WHO)


async def name_three(conn: AsyncConnection, meeting_id: int) -> tuple[Demo, int, int]:
    """The demo's first report item: a group; the second: a member of another group; the
    inquiry item: a deputy of the higher congress. (group id, member id)."""
    d = await demo(conn, meeting_id)
    group_id = d.groups[0][0]
    member_id = next(i for i, _, g in d.members if g == d.groups[1][0])
    first, second, third = d.items
    await name(conn, meeting_id, first.id, reporter=f"group:{group_id}")
    await name(conn, meeting_id, second.id, reporter=f"member:{member_id}")
    await name(
        conn, meeting_id, third.id, reporter="higher", reporter_name=HIGHER[0], reporter_congress=HIGHER[1]
    )
    return d, group_id, member_id


async def _hold(settings: Settings, meeting_id: int) -> None:
    engine = create_engine(settings.database_url)
    try:
        await hold_sitting(engine, Keys(settings.secret_key).box, meeting_id, START_MS)
    finally:
        await engine.dispose()


def held(settings: Settings, meeting_id: int) -> None:
    """The demo sitting, held through the real action path (it rates the first report item)."""
    asyncio.run(_hold(settings, meeting_id))
