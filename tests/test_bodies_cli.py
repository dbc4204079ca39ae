"""`wenzheng body|term|session|meeting add` from an empty database, and the demo's path.

The commands run in process (``server.cli.main``) with the test's data folder; a refusal
is one Chinese line on stderr, exit code 2, and nothing written.
"""

from __future__ import annotations

import asyncio
import getpass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.settings import Settings
from server.cli import main
from server.office import demo, terms
from server.storage import models as m
from server.storage.migrate import upgrade
from tests.conftest import plain_engine


def read(settings: Settings, fn: Any) -> Any:
    async def go() -> Any:
        engine = plain_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                return await fn(conn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def count(settings: Settings, table: str) -> int:
    async def fn(conn: AsyncConnection) -> int:
        return int(
            (await conn.execute(select(func.count()).select_from(m.metadata.tables[table]))).scalar_one()
        )

    return int(read(settings, fn))


def ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def refused(capsys: pytest.CaptureFixture[str], settings: Settings, text: str, *argv: str) -> None:
    before = {t: count(settings, t) for t in ("bodies", "terms", "sessions", "meetings", "audit")}
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("错误：") and text in err and "\n" not in err, err
    assert {t: count(settings, t) for t in before} == before


def test_body_term_session_meeting_from_the_command_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "某县人民代表大会常务委员会"
    assert "尚无机构" in ok(capsys, "body", "list")
    assert "已新建机构" in ok(
        capsys, "body", "add", body, "--kind", "standing-committee", "--level", "county"
    )
    refused(
        capsys,
        settings,
        "乡镇不设人大常委会",
        "body",
        "add",
        "某镇常委会",
        "--kind",
        "standing-committee",
        "--level",
        "town",
    )
    refused(capsys, settings, "已有名为", "body", "add", body, "--kind", "congress", "--level", "county")
    refused(capsys, settings, "级别须为", "body", "add", "某市人大", "--kind", "congress", "--level", "state")
    refused(
        capsys,
        settings,
        "没有名为“某地人大”的机构",
        "term",
        "add",
        "某地人大",
        "--number",
        "1",
        "--from",
        "2022-01-06",
    )
    assert "第十七届" in ok(capsys, "term", "add", body, "--number", "17", "--from", "2022-01-06")
    refused(capsys, settings, "重叠", "term", "add", body, "--number", "18", "--from", "2026-01-01")
    refused(
        capsys,
        settings,
        "须晚于开始日期",
        "term",
        "add",
        body,
        "--number",
        "16",
        "--from",
        "2017-01-06",
        "--to",
        "2016-01-01",
    )
    refused(capsys, settings, "格式应为", "term", "add", body, "--number", "16", "--from", "2017/01/06")
    assert "第一次会议" in ok(capsys, "session", "add", body)
    assert "第五次会议" in ok(capsys, "session", "add", body, "--term", "17", "--number", "5")
    refused(capsys, settings, "已有第五次会议", "session", "add", body, "--number", "5")
    refused(capsys, settings, "没有第十八届", "session", "add", body, "--term", "18")
    out = ok(
        capsys,
        "meeting", "add", body, "--kind", "special_inquiry", "--date", "2026-07-15",
        "--time", "14:30", "--place", "县人大常委会会议室", "--session", "new",
    )  # fmt: skip
    assert "某县第十七届人民代表大会常务委员会第六次会议（专题询问）" in out
    refused(
        capsys,
        settings,
        "任何一届的任期内",
        "meeting",
        "add",
        body,
        "--kind",
        "special_inquiry",
        "--date",
        "2020-01-01",
    )
    refused(capsys, settings, "不举行", "meeting", "add", body, "--kind", "mid_year", "--date", "2026-07-15")
    refused(
        capsys, settings, "请选择会议类型", "meeting", "add", body, "--kind", "party", "--date", "2026-07-15"
    )
    assert "第十七届（2022-01-06 起）" in ok(capsys, "body", "list")

    async def audit(conn: AsyncConnection) -> list[tuple[str, str]]:
        rows = await conn.execute(select(m.audit.c.action, m.audit.c.actor).order_by(m.audit.c.id))
        return [(str(a), str(b)) for a, b in rows]

    trail = read(settings, audit)
    assert [a for a, _ in trail] == [
        "body_created",
        "term_added",
        "session_added",
        "session_added",
        "session_added",
        "meeting_created",
    ]
    assert {actor for _, actor in trail} == {f"cli:{getpass.getuser()}"}


def test_demo_loads_through_the_same_functions_and_again_changes_nothing(settings: Settings) -> None:
    upgrade(settings.database_url)

    async def load(conn: AsyncConnection) -> int:
        return (await demo.load_demo(conn)).meeting_id

    async def once() -> int:
        engine = plain_engine(settings.database_url)
        try:
            async with engine.begin() as conn:
                return await load(conn)
        finally:
            await engine.dispose()

    first = asyncio.run(once())
    counts = {t: count(settings, t) for t in m.metadata.tables}
    assert asyncio.run(once()) == first
    assert {t: count(settings, t) for t in m.metadata.tables} == counts

    async def look(conn: AsyncConnection) -> Any:
        body = (await conn.execute(select(m.bodies).where(m.bodies.c.name == demo.BODY))).one()
        meeting = (await conn.execute(select(m.meetings).where(m.meetings.c.id == first))).one()
        views = await terms.terms_of(conn, body.id)
        actions = [str(a) for a in (await conn.execute(select(m.audit.c.action))).scalars()]
        return body, meeting, views, actions

    body, meeting, views, actions = read(settings, look)
    assert (body.kind, body.level) == ("congress", "town")
    assert meeting.title == demo.MEETING
    assert (meeting.held_on, meeting.starts_at, meeting.place) == (today(), "14:30", "镇人大会议室")
    assert [(v.number, [s.number for s in v.sessions]) for v in views] == [(17, [1, 2, 3])]
    assert views[0].sessions[2].meetings[0].id == first
    assert actions[:5] == ["body_created", "term_added", "session_added", "session_added", "session_added"]
    assert "meeting_created" in actions
    assert count(settings, "officials") == len(demo.OFFICIALS) and count(settings, "mandates") == 48
