"""The guide's 确定问题清单 step (issue 16, review).

A walk through a fresh install went from 新建会议 straight to 打印邀请卡: a 问政会 with
an empty question list was "ready", and nothing on the way pointed to 问题审核. The step is
done once the final list has a question, or at once when the agenda has no 问政 item.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import insert, select

from server.base.settings import Settings
from server.office import first_run
from server.storage import models as m
from server.storage.db import create_engine
from server.storage.migrate import upgrade


async def _guide(url: str, *, inquiry: bool, question: bool) -> dict[str, first_run.Step]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            body = (
                await conn.execute(
                    insert(m.bodies).values(name="清溪镇人民代表大会", kind="congress", level="town")
                )
            ).inserted_primary_key[0]
            meeting = (
                await conn.execute(
                    insert(m.meetings).values(
                        body_id=body, kind="inquiry", title="问政会", settings="{}", created_ms=0
                    )
                )
            ).inserted_primary_key[0]
            kind = "inquiry" if inquiry else "report"
            await conn.execute(
                insert(m.agenda_items).values(meeting_id=meeting, position=1, kind=kind, title="人大代表问政")
            )
            if question:
                await conn.execute(
                    insert(m.questions).values(meeting_id=meeting, position=1, title="问题", text="")
                )
            assert (await conn.execute(select(m.meetings.c.id))).scalar_one() == meeting
            found = await first_run.progress(conn, password_changed=True)
    finally:
        await engine.dispose()
    return {s.key: s for s in found.steps}


def test_an_inquiry_without_questions_is_not_ready(settings: Settings) -> None:
    upgrade(settings.database_url)
    steps = asyncio.run(_guide(settings.database_url, inquiry=True, question=False))
    step = steps["questions"]
    assert not step.done and step.label == "确定问题清单" and step.href.endswith("/review")
    keys = list(steps)
    assert keys.index("meeting") < keys.index("questions") < keys.index("cards")


def test_a_final_list_makes_the_step_done(settings: Settings) -> None:
    upgrade(settings.database_url)
    assert asyncio.run(_guide(settings.database_url, inquiry=True, question=True))["questions"].done


def test_a_meeting_without_an_inquiry_has_nothing_to_list(settings: Settings) -> None:
    upgrade(settings.database_url)
    assert asyncio.run(_guide(settings.database_url, inquiry=False, question=False))["questions"].done
