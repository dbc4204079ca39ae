"""The next session hears a progress report and rates it, in real Chromium.

A progress report of the demo body is saved (as its generation leaves it); staff add the
agenda item that takes it on the meeting's edit page at 1366x768, through the form; the
chair makes it current from the console: the projectors at 1280x720 and 1920x1080 show
its figures large and whole (nothing off the screen, every figure's label on one line,
each number big enough to read from the back of the hall); the rating opens and the
phone at 390x844 has the three choice buttons on its first screen with the figures above
them; a deputy rates, the chair closes, the projectors show the result with the figures.
Screenshots of every step go to test-artifacts/browser/.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import insert, select

from server.storage import models as m
from tests.browser import screen_checks as sc
from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_screen_sizes import act, login
from tests.conftest import plain_engine

pytestmark = pytest.mark.browser

TITLE = "关于清溪镇第十七届人民代表大会第二次会议代表问政所提问题推进落实情况的报告"
COUNTS = {
    "total": 12,
    "closed": 5,
    "open": 7,
    "overdue": 2,
    "class_a": 4,
    "class_b": 3,
    "class_c": 1,
    "redo": 1,
    "objected": 2,
}
ITEM = TITLE
MIN_NUMBER_PX = 64  # a figure's digits on a 1280x720 projector, at the least


async def _save_report(server: DemoServer) -> None:
    engine = plain_engine(f"sqlite+aiosqlite:///{server.data_dir / 'wenzheng.db'}")
    async with engine.begin() as conn:
        body = (
            await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == server.meeting_id))
        ).scalar_one()
        await conn.execute(
            insert(m.followup_reports).values(
                body_id=body,
                title=TITLE,
                overview="",
                counts=json.dumps(COUNTS),
                made_by="staff:chair",
                made_at_ms=int(time.time() * 1000),
            )
        )
    await engine.dispose()


async def _projector_problems(page: Page, where: str) -> list[str]:
    problems = await sc.fit_problems(page, where, ".p-header")
    labels = ".p-report-fig .p-report-label, .p-report-name, .p-report-note, .p-body"
    problems += await sc.one_line_problems(page, labels, where)
    # As drawn on the screen, after the projector's zoom (app.css: 1920x1080 scaled to fit).
    sizes: list[float] = await page.evaluate(
        "() => [...document.querySelectorAll('.p-report-num')].map(e => e.getBoundingClientRect().height)"
    )
    small = [s for s in sizes if s < MIN_NUMBER_PX]
    if small:
        problems.append(f"{where}: figures drawn {small} px high (want {MIN_NUMBER_PX})")
    return problems


async def test_the_session_hears_the_report_and_rates_it(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    mid = s.meeting_id
    await _save_report(s)

    desk = await (await sc.context(browser, *sc.CONSOLE)).new_page()
    await login(desk, f"{s.base}/meetings/{mid}/edit")
    form = desk.locator("#m-agenda-report")
    await form.get_by_label("要听取的督办进展报告").select_option(index=1)
    # The title left blank: the item takes the report's (long enough to need two lines).
    await form.get_by_role("button", name="添加听取报告的议程").click()
    await expect(desk).to_have_url(re.compile(r"saved=agenda"))
    await expect(desk.locator(".m-agenda-report")).to_contain_text("交办 12 项，已办结 5 项")
    await shots.take("edit", {"desk-1366x768": desk})
    await desk.locator("#m-agenda").screenshot(path=str(shots.folder / f"{shots.prefix}-01-edit-agenda.png"))

    console = await (await sc.context(browser, *sc.CONSOLE)).new_page()
    await login(console, s.console_url)
    projectors: dict[str, Page] = {}
    for w, h in sc.PROJECTORS[:2]:
        page = await (await sc.context(browser, w, h)).new_page()
        await page.goto(s.projector_url)
        projectors[f"projector-{w}x{h}"] = page
    inv = s.invitations[0]
    phone = await (await sc.context(browser, 390, 844, phone=True)).new_page()
    await phone.goto(inv.url)
    await expect(phone.locator(".d-name")).to_contain_text(inv.name)
    public = await (await sc.context(browser, 390, 844, phone=True)).new_page()
    await public.goto(f"{s.base}/m/{mid}/live")

    await act(console, mid, cmd="open_checkin")
    for deputy_id in range(1, 41):  # the quorum: 32 of 48
        await act(console, mid, cmd="check_in", deputy_id=str(deputy_id))
    await act(console, mid, cmd="close_checkin")
    item = console.locator("#c-agenda li", has_text=ITEM)
    await item.get_by_role("button", name="进入").click()
    await expect(item).to_contain_text("当前")
    problems: list[str] = []
    for name, page in projectors.items():
        await expect(page.locator("#p-report")).to_be_visible()
        await expect(page.locator("#p-report .fig-total .p-report-num")).to_have_text("12")
        await expect(page.locator("#p-report .fig-overdue .p-report-num")).to_have_text("2")
        await expect(page.locator("#p-report .fig-class-c .p-report-num")).to_have_text("1")
        problems += await _projector_problems(page, f"current {name}")
    await expect(phone.locator(".d-report")).to_contain_text("交办 12 项")
    await expect(public.locator("#pu-report")).to_contain_text("逾期 2 项")
    await expect(item).to_contain_text("（督办进展报告）")
    current = {**projectors, "phone-390x844": phone, "public-390x844": public, "console-1366x768": console}
    await shots.take("current", current)

    await item.get_by_role("button", name="对本项测评").click()
    await expect(phone.locator("#d-me .choice")).to_have_count(3)
    await expect(phone.locator(".d-report")).to_contain_text("交办 12 项")
    problems += await sc.above_fold_problems(phone, "#d-me .choice", "rating phone 390x844")
    problems += await sc.phone_problems(phone, "rating phone 390x844")
    for name, page in projectors.items():
        await expect(page.locator("#p-report-line")).to_contain_text("交办 12 项：已办结 5")
        problems += await sc.fit_problems(page, f"rating {name}", ".p-header")
        cut = await page.locator("#p-report-line").evaluate("e => e.scrollWidth > e.clientWidth")
        if cut:
            problems.append(f"rating {name}: the figures' line is cut short")
    await shots.take("rating", {**projectors, "phone-390x844": phone})

    await phone.locator("#d-me .choice-satisfied").click()
    await expect(phone.locator("#d-receipt")).to_be_visible()
    await act(console, mid, cmd="close_rating")
    for name, page in projectors.items():
        await expect(page.locator("#stage .p-grade")).to_be_visible()
        await expect(page.locator("#p-report-line")).to_contain_text("交办 12 项：已办结 5")
        await expect(page.locator(".bar-satisfied .bar-count")).to_have_text("1 票")
        problems += await sc.fit_problems(page, f"result {name}", ".p-header")
    await shots.take("result", {**projectors, "phone-390x844": phone})
    assert not problems, "\n".join(problems)
