"""Rehearsals: cloned from the real meeting with the mark and the same agenda; a session of
commands in it, then a reset that leaves nothing of it but its audit entries, while the
loaded room starts again and the real meeting is untouched; a real meeting is never reset."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.base.settings import Settings
from server.office import rehearsals
from server.storage import models as m
from server.storage import store
from tests.conftest import REDIS_URL, Db, Hall, Server, TestClient, eventually
from tests.test_csrf import everything
from tests.test_meetings_admin import run, staff_headers
from tests.test_presidium import add_term, audit_rows


def rows_of(settings: Settings, meeting_id: int) -> dict[str, int]:
    """How many rows each table holds for the meeting."""

    async def fn(conn: AsyncConnection) -> dict[str, int]:
        out = {}
        for table in m.metadata.sorted_tables:
            if "meeting_id" in table.c:
                stmt = select(func.count()).select_from(table).where(table.c.meeting_id == meeting_id)
                out[table.name] = int((await conn.execute(stmt)).scalar_one())
        return out

    return dict(run(settings.database_url, fn))


def meeting(settings: Settings, meeting_id: int) -> Any:
    async def fn(conn: AsyncConnection) -> Any:
        return (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).one()

    return run(settings.database_url, fn)


def agenda_and_questions(settings: Settings, meeting_id: int) -> tuple[list[Any], list[Any]]:
    async def fn(conn: AsyncConnection) -> tuple[list[Any], list[Any]]:
        a, q, r = m.agenda_items, m.questions, m.question_respondents
        items = await conn.execute(
            select(a.c.position, a.c.kind, a.c.title)
            .where(a.c.meeting_id == meeting_id)
            .order_by(a.c.position)
        )
        questions = []
        for row in await conn.execute(select(q).where(q.c.meeting_id == meeting_id).order_by(q.c.position)):
            who = await conn.execute(
                select(r.c.official_id).where(r.c.question_id == row.id).order_by(r.c.position)
            )
            questions.append((row.position, row.title, row.asker_id, list(who.scalars())))
        return [tuple(i) for i in items], questions

    result: tuple[list[Any], list[Any]] = run(settings.database_url, fn)
    return result


def first_question(settings: Settings, meeting_id: int) -> int:
    async def fn(conn: AsyncConnection) -> int:
        q = m.questions
        stmt = select(q.c.id).where(q.c.meeting_id == meeting_id).order_by(q.c.position).limit(1)
        return int((await conn.execute(stmt)).scalar_one())

    return int(run(settings.database_url, fn))


def setup_of(settings: Settings, meeting_id: int) -> Any:
    async def fn(conn: AsyncConnection) -> Any:
        return await store.load_setup(conn, meeting_id)

    return run(settings.database_url, fn)


def create(client: TestClient, keys: Keys, meeting_id: int) -> int:
    reply = client.post(f"/meetings/{meeting_id}/rehearsal", headers=staff_headers(client, keys))
    assert reply.status_code == 303, reply.text[:2000]
    location = reply.headers["location"]
    assert location.endswith("/edit?saved=rehearsal")
    return int(location.split("/")[2])


def test_the_clone_is_marked_and_has_the_same_agenda(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    term, _ = add_term(settings)

    async def dated(conn: AsyncConnection) -> None:
        await conn.execute(
            update(m.meetings)
            .where(m.meetings.c.id == meeting_id)
            .values(term_id=term, held_on=dt.date(2026, 7, 15), starts_at="14:30", place="镇政府大会议室")
        )

    run(settings.database_url, dated)
    copy = create(client, keys, meeting_id)
    real, rehearsal = meeting(settings, meeting_id), meeting(settings, copy)
    assert rehearsal.rehearsal and rehearsal.rehearsal_of == meeting_id and not real.rehearsal
    assert rehearsal.title == real.title + "（彩排）"
    for column in ("body_id", "kind", "settings", "term_id", "session_id", "held_on", "starts_at", "place"):
        assert getattr(rehearsal, column) == getattr(real, column), column
    assert agenda_and_questions(settings, copy) == agenda_and_questions(settings, meeting_id)
    assert setup_of(settings, copy).rehearsal and not setup_of(settings, meeting_id).rehearsal
    [entry] = audit_rows(settings, "rehearsal_created")
    assert entry.meeting_id == copy and json.loads(entry.detail)["rehearsal_of"] == meeting_id
    # The pages: the mark and the reset button on the rehearsal, 创建彩排 on the real one.
    edit = client.get(f"/meetings/{copy}/edit?saved=rehearsal", headers=staff_headers(client, keys)).text
    assert "已创建彩排" in edit and "确认重置彩排" in edit and f"/meetings/{copy}/rehearsal/reset" in edit
    listed = client.get("/meetings", headers=staff_headers(client, keys)).text
    assert (
        f'action="/meetings/{meeting_id}/rehearsal"' in listed
        and f"/meetings/{copy}/rehearsal/reset" in listed
    )
    # A rehearsal of a rehearsal is refused: clone the real meeting.
    again = client.post(f"/meetings/{copy}/rehearsal", headers=staff_headers(client, keys))
    assert again.status_code == 409 and "这已经是彩排" in again.text
    assert client.post("/meetings/999999/rehearsal", headers=staff_headers(client, keys)).status_code == 404


def test_a_session_in_the_rehearsal_then_a_reset_leaves_nothing(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    copy = create(client, keys, meeting_id)
    real_before = rows_of(settings, meeting_id)
    hall = Hall(client, keys, copy)
    deputies = [d for d, _, _ in Db(settings.database_url, copy).deputies()][:6]
    question_id = first_question(settings, copy)
    hall.open_rating(deputies, question_id)  # check-ins, the first question, its rating
    app: Any = client.app
    room = app.state.services.meetings.rooms[copy]
    for d in deputies[:4]:
        assert hall.rate(d, question_id, "satisfied").status_code == 200
    hall.act_ok("close_rating")
    recorded = rows_of(settings, copy)
    assert recorded["events"] > 0 and recorded["rating_receipts"] == 4 and recorded["rating_tallies"] > 0
    assert room.runtime.state.present_count == 6

    reset = client.post(f"/meetings/{copy}/rehearsal/reset", headers=staff_headers(client, keys))
    assert reset.status_code == 303 and reset.headers["location"] == f"/meetings/{copy}/edit?saved=reset"
    after = rows_of(settings, copy)
    for table in rehearsals.CLEARED:
        assert after[table.name] == 0, table.name
    assert meeting(settings, copy).closed_ms is None
    # Only its preparation and its audit entries stay.
    kept = {t.name for t in rehearsals.KEPT}
    assert {k for k, n in after.items() if n} <= kept
    assert [r.action for r in audit_rows(settings, "rehearsal_reset")] == ["rehearsal_reset"]
    assert json.loads(audit_rows(settings, "rehearsal_reset")[0].detail)["deleted"]["rating_receipts"] == 4
    # The loaded room dropped its state: it starts again from nothing, and runs again.
    state = app.state.services.meetings.rooms[copy].runtime.state
    assert state.seq == 0 and state.present_count == 0 and not state.ratings
    hall.act_ok("open_checkin")
    hall.act_ok("check_in", deputy_id=deputies[0])
    state = app.state.services.meetings.rooms[copy].runtime.state
    assert state.present_count == 1 and state.seq == rows_of(settings, copy)["events"] > 0
    # The real meeting was never touched.
    assert rows_of(settings, meeting_id) == real_before
    assert real_before["events"] == 0


def test_a_real_meeting_is_never_reset(
    client: TestClient, hall: Hall, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    hall.act_ok("open_checkin")
    hall.act_ok("check_in", deputy_id=3)
    headers = staff_headers(client, keys)  # the login is a row of its own: before the digest
    before = everything(Db(settings.database_url, meeting_id))
    reply = client.post(f"/meetings/{meeting_id}/rehearsal/reset", headers=headers)
    assert reply.status_code == 409 and "这是正式会议，不能重置" in reply.text
    assert everything(Db(settings.database_url, meeting_id)) == before
    assert (
        client.post("/meetings/999999/rehearsal/reset", headers=staff_headers(client, keys)).status_code
        == 404
    )
    assert client.post(f"/meetings/{meeting_id}/rehearsal/reset").status_code in (303, 403)


def test_every_table_of_a_meeting_is_either_cleared_or_kept() -> None:
    """A new table with a meeting_id needs a decision: does a rehearsal's reset delete it?"""
    with_meeting = {t.name for t in m.metadata.sorted_tables if "meeting_id" in t.c}
    decided = {t.name for t in (*rehearsals.CLEARED, *rehearsals.KEPT)}
    assert with_meeting == decided, f"undecided: {sorted(with_meeting - decided)}"
    assert not {t.name for t in rehearsals.CLEARED} & {t.name for t in rehearsals.KEPT}


