"""The chair's script (主持词) at the rostrum, in real Chromium, through a short session.

A tablet at 1280x800 is paired like the podium (a code entered on the console); a second
tablet at 1024x768 is a staff member logged in. The operator works the console (through
its own session's /act, so the test does not depend on the console's layout): check-in,
the inquiry item, question 1, a rating on a deputy's phone, the result announced. At
each step both tablets show the live figures (应到/实到, the question, the asker, the
result as it is to be read) and the highlighted next line moves on; lines already read
are dimmed. Then the wording is edited (an unknown placeholder refused with its message,
nothing changed; a valid one shown live) and the printed copy is checked on A4.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from server.base.keys import Keys
from tests.browser.conftest import ARTIFACTS, DemoServer
from tests.browser.test_live_session import connected, desk_context, login, phone_context

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "script"
INQUIRY = "人大代表问政会"
Q1_TITLE = "农民建房审批慢、手续多的问题何时解决？"
Q1_ASKER = "王建国"
Q2_TITLE = "南塘农贸市场改造工程为何一再延期？"


async def csrf_of(console: Page) -> str:
    attr = await console.locator("body").get_attribute("hx-headers")
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', attr or "")
    assert found, attr
    return found.group(1)


async def act(console: Page, base: str, meeting_id: int, ok: tuple[int, ...] = (200,), **form: str) -> int:
    reply = await console.request.post(
        f"{base}/m/{meeting_id}/act", form=form, headers={"X-CSRF-Token": await csrf_of(console)}
    )
    assert reply.status in ok, (form, reply.status, await reply.text())
    return reply.status


async def shot(page: Page, name: str, full: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full, animations="disabled")


async def id_on_console(console: Page, list_id: str, text: str, name: str) -> str:
    """The id the console's button for ``text`` sends (its hx-vals)."""
    html = await console.locator(f"#{list_id} li", has_text=text).first.inner_html()
    found = re.search(rf"{name}(?:\"|&quot;): (?:\"|&quot;)(\d+)", html)
    assert found, html
    return found.group(1)


async def next_line(tablet: Page) -> str:
    line = tablet.locator("#s-script .s-next")
    await expect(line).to_have_count(1)
    return (await line.inner_text()).strip()


async def assert_next_visible(tablet: Page, width: int, height: int) -> None:
    """The line to read is on the screen, below the header, in big type."""
    await expect(tablet.locator("#s-next")).to_be_visible()
    await tablet.wait_for_timeout(300)  # a swap just sent (another step's fragment) settles
    box = await tablet.locator("#s-next").bounding_box()
    header = await tablet.locator(".s-header").bounding_box()
    assert box and header, "no next line or header"
    assert box["y"] >= header["y"] + header["height"] - 1, f"the next line is under the header: {box}"
    assert box["y"] + min(box["height"], 120) <= height, f"the next line is below the screen: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"the next line is cut at the side: {box}"
    size = await tablet.locator("#s-next").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 26, f"the next line is {size}px: too small to read from the rostrum"
    scroll = await tablet.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the script scrolls sideways ({scroll}px > {width}px)"


async def assert_read_dimmed(tablet: Page) -> None:
    read = tablet.locator("#s-script .s-read").first
    nxt = tablet.locator("#s-next")
    read_color = await read.evaluate("e => getComputedStyle(e).color")
    next_color = await nxt.evaluate("e => getComputedStyle(e).color")
    assert read_color != next_color, "lines already read look like the next one"
    assert await read.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 20


