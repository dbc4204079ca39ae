"""我的督办 over HTTP (server/web/routes/followup_phone.py): the deputy's page links it, the
list holds the items of the deputy's own questions only, the item page takes the verdict
(不满意 sends the item back), the 不同意办结 and its withdrawal; strangers get 403, bad
input 400 with its Chinese message and no change. Staff then see the judgments on the
item page, the note before closing, the refusal to close without a reason, and the
board's marker, count and filter."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import moment_of_ms, today
from server.base.keys import Keys
from server.base.settings import Settings
from server.office import followup, followup_posts
from server.office import followup_rules as rules
from server.storage import models as m
from tests.conftest import Db, Hall, TestClient
from tests.test_csrf import everything
from tests.test_followup import ACTOR, DEVICE, add_organ, now_ms
from tests.test_followup_deputy import Cast, cast, name_of, reply
from tests.test_meetings_admin import run, staff_headers


def setup(settings: Settings, meeting_id: int, replied: bool = True) -> tuple[Cast, str, str]:
    """The decision, a co-proposer, the organ's reply; (cast, the item's title, asker's name)."""

    async def fn(conn: AsyncConnection) -> tuple[Cast, str, str]:
        c = await cast(conn, meeting_id)
        if replied:
            await reply(conn, c.item_id, "A", "已列入明年计划，先修东侧雨棚")
        fi = m.followup_items
        title = str((await conn.execute(select(fi.c.title).where(fi.c.id == c.item_id))).scalar_one())
        return c, title, await name_of(conn, c.asker)

    result: tuple[Cast, str, str] = run(settings.database_url, fn)
    return result


def bind(client: TestClient, hall: Hall, meeting_id: int, *deputies: int) -> None:
    """Each phone's first page adopts it for its card (a write): done before a test takes the
    database's digest."""
    for deputy in deputies:
        assert client.get(f"/d/{meeting_id}/followup", headers=hall.deputy_headers(deputy)).status_code == 200


def status_of(settings: Settings, item_id: int) -> str:
    async def fn(conn: AsyncConnection) -> str:
        fi = m.followup_items
        return str((await conn.execute(select(fi.c.status).where(fi.c.id == item_id))).scalar_one())

    return str(run(settings.database_url, fn))


def phone_post(client: TestClient, hall: Hall, deputy: int, url: str, **form: str) -> Any:
    headers = hall.deputy_headers(deputy)
    return client.post(url, data={**form, "csrf": headers.pop("x-csrf-token")}, headers=headers)


def test_my_followup_is_linked_and_lists_only_the_deputys_items(
    client: TestClient, hall: Hall, settings: Settings, meeting_id: int
) -> None:
    c, title, _ = setup(settings, meeting_id)
    url = f"/d/{meeting_id}/followup"
    assert f'href="{url}"' in hall.deputy_page(c.asker)  # 我的督办 on the deputy's page
    assert client.get(url).status_code == 303  # no phone bound: to the deputy page
    mine = client.get(url, headers=hall.deputy_headers(c.co))
    assert mine.status_code == 200
    assert title in mine.text and "已答复" in mine.text and "查看答复并评价" in mine.text
    assert "有 1 项答复等您评价" in mine.text
    assert re.search(r"最近记录：\d{4}-\d\d-\d\d 答复（共 1 条）", mine.text)  # the organ's reply
    asker = client.get(url, headers=hall.deputy_headers(c.asker)).text
    assert title in asker
    stranger = client.get(url, headers=hall.deputy_headers(c.stranger)).text
    assert title not in stranger and 'id="fp-empty"' in stranger


