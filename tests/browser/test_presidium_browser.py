"""The presidium and a presidium member reviewing from a phone, in real Chromium.

Staff (1366×768) set the town congress's presidium for its term, give one member the
meeting's review board; that member's phone (390×844), bound by the demo invitation,
finds the board from the question page, approves a question another deputy submitted,
and the staff board's history names "主席团成员 <name>". A demo server of the test's own:
the demo's town congress comes with its term 17.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import DemoServer, Shots

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 768}


async def test_presidium_member_reviews_from_the_phone(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    s = own_demo_server
    base, meeting_id = s.base, s.meeting_id
    with sqlite3.connect(s.data_dir / "wenzheng.db") as db:
        # The demo's town congress has its term 17, and the meeting is in it.
        assert db.execute("SELECT term_id FROM meetings WHERE id = ?", (meeting_id,)).fetchone()[0] == 1
    reviewer, proposer = s.invitations[0], s.invitations[5]

    desk_ctx = await browser.new_context(viewport=DESK, locale="zh-CN")
    desk = await desk_ctx.new_page()
    await desk.goto(f"{base}/bodies/1/presidium")
    await desk.get_by_label("用户名").fill("chair")
    await desk.get_by_label("密码").fill("wenzheng-demo")
    await desk.get_by_role("button", name="登录").click()
    await expect(desk).to_have_url(re.compile(r"/bodies/1/presidium$"))
    await expect(desk.locator("h2").first).to_contain_text("第十七届主席团")

    def row_of(card_no: str):  # type: ignore[no-untyped-def]
        return desk.locator(f"#pr-form tr:has(td:text-is('{card_no}'))")

    for invitation in s.invitations[:3]:
        await row_of(invitation.card_no).locator("input[name^=member_]").check()
    await row_of(reviewer.card_no).get_by_label("常务主席").check()
    await desk.get_by_role("button", name="保存主席团名单").click()
    await expect(desk.locator("#pr-saved")).to_be_visible()
    await expect(desk.locator("#pr-current")).to_contain_text(f"{reviewer.name}（常务主席）")
    await shots.take("presidium", {"desk": desk})

    await desk.goto(f"{base}/m/{meeting_id}/reviewers")
    row = desk.locator("tr", has_text=f"卡号 {reviewer.card_no}")
    await row.get_by_role("button", name="授权").click()
    await expect(desk.locator("tr", has_text=f"卡号 {reviewer.card_no}")).to_contain_text("已授权")
    await shots.take("reviewers", {"desk": desk})

    # Another deputy submits a question from the phone.
    other_ctx = await browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    other = await other_ctx.new_page()
    await other.goto(proposer.url)
    await other.goto(f"{base}/d/{meeting_id}/questions")
    await other.locator("#q-new").get_by_label("标题").fill("关于镇区老旧小区加装电梯的进度")
    await other.get_by_role("button", name="提交问题").click()
    await expect(other.locator(".notice.ok")).to_be_visible()

    # The member's phone: from the question page to the review board, no staff account.
    phone_ctx = await browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    phone = await phone_ctx.new_page()
    await phone.goto(reviewer.url)
    await phone.goto(f"{base}/d/{meeting_id}/questions")
    await phone.locator("#rv-enter").click()
    await expect(phone).to_have_url(re.compile(rf"/d/{meeting_id}/review$"))
    await expect(phone.locator("#rv-count")).to_contain_text("待审 1 条")
    card = phone.locator("article", has_text="关于镇区老旧小区加装电梯的进度")
    await card.scroll_into_view_if_needed()
    await shots.take("board", {"phone": phone})
    size = await card.locator("h4").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 22  # big type for elderly members
    await card.get_by_role("button", name="采用，列入最终清单").click()
    await expect(phone.locator("#rv-saved")).to_contain_text(f"主席团成员 {reviewer.name}")
    await expect(phone.locator("#rv-count")).to_contain_text("待审 0 条")
    await shots.take("approved", {"phone": phone})

    await desk.goto(f"{base}/m/{meeting_id}/review")
    await expect(desk.locator("#q-final-list")).to_contain_text("关于镇区老旧小区加装电梯的进度")
    history = desk.locator("tr", has_text="关于镇区老旧小区加装电梯的进度").locator(".q-history")
    await history.locator("summary").click()
    await expect(history).to_contain_text(f"主席团成员 {reviewer.name} 采用")

    # A deputy outside the presidium is refused with a Chinese page.
    denied = await other.goto(f"{base}/d/{meeting_id}/review")
    assert denied is not None and denied.status == 403
    await expect(other.locator("body")).to_contain_text("没有审核本次会议问题的授权")
    for ctx in (desk_ctx, other_ctx, phone_ctx):
        await ctx.close()
