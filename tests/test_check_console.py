"""The console's readiness panel over HTTP: the same lines as `wenzheng check --offline`,
only before check-in, cached, and never holding up the server while it checks.
"""

from __future__ import annotations

import asyncio
import html
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from server.base.settings import Settings
from server.office import readiness
from server.storage import backup_record
from server.web.routes.readiness import Cache
from tests.check_parts import closed_udp_port, sntp_server
from tests.conftest import Server, free_port, server_env, staff_login


@pytest.fixture(autouse=True)
def hall_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the settings are read: a public address nothing answers, no time server."""
    monkeypatch.setenv("WENZHENG_PUBLIC_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("WENZHENG_NTP_SERVER", closed_udp_port())


def chair(client: TestClient) -> None:
    reply = client.post("/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/"})
    assert reply.status_code == 303


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def test_panel_says_what_the_command_says_before_checkin_and_nothing_after(
    client: TestClient, meeting_id: int
) -> None:
    assert client.get(f"/m/{meeting_id}/readiness").status_code in (302, 303, 401)  # staff only
    chair(client)
    console = client.get(f"/m/{meeting_id}/console")
    assert f'hx-get="/m/{meeting_id}/readiness"' in console.text and 'id="c-ready"' in console.text
    panel = client.get(f"/m/{meeting_id}/readiness")
    assert panel.status_code == 200
    shown = text_of(panel.text)
    expected = asyncio.run(readiness.check(readiness.from_env(), offline=True))
    assert {line.level.value for line in expected} == {"通过", "注意", "未通过"}
    for line in expected:  # same lines, same words; what to do under each that does not pass
        assert f"{line.name} ：{line.text}" in shown or f"{line.name}：{line.text}" in shown, line
        if line.todo:
            assert f"处理：{line.todo}" in shown, line
    assert "2 项未通过" in shown and "离线会场标准" in shown  # the demo password; no server here

    headers = {"x-csrf-token": csrf(console.text), "hx-request": "true"}
    opened = client.post(f"/m/{meeting_id}/act", data={"cmd": "open_checkin"}, headers=headers)
    assert opened.status_code == 200, opened.text
    assert 'id="c-ready"' not in client.get(f"/m/{meeting_id}/console").text
    after = client.get(f"/m/{meeting_id}/readiness")
    assert after.status_code == 200 and after.text == ""


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_panel_is_kept_for_30_seconds_and_asked_again_on_request(
    client: TestClient, meeting_id: int, data_dir: Path, tmp_path: Path
) -> None:
    chair(client)
    first = text_of(client.get(f"/m/{meeting_id}/readiness").text)
    assert "还没有备份记录" in first
    out = tmp_path / "b.db"
    out.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    backup_record.record(data_dir, out)
    assert text_of(client.get(f"/m/{meeting_id}/readiness").text) == first  # kept: no new check
    cache: Cache = client.app.state.readiness  # type: ignore[attr-defined]
    cache.at -= 6  # older than the 5 s a 重新检查 waits for
    again = text_of(client.get(f"/m/{meeting_id}/readiness?again=1").text)
    assert "还没有备份记录" not in again and str(out) in again


@pytest.mark.slow
def test_a_slow_check_never_holds_up_the_server(settings: Settings, meeting_id: int, tmp_path: Path) -> None:
    """A time server that never answers: the panel waits its timeout, the server does not."""
    port = free_port()
    with sntp_server(0.0, answer=False) as silent:
        env = server_env(settings, WENZHENG_PUBLIC_URL=f"http://127.0.0.1:{port}", WENZHENG_NTP_SERVER=silent)
        server = Server(env, port, tmp_path / "serve.log")
        server.start()
        try:
            with httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as http:
                http.cookies.set("wz_user", staff_login(http))
                assert http.get(f"/m/{meeting_id}/console").status_code == 200  # the room loaded
                took: dict[str, float] = {}
                shown: list[str] = []

                def panel() -> None:
                    started = time.monotonic()
                    shown.append(http.get(f"/m/{meeting_id}/readiness").text)
                    took["panel"] = time.monotonic() - started

                asking = threading.Thread(target=panel)
                asking.start()
                time.sleep(0.3)  # let the check start (it then waits 2 s for the time server)
                assert http.get(f"/m/{meeting_id}/console").status_code == 200
                assert httpx.get(f"{server.base_url}/healthz", trust_env=False).status_code == 200
                assert asking.is_alive()  # both answered while the check was still waiting
                asking.join(15)
                assert took["panel"] > 1.5, took  # it did wait for the silent time server
                assert "没有应答" in shown[0]
                checked_at = re.search(r"(\d\d:\d\d:\d\d) 检查", shown[0])
                assert checked_at
                again = http.get(f"/m/{meeting_id}/readiness").text
                assert f"{checked_at.group(1)} 检查" in again  # the same result, from the cache
        finally:
            server.stop()
