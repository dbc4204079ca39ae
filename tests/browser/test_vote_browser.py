"""A rated report and a formal vote on every screen at once, in real Chromium.

The chair console (1440x900), the projector (1920x1080), the podium screen and two
deputies' phones (390x844, touch) against a real `wenzheng serve --demo` process. The
chair opens a secret vote (the live-tally box is greyed for it: a secret vote shows only
how many have voted until it closes); one phone votes 赞成 and the other 反对, each seeing its
receipt only after the reply; the chair closes and
announces (未通过: two votes are far from more than half of 48 members), then opens a
second round, which both phones carry; the projector shows both rounds side by side.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from server.base.keys import Keys
from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_live_session import connected, desk_context, login, phone_context

pytestmark = pytest.mark.browser

TITLE = "关于2026年下半年民生实事项目调整的决议"
REPORT = "听取镇人民政府上半年工作报告"
Q6_TITLE = "居家养老服务中心建成后如何保证正常运营？"


async def staff_check_in(console: Page, base: str, meeting_id: int, deputy_id: int) -> None:
    """The staff's manual check-in, through the console's own session."""
    csrf = await console.locator("body").get_attribute("hx-headers")
    assert csrf
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', csrf)
    assert token
    reply = await console.request.post(
        f"{base}/m/{meeting_id}/act",
        form={"cmd": "check_in", "deputy_id": str(deputy_id)},
        headers={"X-CSRF-Token": token.group(1)},
    )
    assert reply.status in (200, 409), await reply.text()  # 409: already present from another test


async def vote_on(phone: Page, choice: str) -> None:
    buttons = phone.locator("#d-me .choice")
    await expect(buttons).to_have_count(3)
    await phone.evaluate("window.scrollTo(0, 0)")
    for label in ("赞成", "反对", "弃权"):
        box = await phone.get_by_role("button", name=label, exact=True).bounding_box()
        assert box and box["height"] >= 60 and box["width"] >= 300, f"{label} is too small to tap: {box}"
        assert box["y"] + box["height"] <= 844, f"{label} is not on the screen without scrolling: {box}"
    await phone.get_by_role("button", name=choice, exact=True).tap()
    await expect(phone.locator("#d-receipt")).to_have_text("已记录 ✓")


async def test_a_vote_and_a_revote_on_every_screen(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server  # its own: it checks in the quorum, which the shared meeting must not get
    mid = s.meeting_id
    keys = Keys(s.secret)
    inv1, inv2 = s.invitations[3], s.invitations[4]  # one phone per card: its own deputies

    console = await (await desk_context(browser, 1440, 900)).new_page()
    projector = await (await desk_context(browser, 1920, 1080)).new_page()
    podium = await (await desk_context(browser, 1920, 1080)).new_page()
    phones = [await (await phone_context(browser)).new_page() for _ in range(2)]
    await login(console, s.console_url)
    await projector.goto(s.projector_url)
    await podium.goto(s.podium_url)
    for phone, inv in zip(phones, (inv1, inv2), strict=True):
        await phone.goto(inv.url)
        await expect(phone.locator(".d-name")).to_have_text(f"{inv.name} 代表")
        found = keys.read_invitation(urlsplit(inv.url).path.rsplit("/", 1)[-1])
        assert found is not None
        await staff_check_in(console, s.base, mid, found[0])
        await expect(phone.locator("#d-me .d-status")).to_contain_text("已签到")
    for deputy_id in range(17, 49):  # the quorum (32 of 48): no vote opens without it
        await staff_check_in(console, s.base, mid, deputy_id)
    await connected(console, projector, podium, *phones)
    screens = {
        "console": console,
        "projector": projector,
        "podium": podium,
        "phone1": phones[0],
        "phone2": phones[1],
    }

    # -- a report rated on the phones, with the same rules as an answer --------------------
    report = console.locator("#c-agenda li", has_text=REPORT)
    await report.get_by_role("button", name="进入").click()
    await report.get_by_role("button", name="对本项测评").click()
    await expect(projector.locator("#stage .p-qtitle")).to_have_text(REPORT)
    await expect(podium.locator("#po-speaker .po-who")).to_have_text(REPORT)
    for phone, choice in zip(phones, ("满意", "基本满意"), strict=True):
        await expect(phone.locator("#d-session .d-qtitle")).to_have_text(REPORT)
        await phone.get_by_role("button", name=choice, exact=True).tap()
        await expect(phone.locator("#d-receipt")).to_have_text("已记录 ✓")
    await expect(console.locator("#c-tally #c-cast")).to_have_text("2")
    await shots.take("report-rating", screens)
    await console.locator("#c-tally").get_by_role("button", name="结束测评并公布").click()
    await expect(projector.locator("#stage .p-grade")).to_contain_text("测评结果")
    await expect(report.get_by_role("button", name="已测评")).to_be_disabled()
    await shots.take("report-result", {"projector": projector, "console": console})

    # -- the chair opens a secret vote ---------------------------------------------------
    await console.get_by_text("发起新的表决").click()
    form = console.locator(".c-vote-new form")
    await form.get_by_label("表决事项").fill(TITLE)
    # The live-tally box means something only for a named vote: greyed for a secret one.
    live_box = form.locator(".c-live-tick")
    assert await live_box.evaluate("e => getComputedStyle(e).pointerEvents") == "none"
    await form.get_by_role("button", name="开始表决").click()
    await expect(projector.locator("#stage .p-qtitle")).to_have_text(TITLE)
    await expect(projector.locator("#p-vote .p-rating-open")).to_have_text("表决进行中，请在手机上按键表决")
    await expect(projector.locator("#p-vote .p-rating-count")).to_contain_text("已投 0 人")
    await expect(console.locator("#c-vote h2")).to_have_text(f"表决：{TITLE}")
    for phone in phones:  # the ballot's subject heads the phone, above the ballot
        await expect(phone.locator("#d-session .d-qtitle")).to_have_text(TITLE)
        await expect(phone.locator("#d-me .d-vote .choice")).to_have_count(3)
    await shots.take("vote-open", screens)

    await vote_on(phones[0], "赞成")
    await vote_on(phones[1], "反对")
    await expect(console.locator("#c-vote-cast")).to_have_text("2")
    await expect(projector.locator("#p-vote .p-rating-count")).to_contain_text("已投 2 人")
    # A secret vote: how many, never how, on any screen while it is open.
    await expect(console.locator("#c-vote td[data-vote]")).to_have_count(0)
    await expect(projector.locator("#p-vote .vfig")).to_have_count(0)
    await shots.take("voted", screens)

    # -- close, announce ---------------------------------------------------------------
    await console.get_by_role("button", name="结束表决").click()
    await expect(console.locator('#c-vote td[data-vote="for"]')).to_have_text("1")
    await expect(console.locator('#c-vote td[data-vote="against"]')).to_have_text("1")
    await expect(projector.locator("#p-vote")).to_contain_text("表决结束，等待主持人宣布结果")
    await console.get_by_role("button", name="宣布结果").click()
    verdict = projector.locator("#p-vote .p-verdict")
    await expect(verdict).to_have_text("未通过")
    color = await verdict.evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(255, 138, 128)", f"a failed vote is not shown in red: {color}"
    line = projector.locator("#p-vote .p-vote-line")
    await expect(line).to_have_text(re.compile(r"^赞成 1 票，反对 1 票，弃权 0 票，未按 \d+ 票，未通过$"))
    await expect(console.locator("#c-vote-verdict")).to_contain_text("（已宣布）")
    for phone in phones:
        await expect(phone.locator("#d-me .choice")).to_have_count(0)
    await shots.take("announced", screens)

    # -- a second round beside the first ----------------------------------------------
    await console.get_by_role("button", name="重新表决（新一轮）").click()
    await expect(console.locator("#c-vote h2")).to_have_text(f"表决：{TITLE}（第 2 轮）")
    for phone in phones:
        await vote_on(phone, "赞成")
    await console.get_by_role("button", name="结束表决").click()
    await console.get_by_role("button", name="宣布结果").click()
    rounds = projector.locator("#p-vote .p-vote-round")
    await expect(rounds).to_have_count(2)
    await expect(rounds.nth(0)).to_contain_text("第 1 轮")
    await expect(rounds.nth(1)).to_contain_text("第 2 轮")
    await expect(rounds.nth(0).locator(".vfig.vote-for .fig-num")).to_have_text("1")
    await expect(rounds.nth(1).locator(".vfig.vote-for .fig-num")).to_have_text("2")
    await expect(console.locator(".c-rounds li")).to_have_count(2)
    await expect(projector.locator("#p-vote")).to_be_visible()  # not mid-swap: then it has no box
    box = await projector.locator("#p-vote").bounding_box()
    assert box and box["y"] + box["height"] <= 1080 and box["x"] + box["width"] <= 1920, box
    await shots.take("second-round", screens)

    # -- the chair captions, blanks and restores the projector --------------------------
    await console.get_by_label("字幕").fill("请各位代表将手机调至静音")
    await console.get_by_role("button", name="显示字幕").click()
    banner = projector.locator("#p-banner")
    await expect(banner).to_have_text("请各位代表将手机调至静音")
    await expect(banner).to_be_visible()
    box = await banner.bounding_box()
    assert box and box["y"] + box["height"] <= 1081 and box["height"] >= 60, box
    await expect(console.locator("#c-banner-now")).to_have_text("请各位代表将手机调至静音")
    await shots.take("banner", {"projector": projector, "console": console})
    await console.locator("#c-projector").get_by_role("button", name="黑屏").click()
    await expect(projector.locator("#p-mode")).to_have_class(re.compile(r"\bmode-blank\b"))
    cover = await projector.locator("#p-mode").bounding_box()
    assert cover and cover["width"] >= 1920 and cover["height"] >= 1080, cover
    await expect(console.locator("#c-projector h2")).to_have_text("投影屏：已黑屏")
    await shots.take("blank", {"projector": projector})
    await console.locator("#c-projector").get_by_role("button", name="恢复显示").click()
    await expect(projector.locator("#p-mode")).to_have_class(re.compile(r"\bmode-normal\b"))
    await console.get_by_role("button", name="撤下字幕").click()
    await expect(banner).to_be_hidden()

    # -- the public page shows the announced results, on a phone ---------------------------
    viewer = await (await phone_context(browser)).new_page()
    await viewer.goto(f"{s.base}/m/{mid}/live")
    await connected(viewer)
    await expect(viewer.locator("#pu-results")).to_contain_text(f"表决：{TITLE}（第 2 轮）")
    await expect(viewer.locator("#hall-qr")).to_have_count(0)
    await shots.take("public", {"public": viewer})

    # -- a follow-up asked for from a phone and granted by the chair -------------------------
    inquiry = console.locator("#c-agenda li", has_text="人大代表问政会")
    await inquiry.get_by_role("button", name="进入").click()
    await expect(inquiry).to_contain_text("当前")
    question = console.locator("#c-questions li", has_text=Q6_TITLE)
    await question.get_by_role("button", name=re.compile("^开始")).click()
    await console.get_by_role("button", name=re.compile("^开始答复")).click()
    await expect(phones[0].get_by_role("button", name="申请追问")).to_be_visible()
    # Phone 1 types a subject; phone 2 asks first, which redraws phone 1's panel: what
    # phone 1 typed must survive the redraw.
    await phones[0].get_by_label("申请追问（主题可不填）").fill("养老服务资金")
    await phones[1].get_by_role("button", name="申请追问").tap()
    await expect(phones[1].locator("#d-me .d-place")).to_have_text("1")
    await expect(console.locator("#c-floor h2")).to_have_text("发言排队（1 人）")
    await expect(phones[0].get_by_label("申请追问（主题可不填）")).to_have_value("养老服务资金")
    box = await phones[0].get_by_role("button", name="申请追问").bounding_box()
    assert box and box["height"] >= 60 and box["width"] >= 300, box
    await phones[0].get_by_role("button", name="申请追问").tap()
    await expect(phones[0].locator("#d-me .d-place")).to_have_text("2")
    await expect(console.locator("#c-floor")).to_contain_text("养老服务资金")
    await shots.take("floor-queue", {"console": console, "phone1": phones[0], "phone2": phones[1]})

    # The chair takes phone 1 first (moves it up), then grants the floor.
    row = console.locator("#c-floor li", has_text=inv1.name)
    await row.get_by_role("button", name="上移").click()
    await expect(phones[0].locator("#d-me .d-place")).to_have_text("1")
    await expect(phones[1].locator("#d-me .d-place")).to_have_text("2")
    # The console says what granting a follow-up does before the chair grants it.
    await expect(console.locator("#c-floor li", has_text=inv1.name)).to_contain_text("准许后将进入追问环节")
    await console.locator("#c-floor li", has_text=inv1.name).get_by_role("button", name="准许追问").click()
    await expect(projector.locator("#stage .p-people")).to_contain_text(f"追问{inv1.name}")
    await expect(podium.locator("#po-speaker .po-who")).to_contain_text(inv1.name)
    await expect(podium.locator("#po-speaker .po-phase")).to_have_text("追问")
    await expect(console.locator("#c-floor h2")).to_have_text("发言排队（1 人）")
    await expect(phones[0].locator("#d-me .d-place")).to_have_count(0)
    await shots.take("follow-up-granted", screens)
    # Phone 2 withdraws.
    await phones[1].get_by_role("button", name="撤回申请").tap()
    await expect(console.locator("#c-floor h2")).to_have_text("发言排队（0 人）")
