"""Who joined and who left a body between two days: the console's note "since the last
meeting", read from the mandates (server/office/mandates.py), never typed.

The previous meeting is the body's latest meeting that is not a rehearsal and was held
on a day before this meeting's day. A deputy joined when a mandate covers this day and
none covered the previous one; left, the other way round. Suspensions are not changes of
membership: the console's attendance shows them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import covers, today
from server.office.mandates import members_of
from server.storage import models as m


@dataclass(frozen=True)
class Change:
    name: str
    why: str  # 补选, 选举产生 / 辞职, 去世 …


@dataclass(frozen=True)
class SincePrevious:
    previous_on: dt.date
    joined: tuple[Change, ...]
    left: tuple[Change, ...]

    def text(self) -> str:
        """自上次会议（7月1日）以来：新增 王某（补选）；减少 李某（辞职）"""
        head = f"自上次会议（{self.previous_on.month}月{self.previous_on.day}日）以来："
        parts = []
        if self.joined:
            parts.append("新增 " + "、".join(f"{c.name}（{c.why}）" for c in self.joined))
        if self.left:
            parts.append("减少 " + "、".join(f"{c.name}（{c.why}）" for c in self.left))
        return head + ("；".join(parts) if parts else "代表无增减")


async def between(conn: AsyncConnection, body_id: int, before: dt.date, after: dt.date) -> SincePrevious:
    joined: list[Change] = []
    left: list[Change] = []
    for member in await members_of(conn, body_id, after):
        then = next((x for x in member.mandates if covers(x.starts_on, x.ends_on, before)), None)
        now = next((x for x in member.mandates if covers(x.starts_on, x.ends_on, after)), None)
        if now is not None and then is None:
            joined.append(Change(member.name, now.start_reason_name))
        elif then is not None and now is None:
            left.append(Change(member.name, then.end_reason_name or "代表资格终止"))
    return SincePrevious(before, tuple(joined), tuple(left))


async def since_previous(conn: AsyncConnection, meeting_id: int) -> SincePrevious | None:
    """The changes since the body's previous (non-rehearsal) meeting; None when there is none."""
    mt = m.meetings
    row = (await conn.execute(select(mt.c.body_id, mt.c.held_on).where(mt.c.id == meeting_id))).first()
    if row is None:
        return None
    day = row.held_on or today()
    previous = (
        await conn.execute(
            select(mt.c.held_on)
            .where(
                mt.c.body_id == row.body_id,
                mt.c.id != meeting_id,
                mt.c.rehearsal.is_(False),
                mt.c.held_on.is_not(None),
                mt.c.held_on < day,
            )
            .order_by(mt.c.held_on.desc(), mt.c.id.desc())
            .limit(1)
        )
    ).scalar()
    if not isinstance(previous, dt.date):
        return None
    return await between(conn, int(row.body_id), previous, day)
