"""The public follow-up page over HTTP (/public/bodies/<id>/followup) and the staff forms
that feed it (/followup/<item>/public, /followup/<item>/approval).

The adversarial test seeds personal data everywhere it could leak from — the asker's
phone, card number, short code and notes, the organ's contact and phone, an organ's post
not approved, a reply's text not approved, a non-public item, a deputy's judgment and
its reason, an attachment's file name, who typed and who approved — each a unique
marker, and finds none of them in the page, while the public items and approved posts
are there. The forms need a staff login (and the CSRF token: tests/test_csrf.py), bad
input is refused with nothing written, every change is audited, and the page's short
cache is forgotten by the process that made the change."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.keys import Keys
from server.base.settings import Settings
from server.office import followup, followup_posts, followup_publish
from server.office import followup_rules as rules
from server.storage import models as m
from server.web.ttl_cache import TtlCache
from tests.conftest import Db, TestClient
from tests.test_csrf import everything
from tests.test_followup import ACTOR, DEVICE, add_organ, decide, now_ms
from tests.test_followup_public import body_of, items_of, organ_post
from tests.test_meetings_admin import run, staff_headers

WHO: dict[str, Any] = {"actor": ACTOR, "device": DEVICE}
# Each must never reach the public page.
SECRETS = {
    "deputy_phone": "13911112222",
    "deputy_card": "CARD7731",
    "deputy_short": "55117733",
    "deputy_notes": "NOTE-MARKER-1",
    "organ_contact": "联系人甄秘密",
    "organ_phone": "13800009999",
    "unapproved_post": "UNAPPROVED-MARKER-5531",
    "unapproved_reply": "REPLY-MARKER-6060",
    "hidden_item": "NONPUBLIC-TITLE-9911",
    "hidden_commitment": "HIDDEN-PROMISE-8181",
    "judgment_reason": "JUDGMENT-REASON-4242",
    "attachment": "ATTACH-FILE-3131.pdf",
    "author": "AUTHOR-MARKER-77",
    "recorder": "RECORDER-MARKER-1",
    "approver": "APPROVER-MARKER-2",
}
APPROVED = "APPROVED-VISIBLE-2211"


def seed(settings: Settings, meeting_id: int) -> dict[str, Any]:
    """A decision with personal data everywhere; one item public with one approved post."""

    async def fn(conn: AsyncConnection) -> dict[str, Any]:
        await decide(conn, meeting_id)
        first, second, *_ = await items_of(conn)
        body_id = await body_of(conn, meeting_id)
        fi, d = m.followup_items, m.deputies
        item = (await conn.execute(select(fi).where(fi.c.id == first))).one()
        asker = (await conn.execute(select(d).where(d.c.name == item.asker))).first()
        assert asker is not None
        await conn.execute(
            update(d)
            .where(d.c.id == asker.id)
            .values(
                phone=SECRETS["deputy_phone"],
                card_no=SECRETS["deputy_card"],
                short_code=SECRETS["deputy_short"],
                notes=SECRETS["deputy_notes"],
            )
        )
        organ = await add_organ(conn, body_id, "县住建局")
        o = m.organs
        await conn.execute(
            update(o)
            .where(o.c.id == organ)
            .values(contact=SECRETS["organ_contact"], phone=SECRETS["organ_phone"])
        )
        await followup.set_organs(conn, first, organ, [], **WHO)
        await followup.add_commitment(
            conn,
            first,
            "年底前新增公共停车位",
            now_ms=now_ms(),
            actor="staff:" + SECRETS["recorder"],
            device=DEVICE,
        )
        await followup.add_commitment(conn, second, SECRETS["hidden_commitment"], now_ms=now_ms(), **WHO)
        await conn.execute(update(fi).where(fi.c.id == second).values(title=SECRETS["hidden_item"]))
        t0 = now_ms()
        approved = await organ_post(conn, first, organ, APPROVED, t0)
        p = m.followup_posts
        await conn.execute(update(p).where(p.c.id == approved).values(author=SECRETS["author"]))
        await organ_post(conn, first, organ, SECRETS["unapproved_post"], t0 + 1)
        await followup.change_status(
            conn, first, rules.REPLIED, text=SECRETS["unapproved_reply"], reply_class="B",
            author=SECRETS["author"], on_behalf=True, now_ms=t0 + 2, **WHO,
        )  # fmt: skip
        reply = int((await conn.scalars(select(p.c.id).where(p.c.kind == "reply"))).one())
        await conn.execute(
            insert(m.followup_judgments).values(
                item_id=first, reply_post_id=reply, deputy_id=asker.id, verdict="dissatisfied",
                objects=True, reason=SECRETS["judgment_reason"], at_ms=t0 + 3,
            )
        )  # fmt: skip
        for post_id in (approved, reply):  # an attachment on an approved post, one on a hidden one
            await conn.execute(
                insert(m.followup_attachments).values(
                    post_id=post_id, filename=SECRETS["attachment"], mime="application/pdf", size=4,
                    sha256="0" * 64, data=b"%PDF",
                )
            )  # fmt: skip
        await followup_publish.set_public(conn, first, True, **WHO)
        await followup_publish.approve_post(
            conn, first, approved, now_ms=now_ms(), actor="staff:" + SECRETS["approver"], device=DEVICE
        )
        return {"body_id": body_id, "public": first, "hidden": second, "asker": item.asker,
                "respondent": item.respondent, "groups": item.groups}  # fmt: skip

    return dict(run(settings.database_url, fn))


def test_the_public_page_shows_what_was_published_and_no_personal_data(
    client: TestClient, settings: Settings, meeting_id: int
) -> None:
    seeded = seed(settings, meeting_id)
    reply = client.get(f"/public/bodies/{seeded['body_id']}/followup")  # no login, no cookie
    assert reply.status_code == 200
    html = reply.text
    leaked = {name: value for name, value in SECRETS.items() if value in html}
    assert not leaked, f"personal or unpublished data on the public page: {leaked}"
    assert "chair" not in html  # the staff who recorded the decision and the statuses
    assert "/attachments" not in html and ".pdf" not in html
    for shown in (APPROVED, "年底前新增公共停车位", "县住建局（牵头）", "已答复（B 类）"):
        assert shown in html, shown
    for announced in (seeded["asker"], seeded["respondent"], seeded["groups"].split("、")[0]):
        assert announced and announced in html  # names and titles as announced in the hall
    assert f'id="pf-item-{seeded["public"]}"' in html and f'id="pf-item-{seeded["hidden"]}"' not in html
    assert 'aria-current="step">已答复' in html.replace("\n", "").replace("  ", "")
    assert reply.headers["cache-control"] == "public, max-age=0, s-maxage=30"
    assert "set-cookie" not in reply.headers


def test_unknown_body_and_a_body_without_public_items(client: TestClient, settings: Settings) -> None:
    missing = client.get("/public/bodies/987654/followup")
    assert missing.status_code == 404 and "找不到这个机构" in missing.text
    html = client.get("/public/bodies/1/followup").text
    assert "目前还没有公开的督办事项" in html and 'id="pf-empty"' in html


def test_staff_publish_and_approve_from_the_item_page_audited(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    seeded = seed(settings, meeting_id)
    item_id, body_id = seeded["hidden"], seeded["body_id"]
    public_url = f"/public/bodies/{body_id}/followup"
    headers = staff_headers(client, keys)
    board = client.get(f"/bodies/{body_id}/followup", headers=headers).text
    assert public_url in board and f"/bodies/{body_id}/followup/public-notice" in board
    notice = client.get(f"/bodies/{body_id}/followup/public-notice", headers=headers)
    assert notice.status_code == 200 and "<svg" in notice.text and public_url in notice.text
    assert client.get(f"/bodies/{body_id}/followup/public-notice").status_code == 303  # login first

    page = client.get(f"/followup/{item_id}", headers=headers).text
    assert 'id="fu-publish"' in page and "本事项未公开" in page
    assert SECRETS["hidden_item"] not in client.get(public_url).text  # and now it is cached

    before = everything(db)
    # No login: to the login page, nothing written. Bad input: 400, nothing written.
    assert client.post(f"/followup/{item_id}/public", data={"public": "1"}).status_code == 303
    for url, form in (
        (f"/followup/{item_id}/public", {"public": "yes"}),
        (f"/followup/{item_id}/approval", {"post": "x", "action": "approve"}),
        (f"/followup/{item_id}/approval", {"post": "1", "action": "publish"}),
    ):
        bad = client.post(url, data=form, headers=headers)
        assert bad.status_code == 400 and "表单无效" in bad.text, (url, form)
    wrong = client.post(
        f"/followup/{item_id}/approval", data={"post": "1", "action": "approve"}, headers=headers
    )
    assert wrong.status_code == 400 and "不属于这个督办事项" in wrong.text
    gone = client.post("/followup/999999/public", data={"public": "1"}, headers=headers)
    assert gone.status_code == 404 and "找不到这个督办事项" in gone.text
    assert everything(db) == before

    done = client.post(f"/followup/{item_id}/public", data={"public": "1"}, headers=headers)
    assert done.status_code == 303 and done.headers["location"].startswith(f"/followup/{item_id}?saved=")
    shown = client.get(public_url).text  # the change made here forgot the cached page
    assert SECRETS["hidden_item"] in shown and SECRETS["hidden_commitment"] in shown
    assert "本事项已公开" in client.get(f"/followup/{item_id}", headers=headers).text

    post_id = add_post(settings, item_id, "第二项的进展")
    form = {"post": str(post_id), "action": "approve"}
    assert client.post(f"/followup/{item_id}/approval", data=form, headers=headers).status_code == 303
    assert "第二项的进展" in client.get(public_url).text
    page = client.get(f"/followup/{item_id}", headers=headers).text
    assert re.search(rf'id="fu-approval-{post_id}".*?已批准.*?chair', page, re.S)
    form["action"] = "withdraw"
    assert client.post(f"/followup/{item_id}/approval", data=form, headers=headers).status_code == 303
    assert "第二项的进展" not in client.get(public_url).text

    async def trail(conn: AsyncConnection) -> list[tuple[str, str]]:
        a = m.audit
        stmt = select(a.c.action, a.c.actor).where(a.c.action.like("followup_p%")).order_by(a.c.id)
        return [(str(x), str(y)) for x, y in await conn.execute(stmt)]

    assert run(settings.database_url, trail)[-3:] == [
        ("followup_public", "staff:chair"),
        ("followup_post_approved", "staff:chair"),
        ("followup_post_withdrawn", "staff:chair"),
    ]


def add_post(settings: Settings, item_id: int, text: str) -> int:
    async def fn(conn: AsyncConnection) -> int:
        fi = m.followup_items
        body_id = int((await conn.execute(select(fi.c.body_id).where(fi.c.id == item_id))).scalar_one())
        organ = await add_organ(conn, body_id, "县交通局")
        return await organ_post(conn, item_id, organ, text, now_ms())

    return int(run(settings.database_url, fn))


def test_the_page_is_read_once_per_body_while_fresh(
    client: TestClient, settings: Settings, meeting_id: int
) -> None:
    """A crowd costs one read per body while the cached page is fresh; a change made behind
    the cache's back (another process) shows once it is stale; a filter needs no new read."""
    seeded = seed(settings, meeting_id)
    clock = [1000.0]
    cache: TtlCache[Any] = TtlCache(ttl=30, clock=lambda: clock[0])
    client.app.state.services.public_followup = cache  # type: ignore[attr-defined]
    url = f"/public/bodies/{seeded['body_id']}/followup"
    for _ in range(20):
        assert client.get(url).status_code == 200
    assert client.get(f"{url}?meeting={meeting_id}").status_code == 200
    assert cache.reads == 1

    async def retitle(conn: AsyncConnection) -> None:
        fi = m.followup_items
        await conn.execute(update(fi).where(fi.c.id == seeded["public"]).values(title="RETITLED-1"))

    run(settings.database_url, retitle)
    clock[0] += 29
    assert "RETITLED-1" not in client.get(url).text
    clock[0] += 2
    assert "RETITLED-1" in client.get(url).text and cache.reads == 2
    for _ in range(3):
        assert client.get("/public/bodies/987654/followup").status_code == 404
    assert cache.reads == 5 and len(cache) == 1  # unknown bodies are not kept


