"""Members over time, read: a deputy's mandates and suspensions, and their state on a day.

The writing is :mod:`server.office.mandates`; the rule of a day is
:mod:`server.storage.members` (a record covers day D when ``starts_on <= D < ends_on``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import covers
from server.storage import models as m

START_REASONS = {"elected": "选举产生", "by_election": "补选", "migrated": "系统迁移"}
END_REASONS = {
    "resigned": "辞职",
    "recalled": "罢免",
    "moved": "调离本行政区域",
    "died": "去世",
    "terminated": "终止代表资格",
    "other": "其他",
}


@dataclass(frozen=True)
class Mandate:
    id: int
    deputy_id: int
    starts_on: dt.date
    start_reason: str
    ends_on: dt.date | None
    end_reason: str
    end_organ: str
    end_document: str
    end_document_on: dt.date | None

    @property
    def start_reason_name(self) -> str:
        return START_REASONS.get(self.start_reason, self.start_reason)

    @property
    def end_reason_name(self) -> str:
        return END_REASONS.get(self.end_reason, self.end_reason)


@dataclass(frozen=True)
class Suspension:
    id: int
    deputy_id: int
    starts_on: dt.date
    ends_on: dt.date | None
    reason: str
    organ: str
    document: str


@dataclass(frozen=True)
class Member:
    """One deputy with the history of their mandates and suspensions, and their state
    on ``day``."""

    id: int
    body_id: int
    name: str
    group: str
    card_no: str
    mandates: tuple[Mandate, ...]
    suspensions: tuple[Suspension, ...]
    day: dt.date

    @property
    def mandate(self) -> Mandate | None:
        """The mandate covering ``day``."""
        return next((x for x in self.mandates if covers(x.starts_on, x.ends_on, self.day)), None)

    @property
    def open_mandate(self) -> Mandate | None:
        """The mandate with no end yet (it may start after ``day``: a by-election ahead)."""
        return next((x for x in self.mandates if x.ends_on is None), None)

    @property
    def suspension(self) -> Suspension | None:
        return next((s for s in self.suspensions if covers(s.starts_on, s.ends_on, self.day)), None)

    @property
    def last_mandate(self) -> Mandate | None:
        return self.mandates[-1] if self.mandates else None

    @property
    def former(self) -> bool:
        """Every mandate ended on or before ``day``."""
        return bool(self.mandates) and all(
            x.ends_on is not None and x.ends_on <= self.day for x in self.mandates
        )


def _mandate(r: object) -> Mandate:
    return Mandate(
        r.id,  # type: ignore[attr-defined]
        r.deputy_id,  # type: ignore[attr-defined]
        r.starts_on,  # type: ignore[attr-defined]
        r.start_reason,  # type: ignore[attr-defined]
        r.ends_on,  # type: ignore[attr-defined]
        r.end_reason,  # type: ignore[attr-defined]
        r.end_organ,  # type: ignore[attr-defined]
        r.end_document,  # type: ignore[attr-defined]
        r.end_document_on,  # type: ignore[attr-defined]
    )


async def mandates_of(conn: AsyncConnection, deputy_id: int) -> list[Mandate]:
    t = m.mandates
    rows = await conn.execute(select(t).where(t.c.deputy_id == deputy_id).order_by(t.c.starts_on, t.c.id))
    return [_mandate(r) for r in rows]


async def suspensions_of(conn: AsyncConnection, deputy_id: int) -> list[Suspension]:
    t = m.suspensions
    rows = await conn.execute(select(t).where(t.c.deputy_id == deputy_id).order_by(t.c.starts_on, t.c.id))
    return [
        Suspension(r.id, r.deputy_id, r.starts_on, r.ends_on, r.reason, r.organ, r.document) for r in rows
    ]


async def member(conn: AsyncConnection, body_id: int, deputy_id: int, day: dt.date) -> Member | None:
    """The deputy of this body with their history and their state on ``day``."""
    d, g = m.deputies, m.groups
    row = (
        await conn.execute(
            select(d.c.id, d.c.body_id, d.c.name, g.c.name.label("group"), d.c.card_no)
            .join(g, g.c.id == d.c.group_id)
            .where(d.c.id == deputy_id, d.c.body_id == body_id)
        )
    ).first()
    if row is None:
        return None
    return Member(
        row.id,
        row.body_id,
        row.name,
        row.group,
        row.card_no,
        tuple(await mandates_of(conn, deputy_id)),
        tuple(await suspensions_of(conn, deputy_id)),
        day,
    )


async def members_of(conn: AsyncConnection, body_id: int, day: dt.date) -> list[Member]:
    """Every deputy of the body with their history (three queries, whatever the size)."""
    d, g = m.deputies, m.groups
    held: dict[int, list[Mandate]] = {}
    for r in await conn.execute(
        select(m.mandates)
        .join(d, d.c.id == m.mandates.c.deputy_id)
        .where(d.c.body_id == body_id)
        .order_by(m.mandates.c.starts_on, m.mandates.c.id)
    ):
        held.setdefault(r.deputy_id, []).append(_mandate(r))
    paused: dict[int, list[Suspension]] = {}
    s = m.suspensions
    for r in await conn.execute(
        select(s)
        .join(d, d.c.id == s.c.deputy_id)
        .where(d.c.body_id == body_id)
        .order_by(s.c.starts_on, s.c.id)
    ):
        paused.setdefault(r.deputy_id, []).append(
            Suspension(r.id, r.deputy_id, r.starts_on, r.ends_on, r.reason, r.organ, r.document)
        )
    rows = await conn.execute(
        select(d.c.id, d.c.name, g.c.name.label("group"), d.c.card_no)
        .join(g, g.c.id == d.c.group_id)
        .where(d.c.body_id == body_id)
        .order_by(d.c.id)
    )
    return [
        Member(
            r.id,
            body_id,
            r.name,
            r.group,
            r.card_no,
            tuple(held.get(r.id, ())),
            tuple(paused.get(r.id, ())),
            day,
        )
        for r in rows
    ]
