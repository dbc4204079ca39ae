"""What a walk through the hall day as each user still tripped on (issue 16, review).

Real Chromium against a real `wenzheng serve --demo`, at the hall's sizes: a phone at
360x640 whose head named the question that had just finished (问题 1/6 · 已完成) above a
vote's ballot; a phone whose own 已签到 ✓ never said when; a console whose pairing hint
named only two of the three screens that pair with a code; and a console at 1366x768
whose long agenda pushed the projector controls below the fold.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from server.base.keys import Keys
from tests.browser.conftest import DemoServer, Shots
from tests.browser.screen_checks import context
from tests.browser.test_console_operator import act, on_first_screen
from tests.browser.test_live_session import check_in_the_quorum, connected, desk_context, login
from tests.browser.test_vote_browser import staff_check_in

pytestmark = pytest.mark.browser

VOTE_TITLE = "关于城东片区老旧小区改造资金安排的决议"
CLOCK = re.compile(r"已签到 ✓（\d\d:\d\d）")


async def bound_phone(
    browser: Browser, s: DemoServer, index: int, width: int, height: int
) -> tuple[Page, int]:
    """A phone at its real size, bound by its invitation; and the deputy's id."""
    phone = await (await context(browser, width, height, phone=True)).new_page()
    inv = s.invitations[index]
    await phone.goto(inv.url)
    await expect(phone.locator(".d-name")).to_have_text(f"{inv.name} 代表")
    found = Keys(s.secret).read_invitation(urlsplit(inv.url).path.rsplit("/", 1)[-1])
    assert found is not None
    return phone, found[0]


async def test_the_phone_heads_a_vote_with_its_subject_not_the_finished_question(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    console = await (await desk_context(browser, 1366, 768)).new_page()
    await login(console, s.console_url)
    phone, deputy_id = await bound_phone(browser, s, 2, 360, 640)
    await staff_check_in(console, s.base, s.meeting_id, deputy_id)
    await check_in_the_quorum(console, s.base, s.meeting_id)
    await connected(console, phone)

    inquiry = console.locator("#c-agenda li", has_text="人大代表问政会")
    await inquiry.get_by_role("button", name="进入").click()
    await expect(inquiry).to_contain_text("当前")
    await console.locator("#c-questions li").first.get_by_role("button", name=re.compile("^开始")).click()
    await expect(phone.locator("#d-session .d-qnum")).to_contain_text("问题 1")
    for cmd in ("to_answering", "open_rating", "close_rating"):
        await act(console, s.base, s.meeting_id, cmd=cmd)
    await expect(phone.locator("#d-session .d-qnum")).to_contain_text("已完成")
    await act(console, s.base, s.meeting_id, cmd="open_vote", title=VOTE_TITLE)

    head = phone.locator("#d-session")
    await expect(head.locator(".d-qnum")).to_have_text("表决")
    await expect(head.locator(".d-qtitle")).to_have_text(VOTE_TITLE)
    await expect(head).not_to_contain_text("已完成")
    for label in ("赞成", "反对", "弃权"):  # the subject above does not push the ballot off
        box = await phone.get_by_role("button", name=label, exact=True).bounding_box()
        assert box and box["y"] + box["height"] <= 640, f"{label} needs a scroll at 360x640: {box}"
    await shots.take("vote-head", {"phone360": phone})

    await act(console, s.base, s.meeting_id, cmd="close_vote")
    await expect(head.locator(".d-qnum")).to_contain_text("问题 1")  # back to where the hall is


async def test_the_phone_says_when_its_deputy_checked_in(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    console = await (await desk_context(browser, 1366, 768)).new_page()
    await login(console, s.console_url)
    phone, deputy_id = await bound_phone(browser, s, 5, 390, 844)
    await connected(console, phone)
    await expect(phone.locator("#d-me .d-status")).to_have_text("您尚未签到")

    await staff_check_in(console, s.base, s.meeting_id, deputy_id)  # live, on the open page
    status = phone.locator("#d-me .d-status")
    await expect(status).to_have_text(CLOCK)
    shown = (await status.inner_text()).strip()
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))  # China time, whatever the server's zone
    hour_minute = re.search(r"(\d\d):(\d\d)", shown)
    assert hour_minute
    shown_min = int(hour_minute.group(1)) * 60 + int(hour_minute.group(2))
    assert abs(now.hour * 60 + now.minute - shown_min) % (24 * 60) <= 1, (
        f"{shown} is not China time ({now:%H:%M})"
    )
    await shots.take("checked-in", {"phone390": phone})

    await phone.reload()  # and after a reload, from the meeting's record
    await connected(phone)
    await expect(phone.locator("#d-me .d-status")).to_have_text(shown)


async def test_the_pairing_hint_names_the_script_screen(
    own_demo_server: DemoServer, browser: Browser
) -> None:
    s = own_demo_server
    console = await (await desk_context(browser, 1366, 768)).new_page()
    await login(console, s.console_url)
    hint = console.locator("#c-pair-hint")
    for screen, path in (("投影屏", "projector"), ("发言计时屏", "podium"), ("主持词屏", "script")):
        await expect(hint).to_contain_text(f"/m/{s.meeting_id}/{path}（{screen}）")
    # the hint stands over the form it explains, not over the caption form
    order = await console.evaluate(
        """() => {
            const hint = document.getElementById('c-pair-hint');
            const pair = document.querySelector('form[hx-post$="/pair"]');
            const banner = document.querySelector('input[name=text]').form;
            const follows = (a, b) => !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
            return [follows(banner, hint), follows(hint, pair)];
        }"""
    )
    assert order == [True, True], order


