"""Who reports on an agenda item and who chairs the meeting, prepared in the office
(server/office/agenda_reporters.py, meetings_admin.save_chair) and on the meeting's edit
page: each choice written whole and audited, bad input refused in Chinese with nothing
written, both still open once the meeting began, and carried by a clone and a rehearsal.
tests/test_agenda_reporters_postgres.py runs the office tests on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.keys import Keys
from server.base.settings import Settings
from server.office import meetings_admin as admin
from server.office import rehearsals
from server.office.bodies import create_body
from server.office.meeting_forms import Invalid
from server.storage import models as m
from tests.conftest import TestClient
from tests.rec_reporters_fixtures import HIGHER, WHO, demo, name, name_three, run
from tests.test_meetings_admin import staff_headers

REPORTER_COLUMNS = (
    "reporter_kind",
    "reporter_group_id",
    "reporter_deputy_id",
    "reporter_name",
    "reporter_congress",
)


async def _columns(conn: AsyncConnection, item_id: int) -> tuple[Any, ...]:
    ai = m.agenda_items.c
    row = (await conn.execute(select(*(ai[c] for c in REPORTER_COLUMNS)).where(ai.id == item_id))).one()
    return tuple(row)


async def _digest(conn: AsyncConnection) -> str:
    h = hashlib.sha256()
    for table in (m.agenda_items, m.meetings, m.audit):
        for row in await conn.execute(select(table).order_by(*table.primary_key.columns)):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


async def _trail(conn: AsyncConnection, meeting_id: int) -> list[dict[str, Any]]:
    a = m.audit.c
    rows = await conn.execute(
        select(a.detail).where(a.meeting_id == meeting_id, a.action == "meeting_edited").order_by(a.id)
    )
    return [json.loads(r.detail) for r in rows]


def test_each_choice_is_written_whole_and_audited(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        d = await demo(conn, meeting_id)
        item = d.items[0]
        group_id, group_name = d.groups[2]
        member_id, member_name, member_group = d.members[5]
        await name(
            conn,
            meeting_id,
            item.id,
            reporter="higher",
            reporter_name="  李\n秀英 ",
            reporter_congress=HIGHER[1],
        )
        assert await _columns(conn, item.id) == ("higher", None, None, "李 秀英", HIGHER[1])
        # Another kind replaces the whole choice: no name left behind from the last one.
        await name(conn, meeting_id, item.id, reporter=f"group:{group_id}", reporter_name="留下的名字")
        assert await _columns(conn, item.id) == ("group", group_id, None, "", "")
        await name(conn, meeting_id, item.id, reporter=f"member:{member_id}")
        assert await _columns(conn, item.id) == ("member", None, member_id, "", "")
        await name(conn, meeting_id, item.id, reporter="")
        assert await _columns(conn, item.id) == ("", None, None, "", "")
        trail = await _trail(conn, meeting_id)
        assert [t["field"] for t in trail] == ["reporter"] * 4
        member_label = f"{member_name}（{dict(d.groups)[member_group]}）"
        assert [t["summary"].rpartition("：")[2] for t in trail] == [
            f"李 秀英（{HIGHER[1]}代表）",
            group_name,
            member_label,
            "不设",
        ]
        assert trail[0]["summary"].startswith(f"第 1 项议程“{item.title}”的述职人")
        assert trail[2]["reporter_kind"] == "member" and all(t["item_id"] == item.id for t in trail)

    run(settings.database_url, fn)


async def _other_body(conn: AsyncConnection) -> tuple[int, int]:
    """A group and a member of another body: (group id, deputy id)."""
    body = await create_body(conn, "某县人民代表大会", "congress", "county", WHO)
    g = await conn.execute(
        insert(m.groups).values(body_id=body, name="外县小组", position=1).returning(m.groups.c.id)
    )
    group_id = int(g.scalar_one())
    values = {
        "body_id": body,
        "group_id": group_id,
        "name": "外县代表",
        "card_no": "X1",
        "short_code": "98765432",
    }
    deputy_id = int(
        (await conn.execute(insert(m.deputies).values(values).returning(m.deputies.c.id))).scalar_one()
    )
    await conn.execute(
        insert(m.mandates).values(deputy_id=deputy_id, starts_on=today(), start_reason="elected")
    )
    return group_id, deputy_id


def test_bad_choices_are_refused_in_chinese_and_write_nothing(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        d = await demo(conn, meeting_id)
        item = d.items[1]
        await name(conn, meeting_id, item.id, reporter="higher", reporter_name=HIGHER[0])
        other_group, other_member = await _other_body(conn)
        gone, suspended = d.members[0][0], d.members[1][0]
        day = (await admin.meeting_row(conn, meeting_id)).held_on
        md = m.mandates.c
        await conn.execute(
            update(m.mandates).where(md.deputy_id == gone).values(ends_on=day)
        )  # left that day
        await conn.execute(
            insert(m.suspensions).values(deputy_id=suspended, starts_on=day, reason="测试", recorded_by="t")
        )
        other_meeting = await admin.clone(conn, meeting_id, 1)
        assert other_meeting is not None
        other_item = (await admin.agenda(conn, other_meeting))[0].id
        before = await _digest(conn)
        cases: list[tuple[dict[str, str], str, str]] = [
            ({"reporter": f"group:{other_group}"}, "reporter", "所选代表小组不属于本机构"),
            ({"reporter": "group:999999"}, "reporter", "所选代表小组不属于本机构"),
            ({"reporter": f"member:{other_member}"}, "reporter", "不是本机构在会议当日的组成人员"),
            ({"reporter": f"member:{gone}"}, "reporter", "不是本机构在会议当日的组成人员"),
            ({"reporter": f"member:{suspended}"}, "reporter", "暂停执行代表职务"),
            ({"reporter": "member:abc"}, "reporter", "请选择述职人"),
            ({"reporter": "everyone"}, "reporter", "请选择述职人"),
            ({"reporter": "higher", "reporter_name": "   "}, "reporter_name", "请填写上级人大代表的姓名"),
            ({"reporter": "higher", "reporter_name": "张" * 65}, "reporter_name", "不能超过 64 个字"),
            ({"reporter": "higher", "reporter_name": "张" * 5000}, "reporter_name", "不能超过 64 个字"),
            ({"reporter": "higher", "reporter_name": "张\x07三"}, "reporter_name", "无法识别的字符"),
            (
                {"reporter": "higher", "reporter_name": "张三", "reporter_congress": "市" * 101},
                "reporter_congress",
                "所属人大不能超过 100 个字",
            ),
        ]
        for form, field, text in cases:
            with pytest.raises(Invalid) as bad:
                await name(conn, meeting_id, item.id, **form)
            assert text in bad.value.errors[field], form
            assert bad.value.errors["reporter_item"] == str(item.id)
        for wrong in (other_item, 999_999):  # an item of another meeting, or none
            with pytest.raises(Invalid) as bad:
                await name(conn, meeting_id, wrong, reporter="")
            assert bad.value.errors == {"item": "找不到这个议程项。"}
        assert await _digest(conn) == before
        assert await _columns(conn, item.id) == ("higher", None, None, HIGHER[0], "")

    run(settings.database_url, fn)


def test_the_chair_is_trimmed_bounded_and_audited(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        row = await admin.meeting_row(conn, meeting_id)
        await admin.save_chair(conn, meeting_id, row, "  镇人大主席   王  建国 ", WHO)
        row = await admin.meeting_row(conn, meeting_id)
        assert row.chair == "镇人大主席 王 建国"
        before = await _digest(conn)
        for raw, text in (
            ("王" * 65, "主持人不能超过 64 个字"),
            ("王" * 5000, "主持人不能超过 64 个字"),
            ("王\x1b建国", "无法识别的字符"),
            ("王\x00", "无法识别"),
        ):
            with pytest.raises(Invalid) as bad:
                await admin.save_chair(conn, meeting_id, row, raw, WHO)
            assert text in bad.value.errors["chair"]
        assert await _digest(conn) == before
        await admin.save_chair(conn, meeting_id, row, "王" * 64, WHO)
        await admin.save_chair(conn, meeting_id, await admin.meeting_row(conn, meeting_id), "", WHO)
        assert (await admin.meeting_row(conn, meeting_id)).chair == ""
        trail = await _trail(conn, meeting_id)
        assert [(t["field"], t["chair"]) for t in trail] == [
            ("chair", "镇人大主席 王 建国"),
            ("chair", "王" * 64),
            ("chair", ""),
        ]
        assert trail[1]["before"] == "镇人大主席 王 建国" and trail[2]["summary"] == "清除主持人"

    run(settings.database_url, fn)


def test_a_clone_and_a_rehearsal_carry_the_chair_and_who_reports(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        await admin.save_chair(conn, meeting_id, await admin.meeting_row(conn, meeting_id), "王建国", WHO)
        await name_three(conn, meeting_id)
        source = [await _columns(conn, i.id) for i in await admin.agenda(conn, meeting_id)]
        assert len({s[0] for s in source}) == 3
        copy = await admin.clone(conn, meeting_id, 1)
        assert copy is not None
        rehearsal = await rehearsals.create(conn, meeting_id, actor="staff:chair", device="pytest", now_ms=1)
        for other in (copy, rehearsal):
            assert (await admin.meeting_row(conn, other)).chair == "王建国"
            assert [await _columns(conn, i.id) for i in await admin.agenda(conn, other)] == source

    run(settings.database_url, fn)


# -- the edit page ---------------------------------------------------------------------


def _items(settings: Settings, meeting_id: int) -> list[Any]:
    return list(run(settings.database_url, lambda c: admin.agenda(c, meeting_id)))


def test_the_edit_page_sets_the_chair_and_who_reports(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    url = f"/meetings/{meeting_id}/edit"
    d = run(settings.database_url, lambda c: demo(c, meeting_id))
    page = client.get(url, headers=headers).text
    assert 'id="m-chair"' in page and 'name="chair"' in page
    assert f'<option value="group:{d.groups[0][0]}">{d.groups[0][1]}</option>' in page
    assert 'label="本机构代表（会议当日在任）"' in page and 'value="higher"' in page
    assert 'id="m-duty-hint"' not in page  # a mid-year session: folded away, still there
    assert page.count('class="m-reporter"') == len(d.items)

    def post(**form: str) -> Any:
        return client.post(url, data=form, headers=headers)

    assert post(action="chair", chair=" 王建国 ").status_code == 303
    refused = post(action="chair", chair="王" * 65)
    assert refused.status_code == 400 and "主持人不能超过 64 个字" in refused.text
    assert run(settings.database_url, lambda c: admin.meeting_row(c, meeting_id)).chair == "王建国"

    item = d.items[0]
    member_id = d.members[3][0]
    assert (
        post(action="agenda_reporter", item_id=str(item.id), reporter=f"member:{member_id}").status_code
        == 303
    )
    refused = post(action="agenda_reporter", item_id=str(item.id), reporter="higher", reporter_name="")
    assert refused.status_code == 400 and "请填写上级人大代表的姓名" in refused.text
    assert 'value="higher" selected' in refused.text  # what was sent is shown again
    assert _items(settings, meeting_id)[0].reporter_deputy_id == member_id
    page = client.get(url, headers=headers).text
    assert f'value="member:{member_id}" selected' in page and f"述职人：<b>{d.members[3][1]}（" in page

    # Once the meeting began, its rules and agenda are fixed, but the names are not.
    assert (
        client.post(f"/m/{meeting_id}/act", data={"cmd": "open_checkin"}, headers=headers).status_code == 200
    )
    assert post(action="agenda_add", item_kind="report", item_title="新议程").status_code == 409
    assert post(action="chair", chair="李明").status_code == 303
    done = post(action="agenda_reporter", item_id=str(item.id), reporter=f"group:{d.groups[1][0]}")
    assert done.status_code == 303
    assert _items(settings, meeting_id)[0].reporter_group_id == d.groups[1][0]
    page = client.get(url, headers=headers).text
    assert 'value="agenda_reporter"' in page and 'name="chair" value="李明"' in page


def test_a_duty_report_meeting_asks_for_its_reporters(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> int:
        body_id = (await demo(conn, meeting_id)).body_id
        return await admin.create(conn, body_id, "duty_report", 1, held_on=today(), who=WHO, session="new")

    duty = run(settings.database_url, fn)
    page = client.get(f"/meetings/{duty}/edit", headers=staff_headers(client, keys)).text
    assert 'id="m-duty-hint"' in page
    assert page.count('class="m-reporter"') == 4 and page.count('" open>') >= 4
    # The two 述职 (report) items ask for their reporter; the rating and the remarks need none.
    assert page.count('述职人：<span class="m-reporter-missing">未指定，请选择</span>') == 2
    assert page.count('述职人：<span class="muted">未指定</span>') == 2
