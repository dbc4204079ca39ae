"""The whole follow-up (督办) loop in real Chromium, through the product's own pages only
(issue 18): nothing is written by calling the office, every step is a click or a form.

Staff (1366×768) record the 交办 decision for the demo meeting's six questions, add a
responsible organ on the organs page, make it the lead organ of the item of the first
question (asked by the demo's first deputy) and take its link from its printed notice.
The organ, on a phone (390×844) in a browser of its own with no cookies, opens the link,
posts progress with a PDF, then replies class B, asking to close. The deputy who asked,
on a phone (390×844) bound by the invitation link `wenzheng serve --demo` prints (the
content of the card's QR code), opens 我的督办, reads the reply and the file's name, and
says 不同意办结 with a reason. Staff see the objection on the board (its red line, the
item's mark, the filter) and on the item's page, are refused a close without a reason,
then close with one. The deputy's phone then reads 已办结; the organ's page, left open
since its reply, has its late progress refused, and once reloaded says the item is closed
and offers no form any more. Screenshots: test-artifacts/browser/followup_loop_*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from server.base.days import today
from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_live_session import desk_context, login, phone_context

pytestmark = pytest.mark.browser

ORGAN = "清溪镇自然资源和规划所"
QUESTION = "农民建房审批慢、手续多的问题何时解决？"  # the demo's first question, asked by card 1001
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 4000
PROGRESS = "已梳理建房审批流程，拟将审批环节由七个压缩为四个。"
REPLY = "审批环节已压缩为四个，网上办理平台年底上线后再完成剩余工作。"
OBJECTION = "网上办理平台还没有上线，群众仍要跑三趟，不同意现在办结。"
CLOSING = "已与代表当面沟通，平台上线列入明年一季度跟踪。"


async def no_sideways_scroll(page: Page, width: int) -> None:
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways at {width} px: {scroll}"


async def test_the_follow_up_loop_from_decision_to_closing(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    s = own_demo_server
    asker = s.invitations[0]  # card 1001: the asker of the demo's first question
    assert asker.card_no == "1001", asker

    # --- Staff: the 交办 decision, from the meeting's page --------------------------------
    desk_ctx = await desk_context(browser, 1366, 768)
    desk = await desk_ctx.new_page()
    await login(desk, f"{s.base}/meetings/{s.meeting_id}/edit")
    await desk.locator("#m-followup").click()
    await expect(desk).to_have_url(re.compile(rf"/m/{s.meeting_id}/followup$"))
    form = desk.locator("#fu-form")
    await form.get_by_label("交办日期").fill(today().isoformat())
    await form.get_by_label("文号").fill("清溪人大〔2026〕9号")
    await expect(form.locator("#fu-questions tbody tr")).to_have_count(6)
    await form.get_by_role("button", name="记录交办决定").click()
    await expect(desk.locator("#fu-saved")).to_be_visible()
    await expect(desk.locator("#fu-decision")).to_contain_text("督办事项（6 项）")
    await shots.take("decision", {"desk-1366": desk})

    # --- Staff: a new organ on the organs page, made lead of the first question's item ---
    await desk.get_by_role("link", name="督办台账").first.click()
    await expect(desk).to_have_url(re.compile(r"/bodies/\d+/followup$"))
    board_url = desk.url
    await desk.goto(board_url.replace("/followup", ""))
    await desk.locator("#b-organs").get_by_role("link", name="承办单位").click()
    add = desk.locator("#o-add")
    await add.get_by_label("单位名称").fill(ORGAN)
    await add.get_by_label("联系人").fill("周敏")
    await add.get_by_label("联系电话").fill("13800000018")
    await add.get_by_role("button", name="添加").click()
    row = desk.locator("table.o-table tbody tr", has_text=ORGAN)
    await expect(row).to_have_count(1)
    organs_url = desk.url.split("?")[0]
    await shots.take("organs", {"desk-1366": desk})

    await desk.goto(board_url)
    await desk.locator("#fu-board").get_by_role("link", name=QUESTION).click()
    await expect(desk).to_have_url(re.compile(r"/followup/\d+$"))
    item_url = desk.url
    item_id = int(item_url.rsplit("/", 1)[1])
    await expect(desk.locator("main")).to_contain_text(asker.name)  # the asker is on the item
    organs_form = desk.locator("#fu-organs-form")
    await organs_form.locator("select[name=lead]").select_option(label=ORGAN)
    await organs_form.get_by_role("button", name="保存承办单位").click()
    await expect(desk.locator("#fu-organs")).to_contain_text(f"{ORGAN} （牵头）")

    await desk.goto(organs_url)
    await (
        desk.locator("table.o-table tbody tr", has_text=ORGAN).get_by_role("link", name="打印通知单").click()
    )
    await expect(desk.get_by_role("heading", name="督办事项办理通知")).to_be_visible()
    await expect(desk.locator("main")).to_contain_text(ORGAN)
    await expect(desk.locator(".o-qr svg")).to_be_visible()
    link = (await desk.locator(".o-url").inner_text()).strip()
    assert re.fullmatch(rf"{re.escape(s.base)}/o/\S+", link), link
    await shots.take("notice", {"desk-1366": desk})

    # --- The organ, on its own phone with no cookies: progress with a PDF, then a reply ---
    organ_ctx = await phone_context(browser, 390, 844)
    organ = await organ_ctx.new_page()
    await organ.goto(link)
    await expect(organ.get_by_role("heading", name=ORGAN)).to_be_visible()
    await organ.get_by_role("link", name=QUESTION).click()
    await expect(organ).to_have_url(re.compile(rf"/o/\S+/items/{item_id}$"))
    await expect(organ.locator("#oi-status")).to_contain_text("办理中")
    await no_sideways_scroll(organ, 390)
    await shots.take("organ-open", {"phone-390": organ})
    progress = organ.locator("#oi-progress-form")
    await progress.get_by_label("进展情况").fill(PROGRESS)
    await progress.get_by_label("附件").set_input_files(
        {"name": "审批流程优化方案.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await progress.get_by_role("button", name="报送进展").click()
    await expect(organ.locator("#oi-saved")).to_contain_text("办理进展已报送")
    await expect(organ.locator("#oi-history")).to_contain_text(PROGRESS)
    await expect(organ.locator("#oi-history")).to_contain_text("审批流程优化方案.pdf")
    reply = organ.locator("#oi-reply-form")
    await reply.get_by_role("radio", name=re.compile("^B ")).check()
    await reply.get_by_label("答复内容").fill(REPLY)
    await reply.get_by_role("button", name="提交答复").click()
    await expect(organ.locator("#oi-saved")).to_contain_text("已答复")
    await expect(organ.locator("#oi-status")).to_contain_text("已答复")
    await expect(organ.locator("#oi-status")).to_contain_text("B")
    await expect(organ.locator("#oi-reply-form")).to_have_count(0)  # one reply until 重新办理
    await expect(organ.locator("#oi-replied")).to_be_visible()
    await no_sideways_scroll(organ, 390)
    await shots.take("organ-replied", {"phone-390": organ})
    assert not await organ_ctx.cookies(), "the organ's page set a cookie: the link alone must do"

    # --- The deputy who asked, on a phone bound by the card's invitation link -------------
    phone_ctx = await phone_context(browser, 390, 844)
    phone = await phone_ctx.new_page()
    await phone.goto(asker.url)
    await expect(phone).to_have_url(re.compile(rf"/d/{s.meeting_id}$"))
    await phone.locator("#d-followup").click()
    await expect(phone).to_have_url(re.compile(rf"/d/{s.meeting_id}/followup$"))
    card = phone.locator(f"#fp-item-{item_id}")
    await expect(card.locator(".fp-state")).to_have_text("已答复（B 类）")
    await expect(card).to_contain_text(ORGAN)
    await no_sideways_scroll(phone, 390)
    await shots.take("deputy-list", {"phone-390": phone})
    await card.get_by_role("link", name="查看答复并评价").click()
    await expect(phone).to_have_url(re.compile(rf"/d/{s.meeting_id}/followup/{item_id}$"))
    history = phone.locator("#fp-history")
    await expect(history).to_contain_text(REPLY)
    await expect(history).to_contain_text(PROGRESS)
    await expect(history).to_contain_text("审批流程优化方案.pdf")
    await phone.get_by_text("不同意办结", exact=True).click()
    reason = phone.get_by_label(re.compile("不同意办结的理由"))
    await expect(reason).to_be_visible()
    await reason.fill(OBJECTION)
    await phone.locator("#fp-objection").scroll_into_view_if_needed()
    await shots.take("deputy-objecting", {"phone-390": phone})
    await phone.get_by_role("button", name="提交不同意办结").click()
    await expect(phone.locator("#fp-saved")).to_have_text("您的“不同意办结”意见已记录。")
    await expect(phone.locator("#fp-objection")).to_contain_text(OBJECTION)
    await no_sideways_scroll(phone, 390)
    await shots.take("deputy-objected", {"phone-390": phone})

    # --- Staff: the objection on the board and the item; closing needs a reason ----------
    # Two open items objected to: this one and the demo's (server/office/followup_demo_loop.py).
    await desk.goto(board_url)
    await expect(desk.locator("#fu-count-objected b")).to_have_text("2")
    await expect(desk.locator(f"#fu-item-{item_id} .fu-objected")).to_have_text("代表不同意办结")
    await desk.locator("#fu-count-objected").get_by_role("link", name="只看这些").click()
    await expect(desk.locator("#fu-filters").get_by_label("只看代表不同意办结")).to_be_checked()
    await expect(desk.locator("#fu-board tbody tr")).to_have_count(2)
    await expect(desk.locator(f"#fu-item-{item_id}")).to_be_visible()
    await no_sideways_scroll(desk, 1366)
    await shots.take("board-objected", {"desk-1366": desk})

    await desk.goto(item_url)
    judged = desk.locator("#fu-judgments")
    await expect(judged).to_contain_text(asker.name)
    await expect(judged).to_contain_text(OBJECTION)
    await expect(desk.locator("#fu-objection-note")).to_contain_text("办结须在“说明”中写明理由")
    staff_history = desk.locator("#fu-history")
    await expect(staff_history).to_contain_text(f"{ORGAN} · 办理进展")
    await expect(staff_history).to_contain_text("办理中 → 已答复（B 类）")
    move = desk.locator("#fu-move-form")
    await move.get_by_label("改为“已办结”").check()
    await move.get_by_role("button", name="确认更改").click()
    # A class B reply with an objection on it: the close is refused, nothing written.
    await expect(desk.locator("#fu-errors")).to_contain_text("办结须写明理由")
    await expect(desk.locator("#fu-status")).to_contain_text("已答复")
    await shots.take("close-refused", {"desk-1366": desk})
    move = desk.locator("#fu-move-form")
    await move.get_by_label("改为“已办结”").check()
    await move.get_by_label(re.compile("说明")).fill(CLOSING)
    await move.get_by_role("button", name="确认更改").click()
    await expect(desk.locator("#fu-status")).to_contain_text("已办结")
    await expect(desk.locator("#fu-history")).to_contain_text(CLOSING)
    await shots.take("closed", {"desk-1366": desk})
    await desk.goto(board_url)
    await expect(desk.locator("#fu-count-objected b")).to_have_text("1")  # this one no longer pending
    await expect(desk.locator(f"#fu-item-{item_id} .fu-objected-closed")).to_have_text("办结时代表有异议")

    # --- The deputy's phone and the organ's page after the close --------------------------
    await phone.reload()
    await expect(phone.locator("#fp-status")).to_have_text("已办结（B 类）")
    await expect(phone.locator("#fp-note")).to_have_text("此事项已办结。")
    await expect(phone.locator("#fp-object")).to_have_count(0)
    await shots.take("deputy-closed", {"phone-390": phone})
    # The organ's page was left open with its progress form since the reply: sent after the
    # close, it is refused and nothing is added.
    progress = organ.locator("#oi-progress-form")
    await progress.get_by_label("进展情况").fill("补充报送：平台已完成测试。")
    await progress.get_by_role("button", name="报送进展").click()
    await expect(organ.locator("#oi-errors")).to_contain_text("该事项已办结，不能再报送。")
    await expect(organ.locator("#oi-history")).not_to_contain_text("补充报送")
    await organ.goto(organ.url.split("?")[0])
    await expect(organ.locator("#oi-status")).to_contain_text("已办结")
    await expect(organ.locator("#oi-closed")).to_have_text("本事项已办结。")
    await expect(organ.locator("#oi-progress-form")).to_have_count(0)
    await expect(organ.locator("#oi-reply-form")).to_have_count(0)
    await shots.take("organ-closed", {"phone-390": organ})
    for ctx in (organ_ctx, phone_ctx, desk_ctx):
        await ctx.close()
