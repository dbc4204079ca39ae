"""The chair blanks, freezes and captions the projector, over a real server and socket.

Frozen means frozen: while the session goes on the projector's socket hears nothing but
its mode, a projector that reloads (or a server that restarts) shows what was frozen,
and unfreezing brings every fragment up to date at once.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.base.keys import Keys
from tests.conftest import Hall, Server, fragments, ws_collect, ws_connect, ws_drain, ws_hello

pytestmark = pytest.mark.slow


def test_banner_blank_freeze_and_back(spawn: Any, keys: Keys, meeting_id: int) -> None:
    server: Server = spawn()
    with server.client() as http:
        hall = Hall(http, keys, meeting_id)
        url = f"{server.ws_url}/ws/{meeting_id}/projector"
        with ws_connect(url, hall.cookie_for("projector")) as ws:
            ws_hello(ws, 10**6)
            hall.act_ok("banner", text="请各位代表将手机调至静音")
            got = ws_collect(ws, lambda ms: any('id="p-banner"' in m for m in ms), 3)
            assert any("请各位代表将手机调至静音" in m for m in got), got
            assert "请各位代表将手机调至静音" in hall.projector()

            hall.act_ok("projector_mode", mode="blank")
            got = ws_collect(ws, lambda ms: any("mode-blank" in m for m in ms), 3)
            assert any("mode-blank" in m for m in got), got
            hall.act_ok("projector_mode", mode="normal")
            ws_drain(ws)

            hall.act_ok("start_agenda", item_id=3)
            ws_drain(ws)
            hall.act_ok("projector_mode", mode="frozen")
            got = ws_collect(ws, lambda ms: any("mode-frozen" in m for m in ms), 3)
            assert any("mode-frozen" in m for m in got)
            frozen_stage = fragments(hall.projector())["stage"]
            # The session goes on; the frozen projector hears nothing of it.
            hall.act_ok("call_question", question_id=1)
            hall.act_ok("banner", text="")
            assert ws_drain(ws, quiet=0.6) == []
            assert fragments(hall.projector())["stage"] == frozen_stage, "a reload shows the frozen screen"
            assert "请各位代表将手机调至静音" in hall.projector()
            assert "农民建房审批慢" not in hall.projector()

        server.kill()
        server.start()
        assert fragments(hall.projector())["stage"] == frozen_stage, "and so does a restart"

        with ws_connect(url, hall.cookie_for("projector")) as ws:
            ws_hello(ws, 10**6)
            hall.act_ok("projector_mode", mode="normal")
            got = ws_collect(ws, lambda ms: any('id="stage"' in m for m in ms), 3)
            merged = "\n".join(got)
            assert "mode-normal" in merged and "农民建房审批慢" in merged
            assert 'class="p-banner"' in merged  # the caption was removed while frozen
        page = hall.projector()
        assert "农民建房审批慢" in page and "请各位代表将手机调至静音" not in page


def test_projector_controls_refuse_bad_input(hall: Hall) -> None:
    for data, needle in (
        ({"cmd": "projector_mode", "mode": "sleep"}, "“投影屏状态”填写有误"),
        ({"cmd": "banner", "text": "长" * 61}, "字幕不能超过60个字"),
    ):
        response = hall.http.post("/m/1/act", data=data, headers=hall.chair_headers())
        assert response.status_code in (400, 409)
        assert needle in response.text
