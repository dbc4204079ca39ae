"""An organ's items behind its link, and staff on its behalf, over HTTP.

The link reaches the organ's own items only: another organ's item, its files and its
forms answer 404 exactly as an item that does not exist. The assisting organ posts
progress but cannot reply. A revoked link gets 410, a forged one 403, a form without the
link's form token or from another origin 403 — and none of them changes anything; nor
does bad input (empty text, no class, an 11 MB file, an .exe renamed .pdf, six files, a
future date). Files come back byte for byte as downloads with their type and name. Staff
post for an organ and every page names them. Every organ's notice prints at once.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import moment_of_ms, today
from server.base.keys import Keys
from server.base.settings import Settings
from server.office import attachments, followup, followup_posts, organs
from server.storage import models as m
from server.web import limits
from tests.conftest import Db, TestClient
from tests.test_csrf import everything
from tests.test_followup import ACTOR, DEVICE, add_organ, decide
from tests.test_followup_posts import DOCX, EXE, PDF, PNG
from tests.test_meetings_admin import run, staff_headers

NAMES = ("县住房和城乡建设局", "县交通运输局", "县教育局")


def prepare(settings: Settings, meeting_id: int, keys: Keys) -> dict[str, Any]:
    """The decision; 住建局 leads the first item with 交通局 assisting, 教育局 leads the
    second; a commitment on the first. Each organ's link."""

    async def fn(conn: AsyncConnection) -> dict[str, Any]:
        await decide(conn, meeting_id)
        body_id = int(
            (
                await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
            ).scalar_one()
        )
        lead, helper, other = [await add_organ(conn, body_id, n) for n in NAMES]
        fi = m.followup_items
        first, second = [int(i) for i in await conn.scalars(select(fi.c.id).order_by(fi.c.id).limit(2))]
        await followup.set_organs(conn, first, lead, [helper], actor=ACTOR, device=DEVICE)
        await followup.set_organs(conn, second, other, [], actor=ACTOR, device=DEVICE)
        await followup.add_commitment(conn, first, "年底前完成雨棚改造", actor=ACTOR, device=DEVICE, now_ms=1)
        return {
            "body": body_id,
            "first": first,
            "second": second,
            "lead": lead,
            "helper": helper,
            "other": other,
        }

    ids: dict[str, Any] = run(settings.database_url, fn)
    for key in ("lead", "helper", "other"):
        ids[f"{key}_link"] = f"/o/{keys.organ_link(ids[key], 1)}"
        ids[f"{key}_csrf"] = keys.organ_form(ids[key], 1)
    return ids


def post(
    client: TestClient, url: str, form: dict[str, str], files: Sequence[tuple[str, bytes]] = (), **kw: Any
) -> Any:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return client.post(url, data=form, files=parts or None, **kw)


def progress(csrf: str, **more: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "action": "progress",
        "text": "已完成设计招标",
        "done_on": today().isoformat(),
        **more,
    }


