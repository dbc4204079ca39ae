"""The results pages in Chromium at real sizes (rec-results): the staff page at 1366×768,
the public page at 360×640 and 1280×720, on a demo meeting held through the real action
path before the server starts. Screenshots go to test-artifacts/browser/rec-results-*.

Checked, besides looking: no sheet table makes the desk page scroll sideways (a wide sheet
scrolls inside its own panel), the public page never scrolls sideways on a phone, and
axe-core finds no serious or critical violation on either (the contexts bypass CSP only so
that axe can be injected, as in test_axe.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from server.base.settings import Settings, load
from tests.browser import screen_checks as sc
from tests.browser.conftest import ARTIFACTS, Started, serve
from tests.browser.test_live_session import login
from tests.conftest import install_demo
from tests.rec_results_fixtures import hold_sitting

pytestmark = pytest.mark.browser


@pytest.fixture
def held_server() -> Iterator[tuple[Started, int]]:
    """`wenzheng serve` on a data folder whose demo meeting was held and closed."""
    folder = Path(tempfile.mkdtemp(prefix="wenzheng-results-")) / "data"
    folder.mkdir()
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("WENZHENG_")}
    os.environ["WENZHENG_DATA_DIR"] = str(folder)
    try:
        settings: Settings = load()
        meeting_id = install_demo(settings.database_url)
        hold_sitting(settings, meeting_id)
    finally:
        os.environ.pop("WENZHENG_DATA_DIR")
        os.environ.update(saved)
    try:
        with serve(env={"WENZHENG_DATA_DIR": str(folder)}) as started:
            yield started, meeting_id
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


async def no_sideways_scroll(page: Page) -> None:
    wide = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert wide <= 1, f"the page scrolls sideways by {wide}px"


async def test_results_pages_at_real_sizes(browser: Browser, held_server: tuple[Started, int]) -> None:
    started, meeting_id = held_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    desk_context = await sc.context(browser, 1366, 768)
    desk = await desk_context.new_page()
    url = f"{started.base}/m/{meeting_id}/results"
    await login(desk, url)
    await expect(desk.get_by_role("heading", name="满意度测评")).to_be_visible()
    await no_sideways_scroll(desk)
    problems += await sc.axe_problems(desk, "results-staff-1366")
    await desk.screenshot(path=str(ARTIFACTS / "rec-results-staff-1366.png"), full_page=True)
    await desk.screenshot(path=str(ARTIFACTS / "rec-results-staff-1366-top.png"))
    for key in ("ratings", "votes", "named", "speaking", "reports"):
        section = desk.locator(f"#rs-{key}")
        await section.scroll_into_view_if_needed()
        await section.screenshot(path=str(ARTIFACTS / f"rec-results-staff-1366-{key}.png"))

    for width, height in ((360, 640), (1280, 720)):
        phone_context = await sc.context(browser, width, height, phone=width < 400)
        phone = await phone_context.new_page()
        await phone.goto(f"{started.base}/m/{meeting_id}/live")
        link = phone.get_by_role("link", name="查看会议结果")
        await expect(link).to_be_visible()
        await phone.screenshot(path=str(ARTIFACTS / f"rec-results-live-{width}.png"))
        await link.click()
        await expect(phone.get_by_role("heading", name="表决结果")).to_be_visible()
        await no_sideways_scroll(phone)
        problems += await sc.axe_problems(phone, f"results-public-{width}")
        await phone.screenshot(path=str(ARTIFACTS / f"rec-results-public-{width}.png"), full_page=True)
        await phone.screenshot(path=str(ARTIFACTS / f"rec-results-public-{width}-top.png"))
        for part in ("#rp-questions .rp-rated >> nth=1", "#rp-votes"):
            name = part.split()[0].lstrip("#")
            await phone.locator(part).screenshot(
                path=str(ARTIFACTS / f"rec-results-public-{width}-{name}.png")
            )
        await phone_context.close()
    await desk_context.close()
    assert not problems, "\n".join(problems)