async def test_the_script_follows_a_short_session(own_demo_server: DemoServer, browser: Browser) -> None:
    s = own_demo_server
    mid = s.meeting_id
    keys = Keys(s.secret)
    console = await (await desk_context(browser, 1366, 768)).new_page()
    await login(console, s.console_url)
    # The console links to the script.
    link = console.get_by_role("link", name="主持词")
    await expect(link).to_have_attribute("href", f"/m/{mid}/script")

    # -- a tablet at the rostrum pairs like the podium -----------------------------------
    rostrum = await (await desk_context(browser, 1280, 800)).new_page()
    await rostrum.goto(f"{s.base}/m/{mid}/script")
    await expect(rostrum.locator("h1")).to_have_text("主持词屏尚未配对")
    code = (await rostrum.locator("#pair-code").inner_text()).strip()
    pair = console.locator('form[hx-post$="/pair"]')
    await pair.get_by_label("屏幕配对码").fill(code)
    await pair.get_by_role("button", name="配对").click()
    await expect(console.locator("#c-pair-result")).to_contain_text("已配对主持词屏")
    await expect(rostrum.locator("#s-script")).to_be_visible(timeout=10_000)  # its refresh finds it paired
    await expect(rostrum).to_have_title(re.compile(r"^主持词 · "))
    await expect(rostrum.locator(".s-links")).to_have_count(0)  # a tablet gets no staff links

    # -- a second tablet, 1024x768, a staff member logged in ------------------------------
    small = await (await desk_context(browser, 1024, 768)).new_page()
    await small.goto(f"{s.base}/m/{mid}/script")
    # The pairing page fits the tablet (a projector's page would push this off the screen).
    staff_link = small.get_by_role("link", name="会务人员也可登录后直接查看")
    box = await staff_link.bounding_box()
    assert box and box["y"] + box["height"] <= 768 and box["height"] >= 48, box
    await shot(small, "00-pairing-1024x768")
    await staff_link.click()
    await small.get_by_label("用户名").fill("chair")
    await small.get_by_label("密码").fill("wenzheng-demo")
    await small.get_by_role("button", name="登录").click()
    await expect(small).to_have_url(f"{s.base}/m/{mid}/script")
    await connected(rostrum, small)
    tablets = ((rostrum, 1280, 800), (small, 1024, 768))

    async def both(pattern: str) -> str:
        for tablet, _, _ in tablets:
            await expect(tablet.locator("#s-next")).to_have_text(re.compile(pattern))
        return await next_line(rostrum)

    first = await both("请扫描大屏幕上的二维码签到")
    for tablet, w, h in tablets:
        await assert_next_visible(tablet, w, h)
        await shot(tablet, f"01-before-checkin-{w}x{h}")

    # -- check-in: the figures move live; no quorum yet: the other wording ----------------
    await act(console, s.base, mid, cmd="open_checkin")
    lacking = await both(r"应到\d+人，实到0人，不足法定人数（需到\d+人），会议暂不能开始")
    assert lacking != first
    expected, needed = (int(n) for n in re.findall(r"应到(\d+)人.*需到(\d+)人", lacking)[0])
    assert 0 < needed <= expected
    # The asker's phone: bound, then checked in by staff with the others.
    phone = await (await phone_context(browser)).new_page()
    inv = next(i for i in s.invitations if i.name == Q1_ASKER)
    await phone.goto(inv.url)
    await expect(phone.locator(".d-name")).to_have_text(f"{Q1_ASKER} 代表")
    found = keys.read_invitation(urlsplit(inv.url).path.rsplit("/", 1)[-1])
    assert found is not None
    asker_id = found[0]
    await act(console, s.base, mid, cmd="check_in", deputy_id=str(asker_id))
    await both(r"应到\d+人，实到1人，不足法定人数")
    for tablet, w, h in tablets:
        await shot(tablet, f"02-checkin-no-quorum-{w}x{h}")
    present = 1
    for deputy_id in range(1, 200):
        if present >= needed:
            break
        if deputy_id == asker_id:
            continue
        status = await act(
            console, s.base, mid, (200, 400, 404, 409), cmd="check_in", deputy_id=str(deputy_id)
        )
        present += status == 200
    assert present == needed
    opening = await both(rf"^.*应到{expected}人，实到{needed}人，符合法定人数，现在开会。$")
    assert "请读" in opening
    await act(console, s.base, mid, cmd="close_checkin")
    await act(console, s.base, mid, cmd="announce_attendance")
    for tablet, w, h in tablets:
        await assert_next_visible(tablet, w, h)
        await shot(tablet, f"03-quorum-{w}x{h}")

    # -- the inquiry item: the next line is question 1, with its asker --------------------
    item_id = await id_on_console(console, "c-agenda", INQUIRY, "item_id")
    await act(console, s.base, mid, cmd="start_agenda", item_id=item_id)
    question = await both(rf"现在进行第一个问题。请{Q1_ASKER}代表提问，问题是：{re.escape(Q1_TITLE)}")
    for tablet, _, _ in tablets:  # the opening and the item are read now: dimmed
        await expect(tablet.locator('#s-script .s-read[data-step="open"]')).to_have_count(1)
        await expect(tablet.locator('#s-script .s-read[data-step="item"]')).to_have_count(3)
        await assert_read_dimmed(tablet)

    # -- question 1 called, then answered: the answering official, then the rating --------
    q1_id = await id_on_console(console, "c-questions", Q1_TITLE, "question_id")
    q2_id = await id_on_console(console, "c-questions", Q2_TITLE, "question_id")
    await act(console, s.base, mid, cmd="call_question", question_id=q1_id)
    answer = await both(r"^请读 ▶请.+回答。$")
    assert answer != question
    for tablet, w, h in tablets:
        await assert_next_visible(tablet, w, h)
        await shot(tablet, f"04-asking-{w}x{h}")
    await act(console, s.base, mid, cmd="to_answering")
    await both(r"请各位代表对.+的答复进行满意度测评")

    # -- the rating: the phone rates, the result is read as it is to be read --------------
    await act(console, s.base, mid, cmd="open_rating")
    pending = await both(r"测评结果：满意＿+票")  # blanks until it closes
    await phone.get_by_role("button", name="满意", exact=True).tap()
    await expect(phone.locator("#d-receipt")).to_have_text("已记录 ✓")
    await act(console, s.base, mid, cmd="close_rating")
    result = await both(r"测评结果：满意1票，基本满意0票，不满意0票，测评结果为：[^。]+。")
    assert result != pending
    assert "为基数" in result  # the base the grade was measured on is read with it
    grade = re.search(r"测评结果为：([^（。]+)", result)
    assert grade and grade.group(1) in ("满意", "基本满意", "不满意", "无有效评价")
    for tablet, w, h in tablets:
        await assert_next_visible(tablet, w, h)
        await shot(tablet, f"05-result-{w}x{h}")
    # The next question moves the highlight past the result.
    await act(console, s.base, mid, cmd="call_question", question_id=q2_id)
    await expect(rostrum.locator('#s-script .s-read[data-step="result"]')).to_have_count(1)
    await shot(rostrum, "06-next-question-1280x800")

    # -- the wording, edited: an unknown placeholder is refused, a valid one goes live ----
    edit = await (await desk_context(browser, 1366, 768)).new_page()
    await login(edit, f"{s.base}/m/{mid}/script/edit")
    await expect(edit).to_have_title(re.compile(r"^修改主持词 · "))
    answer_box = edit.get_by_label("请应询人回答")
    before = await answer_box.input_value()
    await answer_box.fill("请{答复人}回答。")
    await edit.get_by_role("button", name="保存主持词").click()
    await expect(edit.locator("#s-errors")).to_have_text("请修改标出的步骤，未保存任何内容。")
    await expect(edit.locator("#s-answer-error")).to_contain_text("“请应询人回答”中的占位符{答复人}无法识别")
    await expect(edit.get_by_label("请应询人回答")).to_have_value("请{答复人}回答。")  # kept as typed
    await shot(edit, "07-edit-refused-1366x768", full=True)
    reloaded = await (await desk_context(browser, 1366, 768)).new_page()
    await login(reloaded, f"{s.base}/m/{mid}/script/edit")
    await expect(reloaded.get_by_label("请应询人回答")).to_have_value(before)  # nothing stored
    await edit.get_by_label("请应询人回答").fill("请{应询人}同志作答。")
    await edit.get_by_role("button", name="保存主持词").click()
    await expect(edit.locator("#s-saved")).to_contain_text("主持词已保存")
    # Both tablets get the new wording at once (the setup reloads, the script is re-sent).
    for tablet, _, _ in tablets:
        line = tablet.locator('#s-script .s-line[data-step="answer"]').nth(1)
        await expect(line).to_have_text(re.compile(r"同志作答。$"))
    await edit.get_by_role("button", name="恢复这一步的默认").click()
    await expect(edit.locator("#s-saved")).to_contain_text("已恢复默认")
    await expect(edit.get_by_label("请应询人回答")).to_have_value(before)


