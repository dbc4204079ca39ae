"""Every hall screen at the sizes a hall really has, in every state of a session.

One demo server; the chair's console drives the meeting through its states (idle, check-in,
the attendance announcement, a question and its follow-up, a rating open and its result, a
vote open and its result, a speaker with the floor, a report's rating and its result, the
meeting closed). At each state every screen is measured in Chromium, and axe-core runs over
the console and one screen of each kind:

- projectors at 1280x720, 1920x1080 and 3840x2160: nothing runs off the screen, nothing
  overlaps the header, figure labels stay on one line, titles break only between words;
- the podium at 1920x1080 and 1280x720: nothing runs off the screen;
- phones at 360x640 and 390x844: every tap target at least 48x48 CSS px, text at least
  18 px, names on one line, the choice buttons of a rating or a vote on the first screen;
- the public page on a phone: the same rules as the deputy's phone for text and taps.

Screenshots of every screen at every size in every state go to test-artifacts/browser/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import screen_checks as sc
from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser

TITLE_PHRASES = ("人民代表大会", "（年中人代会）", "第十七届", "第三次会议")
QUESTION_PHRASES = ("农民建房", "审批慢", "手续多", "何时解决", "镇人民政府", "工作报告")
NAMES = ("王建国", "顾文涛", "方志远", "（副镇长）", "（建设管理办公室主任）", "（城东代表小组）")


async def act(console: Page, mid: int, **form: str) -> None:
    """One chair's command, as the console's buttons send it."""
    reply = await console.evaluate(
        """async ([mid, form]) => {
          const csrf = document.querySelector('input[name=csrf]').value;
          const r = await fetch(`/m/${mid}/act`, {method: 'POST',
            headers: {'x-csrf-token': csrf, 'hx-request': 'true'}, body: new URLSearchParams(form)});
          return [r.status, await r.text()];
        }""",
        [mid, form],
    )
    assert reply[0] == 200, f"{form}: {reply}"


async def login(page: Page, url: str) -> None:
    await page.goto(url)
    await page.get_by_label("用户名").fill("chair")
    await page.get_by_label("密码").fill("wenzheng-demo")
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(url)


class Hall:
    """Every screen of the hall at every size, and what was found wrong on them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.projectors: dict[str, Page] = {}
        self.podiums: dict[str, Page] = {}
        self.phones: dict[str, Page] = {}
        self.publics: dict[str, Page] = {}
        self.problems: list[str] = []
        self.console: Page | None = None

    async def shoot(self, state: str, name: str, page: Page, *, full: bool) -> None:
        await page.screenshot(path=str(self.folder / f"screens-{state}-{name}.png"), full_page=full)

    async def check(self, state: str, *, choices: str | None = None) -> None:
        await _settle(*self.projectors.values(), *self.podiums.values(), *self.phones.values())
        # axe-core on one screen of each kind in every state (test_axe.py does every page once).
        assert self.console
        for where, page in (
            ("console 1366x768", self.console),
            ("projector 1280x720", self.projectors["1280x720"]),
            ("podium 1920x1080", self.podiums["1920x1080"]),
            ("phone 360x640", self.phones["360x640"]),
            ("public 360x640", self.publics["360x640"]),
        ):
            self.problems += await sc.axe_problems(page, f"{state} {where}")
        await self.console.evaluate("window.scrollTo(0, 0)")
        await self.shoot(state, "console-1366x768", self.console, full=False)
        for where, page in (
            ("projector", self.projectors["1920x1080"]),
            ("podium", self.podiums["1920x1080"]),
            ("phone", self.phones["360x640"]),
            ("public", self.publics["360x640"]),
        ):  # the connection state is read where it matters most: WCAG AA
            self.problems += await sc.contrast_problems(page, ".conn", f"{state} {where} connection")
        for size, page in self.projectors.items():
            where = f"{state} projector {size}"
            self.problems += await sc.fit_problems(page, where, ".p-header")
            self.problems += await sc.one_line_problems(page, ".fig-label, .p-role, .p-body", where)
            self.problems += await sc.phrase_problems(page, ".p-title", TITLE_PHRASES, where)
            self.problems += await sc.phrase_problems(page, ".p-qtitle", QUESTION_PHRASES, where)
            self.problems += await sc.phrase_problems(page, ".p-people", NAMES, where)
            await self.shoot(state, f"projector-{size}", page, full=False)
        for size, page in self.podiums.items():
            where = f"{state} podium {size}"
            self.problems += await sc.fit_problems(page, where)
            await self.shoot(state, f"podium-{size}", page, full=False)
        for size, page in self.phones.items():
            where = f"{state} phone {size}"
            self.problems += await sc.phone_problems(page, where)
            self.problems += await sc.one_line_problems(page, ".d-name, .d-group", where)
            self.problems += await sc.phrase_problems(page, ".d-people", NAMES, where)
            self.problems += await sc.phrase_problems(page, ".d-qtitle", QUESTION_PHRASES, where)
            if choices:
                self.problems += await sc.above_fold_problems(page, choices, where)
            await self.shoot(state, f"phone-{size}", page, full=True)
        for size, page in self.publics.items():
            where = f"{state} public {size}"
            self.problems += await sc.phone_problems(page, where)
            self.problems += await sc.phrase_problems(page, ".pu-header h1", TITLE_PHRASES, where)
            self.problems += await sc.phrase_problems(page, ".pu-session", NAMES, where)
            await self.shoot(state, f"public-{size}", page, full=True)


