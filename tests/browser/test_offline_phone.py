"""Two phones lose the hall's Wi-Fi for a minute while the session moves to the next
question, in real Chromium, through a TCP proxy that really drops their connections
(tests/netfault.py).

Phone A is cut off, then taps 满意: nothing leaves the phone, and it says "未记录，请重试"
at once. Phone B's Wi-Fi dies just after it taps 基本满意: the ballot reaches the server,
the receipt never comes back, and B says "未记录，请重试" too. The chair closes the rating
and moves on to question 2 and its rating. After 60 s both come back: within a few
seconds each shows the current state (the same as a fresh page load in the same
browser: question 2 open for rating), A's lost ballot is not counted, and B's counts
exactly once. Both then rate question 2 and get their receipts.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import DemoServer, Shots
from tests.browser.test_live_session import connected, desk_context, login, phone_context
from tests.conftest import figures, state_from_db, tally_of
from tests.netfault import fault_proxy

pytestmark = pytest.mark.browser

OFFLINE_S = float(os.environ.get("WENZHENG_OFFLINE_S", "60"))
BACK_WITHIN_S = 8.0  # reconnect delays are capped at 5 s (server/web/static/live.js)
NOT_RECORDED = "未记录，请重试"
SNAPSHOT = """() => {
  const text = id => { const e = document.getElementById(id); return e ? e.innerText.trim() : null; };
  const t = document.getElementById("timer");
  return {
    session: text("d-session"), me: text("d-me"),
    timer: t ? [t.dataset.running, t.dataset.deadline, t.dataset.remaining] : null,
    choices: Array.from(document.querySelectorAll("#d-me .choice")).map(b => b.textContent.trim()),
    question: (document.querySelector("#d-me input[name=question_id]") || {}).value || null,
  };
}"""


async def act(console: Page, base: str, meeting_id: int, cmd: str, **fields: Any) -> None:
    """A chair command through the console's own session (its CSRF token)."""
    headers = await console.locator("body").get_attribute("hx-headers")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', headers or "")
    assert token
    reply = await console.request.post(
        f"{base}/m/{meeting_id}/act",
        form={"cmd": cmd, **{k: str(v) for k, v in fields.items()}},
        headers={"X-CSRF-Token": token.group(1)},
    )
    assert reply.status == 200, (cmd, await reply.text())


async def receipts(console: Page, base: str, meeting_id: int) -> int:
    """Ballots cast on the current rating, as the console's tally shows them."""
    page = await console.request.get(f"{base}/m/{meeting_id}/console")
    return tally_of(await page.text()).get("cast", 0)


def through(proxy_base: str, url: str) -> str:
    parts = urlsplit(url)
    return f"{proxy_base}{parts.path}" + (f"?{parts.query}" if parts.query else "")