def test_the_deputy_judges_and_a_dissatisfied_verdict_sends_the_item_back(
    client: TestClient, hall: Hall, settings: Settings, db: Db, meeting_id: int
) -> None:
    c, title, name = setup(settings, meeting_id)
    url = f"/d/{meeting_id}/followup/{c.item_id}"
    bind(client, hall, meeting_id, c.asker, c.co, c.stranger)
    run(settings.database_url, lambda conn: _attach(conn, c.item_id, "答复函.pdf"))
    shown = client.get(url, headers=hall.deputy_headers(c.asker))
    assert "附件：答复函.pdf" in shown.text and "/attachments" not in shown.text  # by name only
    assert shown.status_code == 200
    assert title in shown.text and "已列入明年计划，先修东侧雨棚" in shown.text  # the reply, in the history
    assert 'id="fp-judge"' in shown.text and "县住建局" in shown.text
    before = everything(db)
    bad = phone_post(client, hall, c.asker, url, action="verdict", verdict="excellent")
    assert (
        bad.status_code == 400 and "请选择满意、基本满意或不满意" in bad.text and "未作任何更改" in bad.text
    )
    long = phone_post(client, hall, c.asker, url, action="verdict", verdict="dissatisfied", text="字" * 501)
    assert long.status_code == 400 and "不超过 500 个字" in long.text
    assert everything(db) == before
    ok = phone_post(client, hall, c.asker, url, action="verdict", verdict="satisfied")
    assert ok.status_code == 303 and ok.headers["location"].startswith(f"{url}?saved=verdict")
    page = client.get(url + "?saved=verdict", headers=hall.deputy_headers(c.asker)).text
    assert "您的评价已记录。" in page and 'id="fp-my-verdict"' in page and "满意" in page
    assert status_of(settings, c.item_id) == rules.REPLIED
    back = phone_post(client, hall, c.asker, url, action="verdict", verdict="dissatisfied", text="东侧还漏雨")
    assert back.status_code == 303 and "saved=redo" in back.headers["location"]
    assert status_of(settings, c.item_id) == rules.REDO
    page = client.get(url, headers=hall.deputy_headers(c.asker)).text
    assert 'id="fp-judge"' not in page and "此事项正在重新办理" in page
    assert "东侧还漏雨" in page and "已答复 → 重新办理" in page and name in page
    again = phone_post(client, hall, c.co, url, action="verdict", verdict="basic")
    assert again.status_code == 400 and "没有待评价的答复" in again.text


