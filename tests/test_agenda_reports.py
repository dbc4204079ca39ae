"""The agenda item that takes a progress report (server/office/agenda_reports.py), in the
office: only a report of the meeting's own body, once per meeting, its title by default
the report's, audited; bad input refused in Chinese with nothing written; the meeting's
setup carries the report's figures (server/storage/store.py); cloning a meeting and making
a rehearsal keep the link. tests/test_agenda_reports_postgres.py runs these on PostgreSQL.

The reports themselves are generated elsewhere (the progress report's own module); here a
row of ``followup_reports`` is written as that generation leaves it (:func:`save_report`).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import ReportSummary
from server.base.settings import Settings
from server.office import agenda_reports, meetings_admin, rehearsals
from server.office.bodies import Who, create_body
from server.office.meeting_forms import Invalid
from server.storage import models as m
from server.storage.store import load_setup, report_summary
from tests.test_meetings_admin import run

WHO = Who("staff:chair", "pytest")
TITLE = "关于人大代表问政会所提问题推进落实情况的报告"
COUNTS = {
    "total": 12,
    "closed": 5,
    "open": 7,
    "overdue": 2,
    "class_a": 4,
    "class_b": 3,
    "class_c": 1,
    "redo": 1,
    "objected": 2,
}
FIGURES = ReportSummary(TITLE, **COUNTS)


async def save_report(
    conn: AsyncConnection, body_id: int, title: str = TITLE, counts: dict[str, int] | None = None
) -> int:
    """A progress report as its generation saves it (the contract: counts as JSON)."""
    r = m.followup_reports
    values = {
        "body_id": body_id,
        "title": title,
        "overview": "本次会议共交办问题十二项。",
        "counts": json.dumps(COUNTS if counts is None else counts),
        "made_by": "staff:chair",
        "made_at_ms": int(time.time() * 1000),
    }
    return int((await conn.execute(insert(r).values(**values).returning(r.c.id))).scalar_one())


async def body_of(conn: AsyncConnection, meeting_id: int) -> int:
    found = await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
    return int(found.scalar_one())


async def digest(conn: AsyncConnection) -> str:
    h = hashlib.sha256()
    for table in (m.agenda_items, m.audit, m.followup_reports):
        for row in await conn.execute(select(table).order_by(*table.primary_key.columns)):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def test_an_item_takes_the_bodys_report_and_the_setup_carries_its_figures(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        report_id = await save_report(conn, await body_of(conn, meeting_id))
        before = await meetings_admin.agenda(conn, meeting_id)
        item_id = await agenda_reports.add_item(conn, meeting_id, {"report_id": str(report_id)}, WHO)
        agenda = await meetings_admin.agenda(conn, meeting_id)
        assert len(agenda) == len(before) + 1
        added = agenda[-1]
        assert (added.id, added.position, added.kind) == (item_id, len(agenda), "report")
        assert added.title == TITLE and added.report_id == report_id  # the report's title by default
        entry = (await conn.execute(select(m.audit).where(m.audit.c.action == "agenda_report_added"))).one()
        detail = json.loads(entry.detail)
        assert entry.meeting_id == meeting_id and entry.actor == WHO.actor
        assert (detail["report_id"], detail["item_id"]) == (report_id, item_id)
        assert TITLE in detail["summary"]
        setup = await load_setup(conn, meeting_id)
        item = setup.agenda_item(item_id)
        assert item is not None and item.report == FIGURES
        assert all(i.report is None for i in setup.agenda if i.id != item_id)
        # A title typed by staff is kept.
        other = await save_report(conn, await body_of(conn, meeting_id), title="第二份报告")
        form = {"report_id": str(other), "item_title": " 听取 第二份 进展报告 "}
        second = await agenda_reports.add_item(conn, meeting_id, form, WHO)
        setup = await load_setup(conn, meeting_id)
        taken = setup.agenda_item(second)
        assert taken is not None and taken.title == "听取 第二份 进展报告"
        assert taken.report is not None and taken.report.title == "第二份报告"

    run(settings.database_url, fn)


def test_bad_choices_are_refused_in_chinese_and_write_nothing(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        body_id = await body_of(conn, meeting_id)
        ours = await save_report(conn, body_id)
        elsewhere = await create_body(conn, "某市人大常委会", "standing_committee", "city", WHO)
        theirs = await save_report(conn, elsewhere)
        before = await digest(conn)
        refusals: list[tuple[dict[str, str], str, str]] = [
            ({}, "report_id", "请选择要听取的督办进展报告"),
            ({"report_id": "abc"}, "report_id", "请选择要听取的督办进展报告"),
            ({"report_id": "999999"}, "report_id", "请选择要听取的督办进展报告"),
            ({"report_id": str(theirs)}, "report_id", "所选进展报告不是本机构的"),
            ({"report_id": str(ours), "item_title": "长" * 201}, "item_title", "不能超过 200 个字"),
            ({"report_id": str(ours), "item_title": "报告\x00"}, "item_title", "无法识别的字符"),
        ]
        for form, field, text in refusals:
            with pytest.raises(Invalid) as bad:
                await agenda_reports.add_item(conn, meeting_id, form, WHO)
            assert text in bad.value.errors.get(field, ""), (form, bad.value.errors)
        assert await digest(conn) == before
        await agenda_reports.add_item(conn, meeting_id, {"report_id": str(ours)}, WHO)
        once = await digest(conn)
        with pytest.raises(Invalid) as bad:
            await agenda_reports.add_item(conn, meeting_id, {"report_id": str(ours)}, WHO)
        assert "本次会议已有听取该进展报告的议程" in bad.value.errors["report_id"]
        assert await digest(conn) == once

    run(settings.database_url, fn)


def test_an_item_that_takes_a_report_stays_a_report(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        report_id = await save_report(conn, await body_of(conn, meeting_id))
        item_id = await agenda_reports.add_item(conn, meeting_id, {"report_id": str(report_id)}, WHO)
        rename = {"item_id": str(item_id), "item_kind": "vote", "item_title": "表决"}
        with pytest.raises(Invalid) as bad:
            await meetings_admin.edit_agenda(conn, meeting_id, "agenda_rename", rename)
        assert "类型只能是“报告”" in bad.value.errors["item_kind"]
        rename |= {"item_kind": "report", "item_title": "听取进展报告"}
        await meetings_admin.edit_agenda(conn, meeting_id, "agenda_rename", rename)
        row = (await meetings_admin.agenda(conn, meeting_id))[-1]
        assert (row.kind, row.title, row.report_id) == ("report", "听取进展报告", report_id)

    run(settings.database_url, fn)


def test_clone_and_rehearsal_keep_the_report(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        report_id = await save_report(conn, await body_of(conn, meeting_id))
        await agenda_reports.add_item(conn, meeting_id, {"report_id": str(report_id)}, WHO)
        clone_id = await meetings_admin.clone(conn, meeting_id, int(time.time() * 1000))
        assert clone_id is not None
        rehearsal_id = await rehearsals.create(conn, meeting_id, actor=WHO.actor, device=WHO.device, now_ms=1)
        for copy in (clone_id, rehearsal_id):
            agenda = await meetings_admin.agenda(conn, copy)
            assert [i.report_id for i in agenda if i.report_id] == [report_id], copy
            setup = await load_setup(conn, copy)
            assert [i.report for i in setup.agenda if i.report] == [FIGURES], copy
        # Resetting the rehearsal keeps its preparation, the link with it.
        await rehearsals.reset(conn, rehearsal_id, actor=WHO.actor, device=WHO.device)
        assert [i.report_id for i in await meetings_admin.agenda(conn, rehearsal_id) if i.report_id] == [
            report_id
        ]

    run(settings.database_url, fn)


def test_the_body_reports_are_offered_newest_first(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        body_id = await body_of(conn, meeting_id)
        first = await save_report(conn, body_id, title="上半年")
        second = await save_report(conn, body_id, title="下半年")
        r = m.followup_reports
        await conn.execute(update(r).where(r.c.id == first).values(made_at_ms=1_000))
        await conn.execute(update(r).where(r.c.id == second).values(made_at_ms=2_000))
        elsewhere = await create_body(conn, "某市人大常委会", "standing_committee", "city", WHO)
        await save_report(conn, elsewhere, title="别的机构的")
        offered = await agenda_reports.body_reports(conn, body_id)
        assert [o.title for o in offered] == ["下半年", "上半年"]

    run(settings.database_url, fn)


@pytest.mark.parametrize(
    ("stored", "wanted"),
    [
        (json.dumps(COUNTS), COUNTS),
        ("{}", {}),
        ("", {}),
        ("not json", {}),
        ("[1, 2]", {}),
        (json.dumps({"total": 3, "closed": "2", "open": -1, "overdue": True, "extra": 9}), {"total": 3}),
    ],
)
def test_figures_are_read_as_stored_and_never_made_up(stored: str, wanted: dict[str, Any]) -> None:
    """A figure missing or unreadable reads 0; nothing is computed in its place."""
    assert report_summary("报告", stored) == ReportSummary("报告", **wanted)
