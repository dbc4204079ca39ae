"""axe-core over every page of the system, each at its real size: no serious or critical violation.

axe-core is vendored from npm (tests/browser/vendor/axe.min.js, version and licence
beside it) and injected by the test into a browser context that bypasses CSP; the app's
own CSP stays as it is. One demo server, one browser context per size, pages reused.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser import screen_checks as sc
from tests.browser.conftest import ARTIFACTS, DemoServer

pytestmark = pytest.mark.browser

# The office's pages, at the console's size: (address, what the page is).
OFFICE_PAGES = (
    ("/", "首页"),
    ("/start", "开始使用"),
    ("/meetings", "会议管理"),
    ("/meetings/new", "新建会议"),
    ("/meetings/{mid}/edit", "会议设置"),
    ("/bodies", "机构与届次"),
    ("/bodies/{bid}", "机构"),
    ("/bodies/{bid}/edit", "修改机构"),
    ("/bodies/{bid}/roster", "代表名册"),
    ("/bodies/{bid}/deputies/1", "代表信息"),
    ("/bodies/{bid}/attendance", "出勤汇总"),
    ("/bodies/{bid}/deputies/1/attendance", "出勤记录"),
    ("/bodies/{bid}/presidium", "主席团"),
    ("/m/{mid}/console", "主持台"),
    ("/m/{mid}/audit", "操作记录"),
    ("/m/{mid}/cards", "邀请卡"),
    ("/m/{mid}/leave", "请假审批"),
    ("/m/{mid}/review", "问题审核"),
    ("/m/{mid}/reviewers", "审核授权"),
    ("/account/password", "修改密码"),
    ("/admin/users", "用户管理"),
)
PHONE_PAGES = ("/d/{mid}", "/d/{mid}/questions", "/d/{mid}/leave")


SHOTS = ARTIFACTS / "axe"


async def visit(page: Page, url: str, where: str, status: int = 200) -> list[str]:
    reply = await page.goto(url)
    assert reply is not None and reply.status == status, f"{where}: {url} answered {reply and reply.status}"
    name = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", where).strip("_")
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return await sc.axe_problems(page, where)


async def test_axe_on_every_page(demo_server: DemoServer, browser: Browser) -> None:
    s = demo_server
    mid = s.meeting_id
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    contexts: list[BrowserContext] = []

    async def new_page(w: int, h: int, *, phone: bool = False) -> Page:
        ctx = await sc.context(browser, w, h, phone=phone)
        contexts.append(ctx)
        return await ctx.new_page()

    # Login, then the office's pages and the console.
    desk = await new_page(*sc.CONSOLE)
    problems += await visit(desk, f"{s.base}/login", "login")
    await desk.get_by_label("用户名").fill("chair")
    await desk.get_by_label("密码").fill("wenzheng-demo")
    await desk.get_by_role("button", name="登录").click()
    await expect(desk).not_to_have_url(re.compile(r"/login"))
    await desk.goto(f"{s.base}/bodies")
    links = await desk.locator('a[href^="/bodies/"]').evaluate_all(
        "as => as.map(a => a.getAttribute('href'))"
    )
    bid = next(m.group(1) for link in links if (m := re.fullmatch(r"/bodies/(\d+)", link)))
    for path, name in OFFICE_PAGES:
        problems += await visit(desk, s.base + path.format(mid=mid, bid=bid), f"{name} {path}")

    # The hall's screens at their sizes; the pairing page of a screen not yet paired.
    for w, h in sc.PROJECTORS[:2]:
        projector = await new_page(w, h)
        problems += await visit(projector, s.projector_url, f"投影屏 {w}x{h}")
    podium = await new_page(*sc.PODIUM)
    problems += await visit(podium, s.podium_url, "发言计时屏")
    for kind in ("projector", "podium"):
        unpaired = await new_page(1920, 1080)
        problems += await visit(unpaired, f"{s.base}/m/{mid}/{kind}", f"屏幕配对 {kind}")
    for w, h in (*sc.PHONES, (1366, 768)):
        public = await new_page(w, h, phone=w < 500)
        problems += await visit(public, f"{s.base}/m/{mid}/live", f"会议直播 {w}x{h}")

    # A phone: the binding form before it is bound, then the deputy's own pages.
    for (w, h), inv in zip(sc.PHONES, s.invitations[5:7], strict=True):
        phone = await new_page(w, h, phone=True)
        problems += await visit(phone, f"{s.base}/d/{mid}", f"绑定 {w}x{h}")
        problems += await sc.phone_problems(phone, f"绑定 {w}x{h}")
        await phone.goto(inv.url)
        await expect(phone.locator(".d-name")).to_contain_text(inv.name)
        for path in PHONE_PAGES:
            problems += await visit(phone, s.base + path.format(mid=mid), f"代表 {path} {w}x{h}")
            # Fingers and eyes on every phone page: 48x48 targets, 18 px text.
            problems += await sc.phone_problems(phone, f"代表 {path} {w}x{h}")
    # The same card opened on yet another phone: the page that offers to move it.
    other = await new_page(*sc.PHONES[0], phone=True)
    problems += await visit(other, s.invitations[5].url, "改用这部手机", 409)

    for ctx in contexts:
        await ctx.close()
    assert not problems, "\n".join(problems)
