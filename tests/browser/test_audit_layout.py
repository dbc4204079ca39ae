"""The audit trail at the console's real size (1366x768) in Chromium.

Issue 16: at 1366 px the 事件 column squeezed 代表签到 to one character per line. Every
event name and time stays on one line; a long summary wraps inside its own column; the
table never makes the page scroll sideways.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Browser

from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_live_session import desk_context, login

pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots/polish")

# For each row: how many lines the 时间 and 事件 cells take, and the summary cell's.
LINES = """
(sel) => [...document.querySelectorAll(sel + " tbody tr")].map((tr) => {
  const lines = (cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const boxes = [...range.getClientRects()].filter((r) => r.width > 0);
    const tops = new Set(boxes.map((r) => Math.round(r.top)));
    return tops.size;
  };
  const c = tr.cells;
  const first = sel === ".a-events" ? 1 : 0;
  return {time: lines(c[first]), name: lines(c[first + 1]), name_text: c[first + 1].textContent,
          summary: lines(c[c.length - 1]), summary_w: c[c.length - 1].getBoundingClientRect().width};
})
"""


async def test_audit_columns_at_1366(browser: Browser, demo_server: DemoServer, shots: Shots) -> None:
    s = demo_server
    context = await desk_context(browser, 1366, 768)
    page = await context.new_page()
    await login(page, s.console_url)
    headers = await page.locator("body").get_attribute("hx-headers")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', headers or "")
    assert token
    long_banner = "请各位代表将手机调至静音状态，" * 8  # a long summary: it must wrap, not widen
    for form in (
        {"cmd": "open_checkin"},
        {"cmd": "check_in", "deputy_id": "47"},
        {"cmd": "check_in", "deputy_id": "48"},
        {"cmd": "banner", "text": long_banner},
    ):
        reply = await page.request.post(
            f"{s.base}/m/{s.meeting_id}/act", form=form, headers={"X-CSRF-Token": token.group(1)}
        )
        assert reply.status in (200, 409), await reply.text()  # open_checkin: maybe already open
    await page.goto(f"{s.base}/m/{s.meeting_id}/audit")
    await shots.take("audit-1366", {"console": page})
    SHOTS.mkdir(parents=True, exist_ok=True)
    for taken in shots.taken:
        shutil.copy(taken, SHOTS / taken.name)

    rows = await page.evaluate(LINES, ".a-events")
    assert any(r["name_text"] == "代表签到" for r in rows), rows
    for r in rows:
        assert r["time"] == 1, ("the time breaks", r)
        assert r["name"] == 1, ("the event's name breaks", r)
    assert max(r["summary"] for r in rows) > 1, "the long summary should wrap in its column"
    assert min(r["summary_w"] for r in rows) >= 300, "the summary column keeps a readable width"
    prep = await page.evaluate(LINES, ".a-preparation")
    for r in prep:
        assert r["time"] == 1 and r["name"] == 1, r
    root = "document.documentElement"
    overflow = await page.evaluate(f"{root}.scrollWidth - {root}.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"
    await context.close()
