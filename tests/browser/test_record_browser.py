"""The demo's meeting already held, in real Chromium, right after `wenzheng serve --demo`
(issue 19; server/office/held_demo.py holds it through the action path).

Staff (1366×768) follow the links the command prints: the results page (会议结果), whose
charts load, and the proceedings (会议记录); they download the proceedings DOCX, the
minutes draft and the results XLSX, which open with python-docx and openpyxl and carry the
held meeting's figures (each vote round's and each rating's counts, read from the
meeting's record in the server's own database). A deputy (card 1007, bound by the
invitation link the command prints) opens 我的履职 on a 390×844 phone and finds the held
meeting attended. The public results page, on a 360×640 phone with no login, shows the
rating results and no card or phone number. Screenshots: test-artifacts/browser/
the_held_meeting_is_there_after_serve_demo-*.png.
"""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, expect

from server.office import held_demo
from server.record.facts import MeetingRecord
from server.record.load import meeting_record
from server.storage.db import create_engine, snapshot_read
from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_followup_loop_browser import no_sideways_scroll
from tests.browser.test_live_session import desk_context, login, phone_context

pytestmark = pytest.mark.browser


def held_id(stdout: str) -> int:
    found = re.search(r"会议记录\s+http\S+/m/(\d+)/record", stdout)
    assert found, f"serve --demo printed no link to the held meeting's record:\n{stdout}"
    for path in ("results", "live/results"):
        assert f"/m/{found.group(1)}/{path}" in stdout, path
    return int(found.group(1))


def not_built(s: DemoServer, meeting_id: int) -> list[str]:
    """The contract's pages this branch does not serve (404 before any login: a built
    staff page sends to the login, a built public page answers)."""
    paths = [
        f"/m/{meeting_id}/{p}"
        for p in ("results", "results.xlsx", "record", "record.docx", "minutes.docx", "live/results")
    ] + [f"/d/{s.meeting_id}/duty"]
    missing = []
    for path in paths:
        try:
            with urllib.request.urlopen(s.base + path, timeout=10):
                pass
        except urllib.error.HTTPError as answer:
            if answer.code == 404:
                missing.append(path)
    return missing


async def record_of(s: DemoServer, meeting_id: int) -> MeetingRecord:
    engine = create_engine(f"sqlite+aiosqlite:///{s.data_dir / 'wenzheng.db'}")
    try:
        async with snapshot_read(engine) as conn:
            return await meeting_record(conn, meeting_id)
    finally:
        await engine.dispose()


async def download(page: Page, link: str) -> bytes:
    """Click the page's link whose address ends with ``link``; the file it downloads."""
    async with page.expect_download() as info:
        await page.locator(f"a[href$='{link}']").first.click()
    path = await (await info.value).path()
    return Path(path).read_bytes()


async def charts_load(page: Page) -> int:
    """How many chart images the page has; each must have loaded (naturalWidth > 0)."""
    images = page.locator("img[src*='/charts/']")
    n = await images.count()
    for i in range(n):
        img = images.nth(i)
        await img.scroll_into_view_if_needed()
        await expect(img).to_be_visible()
        await page.wait_for_function("img => img.complete", arg=await img.element_handle())
        width = await img.evaluate("img => img.naturalWidth")
        assert width > 0, f"chart {await img.get_attribute('src')} did not load"
    return n


def docx_text(body: bytes) -> str:
    doc = Document(io.BytesIO(body))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += ["\t".join(c.text for c in row.cells) for row in table.rows]
    return "\n".join(parts)


def xlsx_rows(body: bytes) -> list[list[str]]:
    book = load_workbook(io.BytesIO(body), read_only=True)
    return [
        ["" if v is None else str(v) for v in row]
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]


def has_row_with(rows: list[list[str]], *numbers: int) -> bool:
    """A row holding each of the numbers as a cell (a count, not part of another figure)."""
    wanted = [str(n) for n in numbers]
    return any(all(w in row for w in wanted) for row in rows)


