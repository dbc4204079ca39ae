"""Who is a member of a body on a given day, read from the mandates and suspensions.

应到 of a meeting is computed here, never typed: the deputies whose mandate covers the
meeting's day (``starts_on <= day < ends_on``), less those suspended that day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.storage import models as m


@dataclass(frozen=True)
class OnDay:
    members: frozenset[int]  # deputy ids with a mandate covering the day
    suspended: frozenset[int]  # of those, suspended that day


def _covering(table: Table, day: dt.date) -> ColumnElement[bool]:
    return and_(table.c.starts_on <= day, or_(table.c.ends_on.is_(None), table.c.ends_on > day))


async def on_day(conn: AsyncConnection, body_id: int, day: dt.date) -> OnDay:
    d = m.deputies
    members = {
        r.deputy_id
        for r in await conn.execute(
            select(m.mandates.c.deputy_id)
            .join(d, d.c.id == m.mandates.c.deputy_id)
            .where(d.c.body_id == body_id, _covering(m.mandates, day))
        )
    }
    suspended = {
        r.deputy_id
        for r in await conn.execute(
            select(m.suspensions.c.deputy_id)
            .join(d, d.c.id == m.suspensions.c.deputy_id)
            .where(d.c.body_id == body_id, _covering(m.suspensions, day))
        )
    }
    return OnDay(frozenset(members), frozenset(suspended & members))


async def default_start(conn: AsyncConnection, body_id: int) -> dt.date:
    """The day a newly imported member's mandate starts unless staff say otherwise: the
    first day of the term running today, else today."""
    now = today()
    t = m.terms
    started = (
        await conn.execute(
            select(t.c.starts_on)
            .where(t.c.body_id == body_id, _covering(t, now))
            .order_by(t.c.starts_on.desc())
            .limit(1)
        )
    ).scalar()
    return started if isinstance(started, dt.date) else now


async def start_mandate(
    conn: AsyncConnection, deputy_id: int, starts_on: dt.date, reason: str, by: str, now_ms: int
) -> None:
    await conn.execute(
        insert(m.mandates).values(
            deputy_id=deputy_id,
            starts_on=starts_on,
            start_reason=reason,
            recorded_by=by[:96],
            recorded_ms=now_ms,
        )
    )


async def start_mandates(
    conn: AsyncConnection, deputy_ids: list[int], starts_on: dt.date, reason: str, by: str, now_ms: int
) -> None:
    """:func:`start_mandate` for many deputies in one statement (a roster import)."""
    if deputy_ids:
        values = {
            "starts_on": starts_on,
            "start_reason": reason,
            "recorded_by": by[:96],
            "recorded_ms": now_ms,
        }
        await conn.execute(insert(m.mandates), [{"deputy_id": i, **values} for i in deputy_ids])
