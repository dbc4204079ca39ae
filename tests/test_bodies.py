"""Bodies, terms, sessions and meetings placed in them, from an empty database.

Each bad input is refused with its Chinese message and changes nothing (every table's
rows are compared before and after); each change leaves its audit entry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.rules import has_quorum
from live.setup import BodyKind, Quorum
from server.base.days import today
from server.base.settings import Settings
from server.office import bodies, meetings_admin, terms
from server.office.bodies import Who
from server.office.meeting_forms import Invalid
from server.storage import models as m
from server.storage import store
from server.storage.migrate import upgrade
from tests.conftest import plain_engine

WHO = Who("staff:tester", "pytest")
Fn = Callable[[AsyncConnection], Awaitable[Any]]


class Office:
    """An empty, migrated database and a way to run one transaction in it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def run(self, fn: Fn) -> Any:
        async def go() -> Any:
            engine = plain_engine(self.url)
            try:
                async with engine.begin() as conn:
                    return await fn(conn)
            finally:
                await engine.dispose()

        return asyncio.run(go())

    def digest(self) -> str:
        async def fn(conn: AsyncConnection) -> str:
            h = hashlib.sha256()
            for table in m.metadata.sorted_tables:
                for row in await conn.execute(select(table).order_by(*table.primary_key.columns)):
                    h.update(repr(tuple(row)).encode())
            return h.hexdigest()

        return str(self.run(fn))

    def refused(self, fn: Fn, field: str, text: str) -> None:
        """``fn`` raises Invalid naming ``field`` with ``text`` in it, and writes nothing."""
        before = self.digest()
        with pytest.raises(Invalid) as bad:
            self.run(fn)
        assert text in bad.value.errors.get(field, ""), bad.value.errors
        assert self.digest() == before

    def audit(self) -> list[tuple[str, str]]:
        async def fn(conn: AsyncConnection) -> list[tuple[str, str]]:
            rows = await conn.execute(select(m.audit.c.action, m.audit.c.actor).order_by(m.audit.c.id))
            return [(str(a), str(b)) for a, b in rows]

        return list(self.run(fn))


@pytest.fixture
def office(settings: Settings) -> Office:
    upgrade(settings.database_url)
    return Office(settings.database_url)


def county(office: Office) -> tuple[int, int]:
    """A county congress and a county standing committee, each with its 17th term."""

    async def fn(conn: AsyncConnection) -> tuple[int, int]:
        congress = await bodies.create_body(conn, "某县人民代表大会", "congress", "county", WHO)
        standing = await bodies.create_body(conn, "某县人大常委会", "standing-committee", "county", WHO)
        for body_id in (congress, standing):
            await terms.add_term(conn, body_id, 17, "2022-01-06", "", WHO)
        return congress, standing

    result: tuple[int, int] = office.run(fn)
    return result


# -- bodies ----------------------------------------------------------------------------------


def test_create_body_and_its_refusals(office: Office) -> None:
    body_id = office.run(
        lambda c: bodies.create_body(c, " 某县人大常委会 ", "standing-committee", "county", WHO)
    )
    row = office.run(lambda c: bodies.body(c, body_id))
    assert (row.name, row.kind, row.level, row.rules) == (
        "某县人大常委会",
        "standing_committee",
        "county",
        "{}",
    )
    assert office.audit() == [("body_created", "staff:tester")]
    for name, kind, level, field, text in (
        ("", "congress", "town", "name", "请填写机构名称"),
        ("某县人大常委会", "congress", "county", "name", "已有名为“某县人大常委会”的机构"),
        ("某镇人大", "senate", "town", "kind", "人民代表大会或人大常委会"),
        ("某镇人大", "congress", "village", "level", "乡镇、县级"),
        ("某镇人大常委会", "standing-committee", "town", "level", "乡镇不设人大常委会"),
        ("某\x00镇", "congress", "town", "name", "无法识别"),
        ("某" * 65, "congress", "town", "name", "不能超过 64 个字"),
    ):
        office.refused(lambda c, a=(name, kind, level): bodies.create_body(c, *a, WHO), field, text)
    assert len(office.audit()) == 1


