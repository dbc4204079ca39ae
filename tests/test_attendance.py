"""Frozen attendance, the history and the two-absence rule (代表法 §49), on a real database.

A body of our own is built with SQL beside the demo (terms, sessions, mandates, meetings
with their day); events are appended through ``store.append_events`` as the runtime does,
and the meeting is closed by appending an event named ``MeetingClosed`` (the live helper
adds the class; the hook reads the type name), so the records are frozen by the very
path a real close takes. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from live.commands import CheckInMethod
from live.events import AttendanceAnnounced, AttendanceCleared, DeputyCheckedIn, DeputyOnLeave
from server.base.keys import Keys
from server.base.settings import Settings
from server.office import attendance_export, attendance_history
from server.storage import attendance, store
from server.storage import models as m
from server.storage.db import create_engine

DAY0 = dt.date(2021, 1, 1)


@dataclass(frozen=True)
class MeetingClosed:
    """Stands for live.events.MeetingClosed (the live helper's): stored by its name."""


@dataclass(frozen=True)
class DeputyLeftHall:
    deputy_id: int


@dataclass(frozen=True)
class DeputyReturned:
    deputy_id: int


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    """Every test here on SQLite and on PostgreSQL (a database of its own)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
async def engine(settings: Settings, meeting_id: int) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(settings.database_url)
    try:
        yield eng
    finally:
        await eng.dispose()


class Office:
    """A body built by SQL, and meetings closed through store.append_events."""

    def __init__(self, conn: AsyncConnection, box: Any) -> None:
        self.conn = conn
        self.box = box
        self.seq: dict[int, int] = {}

    async def add(self, table: Any, **values: Any) -> int:
        result = await self.conn.execute(insert(table).values(**values))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def body(self, name: str, kind: str = "congress", level: str = "county") -> int:
        return await self.add(m.bodies, name=name, kind=kind, level=level)

    async def deputies(self, body_id: int, names: list[str]) -> list[int]:
        group = await self.add(m.groups, body_id=body_id, name=f"{name_of(body_id)}组", position=1)
        ids = []
        for i, name in enumerate(names, start=1):
            d = await self.add(
                m.deputies,
                body_id=body_id,
                group_id=group,
                name=name,
                card_no=f"{i:03d}",
                short_code="12345678",
            )
            await self.add(m.mandates, deputy_id=d, starts_on=DAY0, start_reason="elected")
            ids.append(d)
        return ids

    async def meeting(
        self,
        body_id: int,
        title: str,
        day: dt.date,
        *,
        term_id: int | None = None,
        session_id: int | None = None,
    ) -> int:
        return await self.add(
            m.meetings,
            body_id=body_id,
            kind="mid_year",
            title=title,
            settings="{}",
            created_ms=0,
            held_on=day,
            term_id=term_id,
            session_id=session_id,
        )

    async def events(self, meeting_id: int, batch: list[tuple[Any, str]], at_ms: int) -> None:
        first = self.seq.get(meeting_id, 0) + 1
        rows = [(e, actor, "pytest") for e, actor in batch]
        await store.append_events(self.conn, meeting_id, first, rows, at_ms, self.box)  # type: ignore[arg-type]
        self.seq[meeting_id] = first + len(rows) - 1

    async def close(self, meeting_id: int, at_ms: int = 9_000_000) -> None:
        await self.events(meeting_id, [(MeetingClosed(), "chair:chair")], at_ms)

    async def held(self, meeting_id: int, present: list[int], at_ms: int = 1_000_000) -> None:
        """A plain sitting: these deputies check in by phone, then it closes."""
        batch = [(DeputyCheckedIn(d, CheckInMethod.HALL_QR, "10.0.0.0/24"), f"deputy:{d}") for d in present]
        if batch:
            await self.events(meeting_id, batch, at_ms)
        await self.close(meeting_id)


def name_of(body_id: int) -> str:
    return f"b{body_id}"


@pytest.fixture
async def office(engine: AsyncEngine, keys: Keys) -> AsyncIterator[Office]:
    async with engine.begin() as conn:
        yield Office(conn, keys.box)


async def records(conn: AsyncConnection, meeting_id: int) -> dict[int, Any]:
    ar = m.attendance_records
    return {r.deputy_id: r for r in await conn.execute(select(ar).where(ar.c.meeting_id == meeting_id))}


async def test_a_close_freezes_one_record_per_member(office: Office) -> None:
    conn = office.conn
    body = await office.body("某县人民代表大会")
    a, b, c, d, e, f, g = await office.deputies(body, ["甲", "乙", "丙", "丁", "戊", "己", "庚"])
    await office.add(m.suspensions, deputy_id=e, starts_on=DAY0)  # 戊 suspended: no record at all
    meeting = await office.meeting(body, "第一次会议", dt.date(2026, 3, 1))
    await office.events(
        meeting,
        [
            (DeputyCheckedIn(a, CheckInMethod.HALL_QR, "10.0.0.0/24"), f"deputy:{a}"),
            (DeputyOnLeave(c), "staff:wang"),  # marked by staff in the hall: approved
            (DeputyCheckedIn(f, CheckInMethod.HALL_QR, "10.0.0.0/24"), f"deputy:{f}"),
            (DeputyCheckedIn(g, CheckInMethod.STAFF, ""), "staff:wang"),
            (DeputyCheckedIn(d, CheckInMethod.STAFF, ""), "staff:wang"),
            (AttendanceCleared(d), "staff:wang"),  # a mistaken check-in undone: absent
        ],
        1_000_000,
    )
    await office.events(meeting, [(AttendanceAnnounced(6, 4, 1, 1, True), "chair:chair")], 2_000_000)
    await office.events(meeting, [(DeputyCheckedIn(b, CheckInMethod.STAFF, ""), "staff:wang")], 3_000_000)
    await office.events(
        meeting, [(DeputyLeftHall(f), "staff:wang"), (DeputyLeftHall(g), "staff:wang")], 4_000_000
    )
    await office.events(meeting, [(DeputyReturned(g), "staff:wang")], 5_000_000)
    assert await records(conn, meeting) == {}
    await office.close(meeting, 6_000_000)

    got = await records(conn, meeting)
    assert set(got) == {a, b, c, d, f, g}
    assert (got[a].status, got[a].how, got[a].late, got[a].checked_in_ms) == (
        "present",
        "phone",
        False,
        1_000_000,
    )
    assert (got[b].status, got[b].how, got[b].late, got[b].checked_in_ms) == (
        "present",
        "hand",
        True,
        3_000_000,
    )
    assert (got[c].status, got[c].leave_approved) == ("leave", True)
    assert (got[d].status, got[d].checked_in_ms) == ("absent", None)
    assert (got[f].left_ms, got[f].returned_ms) == (4_000_000, None)
    assert (got[g].left_ms, got[g].returned_ms) == (4_000_000, 5_000_000)
    closed = (await conn.execute(select(m.meetings.c.closed_ms).where(m.meetings.c.id == meeting))).scalar()
    assert closed == 6_000_000

    # What the history shows: late 迟, part-way and not back 离, back again 出.
    grid = await attendance_history.grid(conn, body)
    codes = {mb.name: grid.mark(mb.id, meeting).code for mb in grid.members}  # type: ignore[union-attr]
    assert codes == {"甲": "出", "乙": "迟", "丙": "假", "丁": "缺", "己": "离", "庚": "出"}

    # The XLSX opens and says the same, as text.
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    sheet = load_workbook(io.BytesIO(attendance_export.body_xlsx(grid))).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][:4] == ["姓名", "卡号", "代表小组", "第一次会议（2026-03-01）"]
    assert {row[0]: row[3] for row in cells[1:]} == codes


async def test_a_rehearsal_leaves_no_record(office: Office) -> None:
    body = await office.body("彩排县人民代表大会")
    (a, _b) = await office.deputies(body, ["甲", "乙"])
    meeting = await office.meeting(body, "彩排", dt.date(2026, 3, 1))
    await office.conn.execute(m.meetings.update().where(m.meetings.c.id == meeting).values(rehearsal=True))
    await office.held(meeting, [a])
    assert await records(office.conn, meeting) == {}
    assert await attendance_history.session_absences(office.conn, body) == {}
    closed = (
        await office.conn.execute(select(m.meetings.c.closed_ms).where(m.meetings.c.id == meeting))
    ).scalar()
    assert closed is not None


async def _congress(office: Office, kind: str = "congress") -> tuple[int, list[int], list[int], int]:
    """A body with one term of three sessions; returns body, deputies, session ids, term."""
    body = await office.body(f"某县{kind}", kind=kind)
    people = await office.deputies(body, ["张", "王", "李", "赵", "钱", "孙"])
    term = await office.add(m.terms, body_id=body, number=17, starts_on=DAY0)
    sessions = [await office.add(m.sessions, term_id=term, number=n) for n in (1, 2, 3)]
    return body, people, sessions, term


async def test_two_unapproved_absences_not_in_a_row(office: Office) -> None:
    conn = office.conn
    body, (zhang, wang, li, zhao, qian, sun), (s1, s2, s3), term = await _congress(office)
    everyone = {zhang, wang, li, zhao, qian, sun}
    # Session 1: 张, 王 and 李 absent; 李 with leave approved beforehand (not on the log).
    m1 = await office.meeting(body, "第一次会议", dt.date(2026, 1, 10), term_id=term, session_id=s1)
    await office.add(
        m.leave_requests,
        meeting_id=m1,
        deputy_id=li,
        reason="出差",
        status="approved",
        asked_by=f"deputy:{li}",
        asked_ms=1,
        decided_by="staff:wang",
        decided_ms=2,
    )
    await office.held(m1, sorted(everyone - {zhang, wang, li}))
    # Session 2 has two sittings: 张 attends; 赵 misses both (counts once); 钱 misses the
    # first and attends the second (attended the session).
    m2a = await office.meeting(
        body, "第二次会议第一次全体会议", dt.date(2026, 6, 1), term_id=term, session_id=s2
    )
    m2b = await office.meeting(
        body, "第二次会议第二次全体会议", dt.date(2026, 6, 2), term_id=term, session_id=s2
    )
    await office.held(m2a, sorted(everyone - {zhao, qian}))
    await office.held(m2b, sorted(everyone - {zhao}))
    # Session 3: 张 absent again (not consecutive); 李 absent without leave this time.
    m3 = await office.meeting(body, "第三次会议", dt.date(2026, 12, 1), term_id=term, session_id=s3)
    await office.held(m3, sorted(everyone - {zhang, li}))

    counted = await attendance_history.session_absences(conn, body)
    assert {d: len(v[term]) for d, v in counted.items()} == {zhang: 2, wang: 1, li: 1, zhao: 1}
    warnings = await attendance_history.warnings(conn, body)
    assert [(w.deputy_id, w.sessions) for w in warnings] == [
        (zhang, ("第十七届第一次会议", "第十七届第三次会议"))
    ]
    # The phone's notice: after the first.
    assert await attendance_history.deputy_absences(conn, wang) == ["第十七届第一次会议"]
    assert len(await attendance_history.deputy_absences(conn, zhang)) == 2
    assert await attendance_history.deputy_absences(conn, sun) == []
    assert await attendance_history.deputy_absences(conn, qian) == []
    # 李's approved leave shows as 假, and the leave in session 1 did not count.
    grid = await attendance_history.grid(conn, body, term)
    assert grid.mark(li, m1).code == "假"  # type: ignore[union-attr]
    assert grid.totals[zhao]["缺"] == 2


async def test_standing_committee_absences_never_count(office: Office) -> None:
    body, (zhang, *_), (s1, s2, _s3), term = await _congress(office, kind="standing_committee")
    for n, s in ((1, s1), (2, s2)):
        meeting = await office.meeting(body, f"第{n}次会议", dt.date(2026, n, 1), term_id=term, session_id=s)
        await office.held(meeting, [])
    rows = await records(office.conn, meeting)
    assert rows[zhang].status == "absent"  # recorded, but never counted for §49
    assert await attendance_history.session_absences(office.conn, body) == {}
    assert await attendance_history.warnings(office.conn, body) == []
    assert await attendance_history.deputy_absences(office.conn, zhang) == []


async def test_a_correction_is_audited_with_before_and_after(office: Office) -> None:
    conn = office.conn
    body, (zhang, *_), (s1, *_), term = await _congress(office)
    meeting = await office.meeting(body, "第一次会议", dt.date(2026, 1, 10), term_id=term, session_id=s1)
    await office.held(meeting, [])
    audit_count = select(func.count()).select_from(m.audit)
    before = (await conn.execute(audit_count)).scalar_one()
    with pytest.raises(attendance.NotAllowed):
        await attendance.correct(conn, meeting, zhang, "leave", "", by="staff:wang", device="d", now_ms=7)
    with pytest.raises(attendance.NotAllowed):
        await attendance.correct(
            conn, meeting, zhang, "asleep", "说明", by="staff:wang", device="d", now_ms=7
        )
    assert (await conn.execute(audit_count)).scalar_one() == before
    await attendance.correct(
        conn, meeting, zhang, "leave", "补交了请假条", by="staff:wang", device="d", now_ms=7
    )
    row = (await records(conn, meeting))[zhang]
    assert (row.status, row.leave_approved, row.corrected_by, row.corrected_ms) == (
        "leave",
        True,
        "staff:wang",
        7,
    )
    entry = (await conn.execute(select(m.audit).order_by(m.audit.c.id.desc()).limit(1))).one()
    assert (entry.action, entry.actor, entry.meeting_id) == ("attendance_corrected", "staff:wang", meeting)
    detail = json.loads(entry.detail)
    assert detail["before"]["status"] == "absent" and detail["after"]["status"] == "leave"
    assert detail["note"] == "补交了请假条" and detail["deputy_id"] == zhang
    # Corrected to approved leave, the absence no longer counts.
    assert await attendance_history.deputy_absences(conn, zhang) == []
