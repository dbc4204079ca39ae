"""The demo's follow-up loop walked once (issue 18), so `make run` shows every page of it
with something on it: the demo body's responsible organs (承办单位), and the term's second
session (a 人大代表问政会 held some months ago, server/office/held_demo.py) two of whose
questions the presidium made items.

- 路灯: the lead organ posted progress, then an A reply; the deputy who asked judged it
  基本满意; it waits for staff to close it.
- 垃圾收运: progress from the assisting organ, a B reply from the lead; the deputy who
  asked says 不同意办结 and has not judged yet, so the board marks it and the deputy's
  我的督办 frames it.

Everything goes through the functions the pages call (organs.add_organ,
followup.record_decision, followup_posts.post_progress/post_reply,
followup_deputy.judge/object_to_closing), each step at its own moment in the past so the
histories read in order. The askers are cards 1007 and 1008, printed with their
invitation links by `wenzheng serve --demo`, and not the askers of the demo meeting's own
questions (cards 1001 to 1006), whose 我的督办 stays empty for the hall's follow-up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.office import followup, followup_deputy, followup_posts
from server.office import followup_rules as rules
from server.office import organs as organs_office
from server.office.held_demo import QUESTIONS as PAST_QUESTIONS
from server.office.held_demo import Past, held_day, start_ms
from server.storage import models as m

ACTOR, DEVICE = "demo", "wenzheng demo"
DAY_MS = 24 * 3600 * 1000
# (name, contact, phone): fictional, in the shape of an office's list.
ORGANS = (
    ("清溪镇建设管理办公室", "许文静", "13800000011"),
    ("清溪镇农业农村办公室", "何建军", "13800000012"),
    ("清溪镇综合行政执法队", "陶明", "13800000013"),
)
DECIDED_AFTER = 6  # the presidium's 交办 decision, days after the session
WORK_BEFORE = 3  # a progress post's day of the work, days before it was posted


@dataclass(frozen=True)
class Asked:
    """What happened to the item of one question of the second session (held_demo.QUESTIONS,
    in that order: the asker is the question's)."""

    commitment: str
    lead: int  # index into ORGANS
    assisting: tuple[int, ...]
    progress: tuple[int, str, int]  # (organ index, text, days ago)
    reply: tuple[str, str, int]  # (class, text, days ago)
    verdict: str | None  # the asker's judgment (followup_rules.VERDICTS), days ago below
    objection: str  # the asker's 不同意办结 reason, or ""
    judged_days_ago: int


ASKED = (
    Asked(
        commitment="三个月内修复全部损坏路灯，建立报修后 48 小时内修复的机制",
        lead=0,
        assisting=(),
        progress=(0, "已完成镇区主干道 126 盏路灯的排查，更换损坏灯具 38 盏。", 60),
        reply=("A", "损坏路灯已全部修复；已与供电所签订维修协议，报修后 48 小时内修复。", 25),
        verdict=rules.BASIC,
        objection="",
        judged_days_ago=20,
    ),
    Asked(
        commitment="年内新增分类收运车辆 5 辆，做到偏远村每周收运两次",
        lead=1,
        assisting=(2,),
        progress=(2, "已对沿路乱堆放点开展集中整治，清理垃圾 40 余吨。", 50),
        reply=("B", "已新增分类收运车辆 2 辆，其余 3 辆列入明年预算，分批购置。", 18),
        verdict=None,
        objection="明年预算还没有批准，偏远村仍然一周才收运一次，不同意现在办结。",
        judged_days_ago=10,
    ),
)


async def add_organs(conn: AsyncConnection, body_id: int) -> list[int]:
    """The body's organs as staff would type them on /bodies/<id>/organs; ids in ORGANS's order."""
    have = {o.name: o.id for o in await organs_office.organs_of(conn, body_id)}
    ids: list[int] = []
    for name, contact, phone in ORGANS:
        if name not in have:
            have[name] = await organs_office.add_organ(
                conn, body_id, name, contact, phone, actor=ACTOR, device=DEVICE
            )
        ids.append(int(have[name]))
    return ids


async def load_asked(
    conn: AsyncConnection, body_id: int, organ_ids: list[int], past: Past, now_ms: int
) -> list[int]:
    """The second session's 交办 decision, its two items handled; returns the items' ids.

    The session (server/office/held_demo.py) is held before this when the command loads
    the demo, so the decision reads the hall's ratings into the items."""
    at_held = start_ms(held_day())
    decided = held_day() + dt.timedelta(days=DECIDED_AFTER)
    at_decided = at_held + DECIDED_AFTER * DAY_MS
    asked = list(zip(PAST_QUESTIONS, past.question_ids, strict=True))
    chosen = [(pq, qid) for pq, qid in asked if not pq.not_item]
    await followup.record_decision(
        conn, past.meeting_id, organ="主席团", decided_on=decided,
        document_no=f"清溪人大〔{decided.year}〕3号", reply_months=3, chosen=[qid for _, qid in chosen],
        priority=[], reasons={qid: pq.not_item for pq, qid in asked if pq.not_item}, actor=ACTOR,
        device=DEVICE, now_ms=at_decided,
    )  # fmt: skip
    d, fi = m.deputies, m.followup_items
    cards = {
        str(c): int(i)
        for c, i in await conn.execute(select(d.c.card_no, d.c.id).where(d.c.body_id == body_id))
    }
    made: list[int] = []
    for a, (pq, qid) in zip(ASKED, chosen, strict=True):
        item_id = int((await conn.execute(select(fi.c.id).where(fi.c.question_id == qid))).scalar_one())
        await _handle(conn, item_id, a, organ_ids, cards[pq.card_no], at_decided, now_ms)
        made.append(item_id)
    return made


async def _handle(
    conn: AsyncConnection, item_id: int, a: Asked, organ_ids: list[int], asker: int, decided: int, now: int
) -> None:
    """The item's organs and commitment (the day of the decision), progress, reply and the
    asker's judgment, in that order."""
    common = {"actor": ACTOR, "device": DEVICE}
    lead = organ_ids[a.lead]
    await followup.set_organs(conn, item_id, lead, [organ_ids[i] for i in a.assisting], **common)
    by, text, ago = a.progress
    await followup.add_commitment(conn, item_id, a.commitment, now_ms=decided, **common)
    then = today() - dt.timedelta(days=ago)
    work = then - dt.timedelta(days=WORK_BEFORE)  # the work is reported a few days after
    await followup_posts.post_progress(
        conn, item_id, organ_id=organ_ids[by], text=text, done_on=work, today=then, author=ORGANS[by][0],
        on_behalf=False, actor=f"organ:{organ_ids[by]}", device=DEVICE, now_ms=now - ago * DAY_MS,
    )  # fmt: skip
    reply_class, reply, ago = a.reply
    await followup_posts.post_reply(
        conn, item_id, organ_id=lead, text=reply, reply_class=reply_class, author=ORGANS[a.lead][0],
        on_behalf=False, actor=f"organ:{lead}", device=DEVICE, now_ms=now - ago * DAY_MS,
    )  # fmt: skip
    at = now - a.judged_days_ago * DAY_MS
    if a.verdict is not None:
        await followup_deputy.judge(conn, item_id, asker, a.verdict, device=DEVICE, now_ms=at)
    if a.objection:
        await followup_deputy.object_to_closing(conn, item_id, asker, a.objection, device=DEVICE, now_ms=at)
