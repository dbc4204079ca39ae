"""Staff accounts: Argon2, the first admin, one-time passwords, change password, /admin/users."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from starlette.websockets import WebSocketDisconnect

from server.base.keys import Keys, hash_password, verify_password
from server.base.settings import Settings
from server.office import accounts, hashing
from server.office.accounts import Account
from server.storage import models as m
from server.storage.db import create_engine
from server.storage.migrate import upgrade
from tests.conftest import WENZHENG, Server, TestClient

HAN = re.compile(r"[\u4e00-\u9fff]")
DEMO_PASSWORD = "wenzheng-demo"
FIRST_ADMIN_LINE = re.compile(r"首次安装：管理员账号 admin，一次性密码 (\S+)，请登录后立即修改")


def chinese(text: str, *needles: str) -> None:
    assert HAN.search(text), f"no Chinese message in {text[:300]!r}"
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text[:600]!r}"


def scrypt_hash(password: str) -> str:
    """A hash as server/base/keys.py wrote them before Argon2."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def run_db(url: str, fn: Any) -> Any:
    async def go() -> Any:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                return await fn(conn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def account(url: str, username: str) -> Account | None:
    found: Account | None = run_db(url, lambda conn: accounts.find(conn, username=username))
    return found


def add(url: str, username: str, roles: set[str], password: str, *, must_change: bool = False) -> None:
    run_db(
        url,
        lambda conn: accounts.add_user(conn, username, frozenset(roles), password, must_change=must_change),
    )


def set_hash(url: str, username: str, password_hash: str) -> None:
    run_db(
        url,
        lambda conn: conn.execute(
            update(m.users).where(m.users.c.username == username).values(password_hash=password_hash)
        ),
    )


def sessions_of(url: str, user_id: int) -> int:
    """How many session rows the user has (server.office.accounts.open_session makes them)."""
    s = m.staff_sessions
    query = select(func.count()).select_from(s).where(s.c.user_id == user_id)
    return int(run_db(url, lambda conn: conn.scalar(query)))


def login(client: TestClient, username: str, password: str, target: str = "/") -> Any:
    client.cookies.clear()
    return client.post("/login", data={"username": username, "password": password, "next": target})


def csrf_of(client: TestClient, keys: Keys) -> str:
    session = keys.read_staff(client.cookies.get("wz_user"))
    assert session is not None
    return keys.csrf(session.sid)


def change(client: TestClient, keys: Keys, old: str, new: str, again: str | None = None) -> Any:
    data = {
        "csrf": csrf_of(client, keys),
        "old_password": old,
        "new_password": new,
        "new_password_again": new if again is None else again,
        "next": "/m/1/console",
    }
    return client.post("/account/password", data=data)


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENZHENG_")}
    env["WENZHENG_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(WENZHENG), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


# -- hashing ------------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2_and_old_scrypt_hashes_still_verify() -> None:
    stored = hash_password("正确的密码-123")
    assert stored.startswith("$argon2id$")
    assert verify_password("正确的密码-123", stored)
    assert not verify_password("错误的密码-123", stored)
    assert not verify_password("x", "not a hash")
    assert not verify_password("x", "scrypt$broken")
    old = scrypt_hash("old-password-1")
    assert verify_password("old-password-1", old)
    assert not verify_password("old-password-2", old)
    assert hashing.needs_rehash(old) and not hashing.needs_rehash(stored)


def test_a_scrypt_hash_is_rehashed_to_argon2_at_login(client: TestClient, settings: Settings) -> None:
    url = settings.database_url
    set_hash(url, "chair", scrypt_hash(DEMO_PASSWORD))
    response = login(client, "chair", DEMO_PASSWORD)
    assert response.status_code == 303
    upgraded = account(url, "chair")
    assert upgraded is not None and upgraded.password_hash.startswith("$argon2id$")
    assert verify_password(DEMO_PASSWORD, upgraded.password_hash)
    # A failed login upgrades nothing.
    set_hash(url, "chair", old := scrypt_hash(DEMO_PASSWORD))
    assert login(client, "chair", "wrong-password").status_code == 401
    still = account(url, "chair")
    assert still is not None and still.password_hash == old


# -- the first admin ------------------------------------------------------------------------


def test_the_first_admin_is_created_once_and_only_without_users(settings: Settings) -> None:
    url = settings.database_url
    upgrade(url)

    async def first(conn: Any) -> str | None:
        return await accounts.ensure_first_admin(conn)

    password = run_db(url, first)
    assert password and len(password) >= accounts.MIN_PASSWORD
    admin = account(url, "admin")
    assert admin is not None
    assert admin.roles == {"admin", "staff", "chair"} and admin.must_change
    assert verify_password(password, admin.password_hash)
    assert run_db(url, first) is None  # once
    assert len(run_db(url, lambda conn: accounts.all_accounts(conn))) == 1


def test_no_first_admin_when_the_demo_has_its_user(settings: Settings, meeting_id: int) -> None:
    assert run_db(settings.database_url, lambda conn: accounts.ensure_first_admin(conn)) is None
    assert account(settings.database_url, "admin") is None


def test_db_upgrade_prints_the_first_admin_password_once(tmp_path: Path) -> None:
    first = cli(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    found = FIRST_ADMIN_LINE.search(first.stdout)
    assert found, first.stdout
    password = found.group(1)
    again = cli(tmp_path, "db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert "一次性密码" not in again.stdout and password not in again.stdout
    admin = account(f"sqlite+aiosqlite:///{tmp_path / 'wenzheng.db'}", "admin")
    assert admin is not None and admin.must_change and verify_password(password, admin.password_hash)


def test_serve_on_an_empty_install_prints_the_first_admin_password(
    settings: Settings, spawn: Callable[..., Server]
) -> None:
    server = spawn()
    found = FIRST_ADMIN_LINE.search(server.log_tail())
    assert found, server.log_tail()
    with server.client() as http:
        response = http.post("/login", data={"username": "admin", "password": found.group(1)})
        assert response.status_code == 303
        assert response.headers["location"].startswith("/account/password")


def test_cli_user_add(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'wenzheng.db'}"
    done = cli(tmp_path, "user", "add", "zhang.san", "--role", "chair", "--role", "staff")
    assert done.returncode == 0, done.stderr
    found = re.search(r"用户 zhang\.san 的一次性密码：(\S+?)（", done.stdout)
    assert found, done.stdout
    user = account(url, "zhang.san")
    assert user is not None and user.roles == {"chair", "staff"} and user.must_change
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(found.group(1), user.password_hash)
    # There is a user now: no first admin appears any more.
    assert "一次性密码" not in cli(tmp_path, "db", "upgrade").stdout
    assert account(url, "admin") is None

    short = cli(tmp_path, "user", "add", "li.si", "--role", "staff", "--password", "short")
    assert short.returncode == 2 and "至少需要 10 个字符" in short.stderr
    assert account(url, "li.si") is None
    chosen = cli(tmp_path, "user", "add", "li.si", "--role", "staff", "--password", "a-long-password")
    assert chosen.returncode == 0, chosen.stderr
    li = account(url, "li.si")
    assert li is not None and not li.must_change and verify_password("a-long-password", li.password_hash)
    bad = cli(tmp_path, "user", "add", "有 空格", "--role", "staff")
    assert bad.returncode == 2 and "用户名" in bad.stderr


# -- one-time passwords and changing them ---------------------------------------------------


def test_a_one_time_password_opens_only_the_change_password_page(
    client: TestClient, settings: Settings, keys: Keys
) -> None:
    url = settings.database_url
    add(url, "wang", {"chair", "staff"}, "one-time-pw-1", must_change=True)
    response = login(client, "wang", "one-time-pw-1", "/m/1/console")
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password?next=/m/1/console"
    session = keys.read_staff(client.cookies.get("wz_user"))
    assert session is not None and session.roles == {accounts.MUST_CHANGE}

    console = client.get("/m/1/console")
    assert console.status_code == 303 and console.headers["location"].startswith("/account/password")
    acted = client.post(
        "/m/1/act", data={"cmd": "open_checkin"}, headers={"x-csrf-token": csrf_of(client, keys)}
    )
    assert acted.status_code == 401
    assert client.get("/admin/users").status_code == 303
    # The live sockets hold the same line as the pages: nothing until the password is changed.
    for audience in ("console", "script"):
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(f"/ws/1/{audience}"):
            pass
        assert closed.value.code == 1008, audience

    form = client.get("/account/password?next=/m/1/console")
    assert form.status_code == 200
    chinese(form.text, "一次性密码", "修改密码")

    changed = change(client, keys, "one-time-pw-1", "my-own-password")
    assert changed.status_code == 200, changed.text
    chinese(changed.text, "密码已修改")
    assert 'href="/m/1/console"' in changed.text
    session = keys.read_staff(client.cookies.get("wz_user"))
    assert session is not None and session.roles == {"chair", "staff"}
    assert client.get("/m/1/console").status_code == 200
    wang = account(url, "wang")
    assert wang is not None and not wang.must_change
    assert login(client, "wang", "my-own-password").status_code == 303
    assert login(client, "wang", "one-time-pw-1").status_code == 401


@pytest.mark.parametrize(
    ("old", "new", "again", "needle"),
    [
        ("wrong-password", "new-password-1", None, "原密码不正确"),
        (DEMO_PASSWORD, "new-password-1", "new-password-2", "两次输入的新密码不一致"),
        (DEMO_PASSWORD, "short", None, "至少需要 10 个字符"),
        (DEMO_PASSWORD, DEMO_PASSWORD, None, "不能与原密码相同"),
    ],
)
def test_a_refused_password_change_changes_nothing(
    client: TestClient, settings: Settings, keys: Keys, old: str, new: str, again: str | None, needle: str
) -> None:
    before = account(settings.database_url, "chair")
    assert login(client, "chair", DEMO_PASSWORD).status_code == 303
    response = change(client, keys, old, new, again)
    assert response.status_code == 400
    chinese(response.text, needle)
    assert account(settings.database_url, "chair") == before


def test_change_password_needs_a_login_and_the_csrf_token(
    client: TestClient, settings: Settings, keys: Keys
) -> None:
    before = account(settings.database_url, "chair")
    data = {"old_password": DEMO_PASSWORD, "new_password": "x" * 12, "new_password_again": "x" * 12}
    client.cookies.clear()
    assert client.get("/account/password").status_code == 303
    assert client.post("/account/password", data=data).status_code == 303
    login(client, "chair", DEMO_PASSWORD)
    refused = client.post("/account/password", data=data)
    assert refused.status_code == 403
    chinese(refused.text, "页面已过期")
    refused = client.post("/account/password", data={**data, "csrf": keys.csrf("another-session")})
    assert refused.status_code == 403
    assert account(settings.database_url, "chair") == before


# -- the admin's list of users -----------------------------------------------------------------


def test_the_user_list_is_for_admins_only(client: TestClient, settings: Settings, keys: Keys) -> None:
    client.cookies.clear()
    response = client.get("/admin/users")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    add(settings.database_url, "zhao", {"chair", "staff"}, "zhao-password")
    login(client, "zhao", "zhao-password")
    response = client.get("/admin/users")
    assert response.status_code == 403
    chinese(response.text, "仅限管理员")
    response = client.post(
        "/admin/users", data={"csrf": csrf_of(client, keys), "username": "x1", "role_admin": "1"}
    )
    assert response.status_code == 403
    assert account(settings.database_url, "x1") is None
    # The database decides, not the roles a cookie remembers.
    user = account(settings.database_url, "zhao")
    assert user is not None
    live = keys.read_staff(client.cookies.get("wz_user"))
    assert live is not None  # zhao's own session, with "admin" written into the cookie
    client.cookies.set("wz_user", keys.staff_cookie(user.id, "zhao", frozenset({"admin"}), live.sid))
    assert client.get("/admin/users").status_code == 403

    login(client, "chair", DEMO_PASSWORD)
    page = client.get("/admin/users")
    assert page.status_code == 200
    chinese(page.text, "用户管理", "zhao", "主持人", "工作人员")
    assert page.headers["cache-control"] == "no-store"


def test_admin_adds_a_user_resets_a_password_and_removes_roles(
    client: TestClient, settings: Settings, keys: Keys
) -> None:
    url = settings.database_url
    login(client, "chair", DEMO_PASSWORD)
    csrf = csrf_of(client, keys)

    added = client.post(
        "/admin/users",
        data={"csrf": csrf, "username": "qian", "display_name": "钱某", "role_staff": "1", "role_chair": "1"},
    )
    assert added.status_code == 200, added.text
    shown = re.search(r'<code class="one-time-password">([^<]+)</code>', added.text)
    assert shown, added.text
    chinese(added.text, "已添加用户", "只显示这一次")
    qian = account(url, "qian")
    assert qian is not None and qian.roles == {"staff", "chair"} and qian.must_change
    assert qian.display_name == "钱某"
    assert shown.group(1) not in client.get("/admin/users").text  # shown once

    for data, needle in (
        ({"username": "qian", "role_staff": "1"}, "用户名已存在"),
        ({"username": "sun"}, "请至少选择一个角色"),
        ({"username": "a b", "role_staff": "1"}, "用户名须为"),
    ):
        refused = client.post("/admin/users", data={"csrf": csrf, **data})
        assert refused.status_code == 400
        chinese(refused.text, needle)
    assert account(url, "sun") is None

    reset = client.post(f"/admin/users/{qian.id}/password", data={"csrf": csrf})
    assert reset.status_code == 200
    fresh = re.search(r'<code class="one-time-password">([^<]+)</code>', reset.text)
    assert fresh and fresh.group(1) != shown.group(1)
    chinese(reset.text, "已重置用户")
    assert login(client, "qian", shown.group(1)).status_code == 401
    response = login(client, "qian", fresh.group(1))
    assert response.headers["location"].startswith("/account/password")

    login(client, "chair", DEMO_PASSWORD)
    csrf = csrf_of(client, keys)
    saved = client.post(f"/admin/users/{qian.id}/roles", data={"csrf": csrf, "role_staff": "1"})
    assert saved.status_code == 200
    chinese(saved.text, "已保存 qian 的角色")
    after = account(url, "qian")
    assert after is not None and after.roles == {"staff"}

    chair = account(url, "chair")
    assert chair is not None
    last = client.post(f"/admin/users/{chair.id}/roles", data={"csrf": csrf, "role_chair": "1"})
    assert last.status_code == 400
    chinese(last.text, "最后一位管理员")
    assert account(url, "chair") == chair
    assert client.post("/admin/users/9999/password", data={"csrf": csrf}).status_code == 404


def test_admin_forms_refuse_a_missing_or_foreign_csrf_token(
    client: TestClient, settings: Settings, keys: Keys
) -> None:
    url = settings.database_url
    add(url, "zhou", {"staff"}, "zhou-password")
    zhou = account(url, "zhou")
    assert zhou is not None
    login(client, "chair", DEMO_PASSWORD)
    for token in ({}, {"csrf": "wrong"}, {"csrf": keys.csrf("another-session")}):
        for path, data in (
            ("/admin/users", {"username": "wu", "role_admin": "1"}),
            (f"/admin/users/{zhou.id}/password", {}),
            (f"/admin/users/{zhou.id}/roles", {"role_admin": "1"}),
        ):
            response = client.post(path, data={**data, **token})
            assert response.status_code == 403, (path, token)
            chinese(response.text, "页面已过期")
    assert account(url, "wu") is None
    assert account(url, "zhou") == zhou


def test_the_one_time_password_alphabet_is_unambiguous() -> None:
    for _ in range(50):
        password = accounts.one_time_password()
        assert len(password) >= accounts.MIN_PASSWORD
        assert not set(password) & set("0O1lI")


# -- sessions follow the users table --------------------------------------------------------


def get_as(client: TestClient, cookie: str, path: str) -> Any:
    """A GET from the browser that holds this login cookie (and no other)."""
    client.cookies.clear()
    client.cookies.set("wz_user", cookie)
    return client.get(path)


def test_a_role_taken_away_closes_the_console_of_an_open_session(
    client: TestClient, settings: Settings, keys: Keys
) -> None:
    url = settings.database_url
    add(url, "li", {"chair"}, "li-password-1")
    li = account(url, "li")
    assert li is not None
    browser_li = login(client, "li", "li-password-1").cookies["wz_user"]
    assert get_as(client, browser_li, "/m/1/console").status_code == 200

    login(client, "chair", DEMO_PASSWORD)
    taken = client.post(f"/admin/users/{li.id}/roles", data={"csrf": csrf_of(client, keys)})
    assert taken.status_code == 200
    # The same cookie, unchanged, opens nothing any more: the roles come from the table.
    response = get_as(client, browser_li, "/m/1/console")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    session = keys.read_staff(browser_li)
    assert session is not None
    act = client.post("/m/1/act", data={"action": "open_checkin", "csrf": keys.csrf(session.sid)})
    assert act.status_code == 401
    chinese(act.text, "请先登录")


def test_a_password_reset_or_change_ends_the_sessions_opened_before(
    client: TestClient, settings: Settings, keys: Keys
) -> None:
    url = settings.database_url
    add(url, "he", {"staff"}, "he-password-1")
    he = account(url, "he")
    assert he is not None
    first = login(client, "he", "he-password-1").cookies["wz_user"]
    second = login(client, "he", "he-password-1").cookies["wz_user"]
    assert get_as(client, first, "/m/1/console").status_code == 200
    assert sessions_of(url, he.id) == 2

    # The owner changes the password in the second browser: the first one is logged out,
    # the second gets a new cookie that works.
    get_as(client, second, "/")
    changed = change(client, keys, "he-password-1", "he-password-2")
    assert changed.status_code == 200, changed.text
    renewed = changed.cookies["wz_user"]
    assert get_as(client, first, "/m/1/console").status_code == 303
    assert get_as(client, second, "/m/1/console").status_code == 303
    assert get_as(client, renewed, "/m/1/console").status_code == 200
    assert sessions_of(url, he.id) == 1, "the sessions of the old password are deleted, not just outdated"

    # An admin resets it: the renewed session ends too.
    login(client, "chair", DEMO_PASSWORD)
    assert (
        client.post(f"/admin/users/{he.id}/password", data={"csrf": csrf_of(client, keys)}).status_code == 200
    )
    assert get_as(client, renewed, "/m/1/console").status_code == 303
    assert sessions_of(url, he.id) == 0
    # So does `wenzheng user add he --password …` (save_user) for an existing account.
    run_db(url, lambda conn: accounts.open_session(conn, he.id, "pytest"))
    run_db(
        url,
        lambda conn: accounts.save_user(conn, "he", frozenset({"staff"}), "he-password-3", must_change=False),
    )
    assert sessions_of(url, he.id) == 0
    # A console socket opened with a void cookie is refused as well.
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/1/console") as ws:
        ws.receive_text()