def test_edit_body_quorum_reaches_the_meeting_and_kind_is_fixed_by_a_meeting(office: Office) -> None:
    congress, standing = county(office)
    office.run(
        lambda c: bodies.edit_body(c, standing, "某县人大常委会（改）", "standing-committee", "city", "", WHO)
    )
    row = office.run(lambda c: bodies.body(c, standing))
    assert (row.name, row.level) == ("某县人大常委会（改）", "city")
    # The law's own rule stored as no override; another rule is kept and reaches Settings.
    office.run(
        lambda c: bodies.edit_body(c, congress, "某县人民代表大会", "congress", "county", "two_thirds", WHO)
    )
    assert office.run(lambda c: bodies.body(c, congress)).rules == "{}"

    async def meeting(conn: AsyncConnection) -> int:
        return await meetings_admin.create(
            conn, congress, "inquiry", 0, held_on=today(), session="new", who=WHO
        )

    meeting_id = office.run(meeting)
    setup = office.run(lambda c: store.load_setup(c, meeting_id))
    assert setup.settings.quorum is None and setup.settings.quorum_rule is Quorum.TWO_THIRDS
    office.run(
        lambda c: bodies.edit_body(
            c, congress, "某县人民代表大会", "congress", "county", "more_than_half", WHO
        )
    )
    setup = office.run(lambda c: store.load_setup(c, meeting_id))
    rule = setup.settings.quorum_rule
    assert rule is Quorum.MORE_THAN_HALF and has_quorum(rule, 30, 16) and not has_quorum(rule, 30, 15)
    # Now that it has a meeting, its kind is fixed; a bad quorum is refused.
    edit = bodies.edit_body
    office.refused(
        lambda c: edit(c, congress, "某县人民代表大会", "standing-committee", "county", "", WHO),
        "kind",
        "不能再修改",
    )
    office.refused(
        lambda c: edit(c, congress, "某县人民代表大会", "congress", "county", "all", WHO), "quorum", "过半数"
    )
    office.refused(
        lambda c: edit(c, congress, "某县人大常委会（改）", "congress", "county", "", WHO), "name", "已有名为"
    )
    actions = [a for a, _ in office.audit()]
    assert actions.count("body_edited") == 2  # the no-op edit to the law's rule wrote nothing


# -- terms and sessions ----------------------------------------------------------------------


def test_terms_refuse_bad_dates_overlaps_and_a_meeting_left_outside(office: Office) -> None:
    congress, _ = county(office)
    add = terms.add_term
    office.refused(
        lambda c: add(c, congress, 18, "2027-01-06", "2027-01-01", WHO), "ends_on", "须晚于开始日期"
    )
    office.refused(lambda c: add(c, congress, 18, "2026-01-06", "", WHO), "starts_on", "与第十七届")
    office.refused(lambda c: add(c, congress, 17, "2040-01-06", "", WHO), "number", "已有第十七届")
    office.refused(lambda c: add(c, congress, "十八", "2040-01-06", "", WHO), "number", "1 至 99")
    office.refused(lambda c: add(c, congress, 18, "2040-13-06", "", WHO), "starts_on", "不是日历上的日子")
    office.refused(lambda c: add(c, congress, 16, "2017-01-06", "2022-01-07", WHO), "starts_on", "重叠")
    # A term ends at the start of its end day: the next may begin that very day.
    office.run(lambda c: add(c, congress, 16, "2017-01-06", "2022-01-06", WHO))
    term17 = office.run(lambda c: terms.term_by_number(c, congress, 17))

    async def meeting(conn: AsyncConnection) -> int:
        return await meetings_admin.create(
            conn, congress, "inquiry", 0, held_on="2024-03-01", session="new", who=WHO
        )

    office.run(meeting)
    edit = terms.edit_term
    office.refused(
        lambda c: edit(c, term17.id, 17, "2022-01-06", "2024-03-01", WHO), "ends_on", "将不在本届任期内"
    )
    office.refused(lambda c: edit(c, term17.id, 17, "2024-03-02", "", WHO), "starts_on", "将不在本届任期内")
    office.run(lambda c: edit(c, term17.id, 17, "2022-01-06", "2027-01-06", WHO))
    views = office.run(lambda c: terms.terms_of(c, congress))
    assert [(v.name, v.span) for v in views] == [
        ("第十七届", "2022-01-06 起，2027-01-06 届满"),
        ("第十六届", "2017-01-06 起，2022-01-06 届满"),
    ]
    assert [s.number for s in views[0].sessions] == [1] and views[0].sessions[0].meetings
    assert [a for a, _ in office.audit()].count("term_edited") == 1


def test_sessions_are_numbered_within_their_term(office: Office) -> None:
    congress, _ = county(office)
    term = office.run(lambda c: terms.term_by_number(c, congress, 17))
    assert office.run(lambda c: terms.add_session(c, term.id, "", WHO))[1] == 1
    assert office.run(lambda c: terms.add_session(c, term.id, 3, WHO))[1] == 3
    assert office.run(lambda c: terms.next_session_number(c, term.id)) == 4
    office.refused(lambda c: terms.add_session(c, term.id, "3", WHO), "number", "本届已有第三次会议")
    office.refused(lambda c: terms.add_session(c, term.id, "0", WHO), "number", "1 至 99")
    assert [a for a, _ in office.audit()].count("session_added") == 2


