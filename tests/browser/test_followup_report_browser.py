"""The progress report in real Chromium at 1366×768, on the command's demo as `make run`
starts it (five follow-up items: one overdue, one due soon, one closed with an A reply,
and the second session's two, replied A and B, the B one objected to by its deputy; and
the demo's own report of them): staff reach the report page from the board, find the
overview offered with the counts, edit it, generate, and the browser downloads the DOCX,
which python-docx reads back with the edited overview and one section per item; the
report is then listed on the page, above the demo's.
After a meeting's 交办 decision, the scope narrows to that meeting's items and the overview
offered is recounted."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from playwright.async_api import Browser, expect

from tests.browser.conftest import DemoServer, Shots

pytestmark = pytest.mark.browser

DESK = {"width": 1366, "height": 768}


async def test_staff_generate_the_progress_report_from_the_board(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    base, meeting_id = own_demo_server.base, own_demo_server.meeting_id
    ctx = await browser.new_context(viewport=DESK, locale="zh-CN", accept_downloads=True)
    desk = await ctx.new_page()
    await desk.goto(f"{base}/m/{meeting_id}/followup")
    await desk.get_by_label("用户名").fill("chair")
    await desk.get_by_label("密码").fill("wenzheng-demo")
    await desk.get_by_role("button", name="登录").click()
    await desk.get_by_role("link", name="督办台账").first.click()
    await desk.locator("#fu-report-link").click()
    await expect(desk).to_have_url(re.compile(r"/bodies/\d+/followup/report$"))
    await expect(desk.locator("#fu-report-counts")).to_contain_text("5交办")
    overview = desk.locator("textarea[name=overview]")
    await expect(overview).to_have_value(
        re.compile(
            "共交办 5 项，已办结 1 项，正在办理 4 项，其中逾期 1 项；"
            "答复 A 类 2 项、B 类 1 项、C 类 0 项；代表不同意办结 1 项。"
        )
    )
    await shots.take("report-form", {"desk-1366": desk})

    edited = "本报告经主任会议审议。" + await overview.input_value()
    await overview.fill(edited)
    async with desk.expect_download() as waiting:
        await desk.get_by_role("button", name="生成报告并下载（Word）").click()
    download = await waiting.value
    assert download.suggested_filename.endswith(".docx")
    path = await download.path()
    doc = Document(io.BytesIO(path.read_bytes()))
    texts = [p.text for p in doc.paragraphs]
    assert edited in texts
    numbers = ("一、", "二、", "三、", "四、", "五、", "六、")
    assert [t[:2] for t in texts if t[:2] in numbers] == list(numbers[:5])
    assert len(doc.tables[0].rows) == 6
    await expect(desk.locator("#fu-made")).to_be_visible()
    rows = desk.locator("#fu-reports tbody tr")
    await expect(rows).to_have_count(2)  # this one, newest first, above the demo's
    await expect(rows.first).to_contain_text("5 / 1 / 1")
    await expect(rows.first).to_contain_text("chair")  # the demo's own was made by "demo"
    await shots.take("report-made", {"desk-1366": desk})

    # After the meeting's 交办 decision (all six questions), the scope can be that meeting.
    report_url = desk.url.split("?")[0]
    await desk.goto(f"{base}/m/{meeting_id}/followup")
    form = desk.locator("#fu-form")
    await form.get_by_label("交办日期").fill("2026-11-30")
    await form.get_by_label("文号").fill("清溪人大〔2026〕7号")
    await form.get_by_role("button", name="记录交办决定").click()
    await expect(desk.locator("#fu-saved")).to_be_visible()
    await desk.goto(report_url)
    await expect(desk.locator("#fu-report-counts")).to_contain_text("11交办")
    await desk.locator("#fu-scope").get_by_label(re.compile("第三次会议")).check()
    await desk.get_by_role("button", name="按所选范围重新统计").click()
    await expect(desk.locator("#fu-report-counts")).to_contain_text("6交办")
    await expect(overview).to_have_value(re.compile("共交办 6 项，已办结 0 项"))
    await shots.take("report-scope", {"desk-1366": desk})
    await ctx.close()
