"""我的督办 in real Chromium: a deputy's phone (390×844, and 360×640) opens it from the
deputy page, finds the item of the question the deputy asked replied by its organ, rates
the reply 满意 and says 不同意办结 with a reason; staff open the item page and see it — the
judgment, the reason, the note before closing — are refused a close without a reason and
close it with one; the phone then reads 已办结.

The setup is the office's own: the 交办 decision recorded on the demo meeting, an organ
named lead, a commitment, and the organ's reply (``change_status`` with who=ORGAN), all
written to the server's database while it runs. Screenshots of the list and of the
judging form at both phone sizes go to test-artifacts/browser/followup_deputy_*.png.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.keys import Keys
from server.office import followup, followup_posts
from server.office import followup_rules as rules
from server.storage import models as m
from server.storage.db import create_engine
from tests.browser import screen_checks as sc
from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_live_session import desk_context, login, phone_context

pytestmark = pytest.mark.browser

WHO: dict[str, Any] = {"actor": "staff:chair", "device": "browser test"}
EARLIER = today() - dt.timedelta(days=3)  # the day of the organ's progress work


async def replied_item(server: DemoServer) -> tuple[int, int, str, int]:
    """(item id, asker id, asker name, asker card version) of the demo meeting's first
    question, made an item and replied to by its organ."""
    engine = create_engine(f"sqlite+aiosqlite:///{server.data_dir / 'wenzheng.db'}")
    now = int(time.time() * 1000)
    try:
        async with engine.begin() as conn:
            q = m.questions
            qs = [
                int(i)
                for i in await conn.scalars(
                    select(q.c.id).where(q.c.meeting_id == server.meeting_id).order_by(q.c.position)
                )
            ]
            await followup.record_decision(
                conn, server.meeting_id, organ="主席团", decided_on=dt.date(2026, 11, 30),
                document_no="清溪人大〔2026〕7号", reply_months=3, chosen=qs[:1], priority=[],
                reasons={i: "已在会上答复清楚" for i in qs[1:]}, now_ms=now, **WHO,
            )  # fmt: skip
            fi = m.followup_items
            item = (await conn.execute(select(fi).where(fi.c.question_id == qs[0]))).one()
            organ = await _organ(conn, int(item.body_id))
            await followup.set_organs(conn, int(item.id), organ, [], **WHO)
            await followup.add_commitment(conn, int(item.id), "年内完成农贸市场雨棚改造", now_ms=now, **WHO)
            await followup_posts.post_progress(
                conn, int(item.id), organ_id=organ, text="已完成东侧雨棚钢架安装。", done_on=EARLIER,
                today=today(), author="", on_behalf=False, actor="organ:1", device="browser test",
                now_ms=now - 1,
            )  # fmt: skip
            await followup.change_status(
                conn, int(item.id), rules.REPLIED, text="东侧雨棚已改造完成，西侧列入明年计划。",
                reply_class="A", who=rules.ORGAN, author="县住建局", actor="organ:1", device="browser test",
                now_ms=now,
            )  # fmt: skip
            asker = (await conn.execute(select(q.c.asker_id).where(q.c.id == qs[0]))).scalar_one()
            d = m.deputies
            me = (await conn.execute(select(d).where(d.c.id == asker))).one()
            return int(item.id), int(me.id), str(me.name), int(me.card_version)
    finally:
        await engine.dispose()


async def _organ(conn: AsyncConnection, body_id: int) -> int:
    o = m.organs
    # By name: the command's demo has organs of its own (server/office/followup_demo_loop.py).
    found = (
        await conn.execute(select(o.c.id).where(o.c.body_id == body_id, o.c.name == "县住建局"))
    ).scalar()
    if found is not None:
        return int(found)
    stmt = insert(o).values(body_id=body_id, name="县住建局", created_at_ms=int(time.time() * 1000))
    return int((await conn.execute(stmt.returning(o.c.id))).scalar_one())


async def no_sideways_scroll(page: Page, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page scrolls sideways at {width} px: {scroll}"


async def test_a_deputy_objects_on_the_phone_and_staff_see_it(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    s = own_demo_server
    item_id, deputy_id, name, card_version = await replied_item(s)
    link = f"{s.base}/i/{s.meeting_id}/{Keys(s.secret).invitation(deputy_id, card_version)}"
    phone_ctx = await phone_context(browser, 390, 844)
    phone = await phone_ctx.new_page()
    await phone.goto(link)
    await expect(phone).to_have_url(re.compile(rf"/d/{s.meeting_id}$"))
    entry = await phone.locator("#d-followup").bounding_box()
    assert entry is not None and entry["height"] >= 48, entry  # a finger's size
    await no_sideways_scroll(phone, 390)
    await shots.take("deputy", {"phone-390": phone})
    await phone.locator("#d-followup").click()
    await expect(phone).to_have_url(re.compile(rf"/d/{s.meeting_id}/followup$"))
    card = phone.locator(f"#fp-item-{item_id}")
    await expect(card.locator(".fp-state")).to_have_text("已答复（A 类）")
    await expect(card).to_contain_text("县住建局")
    await expect(phone.locator("#fp-todo")).to_have_text("有 1 项答复等您评价")
    await no_sideways_scroll(phone, 390)

    small_ctx = await sc.context(browser, 360, 640, phone=True)  # CSP bypassed for axe only
    await small_ctx.add_cookies(await phone_ctx.cookies())
    small = await small_ctx.new_page()
    await small.goto(f"{s.base}/d/{s.meeting_id}/followup")
    await expect(small.locator(f"#fp-item-{item_id}")).to_be_visible()
    await no_sideways_scroll(small, 360)
    # Fingers and eyes (48×48 targets, 18 px text) and axe-core, on every state shown.
    problems = await sc.axe_problems(small, "我的督办") + await sc.phone_problems(small, "我的督办")
    await shots.take("list", {"phone-390": phone, "phone-360": small})

    await card.get_by_role("link", name="查看答复并评价").click()
    await expect(phone).to_have_url(re.compile(rf"/d/{s.meeting_id}/followup/{item_id}$"))
    await expect(phone.locator("#fp-history")).to_contain_text("东侧雨棚已改造完成")
    # Progress dated by the day of the work, saying when it came, at the phone's reading size.
    await expect(phone.locator("#fp-history .fp-post-progress .fp-post-head")).to_contain_text(
        f"{EARLIER.isoformat()} · 办理进展"
    )
    await expect(phone.locator("#fp-history .fp-posted")).to_contain_text("报送")
    await expect(phone.locator("#fp-commitments")).to_contain_text("年内完成农贸市场雨棚改造")
    await phone.locator("#fp-to-judge").click()  # the judging form is below the history
    satisfied = phone.get_by_role("button", name="满意", exact=True)
    await expect(satisfied).to_be_in_viewport()
    box = await satisfied.bounding_box()
    assert box is not None and box["height"] >= 60 and box["width"] >= 300, box
    await small.goto(f"{s.base}/d/{s.meeting_id}/followup/{item_id}")
    await no_sideways_scroll(small, 360)
    problems += await sc.axe_problems(small, "督办事项") + await sc.phone_problems(small, "督办事项")
    await phone.locator("#fp-judge").scroll_into_view_if_needed()
    await shots.take("form", {"phone-390": phone, "phone-360": small})

    await satisfied.click()
    await expect(phone.locator("#fp-saved")).to_have_text("您的评价已记录。")
    await expect(phone.locator("#fp-my-verdict")).to_contain_text("满意")
    await phone.get_by_text("不同意办结", exact=True).click()
    reason = phone.get_by_label(re.compile("不同意办结的理由"))
    await expect(reason).to_be_visible()
    await reason.fill("西侧雨棚还没有动工，雨天仍然漏水。")
    await small.goto(f"{s.base}/d/{s.meeting_id}/followup/{item_id}")
    await small.get_by_text("不同意办结", exact=True).click()
    await small.locator("#fp-objection").scroll_into_view_if_needed()
    await no_sideways_scroll(small, 360)
    problems += await sc.axe_problems(small, "不同意办结") + await sc.phone_problems(small, "不同意办结")
    assert not problems, "\n".join(problems)
    await shots.take("objection-form", {"phone-390": phone, "phone-360": small})
    await phone.get_by_role("button", name="提交不同意办结").click()
    await expect(phone.locator("#fp-saved")).to_have_text("您的“不同意办结”意见已记录。")
    await expect(phone.locator("#fp-objection")).to_contain_text("西侧雨棚还没有动工")
    await shots.take("objected", {"phone-390": phone})

    desk_ctx = await desk_context(browser, 1366, 768)
    desk = await desk_ctx.new_page()
    await login(desk, f"{s.base}/followup/{item_id}")
    judged = desk.locator("#fu-judgments")
    await expect(judged).to_contain_text(name)
    await expect(judged).to_contain_text("西侧雨棚还没有动工，雨天仍然漏水。")
    await expect(judged).to_contain_text("1 位代表不同意办结")
    await expect(desk.locator("#fu-objection-note")).to_contain_text("办结须在“说明”中写明理由")
    await shots.take("staff", {"desk": desk})
    board = await desk_ctx.new_page()
    await board.goto(desk.url)
    await board.get_by_role("link", name="督办台账").click()
    await expect(board.locator(f"#fu-item-{item_id} .fu-objected")).to_have_text("代表不同意办结")
    # This one and the command's demo's (server/office/followup_demo_loop.py).
    await expect(board.locator("#fu-count-objected b")).to_have_text("2")
    await board.locator("#fu-count-objected").get_by_role("link", name="只看这些").click()
    await expect(board.locator("#fu-filters").get_by_label("只看代表不同意办结")).to_be_checked()
    await expect(board.locator("#fu-board tbody tr")).to_have_count(2)
    await expect(board.locator(f"#fu-item-{item_id}")).to_be_visible()
    await shots.take("board", {"desk": board})
    move = desk.locator("#fu-move-form")
    await move.get_by_label("改为“已办结”").check()
    await move.get_by_role("button", name="确认更改").click()
    await expect(desk.locator("#fu-errors")).to_contain_text("有代表不同意办结，办结须写明理由")
    move = desk.locator("#fu-move-form")
    await move.get_by_label("改为“已办结”").check()
    await move.get_by_label(re.compile("说明")).fill("已与代表当面沟通，西侧雨棚纳入明年计划跟踪。")
    await move.get_by_role("button", name="确认更改").click()
    await expect(desk.locator("#fu-status")).to_contain_text("已办结")

    # Closed with a reason: no longer counted as pending, still marked in grey.
    await board.reload()
    await expect(board.locator("#fu-count-objected b")).to_have_text("1")
    await expect(board.locator("#fu-board tbody tr")).to_have_count(1)  # only the demo's now
    await expect(board.locator(f"#fu-item-{item_id}")).to_have_count(0)
    await board.goto(re.sub(r"\?.*$", "", board.url))
    await expect(board.locator(f"#fu-item-{item_id} .fu-objected-closed")).to_have_text("办结时代表有异议")

    await phone.reload()
    await expect(phone.locator("#fp-status")).to_have_text("已办结（A 类）")
    await expect(phone.locator("#fp-note")).to_have_text("此事项已办结。")
    for ctx in (phone_ctx, small_ctx, desk_ctx):
        await ctx.close()
