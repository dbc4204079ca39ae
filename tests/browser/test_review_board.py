"""Question collection from a phone and the review board, in real Chromium.

The demo meeting is shared with the live-session test (and has events once it ran), so
staff first create a fresh meeting of the same body; the phone is bound through its demo
invitation link, which holds for every meeting of the body. The phone (390×844) submits
two questions; staff enter a third on another deputy's behalf, merge the phone's two,
reject one with a reason the phone then reads, approve, order the final list by the
arrow buttons and by dragging, and assign the asker and the answering officials.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import DemoServer, Shots

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1440, "height": 900}


async def test_phone_submission_and_review_board(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    # Its own server: it binds invitations 5 and 6, which a shared server's other tests may hold.
    demo_server = own_demo_server
    base = demo_server.base
    desk_ctx = await browser.new_context(viewport=DESK, locale="zh-CN")
    desk = await desk_ctx.new_page()
    await desk.goto(f"{base}/meetings/new")
    await desk.get_by_label("用户名").fill("chair")
    await desk.get_by_label("密码").fill("wenzheng-demo")
    await desk.get_by_role("button", name="登录").click()
    await expect(desk).to_have_url(re.compile(r"/meetings/new$"))
    await desk.get_by_label("会议名称").fill("问题征集测试会")
    await desk.get_by_role("button", name="创建会议").click()
    await expect(desk).to_have_url(re.compile(r"/meetings/\d+/edit"))
    found = re.search(r"/meetings/(\d+)/edit", desk.url)
    assert found is not None
    meeting_id = int(found.group(1))

    phone_ctx = await browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    phone = await phone_ctx.new_page()
    me, other = demo_server.invitations[5], demo_server.invitations[6]  # one phone per card
    await phone.goto(me.url)
    await expect(phone).to_have_url(re.compile(rf"/d/{demo_server.meeting_id}$"))
    await phone.goto(f"{base}/d/{meeting_id}/questions")
    new = phone.locator("#q-new")
    for title in ("村道破损何时修复？", "村里道路维修资金问题"):
        await new.get_by_label("标题").fill(title)
        await new.get_by_label("问题内容").fill(title + "请说明计划。")
        await new.get_by_label("希望回答的应询人员").select_option(index=1)
        await new.locator(".q-co input[type=checkbox]").first.check()
        await phone.get_by_role("button", name="提交问题").click()
        await expect(phone.get_by_role("status")).to_have_text("问题已提交。")
    await expect(phone.locator("#q-group-list .q-item")).to_have_count(2)
    button = await phone.get_by_role("button", name="提交问题").bounding_box()
    assert button is not None and button["height"] >= 60 and button["width"] > 300
    await shots.take("submitted", {"phone": phone})

    review = f"{base}/m/{meeting_id}/review"
    await desk.goto(review)
    enter = desk.locator("#q-enter")
    await enter.get_by_label("代表证卡号").fill(other.card_no)
    await enter.get_by_label("标题").fill("学校周边交通安全")
    await enter.get_by_role("button", name="录入").click()
    await expect(desk.get_by_role("status")).to_have_text("已保存。")
    await expect(desk.locator("#q-submissions tbody tr")).to_have_count(3)
    await shots.take("board", {"staff": desk})

    # By id: once merged, the kept row's history names the other one's title too.
    first_id = await desk.locator("#q-submissions tr", has_text="村道破损何时修复？").get_attribute("id")
    second_id = await desk.locator("#q-submissions tr", has_text="村里道路维修资金问题").get_attribute("id")
    first, second = desk.locator(f"#{first_id}"), desk.locator(f"#{second_id}")
    await first.get_by_role("checkbox").check()
    await second.get_by_role("checkbox").check()
    await second.get_by_label("保留").check()  # the second, better worded, survives
    await desk.get_by_role("button", name=re.compile("^合并所选")).click()
    await expect(first).to_contain_text("已合并")
    await expect(second).to_contain_text("待审")
    await second.locator(".q-history summary").click()
    await expect(second.locator(".q-history")).to_contain_text("合并：并入 #")
    await expect(second.locator(".q-history")).to_contain_text(f"《村道破损何时修复？》（{me.name} 提出）")
    await shots.take("merged-history", {"staff": desk})

    await second.get_by_text("修改", exact=True).click()
    await second.get_by_label("标题").fill("村道修复与资金")
    await second.get_by_role("button", name="保存修改").click()
    kept = desk.locator("#q-submissions tr", has_text="村道修复与资金")
    await kept.get_by_role("button", name="采用", exact=True).click()
    entered = desk.locator("#q-submissions tr", has_text="学校周边交通安全")
    await entered.get_by_role("button", name="采用", exact=True).click()
    final = desk.locator("#q-final-list > li")
    await expect(final).to_have_count(2)
    await expect(final.nth(0)).to_contain_text("村道修复与资金")

    await final.nth(0).get_by_role("button", name="下移").click()
    await expect(final.nth(0)).to_contain_text("学校周边交通安全")
    async with desk.expect_navigation():  # server/web/static/review.js posts the order, then reloads
        await final.nth(1).drag_to(final.nth(0))
    await expect(final.nth(0)).to_contain_text("村道修复与资金")

    item = final.nth(1)
    await item.get_by_text("指定提问代表和应询人员").click()
    option = item.locator("select[name=asker] option", has_text=f"（{me.card_no}）")
    asker_id = await option.get_attribute("value")
    assert asker_id is not None
    await item.get_by_label("提问代表").select_option(value=asker_id)
    boxes = item.get_by_role("checkbox")
    await boxes.nth(0).check()
    await boxes.nth(1).check()
    await item.get_by_role("button", name="保存", exact=True).click()
    await expect(final.nth(1)).to_contain_text(f"提问：{me.name}")
    await expect(final.nth(1)).to_contain_text("、")
    await shots.take("ordered", {"staff": desk})

    # Two fresh questions from the phone: one withdrawn, one revised by the deputy, then
    # rejected with a reason the phone reads.
    for title in ("想撤回的问题", "重复问题"):
        await phone.locator("#q-new").get_by_label("标题").fill(title)
        await phone.get_by_role("button", name="提交问题").click()
        await expect(phone.get_by_role("status")).to_have_text("问题已提交。")
    mine = phone.locator("#q-group-list .q-item", has_text="想撤回的问题")
    await mine.get_by_text("撤回此问题").click()  # a second tap confirms: no withdrawal by a slip
    withdraw = await mine.get_by_role("button", name="确认撤回").bounding_box()
    assert withdraw is not None and withdraw["height"] >= 60 and withdraw["width"] > 300
    await mine.get_by_role("button", name="确认撤回").click()
    await expect(phone.get_by_role("status")).to_have_text("问题已撤回。")
    await expect(mine).to_contain_text("已撤回")
    await expect(mine.get_by_text("撤回此问题")).to_have_count(0)
    revising = phone.locator("#q-group-list .q-item", has_text="重复问题")
    await revising.get_by_text("修改我的问题").click()
    await revising.get_by_label("标题").fill("重复的问题")
    await revising.get_by_role("button", name="保存修改").click()
    await expect(phone.get_by_role("status")).to_have_text("修改已保存。")
    await shots.take("withdrawn-and-revised", {"phone": phone})
    await desk.goto(review)
    await expect(desk.locator("#q-submissions tr", has_text="想撤回的问题")).to_contain_text("已撤回")
    dup = desk.locator("#q-submissions tr", has_text="重复的问题")
    await dup.get_by_text("不采用", exact=True).click()
    await dup.get_by_label("理由").fill("与已采用的问题重复")
    await dup.get_by_role("button", name="确认不采用").click()
    await expect(dup).to_contain_text("未采用")
    await phone.goto(f"{base}/d/{meeting_id}/questions")
    await expect(phone.locator("#q-group-list")).to_contain_text("未采用理由：与已采用的问题重复")
    await shots.take("rejected", {"phone": phone, "staff": desk})
    await phone_ctx.close()
    await desk_ctx.close()
