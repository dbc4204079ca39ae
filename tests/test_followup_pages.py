"""The follow-up (督办) staff pages over HTTP: the meeting's 交办 decision form, the body's
board (counts, reminders, order, filters, an item by hand) and the item page (organs,
commitments, status changes with their history). Bad input answers 400 with its Chinese
message and changes nothing; without a login the pages send to the login page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.keys import Keys
from server.base.settings import Settings
from server.storage import models as m
from tests.conftest import Db, TestClient
from tests.test_csrf import everything
from tests.test_meetings_admin import run, staff_headers


def questions(settings: Settings, meeting_id: int) -> list[int]:
    async def fn(conn: AsyncConnection) -> list[int]:
        q = m.questions
        stmt = select(q.c.id).where(q.c.meeting_id == meeting_id).order_by(q.c.position)
        return [int(i) for i in await conn.scalars(stmt)]

    return list(run(settings.database_url, fn))


def body_of(settings: Settings, meeting_id: int) -> int:
    async def fn(conn: AsyncConnection) -> int:
        stmt = select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id)
        return int((await conn.execute(stmt)).scalar_one())

    return int(run(settings.database_url, fn))


def item_id_of(location: str) -> int:
    found = re.fullmatch(r"/followup/(\d+)\?saved=created", location)
    assert found, location
    return int(found.group(1))


def test_the_decision_form_makes_items_and_the_board_shows_them(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    url = f"/m/{meeting_id}/followup"
    assert client.get(url).status_code == 303  # no login: to the login page
    assert url in client.get(f"/meetings/{meeting_id}/edit", headers=headers).text  # linked
    form_page = client.get(url, headers=headers)
    assert form_page.status_code == 200 and "记录交办决定" in form_page.text
    qs = questions(settings, meeting_id)
    assert all(f'name="item_{q}"' in form_page.text for q in qs)
    good: dict[str, Any] = {
        "organ": "主席团",
        "decided_on": "2026-11-30",
        "document_no": "清溪人大〔2026〕7号",
        "reply_months": "3",
        **{f"item_{q}": "1" for q in qs[:5]},
        f"key_{qs[0]}": "1",
        f"reason_{qs[5]}": "已在会上答复清楚",
    }
    before = everything(db)
    for change, message in (
        ({f"reason_{qs[5]}": ""}, "未列为督办事项的问题须写明理由"),
        ({"reply_months": "7"}, "1 至 6 个月"),
        ({"decided_on": "2026-02-30"}, "交办日期"),
        ({"document_no": ""}, "交办文号"),
    ):
        reply = client.post(url, data={**good, **change}, headers=headers)
        assert reply.status_code == 400 and message in reply.text, change
        assert "未作任何更改" in reply.text
    assert everything(db) == before
    saved = client.post(url, data=good, headers=headers)
    assert saved.status_code == 303
    shown = client.get(url, headers=headers).text
    assert "清溪人大〔2026〕7号" in shown and "督办事项（5 项）" in shown and "已在会上答复清楚" in shown
    assert "2027-02-28" in shown  # 11-30 + 3 months
    assert client.post(url, data=good, headers=headers).status_code == 400  # one decision per meeting

    body_id = body_of(settings, meeting_id)
    assert f"/bodies/{body_id}/followup" in client.get(f"/bodies/{body_id}", headers=headers).text
    board = client.get(f"/bodies/{body_id}/followup", headers=headers).text
    counts = re.findall(r"<li[^>]*><b>(\d+)</b>(\S+?)</li>", board)
    assert counts == [("5", "总数"), ("0", "已办结"), ("5", "办理中"), ("0", "逾期")]
    assert "重点督办" in board
    priority = client.get(f"/bodies/{body_id}/followup?priority=1", headers=headers).text
    assert len(re.findall(r'id="fu-item-\d+"', priority)) == 1


def test_an_item_by_hand_with_organs_commitments_and_its_status_path(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    body_id = body_of(settings, meeting_id)
    board_url = f"/bodies/{body_id}/followup"
    form = {"title": "专题询问意见：农贸市场改造", "assigned_on": "2026-05-31", "reply_months": "1"}
    before = everything(db)
    for change, message in (({"reply_months": "0"}, "1 至 6 个月"), ({"title": ""}, "标题")):
        reply = client.post(board_url, data={**form, **change}, headers=headers)
        assert reply.status_code == 400 and message in reply.text
    assert everything(db) == before
    created = client.post(board_url, data=form, headers=headers)
    assert created.status_code == 303
    item_id = item_id_of(created.headers["location"])
    url = f"/followup/{item_id}"
    page = client.get(url, headers=headers).text
    assert "2026-06-30" in page and "手工新建" in page and "办理中" in page

    async def organs(conn: AsyncConnection) -> list[int]:
        o = m.organs
        ids = []
        for name in ("市场监管局", "住建局"):
            stmt = insert(o).values(body_id=body_id, name=name, created_at_ms=0).returning(o.c.id)
            ids.append(int((await conn.execute(stmt)).scalar_one()))
        return ids

    market, housing = run(settings.database_url, organs)
    post = client.post(
        url, data={"action": "organs", "lead": str(market), f"assist_{housing}": "1"}, headers=headers
    )
    assert post.status_code == 303
    assert (
        client.post(
            url, data={"action": "commitment", "text": "年内完成雨棚改造"}, headers=headers
        ).status_code
        == 303
    )
    before = everything(db)
    refused = client.post(url, data={"action": "status", "to": "closed", "text": ""}, headers=headers)
    assert refused.status_code == 400 and "不能从“办理中”改为“已办结”" in refused.text
    no_class = client.post(url, data={"action": "status", "to": "replied", "text": "答复"}, headers=headers)
    assert no_class.status_code == 400 and "答复类别" in no_class.text
    assert everything(db) == before
    reply = {"action": "status", "to": "replied", "reply_class": "B", "text": "列入明年计划"}
    assert client.post(url, data=reply, headers=headers).status_code == 303
    close = {"action": "status", "to": "closed", "text": ""}
    refused = client.post(url, data=close, headers=headers)
    assert refused.status_code == 400 and "B 类答复的事项仍在办理" in refused.text
    close["text"] = "纳入年度计划，转入常态监督"
    assert client.post(url, data=close, headers=headers).status_code == 303
    page = client.get(url, headers=headers).text
    assert "市场监管局 <b>（牵头）</b>" in page and "住建局（协办）" in page
    assert "年内完成雨棚改造" in page
    assert "办理中 → 已答复（B 类）" in page and "已答复 → 已办结" in page and "纳入年度计划" in page
    assert "更改状态" not in page  # closed is final
    board = client.get(f"{board_url}?status=closed", headers=headers).text
    assert f'id="fu-item-{item_id}"' in board and "市场监管局" in board
    assert client.get(f"{board_url}?organ={housing}", headers=headers).text.count('id="fu-item-') == 1


def test_the_board_puts_overdue_first_and_says_what_is_due(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    body_id = body_of(settings, meeting_id)
    day = today()
    ids = {}
    for title, due in (("下月到期", 40), ("五天后到期", 5), ("昨天到期", -1)):
        form = {"title": title, "assigned_on": day.isoformat(), "reply_months": "3"}
        ids[title] = item_id_of(
            client.post(f"/bodies/{body_id}/followup", data=form, headers=headers).headers["location"]
        )

        async def move(conn: AsyncConnection, item_id: int = ids[title], days: int = due) -> None:
            fi = m.followup_items
            await conn.execute(
                update(fi).where(fi.c.id == item_id).values(reply_due=day + dt.timedelta(days=days))
            )

        run(settings.database_url, move)
    board = client.get(f"/bodies/{body_id}/followup", headers=headers).text
    order = [int(i) for i in re.findall(r'id="fu-item-(\d+)"', board)]
    assert order == [ids["昨天到期"], ids["五天后到期"], ids["下月到期"]]
    assert "7 天内到期 1 项，已逾期 1 项" in board
    overdue = client.get(f"/bodies/{body_id}/followup?status=overdue", headers=headers).text
    assert re.findall(r'id="fu-item-(\d+)"', overdue) == [str(ids["昨天到期"])]


def test_unknown_ids_and_a_meeting_without_questions(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    assert client.get("/followup/999999", headers=headers).status_code == 404
    assert client.get("/bodies/999999/followup", headers=headers).status_code == 404
    assert client.get("/m/999999/followup", headers=headers).status_code == 404
    body_id = body_of(settings, meeting_id)
    board = client.get(f"/bodies/{body_id}/followup", headers=headers).text
    assert "还没有督办事项" in board

    async def empty_meeting(conn: AsyncConnection) -> int:
        mt = m.meetings
        stmt = (
            insert(mt)
            .values(body_id=body_id, kind="inquiry", title="空会议", created_ms=0)
            .returning(mt.c.id)
        )
        return int((await conn.execute(stmt)).scalar_one())

    empty = run(settings.database_url, empty_meeting)
    page = client.get(f"/m/{empty}/followup", headers=headers).text
    assert "还没有审定的问题" in page and 'id="fu-form"' not in page

    async def rehearsal(conn: AsyncConnection) -> None:
        await conn.execute(update(m.meetings).where(m.meetings.c.id == meeting_id).values(rehearsal=True))

    run(settings.database_url, rehearsal)
    page = client.get(f"/m/{meeting_id}/followup", headers=headers).text
    assert "这是彩排，不交办督办事项" in page and 'id="fu-form"' not in page
