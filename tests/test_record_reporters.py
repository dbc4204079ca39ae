"""Who reports on an agenda item, read back (server/record/reporters.py): the label in each
form, the reporters as the office wrote them (and as the hall's setup names them), the
述职评议 results of the demo sitting held through the real action path (its first report
item is rated), and the items a member reported on, alone or with the group, never in a
rehearsal. tests/test_record_reporters_postgres.py runs the database tests on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from live.state import Choice
from screens.messages import reporter_label
from server.base.settings import Settings
from server.office import rehearsals
from server.record.load import meeting_record
from server.record.reporters import Reporter, member_reports, report_results, reporters
from server.storage import models as m
from server.storage.store import load_setup
from tests.rec_reporters_fixtures import HIGHER, START_MS, held, name, name_three, run


def test_each_form_of_the_label() -> None:
    assert Reporter(1, "group", "第一代表小组", group_id=3).label == "第一代表小组"
    assert (
        Reporter(1, "member", "王建国", deputy_id=7, group="第二代表小组").label == "王建国（第二代表小组）"
    )
    assert Reporter(1, "member", "王建国", deputy_id=7).label == "王建国"
    assert (
        Reporter(1, "higher", "李秀英", congress="某某市人民代表大会").label
        == "李秀英（某某市人民代表大会代表）"
    )
    # Typed as staff say it: "市人大代表" is not doubled into "市人大代表代表".
    assert Reporter(1, "higher", "李秀英", congress="某某市人大代表").label == "李秀英（某某市人大代表）"
    assert Reporter(1, "higher", "李秀英").label == "李秀英"
    assert reporter_label("", "") == "" and reporter_label("group", "") == ""


def test_the_reporters_as_the_office_wrote_them_and_the_hall_names_them(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        d, group_id, member_id = await name_three(conn, meeting_id)
        first, second, third = d.items
        named = await reporters(conn, meeting_id)
        assert set(named) == {first.id, second.id, third.id}
        group_name = dict(d.groups)[group_id]
        member = next(x for x in d.members if x[0] == member_id)
        member_group = dict(d.groups)[member[2]]
        assert named[first.id] == Reporter(first.id, "group", group_name, group_id=group_id)
        assert named[second.id] == Reporter(
            second.id, "member", member[1], deputy_id=member_id, group=member_group
        )
        assert named[third.id] == Reporter(third.id, "higher", HIGHER[0], congress=HIGHER[1])
        assert named[second.id].label == f"{member[1]}（{member_group}）"
        # The hall reads the same wording from its one query (server/storage/store.py).
        setup = await load_setup(conn, meeting_id)
        assert {i.id: i.reporter for i in setup.agenda} == {k: r.label for k, r in named.items()}
        # Nobody again: the item names nobody, here and in the hall.
        await name(conn, meeting_id, third.id, reporter="")
        assert third.id not in await reporters(conn, meeting_id)
        assert (await load_setup(conn, meeting_id)).agenda_item(third.id).reporter == ""  # type: ignore[union-attr]

    run(settings.database_url, fn)


def test_the_rated_item_is_its_reporters_result(settings: Settings, meeting_id: int) -> None:
    d, group_id, member_id = run(settings.database_url, lambda c: name_three(c, meeting_id))
    held(settings, meeting_id)
    first, second, third = d.items

    async def fn(conn: AsyncConnection) -> None:
        record = await meeting_record(conn, meeting_id)
        results = report_results(record, await reporters(conn, meeting_id))
        assert [(r.item.id, r.reporter.kind) for r in results] == [
            (first.id, "group"),
            (second.id, "member"),
            (third.id, "higher"),
        ]
        rated = results[0].result
        assert rated is not None and results[1].result is None and results[2].result is None
        assert results[0].reporter.group_id == group_id
        assert results[0].item.reporter == dict(d.groups)[group_id]  # the setup's label rides along
        # The counts are the ones written at the close, read here without the fold.
        t = m.rating_tallies.c
        tallies = {
            r.choice: r.n
            for r in await conn.execute(
                select(t.choice, t.n).where(t.meeting_id == meeting_id, t.question_id == -first.id)
            )
        }
        assert {c.value: rated.count(c) for c in Choice if rated.count(c)} == tallies
        receipts = m.rating_receipts.c
        cast = (
            await conn.execute(
                select(func.count()).where(
                    receipts.meeting_id == meeting_id, receipts.question_id == -first.id
                )
            )
        ).scalar_one()
        assert rated.cast == cast > 30 and rated.grade is not None
        # The sitting closed the meeting (the real CloseMeeting): the member has reported.
        assert await member_reports(conn, member_id) == [(meeting_id, second.id)]

    run(settings.database_url, fn)


def test_a_member_reports_alone_or_with_the_group_never_in_a_rehearsal(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        d, group_id, member_id = await name_three(conn, meeting_id)
        first, second, _third = d.items
        in_group = [i for i, _, g in d.members if g == group_id]
        elsewhere = next(i for i, _, g in d.members if g not in (group_id, d.groups[1][0]))
        # Not yet held: the meeting names who will report, nobody has reported yet.
        assert await member_reports(conn, member_id) == []
        await _close(conn, meeting_id)
        assert await member_reports(conn, member_id) == [(meeting_id, second.id)]
        assert await member_reports(conn, in_group[0]) == [(meeting_id, first.id)]
        assert await member_reports(conn, elsewhere) == []
        assert await member_reports(conn, 987_654) == []
        # A deputy elected into the group after the meeting did not report with it.
        held_on = (
            await conn.execute(select(m.meetings.c.held_on).where(m.meetings.c.id == meeting_id))
        ).scalar_one()
        md = m.mandates
        await conn.execute(
            update(md).where(md.c.deputy_id == in_group[1]).values(starts_on=held_on + dt.timedelta(days=1))
        )
        assert await member_reports(conn, in_group[1]) == []
        # A rehearsal carries the reporters (to try the hall) but counts for nothing.
        rehearsal = await rehearsals.create(conn, meeting_id, actor="staff:chair", device="pytest", now_ms=1)
        assert [bool(i.reporter) for i in (await load_setup(conn, rehearsal)).agenda] == [True] * 3
        await _close(conn, rehearsal)
        assert await member_reports(conn, member_id) == [(meeting_id, second.id)]
        assert await member_reports(conn, in_group[0]) == [(meeting_id, first.id)]

    run(settings.database_url, fn)


async def _close(conn: AsyncConnection, meeting_id: int) -> None:
    """As closing the meeting leaves it (its log is not needed to read who reported)."""
    mt = m.meetings
    await conn.execute(update(mt).where(mt.c.id == meeting_id).values(closed_ms=START_MS))
