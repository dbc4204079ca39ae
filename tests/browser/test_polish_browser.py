"""Issue 16 polish, in Chromium: the login comes back with the query; the podium's clock
reads China time on a computer set to UTC."""

from __future__ import annotations

import re
import time

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import DemoServer
from tests.browser.test_live_session import desk_context

pytestmark = pytest.mark.browser


async def test_login_returns_to_the_cards_page_with_its_group(
    browser: Browser, demo_server: DemoServer
) -> None:
    s = demo_server
    context = await desk_context(browser, 1366, 768)
    page = await context.new_page()
    wanted = f"{s.base}/m/{s.meeting_id}/cards?group=*"
    await page.goto(wanted)
    await expect(page).to_have_url(f"{s.base}/login?next=/m/{s.meeting_id}/cards%3Fgroup%3D%2A")
    await page.get_by_label("用户名").fill("chair")
    await page.get_by_label("密码").fill("wenzheng-demo")
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(wanted)
    await context.close()


def _china_clocks() -> set[str]:
    now = time.time() + 8 * 3600
    return {time.strftime("%H:%M", time.gmtime(now + d)) for d in (-60, 0, 60)}


async def test_the_podium_clock_reads_china_time_on_a_utc_computer(
    browser: Browser, demo_server: DemoServer
) -> None:
    context = await browser.new_context(viewport={"width": 1920, "height": 1080}, timezone_id="UTC")
    page = await context.new_page()
    await page.goto(demo_server.podium_url)
    clock = page.locator("#po-clock")
    await expect(clock).to_have_text(re.compile(r"^\d\d:\d\d$"), timeout=10_000)
    shown = await clock.text_content()
    assert shown in _china_clocks(), (shown, _china_clocks())
    utc = time.strftime("%H:%M", time.gmtime())
    assert shown != utc
    await context.close()
