"""The phone's two-absence notice is read once per deputy (server/web/absences.py), and a
change of the records behind it shows on the very next page load: a meeting of the same
body closing (its attendance freezes), a staff correction, an office setup change."""

from __future__ import annotations

import time

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.settings import Settings
from server.storage import models as m
from server.web.http import Services
from tests.conftest import Hall, write_db

NOTICE = "您已有一次未经批准缺席本级人民代表大会会议（第十七届第一次会议）"
DEPUTY = 6


async def _other_meeting(conn: AsyncConnection) -> int:
    """A second meeting of the demo congress, in session 1 of term 17, not yet held."""
    term = (await conn.execute(select(m.terms.c.id).where(m.terms.c.body_id == 1))).scalar()
    if term is None:
        term = (await conn.execute(insert(m.terms).values(body_id=1, number=17))).lastrowid
    s = m.sessions
    session = (await conn.execute(select(s.c.id).where(s.c.term_id == term, s.c.number == 1))).scalar()
    if session is None:
        session = (await conn.execute(insert(m.sessions).values(term_id=term, number=1))).lastrowid
    key = (
        await conn.execute(
            insert(m.meetings).values(
                body_id=1,
                kind="mid_year",
                title="第一次会议",
                settings="{}",
                created_ms=int(time.time() * 1000),
                term_id=term,
                session_id=session,
            )
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def _services(hall: Hall) -> Services:
    services: Services = hall.http.app.state.services  # type: ignore[attr-defined]
    return services


def test_a_meeting_closing_and_a_correction_show_on_the_next_load(hall: Hall, settings: Settings) -> None:
    other = write_db(settings, _other_meeting)
    assert "未经批准缺席" not in hall.deputy_page(DEPUTY)
    reads = _services(hall).absences.reads
    assert "未经批准缺席" not in hall.deputy_page(DEPUTY)
    assert _services(hall).absences.reads == reads  # kept: the second load read nothing
    # The other meeting closes with the deputy absent: its records freeze in that commit.
    closed = hall.http.post(f"/m/{other}/act", data={"cmd": "close_meeting"}, headers=hall.chair_headers())
    assert closed.status_code == 200, closed.text
    assert NOTICE in hall.deputy_page(DEPUTY)
    # Staff correct the record to approved leave: the notice goes at once.
    corrected = hall.http.post(
        f"/bodies/1/deputies/{DEPUTY}/attendance",
        data={"meeting": str(other), "status": "leave", "note": "补交了请假条"},
        headers=hall.chair_headers(),
    )
    assert corrected.status_code == 303, corrected.text
    assert "未经批准缺席" not in hall.deputy_page(DEPUTY)


def test_an_office_setup_change_forgets_what_was_read(hall: Hall, settings: Settings) -> None:
    """A meeting's session or day edited, a term renumbered: the office reloads the setup
    (``Meetings.setup_changed``), and the cache starts again."""
    assert "未经批准缺席" not in hall.deputy_page(DEPUTY)
    services = _services(hall)
    before = services.meetings.records_generation

    async def changed() -> None:
        await services.meetings.setup_changed(body_id=1)

    hall.http.portal.call(changed)  # type: ignore[attr-defined]
    assert services.meetings.records_generation != before
    reads = services.absences.reads
    hall.deputy_page(DEPUTY)
    assert services.absences.reads == reads + 1
