"""The demo's follow-up (督办): five items on the demo body's board, so `make run` (and
`wenzheng serve --demo`) shows one overdue, one due within the week and one closed with
an A reply — the opinions of the term's second session's 专题询问, created by hand
through the office's own functions (server/office/followup.py), dated from today — and
two questions of that session (held through the hall's action path when the command
loads the demo: server/office/held_demo.py), replied by their organs and judged by the
deputies who asked them, one with an objection (server/office/followup_demo_loop.py). Each item
has its responsible organs (the body's three). All five are public, the text of their
posts approved (server/office/followup_publish.py), so the body's public page shows them
too; a progress report of all five is saved (server/office/followup_report.py), for the
next session's agenda to take.

Only the command's demo loads them (server/cli/serve.py), not the tests' demo
(tests/conftest.py ``install_demo``): the tests record their own decisions on a board that
starts empty. Loading is idempotent: a body that has items gets none.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.office import followup, followup_demo_loop, followup_publish, followup_report, held_demo
from server.office import followup_rules as rules
from server.office.demo import BODY
from server.office.followup_report_items import gather
from server.storage import models as m

ACTOR, DEVICE, AUTHOR = "demo", "wenzheng demo", "demo"
CLOSING = "经回访，提问代表对办理结果表示满意，予以办结。"
REPORT = "清溪镇人大代表问政所提问题推进落实情况（年中人代会听取）"
# (title, days from the deadline to today: positive is overdue, commitment,
#  lead and assisting organs: indexes into followup_demo_loop.ORGANS)
ITEMS = (
    ("第二次会议专题询问意见：镇区停车难问题", 5, "年底前新增公共停车位 200 个", 0, (2,)),
    ("第二次会议专题询问意见：农村饮水安全巩固提升", -6, "雨季前完成三个村的管网改造", 1, ()),
    ("第二次会议专题询问意见：中小学校门口交通秩序", 20, "上下学时段增派交警和志愿者", 2, ()),
)


async def load_followup_demo(conn: AsyncConnection) -> None:
    body_id = (await conn.execute(select(m.bodies.c.id).where(m.bodies.c.name == BODY))).scalar()
    if body_id is None:
        return
    if await started(conn, int(body_id)):
        return
    now = int(time.time() * 1000)
    day = today()
    common: dict[str, Any] = {"actor": ACTOR, "device": DEVICE}
    organ_ids = await followup_demo_loop.add_organs(conn, int(body_id))
    made: list[int] = []
    for n, (title, late_by, promise, lead, assisting) in enumerate(ITEMS):
        due = day - dt.timedelta(days=late_by)
        assigned = rules.add_months(due, -rules.DEFAULT_MONTHS)
        item_id = await followup.create_item(
            conn, int(body_id), title=title, assigned_on=assigned, priority=n == 0, now_ms=now, **common
        )
        await followup.add_commitment(conn, item_id, promise, now_ms=now, **common)
        await followup.set_organs(conn, item_id, organ_ids[lead], [organ_ids[i] for i in assisting], **common)
        made.append(item_id)
        if n == 2:  # answered and closed: an A reply, then staff close it
            reply = "已在两所学校门口设置护学岗，秩序明显好转。"
            await followup.change_status(
                conn, item_id, rules.REPLIED, text=reply, reply_class="A", author=AUTHOR, on_behalf=True,
                now_ms=now, **common,
            )  # fmt: skip
            await followup.change_status(
                conn, item_id, rules.CLOSED, text=CLOSING, author=AUTHOR, now_ms=now, **common
            )
    past = await held_demo.prepare_past(conn, int(body_id))
    made += await followup_demo_loop.load_asked(conn, int(body_id), organ_ids, past, now)
    await _publish(conn, made, now)
    await _report(conn, int(body_id), now)


async def started(conn: AsyncConnection, body_id: int) -> bool:
    """Whether the body has follow-up items: then the demo's are loaded (or the office's own)."""
    fi = m.followup_items
    return bool((await conn.execute(select(func.count()).where(fi.c.body_id == body_id))).scalar_one())


async def _publish(conn: AsyncConnection, item_ids: list[int], now: int) -> None:
    """Every demo item on the body's public page (/public/bodies/<id>/followup), with the
    text of each of its posts approved, as staff would on the item page."""
    p = m.followup_posts
    for item_id in item_ids:
        await followup_publish.set_public(conn, item_id, True, actor=ACTOR, device=DEVICE)
        posts = select(p.c.id).where(p.c.item_id == item_id, p.c.text != "").order_by(p.c.id)
        for post_id in list((await conn.execute(posts)).scalars()):
            await followup_publish.approve_post(
                conn, item_id, int(post_id), actor=ACTOR, device=DEVICE, now_ms=now
            )


async def _report(conn: AsyncConnection, body_id: int, now: int) -> None:
    """A progress report of every item, its overview the one the report page offers."""
    day = today()
    counts = followup_report.counts_of(await gather(conn, body_id, (), now))
    await followup_report.make_report(
        conn, body_id, title=REPORT, overview=followup_report.default_overview(BODY, [], counts, day),
        meeting_ids=(), dated=day, actor=ACTOR, device=DEVICE, now_ms=now,
    )  # fmt: skip