def test_the_meeting_filter_and_overdue(client: TestClient, settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> int:
        body_id = await body_of(conn, meeting_id)
        day = today()
        late = await followup.create_item(
            conn, body_id, title="LATE-ITEM", assigned_on=day - dt.timedelta(days=100), reply_months=3,
            meeting_id=meeting_id, now_ms=now_ms(), **WHO,
        )  # fmt: skip
        loose = await followup.create_item(
            conn, body_id, title="LOOSE-ITEM", assigned_on=day, now_ms=now_ms(), **WHO
        )
        for item_id in (late, loose):
            await followup_publish.set_public(conn, item_id, True, **WHO)
        return body_id

    body_id = int(run(settings.database_url, fn))
    url = f"/public/bodies/{body_id}/followup"
    html = client.get(url).text
    assert "LATE-ITEM" in html and "LOOSE-ITEM" in html and 'id="pf-meetings"' in html
    assert re.search(r"已逾期 \d+ 天", html) and "pf-late" in html
    one = client.get(f"{url}?meeting={meeting_id}").text
    assert "LATE-ITEM" in one and "LOOSE-ITEM" not in one
    total = r"<li[^>]*><b>(\d+)</b>总数</li>"
    assert re.findall(total, html) == ["2"] and re.findall(total, one) == ["1"]  # counts follow the filter
    none = client.get(f"{url}?meeting=424242")
    assert none.status_code == 404 and "这次会议没有公开的督办事项" in none.text


def test_the_live_page_links_the_bodys_follow_up(
    client: TestClient, settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> int:
        return await body_of(conn, meeting_id)

    body_id = int(run(settings.database_url, fn))
    client.cookies.clear()
    live = client.get(f"/m/{meeting_id}/live").text
    assert f'href="/public/bodies/{body_id}/followup"' in live


def test_the_public_history_shows_the_day_of_the_work_in_its_order(
    client: TestClient, settings: Settings, meeting_id: int
) -> None:
    """Two progress posts, the later one about older work: the page dates each by its work
    and lists the older work first."""
    day = today()

    async def fn(conn: AsyncConnection) -> int:
        await decide(conn, meeting_id)
        first = (await items_of(conn))[0]
        body_id = await body_of(conn, meeting_id)
        organ = await add_organ(conn, body_id, "县住建局")
        await followup.set_organs(conn, first, organ, [], **WHO)
        for text, back in (("昨天完成招标", 1), ("两周前完成勘察", 14)):
            post_id = await followup_posts.post_progress(
                conn, first, organ_id=organ, text=text, done_on=day - dt.timedelta(days=back), today=day,
                author="", on_behalf=False, now_ms=now_ms(), **WHO,
            )  # fmt: skip
            await followup_publish.approve_post(conn, first, post_id, now_ms=now_ms(), **WHO)
        await followup_publish.set_public(conn, first, True, **WHO)
        return body_id

    body_id = run(settings.database_url, fn)
    html = client.get(f"/public/bodies/{body_id}/followup").text
    shown = re.findall(
        r'<time>([\d-]+)</time> <span class="pf-source">县住建局</span>\s*<p class="pf-text">([^<]+)', html
    )
    assert shown == [
        ((day - dt.timedelta(days=14)).isoformat(), "两周前完成勘察"),
        ((day - dt.timedelta(days=1)).isoformat(), "昨天完成招标"),
    ]
