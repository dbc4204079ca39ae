"""Who reports on an agenda item, in real Chromium: staff name the chair and the reporters
on the meeting's edit page at 1366x768 (a member of this body for the first report item, a
deputy of the higher congress for the second); the chair makes the first item current and
opens its rating; the projectors at 1280x720 and 1920x1080, the console and the phones at
390x844 and 360x640 say "述职人" with the name, and nothing falls off a screen.
Screenshots of every step go to test-artifacts/browser/.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser import screen_checks as sc
from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_screen_sizes import act, login

pytestmark = pytest.mark.browser

HIGHER = ("李秀英", "清溪县人民代表大会")


async def test_the_hall_says_who_reports(own_demo_server: DemoServer, browser: Browser, shots: Shots) -> None:
    s = own_demo_server
    mid = s.meeting_id
    desk = await (await sc.context(browser, *sc.CONSOLE)).new_page()
    await login(desk, f"{s.base}/meetings/{mid}/edit")
    await desk.locator("#m-chair").get_by_label("主持人").fill("镇人大主席 王建国")
    await desk.locator("#m-chair").get_by_role("button", name="保存主持人").click()
    await expect(desk).to_have_url(re.compile(r"saved=chair"))

    first = desk.locator(".m-reporter").nth(0)
    await first.locator("summary").click()  # folded away on a mid-year session's page
    select = first.get_by_label("第 1 项议程的述职人")
    member = (await select.locator("option[value^='member:']").nth(4).text_content()) or ""
    await select.select_option(label=member)
    await first.get_by_role("button", name="保存述职人").click()
    await expect(desk).to_have_url(re.compile(r"saved=agenda"))
    await expect(desk.locator(".m-reporter").nth(0).locator("summary")).to_contain_text(member)

    second = desk.locator(".m-reporter").nth(1)
    await second.locator("summary").click()
    await second.get_by_label("第 2 项议程的述职人").select_option(value="higher")
    await second.get_by_label("上级人大代表姓名").fill(HIGHER[0])
    await second.get_by_label("上级人大代表所属人大").fill(HIGHER[1])
    await second.get_by_role("button", name="保存述职人").click()
    await expect(desk.locator(".m-reporter").nth(1).locator("summary")).to_contain_text(
        f"{HIGHER[0]}（{HIGHER[1]}代表）"
    )
    await shots.take("edit", {"desk-1366x768": desk})
    await desk.locator("#m-agenda").screenshot(path=str(shots.folder / f"{shots.prefix}-01-edit-agenda.png"))
    # A refusal: the name of a higher deputy left out.
    third = desk.locator(".m-reporter").nth(2)
    await third.locator("summary").click()
    await third.get_by_label("第 3 项议程的述职人").select_option(value="higher")
    await third.get_by_role("button", name="保存述职人").click()
    await expect(desk.locator(".m-reporter .r-field-error")).to_have_text("请填写上级人大代表的姓名。")
    await shots.take("refused", {"desk-1366x768": desk})

    console = await (await sc.context(browser, *sc.CONSOLE)).new_page()
    await login(console, s.console_url)
    projectors: dict[str, Page] = {}
    for w, h in sc.PROJECTORS[:2]:
        page = await (await sc.context(browser, w, h)).new_page()
        await page.goto(s.projector_url)
        projectors[f"projector-{w}x{h}"] = page
    phones: dict[str, Page] = {}
    for i, (w, h) in enumerate(((390, 844), (360, 640))):
        inv = s.invitations[i]
        phone = await (await sc.context(browser, w, h, phone=True)).new_page()
        await phone.goto(inv.url)
        await expect(phone.locator(".d-name")).to_contain_text(inv.name)
        phones[f"phone-{w}x{h}"] = phone
    public = await (await sc.context(browser, 390, 844, phone=True)).new_page()
    await public.goto(f"{s.base}/m/{mid}/live")

    await act(console, mid, cmd="open_checkin")
    for deputy_id in range(1, 41):
        await act(console, mid, cmd="check_in", deputy_id=str(deputy_id))
    await act(console, mid, cmd="close_checkin")
    item = console.locator("#c-agenda li").nth(0)
    await expect(item).to_contain_text(f"述职人：{member}")
    await item.get_by_role("button", name="进入").click()
    await expect(console.locator("#c-item-reporter")).to_contain_text(member)
    problems: list[str] = []
    for name, page in projectors.items():
        await expect(page.locator(".p-agenda li.current .p-agenda-reporter")).to_have_text(
            f"述职人：{member}"
        )
        problems += await sc.fit_problems(page, f"current {name}", ".p-header")
    for phone in phones.values():
        await expect(phone.locator("#d-reporter")).to_be_visible()
        await expect(phone.locator("#d-reporter")).to_have_text(f"述职人：{member}")
    await expect(public.locator("#pu-reporter")).to_have_text(f"述职人：{member}")
    await shots.take(
        "current", {**projectors, **phones, "public-390x844": public, "console-1366x768": console}
    )

    await item.get_by_role("button", name="对本项测评").click()
    for name, page in projectors.items():
        await expect(page.locator("#p-reporter")).to_contain_text(member)
        problems += await sc.fit_problems(page, f"rating {name}", ".p-header")
    for name, phone in phones.items():
        await expect(phone.locator("#d-me .choice")).to_have_count(3)
        await expect(phone.locator(".d-qnum")).to_have_text("满意度测评 · 述职评议")
        # Above the ballot only the prompt names the reporter (the title's people are
        # hidden to keep the three buttons on the first screen).
        await expect(phone.locator("#d-me")).to_contain_text(f"请对{member}的述职进行评价")
        problems += await sc.above_fold_problems(phone, "#d-me .choice", f"rating {name}")
        problems += await sc.phone_problems(phone, f"rating {name}")
    await expect(console.locator("#c-tally-reporter")).to_contain_text(member)
    await shots.take("rating", {**projectors, **phones, "console-1366x768": console})

    await phones["phone-390x844"].locator("#d-me .choice-satisfied").click()
    await act(console, mid, cmd="close_rating")
    for name, page in projectors.items():
        await expect(page.locator("#stage .p-grade")).to_be_visible()
        await expect(page.locator("#p-reporter")).to_contain_text(member)
        problems += await sc.fit_problems(page, f"result {name}", ".p-header")
    await shots.take("result", {**projectors})

    # A 述职评议 meeting's page: every item's choice open, what it is for said above them.
    await desk.goto(f"{s.base}/meetings/new?kind=duty_report")
    await desk.get_by_role("button", name="创建会议").click()
    await expect(desk).to_have_url(re.compile(r"saved=created"))
    await expect(desk.locator("#m-duty-hint")).to_be_visible()
    await expect(desk.locator(".m-reporter[open]")).to_have_count(4)
    await desk.locator("#m-agenda").screenshot(path=str(shots.folder / f"{shots.prefix}-06-duty-agenda.png"))
    assert not problems, "\n".join(problems)
