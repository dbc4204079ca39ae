"""The hall as it really is, on the console at 1366x768 and the projector, in Chromium.

Against a real `wenzheng serve --demo` process: two 列席/旁听 attendees are listed in the
database before the meeting is first loaded; staff check two deputies in by hand, record
that one left part-way (中途离会) from the roster search row, check an attendee in, then
end the meeting behind its confirmation; every step is on the console at once, and the
projector says the meeting has ended. A rehearsal (彩排) says so on all five screens.
"""

from __future__ import annotations

import sqlite3

import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_live_session import connected, desk_context, login, phone_context

pytestmark = pytest.mark.browser


def _list_attendees(server: DemoServer) -> None:
    with sqlite3.connect(server.data_dir / "wenzheng.db") as db:
        db.executemany(
            "INSERT INTO attendees (meeting_id, kind, name, organisation) VALUES (?, ?, ?, ?)",
            [
                (server.meeting_id, "observer", "周列席", "镇纪委"),
                (server.meeting_id, "citizen", "吴旁听", "清溪村村民"),
            ],
        )


async def _roster_row(console: Page, card_no: str) -> None:
    search = console.get_by_placeholder("输入姓名、卡号或小组")
    await search.fill(card_no)
    await expect(console.locator("#c-roster .roster tr")).to_have_count(1)
    await expect(console.locator("#c-roster .roster tr")).to_contain_text(card_no)


async def test_leave_part_way_attendees_and_the_end_on_the_console(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    _list_attendees(s)
    console = await (await desk_context(browser, 1366, 768)).new_page()
    projector = await (await desk_context(browser, 1920, 1080)).new_page()
    await login(console, s.console_url)
    await projector.goto(s.projector_url)
    await connected(console, projector)
    attendance = console.locator("#c-attendance")
    first, second = s.invitations[0], s.invitations[1]

    for inv in (first, second):
        await _roster_row(console, inv.card_no)
        await console.locator("#c-roster").get_by_role("button", name="人工签到").click()
    await expect(console.locator("#c-present")).to_have_text("2")

    await _roster_row(console, first.card_no)
    await console.locator("#c-roster").get_by_role("button", name="中途离会").click()
    await expect(console.locator("#c-left")).to_have_text("1")
    await expect(console.locator("#c-present")).to_have_text("1")
    await console.get_by_placeholder("输入姓名、卡号或小组").fill("")
    await _roster_row(console, first.card_no)  # the row now offers the return
    await expect(console.locator("#c-roster").get_by_role("button", name="返回会场")).to_be_visible()

    attendees = console.locator("#c-attendees")
    await expect(attendees).to_contain_text("周列席")
    await attendees.locator("tr", has_text="周列席").get_by_role("button", name="签到").click()
    await expect(attendance.locator("#c-attendee-figs")).to_contain_text("列席 1/1")
    await expect(attendance.locator("#c-attendee-figs")).to_contain_text("旁听 0/1")
    await expect(console.locator("#c-present")).to_have_text("1")  # never in 实到
    await attendees.scroll_into_view_if_needed()
    await shots.take("left-and-attendee", {"console": console})
    await attendance.scroll_into_view_if_needed()
    await shots.take("attendance-panel", {"console": console})

    # 结束会议 asks first: dismissing changes nothing, accepting ends the meeting.
    answers = iter([False, True])

    async def answer(dialog: Dialog) -> None:
        assert "结束会议" in dialog.message
        await (dialog.accept() if next(answers) else dialog.dismiss())

    console.on("dialog", answer)
    await console.locator("#c-close-meeting").click()
    await expect(console.locator("#c-session")).not_to_contain_text("会议已结束")
    await console.locator("#c-close-meeting").click()
    await expect(console.locator("#c-session")).to_contain_text("会议已结束")
    await expect(projector.locator("#stage")).to_contain_text("会议已结束")
    await expect(console.locator("#c-close-meeting")).to_have_count(0)
    await console.evaluate("window.scrollTo(0, 0)")
    await shots.take("closed", {"console": console, "projector": projector})


async def test_a_rehearsal_says_so_on_every_screen(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    with sqlite3.connect(s.data_dir / "wenzheng.db") as db:  # before the meeting is first loaded
        db.execute("UPDATE meetings SET rehearsal = 1 WHERE id = ?", (s.meeting_id,))
    console = await (await desk_context(browser, 1366, 768)).new_page()
    projector = await (await desk_context(browser, 1920, 1080)).new_page()
    podium = await (await desk_context(browser, 1920, 1080)).new_page()
    public = await (await desk_context(browser, 1366, 768)).new_page()
    phone = await (await phone_context(browser)).new_page()
    await login(console, s.console_url)
    await projector.goto(s.projector_url)
    await podium.goto(s.podium_url)
    await public.goto(f"{s.base}/m/{s.meeting_id}/live")
    await phone.goto(s.invitations[2].url)
    screens = {"console": console, "projector": projector, "podium": podium, "public": public, "phone": phone}
    for page in screens.values():
        mark = page.locator(".rehearsal-mark")
        await expect(mark).to_have_text("彩排 · 不计入出勤记录")
        box = await mark.bounding_box()
        assert box and box["y"] < 5 and box["height"] >= 20, box  # at the very top, not hidden
    await connected(console, projector, podium, public, phone)
    await shots.take("rehearsal", screens)
