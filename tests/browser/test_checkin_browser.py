"""Check-in an elderly deputy can finish, in Chromium (issue 16).

Against a real `wenzheng serve --demo`: two never-bound phones (360x640 and 390x844) open
the hall link from the projector's QR code; one first sends a wrong short code and finds
the card number still typed; both type slowly, and submit only after the projector's
code has rotated twice (the hall code rotates every 30 s, a fixed server setting, so the
test really waits): both are bound and checked in. Scanning again says 已签到 and when.
A third phone whose form was opened before check-in closed and sent after it is told
签到已结束 and whom to ask, and its card is not bound; a link opened after the close says
the same, never 已过期. On the console (1366x768) a manual check-in turns its search row
into 已签到 at once, and the audit trail says 人工签到 and by whom.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import time

import pytest
from playwright.async_api import Browser, Page, expect

from server.base.keys import Keys
from tests.browser.conftest import ARTIFACTS, DemoServer, Shots
from tests.browser.test_live_session import (
    connected,
    desk_context,
    hall_url_on_projector,
    login,
    phone_context,
)

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "checkin"
CHINA = dt.timezone(dt.timedelta(hours=8))
ROTATION_S = 30  # Settings.hall_code_seconds: no environment setting shortens it


async def phone_at(browser: Browser, width: int, height: int) -> Page:
    return await (await phone_context(browser, width, height)).new_page()


async def qr_path(projector: Page) -> str:
    return await projector.locator("#hall-qr svg path").first.get_attribute("d") or ""


async def wait_rotations(projector: Page, first: str, count: int) -> None:
    """Until the projector has shown ``count`` codes after ``first``."""
    seen = [first]
    deadline = time.monotonic() + ROTATION_S * (count + 1) + 10
    while len(seen) <= count:
        assert time.monotonic() < deadline, f"the hall QR rotated {len(seen) - 1} times"
        shown = await qr_path(projector)
        if shown and shown != seen[-1]:
            seen.append(shown)
        await asyncio.sleep(0.5)


def keep(shots: Shots) -> None:
    """This test's screenshots, also where the lead looks at them."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path in shots.taken:
        shutil.copy(path, SHOTS / path.name)


