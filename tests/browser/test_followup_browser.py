"""Follow-up (督办) in real Chromium at 1366×768, through the product's own pages only:
staff open the demo meeting's 交办督办 page from the meeting page, record the decision
(one question left out with a reason, one 重点督办), reach the board from the body page,
create an item by hand, record a reply on its item page and see the board's counts
beside the command's demo items (one overdue, one due soon, one closed)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import DemoServer, Shots

pytestmark = pytest.mark.browser

DESK = {"width": 1366, "height": 768}


async def test_decision_board_and_item_pages(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    base, meeting_id = own_demo_server.base, own_demo_server.meeting_id
    ctx = await browser.new_context(viewport=DESK, locale="zh-CN")
    desk = await ctx.new_page()
    await desk.goto(f"{base}/meetings/{meeting_id}/edit")
    await desk.get_by_label("用户名").fill("chair")
    await desk.get_by_label("密码").fill("wenzheng-demo")
    await desk.get_by_role("button", name="登录").click()
    await desk.locator("#m-followup").click()
    await expect(desk).to_have_url(re.compile(rf"/m/{meeting_id}/followup$"))

    form = desk.locator("#fu-form")
    await form.get_by_label("交办日期").fill("2026-11-30")
    await form.get_by_label("文号").fill("清溪人大〔2026〕7号")
    rows = form.locator("#fu-questions tbody tr")
    await expect(rows).to_have_count(6)
    await rows.nth(0).get_by_label("重点").check()
    last = rows.nth(5)
    await last.get_by_label("督办").uncheck()
    await form.get_by_role("button", name="记录交办决定").click()
    # The left-out question has no reason yet: refused, nothing written, the form kept.
    await expect(desk.locator("#fu-errors")).to_contain_text("未列为督办事项的问题须写明理由")
    await (
        desk.locator("#fu-questions tbody tr").nth(5).locator("input[name^=reason_]").fill("已在会上答复清楚")
    )
    await desk.get_by_role("button", name="记录交办决定").click()
    await expect(desk.locator("#fu-saved")).to_be_visible()
    await expect(desk.locator("#fu-decision")).to_contain_text("督办事项（5 项）")
    await expect(desk.locator("#fu-decision")).to_contain_text("2027-02-28")

    await desk.get_by_role("link", name="督办台账").first.click()
    await expect(desk).to_have_url(re.compile(r"/bodies/\d+/followup$"))
    await desk.locator("#fu-new summary").click()
    new = desk.locator("#fu-new-form")
    await new.get_by_label("标题").fill("专题询问意见：农贸市场雨棚改造")
    await new.get_by_label("交办日期").fill("2026-05-04")
    await new.get_by_role("button", name="新建").click()
    await expect(desk).to_have_url(re.compile(r"/followup/\d+\?saved=created$"))
    await desk.locator("#fu-commit-form").get_by_label("添加一条").fill("年内完成雨棚改造")
    await desk.locator("#fu-commit-form").get_by_role("button", name="添加").click()
    move = desk.locator("#fu-move-form")
    await move.get_by_label("答复类别").select_option("A")
    await move.get_by_label("说明").fill("已完成改造，书面答复见附件")
    await move.get_by_role("button", name="确认更改").click()
    await expect(desk.locator("#fu-status")).to_contain_text("已答复")
    await expect(desk.locator("#fu-history")).to_contain_text("办理中 → 已答复（A 类）")

    await desk.get_by_role("link", name="督办台账").click()
    counts = desk.locator("#fu-counts")
    # The command's demo adds five items of its own (server/office/followup_demo.py): one
    # overdue, one due within the week, one closed, two replied (not overdue: a reply
    # came); the overdue one comes first.
    await expect(counts).to_contain_text("11总数")
    await expect(desk.locator("#fu-remind")).to_contain_text("7 天内到期 1 项，已逾期 1 项")
    rows = desk.locator("#fu-board tbody tr")
    await expect(rows).to_have_count(11)
    await expect(rows.first).to_have_class(re.compile("fu-late"))
    await expect(rows.nth(1)).to_have_class(re.compile("fu-soon"))
    await expect(desk.locator("#fu-board .fu-key")).to_have_count(2)
    width = await desk.evaluate("document.documentElement.scrollWidth")
    assert width <= DESK["width"], f"the board scrolls sideways at 1366 px: {width}"
    await shots.take("board", {"desk-1366": desk})
    await ctx.close()
