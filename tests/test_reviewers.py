"""A presidium member reviews a meeting's questions from their own phone, without a staff
account: a real `wenzheng serve` over HTTP, phones bound by their invitation links. The
approval names them (主席团成员 姓名) in the submission's history and in the audit trail;
a deputy who is not a granted reviewer, or whose grant was revoked, gets 403."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.base.settings import Settings
from server.storage import models as m
from tests.conftest import Server, staff_login
from tests.test_meetings_admin import run
from tests.test_presidium import add_term, audit_rows, deputies

PHONE_UA = "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 Mobile MicroMessenger/8.0"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:2000]
    return found.group(1)


OPENED: list[httpx.Client] = []


def phone(server: Server, keys: Keys, meeting_id: int, deputy_id: int) -> httpx.Client:
    """A deputy's phone, bound the way a real one is: by the card's invitation link."""
    http = server.client()
    OPENED.append(http)
    http.headers["user-agent"] = PHONE_UA
    opened = http.get(f"/i/{meeting_id}/{keys.invitation(deputy_id, 1)}")
    assert opened.status_code == 303 and http.cookies.get("wz_deputy"), opened.text[:500]
    return http


def submission(settings: Settings, sub_id: int) -> Any:
    async def fn(conn: AsyncConnection) -> Any:
        t = m.question_submissions
        return (await conn.execute(select(t).where(t.c.id == sub_id))).one()

    return run(settings.database_url, fn)


def newest_submissions(settings: Settings, meeting_id: int) -> list[int]:
    async def fn(conn: AsyncConnection) -> list[int]:
        t = m.question_submissions
        stmt = select(t.c.id).where(t.c.meeting_id == meeting_id, t.c.entered_by != "demo").order_by(t.c.id)
        return [int(i) for i in (await conn.execute(stmt)).scalars()]

    return list(run(settings.database_url, fn))


def test_a_reviewer_approves_from_the_phone_and_is_named(
    spawn: Callable[..., Server], settings: Settings, keys: Keys, meeting_id: int
) -> None:
    try:
        reviewer_approves(spawn, settings, keys, meeting_id)
    finally:
        while OPENED:
            OPENED.pop().close()


def reviewer_approves(spawn: Callable[..., Server], settings: Settings, keys: Keys, meeting_id: int) -> None:
    term, _ = add_term(settings)

    async def into_term(conn: AsyncConnection) -> None:
        await conn.execute(update(m.meetings).where(m.meetings.c.id == meeting_id).values(term_id=term))

    run(settings.database_url, into_term)
    people = deputies(settings)
    chair_member, member, outsider, proposer = people[0], people[1], people[2], people[9]
    server = spawn()
    staff = server.client()
    OPENED.append(staff)
    cookie = staff_login(staff)
    session = keys.read_staff(cookie)
    assert session is not None
    staff.headers["cookie"] = f"wz_user={cookie}"
    token = keys.csrf(session.sid)

    # Staff set the town's presidium, then give one member the meeting's review board.
    form = {"csrf": token, "term": str(term), f"member_{chair_member.id}": "1", f"member_{member.id}": "1"}
    form[f"exec_{chair_member.id}"] = "1"
    assert staff.post("/bodies/1/presidium", data=form).status_code == 303
    listed = staff.get(f"/m/{meeting_id}/reviewers")
    assert listed.status_code == 200 and chair_member.name in listed.text and "授权" in listed.text
    refused = staff.post(
        f"/m/{meeting_id}/reviewers", data={"csrf": token, "action": "grant", "deputy": str(outsider.id)}
    )
    assert refused.status_code == 400 and "只能授权本次会议所属主席团的成员" in refused.text
    grant = {"csrf": token, "action": "grant", "deputy": str(chair_member.id)}
    assert staff.post(f"/m/{meeting_id}/reviewers", data=grant).status_code == 303
    [granted] = audit_rows(settings, "reviewer_granted")
    assert granted.actor == "staff:chair" and json.loads(granted.detail)["deputy_id"] == chair_member.id
    assert "已授权" in staff.get(f"/m/{meeting_id}/reviewers").text

    # A deputy submits two questions from the phone.
    mine = phone(server, keys, meeting_id, proposer.id)
    page = mine.get(f"/d/{meeting_id}/questions")
    assert page.status_code == 200 and 'id="rv-enter"' not in page.text
    for title in ("农村公路养护资金", "学校食堂监管"):
        sent = mine.post(f"/d/{meeting_id}/questions", data={"csrf": csrf_of(page.text), "title": title})
        assert sent.status_code == 303, sent.text[:2000]
    first, second = newest_submissions(settings, meeting_id)

    # The reviewer opens the board from their own phone, no staff account.
    reviewer = phone(server, keys, meeting_id, chair_member.id)
    entry = reviewer.get(f"/d/{meeting_id}/questions")
    assert f'href="/d/{meeting_id}/review"' in entry.text
    board = reviewer.get(f"/d/{meeting_id}/review")
    assert (
        board.status_code == 200
        and "农村公路养护资金" in board.text
        and "主席团成员 · 问题审核" in board.text
    )
    approve = {"csrf": csrf_of(board.text), "action": "approve", "sub": str(first)}
    done = reviewer.post(f"/d/{meeting_id}/review", data=approve)
    assert done.status_code == 303 and done.headers["location"] == f"/d/{meeting_id}/review?saved=approve"
    saved = reviewer.get(done.headers["location"]).text
    assert f"记录为：主席团成员 {chair_member.name}" in saved

    row = submission(settings, first)
    assert row.status == "approved" and row.question_id
    assert json.loads(row.history)[-1]["who"] == f"presidium:{chair_member.id}"
    [reviewed] = audit_rows(settings, "question_reviewed")
    detail = json.loads(reviewed.detail)
    assert reviewed.actor == f"presidium:{chair_member.id}" and reviewed.meeting_id == meeting_id
    assert detail["by"] == f"主席团成员 {chair_member.name}" and "采用" in detail["summary"]
    assert "农村公路养护资金" in detail["summary"]
    # The staff board's history and the meeting's audit trail say who approved.
    staff_board = staff.get(f"/m/{meeting_id}/review").text
    assert f"主席团成员 {chair_member.name} 采用" in staff_board
    trail = staff.get(f"/m/{meeting_id}/audit").text
    assert f"主席团成员 {chair_member.name}" in trail and "审核问题" in trail
    # Staff work stays under the office's own desk: deadline and entering are refused.
    desk = reviewer.post(f"/d/{meeting_id}/review", data={**approve, "action": "deadline", "deadline": ""})
    assert desk.status_code == 400 and "此操作由会务人员办理" in desk.text

    # A presidium member without the grant, and a deputy outside the presidium: 403.
    for who in (member, outsider):
        other = phone(server, keys, meeting_id, who.id)
        assert 'id="rv-enter"' not in other.get(f"/d/{meeting_id}/questions").text
        denied = other.get(f"/d/{meeting_id}/review")
        assert denied.status_code == 403 and "没有审核本次会议问题的授权" in denied.text
        token_other = csrf_of(other.get(f"/d/{meeting_id}/questions").text)
        tried = other.post(
            f"/d/{meeting_id}/review", data={"csrf": token_other, "action": "approve", "sub": str(second)}
        )
        assert tried.status_code == 403
        assert submission(settings, second).status == "submitted"

    # Revoked: the reviewer's phone is refused at once, and changes nothing.
    revoke = {"csrf": token, "action": "revoke", "deputy": str(chair_member.id)}
    assert staff.post(f"/m/{meeting_id}/reviewers", data=revoke).status_code == 303
    assert len(audit_rows(settings, "reviewer_revoked")) == 1
    assert reviewer.get(f"/d/{meeting_id}/review").status_code == 403
    late = reviewer.post(f"/d/{meeting_id}/review", data={**approve, "sub": str(second)})
    assert late.status_code == 403 and submission(settings, second).status == "submitted"
    assert len(audit_rows(settings, "question_reviewed")) == 1

    # Staff approve the other one: the history names the staff member.
    staff_approve = {"csrf": token, "action": "approve", "sub": str(second)}
    assert staff.post(f"/m/{meeting_id}/review", data=staff_approve).status_code == 303
    assert json.loads(submission(settings, second).history)[-1]["who"] == "chair"
    assert "工作人员 演示主持人 采用" in staff.get(f"/m/{meeting_id}/review").text
    by = [json.loads(r.detail)["by"] for r in audit_rows(settings, "question_reviewed")]
    assert by == [f"主席团成员 {chair_member.name}", "工作人员 演示主持人"]