async def test_the_held_meeting_is_there_after_serve_demo(
    browser: Browser, own_demo_server: DemoServer, shots: Shots
) -> None:
    s = own_demo_server
    past = held_id(s.stdout)
    missing = not_built(s, past)
    if missing:
        pytest.fail("pages of the record are missing: " + ", ".join(missing))
    record = await record_of(s, past)
    assert record.closed_ms is not None, "the demo's past meeting was not held"
    asked = [q for q in record.questions if q.rating is not None]
    assert len(asked) == 3 and len(record.votes) == 3

    # --- Staff: 会议结果, its charts, the XLSX --------------------------------------------
    desk_ctx = await desk_context(browser, 1366, 768)
    desk = await desk_ctx.new_page()
    await login(desk, f"{s.base}/m/{past}/results")
    for q in asked:
        await expect(desk.locator("body")).to_contain_text(q.question.title)
    await expect(desk.locator("body")).to_contain_text(held_demo.REPORTING_GROUP)
    assert await charts_load(desk) >= 2, "the results page shows no charts"
    await shots.take("results", {"desk-1366": desk})
    rows = xlsx_rows(await download(desk, "results.xlsx"))
    for v in record.votes:
        assert v.result is not None
        r = v.result
        assert has_row_with(rows, r.for_votes, r.against, r.abstain), f"vote round {v.round_no}: {r}"
    for q in asked:
        assert q.rating is not None
        counts = [n for _, n in q.rating.counts]
        assert has_row_with(rows, *counts), f"{q.question.title}: {counts}"

    # --- Staff: 会议记录, the proceedings DOCX and the minutes draft -----------------------
    await desk.goto(f"{s.base}/m/{past}/record")
    page = desk.locator("body")
    await expect(page).to_contain_text(held_demo.CHAIR)
    await expect(page).to_contain_text(held_demo.NOTE[:20])
    await shots.take("record", {"desk-1366": desk})
    proceedings = docx_text(await download(desk, "record.docx"))
    assert held_demo.CHAIR in proceedings and record.setup.title in proceedings
    for q in record.questions:
        assert q.question.title in proceedings
    assert str(record.expected) in proceedings
    minutes = docx_text(await download(desk, "minutes.docx"))
    assert "纪要" in minutes and record.setup.title in minutes
    passed = [v for v in record.votes if v.result is not None and v.result.passed and v.title]
    assert any(v.title in minutes for v in passed), "the minutes name no decision the meeting passed"

    # --- Staff: the body's attendance page, its chart under the grid ----------------------
    await desk.goto(f"{s.base}/meetings/{past}/edit")
    body_href = await desk.locator("a[href^='/bodies/']").first.get_attribute("href")
    assert body_href is not None
    body_id = re.match(r"/bodies/(\d+)", body_href)
    assert body_id is not None
    await desk.goto(f"{s.base}/bodies/{body_id.group(1)}/attendance")
    await expect(desk.locator("#at-chart")).to_be_visible()
    assert await charts_load(desk) == 1, "the attendance page shows no chart"
    await shots.take("attendance", {"desk-1366": desk})

    # --- A deputy (card 1007): 我的履职 on the phone -----------------------------------------
    deputy = next(i for i in s.invitations if i.card_no == "1007")
    phone_ctx = await phone_context(browser, 390, 844)
    phone = await phone_ctx.new_page()
    await phone.goto(deputy.url)
    await expect(phone).to_have_url(re.compile(rf"/d/{s.meeting_id}$"))
    await phone.get_by_role("link", name="我的履职").click()
    await expect(phone).to_have_url(re.compile(rf"/d/{s.meeting_id}/duty$"))
    held_row = phone.locator("li, tr, section, article", has_text="第二次会议").last
    await expect(held_row).to_contain_text(re.compile("出席|到会|签到|实到"))
    await no_sideways_scroll(phone, 390)
    await shots.take("duty-phone", {"phone-390": phone})

    # --- The public results, on a small phone, no login -------------------------------------
    public_ctx = await phone_context(browser, 360, 640)
    public = await public_ctx.new_page()
    await public.goto(f"{s.base}/m/{past}/live/results")
    body = public.locator("body")
    for q in asked:
        assert q.rating is not None
        await expect(body).to_contain_text(q.question.title)
        for _, n in q.rating.counts:
            await expect(body).to_contain_text(str(n))
    await expect(body).to_contain_text("满意")
    text = await body.inner_text()
    assert not re.search(r"(?<!\d)10[0-4]\d(?!\d)", text), "a card number on the public page"
    assert "1380000" not in text
    await no_sideways_scroll(public, 360)
    await shots.take("public-results", {"phone-360": public})