def test_an_organ_opens_posts_and_replies_on_its_own_items_only(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    ids = prepare(settings, meeting_id, keys)
    first, second = ids["first"], ids["second"]
    mine = f"{ids['lead_link']}/items/{first}"

    listing = client.get(ids["lead_link"])
    assert f'href="{mine}"' in listing.text and f"/items/{second}" not in listing.text
    page = client.get(mine)
    assert page.status_code == 200
    for shown in ("年底前完成雨棚改造", "答复期限", "应询人", "县交通运输局（协办）", "提交答复"):
        assert shown in page.text, shown

    # Another organ's item answers as a missing one, for reading, posting and its files.
    missing = client.get(f"{ids['lead_link']}/items/999999")
    other = client.get(f"{ids['lead_link']}/items/{second}")
    assert missing.status_code == other.status_code == 404
    assert other.text == missing.text and "不由本单位承办" in other.text
    before = everything(db)
    sent = post(client, f"{ids['lead_link']}/items/{second}", progress(ids["lead_csrf"]), [("a.pdf", PDF)])
    assert sent.status_code == 404 and everything(db) == before

    # Progress with a PDF, and the reply (class B) with a Word file: both round trip.
    name = "进度报告 2026.pdf"
    sent = post(client, mine, progress(ids["lead_csrf"]), [(name, PDF)])
    assert sent.status_code == 303 and sent.headers["location"] == f"{mine}?saved=progress"
    reply = {"csrf": ids["lead_csrf"], "action": "reply", "reply_class": "B", "text": "已列入明年计划"}
    sent = post(client, mine, reply, [("答复函.docx", DOCX)])
    assert sent.status_code == 303
    page = client.get(f"{mine}?saved=reply")
    assert "已答复" in page.text and "B 正在解决" in page.text and "提交答复" not in page.text
    links = re.findall(rf'href="({re.escape(ids["lead_link"])}/files/(\d+))"', page.text)
    assert len(links) == 2
    got = client.get(links[0][0])
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    word = client.get(links[1][0])
    assert word.content == DOCX and word.headers["content-type"] == attachments.DOCX
    # The other organ cannot download them; staff can, through their own route, logged in.
    file_id = links[0][1]
    assert client.get(f"{ids['other_link']}/files/{file_id}").status_code == 404
    assert client.get(f"/followup/files/{file_id}").status_code == 303  # to the login page
    staff = client.get(f"/followup/files/{file_id}", headers=staff_headers(client, keys))
    assert staff.content == PDF and staff.headers["content-disposition"] == disposition

    # A second reply, on the replied item: refused in Chinese, nothing changes.
    before = everything(db)
    again = post(client, mine, reply)
    assert again.status_code == 400 and "不能重复答复" in again.text and everything(db) == before

    # The assisting organ sees the item and posts progress, but has no reply to make.
    theirs = f"{ids['helper_link']}/items/{first}"
    page = client.get(theirs)
    assert page.status_code == 200 and "协办单位" in page.text and 'id="oi-reply-form"' not in page.text
    assert post(client, theirs, progress(ids["helper_csrf"])).status_code == 303


def test_the_assisting_organ_cannot_reply_and_bad_input_changes_nothing(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    ids = prepare(settings, meeting_id, keys)
    theirs = f"{ids['helper_link']}/items/{ids['first']}"
    mine = f"{ids['lead_link']}/items/{ids['first']}"
    before = everything(db)
    reply = {"csrf": ids["helper_csrf"], "action": "reply", "reply_class": "A", "text": "已解决"}
    refused = post(client, theirs, reply)
    assert refused.status_code == 400 and "只有牵头承办单位可以提交答复" in refused.text
    tomorrow = today().toordinal() + 1
    big = PDF + b"\x00" * (10 * 1024 * 1024)  # 11 MB
    bad: list[tuple[dict[str, str], list[tuple[str, bytes]], str]] = [
        (progress(ids["lead_csrf"], text="  "), [], "请填写办理进展"),
        (
            progress(ids["lead_csrf"], done_on=type(today()).fromordinal(tomorrow).isoformat()),
            [],
            "不能晚于今天",
        ),
        (progress(ids["lead_csrf"], done_on="2026-13-40"), [], "工作日期"),
        ({"csrf": ids["lead_csrf"], "action": "reply", "text": "已解决"}, [], "请选择答复类别"),
        ({"csrf": ids["lead_csrf"], "action": "reply", "reply_class": "A", "text": ""}, [], "请填写答复内容"),
        (progress(ids["lead_csrf"]), [("大文件.pdf", big)], "超过 10 MB"),
        (progress(ids["lead_csrf"]), [("setup.pdf", EXE)], "不是 PDF、Word"),
        (progress(ids["lead_csrf"]), [(f"{i}.pdf", PDF) for i in range(6)], "最多上传 5 个附件"),
    ]
    for form, files, message in bad:
        answer = post(client, mine, form, files)
        assert answer.status_code == 400 and message in answer.text and "未作任何更改" in answer.text, message
    assert everything(db) == before
    # The typed text is kept on the refused page.
    answer = post(client, mine, progress(ids["lead_csrf"], text="写了一半的进展"), [("setup.pdf", EXE)])
    assert "写了一半的进展" in answer.text
    # A PNG named .docx is taken as the PNG it is, under a .png name.
    assert post(client, mine, progress(ids["lead_csrf"]), [("现场.docx", PNG)]).status_code == 303
    page = client.get(mine)
    (href,) = re.findall(rf'href="({re.escape(ids["lead_link"])}/files/\d+)"', page.text)
    got = client.get(href)
    assert got.content == PNG and got.headers["content-type"] == "image/png"
    assert quote("现场.png", safe="") in got.headers["content-disposition"]


def test_revoked_forged_and_foreign_forms_change_nothing(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    ids = prepare(settings, meeting_id, keys)
    mine = f"{ids['lead_link']}/items/{ids['first']}"
    before = everything(db)
    assert post(client, mine, {"action": "progress", "text": "x"}).status_code == 403  # no form token
    other_token = progress(ids["other_csrf"])  # another organ's form
    assert post(client, mine, other_token).status_code == 403
    foreign = post(client, mine, progress(ids["lead_csrf"]), headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403 and "表单已失效" in foreign.text
    cross = post(client, mine, progress(ids["lead_csrf"]), headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    forged = f"/o/{keys.organ_link(ids['lead'], 1)[:-3]}xyz/items/{ids['first']}"
    assert client.get(forged).status_code == 403
    assert post(client, forged, progress(ids["lead_csrf"])).status_code == 403
    assert everything(db) == before

    headers = staff_headers(client, keys)
    revoke = client.post(f"/bodies/{ids['body']}/organs/{ids['lead']}/revoke", data={}, headers=headers)
    assert revoke.status_code == 303
    before = everything(db)
    gone = post(client, mine, progress(ids["lead_csrf"]))
    assert gone.status_code == 410 and organs.REVOKED in gone.text
    assert client.get(mine).status_code == 410
    # The new link's form token is not the old one's: a form opened before is void.
    new_link = f"/o/{keys.organ_link(ids['lead'], 2)}/items/{ids['first']}"
    assert post(client, new_link, progress(ids["lead_csrf"])).status_code == 403
    assert everything(db) == before
    assert post(client, new_link, progress(keys.organ_form(ids["lead"], 2))).status_code == 303


def test_staff_post_on_an_organs_behalf_and_every_page_says_so(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    ids = prepare(settings, meeting_id, keys)
    headers = staff_headers(client, keys)
    first = ids["first"]
    page = client.get(f"/followup/{first}", headers=headers)
    assert 'id="fu-behalf-form"' in page.text and "县交通运输局（协办）" in page.text
    url = f"/followup/{first}/post"
    before = everything(db)
    no_token = {"kind": "progress", "organ": str(ids["helper"]), "text": "电话告知：已开工"}
    assert post(client, url, no_token, headers={"cookie": headers["cookie"]}).status_code == 403
    form = {**no_token, "csrf": headers["x-csrf-token"], "done_on": today().isoformat()}
    refused = post(client, url, {**form, "kind": "reply", "reply_class": "A"}, headers=headers)
    assert refused.status_code == 400 and "只有牵头承办单位" in refused.text
    wrong_organ = post(client, url, {**form, "organ": str(ids["other"])}, headers=headers)
    assert wrong_organ.status_code == 400 and "请选择本事项的承办单位" in wrong_organ.text
    assert post(client, url, form, [("x.pdf", EXE)], headers=headers).status_code == 400
    assert everything(db) == before

    assert post(client, url, form, headers=headers).status_code == 303
    reply = {
        **form,
        "kind": "reply",
        "organ": str(ids["lead"]),
        "reply_class": "C",
        "text": "书面答复（纸质）",
    }
    done = post(client, url, reply, [("扫描件.pdf", PDF)], headers=headers)
    assert done.status_code == 303 and done.headers["location"] == f"/followup/{first}?saved=post"
    staff_page = client.get(f"/followup/{first}", headers=headers).text
    organ_page = client.get(f"{ids['lead_link']}/items/{first}").text
    for text in (staff_page, organ_page):
        assert "工作人员 chair 代 县交通运输局 录入" in text
        assert "工作人员 chair 代 县住房和城乡建设局 录入" in text
        assert "扫描件.pdf" in text and "C 类" in text

    async def audit_rows(conn: AsyncConnection) -> list[Any]:
        a = m.audit
        return list((await conn.execute(select(a).where(a.c.action == "followup_posted"))).all())

    rows = run(settings.database_url, audit_rows)
    assert [r.actor for r in rows] == ["staff:chair", "staff:chair"]


def test_every_notice_prints_at_once_with_its_own_qr_code(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    ids = prepare(settings, meeting_id, keys)
    headers = staff_headers(client, keys)
    url = f"/bodies/{ids['body']}/organs/notices"
    assert url in client.get(f"/bodies/{ids['body']}/organs", headers=headers).text
    assert client.get(url).status_code == 303  # staff only
    page = client.get(url, headers=headers)
    assert page.status_code == 200
    assert page.text.count('class="o-sheet"') == 3 and page.text.count("<svg") == 3
    for key, name in zip(("lead", "helper", "other"), NAMES, strict=True):
        assert f"{settings.public_url}{ids[f'{key}_link']}" in page.text and f"{name}：" in page.text


def test_only_the_post_paths_take_big_bodies() -> None:
    for path in ("/o/abc.def_-/items/3", "/followup/12/post"):
        assert limits.ATTACH_PATH.search(path), path
    for path in ("/o/abc/items/3/x", "/followup/12", "/o/abc", "/x/followup/12/post", "/o/a/files/3"):
        assert not limits.ATTACH_PATH.search(path), path
    assert limits.ATTACH_MAX_BYTES >= attachments.MAX_FILES * attachments.MAX_BYTES


def test_a_progress_post_keeps_when_it_was_posted_and_says_the_day_of_the_work(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    """Posted today about work nine days back: the row's moment is the real one, the day is
    its own column, and both histories (staff's, the organ's) list posts in the order they
    were posted, each progress post led by its day of work and saying when it came."""
    ids = prepare(settings, meeting_id, keys)
    first, day = ids["first"], today()
    mine = f"{ids['lead_link']}/items/{first}"
    earlier = (day - dt.timedelta(days=9)).isoformat()
    start = int(time.time() * 1000)
    sent = post(client, mine, progress(ids["lead_csrf"], text="九天前完成测量", done_on=earlier))
    assert sent.status_code == 303
    assert post(client, mine, progress(ids["lead_csrf"], text="今天开始施工")).status_code == 303
    end = int(time.time() * 1000)

    async def rows(conn: AsyncConnection) -> list[Any]:
        p = m.followup_posts
        return list((await conn.execute(select(p).where(p.c.item_id == first).order_by(p.c.id))).all())

    got = run(settings.database_url, rows)
    assert [(r.text, r.work_on) for r in got] == [
        ("九天前完成测量", day - dt.timedelta(days=9)),
        ("今天开始施工", day),
    ]
    assert all(start <= r.at_ms <= end for r in got)  # posted now, whatever day the work was
    headers = staff_headers(client, keys)
    for page in (client.get(mine).text, client.get(f"/followup/{first}", headers=headers).text):
        heads = re.findall(r'<b class="fu-work-on">([\d-]+)</b>.*?（([^（）]+) 报送）', page)
        assert heads == [followup_posts.work_dated(r.work_on, r.at_ms) for r in got]
        assert heads[0][0] == earlier and moment_of_ms(got[0].at_ms).endswith(heads[0][1])
        assert page.index("九天前完成测量") < page.index("今天开始施工")  # posting order
