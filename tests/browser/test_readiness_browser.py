"""The console's readiness panel in Chromium at 1366x768: what `wenzheng check --offline`
says of the same installation, before check-in; gone once check-in opens (live, no reload).
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import NO_TIME_SERVER, WENZHENG, Shots, demo_folder, parse_links, serve

pytestmark = pytest.mark.browser


async def test_console_shows_the_check_before_checkin_and_drops_it_when_checkin_opens(
    browser: Browser, shots: Shots
) -> None:
    with serve("--demo", seed=demo_folder()) as started:
        links = parse_links(started.stdout_path.read_text())
        env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
        env.update(
            WENZHENG_DATA_DIR=str(started.data_dir),
            WENZHENG_PUBLIC_URL=started.base,
            WENZHENG_NTP_SERVER=NO_TIME_SERVER,
        )
        command = subprocess.run(
            [str(WENZHENG), "check", "--offline"], capture_output=True, text=True, env=env, timeout=60
        )
        assert command.returncode == 1, command.stdout  # the demo's public chair password
        said = re.findall(r"^\[(注意|未通过)\]\s+(\S+?)：(.*)$", command.stdout, re.M)
        assert len(said) >= 2, command.stdout

        context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = await context.new_page()
        await page.goto(links.console_url)
        await page.get_by_label("用户名").fill("chair")
        await page.get_by_label("密码").fill("wenzheng-demo")
        await page.get_by_role("button", name="登录").click()
        await expect(page).to_have_url(links.console_url)

        panel = page.locator("#c-ready")
        await expect(panel.locator(".c-ready-title")).to_contain_text("1 项未通过", timeout=15_000)
        for level, name, text in said:  # the same lines in the same words
            row = panel.locator("li", has_text=f"{name}：")
            await expect(row.locator(".c-ready-level")).to_have_text(level)
            await expect(row).to_contain_text(text)
        await expect(panel.locator(".c-ready-fail .c-ready-todo")).to_contain_text("/admin/users")
        box = await panel.bounding_box()
        assert box and box["y"] + box["height"] < 768, box  # on the first screen, whole
        start = page.locator("#c-attendance").get_by_role("button", name="开始签到")
        await expect(start).to_be_in_viewport()  # the panel pushes no control off the screen
        await shots.take("before-checkin", {"console": page})

        await panel.locator("summary").click()  # the passing lines, unfolded
        await expect(panel.locator(".c-ready-ok ul")).to_contain_text("数据库：SQLite 可连接")
        await shots.take("passing-unfolded", {"console": page})

        await start.click()
        await expect(page.locator("#c-attendance h2")).to_have_text("签到（进行中）")
        await expect(panel).to_have_count(0)  # the live update dropped it
        await shots.take("checkin-open", {"console": page})
        await context.close()
