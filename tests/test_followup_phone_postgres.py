"""我的督办 over HTTP on PostgreSQL: the tests of tests/test_followup_phone.py again, and the
race that only PostgreSQL lets happen (SQLite takes its write lock at BEGIN, so two
requests of one double tap queue there): both read "no judgment yet", one commits its
row, the other collides with the unique constraint and is run again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.settings import Settings
from server.storage import models as m
from tests.conftest import Hall, TestClient
from tests.test_followup_phone import (  # noqa: F401  (collected here again, on PostgreSQL)
    bind,
    phone_post,
    setup,
    test_a_stranger_can_neither_see_nor_judge,
    test_an_objection_from_the_phone_and_what_staff_see,
    test_the_deputy_judges_and_a_dissatisfied_verdict_sends_the_item_back,
    test_the_phone_dates_progress_by_the_day_of_the_work,
)
from tests.test_meetings_admin import run

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(pg_database: str) -> str:
    return pg_database


def test_a_double_tap_that_loses_the_race_for_the_row_is_run_again(
    client: TestClient, hall: Hall, settings: Settings, meeting_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests of one tap race for the judgment row; the loser's unique-constraint
    error is not a 500: its transaction runs again, finds the row, and changes nothing."""
    from server.web.routes import followup_phone

    c, _, _ = setup(settings, meeting_id)
    bind(client, hall, meeting_id, c.asker)
    real, calls = followup_phone._act, []

    async def racing(conn: AsyncConnection, *args: Any) -> str:
        calls.append(args[2])
        if len(calls) == 1:  # the other request commits the row first; this one collides
            async with conn.engine.begin() as other:
                await real(other, *args)
            raise IntegrityError("INSERT", {}, Exception("uq_followup_judgments_reply_deputy"))
        return await real(conn, *args)

    monkeypatch.setattr(followup_phone, "_act", racing)
    url = f"/d/{meeting_id}/followup/{c.item_id}"
    done = phone_post(client, hall, c.asker, url, action="verdict", verdict="basic")
    assert done.status_code == 303 and calls == ["verdict", "verdict"]

    async def rows(conn: AsyncConnection) -> list[tuple[int, str]]:
        j = m.followup_judgments
        return [(int(r.deputy_id), str(r.verdict)) for r in await conn.execute(select(j))]

    assert run(settings.database_url, rows) == [(c.asker, "basic")]

    async def judged(conn: AsyncConnection) -> int:
        a = m.audit
        return len(list(await conn.execute(select(a.c.id).where(a.c.action == "followup_judged"))))

    assert run(settings.database_url, judged) == 1  # recorded once