@pytest.mark.redis
def test_a_reset_in_one_process_reaches_the_room_of_another(
    spawn: Any, settings: Settings, keys: Keys, meeting_id: int, redis_prefix: str
) -> None:
    """Process B runs the rehearsal; A resets it: B's room drops its state (over Redis)."""
    env = {"WENZHENG_REDIS_URL": REDIS_URL, "WENZHENG_REDIS_PREFIX": redis_prefix}
    a: Server = spawn(**env)
    b: Server = spawn(**env)
    with a.client() as http_a, b.client() as http_b:
        copy = create(http_a, keys, meeting_id)  # type: ignore[arg-type]
        hall_b = Hall(http_b, keys, copy)
        hall_b.act_ok("open_checkin")
        for d in (3, 4, 5):
            hall_b.act_ok("check_in", deputy_id=d)
        assert rows_of(settings, copy)["events"] >= 4
        reset = http_a.post(f"/meetings/{copy}/rehearsal/reset", headers=staff_headers(http_a, keys))  # type: ignore[arg-type]
        assert reset.status_code == 303
        assert rows_of(settings, copy)["events"] == 0

        def fresh_in_b() -> bool:
            # B's room starts again: check-in is closed there, so opening it is an event.
            return hall_b.act("open_checkin").status_code == 200

        assert eventually(fresh_in_b, 5)
        hall_b.act_ok("check_in", deputy_id=3)
        state = Db(settings.database_url, copy).state()
        assert state.present_count == 1 and state.checkin_open
