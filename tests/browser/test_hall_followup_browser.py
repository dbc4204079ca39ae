"""From the hall into follow-up in real Chromium at 1366×768: the chair's console calls a
question, staff type its 承诺事项 in the small panel beside it, a live update (the next
step of the question) keeps both the line and a half-typed one, a reload finds the line;
then the 交办督办 page shows the question as asked and the others as not reached, takes a
written answer for one not reached, records the decision, and the items carry the
commitment and the written answer as their first post."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from tests.browser import screen_checks as sc
from tests.browser.conftest import DemoServer, Shots

pytestmark = pytest.mark.browser

DESK = {"width": 1366, "height": 768}


async def test_a_commitment_typed_at_the_console_reaches_the_item(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    base, meeting_id = own_demo_server.base, own_demo_server.meeting_id
    ctx = await browser.new_context(viewport=DESK, locale="zh-CN", bypass_csp=True)  # axe, injected
    desk = await ctx.new_page()
    await desk.goto(f"{base}/m/{meeting_id}/console")
    await desk.get_by_label("用户名").fill("chair")
    await desk.get_by_label("密码").fill("wenzheng-demo")
    await desk.get_by_role("button", name="登录").click()
    await expect(desk.locator(".conn")).to_have_text("● 已连接")
    first = desk.locator("#c-questions li").first
    title = (await first.locator(".q-title").inner_text()).strip()
    await first.get_by_role("button", name=re.compile("开始")).click()
    await expect(desk.locator("#c-session h2")).to_contain_text(title)

    panel = desk.locator(".c-commit")
    await expect(panel).to_contain_text("0 条")
    box = panel.get_by_role("textbox", name="承诺事项")
    await box.fill("年底前完成农贸市场雨棚改造")
    await panel.get_by_role("button", name="记下").click()
    await expect(panel.locator(".c-commit-lines")).to_contain_text("年底前完成农贸市场雨棚改造")
    await expect(box).to_have_value("")
    # A live update re-renders the question panel around it: the line and what is being
    # typed stay (the panel is preserved, not reloaded).
    await box.fill("每月向代表小组通报")
    await desk.locator("#c-session").get_by_role("button", name=re.compile("开始答复")).click()
    await expect(desk.locator("#c-session .c-phase")).to_contain_text("答复")
    await expect(box).to_have_value("每月向代表小组通报")
    await expect(panel.locator(".c-commit-lines li")).to_have_count(1)
    await panel.get_by_role("button", name="记下").click()
    await expect(panel.locator(".c-commit-lines li")).to_have_count(2)
    await expect(panel.locator(".c-commit-count")).to_have_text("2 条")
    # The chair's controls keep their place: the panel and the timer under it both fit
    # in the 768 px window without scrolling.
    for what in (".c-commit", ".c-timer-box"):
        bottom = await desk.locator(what).evaluate("e => e.getBoundingClientRect().bottom")
        assert bottom <= DESK["height"], f"{what} is below the fold at 768 px: {bottom}"
    width = await desk.evaluate("document.documentElement.scrollWidth")
    assert width <= DESK["width"], f"the console scrolls sideways at 1366 px: {width}"
    await shots.take("console-commitment", {"desk-1366": desk})
    assert await sc.axe_problems(desk, "主持台（承诺事项）") == []
    await box.fill("")
    await desk.reload()
    await expect(desk.locator(".c-commit .c-commit-lines")).to_contain_text("年底前完成农贸市场雨棚改造")

    await desk.goto(f"{base}/m/{meeting_id}/followup")
    rows = desk.locator("#fu-promised > li")
    await expect(rows).to_have_count(6)
    await expect(rows.first).to_contain_text("会上已提问，未测评")
    await expect(rows.first).to_contain_text("年底前完成农贸市场雨棚改造")
    await expect(rows.nth(5)).to_contain_text("会上未轮到")
    form = desk.locator("#fu-form")
    await form.get_by_label("交办日期").fill("2026-11-30")
    await form.get_by_label("文号").fill("清溪人大〔2026〕7号")
    last = form.locator("#fu-questions tbody tr").nth(5)
    await last.locator("details.fu-answer summary").filter(has_text="会上未轮到").click()
    await last.get_by_label("答复人或答复单位").fill("县住建局")
    await last.get_by_label(re.compile("书面答复（")).fill("一、已完成排查。\n二、明年三月前完工。")
    await shots.take("decision-page", {"desk-1366": desk})
    assert await sc.axe_problems(desk, "交办督办") == []
    width = await desk.evaluate("document.documentElement.scrollWidth")
    assert width <= DESK["width"], f"the decision page scrolls sideways at 1366 px: {width}"
    await form.get_by_role("button", name="记录交办决定").click()
    await expect(desk.locator("#fu-saved")).to_be_visible()

    items = desk.locator("#fu-decision ul").first.locator("a")
    await items.first.click()
    await expect(desk.locator("main")).to_contain_text("年底前完成农贸市场雨棚改造")
    await desk.go_back()
    await items.nth(5).click()
    history = desk.locator("#fu-history")
    await expect(history).to_contain_text("书面答复 · 县住建局")
    await expect(history).to_contain_text("二、明年三月前完工。")
    await shots.take("item-written-answer", {"desk-1366": desk})
    await ctx.close()