async def test_the_printed_script_on_a4(demo_server: DemoServer, browser: Browser) -> None:
    s = demo_server
    page = await (await desk_context(browser, 1366, 768)).new_page()
    await login(page, f"{s.base}/m/{s.meeting_id}/script/print")
    await expect(page).to_have_title(re.compile(r"^主持词 · .+ · 打印版$"))
    await expect(page.locator(".s-line").first).to_be_visible()
    lines = page.locator(".s-line")
    assert await lines.count() > 10
    await expect(page.locator(".s-line", has_text="不足法定人数时改读")).to_have_count(1)
    opening = page.locator('.s-line[data-step="open"]')
    await expect(opening).to_have_text(re.compile(r"应到＿+人，实到＿+人，符合法定人数，现在开会"))
    await expect(page.locator(".s-line", has_text=Q1_TITLE)).to_have_count(1)
    await shot(page, "08-print-screen-1366", full=True)
    # Printed: the tools are gone, the text fits A4's width, nothing runs off the page.
    await page.emulate_media(media="print")
    await expect(page.locator(".s-tools")).to_be_hidden()
    size = await lines.first.evaluate("e => getComputedStyle(e).fontSize")
    assert abs(float(size.removesuffix("px")) - 14 * 96 / 72) < 0.5, size
    pdf = await page.pdf(prefer_css_page_size=True, print_background=False)
    assert pdf[:4] == b"%PDF"
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 8, f"{pages} A4 pages"
    media = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert media and abs(float(media.group(1)) - 595.3) < 2 and abs(float(media.group(2)) - 841.9) < 2, media
    (SHOTS / "print.pdf").write_bytes(pdf)
    a4 = await (await desk_context(browser, 794, 1123)).new_page()  # A4 at 96 dpi
    await login(a4, f"{s.base}/m/{s.meeting_id}/script/print")
    await a4.emulate_media(media="print")
    width = await a4.evaluate("document.documentElement.scrollWidth")
    assert width <= 794, f"the printed script is wider than A4: {width}px"
    await shot(a4, "09-print-a4", full=True)