def test_meeting_title_is_built_from_body_term_and_session() -> None:
    assert (
        terms.meeting_title("清溪镇人民代表大会", 17, 3, "年中人代会")
        == "清溪镇第十七届人民代表大会第三次会议（年中人代会）"
    )
    assert (
        terms.meeting_title("某县人民代表大会常务委员会", 18, 21, "专题询问")
        == "某县第十八届人民代表大会常务委员会第二十一次会议（专题询问）"
    )
    assert terms.meeting_title("某县人大常委会", 18, None, "") == "某县第十八届人大常委会"
    # A body named with its term before terms existed (the migration keeps the name).
    assert (
        terms.meeting_title("清溪镇第十七届人民代表大会", 17, 4, "问政会")
        == "清溪镇第十七届人民代表大会第四次会议（问政会）"
    )


# -- meetings in a term ----------------------------------------------------------------------


def test_create_meeting_in_term_and_session(office: Office) -> None:
    congress, standing = county(office)

    def create(body_id: int, **kw: Any) -> Fn:
        args = {"held_on": "2026-07-15", "starts_at": "14:30", "place": "县人大会议室", "session": "new"}
        args.update(kw)
        return lambda c: meetings_admin.create(c, body_id, args.pop("kind", "mid_year"), 0, who=WHO, **args)

    office.refused(create(congress, held_on="2021-12-31"), "held_on", "不在某县人民代表大会任何一届的任期内")
    office.refused(create(congress, session=""), "session", "须属于某一次会议")
    office.refused(create(congress, session="2"), "session", "第十七届没有第二次会议")
    office.refused(create(congress, starts_at="2:3"), "starts_at", "14:30")
    office.refused(create(congress, place="会\x07场"), "place", "控制字符")
    office.refused(create(standing, kind="mid_year"), "kind", "不举行")
    first = office.run(create(congress))
    row = office.run(lambda c: meetings_admin.meeting_row(c, first))
    assert row.title == "某县第十七届人民代表大会第一次会议（年中人代会）"
    assert (row.held_on, row.starts_at, row.place) == (dt.date(2026, 7, 15), "14:30", "县人大会议室")
    second = office.run(create(congress, session="1", kind="inquiry", title="问政会（自定名称）"))
    assert office.run(lambda c: meetings_admin.meeting_row(c, second)).title == "问政会（自定名称）"
    inquiry = office.run(create(standing, kind="special_inquiry", session=""))
    assert (
        office.run(lambda c: meetings_admin.meeting_row(c, inquiry)).title
        == "某县第十七届人大常委会（专题询问）"
    )
    setup = office.run(lambda c: store.load_setup(c, inquiry))
    assert setup.settings.body_kind is BodyKind.STANDING_COMMITTEE
    assert setup.settings.quorum_rule is Quorum.MORE_THAN_HALF
    clone = office.run(lambda c: meetings_admin.clone(c, first, 1))
    copied = office.run(lambda c: meetings_admin.meeting_row(c, clone))
    assert (copied.term_id, copied.session_id, copied.held_on, copied.place) == (
        row.term_id,
        row.session_id,
        row.held_on,
        row.place,
    )
    actions = [a for a, _ in office.audit()]
    assert actions.count("meeting_created") == 3 and actions.count("session_added") == 1


def test_schedule_edit_moves_the_meeting_within_a_term(office: Office) -> None:
    congress, _ = county(office)
    from server.office import schedule

    async def make(conn: AsyncConnection) -> int:
        return await meetings_admin.create(
            conn, congress, "inquiry", 0, held_on="2026-07-15", session="new", who=WHO
        )

    meeting_id = office.run(make)

    def save(form: dict[str, str]) -> Fn:
        async def fn(conn: AsyncConnection) -> None:
            row = await meetings_admin.meeting_row(conn, meeting_id)
            await schedule.save(conn, meeting_id, row, form, WHO)

        return fn

    office.refused(save({"held_on": "2020-01-01", "session": "1"}), "held_on", "任期内")
    office.run(save({"held_on": "2026-08-01", "starts_at": "09:00", "place": "二楼", "session": "new"}))
    row = office.run(lambda c: meetings_admin.meeting_row(c, meeting_id))
    assert (row.held_on, row.starts_at, row.place) == (dt.date(2026, 8, 1), "09:00", "二楼")
    assert office.run(lambda c: schedule.session_number(c, row.session_id)) == 2
