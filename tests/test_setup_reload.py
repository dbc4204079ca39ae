"""A loaded meeting follows the office's edits without a restart.

Rules and agenda (/meetings/N/edit), the final question list (/m/N/review), the roster
and the officials (/bodies/N/…): each edit reloads every loaded meeting concerned from the
database and re-sends every fragment to its screens, in this process and, over Redis, in
the others. These tests load the meeting first (a screen is open), then edit.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.base.keys import Keys
from server.base.settings import Settings
from tests.conftest import (
    REDIS_URL,
    WENZHENG,
    Hall,
    Server,
    TestClient,
    server_env,
    ws_collect,
    ws_connect,
    ws_hello,
)

HEADER = "姓名,小组,代表证号,手机号,备注\n"


def login(client: Any) -> str:
    client.cookies.clear()
    reply = client.post("/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/"})
    assert reply.status_code == 303
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/bodies/1/roster").text)
    assert found
    return found.group(1)


def first_agenda_item(client: Any, meeting_id: int) -> int:
    page = client.get(f"/meetings/{meeting_id}/edit").text
    found = re.search(r'name="item_id" value="(\d+)"', page)
    assert found, page[:2000]
    return int(found.group(1))


def rename_first_agenda_item(http: Any, csrf: str, meeting_id: int, title: str) -> int:
    item = first_agenda_item(http, meeting_id)
    form = {"csrf": csrf, "action": "agenda_rename", "item_id": str(item), "item_kind": "report"}
    renamed = http.post(f"/meetings/{meeting_id}/edit", data={**form, "item_title": title})
    assert renamed.status_code == 303, renamed.text[:2000]
    return item


def runtime_state(client: TestClient, meeting_id: int) -> Any:
    app: Any = client.app
    return app.state.services.meetings.rooms[meeting_id].runtime.state


@pytest.mark.timeout(30)  # the TestClient socket has no receive timeout of its own
def test_agenda_and_rules_edits_reach_the_open_console_at_once(
    client: TestClient, hall: Hall, meeting_id: int
) -> None:
    assert "议程" in hall.console()  # the meeting is loaded, its console open
    with client.websocket_connect(
        f"/ws/{meeting_id}/console", headers={"cookie": hall.cookie_for("console")}
    ) as ws:
        ws.send_text(json.dumps({"type": "hello", "seq": 0}))
        while not ws.receive_text().startswith('{"type": "hello"'):
            pass
        item = rename_first_agenda_item(client, login(client), meeting_id, "政府半年工作报告（改）")
        got = ws.receive_text()
        assert 'id="c-agenda"' in got and "政府半年工作报告（改）" in got
    state = runtime_state(client, meeting_id)
    assert state.setup.agenda_item(item).title == "政府半年工作报告（改）"
    assert "政府半年工作报告（改）" in hall.console()


def test_roster_edits_and_imports_reach_a_loaded_meeting(
    client: TestClient, hall: Hall, meeting_id: int
) -> None:
    hall.console()
    before = runtime_state(client, meeting_id)
    expected = before.expected
    csrf = login(client)
    saved = client.post(
        "/bodies/1/deputies/1",
        data={"csrf": csrf, "name": "王建国（改）", "group": "城西代表小组", "phone": "", "notes": ""},
    )
    assert saved.status_code == 303
    state = runtime_state(client, meeting_id)
    assert state.setup.deputies[1].name == "王建国（改）"
    assert state.setup.deputies[1].group == "城西代表小组"

    csrf = login(client)
    good = HEADER + "张三丰,城东代表小组,2001,13812345678,\n"
    reply = client.post(
        "/bodies/1/roster/preview", files={"file": ("r.csv", good.encode())}, data={"csrf": csrf}
    )
    token = re.search(r'name="token" value="([^"]+)"', reply.text)
    assert token, reply.text[:2000]
    done = client.post("/bodies/1/roster/confirm", data={"csrf": csrf, "token": token.group(1)})
    assert done.status_code == 200
    state = runtime_state(client, meeting_id)
    assert state.expected == expected + 1
    app: Any = client.app
    card = app.state.services.meetings.card_by_number(meeting_id, "2001")
    assert card is not None and state.setup.deputies[card.deputy_id].name == "张三丰"
    # The console's manual check-in finds the new deputy at once.
    client.cookies.clear()
    found = client.get(f"/m/{meeting_id}/roster", params={"q": "张三丰"}, headers=hall.chair_headers())
    assert found.status_code == 200 and "张三丰" in found.text


# -- two processes on one Redis ---------------------------------------------------------------


def _login_http(http: httpx.Client) -> str:
    reply = http.post("/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/"})
    assert reply.status_code == 303, reply.text
    found = re.search(r'name="csrf" value="([^"]+)"', http.get("/bodies/1/roster").text)
    assert found
    return found.group(1)


@pytest.mark.redis
def test_an_edit_in_one_process_reaches_the_screens_of_another(
    spawn: Any, settings: Settings, meeting_id: int, keys: Keys, redis_prefix: str
) -> None:
    env = {"WENZHENG_REDIS_URL": REDIS_URL, "WENZHENG_REDIS_PREFIX": redis_prefix}
    a: Server = spawn(**env)
    b: Server = spawn(**env)
    with a.client() as http_a, b.client() as http_b:
        hall_b = Hall(http_b, keys, meeting_id)
        hall_b.console()  # loaded in B
        with ws_connect(f"{b.ws_url}/ws/{meeting_id}/console", hall_b.cookie_for("console")) as ws:
            ws_hello(ws, 10**6)  # ahead of the server: no snapshot, only what changes next
            rename_first_agenda_item(http_a, _login_http(http_a), meeting_id, "在另一进程改的议程")
            started = time.monotonic()
            got = ws_collect(ws, lambda ms: any("在另一进程改的议程" in m for m in ms), 5)
            assert any("在另一进程改的议程" in m for m in got), got
            assert time.monotonic() - started < 5
        assert "在另一进程改的议程" in hall_b.console()


@pytest.mark.redis
def test_a_command_line_import_reaches_a_running_server_on_redis(
    spawn: Any, settings: Settings, meeting_id: int, keys: Keys, redis_prefix: str, tmp_path: Path
) -> None:
    env = {"WENZHENG_REDIS_URL": REDIS_URL, "WENZHENG_REDIS_PREFIX": redis_prefix}
    server: Server = spawn(**env)
    with server.client() as http:
        hall = Hall(http, keys, meeting_id)
        hall.console()
        roster = tmp_path / "new.csv"
        roster.write_text(HEADER + "命令行新代表,城东代表小组,3001,,\n", encoding="utf-8")
        done = subprocess.run(
            [str(WENZHENG), "roster", "import", str(roster), "--body", "清溪镇人民代表大会"],
            env=server_env(settings, **env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 5
        found = ""
        while time.monotonic() < deadline and "命令行新代表" not in found:
            found = http.get(
                f"/m/{meeting_id}/roster", params={"q": "3001"}, headers=hall.chair_headers()
            ).text
            time.sleep(0.1)
        assert "命令行新代表" in found