async def add_agenda_items(console: Page, s: DemoServer, n: int) -> None:
    await console.goto(f"{s.base}/meetings/{s.meeting_id}/edit")
    for i in range(n):
        # The first add form; the one that takes a progress report (#m-agenda-report) is another.
        add = console.locator("#m-agenda .m-add:not(#m-agenda-report)")
        await add.locator("input[name=item_title]").fill(f"审议第{i + 1}项专项工作报告")
        await add.get_by_role("button", name="添加议程").click()
        await expect(console.locator("#m-agenda tbody tr")).to_have_count(3 + i + 1)


async def in_the_agenda_box(console: Page, control: Locator, what: str) -> None:
    """Not clipped away by the agenda's own scrolling box."""
    box = await control.bounding_box()
    clip = await console.locator("#c-agenda ol").bounding_box()
    assert box and clip, what
    inside = box["y"] >= clip["y"] - 1 and box["y"] + box["height"] <= clip["y"] + clip["height"] + 1
    assert inside, f"{what} is scrolled out of the agenda's box: {box} not in {clip}"


async def test_a_ten_item_agenda_keeps_the_projector_controls_on_the_first_screen(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    console = await (await desk_context(browser, 1366, 768)).new_page()
    await login(console, s.console_url)
    await add_agenda_items(console, s, 7)  # the demo's 3 and 7 more
    await console.goto(s.console_url)
    await connected(console)
    await expect(console.locator("#c-agenda li")).to_have_count(10)
    # no quorum yet: the agenda's own warning stands above the list too
    await expect(console.locator("#c-agenda-quorum")).to_be_visible()
    await on_first_screen(console, console.locator("#c-projector button"), "投影屏按钮")
    await shots.take("ten-items", {"console": console})

    # deep in the agenda: the current item and the next one's 进入 stay in view
    ninth = console.locator("#c-agenda li").nth(8)
    await ninth.scroll_into_view_if_needed()
    await ninth.get_by_role("button", name="进入").click()
    await expect(ninth).to_contain_text("当前")
    await on_first_screen(console, ninth.locator("span").first, "当前议程")
    await on_first_screen(
        console, console.locator("#c-agenda li").nth(9).get_by_role("button"), "下一项的进入"
    )
    await in_the_agenda_box(console, ninth.locator("span").first, "当前议程")
    await in_the_agenda_box(
        console, console.locator("#c-agenda li").nth(9).get_by_role("button"), "下一项的进入"
    )
    await on_first_screen(console, console.locator("#c-projector button"), "投影屏按钮")
    await shots.take("ninth-current", {"console": console})


async def test_a_late_phone_is_told_check_in_has_ended_not_to_wait_for_it(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    """After 结束签到 a deputy not checked in read 签到开始后，请扫描… and waited for nothing."""
    s = own_demo_server
    console = await (await desk_context(browser, 1366, 768)).new_page()
    await login(console, s.console_url)
    phone, _ = await bound_phone(browser, s, 6, 360, 640)
    await connected(console, phone)
    me = phone.locator("#d-me")
    await expect(me).to_contain_text("签到开始后")  # before check-in opens: right
    await act(console, s.base, s.meeting_id, cmd="open_checkin")
    await expect(me).to_contain_text("请扫描会场大屏幕上的二维码签到")
    await act(console, s.base, s.meeting_id, cmd="close_checkin")
    await expect(me.locator("#d-checkin-over")).to_contain_text("签到已结束")
    await expect(me).not_to_contain_text("签到开始后")
    await shots.take("checkin-over", {"phone360": phone})


async def test_an_announced_vote_says_the_rule_it_was_decided_by_and_fits(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    """The projector said 未通过 with no rule beside it (a rating shows its base); two rounds
    with the rule still fit 1280x720 and 1920x1080."""
    s = own_demo_server
    console = await (await desk_context(browser, 1366, 768)).new_page()
    await login(console, s.console_url)
    await check_in_the_quorum(console, s.base, s.meeting_id)
    small = await (await context(browser, 1280, 720)).new_page()
    large = await (await context(browser, 1920, 1080)).new_page()
    for projector in (small, large):
        await projector.goto(s.projector_url)
    await connected(console, small, large)
    for revote in (False, True):
        form = {"cmd": "open_vote", "title": VOTE_TITLE}
        if revote:
            form = {"cmd": "open_vote", "title": VOTE_TITLE, "revote_of": "1"}
        await act(console, s.base, s.meeting_id, **form)
        await act(console, s.base, s.meeting_id, cmd="close_vote")
        await act(console, s.base, s.meeting_id, cmd="announce_vote")
    for projector, (w, h) in ((small, (1280, 720)), (large, (1920, 1080))):
        await expect(projector.locator("#p-vote .p-vote-round")).to_have_count(2)
        rule = re.compile(r"^通过条件：全体(代表|组成人员)过半数（基数 48 人）$")
        await expect(projector.locator("#p-vote-rule")).to_have_text(rule)
        box = await projector.locator("#p-vote-rule").bounding_box()
        assert box and box["y"] + box["height"] <= h and box["x"] + box["width"] <= w, (w, h, box)
    await shots.take("vote-rule", {"projector720": small, "projector1080": large})
