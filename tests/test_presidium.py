"""The presidium: one per session in a county congress, one per term in a town; set whole,
audited, refused with a Chinese message (and nothing changed) for a standing committee, a
deputy who is not a member on the relevant day, an unknown session."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.keys import Keys
from server.base.settings import Settings
from server.office import presidium
from server.office.meeting_forms import Invalid
from server.storage import models as m
from tests.conftest import TestClient
from tests.test_meetings_admin import run, staff_headers

BODY = 1  # the demo's town congress


def add_term(
    settings: Settings, body_id: int = BODY, number: int = 17, sessions: int = 0
) -> tuple[int, list[int]]:
    async def fn(conn: AsyncConnection) -> tuple[int, list[int]]:
        # The demo's congress already has term 17 (sessions 1 to 3): use what is there.
        term = (
            await conn.execute(
                select(m.terms.c.id).where(m.terms.c.body_id == body_id, m.terms.c.number == number)
            )
        ).scalar()
        if term is None:
            term = (
                await conn.execute(
                    insert(m.terms)
                    .values(body_id=body_id, number=number, starts_on=dt.date(2021, 1, 1), ends_on=None)
                    .returning(m.terms.c.id)
                )
            ).scalar_one()
        ids = []
        for n in range(1, sessions + 1):
            found = (
                await conn.execute(
                    select(m.sessions.c.id).where(m.sessions.c.term_id == term, m.sessions.c.number == n)
                )
            ).scalar()
            if found is None:
                found = (
                    await conn.execute(
                        insert(m.sessions).values(term_id=term, number=n).returning(m.sessions.c.id)
                    )
                ).scalar_one()
            ids.append(found)
        return int(term), [int(i) for i in ids]

    result: tuple[int, list[int]] = run(settings.database_url, fn)
    return result


def set_level(settings: Settings, level: str, kind: str = "congress", body_id: int = BODY) -> None:
    async def fn(conn: AsyncConnection) -> None:
        await conn.execute(update(m.bodies).where(m.bodies.c.id == body_id).values(level=level, kind=kind))

    run(settings.database_url, fn)


def deputies(settings: Settings, body_id: int = BODY) -> list[Any]:
    async def fn(conn: AsyncConnection) -> list[Any]:
        d = m.deputies
        return list((await conn.execute(select(d).where(d.c.body_id == body_id).order_by(d.c.id))).all())

    return list(run(settings.database_url, fn))


def seated(settings: Settings) -> list[tuple[int, int | None, int, str]]:
    async def fn(conn: AsyncConnection) -> list[tuple[int, int | None, int, str]]:
        p = m.presidium_members
        rows = await conn.execute(
            select(p.c.term_id, p.c.session_id, p.c.deputy_id, p.c.role).order_by(p.c.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    return list(run(settings.database_url, fn))


def audit_rows(settings: Settings, action: str) -> list[Any]:
    async def fn(conn: AsyncConnection) -> list[Any]:
        a = m.audit
        return list((await conn.execute(select(a).where(a.c.action == action).order_by(a.c.id))).all())

    return list(run(settings.database_url, fn))


def count(settings: Settings, table: Any) -> int:
    async def fn(conn: AsyncConnection) -> int:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())

    return int(run(settings.database_url, fn))


def post(client: TestClient, keys: Keys, path: str, **form: str) -> Any:
    return client.post(path, data=form, headers=staff_headers(client, keys))


def test_a_town_presidium_is_one_per_term_set_whole_and_audited(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    term, _ = add_term(settings)
    a, b, c = deputies(settings)[:3]
    page = client.get(f"/bodies/{BODY}/presidium", headers=staff_headers(client, keys))
    assert page.status_code == 200 and "第十七届主席团" in page.text and f'name="member_{a.id}"' in page.text
    assert "乡镇人民代表大会的主席团每届一个" in page.text

    form = {"term": str(term), f"member_{a.id}": "1"}
    form |= {f"member_{b.id}": "1", f"exec_{b.id}": "1"}
    saved = post(client, keys, f"/bodies/{BODY}/presidium", **form)
    assert saved.status_code == 303 and saved.headers["location"].endswith(f"term={term}&saved=1")
    # The chair first; no session: the town's presidium serves the whole term.
    assert seated(settings) == [(term, None, b.id, "常务主席"), (term, None, a.id, "主席团成员")]
    [entry] = audit_rows(settings, "presidium_set")
    detail = json.loads(entry.detail)
    assert entry.actor == "staff:chair" and entry.body_id == BODY
    assert detail["session_id"] is None and detail["term_id"] == term
    assert [x["deputy_id"] for x in detail["members"]] == [b.id, a.id]
    assert f"{b.name}（常务主席）" in detail["summary"]

    shown = client.get(f"/bodies/{BODY}/presidium?term={term}", headers=staff_headers(client, keys)).text
    assert "第十七届主席团（2 人）" in shown and f"{b.name}（常务主席）" in shown

    # The whole list is replaced: b leaves, c joins.
    again = {"term": str(term), f"member_{a.id}": "1", f"member_{c.id}": "1", f"exec_{c.id}": "1"}
    assert post(client, keys, f"/bodies/{BODY}/presidium", **again).status_code == 303
    assert seated(settings) == [(term, None, c.id, "常务主席"), (term, None, a.id, "主席团成员")]
    assert len(audit_rows(settings, "presidium_set")) == 2

    # A town's presidium is not set per session.
    _, [session] = add_term(settings, number=18, sessions=1)
    before = seated(settings)
    refused = post(client, keys, f"/bodies/{BODY}/presidium", session=str(session), **{f"member_{a.id}": "1"})
    assert refused.status_code == 400 and "不按会次设置" in refused.text and "未保存任何内容" in refused.text
    assert seated(settings) == before and len(audit_rows(settings, "presidium_set")) == 2


def test_a_county_presidium_is_one_per_session(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    set_level(settings, "county")
    term, (first, second) = add_term(settings, sessions=2)
    a, b, c = deputies(settings)[:3]
    page = client.get(f"/bodies/{BODY}/presidium", headers=staff_headers(client, keys)).text
    assert "按会次设置" in page and "第十七届第二次会议" in page  # the newest session by default
    assert (
        post(
            client, keys, f"/bodies/{BODY}/presidium", session=str(first), **{f"member_{a.id}": "1"}
        ).status_code
        == 303
    )
    two = {f"member_{b.id}": "1", f"member_{c.id}": "1", f"exec_{c.id}": "1"}
    assert post(client, keys, f"/bodies/{BODY}/presidium", session=str(second), **two).status_code == 303
    assert seated(settings) == [
        (term, first, a.id, "主席团成员"),
        (term, second, c.id, "常务主席"),
        (term, second, b.id, "主席团成员"),
    ]
    one = client.get(f"/bodies/{BODY}/presidium?session={first}", headers=staff_headers(client, keys)).text
    assert "第十七届第一次会议主席团（1 人）" in one
    details = [json.loads(r.detail) for r in audit_rows(settings, "presidium_set")]
    assert [d["session_id"] for d in details] == [first, second]

    # A county congress's presidium needs its session.
    before = seated(settings)
    refused = post(client, keys, f"/bodies/{BODY}/presidium", term=str(term), **{f"member_{a.id}": "1"})
    assert refused.status_code == 400 and "找不到这次会议（会次）" in refused.text
    assert seated(settings) == before


def test_refusals_change_nothing(client: TestClient, keys: Keys, settings: Settings, meeting_id: int) -> None:
    set_level(settings, "county")
    term, (session,) = add_term(settings, sessions=1)
    a, b, gone = deputies(settings)[:3]
    ok = post(client, keys, f"/bodies/{BODY}/presidium", session=str(session), **{f"member_{a.id}": "1"})
    assert ok.status_code == 303
    before, audits = seated(settings), count(settings, m.audit)

    # The session's first sitting is the relevant day: a mandate that ended that very day
    # (it ends at the start of ends_on) no longer counts.
    sitting = today() - dt.timedelta(days=10)

    async def fn(conn: AsyncConnection) -> None:
        await conn.execute(
            update(m.meetings)
            .where(m.meetings.c.id == meeting_id)
            .values(term_id=term, session_id=session, held_on=sitting)
        )
        await conn.execute(
            update(m.mandates)
            .where(m.mandates.c.deputy_id == gone.id)
            .values(starts_on=dt.date(2021, 1, 1), ends_on=sitting)
        )
        await conn.execute(
            update(m.mandates).where(m.mandates.c.deputy_id != gone.id).values(starts_on=dt.date(2021, 1, 1))
        )

    run(settings.database_url, fn)
    cases = [
        ({"session": str(session), f"member_{gone.id}": "1"}, 400, f"{gone.name}在{sitting.year}年"),
        ({"session": "999999", f"member_{a.id}": "1"}, 400, "找不到这次会议（会次）"),
        ({"session": str(session), "member_888888": "1"}, 400, "所选代表不在本机构名单中"),
        ({"session": str(session), f"member_{b.id}": "1", "exec_0": "1"}, 400, "所选代表不在本机构名单中"),
        ({"session": str(session), "member_0": "1"}, 400, "所选代表不在本机构名单中"),
    ]
    for form, status, text in cases:
        reply = post(client, keys, f"/bodies/{BODY}/presidium", **form)
        assert reply.status_code == status and text in reply.text, (
            form,
            reply.status_code,
            reply.text[:3000],
        )
        assert seated(settings) == before and count(settings, m.audit) == audits

    # A role the office does not know (only through its API: the page sends checkboxes).
    async def bad_role(conn: AsyncConnection) -> str:
        where = await presidium.scope(conn, BODY, None, session)
        with pytest.raises(Invalid) as refused:
            await presidium.set_members(conn, where, [(b.id, "秘书长")], actor="staff:test", device="")
        return refused.value.errors["members"]

    assert "职务只能是" in run(settings.database_url, bad_role)
    assert seated(settings) == before and count(settings, m.audit) == audits

    # A mandate that ends the day after the sitting covers it: the same deputy may sit.
    async def later(conn: AsyncConnection) -> None:
        await conn.execute(
            update(m.mandates)
            .where(m.mandates.c.deputy_id == gone.id)
            .values(ends_on=sitting + dt.timedelta(days=1))
        )

    run(settings.database_url, later)
    form = {"session": str(session), f"member_{a.id}": "1", f"member_{gone.id}": "1"}
    assert post(client, keys, f"/bodies/{BODY}/presidium", **form).status_code == 303
    before, audits = seated(settings), count(settings, m.audit)
    assert {x[2] for x in before} == {a.id, gone.id}

    # A standing committee has no presidium: page and form refused.
    set_level(settings, "county", kind="standing_committee")
    page = client.get(f"/bodies/{BODY}/presidium", headers=staff_headers(client, keys))
    assert page.status_code == 409 and "常务委员会不设主席团" in page.text
    reply = post(client, keys, f"/bodies/{BODY}/presidium", session=str(session), **{f"member_{a.id}": "1"})
    assert reply.status_code == 409 and "常务委员会不设主席团" in reply.text
    assert seated(settings) == before and count(settings, m.audit) == audits
    # An unknown body, and the staff login.
    assert client.get("/bodies/999/presidium", headers=staff_headers(client, keys)).status_code == 404
    assert client.get(f"/bodies/{BODY}/presidium").status_code == 303


def test_the_body_page_link(settings: Settings, meeting_id: int) -> None:
    """What the body's page includes: one line, or nothing for a standing committee."""
    from screens import render
    from server.office import presidium
    from server.storage.db import create_engine

    add_term(settings)

    async def summary() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            async with engine.begin() as conn:
                return await presidium.summary(conn, BODY)
        finally:
            await engine.dispose()

    import asyncio

    assert asyncio.run(summary()) == "尚未设置主席团"
    html = render.page("presidium_card", presidium_summary=asyncio.run(summary()), body_id=BODY)
    assert re.search(r'href="/bodies/1/presidium">主席团</a>：尚未设置主席团', html)
    set_level(settings, "town", kind="standing_committee")
    assert asyncio.run(summary()) is None
