"""Leave over HTTP, against the running app (the demo meeting): a deputy asks from the
phone, staff approve, refuse or record it, and the running meeting's console and
projector follow at once; refusals change nothing; every change is audited; the history
pages and their XLSX read the frozen records."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
from typing import Any

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.settings import Settings
from server.storage import attendance
from server.storage import models as m
from tests.conftest import Db, Hall, TestClient, write_db
from tests.test_csrf import everything

DAY0 = dt.date(2021, 1, 1)


def shown_leave(html: str, fragment: str) -> int:
    """The 请假 figure of the console's (c-attendance) or projector's (p-attendance) panel."""
    section = re.search(rf'id="{fragment}".*?quorum', html, re.S)
    assert section, f"no {fragment}"
    found = re.search(r"请假\s*(?:<b>|</span><span class=\"fig-num\">)(\d+)<", section.group(0))
    assert found, section.group(0)
    return int(found.group(1))


def audit_actions(db: Db) -> list[tuple[str, str, dict[str, Any]]]:
    async def fn(conn: AsyncConnection) -> list[tuple[str, str, dict[str, Any]]]:
        rows = await conn.execute(
            select(m.audit).where(m.audit.c.action.like("leave_%")).order_by(m.audit.c.id)
        )
        return [(r.action, r.actor, json.loads(r.detail)) for r in rows]

    return list(db._run(fn))


def requests(db: Db) -> list[Any]:
    async def fn(conn: AsyncConnection) -> list[Any]:
        return list((await conn.execute(select(m.leave_requests).order_by(m.leave_requests.c.id))).all())

    return list(db._run(fn))


def ask(client: TestClient, hall: Hall, deputy: int, reason: str, **more: str) -> httpx.Response:
    headers = hall.deputy_headers(deputy)
    data = {"action": "ask", "reason": reason, "csrf": headers["x-csrf-token"], **more}
    return client.post("/d/1/leave", data=data, headers={"cookie": headers["cookie"]})


def staff(client: TestClient, hall: Hall, **data: str) -> httpx.Response:
    headers = hall.chair_headers()
    return client.post(
        "/m/1/leave", data={**data, "csrf": headers["x-csrf-token"]}, headers={"cookie": headers["cookie"]}
    )


def test_an_approval_puts_the_deputy_on_leave_in_the_running_meeting(
    client: TestClient, hall: Hall, db: Db
) -> None:
    deputy = 3
    hall.act_ok("open_checkin")  # the meeting runs: its log has begun
    assert shown_leave(hall.console(), "c-attendance") == 0
    page = client.get("/d/1/leave", headers={"cookie": hall.deputy_headers(deputy)["cookie"]})
    assert page.status_code == 200 and "提交请假申请" in page.text
    assert 'href="/d/1/leave"' in hall.deputy_page(deputy)  # linked from the deputy page

    reply = ask(client, hall, deputy, "到市里开会")
    assert reply.status_code == 303, reply.text
    mine = client.get("/d/1/leave", headers={"cookie": hall.deputy_headers(deputy)["cookie"]}).text
    assert "待审批" in mine and "到市里开会" in mine and "撤回申请" in mine
    (request,) = requests(db)
    assert (request.status, request.asked_by) == ("asked", f"deputy:{deputy}")

    board = client.get("/m/1/leave", headers={"cookie": hall.chair_headers()["cookie"]})
    assert board.status_code == 200 and "到市里开会" in board.text and "批准" in board.text
    assert shown_leave(hall.console(), "c-attendance") == 0  # asking alone changes nothing

    reply = staff(client, hall, action="approve", request=str(request.id), note="同意")
    assert reply.status_code == 303, reply.text
    assert shown_leave(hall.console(), "c-attendance") == 1
    assert shown_leave(hall.projector(), "p-attendance") == 1
    assert db.state().attendance[deputy].value == "leave"
    (request,) = requests(db)
    assert (request.status, request.decided_by, request.note) == ("approved", "staff:chair", "同意")
    assert request.decided_ms and abs(request.decided_ms - time.time() * 1000) < 60_000
    mine = client.get("/d/1/leave", headers={"cookie": hall.deputy_headers(deputy)["cookie"]}).text
    assert "已批准" in mine and "同意" in mine and "撤回申请" not in mine
    # The MarkLeave went through the one action path, with the staff user as the actor.
    events = db._run(
        lambda c: c.execute(
            select(m.events.c.type, m.events.c.actor).where(m.events.c.type == "DeputyOnLeave")
        )
    )
    assert [tuple(e) for e in events] == [("DeputyOnLeave", "chair:chair")]

    # Refused afterwards: back to absent on every screen.
    reply = staff(client, hall, action="refuse", request=str(request.id), note="会议重要，请参加")
    assert reply.status_code == 303, reply.text
    assert shown_leave(hall.console(), "c-attendance") == 0
    assert shown_leave(hall.projector(), "p-attendance") == 0
    assert (
        "未批准" in client.get("/d/1/leave", headers={"cookie": hall.deputy_headers(deputy)["cookie"]}).text
    )

    actions = audit_actions(db)
    assert [(a, who) for a, who, _ in actions] == [
        ("leave_asked", f"deputy:{deputy}"),
        ("leave_decided", "staff:chair"),
        ("leave_decided", "staff:chair"),
    ]
    assert [(d["before"], d["after"]) for a, _, d in actions[1:]] == [
        ("asked", "approved"),
        ("approved", "refused"),
    ]
    trail = client.get("/m/1/audit", headers={"cookie": hall.chair_headers()["cookie"]}).text
    assert "待审批 → 已批准；意见：同意" in trail and "请假理由：到市里开会" in trail


def test_staff_record_leave_by_hand_and_the_console_follows(client: TestClient, hall: Hall, db: Db) -> None:
    hall.act_ok("open_checkin")
    hall.act_ok("check_in", deputy_id=4)
    reply = staff(client, hall, action="record", deputy="5", reason="住院")
    assert reply.status_code == 303, reply.text
    assert shown_leave(hall.console(), "c-attendance") == 1
    (request,) = requests(db)
    assert (request.status, request.asked_by, request.decided_by) == (
        "approved",
        "staff:chair",
        "staff:chair",
    )
    assert [(a, d["deputy_id"]) for a, _, d in audit_actions(db)] == [("leave_recorded", 5)]
    # A deputy already checked in, and a second record of the same deputy: refused, nothing written.
    before = everything(db)
    for data, text in (
        ({"deputy": "4", "reason": "x"}, "已经签到"),
        ({"deputy": "5", "reason": "x"}, "已有请假申请"),
        ({"deputy": "5", "reason": ""}, "请填写请假理由"),
        ({"deputy": "abc", "reason": "x"}, "请选择请假的代表"),
        ({"deputy": "999999", "reason": "x"}, "不是本次会议"),
    ):
        reply = staff(client, hall, action="record", **data)
        assert reply.status_code == 400 and text in reply.text, (data, reply.text[-600:])
    assert everything(db) == before


def test_refused_requests_change_nothing(client: TestClient, hall: Hall, db: Db, settings: Settings) -> None:
    hall.act_ok("open_checkin")
    hall.act_ok("check_in", deputy_id=4)
    for deputy in (3, 4, 6):
        hall.deputy_page(deputy)  # the phones are bound before the snapshot
    assert ask(client, hall, 6, "家中有事").status_code == 303
    before = everything(db)
    for deputy, reason, text in (
        (4, "临时有事", "已经签到"),  # present already
        (3, "", "请填写请假理由"),
        (3, "   ", "请填写请假理由"),
        (3, "很" * 201, "不能超过 200 字"),
        (3, "a\x00b", "控制字符"),
        (6, "再请一次", "已有一份请假申请"),  # a second open request
    ):
        reply = ask(client, hall, deputy, reason)
        assert reply.status_code == 400 and text in reply.text, (deputy, reason, reply.text[-500:])
    bad = ask(client, hall, 3, "x", action="delete")
    assert bad.status_code == 400
    # Withdrawing someone else's request, or a decided one.
    (request,) = requests(db)
    assert ask(client, hall, 3, "", action="withdraw", request=str(request.id)).status_code == 400
    assert everything(db) == before

    # The meeting ended: no request, no decision.
    write_db(
        settings, lambda c: c.execute(update(m.meetings).where(m.meetings.c.id == 1).values(closed_ms=1))
    )
    before = everything(db)
    reply = ask(client, hall, 3, "出差")
    assert reply.status_code == 400 and "会议已经结束" in reply.text
    reply = staff(client, hall, action="approve", request=str(request.id))
    assert reply.status_code == 400 and "会议已经结束" in reply.text
    assert everything(db) == before


def test_a_deputy_withdraws_a_pending_request(client: TestClient, hall: Hall, db: Db) -> None:
    assert ask(client, hall, 3, "出差").status_code == 303
    (request,) = requests(db)
    assert ask(client, hall, 3, "", action="withdraw", request=str(request.id)).status_code == 303
    assert requests(db)[0].status == "withdrawn"
    assert ask(client, hall, 3, "", action="withdraw", request=str(request.id)).status_code == 400
    assert ask(client, hall, 3, "还是要请假").status_code == 303  # a new request after withdrawing
    assert [r.status for r in requests(db)] == ["withdrawn", "asked"]
    actions = [(a, d.get("after")) for a, _, d in audit_actions(db)]
    assert actions == [("leave_asked", None), ("leave_decided", "withdrawn"), ("leave_asked", None)]


def test_history_pages_and_xlsx_after_the_close(
    client: TestClient, hall: Hall, db: Db, settings: Settings
) -> None:
    hall.act_ok("open_checkin")
    hall.act_ok("check_in", deputy_id=4)
    assert staff(client, hall, action="record", deputy="5", reason="住院").status_code == 303
    write_db(settings, lambda c: attendance.freeze(c, 1, int(time.time() * 1000)))
    cookie = {"cookie": hall.chair_headers()["cookie"]}
    names = dict(db._run(lambda c: c.execute(select(m.deputies.c.id, m.deputies.c.name))).all())

    page = client.get("/bodies/1/attendance", headers=cookie)
    assert page.status_code == 200 and names[4] in page.text and 'id="at-grid"' in page.text
    reply = client.get("/bodies/1/attendance.xlsx", headers=cookie)
    assert reply.status_code == 200
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    sheet = load_workbook(io.BytesIO(reply.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["姓名", "卡号", "代表小组"]
    by_name = {r[0]: r[3] for r in rows[1:]}
    assert (by_name[names[4]], by_name[names[5]], by_name[names[6]]) == ("出", "假", "缺")

    member = client.get("/bodies/1/deputies/6/attendance", headers=cookie)
    assert member.status_code == 200 and "缺席" in member.text
    one = load_workbook(
        io.BytesIO(client.get("/bodies/1/deputies/6/attendance.xlsx", headers=cookie).content)
    )
    assert [c.value for c in next(one.active.iter_rows())][:3] == ["会议", "日期", "出勤"]
    assert one.active.cell(row=2, column=3).value == "缺席"

    # A correction: a note is required; then it is kept, audited, and shown.
    headers = hall.chair_headers()
    form = {"meeting": "1", "status": "leave", "csrf": headers["x-csrf-token"]}
    before = everything(db)
    refused = client.post("/bodies/1/deputies/6/attendance", data=form, headers={"cookie": headers["cookie"]})
    assert refused.status_code == 400 and "更正说明" in refused.text
    assert everything(db) == before
    done = client.post(
        "/bodies/1/deputies/6/attendance",
        data={**form, "note": "补假条"},
        headers={"cookie": headers["cookie"]},
    )
    assert done.status_code == 303
    assert "请假" in client.get("/bodies/1/deputies/6/attendance", headers=cookie).text
    # After the close, leave can no longer be asked for: the phone page says so.
    closed = client.get("/d/1/leave", headers={"cookie": hall.deputy_headers(3)["cookie"]})
    assert "会议已经结束" in closed.text and "提交请假申请" not in closed.text


def test_a_formula_in_a_name_stays_text_in_the_xlsx(
    client: TestClient, hall: Hall, settings: Settings
) -> None:
    write_db(
        settings, lambda c: c.execute(update(m.deputies).where(m.deputies.c.id == 3).values(name="=1+2"))
    )
    write_db(settings, lambda c: attendance.freeze(c, 1, int(time.time() * 1000)))
    reply = client.get("/bodies/1/attendance.xlsx", headers={"cookie": hall.chair_headers()["cookie"]})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(reply.content)).active
    assert "'=1+2" in [row[0].value for row in sheet.iter_rows()]


def test_the_two_absence_warnings_on_the_phone_and_the_body_pages(
    client: TestClient, hall: Hall, settings: Settings
) -> None:
    """Two sessions of the demo congress missed by everyone (no events): after the first,
    the phone says so; after the second, the body's pages warn staff."""

    async def session_missed(conn: AsyncConnection, number: int) -> None:
        term = (await conn.execute(select(m.terms.c.id).where(m.terms.c.body_id == 1))).scalar()
        if term is None:
            term = (
                await conn.execute(insert(m.terms).values(body_id=1, number=17, starts_on=DAY0))
            ).lastrowid
        # The demo's congress has its term 17 and sessions 1 to 3 (the demo meeting is in 3).
        session = (
            await conn.execute(
                select(m.sessions.c.id).where(m.sessions.c.term_id == term, m.sessions.c.number == number)
            )
        ).scalar()
        if session is None:
            session = (await conn.execute(insert(m.sessions).values(term_id=term, number=number))).lastrowid
        meeting = (
            await conn.execute(
                insert(m.meetings).values(
                    body_id=1,
                    kind="mid_year",
                    title=f"第{number}次会议",
                    settings="{}",
                    created_ms=0,
                    term_id=term,
                    session_id=session,
                )
            )
        ).lastrowid
        await attendance.freeze(conn, meeting, int(time.time() * 1000))

    def missed(number: int) -> None:
        """Written straight into the tables: tell the server, as a meeting's close does
        (the phone's notice is kept until the records change, server/web/absences.py)."""
        write_db(settings, lambda c: session_missed(c, number))
        client.portal.call(client.app.state.services.meetings.records_changed)  # type: ignore[attr-defined]

    staff_cookie = {"cookie": hall.chair_headers()["cookie"]}
    assert "已两次" not in client.get("/bodies/1/attendance", headers=staff_cookie).text
    assert "未经批准缺席" not in hall.deputy_page(6)
    missed(1)
    assert "您已有一次未经批准缺席本级人民代表大会会议（第十七届第一次会议）" in hall.deputy_page(6)
    leave_page = client.get("/d/1/leave", headers={"cookie": hall.deputy_headers(6)["cookie"]}).text
    assert "您已有一次未经批准缺席" in leave_page
    assert 'id="at-warnings"' not in client.get("/bodies/1/attendance", headers=staff_cookie).text
    missed(3)  # not the next session: 2 is skipped
    body_page = client.get("/bodies/1/attendance", headers=staff_cookie).text
    assert 'id="at-warnings"' in body_page
    assert "已两次未经批准不出席本级人民代表大会会议（第十七届第一次会议、第十七届第三次会议）" in body_page
    assert "依照代表法第四十九条，其代表资格终止" in body_page and 'href="/bodies/1/deputies/6"' in body_page
    assert 'id="at-warnings"' in client.get("/bodies/1/roster", headers=staff_cookie).text
    member = client.get("/bodies/1/deputies/6/attendance", headers=staff_cookie).text
    assert 'id="at-member-warning"' in member
    assert "您已有两次未经批准缺席" in hall.deputy_page(6)
