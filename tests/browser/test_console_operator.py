"""The console as the staff operator works it, at 1366x768, in real Chromium (issue 16).

Each click says what it did in the status line under the header, which never covers or
moves a control and fades; every control of the current step (vote open, vote closed,
the question list, the agenda, the projector) is on the first screen, without a scroll;
the vote form comes filled from the agenda and says, in Chinese, what is missing; and a
phone at 360x640 offers only the floor requests the chair can grant at that moment, while
the console says what granting one will do.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from server.base.keys import Keys
from tests.browser.conftest import DemoServer
from tests.browser.test_live_session import connected, desk_context, login, phone_context
from tests.browser.test_vote_browser import staff_check_in

pytestmark = pytest.mark.browser

W, H = 1366, 768
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser" / "operator"


def _shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


async def on_first_screen(page: Page, controls: Locator, what: str) -> None:
    """Every one of ``controls`` lies wholly inside the 1366x768 viewport, page unscrolled."""
    await page.evaluate("window.scrollTo(0, 0)")
    n = await controls.count()
    assert n, f"no {what} on the console"
    for i in range(n):
        box = await controls.nth(i).bounding_box()
        label = (await controls.nth(i).inner_text()).strip()
        assert box, f"{what} {label!r} is not shown"
        inside = box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= W
        assert inside and box["y"] + box["height"] <= H, f"{what} {label!r} needs a scroll at {W}x{H}: {box}"


async def act(console: Page, base: str, meeting_id: int, **form: str) -> None:
    csrf = await console.locator("body").get_attribute("hx-headers")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', csrf or "")
    assert token
    reply = await console.request.post(
        f"{base}/m/{meeting_id}/act", form=form, headers={"X-CSRF-Token": token.group(1)}
    )
    assert reply.status == 200, await reply.text()


async def console_page(browser: Browser, s: DemoServer) -> Page:
    console = await (await desk_context(browser, W, H)).new_page()
    await login(console, s.console_url)
    await connected(console)
    return console


async def test_each_click_says_what_it_did_without_covering_or_moving_a_control(
    own_demo_server: DemoServer, browser: Browser
) -> None:
    s, shots = own_demo_server, _shots()
    console = await console_page(browser, s)
    status = console.locator("#c-flash")
    await expect(status).to_have_attribute("aria-live", "polite")
    grid_before = await console.locator(".c-grid").bounding_box()

    await console.get_by_role("button", name=re.compile("^开始签到")).click()
    await expect(status).to_have_text("已开始签到")
    await console.screenshot(path=str(shots / "flash-ok-1366x768.png"))
    box = await status.locator(".flash").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= H, box  # where the operator looks
    grid_after = await console.locator(".c-grid").bounding_box()
    assert grid_before and grid_after and grid_after["y"] == grid_before["y"], "the message moved the panels"
    buttons = console.locator("button:visible")
    for i in range(await buttons.count()):
        b = await buttons.nth(i).bounding_box()
        if not b:
            continue
        apart = (
            b["x"] >= box["x"] + box["width"]
            or b["x"] + b["width"] <= box["x"]
            or b["y"] >= box["y"] + box["height"]
            or b["y"] + b["height"] <= box["y"]
        )
        assert apart, f"the message covers {await buttons.nth(i).inner_text()!r}"
    await expect(status).to_have_text("", timeout=6000)  # it fades by itself

    await console.get_by_role("button", name="宣布出席情况").click()
    await expect(status).to_have_text("已宣布出席情况")
    await console.get_by_role("button", name="加1分钟").click()
    await expect(status).to_have_text(re.compile("已加1分钟|计时"))
    # A refusal stays as it was: a red alert that says why.
    await console.get_by_role("button", name="当前问题", exact=True).click()
    await expect(status.locator(".flash.error[role=alert]")).to_contain_text("问题")
    await console.screenshot(path=str(shots / "flash-error-1366x768.png"))


async def test_every_control_of_the_current_step_is_on_the_first_screen(
    own_demo_server: DemoServer, browser: Browser
) -> None:
    s, shots = own_demo_server, _shots()
    mid = s.meeting_id
    console = await console_page(browser, s)
    projector_controls = console.locator("#c-projector button")

    # Before anything: the agenda's 进入, the question list's 开始 (N), the projector.
    await on_first_screen(console, console.locator("#c-agenda button"), "议程的按钮")
    await on_first_screen(console, console.locator('#c-questions button[data-key="n"]'), "开始（N）")
    await on_first_screen(console, projector_controls, "投影屏按钮")
    await console.screenshot(path=str(shots / "step-agenda-1366x768.png"))

    for deputy_id in range(1, 41):
        await act(console, s.base, mid, cmd="check_in", deputy_id=str(deputy_id))
    # A named vote with live figures: its tally table is what pushed 结束表决 down.
    await act(console, s.base, mid, cmd="open_vote", title="关于民生实事项目调整的决议", secret="0", live="1")
    await expect(console.locator("#c-vote")).to_contain_text("表决进行中")
    await expect(console.locator("#c-vote .vote-tally")).to_be_visible()
    await on_first_screen(console, console.get_by_role("button", name="结束表决"), "结束表决")
    await on_first_screen(console, projector_controls, "投影屏按钮")
    await console.screenshot(path=str(shots / "step-vote-open-1366x768.png"))

    await console.get_by_role("button", name="结束表决").click()
    await expect(console.locator("#c-vote-verdict")).to_be_visible()
    await on_first_screen(console, console.locator("#c-vote .c-vote-actions button"), "宣布结果与重新表决")
    assert await console.locator("#c-vote .c-vote-actions button").count() == 2
    await on_first_screen(console, projector_controls, "投影屏按钮")
    await console.screenshot(path=str(shots / "step-vote-closed-1366x768.png"))
    await console.get_by_role("button", name="宣布结果").click()
    await expect(console.locator("#c-vote-verdict")).to_contain_text("已宣布")

    # A question runs to its result; then the next one is called from the list.
    await console.locator('#c-questions button[data-key="n"]').click()
    await expect(console.locator("#c-session h2")).to_contain_text("问题 1/")
    await on_first_screen(console, console.locator("#c-session button.step"), "问题环节按钮")
    await console.get_by_role("button", name=re.compile("^开始答复")).click()
    await console.get_by_role("button", name=re.compile("^开始测评")).click()
    await expect(console.locator("#c-tally")).to_contain_text("进行中")
    await on_first_screen(console, console.locator("#c-session button.step"), "问题环节按钮")
    await console.get_by_role("button", name=re.compile("^结束测评并公布")).first.click()
    await expect(console.locator("#c-tally")).to_contain_text("已公布")
    next_question = console.locator('#c-questions button[data-key="n"]')
    await on_first_screen(console, next_question, "下一个问题的开始（N）")
    # The projector buttons say what the projector shows now.
    shown = console.locator('#c-projector .c-focus button[aria-pressed="true"]')
    await expect(shown).to_have_text("测评结果")
    await on_first_screen(console, console.locator("#c-agenda button"), "议程的按钮")
    await on_first_screen(console, projector_controls, "投影屏按钮")
    await console.screenshot(path=str(shots / "step-question-list-1366x768.png"))


async def test_the_vote_form_comes_filled_from_the_agenda_and_says_what_is_missing(
    own_demo_server: DemoServer, browser: Browser
) -> None:
    s, shots = own_demo_server, _shots()
    console = await console_page(browser, s)
    form = console.locator(".c-vote-new form")
    await console.locator(".c-vote-new summary").click()
    title = form.get_by_label("表决事项")
    first_item = (await console.locator("#c-agenda li span").first.inner_text()).strip()
    await expect(title).to_have_value(first_item)  # the next item: none is current yet
    inquiry = console.locator("#c-agenda li", has_text="人大代表问政会")
    await inquiry.get_by_role("button", name="进入").click()
    await expect(inquiry).to_contain_text("当前")
    await console.reload()
    await connected(console)
    await console.locator(".c-vote-new summary").click()
    await expect(title).to_have_value("人大代表问政会")  # the current item

    # With the quorum present (no vote opens without it), the empty title is what is refused.
    for deputy_id in range(1, 33):
        await act(console, s.base, s.meeting_id, cmd="check_in", deputy_id=str(deputy_id))
    await expect(console.locator("#c-vote-quorum")).to_have_count(0)
    await title.fill("")
    await form.get_by_role("button", name="开始表决").click()
    await expect(console.locator("#c-flash .flash.error")).to_have_text("请填写表决事项（不超过200字）。")
    box = await console.locator("#c-flash .flash").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= H, f"the refusal is out of view: {box}"
    await expect(console.locator("#c-vote")).to_contain_text("尚未表决")
    await console.screenshot(path=str(shots / "vote-form-empty-1366x768.png"))


async def test_a_phone_offers_only_what_the_chair_can_grant_and_the_console_says_what_granting_does(
    own_demo_server: DemoServer, browser: Browser
) -> None:
    s, shots = own_demo_server, _shots()
    mid = s.meeting_id
    keys = Keys(s.secret)
    console = await console_page(browser, s)
    phone_ctx = await phone_context(browser, 360, 640)
    phone = await phone_ctx.new_page()
    inv = s.invitations[0]
    await phone.goto(inv.url)
    await expect(phone.locator(".d-name")).to_have_text(f"{inv.name} 代表")
    found = keys.read_invitation(urlsplit(inv.url).path.rsplit("/", 1)[-1])
    assert found is not None
    await staff_check_in(console, s.base, mid, found[0])
    for other in range(1, 41):
        await act_quietly(console, s.base, mid, other)
    await expect(phone.locator("#d-me .d-status")).to_contain_text("已签到")
    await connected(phone)
    ask_speech = phone.get_by_role("button", name="申请发言")
    ask_followup = phone.get_by_role("button", name="申请追问")

    # No agenda item entered: calling a question enters the 问政 item.
    await console.locator('#c-questions button[data-key="n"]').click()
    await expect(console.locator("#c-agenda li.current")).to_contain_text("人大代表问政会")
    await expect(phone.locator("#d-session")).to_contain_text("提问")
    await expect(ask_speech).to_have_count(0)  # a speech cannot be granted during a question
    await expect(ask_followup).to_have_count(0)  # nor a follow-up before the answer
    await expect(phone.locator(".d-floor-later")).to_contain_text("答复开始后可申请追问")
    await phone.screenshot(path=str(shots / "phone-asking-360x640.png"), full_page=True)

    await console.get_by_role("button", name=re.compile("^开始答复")).click()
    await expect(ask_followup).to_be_visible()
    await expect(ask_speech).to_have_count(0)
    await phone.screenshot(path=str(shots / "phone-answering-360x640.png"), full_page=True)
    await ask_followup.tap()
    await expect(phone.locator("#d-me .d-place")).to_have_text("1")

    row = console.locator("#c-floor .c-queue li", has_text=inv.name)
    await expect(row).to_contain_text("准许后将进入追问环节")
    await on_first_screen(console, row.get_by_role("button", name="准许追问"), "准许追问")
    await console.screenshot(path=str(shots / "console-followup-queued-1366x768.png"))
    await row.get_by_role("button", name="准许追问").click()
    await expect(console.locator("#c-flash")).to_contain_text("追问")
    await expect(console.locator("#c-session .c-phase")).to_contain_text(f"追问代表 {inv.name}")

    await console.get_by_role("button", name=re.compile("^追问答复")).click()
    await console.get_by_role("button", name=re.compile("^开始测评")).click()
    await console.get_by_role("button", name=re.compile("^结束测评并公布")).first.click()
    await expect(console.locator("#c-tally")).to_contain_text("已公布")
    # The question is over: a speech can be granted now, a follow-up no longer.
    await expect(ask_speech).to_be_visible()
    await expect(ask_followup).to_have_count(0)
    await phone.screenshot(path=str(shots / "phone-after-question-360x640.png"), full_page=True)
    await ask_speech.tap()
    row = console.locator("#c-floor .c-queue li", has_text=inv.name)
    await expect(row).to_contain_text("准许后开始发言计时")
    await expect(row.get_by_role("button", name="给予发言")).to_be_enabled()
    await console.screenshot(path=str(shots / "console-speech-queued-1366x768.png"))


async def act_quietly(console: Page, base: str, meeting_id: int, deputy_id: int) -> None:
    """Check in another deputy (409: already present)."""
    csrf = await console.locator("body").get_attribute("hx-headers")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', csrf or "")
    assert token
    await console.request.post(
        f"{base}/m/{meeting_id}/act",
        form={"cmd": "check_in", "deputy_id": str(deputy_id)},
        headers={"X-CSRF-Token": token.group(1)},
    )
