"""Responsible organs in real Chromium, from an empty database (no demo).

The first admin sets a password, creates a standing committee, follows the body page's
link to its 承办单位 page, imports two organs from an XLSX file (preview, confirm), adds
one by hand, prints an organ's notice (its QR code at 1366x768), opens the organ's link
as the organ would, then revokes it: the old link says it was revoked.
"""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from playwright.async_api import Browser, expect

from server.office import organs
from tests.browser.conftest import FreshServer, Shots
from tests.browser.test_first_run import NEW_PASSWORD, create_body

pytestmark = pytest.mark.browser


def organs_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["序号", "单位名称", "联系人", "联系电话"])
    sheet.append([1, "县住房和城乡建设局", "王明", "0573-12345678"])
    sheet.append([2, "县交通运输局", "赵强", "13900000001"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_organs_from_an_empty_database(
    browser: Browser, fresh_server: FreshServer, shots: Shots
) -> None:
    s = fresh_server
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{s.base}/bodies")
    await page.get_by_label("用户名").fill("admin")
    await page.get_by_label("密码").fill(s.admin_password)
    await page.get_by_role("button", name="登录").click()
    await page.locator("input[name=old_password]").fill(s.admin_password)
    await page.locator("input[name=new_password]").fill(NEW_PASSWORD)
    await page.locator("input[name=new_password_again]").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="保存新密码").click()
    await page.get_by_role("link", name="继续").click()
    body_url = await create_body(page, s.base, "某县人民代表大会常务委员会", "人大常委会")

    await page.goto(body_url)
    await page.locator("#b-organs").get_by_role("link", name="承办单位").click()
    await expect(page.get_by_role("heading", name="承办单位")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("尚无承办单位")
    await page.get_by_label("选择文件").set_input_files(
        {"name": "承办单位.xlsx", "mimeType": "application/octet-stream", "buffer": organs_xlsx()}
    )
    await page.get_by_role("button", name="上传并预览").click()
    await expect(page.locator("#o-summary")).to_contain_text("新增 2 个单位，更新 0 个单位")
    await expect(page.locator("#o-ignored")).to_contain_text("序号")
    await page.get_by_role("button", name="确认导入").click()
    await expect(page.get_by_text("导入完成：新增 2 个单位")).to_be_visible()
    await page.get_by_role("link", name="返回承办单位").click()

    add = page.locator("#o-add")
    await add.get_by_label("单位名称").fill("县教育局")
    await add.get_by_label("联系人").fill("李华")
    await add.get_by_label("联系电话").fill("12345")
    await add.get_by_role("button", name="添加").click()
    await expect(page.locator("#o-error")).to_contain_text("不是有效的电话号码")
    await add.get_by_label("联系电话").fill("13800000000")
    await add.get_by_role("button", name="添加").click()
    rows = page.locator("table.o-table tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(2)).to_contain_text("县教育局")
    await shots.take("organs", {"staff": page})

    await rows.nth(0).get_by_role("link", name="打印通知单").click()
    await expect(page.get_by_role("heading", name="督办事项办理通知")).to_be_visible()
    await expect(page.locator(".o-qr svg")).to_be_visible()
    box = await page.locator(".o-qr svg").bounding_box()
    assert box is not None and box["width"] > 150 and box["width"] == pytest.approx(box["height"], abs=2)
    link = (await page.locator(".o-url").inner_text()).strip()
    assert link.startswith(f"{s.base}/o/")
    await shots.take("notice", {"staff": page})

    organ = await context.new_page()  # the organ's own browser needs no login: the link is enough
    await organ.goto(link)
    await expect(organ.get_by_role("heading", name="县住房和城乡建设局")).to_be_visible()
    await expect(organ.locator("#o-none")).to_contain_text("目前没有")

    await page.go_back()
    await rows.nth(0).locator(".o-revoke summary").click()
    await rows.nth(0).get_by_role("button", name="确认停用并换发链接").click()
    await expect(page.get_by_role("status")).to_contain_text("原链接已停用")
    await organ.reload()
    await expect(organ.locator("main")).to_contain_text(organs.REVOKED)
    await context.close()
    assert re.match(r"http://127\.0\.0\.1:\d+/o/", link)