def test_an_objection_from_the_phone_and_what_staff_see(
    client: TestClient, hall: Hall, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    c, title, name = setup(settings, meeting_id)
    url = f"/d/{meeting_id}/followup/{c.item_id}"
    bind(client, hall, meeting_id, c.asker, c.co, c.stranger)
    before = everything(db)
    for reason, message in (("", "不同意办结的理由"), ("字" * 501, "不超过 500 个字")):
        bad = phone_post(client, hall, c.co, url, action="object", reason=reason)
        assert bad.status_code == 400 and message in bad.text
    nothing = phone_post(client, hall, c.co, url, action="withdraw")
    assert nothing.status_code == 400 and "您没有对这次答复提出不同意办结" in nothing.text
    assert everything(db) == before
    assert (
        phone_post(client, hall, c.asker, url, action="object", reason="西侧雨棚还没动工").status_code == 303
    )
    page = client.get(url, headers=hall.deputy_headers(c.asker)).text
    assert "您已提出不同意办结" in page and "西侧雨棚还没动工" in page and "撤回不同意办结" in page

    headers = staff_headers(client, keys)
    staff = client.get(f"/followup/{c.item_id}", headers=headers).text
    assert title in staff and name in staff and "西侧雨棚还没动工" in staff
    assert 'id="fu-judgments"' in staff
    assert 'id="fu-objection-note"' in staff and "办结须在“说明”中写明理由" in staff
    body = run(settings.database_url, lambda conn: _body(conn, c.item_id))
    board = client.get(f"/bodies/{body}/followup", headers=headers).text
    assert "代表不同意办结" in board and f'id="fu-item-{c.item_id}"' in board
    assert re.search(r'id="fu-count-objected">代表不同意办结（尚未办结）<b>1</b> 项', board)
    only = client.get(f"/bodies/{body}/followup?objected=1", headers=headers).text
    assert f'id="fu-item-{c.item_id}"' in only and f'id="fu-item-{c.other_item}"' not in only

    refused = client.post(
        f"/followup/{c.item_id}", data={"action": "status", "to": "closed", "text": " "}, headers=headers
    )
    assert refused.status_code == 400 and "有代表不同意办结，办结须写明理由" in refused.text
    assert status_of(settings, c.item_id) == rules.REPLIED
    closed = client.post(
        f"/followup/{c.item_id}",
        data={"action": "status", "to": "closed", "text": "已与代表沟通，西侧列入明年计划"},
        headers=headers,
    )
    assert closed.status_code == 303 and status_of(settings, c.item_id) == rules.CLOSED
    page = client.get(url, headers=hall.deputy_headers(c.asker)).text
    assert "此事项已办结" in page and "已与代表沟通，西侧列入明年计划" in page


async def _attach(conn: AsyncConnection, item_id: int, filename: str) -> None:
    p = m.followup_posts
    post = (
        await conn.execute(select(p.c.id).where(p.c.item_id == item_id, p.c.kind == "reply"))
    ).scalar_one()
    await conn.execute(
        insert(m.followup_attachments).values(
            post_id=post, filename=filename, mime="application/pdf", size=4, sha256="0" * 64, data=b"%PDF"
        )
    )


async def _body(conn: AsyncConnection, item_id: int) -> int:
    fi = m.followup_items
    return int((await conn.execute(select(fi.c.body_id).where(fi.c.id == item_id))).scalar_one())


def test_a_stranger_can_neither_see_nor_judge(
    client: TestClient, hall: Hall, settings: Settings, db: Db, meeting_id: int
) -> None:
    c, title, _ = setup(settings, meeting_id)
    url = f"/d/{meeting_id}/followup/{c.item_id}"
    bind(client, hall, meeting_id, c.asker, c.co, c.stranger)
    before = everything(db)
    seen = client.get(url, headers=hall.deputy_headers(c.stranger))
    assert seen.status_code == 403 and "不是您提出或联名提出的问题" in seen.text and title not in seen.text
    for form in (
        {"action": "verdict", "verdict": "dissatisfied"},
        {"action": "object", "reason": "理由"},
        {"action": "withdraw"},
    ):
        judged = phone_post(client, hall, c.stranger, url, **form)
        assert judged.status_code == 403 and "不能查看或评价" in judged.text, form
    unknown = client.get(f"/d/{meeting_id}/followup/999999", headers=hall.deputy_headers(c.asker))
    assert unknown.status_code == 404 and "找不到这个督办事项" in unknown.text
    assert everything(db) == before
    assert status_of(settings, c.item_id) == rules.REPLIED


def test_before_a_reply_there_is_nothing_to_judge(
    client: TestClient, hall: Hall, settings: Settings, db: Db, meeting_id: int
) -> None:
    c, _, _ = setup(settings, meeting_id, replied=False)
    url = f"/d/{meeting_id}/followup/{c.item_id}"
    bind(client, hall, meeting_id, c.asker, c.co, c.stranger)
    page = client.get(url, headers=hall.deputy_headers(c.asker)).text
    assert 'id="fp-judge"' not in page and "单位答复后，您可以在这里评价" in page
    before = everything(db)
    refused = phone_post(client, hall, c.asker, url, action="verdict", verdict="satisfied")
    assert refused.status_code == 400 and "没有待评价的答复" in refused.text
    assert everything(db) == before


def test_the_phone_dates_progress_by_the_day_of_the_work(
    client: TestClient, hall: Hall, settings: Settings, meeting_id: int
) -> None:
    """A progress post typed today about work four days back: the list's last record and
    the item's history say the day of the work; the history also says when it came."""
    c, _, _ = setup(settings, meeting_id, replied=False)
    day = today()

    async def fn(conn: AsyncConnection) -> int:
        organ = await add_organ(conn, await _body(conn, c.item_id), "县住建局")
        await followup.set_organs(conn, c.item_id, organ, [], actor=ACTOR, device=DEVICE)
        await followup_posts.post_progress(
            conn, c.item_id, organ_id=organ, text="雨棚钢架已安装", done_on=day - dt.timedelta(days=4),
            today=day, author="", on_behalf=False, actor=ACTOR, device=DEVICE, now_ms=now_ms(),
        )  # fmt: skip
        p = m.followup_posts
        return int((await conn.execute(select(p.c.at_ms).where(p.c.item_id == c.item_id))).scalar_one())

    at_ms = run(settings.database_url, fn)
    worked = (day - dt.timedelta(days=4)).isoformat()
    headers = hall.deputy_headers(c.asker)
    mine = client.get(f"/d/{meeting_id}/followup", headers=headers).text
    assert f"最近记录：{worked} 办理进展（共 1 条）" in mine
    page = client.get(f"/d/{meeting_id}/followup/{c.item_id}", headers=headers).text
    _, posted = followup_posts.work_dated(day - dt.timedelta(days=4), at_ms)
    assert moment_of_ms(at_ms).endswith(posted)
    head = f'{worked} · 办理进展<br><small class="fp-posted">{posted} 报送</small>'
    assert head in page and "雨棚钢架已安装" in page
