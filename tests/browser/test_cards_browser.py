"""The invitation card sheet in real Chromium, as it prints: A4, 8 cards a page.

Staff log in and open the sheet in an A4-sized window (794×1123 CSS pixels at 96 dpi)
with print media emulated: the toolbar and the re-issue buttons are gone, the first
page holds exactly 8 cards (2 × 4), each with its QR code. Nothing is re-issued here:
the other browser tests share this demo server and its printed invitation links.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS, DemoServer, Shots

SHOTS = ARTIFACTS / "office"

pytestmark = pytest.mark.browser

A4 = {"width": 794, "height": 1123}


async def test_card_sheet_prints_eight_cards_a_page(
    browser: Browser, demo_server: DemoServer, shots: Shots
) -> None:
    context = await browser.new_context(viewport=A4, locale="zh-CN")
    page = await context.new_page()
    url = f"{demo_server.base}/m/{demo_server.meeting_id}/cards?group=*"  # every group: 48
    await page.goto(url)
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.get_by_label("用户名").fill("chair")
    await page.get_by_label("密码").fill("wenzheng-demo")
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(re.compile(r"/cards"))
    await page.goto(url)  # the login returns to the page, not to its query
    await expect(page.locator(".inv-card")).to_have_count(48)
    await expect(page.get_by_text("补发新卡…").first).to_be_visible()
    await shots.take("screen", {"staff": page})

    await page.emulate_media(media="print")
    await expect(page.locator(".cards-toolbar")).to_be_hidden()
    await expect(page.locator(".inv-reissue").first).to_be_hidden()
    boxes = [await card.bounding_box() for card in await page.locator(".inv-card").all()]
    assert all(box is not None for box in boxes)
    first_page = [b for b in boxes if b is not None and b["y"] + b["height"] <= A4["height"]]
    assert len(first_page) == 8
    assert len({round(b["x"]) for b in first_page}) == 2 and len({round(b["y"]) for b in first_page}) == 4
    for card in (await page.locator(".inv-card").all())[:8]:
        qr = card.locator(".inv-qr svg")
        await expect(qr).to_be_visible()
        box = await qr.bounding_box()
        assert box is not None and box["width"] > 80 and box["height"] > 80  # about 30 mm
        await expect(card).to_contain_text("验证码")
    await page.screenshot(path=str(shots.folder / "cards-print-a4.png"), animations="disabled")
    await context.close()


async def _staff(browser: Browser, server: DemoServer, url: str, size: dict[str, int]) -> tuple[Any, Page]:
    context = await browser.new_context(viewport=size, locale="zh-CN")
    page = await context.new_page()
    await page.goto(url)
    await page.get_by_label("用户名").fill("chair")
    await page.get_by_label("密码").fill("wenzheng-demo")
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(url)
    return context, page


async def test_cards_page_one_group_at_a_time_and_release_every_phone(
    browser: Browser, own_demo_server: DemoServer
) -> None:
    """At the console's 1366x768: the first group's cards, the group picker, then 解除全部绑定
    with its confirm step showing how many phones, and the count released."""
    server = own_demo_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    deputy = await phone.new_page()
    for invitation in server.invitations[:2]:  # two cards bound to a phone
        await deputy.goto(invitation.url)
    url = f"{server.base}/m/{server.meeting_id}/cards"
    context, page = await _staff(browser, server, url, {"width": 1366, "height": 768})
    await expect(page.locator(".inv-card")).to_have_count(8)  # the first group only
    picker = page.get_by_label("代表小组")
    await expect(picker).to_be_visible()
    await page.screenshot(path=str(SHOTS / "cards-1366x768-first-group.png"))
    await picker.select_option(label="城西代表小组")
    await page.get_by_role("button", name="显示").click()
    await expect(page.locator(".inv-card")).to_have_count(8)
    await expect(page.locator(".cards-count")).to_contain_text("城西代表小组：共 8 张")

    await page.get_by_text("解除全部绑定…").click()
    confirm = page.get_by_role("button", name="确认解除全部 2 部手机的绑定")
    await expect(confirm).to_be_visible()
    box = await confirm.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768  # no scrolling to confirm
    await page.screenshot(path=str(SHOTS / "cards-1366x768-release-all-confirm.png"))
    await confirm.click()
    await expect(page.get_by_role("status").filter(has_text="已解除 2 部手机的绑定")).to_be_visible()
    await page.screenshot(path=str(SHOTS / "cards-1366x768-released.png"))
    await page.get_by_text("解除全部绑定…").click()
    await expect(page.get_by_role("button", name="确认解除全部 0 部手机的绑定")).to_be_disabled()
    await context.close()
    await phone.close()