async def test_a_slow_deputy_checks_in_after_two_rotations(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    keys = Keys(s.secret)
    mid = s.meeting_id
    console = await (await desk_context(browser, 1366, 768)).new_page()
    projector = await (await desk_context(browser, 1920, 1080)).new_page()
    await login(console, s.console_url)
    await projector.goto(s.projector_url)
    await connected(console, projector)
    await console.get_by_role("button", name=re.compile("^开始签到")).click()
    await expect(projector.locator("#hall-qr svg")).to_be_visible()

    small, tall = await phone_at(browser, 360, 640), await phone_at(browser, 390, 844)
    a, b = s.invitations[5], s.invitations[6]
    first = await qr_path(projector)
    url = await hall_url_on_projector(projector, s, keys)
    for phone in (small, tall):
        await phone.goto(url)
        await expect(phone.locator("#bind-page")).to_be_visible()
        await expect(phone.locator("#bind-grace")).to_contain_text("5 分钟内提交都有效")

    # 360x640: a wrong short code first; the card number survives to be sent again.
    await small.get_by_label("代表证卡号").press_sequentially(a.card_no, delay=250)
    await small.get_by_label("验证码（8 位数字）").press_sequentially("12345678", delay=250)
    await small.get_by_role("button", name="确认并签到").tap()
    await expect(small.locator(".notice.error")).to_contain_text("卡号或验证码不正确")
    await expect(small.get_by_label("代表证卡号")).to_have_value(a.card_no)
    await expect(small.get_by_label("验证码（8 位数字）")).to_have_value("")
    await shots.take("wrong-code-kept-card", {"phone-360": small})
    await small.get_by_label("验证码（8 位数字）").press_sequentially(a.short_code, delay=250)
    await tall.get_by_label("代表证卡号").press_sequentially(b.card_no, delay=250)
    await tall.get_by_label("验证码（8 位数字）").press_sequentially(b.short_code, delay=250)
    await shots.take("typed", {"phone-360": small, "phone-390": tall})

    # The projector moves on twice: the code these pages were opened with is dead now.
    await wait_rotations(projector, first, 2)
    assert keys.check_hall_code(mid, url.rsplit("/", 1)[1], time.time(), ROTATION_S) == "expired"
    for phone, inv in ((small, a), (tall, b)):
        await phone.get_by_role("button", name="确认并签到").tap()
        await expect(phone).to_have_url(re.compile(rf"/d/{mid}\?checked_in=1$"))
        await expect(phone.locator("#d-me .d-status")).to_have_text(
            re.compile(r"^已签到 ✓（\d\d:\d\d）$")
        )  # with the time
        await expect(phone.locator(".d-name")).to_have_text(f"{inv.name} 代表")
    await expect(console.locator("#c-present")).to_have_text("2")
    await shots.take("checked-in", {"phone-360": small, "phone-390": tall})

    # Scanning again: 已签到 and the time (China time), no second 确认签到.
    now = await hall_url_on_projector(projector, s, keys)
    clock = dt.datetime.now(CHINA).strftime("%H:%M")
    for phone in (small, tall):
        await phone.goto(now)
        await expect(phone.locator("#checked-in")).to_contain_text("已签到")
        await expect(phone.get_by_role("button", name="确认签到")).to_have_count(0)
        text = await phone.locator("main").inner_text()
        times = re.findall(r"\d\d:\d\d", text)
        assert times, text
        minutes = [int(t[:2]) * 60 + int(t[3:]) for t in times]
        assert all(abs(m - (int(clock[:2]) * 60 + int(clock[3:]))) <= 3 for m in minutes), (times, clock)
    await shots.take("scanned-again", {"phone-360": small, "phone-390": tall})

    # A form opened during check-in and sent after it closed: 签到已结束, no card bound.
    late = await phone_at(browser, 390, 844)
    c = s.invitations[7]
    await late.goto(await hall_url_on_projector(projector, s, keys))
    await late.get_by_label("代表证卡号").fill(c.card_no)
    await late.get_by_label("验证码（8 位数字）").fill(c.short_code)
    await console.locator("#c-attendance").get_by_role("button", name="结束签到").click()
    await expect(console.locator("#c-attendance h2")).to_have_text("签到")
    await late.get_by_role("button", name="确认并签到").tap()
    await expect(late.locator("main")).to_contain_text("签到已结束")
    await expect(late.locator("main")).to_contain_text("会务人员")
    await shots.take("closed-sent", {"phone-390": late})
    await late.goto(f"{s.base}/d/{mid}")
    await expect(late.locator("#bind-page")).to_be_visible()  # not bound
    # A hall link opened after the close (the code still on a screenshot): the same.
    later = await phone_at(browser, 360, 640)
    await later.goto(f"{s.base}/h/{mid}/{keys.hall_code(mid, int(time.time() // ROTATION_S) - 4)}")
    await expect(later.locator("main h1")).to_have_text("签到已结束")
    await expect(later.locator("main")).to_contain_text("会务人员")
    await expect(later.locator("main")).not_to_contain_text("过期")
    await shots.take("closed-opened", {"phone-360": later})
    keep(shots)


async def test_a_manual_check_in_shows_at_once_and_in_the_audit(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    console = await (await desk_context(browser, 1366, 768)).new_page()
    await login(console, s.console_url)
    await connected(console)
    inv = s.invitations[3]
    search = console.get_by_placeholder("输入姓名、卡号或小组")
    await search.fill(inv.card_no)
    row = console.locator("#c-roster .roster tr")
    await expect(row).to_have_count(1)
    await expect(row.locator(".presence")).to_have_text("未到")
    await row.scroll_into_view_if_needed()
    await shots.take("manual-before", {"console": console})
    await row.get_by_role("button", name="人工签到").click()
    # At once, without searching again: the row says 已签到 and offers no second click.
    await expect(row.locator(".presence")).to_have_text("已签到", timeout=5000)  # a loaded CI box
    await expect(row.get_by_role("button", name="人工签到")).to_have_count(0)
    await expect(search).to_have_value(inv.card_no)
    await shots.take("manual-after", {"console": console})

    audit = await (await desk_context(browser, 1366, 768)).new_page()
    await audit.context.add_cookies(await console.context.cookies())
    await audit.goto(f"{s.base}/m/{s.meeting_id}/audit")
    entry = audit.locator("tr", has_text=inv.name).filter(has_text="人工签到")
    await expect(entry).to_have_count(1)
    await expect(entry).to_contain_text("演示主持人")
    await entry.scroll_into_view_if_needed()
    await shots.take("manual-audit", {"audit": audit})

    # The grace is the meeting's own setting, editable once it has begun.
    await audit.goto(f"{s.base}/meetings/{s.meeting_id}/edit")
    grace = audit.get_by_label("扫码后完成签到的时限（分钟）")
    await expect(grace).to_have_value("5")
    await grace.fill("8")
    await audit.locator("#m-hall-networks").get_by_role("button", name="保存会场网络与签到时限").click()
    await expect(audit.get_by_label("扫码后完成签到的时限（分钟）")).to_have_value("8")
    await audit.locator("#m-hall-networks").scroll_into_view_if_needed()
    await shots.take("grace-setting", {"meeting-edit": audit})
    keep(shots)
