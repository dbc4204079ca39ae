"""The /bodies pages with a staff login: list, create, the body page, terms and sessions.

Bad input answers 400 with its Chinese message and writes nothing; a new meeting placed
in a term shows its date, time and place on the meetings list and the console.
"""

from __future__ import annotations

import re

from server.base.days import today
from server.base.keys import Keys
from server.base.settings import Settings
from tests.conftest import Db, TestClient
from tests.test_csrf import everything
from tests.test_meetings_admin import staff_headers


def body_id_of(location: str) -> int:
    found = re.fullmatch(r"/bodies/(\d+)\?saved=created", location)
    assert found, location
    return int(found.group(1))


def test_bodies_pages_from_creation_to_a_meeting(
    client: TestClient, keys: Keys, settings: Settings, db: Db
) -> None:
    headers = staff_headers(client, keys)
    assert client.get("/bodies").status_code == 303  # no login: to the login page
    listing = client.get("/bodies", headers=headers)
    assert listing.status_code == 200 and "新建机构" in listing.text and "清溪镇人民代表大会" in listing.text
    assert 'name="level"' in client.get("/bodies/new", headers=headers).text

    before = everything(db)
    for form, text in (
        ({"name": "某镇人大常委会", "kind": "standing-committee", "level": "town"}, "乡镇不设人大常委会"),
        ({"name": "", "kind": "congress", "level": "county"}, "请填写机构名称"),
        ({"name": "清溪镇人民代表大会", "kind": "congress", "level": "town"}, "已有名为"),
        ({"name": "某县人大", "kind": "x", "level": "county"}, "机构类型须为"),
    ):
        reply = client.post("/bodies/new", data=form, headers=headers)
        assert reply.status_code == 400 and text in reply.text, form
    assert everything(db) == before

    created = client.post(
        "/bodies/new",
        data={"name": "某县人民代表大会常务委员会", "kind": "standing-committee", "level": "county"},
        headers=headers,
    )
    assert created.status_code == 303
    body_id = body_id_of(created.headers["location"])
    page = client.get(f"/bodies/{body_id}", headers=headers).text
    assert "全体组成人员过半数出席" in page and "地方组织法第五十一条" in page
    assert "下一步" in page and "添加届次" in page and f"/bodies/{body_id}/roster" in page

    before = everything(db)
    bad = client.post(
        f"/bodies/{body_id}/terms",
        data={"number": "17", "starts_on": "2022-01-06", "ends_on": "2021-01-01"},
        headers=headers,
    )
    assert bad.status_code == 400 and "届满日期须晚于开始日期" in bad.text
    bad = client.post(f"/bodies/{body_id}/terms", data={"number": "17", "starts_on": "明天"}, headers=headers)
    assert bad.status_code == 400 and "格式应为" in bad.text
    assert everything(db) == before
    added = client.post(
        f"/bodies/{body_id}/terms", data={"number": "17", "starts_on": "2022-01-06"}, headers=headers
    )
    assert added.status_code == 303
    page = client.get(f"/bodies/{body_id}", headers=headers).text
    assert "第十七届" in page and "2022-01-06 起" in page
    term_id = int(re.search(rf'action="/bodies/{body_id}/terms/(\d+)/sessions"', page).group(1))  # type: ignore[union-attr]
    assert 'value="1"' in page  # the next session number is offered
    assert (
        client.post(
            f"/bodies/{body_id}/terms/{term_id}/sessions", data={"number": "1"}, headers=headers
        ).status_code
        == 303
    )
    again = client.post(f"/bodies/{body_id}/terms/{term_id}/sessions", data={"number": "1"}, headers=headers)
    assert again.status_code == 400 and "本届已有第一次会议" in again.text
    overlap = client.post(
        f"/bodies/{body_id}/terms", data={"number": "18", "starts_on": "2025-01-01"}, headers=headers
    )
    assert overlap.status_code == 400 and "重叠" in overlap.text

    # A meeting in session 1, today; the term cannot then end before it.
    made = client.post(
        "/meetings/new",
        data={
            "body": str(body_id),
            "kind": "special_inquiry",
            "held_on": today().isoformat(),
            "starts_at": "14:30",
            "place": "县人大常委会会议室",
            "session": "1",
            "title": "",
        },
        headers=headers,
    )
    assert made.status_code == 303, made.text
    meeting_id = int(made.headers["location"].split("/")[2])
    when = f"{today().year}年{today().month}月{today().day}日 14:30 · 县人大常委会会议室"
    assert when in client.get("/meetings", headers=headers).text
    assert (
        "某县第十七届人民代表大会常务委员会第一次会议（专题询问）"
        in client.get(f"/bodies/{body_id}", headers=headers).text
    )
    assert when in client.get(f"/m/{meeting_id}/console", headers=headers).text
    assert when in client.get(f"/m/{meeting_id}/cards", headers=headers).text
    outside = client.post(
        f"/bodies/{body_id}/terms/{term_id}",
        data={"number": "17", "starts_on": "2022-01-06", "ends_on": today().isoformat()},
        headers=headers,
    )
    assert outside.status_code == 400 and "将不在本届任期内" in outside.text

    # The quorum rule, edited: the body page shows it beside the law's; the kind is fixed now.
    edit = {
        "name": "某县人民代表大会常务委员会",
        "kind": "standing-committee",
        "level": "county",
        "quorum": "two_thirds",
    }
    assert client.post(f"/bodies/{body_id}/edit", data=edit, headers=headers).status_code == 303
    page = client.get(f"/bodies/{body_id}", headers=headers).text
    assert (
        "全体组成人员三分之二以上出席" in page and "本机构自定规则" in page and "地方组织法第五十一条" in page
    )
    fixed = client.post(f"/bodies/{body_id}/edit", data={**edit, "kind": "congress"}, headers=headers)
    assert fixed.status_code == 400 and "机构类型不能再修改" in fixed.text
    assert client.get("/bodies/9999", headers=headers).status_code == 404
    assert client.get("/bodies/9999/edit", headers=headers).status_code == 404