async def test_phones_offline_for_a_minute_across_a_question_change(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    mid = s.meeting_id
    inv_a, inv_b = s.invitations[0], s.invitations[1]
    console = await (await desk_context(browser, 1440, 900)).new_page()
    await login(console, s.console_url)
    with fault_proxy(s.port) as wifi_a, fault_proxy(s.port) as wifi_b:
        ctx_a, ctx_b = await phone_context(browser), await phone_context(browser)
        phone_a, phone_b = await ctx_a.new_page(), await ctx_b.new_page()
        for phone, inv, wifi in ((phone_a, inv_a, wifi_a), (phone_b, inv_b, wifi_b)):
            await phone.goto(through(wifi.base, inv.url))
            await expect(phone.locator(".d-name")).to_have_text(f"{inv.name} 代表")
        await act(console, s.base, mid, "open_checkin")
        for d in (1, 2):
            await act(console, s.base, mid, "check_in", deputy_id=d)
        await act(console, s.base, mid, "close_checkin")
        await act(console, s.base, mid, "call_question", question_id=1)
        await act(console, s.base, mid, "to_answering")
        await act(console, s.base, mid, "open_rating", without_quorum="1")  # 2 of 48 present
        for phone in (phone_a, phone_b):
            await connected(phone)
            await expect(phone.locator("#d-me .choice")).to_have_count(3)
        await shots.take("online", {"phone-a": phone_a, "phone-b": phone_b})

        # A is off the network, then taps: the phone says at once that nothing was recorded.
        wifi_a.cut()
        offline_at = time.monotonic()
        await expect(phone_a.locator(".conn").first).to_have_class(re.compile(r"\bconn-lost\b"))
        await phone_a.get_by_role("button", name="满意", exact=True).tap()
        await expect(phone_a.locator("#d-me .notice.error")).to_have_text(NOT_RECORDED)
        # B taps, and its Wi-Fi dies before the receipt comes back: the ballot lands.
        wifi_b.drop_replies()
        await phone_b.get_by_role("button", name="基本满意", exact=True).tap()
        await expect(phone_b.locator("#d-me .notice.error")).to_have_text(NOT_RECORDED, timeout=15000)
        wifi_b.cut()
        await expect(phone_b.locator("#d-receipt")).to_have_count(0)
        assert await receipts(console, s.base, mid) == 1, "B's ballot reached the server, A's did not"
        await shots.take("offline-not-recorded", {"phone-a": phone_a, "phone-b": phone_b})

        # The session moves on while they are away.
        await act(console, s.base, mid, "close_rating")
        await act(console, s.base, mid, "call_question", question_id=2)
        await act(console, s.base, mid, "to_answering")
        await act(console, s.base, mid, "open_rating", without_quorum="1")  # 2 of 48 present
        await asyncio.sleep(max(0.0, OFFLINE_S - (time.monotonic() - offline_at)))
        assert await phone_a.locator("#d-me input[name=question_id]").first.get_attribute("value") == "1"

        wifi_a.restore()
        wifi_b.restore()
        back_at = time.monotonic()
        for phone in (phone_a, phone_b):
            await expect(phone.locator(".conn").first).to_have_class(
                re.compile(r"\bconn-ok\b"), timeout=BACK_WITHIN_S * 1000
            )
            await expect(phone.locator("#d-me input[name=question_id]").first).to_have_value(
                "2", timeout=BACK_WITHIN_S * 1000
            )
        back_in = time.monotonic() - back_at
        assert back_in <= BACK_WITHIN_S, f"the phones showed the truth only {back_in:.1f} s after returning"
        await shots.take("back", {"phone-a": phone_a, "phone-b": phone_b})

        # What each shows is what a fresh page load in the same browser shows.
        for phone, ctx, wifi in ((phone_a, ctx_a, wifi_a), (phone_b, ctx_b, wifi_b)):
            fresh = await ctx.new_page()
            await fresh.goto(f"{wifi.base}/d/{mid}")
            await connected(fresh)
            returned, loaded = await phone.evaluate(SNAPSHOT), await fresh.evaluate(SNAPSHOT)
            assert returned == loaded, f"after coming back: {returned}\nfresh page: {loaded}"
            assert returned["choices"] == ["满意", "基本满意", "不满意"] and returned["question"] == "2"
            await fresh.close()

        # Both rate question 2, and get their receipts.
        for phone, choice in ((phone_a, "满意"), (phone_b, "不满意")):
            await phone.get_by_role("button", name=choice, exact=True).tap()
            await expect(phone.locator("#d-receipt")).to_have_text("已记录 ✓")
        assert await receipts(console, s.base, mid) == 2
        await shots.take("rated-again", {"phone-a": phone_a, "phone-b": phone_b})
    q1 = await closed_counts(s, mid, 1)
    assert q1 == {"satisfied": 0, "basic": 1, "dissatisfied": 0}, q1
    figures(
        "phone-offline",
        offline_s=OFFLINE_S,
        back_in_s=round(back_in, 1),
        limit_s=BACK_WITHIN_S,
        ballot_sent_while_cut_counted=q1["satisfied"],
        ballot_whose_reply_was_lost_counted=q1["basic"],
    )


async def closed_counts(s: DemoServer, meeting_id: int, question_id: int) -> dict[str, int]:
    """The closed rating's counts, read from the server's database."""
    state = await state_from_db(f"sqlite+aiosqlite:///{s.data_dir / 'wenzheng.db'}", meeting_id)
    result = state.ratings[question_id].result
    assert result is not None
    return {c.value: n for c, n in result.counts}
