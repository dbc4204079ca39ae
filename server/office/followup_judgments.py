"""The deputies' judgments of follow-up replies (``followup_judgments``), read.

An item's *current reply* is its latest post of kind "reply" (the organ's answer that moved
it to 已答复). The deputies who asked or co-proposed its question judge that reply —
满意 / 基本满意 / 不满意 — and may say it must stay open (不同意办结, with a reason); the
writes are in server/office/followup_deputy.py. Counts are always taken over the current
reply only: a judgment of an earlier reply (one that a 不满意 sent back) is history, shown
on the staff item page but counted nowhere.

:func:`summary` is the read the progress report uses (its ``objected`` count is the number
of items whose summary has ``objections > 0``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import followup_rules as rules
from server.storage import models as m


@dataclass(frozen=True)
class JudgmentSummary:
    """How the deputies judged an item's current reply (all zero without one)."""

    satisfied: int = 0
    basic: int = 0
    dissatisfied: int = 0
    objections: int = 0

    @property
    def any(self) -> bool:
        return bool(self.satisfied or self.basic or self.dissatisfied or self.objections)


@dataclass(frozen=True)
class Judgment:
    """One deputy's judgment of one reply, for the staff item page."""

    deputy_id: int
    deputy: str
    verdict: str | None  # satisfied | basic | dissatisfied, or None (only an objection)
    objects: bool
    reason: str
    at_ms: int

    @property
    def verdict_name(self) -> str:
        return rules.VERDICTS.get(self.verdict or "", "未评价")


@dataclass(frozen=True)
class ReplyJudgments:
    """A reply of the item and the judgments made of it; ``current``: the latest reply."""

    reply_id: int
    reply_class: str | None
    at_ms: int
    current: bool
    judgments: tuple[Judgment, ...]

    @property
    def objections(self) -> int:
        return sum(j.objects for j in self.judgments)


async def current_replies(conn: AsyncConnection, item_ids: Collection[int]) -> dict[int, int]:
    """Each item's current reply: item id → the id of its latest "reply" post (items with
    no reply are left out)."""
    if not item_ids:
        return {}
    p = m.followup_posts
    rows = await conn.execute(
        select(p.c.item_id, func.max(p.c.id))
        .where(p.c.item_id.in_(list(item_ids)), p.c.kind == rules.REPLY)
        .group_by(p.c.item_id)
    )
    return {int(item): int(post) for item, post in rows}


async def summary(conn: AsyncConnection, item_ids: Collection[int]) -> dict[int, JudgmentSummary]:
    """item id → the counts of the deputies' judgments of its current reply, for every id
    asked (zeros for an item without a reply or without judgments)."""
    out = {int(i): JudgmentSummary() for i in item_ids}
    replies = await current_replies(conn, out)
    if not replies:
        return out
    j = m.followup_judgments
    counts: dict[int, dict[str, int]] = {i: {} for i in replies}
    rows = await conn.execute(
        select(j.c.item_id, j.c.verdict, j.c.objects).where(j.c.reply_post_id.in_(list(replies.values())))
    )
    for item_id, verdict, objects in rows:
        mine = counts[int(item_id)]
        if verdict in rules.VERDICTS:
            mine[verdict] = mine.get(verdict, 0) + 1
        if objects:
            mine["objections"] = mine.get("objections", 0) + 1
    for item_id, c in counts.items():
        out[item_id] = JudgmentSummary(
            satisfied=c.get(rules.SATISFIED, 0),
            basic=c.get(rules.BASIC, 0),
            dissatisfied=c.get(rules.DISSATISFIED, 0),
            objections=c.get("objections", 0),
        )
    return out


async def objected_items(conn: AsyncConnection, body_id: int, *, open_only: bool = False) -> set[int]:
    """The body's items with at least one 不同意办结 on their current reply (``open_only``:
    of those, the ones staff have not closed)."""
    fi = m.followup_items
    stmt = select(fi.c.id).where(fi.c.body_id == body_id)
    if open_only:
        stmt = stmt.where(fi.c.status != rules.CLOSED)
    ids = [int(i) for i in await conn.scalars(stmt)]
    return {i for i, s in (await summary(conn, ids)).items() if s.objections}


async def objected(conn: AsyncConnection, item_id: int) -> bool:
    """Whether a deputy objects to closing the item on its current reply."""
    return (await summary(conn, [item_id]))[item_id].objections > 0


async def by_reply(conn: AsyncConnection, item_id: int) -> list[ReplyJudgments]:
    """Every reply of the item in order, each with its judgments (by deputy name)."""
    p, j, d = m.followup_posts, m.followup_judgments, m.deputies
    replies = list(
        (
            await conn.execute(
                select(p.c.id, p.c.reply_class, p.c.at_ms)
                .where(p.c.item_id == item_id, p.c.kind == rules.REPLY)
                .order_by(p.c.id)
            )
        ).all()
    )
    found: dict[int, list[Judgment]] = {int(r.id): [] for r in replies}
    rows = await conn.execute(
        select(j, d.c.name.label("deputy_name"))
        .join(d, d.c.id == j.c.deputy_id)
        .where(j.c.item_id == item_id)
        .order_by(j.c.at_ms, j.c.id)
    )
    for r in rows:
        found.setdefault(int(r.reply_post_id), []).append(
            Judgment(
                int(r.deputy_id), str(r.deputy_name), r.verdict, bool(r.objects), str(r.reason), int(r.at_ms)
            )
        )
    last = replies[-1].id if replies else None
    return [
        ReplyJudgments(int(r.id), r.reply_class, int(r.at_ms), r.id == last, tuple(found[int(r.id)]))
        for r in replies
    ]
