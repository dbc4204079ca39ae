"""The speaker queue through the real server: phones ask for the floor and see their
place, the chair grants, moves, removes and adds by card number, speeches are timed and
their length recorded; bad input is refused in Chinese and changes nothing."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Db, Hall
from tests.test_http import chinese
from tests.test_votes import check_in, rows


def floor(hall: Hall, deputy_id: int, **data: str) -> Any:
    return hall.http.post(f"/d/{hall.meeting_id}/floor", data=data, headers=hall.deputy_headers(deputy_id))


def place_of(html: str) -> int | None:
    found = re.search(r'class="d-place">(\d+)<', html)
    return int(found.group(1)) if found else None


def test_phones_queue_for_the_floor_and_the_chair_runs_it(hall: Hall, db: Db) -> None:
    from server.storage import models as m

    check_in(hall, 1, 2, 3)
    refused = floor(hall, 1, kind="speech")
    assert refused.status_code == 409
    chinese(refused.text, "议程开始后才能申请发言")
    hall.act_ok("start_agenda", item_id=3)
    assert "申请发言" in hall.deputy_page(1)
    reply = floor(hall, 1, kind="speech", subject="关于村道养护")
    assert reply.status_code == 200 and place_of(reply.text) == 1
    assert place_of(floor(hall, 2, kind="speech").text) == 2
    again = floor(hall, 1, kind="speech")
    assert again.status_code == 409
    chinese(again.text, "您已在发言排队中")
    cannot = floor(hall, 2, kind="followup")
    assert cannot.status_code == 409  # already queued, and no question to follow up anyway

    console = hall.console()
    assert "发言排队（2 人）" in console and "关于村道养护" in console
    hall.act_ok("floor_move", deputy_id=2, place=1)
    assert place_of(hall.deputy_page(1)) == 2 and place_of(hall.deputy_page(2)) == 1
    card = db.deputies()[2][1]  # deputy 3, who has no phone: the chair adds by card number
    hall.act_ok("floor_add", deputy_card=card, kind="speech")
    assert "发言排队（3 人）" in hall.console()
    hall.act_ok("floor_remove", deputy_id=3)
    assert floor(hall, 1, action="withdraw").status_code == 200
    assert place_of(hall.deputy_page(1)) is None

    hall.act_ok("floor_grant", deputy_id=2)
    assert "正在发言" in hall.console() and "您正在发言" in hall.deputy_page(2)
    projector = hall.projector()
    assert "代表发言" in projector and 'data-running="1"' in projector
    assert "首次发言" not in projector and "发言计时" in projector
    hall.act_ok("speech_end")
    state = db.state()
    assert 2 in state.spoken_ms and state.speaking_id is None
    assert "代表发言累计时间" in hall.console()
    kinds = [r.type for r in rows(db, m.events)]
    assert kinds.count("FloorRequested") == 3 and "SpeechStarted" in kinds and "SpeechEnded" in kinds


def test_bad_floor_input_is_refused_in_chinese(hall: Hall, db: Db) -> None:
    from server.storage import models as m

    check_in(hall, 1)
    hall.act_ok("start_agenda", item_id=3)
    before = rows(db, m.events)
    for data, needle in (
        ({"kind": "shout"}, "“申请类型”填写有误"),
        ({"kind": "speech", "subject": "长" * 41}, "发言主题不能超过40个字"),
        ({"action": "withdraw"}, "不在发言排队中"),
    ):
        reply = floor(hall, 1, **data)
        assert reply.status_code in (400, 409)
        chinese(reply.text, needle)
    for data, needle in (
        ({"cmd": "floor_add", "deputy_card": "no-such-card", "kind": "speech"}, "“代表卡号”填写有误"),
        ({"cmd": "floor_grant", "deputy_id": "1"}, "不在发言排队中"),
        ({"cmd": "floor_move", "deputy_id": "1", "place": "x"}, "“排队位置”填写有误"),
        ({"cmd": "speech_end"}, "当前没有代表在发言"),
    ):
        response = hall.http.post("/m/1/act", data=data, headers=hall.chair_headers())
        assert response.status_code in (400, 409), response.text
        chinese(response.text, needle)
    assert rows(db, m.events) == before
