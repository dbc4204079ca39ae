"""No decision without a quorum, a grade that tells the truth, and the paper count of a
rating when the Wi-Fi fails (issue 16), in real Chromium.

The console at 1366x768 (the operator's laptop), the projector at 1280x720 and at
1920x1080, the public page and two deputies' phones, against a demo server of the test's
own (its attendance must start empty). With 应到 48 / 实到 3 the operator tries to open a
vote and reads why not, with the figures and where to look; a rating opened past the
warning shows counts and 仅供参考, never a red 不满意. Then the quorum is checked in, a
rating opens on the phones, the hall's Wi-Fi "fails" and the operator closes it with the
paper count: the projector shows it graded by the same rule and marked 纸质计票.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from server.base.keys import Keys
from tests.browser.conftest import ARTIFACTS, DemoServer, Shots
from tests.browser.test_live_session import connected, desk_context, login, phone_context
from tests.browser.test_vote_browser import staff_check_in

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "quorum"
INQUIRY = "人大代表问政会"


def copy_shots(shots: Shots) -> None:
    """The screenshots also go where the team looks at them."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path in shots.taken:
        shutil.copy(path, SHOTS / path.name)


async def fits(page: Page, selector: str, width: int, height: int) -> None:
    box = await page.locator(selector).bounding_box()
    assert box, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)
    assert box["y"] >= 0 and box["y"] + box["height"] <= height + 1, (selector, box)


