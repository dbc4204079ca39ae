"""The hall as it really is, over HTTP: the console's new actions and what load_setup reads.

A suspension and an approved leave request are written before the meeting is first
loaded; the console then records a part-way leave and a return, checks in a 列席 attendee
and ends the meeting, after which every action is refused with a Chinese message.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from live.state import MeetingState, Presence
from screens import messages as msg
from server.storage import models as m
from tests.conftest import Db, Hall

SUSPENDED, ON_LEAVE = 10, 11


def _prepare(db: Db) -> int:
    """Suspend deputy 10, approve deputy 11's leave, list one 列席 attendee; its id."""

    async def fn(conn: AsyncConnection) -> int:
        await conn.execute(
            insert(m.suspensions).values(
                deputy_id=SUSPENDED, starts_on=datetime.date(2000, 1, 1), ends_on=None, reason="测试"
            )
        )
        await conn.execute(
            insert(m.leave_requests).values(
                meeting_id=db.meeting_id,
                deputy_id=ON_LEAVE,
                reason="出差",
                status="approved",
                asked_by="deputy:11",
                asked_ms=0,
            )
        )
        result = await conn.execute(
            insert(m.attendees)
            .values(meeting_id=db.meeting_id, kind="observer", name="列席甲", organisation="区政协")
            .returning(m.attendees.c.id)
        )
        await conn.commit()
        return int(result.scalar_one())

    return int(db._run(fn))


def _state(hall: Hall) -> MeetingState:
    services: Any = hall.http.app.state.services  # type: ignore[attr-defined]
    state: MeetingState = services.meetings.rooms[hall.meeting_id].runtime.state
    return state


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _console(hall: Hall) -> str:
    page = hall.http.get(f"/m/{hall.meeting_id}/console", headers=hall.chair_headers())
    assert page.status_code == 200
    return page.text


def _roster(hall: Hall, query: str) -> str:
    page = hall.http.get(f"/m/{hall.meeting_id}/roster", params={"q": query}, headers=hall.chair_headers())
    assert page.status_code == 200
    return page.text


def test_the_console_drives_the_hall_as_it_is(hall: Hall, db: Db) -> None:
    attendee_id = _prepare(db)
    hall.act_ok("check_in", deputy_id=1)
    state = _state(hall)
    expected = len(state.setup.deputies) - 1
    assert state.expected == expected  # the suspended deputy is not expected
    assert state.attendance[ON_LEAVE] is Presence.LEAVE  # approved beforehand: on leave from the start
    assert "请假" in _text(_roster(hall, state.setup.deputies[ON_LEAVE].card_no))

    refused = hall.act("check_in", deputy_id=SUSPENDED)
    assert refused.status_code == 409 and msg.refusal("suspended") in refused.text
    row = _text(_roster(hall, state.setup.deputies[SUSPENDED].card_no))
    assert "暂停执行代表职务" in row and "人工签到" not in row

    # 中途离会 and the return, from the roster's row buttons.
    card = state.setup.deputies[1].card_no
    assert "leave_hall" in _roster(hall, card)
    hall.act_ok("leave_hall", deputy_id=1)
    assert state.attendance[1] is Presence.LEFT and state.present_count == 0
    assert "return_to_hall" in _roster(hall, card) and "中途离会" in _text(_roster(hall, card))
    console = _text(_console(hall))
    assert "中途离会 1" in console and f"应到 {expected}" in console and "实到 0" in console
    again = hall.act("return_to_hall", deputy_id=2)
    assert again.status_code == 409 and msg.refusal("not_left") in again.text
    hall.act_ok("return_to_hall", deputy_id=1)
    assert state.is_present(1) and state.left_count == 0

    # A 列席 attendee: counted apart, never in 实到.
    assert "列席甲" in _console(hall)
    hall.act_ok("attendee_check_in", attendee_id=attendee_id)
    assert state.attendees_in == {attendee_id} and state.present_count == 1
    assert re.search(r"列席\s*1\s*/\s*1", _text(_console(hall)))
    unknown = hall.act("attendee_check_in", attendee_id=attendee_id + 100)
    assert unknown.status_code == 409 and msg.refusal("unknown_attendee") in unknown.text
    bad = hall.act("attendee_check_in", attendee_id="甲")
    assert bad.status_code == 400 and "填写有误" in bad.text

    # The end: refused while a vote is open, then everything is refused.
    for d in range(12, 44):  # the quorum (32 of the 47 expected): no vote opens without it
        hall.act_ok("check_in", deputy_id=d)
    hall.act_ok("open_vote", title="关于民生实事项目的决议")
    busy = hall.act("close_meeting")
    assert busy.status_code == 409 and msg.refusal("ballot_in_progress") in busy.text
    hall.act_ok("close_vote")
    assert "结束会议" in _console(hall)
    hall.act_ok("close_meeting")
    assert state.closed
    for cmd, fields in (
        ("check_in", {"deputy_id": 3}),
        ("leave_hall", {"deputy_id": 1}),
        ("open_checkin", {}),
    ):
        after = hall.act(cmd, **fields)
        assert after.status_code == 409 and msg.refusal("meeting_closed") in after.text, cmd
    console = _console(hall)
    assert "会议已结束" in console and "结束会议" not in _text(console)
    public = hall.http.get(f"/m/{hall.meeting_id}/live")
    assert public.status_code == 200 and "会议已结束" in public.text
