"""The public live page: what the hall sees, read-only, for anyone, cheap to watch.

It never shows the hall QR (not even during check-in), no tally before a result is
announced, no card numbers, phones or short codes; many viewers cost one render per
update, and every socket gets the same bytes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from live.commands import CheckIn, CheckInMethod, OpenCheckIn, StartAgendaItem
from screens import render
from server.base.keys import Keys
from server.base.settings import Settings
from server.room.bus import MemoryBus
from server.room.connection import Connection
from server.room.meetings import Meetings
from server.storage.db import create_engine
from tests.conftest import CHAIR, STAFF, Db, Hall, TestClient, fragments, until
from tests.test_multiprocess import FakeSocket
from tests.test_votes import check_in, vote


def public(client: TestClient) -> str:
    client.cookies.clear()
    response = client.get("/m/1/live")
    assert response.status_code == 200
    return response.text


def test_the_public_page_shows_the_hall_and_hides_what_it_must(
    client: TestClient, hall: Hall, db: Db
) -> None:
    check_in(hall, 1, 2, 3)  # check-in is open: the projector shows the hall QR
    page = public(client)
    assert "/h/1/" not in page and "hall-qr" not in page and "<svg" not in page
    cards = [card for _, card, _ in db.deputies()]
    codes = [code for _, _, code in db.deputies()]
    assert not any(re.search(rf"\b{c}\b", page) for c in cards + codes)
    assert "会议直播" in page and 'ws-connect="/ws/1/public"' in page

    hall.act_ok("start_agenda", item_id=3)
    hall.act_ok("call_question", question_id=1)
    page = public(client)
    assert "农民建房审批慢" in page and "提问：王建国" in page and 'id="timer"' in page

    hall.act_ok("to_answering")
    hall.act_ok("open_rating")
    assert hall.rate(1, 1, "satisfied").status_code == 200
    page = public(client)
    assert "满意度测评进行中，结果将在测评结束后显示" in page
    assert "满意 1 票" not in page, "no tally before the result"
    hall.act_ok("close_rating")
    assert "满意度测评：农民建房审批慢" in public(client)
    assert "以应到人数 48 为基数" in public(client)  # the denominator rule beside the grade

    hall.act_ok("open_vote", title="关于民生实事的决议", live="1")
    assert vote(hall, 2, 1, "for").status_code == 200
    page = public(client)
    assert "表决进行中：关于民生实事的决议" in page and "赞成 1 票" not in page
    hall.act_ok("close_vote")
    assert "赞成 1 票" not in public(client), "closed is not announced"
    hall.act_ok("announce_vote")
    assert "表决：关于民生实事的决议" in public(client)
    assert "赞成 1 票，反对 0 票，弃权 0 票，未按 31 票，未通过" in public(client)  # 32 present
    hall.act_ok("banner", text="休会十分钟")
    assert "休会十分钟" in public(client)


def test_a_public_socket_needs_no_cookie(client: TestClient) -> None:
    client.cookies.clear()
    with client.websocket_connect("/ws/1/public") as ws:
        ws.send_text('{"type": "hello", "seq": 0}')
        assert ws.receive_text().startswith('{"type": "hello"')


async def test_many_viewers_cost_one_render_per_update(
    settings: Settings, meeting_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(settings.database_url)
    meetings = Meetings(engine, MemoryBus(), Keys(settings.secret_key), "http://hall", 30)
    try:
        room = await meetings.room(meeting_id)
        sockets = [FakeSocket() for _ in range(200)]
        for s in sockets:
            conn = Connection(s, "public")  # type: ignore[arg-type]
            conn.ready = True
            room.add(conn)
        calls: list[str] = []
        real = render.fragment

        def counting(frag_id: str, *args: Any, **kw: Any) -> str:
            calls.append(frag_id)
            return real(frag_id, *args, **kw)

        monkeypatch.setattr(render, "fragment", counting)
        await room.runtime.submit(OpenCheckIn(), STAFF)
        await room.runtime.submit(CheckIn(1, CheckInMethod.STAFF), STAFF)
        await room.runtime.submit(StartAgendaItem(3), CHAIR)
        assert await until(lambda: all(s.received for s in sockets)), "the viewers got nothing"
        assert calls.count("pu-session") == 1, calls
        first = sockets[0].received
        assert first and all(s.received == first for s in sockets), "every viewer gets the same bytes"
        assert "pu-session" in fragments(first[-1])
    finally:
        await meetings.close()
        await engine.dispose()
