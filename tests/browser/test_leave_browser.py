"""Leave from a phone (390×844 and 360×640) and its approval by staff, in real Chromium.

The phone binds through its demo invitation link, opens 请假 from the deputy page, asks
with a reason; staff open check-in on the console (the meeting runs), approve on the
leave page, and the console shows the deputy on leave at once; the phone then reads
已批准 and who approved. Screenshots go to test-artifacts/browser/leave_*.png.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, expect

from server.base.keys import Keys
from server.storage import attendance
from server.storage.db import create_engine
from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_live_session import connected, desk_context, login, phone_context
from tests.browser.test_vote_browser import staff_check_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SMALL = {"width": 360, "height": 640}
DESK = {"width": 1366, "height": 768}


async def test_phone_asks_staff_approve_console_follows(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    base, meeting_id = own_demo_server.base, own_demo_server.meeting_id
    phone_ctx = await browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    phone = await phone_ctx.new_page()
    me = own_demo_server.invitations[7]
    await phone.goto(me.url)
    await expect(phone).to_have_url(re.compile(rf"/d/{meeting_id}$"))
    await shots.take("deputy", {"phone": phone})
    await phone.locator("#d-leave").click()
    await expect(phone).to_have_url(re.compile(rf"/d/{meeting_id}/leave$"))
    await shots.take("form", {"phone": phone})
    send = phone.get_by_role("button", name="提交请假申请")
    box = await send.bounding_box()
    assert box is not None and box["height"] >= 60 and box["width"] > 300
    await phone.get_by_label(re.compile("请假理由")).fill("到市里参加培训，不能出席。")
    await send.click()
    await expect(phone.locator("#lv-saved")).to_have_text("请假申请已提交，请等待审批。")
    await expect(phone.locator("#lv-status .lv-state")).to_have_text("待审批")
    await shots.take("asked", {"phone": phone})

    desk_ctx = await browser.new_context(viewport=DESK, locale="zh-CN")
    desk = await desk_ctx.new_page()
    await desk.goto(f"{base}/m/{meeting_id}/console")
    await desk.get_by_label("用户名").fill("chair")
    await desk.get_by_label("密码").fill("wenzheng-demo")
    await desk.get_by_role("button", name="登录").click()
    await expect(desk).to_have_url(re.compile(rf"/m/{meeting_id}/console$"))
    await desk.get_by_role("button", name=re.compile("开始签到")).click()
    await expect(desk.locator("#c-attendance h2")).to_have_text("签到（进行中）")
    leave_count = desk.locator("#c-attendance .figs span", has_text="请假").locator("b")
    await expect(leave_count).to_have_text("0")

    staff = await desk_ctx.new_page()
    await staff.goto(f"{base}/m/{meeting_id}/leave")
    row = staff.locator("#lv-requests tbody tr", has_text=me.name)
    await expect(row.locator(".lv-status")).to_have_text("待审批")
    await shots.take("staff", {"desk": staff})
    await row.get_by_label("审批意见").fill("同意")
    await row.get_by_role("button", name="批准", exact=True).click()
    await expect(staff.locator("#lv-saved")).to_have_text("已批准请假。")
    await expect(leave_count).to_have_text("1")  # the open console, over its socket
    await shots.take("approved", {"desk": staff, "console": desk})

    await phone.reload()
    await expect(phone.locator("#lv-status .lv-state")).to_have_text("已批准")
    await expect(phone.locator("#lv-status")).to_contain_text("同意")
    await shots.take("approved", {"phone": phone})
    small_ctx = await browser.new_context(viewport=SMALL, locale="zh-CN", has_touch=True, is_mobile=True)
    small = await small_ctx.new_page()
    await small_ctx.add_cookies(await phone_ctx.cookies())
    await small.goto(f"{base}/d/{meeting_id}/leave")
    await expect(small.locator("#lv-status .lv-state")).to_have_text("已批准")
    width = await small.evaluate("document.documentElement.scrollWidth")
    assert width <= SMALL["width"], f"the page scrolls sideways at 360 px: {width}"
    await shots.take("small", {"phone": small})

    # The meeting closes (records frozen as a MeetingClosed would): the history pages.
    engine = create_engine(f"sqlite+aiosqlite:///{own_demo_server.data_dir / 'wenzheng.db'}")
    try:
        async with engine.begin() as conn:
            assert await attendance.freeze(conn, meeting_id, int(time.time() * 1000)) > 0
    finally:
        await engine.dispose()
    history = await desk_ctx.new_page()
    await history.goto(f"{base}/bodies/1/attendance")
    row = history.locator("#at-grid tbody tr", has_text=me.name)
    await expect(row.locator("td.at-leave")).to_have_text("假")
    await shots.take("history", {"desk": history})
    await row.get_by_role("link", name=me.name).click()
    await expect(history.locator("#at-history")).to_contain_text("请假")
    await shots.take("member", {"desk": history})
    for ctx in (phone_ctx, desk_ctx, small_ctx):
        await ctx.close()


async def test_the_leave_link_goes_once_the_deputy_is_checked_in(
    browser: Browser, own_demo_server: DemoServer
) -> None:
    """请假申请 follows the deputy's presence live: a phone opened before check-in stops
    offering it the moment staff check the deputy in, without a reload (it used to be
    decided at page load and stayed beside the ballot)."""
    s = own_demo_server
    phone = await (await phone_context(browser, 360, 640)).new_page()
    me = s.invitations[-1]
    await phone.goto(me.url)
    await connected(phone)
    await expect(phone.locator("#d-leave")).to_be_visible()
    console = await (await desk_context(browser, 1366, 768)).new_page()
    await login(console, s.console_url)
    found = Keys(s.secret).read_invitation(urlsplit(me.url).path.rsplit("/", 1)[-1])
    assert found is not None
    await staff_check_in(console, s.base, s.meeting_id, found[0])
    await expect(phone.locator("#d-me .d-status")).to_contain_text("已签到")
    await expect(phone.locator("#d-leave")).to_have_count(0)
