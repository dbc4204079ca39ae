"""A body's records as the office keeps them: the bodies, their officials, edits by hand.

Imports of whole rosters are in :mod:`server.office.imports`; these are the reads the pages
need and the edits of one deputy or one official (the caller records them in the audit
trail in the same transaction).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office.imports import DeputyRow, OfficialRow
from server.storage import models as m


async def every_body(conn: AsyncConnection) -> list[Any]:
    return list((await conn.execute(select(m.bodies).order_by(m.bodies.c.id))).all())


async def body(conn: AsyncConnection, body_id: int) -> Any:
    return (await conn.execute(select(m.bodies).where(m.bodies.c.id == body_id))).first()


async def officials(conn: AsyncConnection, body_id: int) -> list[Any]:
    o = m.officials
    return list((await conn.execute(select(o).where(o.c.body_id == body_id).order_by(o.c.id))).all())


async def official(conn: AsyncConnection, body_id: int, official_id: int) -> Any:
    o = m.officials
    return (await conn.execute(select(o).where(o.c.id == official_id, o.c.body_id == body_id))).first()


async def update_deputy(
    conn: AsyncConnection, body_id: int, deputy_id: int, row: DeputyRow, group_id: int
) -> None:
    d = m.deputies
    await conn.execute(
        update(d)
        .where(d.c.id == deputy_id, d.c.body_id == body_id)
        .values(name=row.name, group_id=group_id, phone=row.phone, notes=row.notes)
    )


async def update_official(conn: AsyncConnection, body_id: int, official_id: int, row: OfficialRow) -> None:
    o = m.officials
    await conn.execute(
        update(o)
        .where(o.c.id == official_id, o.c.body_id == body_id)
        .values(name=row.name, title=row.title, organisation=row.organisation)
    )
