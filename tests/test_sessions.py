"""Staff sessions live on the server (server/web/sessions.py, table ``staff_sessions``).

Logging out ends the session: the old cookie, kept by whoever copied it, opens no page,
changes nothing and opens no socket, and a console socket of that session that is still
open is closed, in every worker process, because each reads the database on every
request and rechecks open console sockets. Every test here runs on SQLite and on
PostgreSQL (the ``database_url`` fixture is parametrized).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.base.keys import Keys, session_key
from server.base.settings import Settings
from server.storage import models as m
from server.web import sessions
from tests.conftest import REDIS_URL, TestClient, plain_engine, staff_login, ws_connect, ws_hello


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, data_dir: Any) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_database"))
    return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"


def session_rows(url: str) -> dict[str, tuple[int, int]]:
    """Every staff session in the database: key → (user id, expires_ms)."""

    async def read() -> dict[str, tuple[int, int]]:
        engine = plain_engine(url)
        try:
            async with engine.connect() as conn:
                s = m.staff_sessions
                rows = await conn.execute(select(s.c.id, s.c.user_id, s.c.expires_ms))
                return {str(k): (int(u), int(e)) for k, u, e in rows}
        finally:
            await engine.dispose()

    return asyncio.run(read())


def expire(url: str, sid: str) -> None:
    async def write() -> None:
        engine = plain_engine(url)
        try:
            async with engine.begin() as conn:
                s = m.staff_sessions
                await conn.execute(update(s).where(s.c.id == session_key(sid)).values(expires_ms=1))
        finally:
            await engine.dispose()

    asyncio.run(write())


def as_staff(keys: Keys, cookie: str) -> dict[str, str]:
    session = keys.read_staff(cookie)
    assert session is not None
    return {"cookie": f"wz_user={cookie}", "x-csrf-token": keys.csrf(session.sid)}


def kind_of(message: str) -> str:
    """The type of a JSON message on the socket; "html" for fragments."""
    return str(json.loads(message).get("type")) if message.startswith("{") else "html"


def opens_nothing(http: Any, headers: dict[str, str]) -> None:
    """The console page, an action (a banner), the admin pages: all closed to the cookie."""
    for path in ("/m/1/console", "/admin/users", "/account/password", "/meetings", "/m/1/cards"):
        reply = http.get(path, headers=headers)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login"), path
    act = http.post("/m/1/act", data={"cmd": "banner", "text": "退出后的横幅"}, headers=headers)
    assert act.status_code == 401 and "请先登录" in act.text


def test_after_logout_the_old_cookie_opens_nothing(
    client: TestClient, keys: Keys, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "RECHECK_S", 0.2)
    cookie = staff_login(client)
    sid = keys.read_staff(cookie).sid  # type: ignore[union-attr]
    headers = as_staff(keys, cookie)
    assert set(session_rows(settings.database_url)) == {session_key(sid)}, "the row is keyed by a digest"
    assert client.get("/m/1/console", headers=headers).status_code == 200
    assert client.get("/admin/users", headers=headers).status_code == 200
    assert (
        client.post("/m/1/act", data={"cmd": "banner", "text": "登录中"}, headers=headers).status_code == 200
    )

    with client.websocket_connect("/ws/1/console", headers={"cookie": headers["cookie"]}) as ws:
        ws.send_text(json.dumps({"type": "hello", "seq": -1}))
        while kind_of(ws.receive_text()) != "hello":
            pass
        out = client.post(
            "/logout", data={"csrf": headers["x-csrf-token"]}, headers={"cookie": headers["cookie"]}
        )
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert 'wz_user=""' in out.headers["set-cookie"] or "wz_user=;" in out.headers["set-cookie"]
        time.sleep(1.0)  # five rechecks of the open socket
        ws.send_text(json.dumps({"type": "time", "t0": 1}))
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:  # whatever was on its way, then the close; never the time reply
                assert kind_of(ws.receive_text()) != "time", "the socket is still open"
        assert closed.value.code == 1008

    assert session_rows(settings.database_url) == {}
    opens_nothing(client, headers)
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/ws/1/console", headers={"cookie": headers["cookie"]}),
    ):
        pass
    assert refused.value.code == 1008
    # A new login is a new session; the old cookie stays dead.
    fresh = staff_login(client)
    assert client.get("/m/1/console", headers=as_staff(keys, fresh)).status_code == 200
    opens_nothing(client, headers)


def test_an_expired_session_opens_nothing_and_the_next_login_deletes_it(
    client: TestClient, keys: Keys, settings: Settings
) -> None:
    old = staff_login(client)
    old_sid = keys.read_staff(old).sid  # type: ignore[union-attr]
    assert client.get("/m/1/console", headers=as_staff(keys, old)).status_code == 200
    expire(settings.database_url, old_sid)
    opens_nothing(client, as_staff(keys, old))
    assert session_key(old_sid) in session_rows(settings.database_url)
    new = staff_login(client)
    rows = session_rows(settings.database_url)
    assert set(rows) == {session_key(keys.read_staff(new).sid)}  # type: ignore[union-attr]
    assert all(expires > time.time() * 1000 for _, expires in rows.values())


def test_a_cookie_of_a_session_never_opened_opens_nothing(client: TestClient, keys: Keys) -> None:
    """Well signed, the demo chair's id and roles, but no row: not a session."""
    staff_login(client)  # the chair has a session, just not this one
    opens_nothing(
        client, as_staff(keys, keys.staff_cookie(1, "chair", frozenset({"chair", "staff", "admin"})))
    )


def test_logout_in_one_process_ends_the_session_in_the_other(
    spawn: Any, keys: Keys, meeting_id: int, redis_prefix: str
) -> None:
    """Two `wenzheng serve` processes on one database: log in and out on A, and B, which
    holds a console socket of that session, closes it, refuses a new one, opens nothing."""
    bus = {"WENZHENG_REDIS_URL": REDIS_URL, "WENZHENG_REDIS_PREFIX": redis_prefix}
    a, b = spawn(**bus), spawn(**bus)
    with a.client() as http_a, b.client() as http_b:
        cookie = staff_login(http_a)
        headers = as_staff(keys, cookie)
        assert http_b.get("/m/1/console", headers=headers).status_code == 200
        with ws_connect(f"{b.ws_url}/ws/1/console", headers["cookie"]) as ws:
            ws_hello(ws, -1)
            out = http_a.post(
                "/logout", data={"csrf": headers["x-csrf-token"]}, headers={"cookie": headers["cookie"]}
            )
            assert out.status_code == 303
            opens_nothing(http_b, headers)
            logged_out = time.monotonic()
            limit = sessions.RECHECK_S * 1.2 + 5
            with pytest.raises(ConnectionClosed) as closed:
                while time.monotonic() - logged_out < limit:
                    ws.recv(timeout=limit)
            took = time.monotonic() - logged_out
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert took < limit
        for server in (a, b):
            with (
                pytest.raises(InvalidStatus) as refused,
                ws_connect(f"{server.ws_url}/ws/1/console", headers["cookie"]),
            ):
                pass
            assert refused.value.response.status_code == 403
        print(f"B closed the console socket {took:.1f} s after the logout on A")
