"""Preparing meetings: kinds and their defaults, the edit page's validation, clone, access."""

from __future__ import annotations

import asyncio
import time
import weakref
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.rules import has_quorum
from live.setup import DEFAULT_TIMER_SECONDS, BodyKind, Denominator, TimerRole
from server.base.days import today
from server.base.keys import Keys
from server.base.settings import Settings
from server.office import bodies as bodies_office
from server.office import meeting_forms, meeting_kinds, terms
from server.office import meetings_admin as admin
from server.office.bodies import Who
from server.storage import models as m
from server.storage import store
from tests.conftest import TestClient, plain_engine, staff_login


def run(url: str, fn: Any) -> Any:
    async def go() -> Any:
        engine = plain_engine(url)
        try:
            async with engine.begin() as conn:
                return await fn(conn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


_LOGGED_IN: weakref.WeakKeyDictionary[TestClient, str] = weakref.WeakKeyDictionary()


def staff_headers(client: TestClient, keys: Keys) -> dict[str, str]:
    """The demo chair's headers: one login (a session on the server) per test client."""
    cookie = _LOGGED_IN.get(client) or _LOGGED_IN.setdefault(client, staff_login(client))
    session = keys.read_staff(cookie)
    assert session is not None
    return {"cookie": f"wz_user={cookie}", "x-csrf-token": keys.csrf(session.sid)}


async def _snapshot(conn: AsyncConnection, meeting_id: int) -> dict[str, Any]:
    meeting = (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).one()
    items = (
        await conn.execute(
            select(
                m.agenda_items.c.id, m.agenda_items.c.position, m.agenda_items.c.kind, m.agenda_items.c.title
            )
            .where(m.agenda_items.c.meeting_id == meeting_id)
            .order_by(m.agenda_items.c.position)
        )
    ).all()
    return {"title": meeting.title, "settings": meeting.settings, "agenda": [tuple(i) for i in items]}


def snapshot(settings: Settings, meeting_id: int) -> dict[str, Any]:
    return dict(run(settings.database_url, lambda c: _snapshot(c, meeting_id)))


WHO = Who("test", "pytest")


async def _add_standing_committee(conn: AsyncConnection) -> int:
    body_id = await bodies_office.create_body(conn, "某市人大常委会", "standing-committee", "city", WHO)
    await terms.add_term(conn, body_id, 17, "2022-01-06", None, WHO)
    return body_id


def body_ids(settings: Settings, meeting_id: int) -> dict[BodyKind, int]:
    async def fn(conn: AsyncConnection) -> dict[BodyKind, int]:
        congress = (
            await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
        ).scalar_one()
        return {
            BodyKind.CONGRESS: int(congress),
            BodyKind.STANDING_COMMITTEE: await _add_standing_committee(conn),
        }

    return dict(run(settings.database_url, fn))


# -- kinds -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind_key", list(meeting_kinds.KINDS))
def test_every_kind_creates_a_meeting_with_its_body_rules_and_defaults(
    settings: Settings, meeting_id: int, kind_key: str
) -> None:
    kind = meeting_kinds.KINDS[kind_key]
    bodies = body_ids(settings, meeting_id)
    for body_kind, body_id in bodies.items():
        session = "new" if body_kind is BodyKind.CONGRESS else ""

        async def create(conn: AsyncConnection, body_id: int = body_id, session: str = session) -> int:
            return await admin.create(
                conn,
                body_id,
                kind_key,
                int(time.time() * 1000),
                held_on=today(),
                session=session,
                title=f"测试{kind.label}",
                who=WHO,
            )

        if body_kind not in kind.bodies:
            with pytest.raises(meeting_forms.Invalid) as bad:
                run(settings.database_url, create)
            assert "不举行" in bad.value.errors["kind"]
            continue
        new_id = run(settings.database_url, create)

        async def load(conn: AsyncConnection, new_id: int = new_id) -> Any:
            return await store.load_setup(conn, new_id)

        setup = run(settings.database_url, load)
        s = setup.settings
        assert s.body_kind is body_kind  # the quorum rule follows the body
        if body_kind is BodyKind.CONGRESS:
            assert has_quorum(s.body_kind, 30, 20) and not has_quorum(s.body_kind, 30, 19)
        else:
            assert has_quorum(s.body_kind, 30, 16) and not has_quorum(s.body_kind, 30, 15)
        # 述职评议 is evaluated by those present (DOMAIN.md); the others by all members.
        want = Denominator.PRESENT if kind_key == "duty_report" else Denominator.MEMBERS
        assert s.rating_rule.denominator is want
        assert s.rating_rule.satisfied_share == s.rating_rule.basic_share == Fraction(1, 2)
        assert dict(s.timer_seconds) == {**DEFAULT_TIMER_SECONDS, **kind.timers}
        assert [(a.kind, a.title) for a in setup.agenda] == list(kind.agenda)
        assert [a.position for a in setup.agenda] == list(range(1, len(kind.agenda) + 1))


def test_a_duty_report_is_measured_on_those_present() -> None:
    """述职评议: "those present evaluate them" (DOMAIN.md): 实到 by default; other kinds 应到."""
    duty = meeting_kinds.KINDS["duty_report"].settings(BodyKind.CONGRESS).rating_rule
    assert duty.denominator is Denominator.PRESENT and duty.min_ballots == 0
    assert (
        meeting_kinds.KINDS["inquiry"].settings(BodyKind.CONGRESS).rating_rule.denominator
        is Denominator.MEMBERS
    )
    again = store.settings_from_json(
        store.settings_to_json(meeting_kinds.KINDS["duty_report"].settings(BodyKind.CONGRESS)),
        BodyKind.CONGRESS,
    )
    assert again.rating_rule == duty


def test_special_inquiry_gives_officials_longer_to_answer() -> None:
    timers = meeting_kinds.KINDS["special_inquiry"].settings(BodyKind.STANDING_COMMITTEE).timer_seconds
    assert timers[TimerRole.ANSWERING] == 600
    assert meeting_kinds.KINDS["special_inquiry"].bodies == {BodyKind.STANDING_COMMITTEE}


def test_share_parsing() -> None:
    assert (
        meeting_forms.parse_share("1/2")
        == meeting_forms.parse_share("50%")
        == meeting_forms.parse_share("0.5")
        == Fraction(1, 2)
    )
    assert meeting_forms.parse_share("2/3") == Fraction(2, 3)
    assert meeting_forms.parse_share("1") == 1
    for bad in ("3/2", "120%", "0", "0/3", "1/0", "abc", "", "-1/2", "1.5"):
        assert meeting_forms.parse_share(bad) is None, bad


# -- pages ---------------------------------------------------------------------------------


def settings_form(**overrides: str) -> dict[str, str]:
    form = {
        "action": "settings",
        "title": "改过的会议名称",
        **{f"timer_{role.value}": str(s) for role, s in DEFAULT_TIMER_SECONDS.items()},
        "warn_seconds": "20",
        "denominator": "present",
        "satisfied_share": "60%",
        "basic_share": "1/2",
        "floor_requests_per_item": "3",
    }
    form.update(overrides)
    return form


def test_create_through_the_page(client: TestClient, keys: Keys, settings: Settings, meeting_id: int) -> None:
    headers = staff_headers(client, keys)
    assert "会议管理" in client.get("/", headers=headers).text
    listing = client.get("/meetings", headers=headers)
    assert listing.status_code == 200 and f"/m/{meeting_id}/console" in listing.text
    assert client.get("/meetings/new", headers=headers).status_code == 200
    bodies = body_ids(settings, meeting_id)
    response = client.post(
        "/meetings/new",
        data={
            "body": str(bodies[BodyKind.STANDING_COMMITTEE]),
            "kind": "special_inquiry",
            "title": "专题询问会",
            "held_on": today().isoformat(),
            "starts_at": "9:30",
            "place": "市人大常委会会议室",
            "session": "",
        },
        headers=headers,
    )
    assert response.status_code == 303
    new_id = int(response.headers["location"].split("/")[2])
    page = client.get(f"/meetings/{new_id}/edit", headers=headers)
    assert page.status_code == 200 and "全体组成人员过半数出席" in page.text and 'value="600"' in page.text
    assert "09:30 · 市人大常委会会议室" in page.text
    # A congress does not hold a 专题询问; an unknown kind, an unreadable title, a day in
    # no term, a congress meeting in no session and a bad time are refused.
    day = {"held_on": today().isoformat(), "session": "new"}
    for data, field_text in (
        ({"body": str(bodies[BodyKind.CONGRESS]), "kind": "special_inquiry", "title": "x", **day}, "不举行"),
        ({"body": str(bodies[BodyKind.CONGRESS]), "kind": "party", "title": "x", **day}, "请选择会议类型"),
        ({"body": str(bodies[BodyKind.CONGRESS]), "kind": "inquiry", "title": "会\x01议", **day}, "无法识别"),
        ({"body": "9999", "kind": "inquiry", "title": "x", **day}, "请选择举行会议的机构"),
        (
            {
                "body": str(bodies[BodyKind.CONGRESS]),
                "kind": "inquiry",
                "held_on": "2001-01-01",
                "session": "new",
            },
            "任何一届的任期内",
        ),
        (
            {"body": str(bodies[BodyKind.CONGRESS]), "kind": "inquiry", **day, "session": ""},
            "须属于某一次会议",
        ),
        ({"body": str(bodies[BodyKind.CONGRESS]), "kind": "inquiry", **day, "starts_at": "25:00"}, "14:30"),
    ):
        refused = client.post("/meetings/new", data=data, headers=headers)
        assert refused.status_code == 400 and field_text in refused.text, data

    async def count(conn: AsyncConnection) -> int:
        return len((await conn.execute(select(m.meetings.c.id))).all())

    assert run(settings.database_url, count) == 2


def test_edit_settings_and_agenda(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    url = f"/meetings/{meeting_id}/edit"
    page = client.get(url, headers=headers)
    assert page.status_code == 200
    # The meeting's other preparation pages are one click away (the questions, the cards).
    for where in ("review", "cards", "script/edit", "console"):
        assert f'href="/m/{meeting_id}/{where}"' in page.text, where
    assert client.post(url, data=settings_form(), headers=headers).status_code == 303
    after = snapshot(settings, meeting_id)
    s = store.settings_from_json(after["settings"], BodyKind.CONGRESS)
    assert after["title"] == "改过的会议名称"
    assert s.rating_rule.denominator is Denominator.PRESENT
    assert s.rating_rule.satisfied_share == Fraction(3, 5)
    assert s.warn_seconds == 20
    assert s.floor_requests_per_item == 3
    assert s.timer_seconds[TimerRole.SPEECH_FIRST] == 600 and s.timer_seconds[TimerRole.SPEECH_SECOND] == 300
    assert s.body_kind is BodyKind.CONGRESS
    assert s.rating_rule.min_ballots == 0  # off by default (issue 16)
    page = client.get(url, headers=headers).text
    assert 'name="min_ballots" value="0"' in page
    assert client.post(url, data=settings_form(min_ballots="25"), headers=headers).status_code == 303
    s = store.settings_from_json(snapshot(settings, meeting_id)["settings"], BodyKind.CONGRESS)
    assert s.rating_rule.min_ballots == 25 and s.rating_rule.denominator is Denominator.PRESENT

    items = after["agenda"]
    first, second = items[0][0], items[1][0]
    post = lambda **f: client.post(url, data=f, headers=headers)  # noqa: E731
    assert post(action="agenda_down", item_id=str(first)).status_code == 303
    assert [i[0] for i in snapshot(settings, meeting_id)["agenda"]][:2] == [second, first]
    assert post(action="agenda_up", item_id=str(first)).status_code == 303
    assert (
        post(action="agenda_rename", item_id=str(first), item_kind="vote", item_title="表决").status_code
        == 303
    )
    assert post(action="agenda_add", item_kind="discussion", item_title="自由讨论").status_code == 303
    assert post(action="agenda_delete", item_id=str(second)).status_code == 303
    agenda = snapshot(settings, meeting_id)["agenda"]
    assert agenda[0][2:] == ("vote", "表决")
    assert agenda[-1][2:] == ("discussion", "自由讨论")
    assert [i[1] for i in agenda] == list(range(1, len(agenda) + 1))
    assert second not in [i[0] for i in agenda]


@pytest.mark.parametrize(
    ("form", "field_text"),
    [
        (settings_form(timer_asking="abc"), "提问时间须为 10 至 3600 之间的整数秒"),
        (settings_form(timer_answering="5"), "答复时间须为"),
        (settings_form(satisfied_share="3/2"), "满意比例须为大于 0 且不超过 1 的比例"),
        (settings_form(basic_share="150%"), "基本满意比例须为"),
        (settings_form(denominator="everyone"), "测评基数须为"),
        (settings_form(warn_seconds="999"), "提前提醒须为"),
        (settings_form(floor_requests_per_item="0"), "每项议程申请发言次数须为 1 至 10"),
        (settings_form(min_ballots="-1"), "最少有效票数须为 0 至 10000 之间的整数"),
        (settings_form(min_ballots="很多"), "最少有效票数须为"),
        (settings_form(title=""), "会议名称不能为空"),
        ({"action": "agenda_add", "item_kind": "party", "item_title": "x"}, "议程类型须为"),
        ({"action": "agenda_add", "item_kind": "report", "item_title": ""}, "议程名称不能为空"),
        ({"action": "agenda_delete", "item_id": "999999"}, "找不到这个议程项"),
        ({"action": "explode"}, "无法识别的操作"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_writes_nothing(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int, form: dict[str, str], field_text: str
) -> None:
    before = snapshot(settings, meeting_id)
    response = client.post(f"/meetings/{meeting_id}/edit", data=form, headers=staff_headers(client, keys))
    assert response.status_code == 400
    assert field_text in response.text
    assert snapshot(settings, meeting_id) == before


def test_a_meeting_that_has_begun_cannot_change_its_rules(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    opened = client.post(f"/m/{meeting_id}/act", data={"cmd": "open_checkin"}, headers=headers)
    assert opened.status_code == 200, opened.text
    before = snapshot(settings, meeting_id)
    url = f"/meetings/{meeting_id}/edit"
    page = client.get(url, headers=headers)
    assert page.status_code == 200 and "规则和议程不能再修改" in page.text
    for form in (settings_form(), {"action": "agenda_add", "item_kind": "report", "item_title": "新议程"}):
        refused = client.post(url, data=form, headers=headers)
        assert refused.status_code == 409 and "复制为新会议" in refused.text
    assert snapshot(settings, meeting_id) == before


def test_clone_copies_preparation_not_events(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    assert (
        client.post(f"/m/{meeting_id}/act", data={"cmd": "open_checkin"}, headers=headers).status_code == 200
    )
    response = client.post(f"/meetings/{meeting_id}/clone", headers=headers)
    assert response.status_code == 303
    new_id = int(response.headers["location"].split("/")[2])

    async def contents(conn: AsyncConnection, mid: int) -> dict[str, Any]:
        questions = (
            await conn.execute(
                select(m.questions).where(m.questions.c.meeting_id == mid).order_by(m.questions.c.position)
            )
        ).all()
        respondents = []
        for q in questions:
            rows = await conn.execute(
                select(m.question_respondents.c.official_id, m.question_respondents.c.position)
                .where(m.question_respondents.c.question_id == q.id)
                .order_by(m.question_respondents.c.position)
            )
            respondents.append([tuple(r) for r in rows])
        events = (await conn.execute(select(m.events.c.id).where(m.events.c.meeting_id == mid))).all()
        snap = await _snapshot(conn, mid)
        return {
            "title": snap["title"],
            "settings": snap["settings"],
            "agenda": [i[1:] for i in snap["agenda"]],
            "questions": [(q.position, q.title, q.text, q.asker_id, q.group_id) for q in questions],
            "respondents": respondents,
            "events": len(events),
        }

    old = run(settings.database_url, lambda c: contents(c, meeting_id))
    new = run(settings.database_url, lambda c: contents(c, new_id))
    assert new["title"] == old["title"] + " (副本)"
    for key in ("settings", "agenda", "questions", "respondents"):
        assert new[key] == old[key], key
    assert len(new["questions"]) == 6 and any(len(r) == 2 for r in new["respondents"])
    assert old["events"] > 0 and new["events"] == 0
    # The copy has not begun: its rules can be edited.
    assert client.post(f"/meetings/{new_id}/edit", data=settings_form(), headers=headers).status_code == 303


def test_staff_login_and_csrf_are_required(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    before = snapshot(settings, meeting_id)
    for path in ("/meetings", "/meetings/new", f"/meetings/{meeting_id}/edit"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    for path, data in (
        (f"/meetings/{meeting_id}/edit", settings_form()),
        (f"/meetings/{meeting_id}/clone", {}),
        ("/meetings/new", {"body": "1", "kind": "inquiry", "title": "x"}),
    ):
        assert client.post(path, data=data).status_code == 303  # to the login page
        no_token = {"cookie": staff_headers(client, keys)["cookie"]}
        refused = client.post(path, data={**data, "csrf": "forged"}, headers=no_token)
        assert refused.status_code == 403 and "页面已过期" in refused.text
    assert snapshot(settings, meeting_id) == before

    async def count(conn: AsyncConnection) -> int:
        return len((await conn.execute(select(m.meetings.c.id))).all())

    assert run(settings.database_url, count) == 1
