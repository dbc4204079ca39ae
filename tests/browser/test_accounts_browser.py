"""Accounts in real Chromium: an admin adds a user, who must change the one-time password.

The demo's ``chair`` (an admin) opens /admin/users, adds a user with the chair role and
reads the one-time password off the page. In a second browser that user logs in, is
sent to the change-password page, cannot reach the console, is refused a mismatched
new password in Chinese, then sets one and lands on the console. The demo's own
password is left alone: the other browser tests share this server.
"""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import DemoServer, Shots

pytestmark = pytest.mark.browser


async def log_in(page: Page, url: str, username: str, password: str) -> None:
    await page.goto(url)
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()


async def test_admin_adds_a_user_who_must_change_the_password(
    browser: Browser, demo_server: DemoServer, shots: Shots
) -> None:
    s = demo_server
    assert "首次安装" not in s.stdout  # the demo has its user: no admin password is printed
    username = f"staff-{secrets.token_hex(3)}"
    admin_context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    admin = await admin_context.new_page()
    await log_in(admin, f"{s.base}/admin/users", "chair", "wenzheng-demo")
    await expect(admin.get_by_role("heading", name="用户管理")).to_be_visible()

    await admin.locator(".add-user input[name=username]").fill(username)
    await admin.locator(".add-user input[name=display_name]").fill("测试工作人员")
    await admin.locator(".add-user").get_by_label("主持人").check()
    await admin.get_by_role("button", name="添加并生成一次性密码").click()
    shown = admin.locator(".one-time-password")
    await expect(shown).to_be_visible()
    password = (await shown.text_content() or "").strip()
    assert len(password) >= 10
    await expect(admin.locator("table.users")).to_contain_text(username)
    await shots.take("added", {"admin": admin})

    user_context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    user = await user_context.new_page()
    await log_in(user, s.console_url, username, password)
    await expect(user).to_have_url(re.compile(r"/account/password\?next="))
    await expect(user.get_by_role("status")).to_contain_text("一次性密码")
    await user.goto(s.console_url)
    await expect(user).to_have_url(re.compile(r"/account/password\?next="))

    await user.locator("input[name=old_password]").fill(password)
    await user.locator("input[name=new_password]").fill("my-new-password-1")
    await user.locator("input[name=new_password_again]").fill("my-new-password-2")
    await user.get_by_role("button", name="保存新密码").click()
    await expect(user.get_by_role("alert")).to_contain_text("两次输入的新密码不一致")
    await shots.take("mismatch", {"user": user})

    await user.locator("input[name=old_password]").fill(password)
    await user.locator("input[name=new_password]").fill("my-new-password-1")
    await user.locator("input[name=new_password_again]").fill("my-new-password-1")
    await user.get_by_role("button", name="保存新密码").click()
    await expect(user.get_by_role("heading", name="密码已修改")).to_be_visible()
    await user.get_by_role("link", name="继续").click()
    await expect(user).to_have_url(s.console_url)
    await expect(user.locator(".c-user")).to_have_text(username)
    await shots.take("console", {"user": user})

    await admin.reload()
    row = admin.locator("tr", has_text=username)
    await expect(row).to_contain_text("正常")
    await admin_context.close()
    await user_context.close()
