"""Members over time (server/office/mandates.py, member_changes.py, roster_import.py) against
the demo body, on SQLite and on PostgreSQL: 应到 follows the mandates at their boundaries,
every bad input is refused in Chinese with nothing changed, every change is audited.

The demo's deputies get mandates from 2024-01-01 and its meeting is held on 2026-07-15
(set through SQL here: creating bodies, terms and meetings is another page's work).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.office import mandates, member_changes, roster_import
from server.office.roster_import import EndChoice
from server.storage import members
from server.storage import models as m
from server.storage.db import create_engine
from server.storage.store import load_setup

D = dt.date
MEETING_DAY = D(2026, 7, 15)
BY = "staff:chair"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, data_dir: Any) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_database"))
    return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"


@pytest.fixture
async def engine(settings: Any, meeting_id: int) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(update(m.mandates).values(starts_on=D(2024, 1, 1)))
        await conn.execute(
            update(m.meetings).where(m.meetings.c.id == meeting_id).values(held_on=MEETING_DAY)
        )
    yield engine
    await engine.dispose()


async def on(engine: AsyncEngine, meeting_id: int, day: dt.date | None = None) -> Any:
    async with engine.begin() as conn:
        if day is not None:
            await conn.execute(update(m.meetings).where(m.meetings.c.id == meeting_id).values(held_on=day))
        return await load_setup(conn, meeting_id)


async def digest(engine: AsyncEngine) -> str:
    out = hashlib.sha256()
    async with engine.connect() as conn:
        for table in (m.deputies, m.mandates, m.suspensions, m.audit, m.groups):
            for row in await conn.execute(select(table).order_by(*table.primary_key.columns)):
                out.update(repr(tuple(row)).encode())
        await conn.rollback()
    return out.hexdigest()


async def write(engine: AsyncEngine, fn: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    async with engine.begin() as conn:
        return await fn(conn)


async def refused(engine: AsyncEngine, fn: Callable[[AsyncConnection], Awaitable[Any]], words: str) -> None:
    before = await digest(engine)
    with pytest.raises(mandates.Refused) as caught:
        await write(engine, fn)
    assert words in str(caught.value), str(caught.value)
    assert await digest(engine) == before, "a refusal changed something"


async def audit_rows(engine: AsyncEngine, action: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(m.audit).where(m.audit.c.action == action).order_by(m.audit.c.id))
        out = [{"body_id": r.body_id, "actor": r.actor, **json.loads(r.detail)} for r in rows]
        await conn.rollback()
    return out


def end(
    deputy_id: int,
    day: dt.date,
    reason: str = "resigned",
    organ: str = "镇人大主席团",
    doc: str = "清人〔2026〕3号",
):  # type: ignore[no-untyped-def]
    return lambda c: mandates.end_mandate(c, deputy_id, day, reason, organ, doc, D(2026, 7, 1), BY, "test")


async def test_an_end_the_day_before_or_the_day_of_the_meeting_leaves_the_deputy_out(
    engine: AsyncEngine, meeting_id: int
) -> None:
    assert {1, 2, 3} <= set((await on(engine, meeting_id)).deputies)
    await write(engine, end(1, MEETING_DAY - dt.timedelta(days=1)))
    await write(engine, end(2, MEETING_DAY, "died"))
    await write(engine, end(3, MEETING_DAY + dt.timedelta(days=1), "moved"))
    setup = await on(engine, meeting_id)
    assert 1 not in setup.deputies and 2 not in setup.deputies  # ends at the START of its end day
    assert 3 in setup.deputies  # the day after: still a member that day
    assert len(setup.deputies) == 48 - 2
    ended = await audit_rows(engine, "mandate_ended")
    assert [(r["deputy_id"], r["reason"], r["ends_on"], r["body_id"], r["actor"]) for r in ended] == [
        (1, "resigned", "2026-07-14", 1, BY),
        (2, "died", "2026-07-15", 1, BY),
        (3, "moved", "2026-07-16", 1, BY),
    ]
    assert ended[0]["organ"] == "镇人大主席团" and ended[0]["document"] == "清人〔2026〕3号"
    async with engine.connect() as conn:
        history = await mandates.member(conn, 1, 1, MEETING_DAY)
        await conn.rollback()
    assert history is not None and history.former and history.mandate is None
    assert history.last_mandate is not None and history.last_mandate.end_reason_name == "辞职"


async def test_a_by_election_counts_from_its_day(engine: AsyncEngine, meeting_id: int) -> None:
    cells = {"name": "赵补选", "group": "城东代表小组", "card_no": "3001", "phone": "13800001111"}
    new_id = await write(engine, lambda c: mandates.add_member(c, 1, cells, MEETING_DAY, BY, "test"))
    assert new_id not in (await on(engine, meeting_id, MEETING_DAY - dt.timedelta(days=1))).deputies
    assert new_id in (await on(engine, meeting_id, MEETING_DAY)).deputies
    added = await audit_rows(engine, "member_added")
    assert (
        added[0]["deputy_id"] == new_id and added[0]["starts_on"] == "2026-07-15" and added[0]["body_id"] == 1
    )
    async with engine.connect() as conn:
        held = await mandates.mandates_of(conn, new_id)
        code = (await conn.execute(select(m.deputies.c.short_code).where(m.deputies.c.id == new_id))).scalar()
        await conn.rollback()
    assert [(x.starts_on, x.start_reason_name) for x in held] == [(MEETING_DAY, "补选")]
    assert code and len(code) == 8 and code.isdigit()


async def test_a_former_member_elected_again_gets_a_new_mandate(engine: AsyncEngine, meeting_id: int) -> None:
    await write(engine, end(5, D(2025, 1, 1)))
    async with engine.connect() as conn:
        who = await mandates.member(conn, 1, 5, MEETING_DAY)
        await conn.rollback()
    assert who is not None
    cells = {"name": who.name, "group": who.group, "card_no": who.card_no}
    await refused(
        engine, lambda c: mandates.add_member(c, 1, cells, D(2024, 6, 1), BY), "补选日期不能早于该日"
    )
    other = {**cells, "name": "别人"}
    await refused(
        engine, lambda c: mandates.add_member(c, 1, other, D(2026, 1, 1), BY), "属于已终止代表资格的"
    )
    assert await write(engine, lambda c: mandates.add_member(c, 1, cells, D(2026, 1, 1), BY)) == 5
    assert 5 in (await on(engine, meeting_id)).deputies
    assert [r["deputy_id"] for r in await audit_rows(engine, "mandate_started")] == [5]


async def test_a_suspension_covering_the_day(engine: AsyncEngine, meeting_id: int) -> None:
    await write(
        engine,
        lambda c: mandates.suspend(c, 7, D(2026, 7, 1), None, "因刑事案件被羁押", "县人大常委会", "", BY),
    )
    setup = await on(engine, meeting_id)
    assert 7 in setup.deputies and 7 in setup.suspended
    async with engine.connect() as conn:
        day = await members.on_day(conn, 1, MEETING_DAY)
        pause = (await mandates.suspensions_of(conn, 7))[0]
        await conn.rollback()
    assert len(day.members) - len(day.suspended) == 47  # 应到
    await refused(
        engine,
        lambda c: mandates.suspend(c, 7, D(2026, 8, 1), None, "又一次", "县人大常委会", "", BY),
        "重叠",
    )
    await refused(
        engine, lambda c: mandates.end_suspension(c, 7, pause.id, D(2026, 7, 1), BY), "恢复日期应晚于"
    )
    await write(engine, lambda c: mandates.end_suspension(c, 7, pause.id, MEETING_DAY, BY))
    assert 7 not in (await on(engine, meeting_id)).suspended  # resumed at the start of that day
    await refused(
        engine, lambda c: mandates.end_suspension(c, 7, pause.id, D(2026, 8, 1), BY), "已于 2026-07-15 结束"
    )
    assert [r["deputy_id"] for r in await audit_rows(engine, "suspension_started")] == [7]
    assert [r["ends_on"] for r in await audit_rows(engine, "suspension_ended")] == ["2026-07-15"]


async def test_ending_a_mandate_ends_an_open_suspension_with_it(engine: AsyncEngine, meeting_id: int) -> None:
    await write(engine, lambda c: mandates.suspend(c, 8, D(2026, 1, 1), None, "羁押", "县人大常委会", "", BY))
    await write(engine, end(8, D(2026, 3, 1), "terminated"))
    async with engine.connect() as conn:
        pauses = await mandates.suspensions_of(conn, 8)
        await conn.rollback()
    assert [(s.starts_on, s.ends_on) for s in pauses] == [(D(2026, 1, 1), D(2026, 3, 1))]


async def test_every_bad_input_is_refused_and_changes_nothing(engine: AsyncEngine, meeting_id: int) -> None:
    await refused(engine, end(1, D(2023, 12, 31)), "应晚于其开始日期")
    await refused(engine, end(1, D(2024, 1, 1)), "应晚于其开始日期")
    await refused(engine, end(1, MEETING_DAY, "bored"), "请选择终止代表资格的原因")
    await refused(engine, end(1, MEETING_DAY, organ="  "), "请填写作出决定或公告的机关")
    await refused(engine, end(1, MEETING_DAY, doc=""), "请填写依据文件的文号")
    await refused(engine, end(9999, MEETING_DAY), "没有这位代表")
    await write(engine, end(1, MEETING_DAY))
    await refused(engine, end(1, D(2026, 8, 1)), "已于 2026-07-15 终止")

    def pause(deputy: int, start: dt.date, stop: dt.date | None, reason: str = "羁押", organ: str = "常委会"):  # type: ignore[no-untyped-def]
        return lambda c: mandates.suspend(c, deputy, start, stop, reason, organ, "", BY)

    await refused(engine, pause(1, D(2026, 8, 1), None), "不是代表")  # after the mandate ended
    await refused(engine, pause(1, D(2026, 7, 1), D(2026, 8, 1)), "暂停不能超过该日")
    await refused(engine, pause(2, D(2023, 1, 1), None), "不是代表")  # before the mandate
    await refused(engine, pause(2, D(2026, 7, 1), D(2026, 7, 1)), "结束日期应晚于开始日期")
    await refused(engine, pause(2, D(2026, 7, 1), None, reason=""), "请填写暂停执行代表职务的原因")
    await refused(engine, pause(2, D(2026, 7, 1), None, organ=""), "请填写作出决定或公告的机关")
    await refused(engine, lambda c: mandates.end_suspension(c, 2, 12345, D(2026, 8, 1), BY), "没有这条")

    def add(**cells: str):  # type: ignore[no-untyped-def]
        base = {"name": "新人", "group": "城东代表小组", "card_no": "3002"}
        return lambda c: mandates.add_member(c, 1, {**base, **cells}, MEETING_DAY, BY)

    async with engine.connect() as conn:
        card_of_2 = (await conn.execute(select(m.deputies.c.card_no).where(m.deputies.c.id == 2))).scalar()
        await conn.rollback()
    await refused(engine, add(card_no=str(card_of_2)), "已是现任代表")
    await refused(engine, add(group="没有的小组"), "没有“没有的小组”这个代表小组")
    await refused(engine, add(name=""), "姓名不能为空")
    await refused(engine, add(card_no="卡"), "只能包含数字、字母和连字符")
    await refused(engine, add(phone="123"), "不是有效的手机号")


async def test_the_console_note_since_the_previous_meeting(engine: AsyncEngine, meeting_id: int) -> None:
    async with engine.begin() as conn:
        row = (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).one()
        values = {k: v for k, v in row._mapping.items() if k != "id"}
        earlier = await conn.execute(
            insert(m.meetings).values({**values, "held_on": D(2026, 7, 1)}).returning(m.meetings.c.id)
        )
        earlier_id = int(earlier.scalar_one())
        # A rehearsal in between is not "the previous meeting".
        await conn.execute(
            insert(m.meetings).values({**values, "held_on": D(2026, 7, 10), "rehearsal": True})
        )
    async with engine.connect() as conn:
        assert await member_changes.since_previous(conn, earlier_id) is None
        quiet = await member_changes.since_previous(conn, meeting_id)
        await conn.rollback()
    assert quiet is not None and quiet.text() == "自上次会议（7月1日）以来：代表无增减"
    await write(engine, end(4, D(2026, 7, 5)))
    cells = {"name": "王某", "group": "城东代表小组", "card_no": "3003"}
    await write(engine, lambda c: mandates.add_member(c, 1, cells, D(2026, 7, 10), BY))
    async with engine.connect() as conn:
        note = await member_changes.since_previous(conn, meeting_id)
        name_4 = (await conn.execute(select(m.deputies.c.name).where(m.deputies.c.id == 4))).scalar()
        await conn.rollback()
    assert note is not None
    assert note.text() == f"自上次会议（7月1日）以来：新增 王某（补选）；减少 {name_4}（辞职）"


# -- the roster import never deletes ---------------------------------------------------------

HEADER = "姓名,代表小组,卡号\n"


async def import_(engine: AsyncEngine, text: str, **kw: Any) -> Any:
    async with engine.begin() as conn:
        return await roster_import.import_roster(conn, 1, text.encode(), "r.csv", **kw)


async def test_members_missing_from_the_file_are_listed_kept_or_ended(
    engine: AsyncEngine, meeting_id: int
) -> None:
    async with engine.connect() as conn:
        people = await mandates.members_of(conn, 1, MEETING_DAY)
        await conn.rollback()
    listed = people[:46]  # 47 and 48 are missing from the file
    text = HEADER + "".join(f"{p.name},{p.group},{p.card_no}\n" for p in listed)
    plan = await import_(engine, text, dry_run=True)
    assert plan.errors == [] and [x.deputy_id for x in plan.missing] == [people[46].id, people[47].id]
    before = await digest(engine)
    bad = {people[46].id: EndChoice(D(2023, 1, 1), "resigned", "主席团", "文1")}
    with pytest.raises(mandates.Refused) as caught:
        await import_(engine, text + "新代表,城东代表小组,3010\n", choices=bad)
    assert people[46].name in str(caught.value) and "应晚于其开始日期" in str(caught.value)
    assert await digest(engine) == before  # the whole import refused: no new deputy either
    good = {
        people[46].id: EndChoice(D(2026, 7, 1), "moved", "镇人大主席团", "清人〔2026〕9号", D(2026, 6, 30))
    }
    plan = await import_(engine, text + "新代表,城东代表小组,3010\n", choices=good, starts_on=D(2026, 7, 10))
    assert (
        plan.written and plan.ended == [people[46].id] and [x.deputy_id for x in plan.kept] == [people[47].id]
    )
    assert "名册中未出现 2 人（保留 1 人，终止代表资格 1 人）" in plan.summary()
    setup = await on(engine, meeting_id)
    assert people[46].id not in setup.deputies and people[47].id in setup.deputies
    assert len(setup.deputies) == 48 - 1 + 1
    async with engine.connect() as conn:
        new = (await conn.execute(select(m.deputies.c.id).where(m.deputies.c.card_no == "3010"))).scalar_one()
        held = await mandates.mandates_of(conn, new)
        await conn.rollback()
    assert [x.starts_on for x in held] == [D(2026, 7, 10)]
    assert [r["deputy_id"] for r in await audit_rows(engine, "mandate_ended")] == [people[46].id]


async def test_a_former_members_card_in_a_file_is_an_error_not_a_revival(
    engine: AsyncEngine, meeting_id: int
) -> None:
    await write(engine, end(1, D(2026, 1, 1), "died"))
    async with engine.connect() as conn:
        who = await mandates.member(conn, 1, 1, MEETING_DAY)
        await conn.rollback()
    assert who is not None
    before = await digest(engine)
    plan = await import_(engine, HEADER + f"{who.name},{who.group},{who.card_no}\n")
    assert [e.row for e in plan.errors] == [2]
    text = plan.errors[0].message
    assert f"该卡号属于已终止代表资格的{who.name}" in text and "如系补选请使用" in text and "去世" in text
    assert await digest(engine) == before
    plan = await import_(engine, HEADER + "新人,城东代表小组,3020\n", dry_run=True)
    assert who.id not in [x.deputy_id for x in plan.missing]  # a former member is not "missing"