async def _settle(*pages: Page) -> None:
    """Live updates swapped in: every page's socket open and nothing in flight."""
    for page in pages:
        await expect(page.locator(".conn").first).to_have_class(re.compile(r"\bconn-ok\b"))
    await pages[0].wait_for_timeout(700)


async def test_every_screen_fits_at_its_real_size(
    own_demo_server: DemoServer, browser: Browser, artifacts: Path
) -> None:
    s = own_demo_server
    mid = s.meeting_id
    hall = Hall(artifacts)
    console = await (await sc.context(browser, *sc.CONSOLE)).new_page()
    await login(console, s.console_url)
    hall.console = console
    for w, h in sc.PROJECTORS:
        page = await (await sc.context(browser, w, h)).new_page()
        await page.goto(s.projector_url)
        hall.projectors[f"{w}x{h}"] = page
    for w, h in (sc.PODIUM, (1280, 720)):
        page = await (await sc.context(browser, w, h)).new_page()
        await page.goto(s.podium_url)
        hall.podiums[f"{w}x{h}"] = page
    for (w, h), inv in zip(sc.PHONES, s.invitations, strict=False):
        page = await (await sc.context(browser, w, h, phone=True)).new_page()
        await page.goto(inv.url)
        await expect(page.locator(".d-name")).to_contain_text(inv.name)
        hall.phones[f"{w}x{h}"] = page
    for w, h in sc.PHONES:
        page = await (await sc.context(browser, w, h, phone=True)).new_page()
        await page.goto(f"{s.base}/m/{mid}/live")
        hall.publics[f"{w}x{h}"] = page

    # Tabs are told apart by the screen first, then the meeting.
    title = "清溪镇第十七届人民代表大会第三次会议（年中人代会）"
    for screen, page in (
        ("主持台", console),
        ("投影屏", hall.projectors["1920x1080"]),
        ("发言计时屏", hall.podiums["1920x1080"]),
        ("代表", hall.phones["360x640"]),
        ("会议直播", hall.publics["360x640"]),
    ):
        assert await page.title() == f"{screen} · {title}", await page.title()
    # The idle podium shows the meeting and the time of day, not --:--.
    podium = hall.podiums["1920x1080"]
    await expect(podium.locator("#po-clock")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    await expect(podium.locator("#po-clock")).to_be_visible()
    await expect(podium.locator("#timer")).to_be_hidden()
    await expect(podium.locator(".po-phase")).to_have_text(title)

    await hall.check("1-idle")
    await act(console, mid, cmd="open_checkin")
    await expect(hall.projectors["1920x1080"].locator("#hall-qr svg")).to_be_visible()
    await hall.check("2-checkin")
    for size, page in hall.projectors.items():  # the QR code as large as the stage allows
        qr = await page.locator(".p-qr-box").bounding_box()
        viewport = page.viewport_size
        assert qr and viewport and qr["height"] >= 0.8 * viewport["height"], f"{size}: QR box {qr}"
    # The hall link the projector prints under its QR code, opened on a phone not yet bound
    # (the binding form) and on a bound one (确认签到), at 360x640.
    hall_url = (await hall.projectors["1920x1080"].locator(".hall-url").inner_text()).strip()
    for where, ctx in (
        ("hall page, phone not bound", await sc.context(browser, 360, 640, phone=True)),
        ("hall page, bound phone", hall.phones["360x640"].context),
    ):
        page = await ctx.new_page()
        await page.goto(hall_url)
        hall.problems += await sc.phone_problems(page, where)
        hall.problems += await sc.axe_problems(page, where)
        hall.problems += await sc.phrase_problems(page, "main > h1", TITLE_PHRASES, where)
        hall.problems += await sc.phrase_problems(page, ".big-text", NAMES, where)
        await hall.shoot("2-checkin", f"{where.replace(' ', '-').replace(',', '')}-360x640", page, full=True)
        await page.close()
    # Two thirds and more present: the phones' deputies by hand, and most of the others.
    for deputy_id in range(1, 41):
        await act(console, mid, cmd="check_in", deputy_id=str(deputy_id))
    await hall.check("3-checkin-40")
    await act(console, mid, cmd="close_checkin")
    await act(console, mid, cmd="announce_attendance")
    await hall.check("4-attendance")

    inquiry = console.locator("#c-agenda li", has_text="人大代表问政会")
    await inquiry.get_by_role("button", name="进入").click()
    await expect(inquiry).to_contain_text("当前")
    await console.locator('#c-questions button[data-key="n"]').click()
    await expect(hall.projectors["1920x1080"].locator("#stage .p-qtitle")).to_be_visible()
    await hall.check("5-question")
    await act(console, mid, cmd="to_answering")
    await act(console, mid, cmd="followup_ask")
    await hall.check("5b-followup")
    await act(console, mid, cmd="followup_reply")
    await act(console, mid, cmd="open_rating")
    await expect(hall.phones["360x640"].locator("#d-me .choice")).to_have_count(3)
    await hall.check("6-rating-open", choices="#d-me .choice")
    await act(console, mid, cmd="close_rating")
    await expect(hall.projectors["1920x1080"].locator("#stage .p-grade")).to_be_visible()
    await hall.check("7-rating-result")

    await act(console, mid, cmd="open_vote", title="关于清溪镇2026年财政预算调整方案的决议（草案）")
    await expect(hall.phones["360x640"].locator("#d-me .choice")).to_have_count(3)
    await hall.check("8-vote-open", choices="#d-me .choice")
    await act(console, mid, cmd="close_vote")
    await act(console, mid, cmd="announce_vote")
    await hall.check("9-vote-result")

    await act(console, mid, cmd="floor_add", deputy_id="3", kind="speech", subject="养老服务资金")
    await act(console, mid, cmd="floor_grant", deputy_id="3")
    await hall.check("10-speaker")
    await act(console, mid, cmd="speech_end")

    report = console.locator("#c-agenda li", has_text="听取镇人民政府上半年工作报告")
    await report.get_by_role("button", name="进入").click()
    await expect(report).to_contain_text("当前")
    await act(console, mid, cmd="open_item_rating")
    await expect(hall.phones["360x640"].locator("#d-me .choice")).to_have_count(3)
    await hall.check("11-item-rating-open", choices="#d-me .choice")
    await act(console, mid, cmd="close_rating")
    await hall.check("12-item-rating-result")
    await act(console, mid, cmd="close_meeting")
    await hall.check("13-closed")

    # A screen not yet paired shows its pairing code at the projector's small size too.
    for w, h in sc.PROJECTORS[:2]:
        unpaired = await (await sc.context(browser, w, h)).new_page()
        await unpaired.goto(f"{s.base}/m/{mid}/projector")
        await expect(unpaired.locator("#pair-code")).to_have_text(re.compile(r"^\d{6}$"))
        assert await unpaired.locator('meta[http-equiv="refresh"]').count() == 0
        hall.problems += await sc.fit_problems(unpaired, f"pairing {w}x{h}")
        await hall.shoot("0-pairing", f"projector-{w}x{h}", unpaired, full=False)

    assert not hall.problems, "\n".join(hall.problems)
