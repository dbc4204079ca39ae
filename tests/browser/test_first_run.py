"""An office from zero in real Chromium: `wenzheng serve` on an empty database, no demo.

The first admin logs in with the one-time password the server printed and must change
it; creates a county standing committee (人大常委会) and a county people's congress, adds
the 17th term to each, imports the standing committee's five members from an XLSX file
on its roster page, creates a 专题询问 of the standing committee (its title built from the
body, term and session), opens its console, checks three of the five in by hand and
announces attendance. Three of five is more than half but less than two thirds: the
console says the quorum is reached under the standing committee's own rule (过半数), which
a congress's rule would not give.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import Workbook
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import FreshServer, Shots

pytestmark = pytest.mark.browser

MEMBERS = [
    ("周主任", "主任会议"),
    ("吴副主任", "主任会议"),
    ("郑委员", "委员"),
    ("王委员", "委员"),
    ("冯委员", "委员"),
]
STANDING = "某县人民代表大会常务委员会"
CONGRESS = "某县人民代表大会"
NEW_PASSWORD = "county-office-2026"


def roster_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "代表小组", "卡号"])
    for i, (name, group) in enumerate(MEMBERS):
        sheet.append([name, group, f"{301 + i}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def create_body(page: Page, base: str, name: str, kind: str) -> str:
    """Create a county body with its 17th term; returns its page's address."""
    await page.goto(f"{base}/bodies")
    await page.get_by_role("link", name="新建机构").click()
    await page.get_by_label("机构名称").fill(name)
    await page.get_by_label("机构类型").select_option(label=kind)
    await page.get_by_label("级别").select_option(label="县级")
    await page.get_by_role("button", name="创建机构").click()
    await expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    await expect(page.locator("#b-next")).to_contain_text("添加届次")
    form = page.locator("#t-new")
    await form.get_by_label("届次").fill("17")
    await form.get_by_label("开始日期").fill("2022-01-06")
    await form.get_by_role("button", name="添加届次").click()
    await expect(page.locator("#term-17")).to_contain_text("第十七届")
    await expect(page.locator("#b-next")).to_contain_text("已有届次")
    return page.url.split("?")[0]


