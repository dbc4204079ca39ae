"""The first run: an empty install leads the admin from the one-time password onwards.

No demo: the app serves a fresh database whose only record is the first admin. Each step
of the guide is read from the records, so it turns done whichever page or command did it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import insert, select

from server.base.settings import Settings
from server.office import accounts
from server.storage import models as m
from server.storage.db import create_engine
from server.storage.migrate import upgrade
from tests.conftest import TestClient

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def _first_admin(url: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            password = await accounts.ensure_first_admin(conn)
    finally:
        await engine.dispose()
    assert password is not None
    return password


@pytest.fixture
def empty(settings: Settings) -> Iterator[tuple[TestClient, str]]:
    from server.web.app import create_app

    upgrade(settings.database_url)
    password = asyncio.run(_first_admin(settings.database_url))
    with TestClient(create_app(settings), raise_server_exceptions=False, follow_redirects=False) as c:
        yield c, password


def _steps(html: str) -> dict[str, str]:
    """Each step's label and its state (done, next, todo) as the guide shows them."""
    found = re.findall(
        r'<li class="(done|next|todo)">.*?<span class="start-label">(?:<a [^>]*>)?([^<]+)', html, re.S
    )
    return {label: state for state, label in found}


async def _run(url: str, work: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            if work == "body":
                await conn.execute(
                    insert(m.bodies).values(name="某县人大常委会", kind="standing_committee", level="county")
                )
            elif work == "term":
                body = (await conn.execute(select(m.bodies.c.id))).scalar_one()
                await conn.execute(
                    insert(m.terms).values(body_id=body, number=17, starts_on=dt.date(2022, 1, 6))
                )
    finally:
        await engine.dispose()


def test_the_guide_leads_from_the_one_time_password(
    empty: tuple[TestClient, str], settings: Settings
) -> None:
    client, password = empty
    login = client.post("/login", data={"username": "admin", "password": password, "next": "/"})
    assert login.status_code == 303
    # The one-time password comes first: the guide sends there and back.
    shown = client.get("/start")
    assert shown.status_code == 303 and shown.headers["location"].startswith("/account/password?next=/start")
    form = client.get("/account/password?next=/start")
    token = CSRF.search(form.text)
    assert token is not None
    changed = client.post(
        "/account/password",
        data={
            "csrf": token.group(1),
            "old_password": password,
            "new_password": "一个足够长的新密码2026",
            "new_password_again": "一个足够长的新密码2026",
            "next": "/start",
        },
    )
    assert changed.status_code == 200, changed.text[:300]
    # An office with no meeting lands on the guide from the home page.
    home = client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/start"
    guide = client.get("/start")
    assert guide.status_code == 200
    steps = _steps(guide.text)
    assert steps["修改一次性密码"] == "done"
    assert steps["新建机构"] == "next"
    assert '下一步：<a class="button" href="/bodies/new">新建机构</a>' in guide.text
    assert all(
        state == "todo" for label, state in steps.items() if label not in ("修改一次性密码", "新建机构")
    )
    # The steps follow the records, whatever made them (here: the command line's tables).
    asyncio.run(_run(settings.database_url, "body"))
    steps = _steps(client.get("/start").text)
    assert steps["新建机构"] == "done" and steps["设置届次"] == "next"
    asyncio.run(_run(settings.database_url, "term"))
    guide = client.get("/start").text
    steps = _steps(guide)
    assert steps["设置届次"] == "done" and steps["导入代表名册"] == "next"
    assert "某县人大常委会" in guide


def test_the_guide_needs_a_staff_login(empty: tuple[TestClient, str]) -> None:
    client, _ = empty
    reply = client.get("/start")
    assert reply.status_code == 303 and reply.headers["location"].startswith("/login")
    assert client.get("/").status_code == 200  # nobody logged in: the home page, not the guide