async def test_no_vote_without_quorum_a_truthful_grade_and_a_paper_count(
    own_demo_server: DemoServer, browser: Browser, shots: Shots
) -> None:
    s = own_demo_server
    mid = s.meeting_id
    keys = Keys(s.secret)
    console = await (await desk_context(browser, 1366, 768)).new_page()
    small = await (await desk_context(browser, 1280, 720)).new_page()
    large = await (await desk_context(browser, 1920, 1080)).new_page()
    public = await (await desk_context(browser, 1280, 720)).new_page()
    phones = [await (await phone_context(browser)).new_page() for _ in range(2)]
    await login(console, s.console_url)
    await small.goto(s.projector_url)
    await large.goto(s.projector_url)
    await public.goto(f"{s.base}/m/{mid}/live")
    phone_ids = []
    for phone, inv in zip(phones, s.invitations[:2], strict=True):
        await phone.goto(inv.url)
        found = keys.read_invitation(urlsplit(inv.url).path.rsplit("/", 1)[-1])
        assert found is not None
        phone_ids.append(found[0])
        await staff_check_in(console, s.base, mid, found[0])
        await expect(phone.locator("#d-me .d-status")).to_contain_text("已签到")
    third = next(d for d in range(1, 49) if d not in phone_ids)
    await staff_check_in(console, s.base, mid, third)
    await connected(console, small, large, public, *phones)
    projectors = {"projector-1280": small, "projector-1920": large}

    # -- 应到 48 / 实到 3: the vote is refused, with the figures and where to look -----------
    await expect(console.locator("#c-vote-quorum")).to_contain_text("应到 48 人，实到 3 人，需 32 人")
    await console.get_by_text("发起新的表决").click()
    form = console.locator(".c-vote-new form")
    await form.get_by_label("表决事项").fill("关于民生实事项目的决议")
    await form.get_by_role("button", name="开始表决").click()
    flash = console.locator("#c-flash")
    await expect(flash).to_contain_text("不足法定人数，不能表决：应到 48 人，实到 3 人，需 32 人")
    await expect(flash).to_contain_text("人工签到")
    await expect(flash).to_contain_text("中途离会")
    await expect(console.locator("#c-vote")).to_contain_text("尚未表决")
    await expect(small.locator("#p-vote")).to_have_count(0)
    await shots.take("vote-refused", {"console": console, **projectors})

    # -- a rating with 3 present: a warning before the button, and no grade -----------------
    inquiry = console.locator("#c-agenda li", has_text=INQUIRY)
    await inquiry.get_by_role("button", name="进入").click()
    await expect(console.locator("#c-agenda-quorum")).to_contain_text("不能表决")
    await console.locator("#c-questions li").first.get_by_role("button", name=re.compile("^开始")).click()
    await console.get_by_role("button", name=re.compile("^开始答复")).click()
    warning = console.locator("#c-rating-quorum")
    await expect(warning).to_contain_text("不足法定人数（应到 48 人，实到 3 人，需 32 人）")
    await expect(warning).to_contain_text("结果仅供参考")
    await expect(console.get_by_role("button", name=re.compile("^开始测评"))).to_have_count(0)
    await shots.take("rating-warning", {"console": console})
    await console.get_by_role("button", name=re.compile("^仍开始测评（仅供参考）")).click()
    await expect(console.locator("#c-tally")).to_contain_text("不足法定人数时开始，结果仅供参考")
    for phone, choice in zip(phones, ("满意", "基本满意"), strict=True):
        await phone.get_by_role("button", name=choice, exact=True).tap()
        await expect(phone.locator("#d-receipt")).to_have_text("已记录 ✓")
    await expect(console.locator("#c-tally #c-cast")).to_have_text("2")
    await console.get_by_role("button", name=re.compile("^结束测评并公布")).click()
    for projector in (small, large):
        grade = projector.locator("#stage .p-grade")
        await expect(grade).to_have_text(
            "测评结果：不评定等次 以应到人数 48 为基数 不足法定人数时开始，结果仅供参考"
        )
        note = projector.locator("#stage .p-result-note")
        await expect(note).to_have_text("不足法定人数时开始，结果仅供参考")
        rule = projector.locator("#stage .p-rule")  # beside the grade, never below the fold
        await expect(rule).to_have_text("以应到人数 48 为基数")
        await expect(projector.locator("#stage .grade-dissatisfied")).to_have_count(0)
        await expect(projector.locator("#stage .bar-satisfied .bar-count")).to_have_text("1 票")
    # On screen at 1920x1080 (1280x720 is sized by another part of issue 16, CSS only).
    await fits(large, "#stage .p-rule", 1920, 1080)
    await fits(large, "#stage .p-result-note", 1920, 1080)
    # 1280x720: the projector's sizes are another part of issue 16 (CSS, helper `screens`).
    await fits(large, "#stage .p-result", 1920, 1080)
    results = public.locator("#pu-results")
    await expect(results).to_contain_text("不评定等次")
    await expect(results).to_contain_text("不足法定人数时开始，结果仅供参考")
    await expect(results.locator(".grade-dissatisfied")).to_have_count(0)
    await expect(console.locator("#c-grade")).to_contain_text("不评定等次（以应到人数 48 为基数）")
    await shots.take("rating-no-quorum", {"console": console, "public": public, **projectors})

    # -- the quorum arrives: check-in by hand, the warnings go ------------------------------
    present = {*phone_ids, third}
    for d in range(1, 49):
        if len(present) >= 32:  # two thirds of 48
            break
        if d not in present:
            await staff_check_in(console, s.base, mid, d)
            present.add(d)
    await expect(console.locator("#c-vote-quorum")).to_have_count(0)
    await expect(console.locator("#c-agenda-quorum")).to_have_count(0)

    # -- an electronic rating the hall cannot finish, closed with the paper count ------------
    second = console.locator("#c-questions li").nth(1)
    await second.get_by_role("button", name=re.compile("^开始")).click()
    await console.get_by_role("button", name=re.compile("^开始答复")).click()
    await expect(console.locator("#c-rating-quorum")).to_have_count(0)
    await console.get_by_role("button", name=re.compile("^开始测评")).click()
    await phones[0].get_by_role("button", name="满意", exact=True).tap()
    await expect(phones[0].locator("#d-receipt")).to_have_text("已记录 ✓")
    await expect(console.locator("#c-tally #c-cast")).to_have_text("1")
    paper = console.locator(".c-paper-rating")
    await paper.get_by_text("纸质计票（手机无法完成测评时）").click()
    await paper.get_by_label("满意", exact=True).fill("20")
    await paper.get_by_label("基本满意", exact=True).fill("8")
    await paper.get_by_label("不满意", exact=True).fill("2")
    await paper.get_by_label("监票人").fill("王建国、李秀英")
    await paper.get_by_label("计票人").fill("张志强")
    await paper.get_by_label("保留，计入纸质票总数").check()
    await shots.take("paper-form", {"console": console})
    await paper.get_by_role("button", name="结束电子测评并录入纸质计票结果").click()
    for projector in (small, large):
        # 21 满意 < 24 (half of 48 members); 满意 + 基本满意 29 reaches it: 基本满意.
        grade = projector.locator("#stage .p-grade")
        await expect(grade).to_have_text("测评结果（纸质计票）：基本满意 以应到人数 48 为基数")
        await expect(projector.locator("#stage .q-paper")).to_contain_text("纸质计票（含电子票 1 张）")
        await expect(projector.locator("#stage .q-paper")).to_contain_text("监票人：王建国、李秀英")
        await expect(projector.locator("#stage .bar-satisfied .bar-count")).to_have_text("21 票")
        await expect(projector.locator("#stage .p-result-note")).to_have_count(0)
    # 1280x720: the projector's sizes are another part of issue 16 (CSS, helper `screens`).
    await fits(large, "#stage .p-result", 1920, 1080)
    await expect(public.locator("#pu-results")).to_contain_text("纸质计票")
    await expect(console.locator("#c-tally")).to_contain_text("计票人：张志强")
    await expect(paper.get_by_label("监票人")).to_have_value("")  # the form is reset: no second entry
    await shots.take("paper-count", {"console": console, "public": public, **projectors})

    # -- the record says it was a paper count, and what became of the phone ballots ---------
    audit = await console.context.new_page()
    await audit.goto(f"{s.base}/m/{mid}/audit")
    await expect(audit.locator("body")).to_contain_text("纸质计票，已投电子票 1 张保留并计入总数")
    await expect(audit.locator("body")).to_contain_text("不足法定人数时开始，结果仅供参考")
    copy_shots(shots)
