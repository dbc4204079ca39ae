"""The command's demo holds the term's second session through the action path
(server/office/held_demo.py): its record is a real sitting at its real moment, its 述职 item
names the reporting group, its follow-up items' rating lines are the hall's results, the
follow-up story of cards 1007 and 1008 is intact, and loading twice changes nothing."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from live.state import Choice
from server.base.settings import Settings
from server.cli.serve import demo_meeting
from server.office import followup_hall, followup_judgments, held_demo
from server.record import reporters
from server.record.load import held_meeting
from server.record.sitting import SECRET_TITLE
from server.storage import models as m
from server.storage.db import create_engine, snapshot_read
from server.storage.migrate import upgrade

TABLES = (m.meetings, m.events, m.questions, m.agenda_items, m.followup_items, m.followup_posts)


async def _count(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        async with snapshot_read(engine) as conn:
            return {
                t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
                for t in TABLES
            }
    finally:
        await engine.dispose()


def test_the_commands_demo_holds_its_past_meeting_once(settings: Settings) -> None:
    upgrade(settings.database_url)
    today_id = asyncio.run(demo_meeting(settings))
    first = asyncio.run(_count(settings.database_url))
    assert asyncio.run(demo_meeting(settings)) == today_id
    assert asyncio.run(_count(settings.database_url)) == first  # idempotent: nothing held or added twice
    assert first["meetings"] == 2 and first["followup_items"] == 5

    async def check() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with snapshot_read(engine) as conn:
                past = await held_demo.find_past(conn)
                assert past is not None and past != today_id
                held = await held_meeting(conn, past)
                record = held.record
                # Opened at its day's starting time (China time), closed, everyone accounted for.
                assert record.opened_ms == held_demo.start_ms(held_demo.held_day()) + 0
                assert record.closed_ms is not None and record.expected == 48
                assert record.setup.held_on == held_demo.held_day().isoformat()
                reached = [q.reached for q in record.questions]
                assert reached == [True, True, True, False]
                grades = [q.rating.grade if q.rating else None for q in record.questions]
                assert grades == [Choice.SATISFIED, Choice.BASIC, Choice.DISSATISFIED, None]
                assert [
                    (v.title or SECRET_TITLE, v.secret, v.result and v.result.passed) for v in record.votes
                ][:2] == [
                    (SECRET_TITLE, True, False),
                    (SECRET_TITLE, True, True),
                ]
                # The group's 述职 is the item the sitting rated, and its result is the group's.
                (result,) = reporters.report_results(record, await reporters.reporters(conn, past))
                assert result.reporter.kind == "group" and result.reporter.name == held_demo.REPORTING_GROUP
                assert result.item.title == held_demo.REPORT_ITEM and result.result is not None
                row = (
                    await conn.execute(
                        select(m.meetings.c.chair, m.meetings.c.record_note).where(m.meetings.c.id == past)
                    )
                ).one()
                assert (row.chair, row.record_note) == (held_demo.CHAIR, held_demo.NOTE)
                # The decision came after the sitting: each item's rating line is the hall's.
                hall = await followup_hall.hall_of(conn, past)
                fi, q = m.followup_items, m.questions
                items = (
                    await conn.execute(
                        select(fi.c.id, fi.c.question_id, fi.c.rating_text, q.c.title)
                        .join(q, q.c.id == fi.c.question_id)
                        .where(q.c.meeting_id == past)
                        .order_by(q.c.position)
                    )
                ).all()
                assert [i.title for i in items] == [pq.title for pq in held_demo.QUESTIONS if not pq.not_item]
                for i in items:
                    assert i.rating_text == hall.rating_text(int(i.question_id)) != followup_hall.NOT_RATED
                assert "等次：基本满意" in items[0].rating_text and "等次：不满意" in items[1].rating_text
                # The follow-up story: 1007 judged 基本满意, 1008 objects to closing.
                judged = await followup_judgments.summary(conn, [int(i.id) for i in items])
                assert (judged[items[0].id].basic, judged[items[1].id].objections) == (1, 1)
        finally:
            await engine.dispose()

    asyncio.run(check())
