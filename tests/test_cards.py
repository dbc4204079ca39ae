"""Invitation cards over HTTP: the printable sheet, the group filter, the DOCX, re-issuing.

Re-issuing a card must revoke the old link and unbind every phone bound with it; that
follows from the card version in the cached card, so the test goes through the real
routes: bind with the old link, re-issue, and see the old link and the phone refused.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from docx import Document
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.base.settings import Settings
from server.office.card_qr import QrCache, draw
from server.office.workshop import Workshop
from server.room.meetings import Meetings
from server.storage import models as m
from server.storage.cards import Card
from server.storage.db import create_engine
from tests.conftest import REDIS_URL, Db, TestClient, pre_form

LINK = re.compile(r'<a class="inv-qr" href="([^"]+)"')
CARD = re.compile(r'<article class="inv-card[^"]*" id="card-(\d+)">')


def login(client: TestClient, meeting_id: int) -> str:
    reply = client.post("/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/"})
    assert reply.status_code == 303
    page = client.get(f"/m/{meeting_id}/cards")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def roster(db: Db) -> list[tuple[int, str, str, str, str, int]]:
    """(id, name, group, card_no, short_code, card_version) of every demo deputy."""

    async def fn(conn: AsyncConnection) -> list[Any]:
        rows = await conn.execute(
            select(
                m.deputies.c.id,
                m.deputies.c.name,
                m.groups.c.name,
                m.deputies.c.card_no,
                m.deputies.c.short_code,
                m.deputies.c.card_version,
            ).join(m.groups, m.groups.c.id == m.deputies.c.group_id)
        )
        return [tuple(r) for r in rows]

    return list(db._run(fn))


def links(html: str) -> dict[int, str]:
    """Deputy id → the path of their invitation link, as printed on the sheet."""
    ids = [int(i) for i in CARD.findall(html)]
    urls = LINK.findall(html)
    assert len(ids) == len(urls)
    return {i: urlsplit(u).path for i, u in zip(ids, urls, strict=True)}


def test_sheet_lists_every_deputy_with_a_working_link(client: TestClient, meeting_id: int, db: Db) -> None:
    login(client, meeting_id)
    first = client.get(f"/m/{meeting_id}/cards")  # one group at a time: the first by default
    assert first.status_code == 200
    deputies = roster(db)
    assert set(links(first.text)) == {d[0] for d in deputies if d[2] == deputies[0][2]}
    page = client.get(f"/m/{meeting_id}/cards", params={"group": "*"})
    assert page.status_code == 200
    assert len(deputies) == 48
    found = links(page.text)
    assert set(found) == {d[0] for d in deputies}
    assert page.text.count("<svg") == 48
    assert "清溪镇第十七届人民代表大会" in page.text
    for _, name, group, card_no, short_code, _ in deputies:
        assert name in page.text and group in page.text
        assert f"卡号 <b>{card_no}</b>　验证码 <b>{short_code[:4]} {short_code[4:]}</b>" in page.text
    phone = client.get(found[deputies[0][0]])
    assert phone.status_code == 303 and phone.headers["location"] == f"/d/{meeting_id}"
    for path in found.values():
        assert client.get(path).status_code == 303


def test_group_filter(client: TestClient, meeting_id: int, db: Db) -> None:
    login(client, meeting_id)
    page = client.get(f"/m/{meeting_id}/cards", params={"group": "城东代表小组"})
    assert page.status_code == 200
    wanted = {d[0] for d in roster(db) if d[2] == "城东代表小组"}
    assert set(links(page.text)) == wanted and len(wanted) == 8
    assert page.text.count("<svg") == 8
    assert page.text.count('class="cards-page"') == 1
    empty = client.get(f"/m/{meeting_id}/cards", params={"group": "没有这个小组"})
    assert empty.status_code == 200 and CARD.findall(empty.text) == []


def docx(client: TestClient, path: str, **params: str) -> Any:
    """The DOCX, asked again while the waiting page says it is being built."""
    deadline = time.monotonic() + 60
    while True:
        reply = client.get(path, params=params)
        assert reply.status_code == 200
        if not reply.headers["content-type"].startswith("text/html"):
            return reply
        assert "正在生成邀请卡 Word 文件" in reply.text
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_docx_holds_every_card(client: TestClient, meeting_id: int, db: Db) -> None:
    login(client, meeting_id)
    reply = docx(client, f"/m/{meeting_id}/cards.docx")
    assert reply.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in reply.headers["content-disposition"]
    doc = Document(io.BytesIO(reply.content))
    text = "\n".join(cell.text for table in doc.tables for row in table.rows for cell in row.cells)
    deputies = roster(db)
    for _, name, group, card_no, short_code, _ in deputies:
        assert name in text and group in text
        assert f"卡号 {card_no}    验证码 {short_code[:4]} {short_code[4:]}" in text
    assert len(doc.tables) == 6  # 48 cards, 8 a page
    assert len(doc.inline_shapes) == 48  # one QR picture a card
    one = docx(client, f"/m/{meeting_id}/cards.docx", group="城西代表小组")
    assert len(Document(io.BytesIO(one.content)).inline_shapes) == 8


def test_reissue_revokes_the_old_link_and_unbinds_the_phone(
    client: TestClient, meeting_id: int, db: Db, keys: Keys
) -> None:
    csrf = login(client, meeting_id)
    unbound = 'id="bind-page"'
    client.post(f"/m/{meeting_id}/act", data={"cmd": "open_checkin", "csrf": csrf})
    code = keys.hall_code(meeting_id, int(time.time() // 30))
    deputy_id, name, _, card_no, old_code, version = roster(db)[0]
    old_link = links(client.get(f"/m/{meeting_id}/cards").text)[deputy_id]
    assert client.get(old_link).status_code == 303  # the phone is bound with the old card
    phone_page = client.get(f"/d/{meeting_id}")
    assert phone_page.status_code == 200 and name in phone_page.text and unbound not in phone_page.text

    reissue = f"/m/{meeting_id}/cards/{deputy_id}/reissue"
    assert client.post(reissue, data={}).status_code == 403
    assert client.post(reissue, data={"csrf": "wrong"}).status_code == 403
    assert unbound not in client.get(f"/d/{meeting_id}").text  # nothing changed yet

    reply = client.post(reissue, data={"csrf": csrf, "group": "城东代表小组"})
    assert reply.status_code == 303
    assert reply.headers["location"].startswith(f"/m/{meeting_id}/cards?reissued={deputy_id}")
    after = {d[0]: d for d in roster(db)}[deputy_id]
    assert after[5] == version + 1 and after[4] != old_code

    revoked = client.get(old_link)
    assert revoked.status_code == 404 and "邀请链接无效或已作废" in revoked.text
    assert unbound in client.get(f"/d/{meeting_id}").text
    bind, hall_page = f"/d/{meeting_id}/bind", f"/h/{meeting_id}/{code}"
    typed = {"card_no": card_no, "hall": code}
    assert pre_form(client, hall_page, bind, {**typed, "short_code": old_code}).status_code == 400

    new_link = links(client.get(f"/m/{meeting_id}/cards").text)[deputy_id]
    assert new_link != old_link
    assert client.get(new_link).status_code == 303
    assert unbound not in client.get(f"/d/{meeting_id}").text  # (typed codes: tests/test_phones.py)
    assert client.post(f"/m/{meeting_id}/cards/999999/reissue", data={"csrf": csrf}).status_code == 404

    # The re-issue is in the audit trail, with who and the new version, never the code.
    async def audit_rows(conn: AsyncConnection) -> list[Any]:
        return list(await conn.execute(select(m.audit)))

    (entry,) = [e for e in db._run(audit_rows) if e.action == "card_reissued"]
    assert entry.actor == "staff:chair" and entry.meeting_id == meeting_id
    assert json.loads(entry.detail) == {"deputy_id": deputy_id, "card_no": card_no, "version": version + 1}
    assert after[4] not in entry.detail and old_code not in entry.detail
    audit_section = client.get("/bodies/1/roster").text.split('id="r-audit"')[1]
    assert "补发邀请卡" in audit_section and f"卡号 {card_no}，第 {version + 1} 版" in audit_section


def test_staff_login_required(client: TestClient, meeting_id: int) -> None:
    for path in (f"/m/{meeting_id}/cards", f"/m/{meeting_id}/cards.docx"):
        reply = client.get(path)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login")
    reply = client.post(f"/m/{meeting_id}/cards/1/reissue", data={"csrf": "x"})
    assert reply.status_code == 303 and reply.headers["location"].startswith("/login")
    login(client, meeting_id)
    assert client.get("/m/99999/cards").status_code == 404
    assert client.get("/m/99999/cards.docx").status_code == 404
    console = client.get(f"/m/{meeting_id}/console")
    assert f'href="/m/{meeting_id}/cards"' in console.text
    assert f'href="/m/{meeting_id}/cards"' in client.get("/bodies/1/roster").text


class Wire:
    """A bus that keeps what is published, to hand to another process by hand."""

    carries = True

    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish(self, payload: str) -> None:
        self.published.append(payload)


async def test_other_processes_hear_of_a_reissued_card(
    settings: Settings, meeting_id: int, keys: Keys
) -> None:
    """Needs the demo roster (`meeting_id` loads it)."""
    engine = create_engine(settings.database_url)
    try:
        wire = Wire()
        here = Meetings(engine, cast(Any, wire), keys, "http://x", 30)
        there = Meetings(engine, cast(Any, wire), keys, "http://x", 30)
        async with engine.begin() as conn:
            row = (await conn.execute(select(m.deputies).where(m.deputies.c.id == 5))).one()
            await conn.execute(
                update(m.deputies).where(m.deputies.c.id == 5).values(card_version=2, short_code="9876")
            )
        old = Card(5, row.body_id, row.card_no, row.short_code, 1)
        new = Card(5, row.body_id, row.card_no, "9876", 2)
        here.cards[5] = there.cards[5] = old
        await here.refresh_card(new)
        assert here.cards[5] == new and len(wire.published) == 1
        assert "9876" not in wire.published[0]  # the short code is a credential: not on the bus
        await here.on_bus(wire.published[0])  # its own message changes nothing
        await there.on_bus(wire.published[0])
        assert there.cards[5] == new  # read back from the database
        await there.on_bus(json.dumps({"card": 5, "version": 1, "origin": "late"}))
        assert there.cards[5] == new  # an older version never replaces a newer one
        await there.on_bus('{"card": [5]}')
        assert there.cards[5] == new
    finally:
        await engine.dispose()


@pytest.mark.redis
@pytest.mark.slow
def test_reissue_on_one_server_revokes_on_another(spawn: Any, redis_prefix: str, meeting_id: int) -> None:
    env = {"WENZHENG_REDIS_URL": REDIS_URL, "WENZHENG_REDIS_PREFIX": redis_prefix}
    a, b = spawn(**env), spawn(**env)
    with a.client() as http_a, b.client() as http_b:
        http_a.post("/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/"})
        sheet = http_a.get(f"/m/{meeting_id}/cards").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', sheet)
        assert csrf
        deputy_id, old_link = next(iter(links(sheet).items()))
        assert http_b.get(old_link).status_code == 303  # b has the meeting and the old card
        reply = http_a.post(f"/m/{meeting_id}/cards/{deputy_id}/reissue", data={"csrf": csrf.group(1)})
        assert reply.status_code == 303
        assert http_a.get(old_link).status_code == 404
        deadline = time.monotonic() + 5
        while http_b.get(old_link).status_code != 404:
            assert time.monotonic() < deadline, "the other server still honours the old link"
            time.sleep(0.05)


async def test_a_reconnect_reloads_the_cards(settings: Settings, meeting_id: int, keys: Keys) -> None:
    """Card messages sent while the bus was down are not replayed: reload from the database."""
    engine = create_engine(settings.database_url)
    try:
        meetings = Meetings(engine, cast(Any, Wire()), keys, "http://x", 30)
        async with engine.connect() as conn:
            row = (await conn.execute(select(m.deputies).order_by(m.deputies.c.id))).first()
            await conn.rollback()
        assert row is not None
        meetings.body_of[meeting_id] = row.body_id
        meetings.cards[row.id] = Card(row.id, row.body_id, row.card_no, "stale", row.card_version - 1)
        await meetings.refresh_all()
        assert meetings.cards[row.id] == Card(
            row.id, row.body_id, row.card_no, row.short_code, row.card_version
        )
    finally:
        await engine.dispose()


def test_release_every_phone_of_a_group_then_of_the_body(client: TestClient, meeting_id: int, db: Db) -> None:
    csrf = login(client, meeting_id)
    deputies = roster(db)
    east = [d for d in deputies if d[2] == "城东代表小组"]
    west = [d for d in deputies if d[2] == "城西代表小组"]
    sheet = links(client.get(f"/m/{meeting_id}/cards", params={"group": "*"}).text)
    for d in (*east[:3], west[0]):  # the staff browser binds them: one sid, four cards
        assert client.get(sheet[d[0]]).status_code == 303
    page = client.get(f"/m/{meeting_id}/cards", params={"group": "城东代表小组"}).text
    assert "城东代表小组 共 8 张卡，其中 <b>3</b> 张已绑定手机" in page
    assert "确认解除本组 3 部手机的绑定" in page and "确认解除全部 4 部手机的绑定" in page

    url = f"/m/{meeting_id}/cards/release-phones"
    form = {"csrf": csrf, "group": "城东代表小组", "scope": "group"}
    assert client.post(url, data={**form, "csrf": "wrong"}).status_code == 403
    refused = client.post(url, data={**form, "group": "没有这个小组"})
    assert refused.status_code == 400 and "未解除任何绑定" in refused.text
    assert client.post(url, data={**form, "scope": "everything"}).status_code == 400
    assert client.post(url, data={**form, "group": "*"}).status_code == 400  # a group, not all
    assert "确认解除全部 4 部手机的绑定" in client.get(f"/m/{meeting_id}/cards").text  # nothing changed

    reply = client.post(url, data=form)
    assert reply.status_code == 303 and reply.headers["location"].endswith("released_phones=3")
    after = client.get(reply.headers["location"]).text
    assert "已解除 3 部手机的绑定" in after
    assert "其中 <b>0</b> 张已绑定手机" in after and "确认解除全部 1 部手机的绑定" in after
    for d in east[:3]:
        assert f'id="card-{d[0]}"' in after
    assert after.count("手机：已解除，待新手机打开邀请链接") == 3

    reply = client.post(url, data={"csrf": csrf, "group": "*", "scope": "all"})
    assert reply.status_code == 303 and reply.headers["location"].endswith("released_phones=1")
    assert "确认解除全部 0 部手机的绑定" in client.get(reply.headers["location"]).text
    assert client.get(sheet[west[0][0]]).status_code == 303  # the link binds a new phone again

    async def audit_rows(conn: AsyncConnection) -> list[Any]:
        return list(await conn.execute(select(m.audit).where(m.audit.c.action == "phones_released")))

    entries = db._run(audit_rows)
    assert [json.loads(e.detail)["count"] for e in entries] == [3, 1]
    assert [json.loads(e.detail)["scope"] for e in entries] == ["城东代表小组", "全部"]
    assert all(e.actor == "staff:chair" and e.meeting_id == meeting_id and e.at_ms for e in entries)
    trail = client.get("/bodies/1/roster").text.split('id="r-audit"')[1]
    assert "批量解除手机绑定" in trail and "城东代表小组：3 部手机" in trail


def _die() -> None:
    os._exit(1)  # a worker killed (for memory, say) in the middle of a job


def _double(x: int) -> int:
    return x * 2


async def test_the_workshop_replaces_a_dead_worker() -> None:
    workshop = Workshop(1)
    try:
        assert await workshop.run(_double, 2) == 4
        with pytest.raises(BrokenProcessPool):
            await workshop.run(_die)  # tried twice, refused: the job itself kills its worker
        assert await workshop.run(_double, 3) == 6  # the next export is not refused
    finally:
        workshop.close()


async def test_qr_codes_are_kept_per_link() -> None:
    """A card's code is drawn once per card version: a re-issued card's new link draws anew."""
    workshop, cache = Workshop(1), QrCache(limit=2)
    try:
        first = await cache.svgs(["http://x/i/1/v1", "http://x/i/2/v1"], workshop)
        assert len(cache) == 2 and all(svg.startswith("<svg") for svg in first.values())
        assert cache.get("http://x/i/1/v1") == draw("http://x/i/1/v1")
        again = await cache.svgs(["http://x/i/1/v1"], workshop)
        assert again["http://x/i/1/v1"] == first["http://x/i/1/v1"]
        await cache.svgs(["http://x/i/1/v2"], workshop)  # re-issued: a new link
        assert len(cache) == 2 and cache.get("http://x/i/2/v1") is None  # the oldest aged out
    finally:
        workshop.close()