async def test_an_office_from_an_empty_database(
    browser: Browser, fresh_server: FreshServer, shots: Shots
) -> None:
    s = fresh_server
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = await context.new_page()

    # The one-time password, then a password of the admin's own.
    await page.goto(f"{s.base}/bodies")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.get_by_label("用户名").fill("admin")
    await page.get_by_label("密码").fill(s.admin_password)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(re.compile(r"/account/password\?next="))
    await page.locator("input[name=old_password]").fill(s.admin_password)
    await page.locator("input[name=new_password]").fill(NEW_PASSWORD)
    await page.locator("input[name=new_password_again]").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="保存新密码").click()
    await expect(page.get_by_role("heading", name="密码已修改")).to_be_visible()
    await page.get_by_role("link", name="继续").click()
    await expect(page.get_by_role("heading", name="机构与届次")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("尚无机构")
    await shots.take("no-bodies", {"staff": page})

    # A town cannot have a standing committee: refused in Chinese, nothing created.
    await page.get_by_role("link", name="新建机构").click()
    await page.get_by_label("机构名称").fill("某镇人大常委会")
    await page.get_by_label("机构类型").select_option(label="人大常委会")
    await page.get_by_label("级别").select_option(label="乡镇")
    await page.get_by_role("button", name="创建机构").click()
    await expect(page.locator(".r-field-error")).to_contain_text("乡镇不设人大常委会")
    await shots.take("town-refused", {"staff": page})

    standing_url = await create_body(page, s.base, STANDING, "人大常委会")
    await expect(page.locator("#b-quorum")).to_have_text("全体组成人员过半数出席")
    await expect(page.locator("#b-rules")).to_contain_text("地方组织法第五十一条")
    await shots.take("standing-committee", {"staff": page})
    await create_body(page, s.base, CONGRESS, "人民代表大会")
    await expect(page.locator("#b-quorum")).to_have_text("全体代表三分之二以上出席")
    await expect(page.locator("#b-rules")).to_contain_text("地方组织法第十四条")
    await shots.take("congress", {"staff": page})
    await page.goto(f"{s.base}/bodies")
    await expect(page.locator("table.b-bodies tbody tr")).to_have_count(2)
    await shots.take("bodies", {"staff": page})
    await page.goto(f"{standing_url}/edit")
    await expect(page.get_by_label("法定人数")).to_have_value("more_than_half")
    await shots.take("body-edit", {"staff": page})

    # The standing committee's members, from an XLSX file on its roster page.
    await page.goto(standing_url)
    await page.get_by_role("link", name="打开名册页面").click()
    await page.get_by_label("选择名册文件").set_input_files(
        {"name": "常委会组成人员.xlsx", "mimeType": "application/octet-stream", "buffer": roster_xlsx()}
    )
    await page.get_by_label("自动创建新小组").check()
    await page.get_by_role("region", name="导入名册").get_by_role("button", name="上传并预览").click()
    await expect(page.locator("#r-summary")).to_contain_text("新增 5 人")
    await page.get_by_role("button", name="确认导入").click()
    await expect(page.get_by_text("导入完成：新增 5 人")).to_be_visible()
    await page.goto(standing_url)
    await expect(page.locator("#b-next")).to_contain_text("现有代表 5 人")

    # A 专题询问 of the standing committee, today at 14:30, in a new session.
    await page.get_by_role("link", name="新建会议").click()
    await page.get_by_label("会议类型").select_option(label="专题询问")
    await page.get_by_label("开始时间").fill("14:30")
    await page.get_by_label("会议地点").fill("县人大常委会会议室")
    await shots.take("new-meeting", {"staff": page})
    await page.get_by_role("button", name="创建会议").click()
    title = "某县第十七届人民代表大会常务委员会第一次会议（专题询问）"
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    day = dt.date.fromisoformat(await page.locator("#m-schedule input[name=held_on]").input_value())
    when = f"{day.year}年{day.month}月{day.day}日 14:30 · 县人大常委会会议室"
    await expect(page.locator(".m-schedule").first).to_have_text(when)
    await shots.take("meeting-edit", {"staff": page})
    await page.goto(standing_url)
    await expect(page.locator("#terms")).to_contain_text(title)
    await shots.take("body-with-meeting", {"staff": page})
    await page.goto(f"{s.base}/meetings")
    await expect(page.locator("table.m-meetings")).to_contain_text(when)
    await shots.take("meetings", {"staff": page})
    await page.goto(standing_url)

    # The console: check three of five in by hand, announce attendance.
    await page.get_by_role("link", name="主持台").first.click()
    await expect(page.locator(".c-header")).to_contain_text(when)
    attendance = page.locator("#c-attendance")
    await expect(attendance).to_contain_text("应到 5")
    await attendance.get_by_role("button", name="开始签到").click()
    await expect(attendance).to_contain_text("签到（进行中）")
    search = page.get_by_placeholder("输入姓名、卡号或小组")
    for name, _ in MEMBERS[:3]:
        await search.fill(name)
        row = page.locator("#c-roster tr", has_text=name)
        await row.get_by_role("button", name="人工签到").click()
        await expect(page.locator("#c-present")).to_have_text(str(MEMBERS.index((name, _)) + 1))
    await attendance.get_by_role("button", name="宣布出席情况").click()
    await expect(attendance).to_contain_text("已宣布：应到 5 人，实到 3 人")
    quorum = attendance.locator(".quorum")
    await expect(quorum).to_have_text("已达法定人数（全体组成人员过半数出席）")
    await expect(quorum).to_have_class(re.compile(r"\bok\b"))
    await shots.take("console-announced", {"staff": page})
    await context.close()
