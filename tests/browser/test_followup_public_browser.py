"""The public follow-up page (督办进展) in real Chromium, through the product's own pages:
staff create an item with a long title, put it on the public page and approve its reply
from the item page; then anyone, with no login, opens the page from the board's link at
phone sizes (360x640, 390x844) and on a desk (1366x768). The page fits (no sideways
scroll), its text is at least 18 px on phones, its links are big enough to tap, a long
title wraps inside its card, the four-step bar is drawn with the current step marked,
axe finds nothing serious, and screenshots are kept (test-artifacts/browser)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import DemoServer, Shots
from tests.browser.screen_checks import (
    CONSOLE,
    PHONES,
    axe_problems,
    context,
    one_line_problems,
    phone_problems,
)
from tests.browser.test_live_session import MEETING_TITLE

pytestmark = pytest.mark.browser

LONG_TITLE = (
    "专题询问意见：关于城东片区老旧小区改造工程进度缓慢、加装电梯资金分担办法迟迟未出台以及"
    "施工期间居民出行安全保障措施落实不到位等问题的整改情况"
)
REPLY = "已完成城东片区第一批 12 个小区的改造，加装电梯资金分担办法已于 10 月印发。"

BAR_JS = """(item) => {
  // The bar's steps: their colour and whether each is marked current, from the page itself.
  return [...item.querySelectorAll('.pf-steps li')].map(li => ({
    text: li.innerText.replace(/\\s+/g, ''),
    bar: getComputedStyle(li).borderTopColor,
    width: getComputedStyle(li).borderTopWidth,
    current: li.getAttribute('aria-current') === 'step',
  }));
}"""


async def staff_publish(page: Page, base: str, meeting_id: int) -> str:
    """Through the staff pages: a long item, public, its reply approved. Returns the public URL."""
    await page.goto(f"{base}/meetings/{meeting_id}/edit")
    await page.get_by_label("用户名").fill("chair")
    await page.get_by_label("密码").fill("wenzheng-demo")
    await page.get_by_role("button", name="登录").click()
    await page.locator("#m-followup").click()
    await page.get_by_role("link", name="督办台账").first.click()
    await expect(page).to_have_url(re.compile(r"/bodies/\d+/followup$"))
    public_url = await page.locator("#fu-public-link a").first.get_attribute("href")
    assert public_url and re.fullmatch(r"/public/bodies/\d+/followup", public_url)
    await page.locator("#fu-new summary").click()
    new = page.locator("#fu-new-form")
    await new.get_by_label("标题").fill(LONG_TITLE)
    await new.get_by_label("会议").select_option(label=MEETING_TITLE)  # the demo meeting: a group of its own
    await new.get_by_label("提问代表").fill("王建国")
    await new.get_by_label("应询人").fill("县住房和城乡建设局局长李明")
    await new.get_by_label("交办日期").fill("2026-09-01")
    await new.get_by_role("button", name="新建").click()
    await expect(page).to_have_url(re.compile(r"/followup/\d+\?saved=created$"))
    await page.locator("#fu-commit-form").get_by_label("添加一条").fill("年底前完成第一批小区改造")
    await page.locator("#fu-commit-form").get_by_role("button", name="添加").click()
    move = page.locator("#fu-move-form")
    await move.get_by_label("答复类别").select_option("B")
    await move.get_by_label("说明").fill(REPLY)
    await move.get_by_role("button", name="确认更改").click()
    await expect(page.locator("#fu-public-state")).to_have_text("本事项未公开")
    await page.get_by_role("button", name="公开本事项").click()
    await expect(page.locator("#fu-public-state")).to_have_text("本事项已公开")
    await page.locator("#fu-approvals").get_by_role("button", name="批准公开").click()
    await expect(page.locator("#fu-approvals")).to_contain_text("已批准")
    return public_url


async def test_the_public_page_at_phone_and_desk_sizes(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    base = own_demo_server.base
    staff_ctx = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    staff = await staff_ctx.new_page()
    public_url = await staff_publish(staff, base, own_demo_server.meeting_id)
    await shots.take("staff-item", {"desk-1366": staff})
    # The page's address as a QR code, to print or to show in the hall.
    await staff.goto(
        base
        + public_url.replace("/public/bodies/", "/bodies/").replace("/followup", "/followup/public-notice")
    )
    await expect(staff.locator(".o-qr svg")).to_be_visible()
    await expect(staff.locator(".o-url")).to_have_text(re.compile(re.escape(public_url) + "$"))
    await shots.take("staff-qr", {"desk-1366": staff})
    await staff_ctx.close()

    problems: list[str] = []
    for width, height in (*PHONES, CONSOLE):
        phone = width < 1000
        ctx = await context(browser, width, height, phone=phone)  # no cookie: anyone
        page = await ctx.new_page()
        reply = await page.goto(base + public_url)
        assert reply is not None and reply.status == 200
        where = f"public {width}x{height}"
        await expect(page.locator("h1")).to_have_text("问政督办进展")
        # The demo's five items (three made by hand, two of the second session) and the new
        # one; the new one's approved reply.
        await expect(page.locator(".pf-item")).to_have_count(6)
        item = page.locator(".pf-item", has_text="加装电梯")
        await expect(item.locator(".pf-posts")).to_contain_text(REPLY)
        await expect(item.locator(".pf-posts")).to_contain_text("已答复（B 类）")
        steps = await item.evaluate(BAR_JS)
        assert [s["current"] for s in steps] == [False, False, True, False], steps
        assert steps[2]["text"] == "已答复B类" and steps[0]["bar"] != steps[3]["bar"], steps
        assert all(float(s["width"].removesuffix("px")) >= 8 for s in steps), steps  # a bar one sees
        title = item.locator("h3")
        box, card = await title.bounding_box(), await item.bounding_box()
        assert box and card and box["x"] + box["width"] <= card["x"] + card["width"] + 0.5
        assert box["height"] > 2 * 19, f"{where}: the long title did not wrap"  # wraps, inside its card
        # Three groups (the demo meeting, the second session, the items made outside any
        # meeting, last): 全部 and a link per meeting, big enough.
        await expect(page.locator("#pf-meetings a")).to_have_count(3)
        await expect(page.locator(".pf-meeting h2")).to_have_count(3)
        await expect(page.locator(".pf-meeting h2").first).to_contain_text(MEETING_TITLE)
        await expect(page.locator(".pf-meeting h2").last).to_have_text("其他督办事项")
        late = page.locator(".pf-item.pf-late")
        await expect(late).to_have_count(1)
        await expect(late.locator(".pf-status")).to_contain_text("已逾期")
        wide = await page.evaluate("document.documentElement.scrollWidth")
        if wide > width:
            problems.append(f"{where}: the page is {wide}px wide")
        if phone:
            problems += await phone_problems(page, where)
        # A name, an official's title and name, a date: each moves whole, never broken; of
        # several organs (the demo's 停车难 has two), each with its role moves whole.
        whole = ".pf-facts dd:not(.pf-organs), .pf-organs .organ-whole"
        problems += await one_line_problems(page, whole, where)
        problems += await axe_problems(page, where)
        await shots.take("public", {f"{'phone' if phone else 'desk'}-{width}": page})
        await ctx.close()
    assert not problems, "\n".join(problems)

    ctx = await context(browser, *PHONES[0], phone=True)
    page = await ctx.new_page()
    await page.goto(base + public_url)
    await page.locator("#pf-meetings a").nth(1).click()
    await expect(page).to_have_url(re.compile(r"\?meeting=\d+$"))
    await expect(page.locator(".pf-item")).to_have_count(1)
    await expect(page.locator("#pf-counts li").first).to_have_text("1总数")
    await expect(page.locator("#pf-meetings a[aria-current=page]")).to_have_count(1)
    await shots.take("public-one-meeting", {"phone-360": page})
    await ctx.close()
