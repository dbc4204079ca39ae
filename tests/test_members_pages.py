"""Members over time through the staff pages, logged in as staff: the member's page (end a
mandate, suspend, resume), the roster's 补选 form and its sections, the import preview's
名册中未出现 choices (keep and end), the console's note and the phone's refusals.

Every refused form answers 400 with a Chinese reason and leaves every table as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.storage import models as m
from server.web.routes.deputy import NOT_MEMBER, SUSPENDED
from tests.conftest import Db, Hall
from tests.test_csrf import everything
from tests.test_imports import login

DAY = dt.timedelta(days=1)


def since_2024(db: Db) -> None:
    async def fn(conn: AsyncConnection) -> None:
        await conn.execute(update(m.mandates).values(starts_on=dt.date(2024, 1, 1)))
        await conn.commit()

    db._run(fn)


def name_and_card(db: Db, deputy_id: int) -> tuple[str, str]:
    async def fn(conn: AsyncConnection) -> tuple[str, str]:
        row = (await conn.execute(select(m.deputies).where(m.deputies.c.id == deputy_id))).one()
        return str(row.name), str(row.card_no)

    return tuple(db._run(fn))  # type: ignore[return-value]


def post(client: Any, path: str, csrf: str, **data: str) -> Any:
    return client.post(path, data={"csrf": csrf, **data})


def refused(client: Any, db: Db, path: str, csrf: str, words: str, **data: str) -> None:
    before = everything(db)
    reply = post(client, path, csrf, **data)
    assert reply.status_code == 400, (reply.status_code, reply.text[:300])
    assert words in reply.text and "未作任何修改" in reply.text, reply.text
    assert everything(db) == before


END = {"ends_on": "", "reason": "resigned", "organ": "镇人大主席团", "document": "清人〔2026〕3号"}


def test_end_a_mandate_on_the_member_page(client: Any, db: Db) -> None:
    since_2024(db)
    csrf = login(client)
    name, card = name_and_card(db, 1)
    page = client.get("/bodies/1/deputies/1").text
    assert "任期记录" in page and "现任代表" in page and "2024-01-01" in page and "终止代表资格" in page
    path, now = "/bodies/1/deputies/1/end", today()
    refused(client, db, path, csrf, "应晚于其开始日期", **{**END, "ends_on": "2023-06-01"})
    refused(client, db, path, csrf, "不是日历上的日子", **{**END, "ends_on": "2026-02-30"})
    refused(client, db, path, csrf, "请填写代表资格终止日期", **END)
    refused(
        client, db, path, csrf, "请填写依据文件的文号", **{**END, "ends_on": now.isoformat(), "document": ""}
    )
    refused(
        client,
        db,
        path,
        csrf,
        "请选择终止代表资格的原因",
        **{**END, "ends_on": now.isoformat(), "reason": "x"},
    )
    refused(
        client, db, path, csrf, "无法识别的字符", **{**END, "ends_on": now.isoformat(), "organ": "a\x00b"}
    )
    done = post(client, path, csrf, **{**END, "ends_on": now.isoformat(), "document_on": "2026-01-05"})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=ended")
    page = client.get(done.headers["location"]).text
    assert "已记录代表资格终止" in page and "代表资格已终止" in page and "清人〔2026〕3号" in page
    assert "确认终止代表资格" not in page  # nothing left to end
    refused(client, db, path, csrf, "不能再次终止", **{**END, "ends_on": (now + DAY).isoformat()})
    roster = client.get("/bodies/1/roster").text
    assert "现任代表（共 47 人）" in roster and "代表资格已终止（1 人）" in roster
    former = roster[roster.index('id="r-former"') :]
    assert name in former and card in former and "辞职" in former
    exported = client.get("/bodies/1/roster.xlsx")
    assert exported.status_code == 200  # the export leaves former members out (checked below)
    import io

    from openpyxl import load_workbook

    cards = [
        str(r[2])
        for r in load_workbook(io.BytesIO(exported.content)).active.iter_rows(min_row=2, values_only=True)
    ]
    assert card not in cards and len(cards) == 47


def test_suspend_and_resume_on_the_member_page(client: Any, db: Db) -> None:
    since_2024(db)
    csrf = login(client)
    now = today()
    path = "/bodies/1/deputies/2/suspend"
    refused(
        client,
        db,
        path,
        csrf,
        "请填写暂停执行代表职务的原因",
        starts_on=now.isoformat(),
        organ="县人大常委会",
    )
    refused(client, db, path, csrf, "不是代表", starts_on="2023-01-01", reason="羁押", organ="县人大常委会")
    done = post(
        client, path, csrf, starts_on=now.isoformat(), reason="因刑事案件被羁押", organ="县人大常委会"
    )
    assert done.status_code == 303
    page = client.get("/bodies/1/deputies/2").text
    assert "暂停执行代表职务</b>" in page and "因刑事案件被羁押" in page and "尚未恢复" in page
    refused(client, db, path, csrf, "重叠", starts_on=(now + DAY).isoformat(), reason="又", organ="常委会")
    roster = client.get("/bodies/1/roster").text
    assert "暂停执行代表职务（1 人）" in roster
    found = re.search(r"/bodies/1/deputies/2/suspensions/(\d+)/end", page)
    assert found
    end = found.group(0)
    refused(client, db, end, csrf, "恢复日期应晚于", ends_on=now.isoformat())
    assert post(client, end, csrf, ends_on=(now + DAY).isoformat()).status_code == 303
    refused(client, db, end, csrf, "这次暂停已于", ends_on=(now + 2 * DAY).isoformat())


def test_by_election_from_the_roster_page(client: Any, db: Db) -> None:
    since_2024(db)
    csrf = login(client)
    assert "补选代表" in client.get("/bodies/1/roster").text
    _, card = name_and_card(db, 3)
    path = "/bodies/1/roster/by-election"
    good = {"name": "赵补选", "group": "城东代表小组", "card_no": "3001", "starts_on": today().isoformat()}
    refused(client, db, path, csrf, "已是现任代表", **{**good, "card_no": card})
    refused(client, db, path, csrf, "日期的格式应为", **{**good, "starts_on": "明天"})
    refused(client, db, path, csrf, "这个代表小组", **{**good, "group": "无此小组"})
    done = post(client, path, csrf, **good)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=added")
    page = client.get(done.headers["location"]).text
    assert "已补选该代表" in page and "赵补选" in page and "补选" in page
    assert "现任代表（共 49 人）" in client.get("/bodies/1/roster").text


def upload(client: Any, csrf: str, text: str) -> Any:
    return client.post(
        "/bodies/1/roster/preview", files={"file": ("r.csv", text.encode())}, data={"csrf": csrf}
    )


def test_import_lists_members_missing_from_the_file_and_applies_keep_and_end(client: Any, db: Db) -> None:
    since_2024(db)
    csrf = login(client)
    exported = client.get("/bodies/1/roster.xlsx").content
    import io

    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(exported)).active.iter_rows(values_only=True))
    head, body = rows[0], rows[1:]
    keep, drop = body[-2], body[-1]  # missing from the file
    text = (
        ",".join(map(str, head)) + "\n" + "".join(",".join(str(c or "") for c in r) + "\n" for r in body[:-2])
    )
    reply = upload(client, csrf, text)
    assert (
        reply.status_code == 200
        and "名册中未出现（2 人）" in reply.text
        and "新代表任期开始日期" in reply.text
    )
    assert keep[0] in reply.text and drop[0] in reply.text
    token = re.search(r'name="token" value="([^"]+)"', reply.text)
    ids = re.findall(r'name="fate_(\d+)" value="end"', reply.text)
    assert token and len(ids) == 2
    keep_id, drop_id = ids
    choice = {
        "token": token.group(1),
        "starts_on": "2026-01-01",
        f"fate_{keep_id}": "keep",
        f"fate_{drop_id}": "end",
        f"ends_on_{drop_id}": "2023-01-01",  # before the mandate began
        f"reason_{drop_id}": "moved",
        f"organ_{drop_id}": "镇人大主席团",
        f"document_{drop_id}": "清人〔2026〕9号",
    }
    before = everything(db)
    again = post(client, "/bodies/1/roster/confirm", csrf, **choice)
    assert again.status_code == 400 and "未导入任何数据" in again.text and "应晚于其开始日期" in again.text
    assert drop[0] in again.text and 'value="镇人大主席团"' in again.text  # typed values kept
    assert everything(db) == before
    bad_day = post(client, "/bodies/1/roster/confirm", csrf, **{**choice, "starts_on": "2026-02-30"})
    assert bad_day.status_code == 400 and "新代表任期开始日期不是日历上的日子" in bad_day.text
    assert everything(db) == before
    choice[f"ends_on_{drop_id}"] = today().isoformat()
    done = post(client, "/bodies/1/roster/confirm", csrf, **choice)
    assert done.status_code == 200, done.text
    assert "名册中未出现 2 人（保留 1 人，终止代表资格 1 人）" in done.text
    roster = client.get("/bodies/1/roster").text
    former = roster[roster.index('id="r-former"') :]
    assert drop[0] in former and keep[0] not in former and "调离本行政区域" in former
    assert "现任代表（共 47 人）" in roster


def test_keep_is_the_default_and_writes_no_end(client: Any, db: Db) -> None:
    since_2024(db)
    csrf = login(client)
    reply = upload(client, csrf, "姓名,代表小组,卡号\n新人,城东代表小组,3030\n")
    assert "名册中未出现（48 人）" in reply.text
    token = re.search(r'name="token" value="([^"]+)"', reply.text)
    assert token
    done = post(client, "/bodies/1/roster/confirm", csrf, token=token.group(1), starts_on="2026-01-01")
    assert done.status_code == 200 and "保留 48 人，终止代表资格 0 人" in done.text
    assert "现任代表（共 49 人）" in client.get("/bodies/1/roster").text


def test_the_phone_of_a_deputy_who_is_not_a_member_or_is_suspended(client: Any, db: Db, hall: Hall) -> None:
    since_2024(db)
    csrf = login(client)
    assert "签到" in hall.deputy_page(5)
    now = today().isoformat()
    assert post(client, "/bodies/1/deputies/5/end", csrf, **{**END, "ends_on": now}).status_code == 303
    page = hall.http.get("/d/1", headers=hall.deputy_headers(5))
    assert page.status_code == 403 and NOT_MEMBER in page.text
    ok = post(
        client, "/bodies/1/deputies/6/suspend", csrf, starts_on=now, reason="羁押", organ="县人大常委会"
    )
    assert ok.status_code == 303
    page = hall.http.get("/d/1", headers=hall.deputy_headers(6))
    assert page.status_code == 403 and SUSPENDED in page.text
    assert hall.http.get("/d/1", headers=hall.deputy_headers(7)).status_code == 200


def test_the_console_says_who_joined_or_left_since_the_last_meeting(client: Any, db: Db, hall: Hall) -> None:
    since_2024(db)
    csrf = login(client)
    earlier = today() - 10 * DAY

    async def fn(conn: AsyncConnection) -> None:
        row = (await conn.execute(select(m.meetings).where(m.meetings.c.id == 1))).one()
        values = {k: v for k, v in row._mapping.items() if k != "id"}
        await conn.execute(insert(m.meetings).values({**values, "held_on": earlier}))
        await conn.commit()

    db._run(fn)
    assert f"自上次会议（{earlier.month}月{earlier.day}日）以来：代表无增减" in hall.console()
    name, _ = name_and_card(db, 4)
    post(client, "/bodies/1/deputies/4/end", csrf, **{**END, "ends_on": (today() - 2 * DAY).isoformat()})
    good = {
        "name": "王某",
        "group": "城东代表小组",
        "card_no": "3001",
        "starts_on": (today() - DAY).isoformat(),
    }
    assert post(client, "/bodies/1/roster/by-election", csrf, **good).status_code == 303
    note = f"自上次会议（{earlier.month}月{earlier.day}日）以来：新增 王某（补选）；减少 {name}（辞职）"
    assert note in hall.console()
