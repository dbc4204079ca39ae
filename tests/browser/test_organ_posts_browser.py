"""An organ reports through its link in real Chromium, and staff see it (issue 18).

Staff add two organs to the demo body, make them the lead and assisting organs of a demo
follow-up item, print every notice at once and take the lead organ's link from its own
notice. On a 390x844 phone the organ opens the link, opens the item, posts progress with
a PDF about work done five days ago (the history leads with that day and says it was
posted today), then replies class B. Staff record progress for the assisting organ, and the
item's page shows the three posts, each with who wrote it; the PDF downloads byte for
byte. Screenshots: the organ's item page at 390x844 and 1366x768, the print-all page.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import Browser, expect

from server.base.days import today
from server.office.demo import BODY
from tests.browser.conftest import DemoServer, Shots

pytestmark = pytest.mark.browser

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 2000
ITEM = "镇区停车难问题"
EARLIER = (today() - dt.timedelta(days=5)).isoformat()


def posted() -> str:
    """The China day a post just made shows, as "12-07" (the year shown only when it differs).

    Read when asserting, not at import: a full run lasts longer than the time to China's
    midnight, and a post made at 23:59 may be checked at 00:00, so the day before is accepted.
    """
    now = today()
    return "|".join(sorted({d.isoformat()[5:] for d in (now, now - dt.timedelta(days=1))}))


async def test_an_organ_posts_progress_and_replies_and_staff_see_both(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    base = own_demo_server.base
    ctx = await browser.new_context(viewport=DESK, locale="zh-CN", accept_downloads=True)
    desk = await ctx.new_page()
    await desk.goto(f"{base}/bodies")
    await desk.get_by_label("用户名").fill("chair")
    await desk.get_by_label("密码").fill("wenzheng-demo")
    await desk.get_by_role("button", name="登录").click()
    await desk.get_by_role("link", name=BODY).first.click()
    await desk.locator("#b-organs").get_by_role("link", name="承办单位").click()
    add = desk.locator("#o-add")
    for name in ("清溪镇规划建设办公室", "清溪镇派出所"):
        await add.get_by_label("单位名称").fill(name)
        await add.get_by_role("button", name="添加").click()
        await expect(desk.locator("table.o-table")).to_contain_text(name)
    organs_url = desk.url.split("?")[0]

    await desk.locator("#o-print-all").click()
    await expect(desk.locator(".o-sheet")).to_have_count(5)  # the command's demo has three
    await expect(desk.locator(".o-sheet .o-qr svg")).to_have_count(5)
    await shots.take("print-all", {"desk-1366": desk})
    await desk.goto(organs_url)
    lead_row = desk.locator("table.o-table tbody tr", has_text="清溪镇规划建设办公室")
    await lead_row.get_by_role("link", name="打印通知单").click()
    link = (await desk.locator(".o-url").inner_text()).strip()
    assert re.match(rf"{re.escape(base)}/o/\S+$", link), link

    await desk.goto(organs_url.replace("/organs", "/followup"))
    await desk.locator("#fu-board").get_by_role("link", name=re.compile(ITEM)).click()
    item_url = desk.url
    await desk.locator("#fu-organs-form select[name=lead]").select_option(label="清溪镇规划建设办公室")
    await desk.locator("#fu-organs-form").get_by_role("checkbox", name="清溪镇派出所").check()
    await desk.locator("#fu-organs-form").get_by_role("button", name="保存承办单位").click()
    await expect(desk.locator("#fu-organs")).to_contain_text("清溪镇规划建设办公室 （牵头）")

    phone_ctx = await browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    phone = await phone_ctx.new_page()
    await phone.goto(link)
    await phone.get_by_role("link", name=re.compile(ITEM)).click()
    await expect(phone.locator("#oi-due")).to_contain_text("已逾期")  # the demo item is 5 days late
    await shots.take("organ-item-open", {"phone-390": phone})
    form = phone.locator("#oi-progress-form")
    await form.get_by_label("进展情况").fill("已完成停车场选址，正在办理用地手续。")
    await phone.locator("#oi-p-day").fill(EARLIER)  # the work was done five days ago
    await form.get_by_label("附件").set_input_files(
        {"name": "选址报告.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await form.get_by_role("button", name="报送进展").click()
    await expect(phone.locator("#oi-saved")).to_contain_text("办理进展已报送")
    await expect(phone.locator("#oi-history")).to_contain_text("选址报告.pdf")
    # Led by the day of the work, saying it was posted today.
    head = phone.locator("#oi-history .fu-post-head").first
    await expect(head).to_contain_text(f"{EARLIER} 清溪镇规划建设办公室 · 办理进展（")
    await expect(head.locator(".fu-posted")).to_have_text(
        re.compile(rf"（(\d{{4}}-)?({posted()}) \d\d:\d\d 报送）")
    )

    reply = phone.locator("#oi-reply-form")
    await reply.get_by_role("button", name="提交答复").click()  # nothing chosen: the browser asks first
    await expect(phone.locator("#oi-status")).to_contain_text("办理中")
    await reply.get_by_label("答复内容").fill("新增停车位已列入明年计划，分两期建设。")
    await reply.get_by_role("button", name="提交答复").click()
    await expect(phone.locator("#oi-errors")).to_contain_text("请选择答复类别")
    await phone.locator("#oi-reply-form").get_by_role("radio", name=re.compile("^B ")).check()
    await (
        phone.locator("#oi-reply-form")
        .get_by_label("答复内容")
        .fill("新增停车位已列入明年计划，分两期建设。")
    )
    await phone.locator("#oi-reply-form").get_by_role("button", name="提交答复").click()
    await expect(phone.locator("#oi-saved")).to_contain_text("已答复")
    await expect(phone.locator("#oi-status")).to_contain_text("B 正在解决")
    await expect(phone.locator("#oi-reply-form")).to_have_count(0)
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the organ's page scrolls sideways on a phone: {width}"
    await shots.take("organ-item", {"phone-390": phone})
    wide = await ctx.new_page()  # the same page on an office computer
    await wide.goto(phone.url.split("?")[0])
    await shots.take("organ-item", {"desk-1366": wide})

    await desk.goto(item_url)
    behalf = desk.locator("#fu-behalf-form")
    await behalf.locator("select[name=organ]").select_option(label="清溪镇派出所（协办）")
    await behalf.get_by_label("内容").fill("电话告知：已在周边增设临时停车引导。")
    await behalf.get_by_role("button", name="录入").click()
    history = desk.locator("#fu-history")
    posts = history.locator(".fu-post")
    await expect(posts).to_have_count(3)
    await expect(posts.nth(0)).to_contain_text(
        re.compile(rf"{EARLIER} 清溪镇规划建设办公室 · 办理进展（(\d{{4}}-)?({posted()}) ")
    )
    await expect(posts.nth(1)).to_contain_text("清溪镇规划建设办公室 · 答复")
    await expect(posts.nth(1)).to_contain_text("办理中 → 已答复（B 类）")
    await expect(posts.nth(2)).to_contain_text("工作人员 chair 代 清溪镇派出所 录入")
    async with desk.expect_download() as got:
        await history.get_by_role("link", name="选址报告.pdf").click()
    download = await got.value
    assert download.suggested_filename == "选址报告.pdf"
    saved = await download.path()
    assert saved.read_bytes() == PDF
    await shots.take("staff-item", {"desk-1366": desk})
    await phone_ctx.close()
    await ctx.close()
