"""Question collection on the phone and the review board: pages, rules, nothing half-written."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.base.settings import Settings
from server.storage import models as m
from tests.conftest import TestClient
from tests.test_meetings_admin import run, staff_headers


def deputy_headers(keys: Keys, deputy_id: int) -> dict[str, str]:
    cookie = keys.deputy_cookie(deputy_id, 1, f"hall{deputy_id}")  # the phone of tests.conftest.Hall
    binding = keys.read_deputy(cookie)
    assert binding is not None
    return {"cookie": f"wz_deputy={cookie}", "x-csrf-token": keys.csrf(binding.sid)}


def ids_by_card(settings: Settings) -> dict[str, Any]:
    async def fn(conn: AsyncConnection) -> dict[str, Any]:
        rows = (await conn.execute(select(m.deputies))).all()
        return {r.card_no: r for r in rows}

    return dict(run(settings.database_url, fn))


def officials(settings: Settings) -> list[int]:
    async def fn(conn: AsyncConnection) -> list[int]:
        return [
            int(i)
            for i in (await conn.execute(select(m.officials.c.id).order_by(m.officials.c.id))).scalars()
        ]

    return list(run(settings.database_url, fn))


def subs(settings: Settings, meeting_id: int) -> list[Any]:
    """The submissions this test made: the demo's own six (approved) are left out."""

    async def fn(conn: AsyncConnection) -> list[Any]:
        t = m.question_submissions
        mine = (t.c.meeting_id == meeting_id) & (t.c.entered_by != "demo")
        return list((await conn.execute(select(t).where(mine).order_by(t.c.id))).all())

    return list(run(settings.database_url, fn))


def final(settings: Settings, meeting_id: int) -> list[tuple[int, str, int | None, list[int]]]:
    async def fn(conn: AsyncConnection) -> list[tuple[int, str, int | None, list[int]]]:
        q, r = m.questions, m.question_respondents
        rows = (
            await conn.execute(select(q).where(q.c.meeting_id == meeting_id).order_by(q.c.position))
        ).all()
        out = []
        for row in rows:
            resp = (
                await conn.execute(
                    select(r.c.official_id).where(r.c.question_id == row.id).order_by(r.c.position)
                )
            ).scalars()
            out.append((row.id, row.title, row.asker_id, [int(x) for x in resp]))
        return out

    return list(run(settings.database_url, fn))


def set_deadline(settings: Settings, meeting_id: int, ms: int | None) -> None:
    async def fn(conn: AsyncConnection) -> None:
        await conn.execute(
            update(m.meetings).where(m.meetings.c.id == meeting_id).values(submission_deadline_ms=ms)
        )

    run(settings.database_url, fn)


def submit(client: TestClient, keys: Keys, meeting_id: int, deputy_id: int, **form: str) -> Any:
    return client.post(f"/d/{meeting_id}/questions", data=form, headers=deputy_headers(keys, deputy_id))


def review(client: TestClient, keys: Keys, meeting_id: int, **form: str) -> Any:
    return client.post(f"/m/{meeting_id}/review", data=form, headers=staff_headers(client, keys))


def test_submit_before_and_after_the_deadline_and_group_visibility(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    cards = ids_by_card(settings)
    me, same_group, other_group = cards["1001"], cards["1007"], cards["1002"]
    assert me.group_id == same_group.group_id != other_group.group_id
    official = officials(settings)[0]
    page = client.get(f"/d/{meeting_id}/questions", headers=deputy_headers(keys, me.id))
    assert page.status_code == 200 and "提交问题" in page.text and same_group.name in page.text
    app_meetings = client.app.state.services.meetings  # type: ignore[attr-defined]
    assert meeting_id not in app_meetings.rooms  # collecting questions does not open the live room
    home = client.get(f"/d/{meeting_id}", headers=deputy_headers(keys, me.id))
    assert f'href="/d/{meeting_id}/questions"' in home.text

    ok = submit(
        client,
        keys,
        meeting_id,
        me.id,
        title="农村道路养护",
        text="请问养护资金何时到位？",
        official=str(official),
        **{f"co_{same_group.id}": "1"},
        co_cards="1002",
    )
    assert ok.status_code == 303
    [row] = subs(settings, meeting_id)
    assert row.deputy_id == me.id and row.group_id == me.group_id and row.status == "submitted"
    assert row.wanted_official_id == official
    assert row.co_proposers == f"{same_group.id},{other_group.id}"

    seen = client.get(f"/d/{meeting_id}/questions", headers=deputy_headers(keys, same_group.id))
    assert "农村道路养护" in seen.text
    unseen = client.get(f"/d/{meeting_id}/questions", headers=deputy_headers(keys, other_group.id))
    assert unseen.status_code == 200 and "农村道路养护" not in unseen.text

    set_deadline(settings, meeting_id, int(time.time() * 1000) - 1000)
    late = submit(client, keys, meeting_id, me.id, title="晚了", text="")
    assert late.status_code == 400 and "已截止" in late.text
    assert len(subs(settings, meeting_id)) == 1
    closed = client.get(f"/d/{meeting_id}/questions", headers=deputy_headers(keys, me.id))
    assert 'id="q-closed"' in closed.text
    # Staff can still enter a question on a deputy's behalf after the deadline.
    entered = review(client, keys, meeting_id, action="enter", card_no="1002", title="代录问题", text="")
    assert entered.status_code == 303
    last = subs(settings, meeting_id)[-1]
    assert last.deputy_id == other_group.id and last.entered_by == "chair"


def test_bad_input_csrf_and_login(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    me = ids_by_card(settings)["1001"]
    headers = deputy_headers(keys, me.id)
    cases = [
        ({"title": ""}, 400, "请填写问题标题"),
        ({"title": "x" * 201}, 400, "请填写问题标题"),
        ({"title": "好", "official": "999999"}, 400, "应询人员"),
        ({"title": "好", "co_cards": "no-such-card"}, 400, "no-such-card"),
        ({"title": "好", "co": "abc"}, 400, "联名代表"),
    ]
    for form, status, text in cases:
        answer = client.post(f"/d/{meeting_id}/questions", data=form, headers=headers)
        assert answer.status_code == status and text in answer.text, form
    forged = client.post(
        f"/d/{meeting_id}/questions", data={"title": "好"}, headers={"cookie": headers["cookie"]}
    )
    assert forged.status_code == 403
    revoked = {"cookie": f"wz_deputy={keys.deputy_cookie(me.id, 2)}"}
    assert client.get(f"/d/{meeting_id}/questions", headers=revoked).status_code == 303
    assert client.get("/d/999999/questions", headers=headers).status_code == 404
    unbound = client.post(f"/d/{meeting_id}/questions", data={"title": "好"})
    assert unbound.status_code == 303 and unbound.headers["location"] == f"/d/{meeting_id}"
    staff = staff_headers(client, keys)
    assert client.get(f"/m/{meeting_id}/review").status_code == 303
    no_csrf = client.post(
        f"/m/{meeting_id}/review",
        data={"action": "deadline", "deadline": ""},
        headers={"cookie": staff["cookie"]},
    )
    assert no_csrf.status_code == 403
    assert client.post(f"/m/{meeting_id}/review", data={"action": "deadline"}).status_code == 303
    bad_deadline = review(client, keys, meeting_id, action="deadline", deadline="明天")
    assert bad_deadline.status_code == 400 and "截止时间格式" in bad_deadline.text
    assert review(client, keys, meeting_id, action="fly").status_code == 400
    assert review(client, keys, meeting_id, action="approve", sub="x").status_code == 400
    assert subs(settings, meeting_id) == []
    good = review(client, keys, meeting_id, action="deadline", deadline="2030-06-01 18:00")
    assert good.status_code == 303
    board = client.get(f"/m/{meeting_id}/review", headers=staff)
    assert board.status_code == 200 and "2030-06-01 18:00" in board.text


def test_merge_reject_approve_order_assign(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    cards = ids_by_card(settings)
    a, b, c = cards["1001"], cards["1007"], cards["1002"]
    for who, title in ((a, "道路一"), (b, "道路二"), (c, "学校"), (c, "重复")):
        assert submit(client, keys, meeting_id, who.id, title=title, text=title + "内容").status_code == 303
    s1, s2, s3, s4 = (s.id for s in subs(settings, meeting_id))

    assert review(client, keys, meeting_id, action="merge", **{f"pick_{s1}": "1"}).status_code == 400
    merged = review(client, keys, meeting_id, action="merge", **{f"pick_{s1}": "1", f"pick_{s2}": "1"})
    assert merged.status_code == 303
    rows = {s.id: s for s in subs(settings, meeting_id)}
    assert rows[s1].status == "submitted" and rows[s1].co_proposers == str(b.id)
    assert rows[s2].status == "merged" and rows[s2].merged_into == s1
    history = json.loads(rows[s1].history)
    assert history[-1]["what"] == "merged" and history[-1]["from"][0]["title"] == "道路二"
    assert history[-1]["who"] == "chair"
    # A merged submission can no longer be approved.
    assert review(client, keys, meeting_id, action="approve", sub=str(s2)).status_code == 400

    assert review(client, keys, meeting_id, action="reject", sub=str(s4), reason="").status_code == 400
    assert (
        review(client, keys, meeting_id, action="reject", sub=str(s4), reason="与其他问题重复").status_code
        == 303
    )
    phone = client.get(f"/d/{meeting_id}/questions", headers=deputy_headers(keys, c.id))
    assert "未采用理由：与其他问题重复" in phone.text

    assert (
        review(
            client, keys, meeting_id, action="edit", sub=str(s1), title="道路养护", text="合并后的问题"
        ).status_code
        == 303
    )
    before = final(settings, meeting_id)
    assert review(client, keys, meeting_id, action="approve", sub=str(s1)).status_code == 303
    assert review(client, keys, meeting_id, action="approve", sub=str(s3)).status_code == 303
    after = final(settings, meeting_id)
    assert after[: len(before)] == before
    q1, q3 = after[-2], after[-1]
    assert (q1[1], q1[2], q3[1], q3[2]) == ("道路养护", a.id, "学校", c.id)

    assert review(client, keys, meeting_id, action="up", question=str(q3[0])).status_code == 303
    assert [q[0] for q in final(settings, meeting_id)][-2:] == [q3[0], q1[0]]
    order = ",".join(str(q[0]) for q in reversed(after))
    assert review(client, keys, meeting_id, action="order", order=order).status_code == 303
    assert [q[0] for q in final(settings, meeting_id)] == [q[0] for q in reversed(after)]
    assert review(client, keys, meeting_id, action="order", order="999999").status_code == 400

    o1, o2 = officials(settings)[:2]
    form = {
        "action": "assign",
        "question": str(q1[0]),
        "asker": str(b.id),
        f"official_{o2}": "1",
        f"official_{o1}": "1",
    }
    assert review(client, keys, meeting_id, **form).status_code == 303
    got = {q[0]: q for q in final(settings, meeting_id)}[q1[0]]
    assert got[2] == b.id and sorted(got[3]) == sorted([o1, o2])
    bad = {**form, "asker": "999999"}
    assert review(client, keys, meeting_id, **bad).status_code == 400
    none = {"action": "assign", "question": str(q1[0]), "asker": str(b.id)}
    assert review(client, keys, meeting_id, **none).status_code == 400
    assert {q[0]: q for q in final(settings, meeting_id)}[q1[0]] == got

    board = client.get(f"/m/{meeting_id}/review", headers=staff_headers(client, keys))
    assert board.status_code == 200 and "道路养护" in board.text and "与其他问题重复" in board.text


def test_final_list_frozen_once_the_meeting_has_begun(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    a = ids_by_card(settings)["1001"]
    assert submit(client, keys, meeting_id, a.id, title="开会后", text="").status_code == 303
    [s] = subs(settings, meeting_id)
    before = final(settings, meeting_id)

    async def begin(conn: AsyncConnection) -> None:
        await conn.execute(
            insert(m.events).values(
                meeting_id=meeting_id,
                seq=1,
                type="test",
                data="{}",
                actor="chair:chair",
                device="",
                created_ms=1,
            )
        )

    run(settings.database_url, begin)
    for form in (
        {"action": "approve", "sub": str(s.id)},
        {"action": "up", "question": str(before[-1][0])},
        {"action": "order", "order": str(before[-1][0])},
        {"action": "assign", "question": str(before[0][0]), "asker": str(a.id)},
    ):
        answer = review(client, keys, meeting_id, **form)
        assert answer.status_code == 409 and "会议已经开始" in answer.text, form
    assert final(settings, meeting_id) == before
    assert subs(settings, meeting_id)[0].status == "submitted"


def test_the_demo_questions_came_through_submission_and_review(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> tuple[list[Any], list[Any]]:
        t = m.question_submissions
        by_demo = select(t).where(t.c.meeting_id == meeting_id, t.c.entered_by == "demo")
        demo = (await conn.execute(by_demo)).all()
        final = (await conn.execute(select(m.questions).where(m.questions.c.meeting_id == meeting_id))).all()
        return list(demo), list(final)

    demo, final = run(settings.database_url, fn)
    assert len(demo) == 6 and all(s.status == "approved" for s in demo)
    assert sorted(s.question_id for s in demo) == sorted(q.id for q in final)
    assert all(q.asker_id == s.deputy_id for s in demo for q in final if q.id == s.question_id)


def test_a_deputy_revises_or_withdraws_only_their_own_open_question_before_the_deadline(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    cards = ids_by_card(settings)
    me, same_group = cards["1001"], cards["1007"]
    assert submit(client, keys, meeting_id, me.id, title="原来的标题", text="原来的内容").status_code == 303
    assert submit(client, keys, meeting_id, me.id, title="要撤回的", text="").status_code == 303
    mine, withdrawn = subs(settings, meeting_id)

    # Someone else in the group sees the question but may not touch it.
    for action in ("revise", "withdraw"):
        other = submit(
            client,
            keys,
            meeting_id,
            same_group.id,
            action=action,
            sub=str(mine.id),
            title="别人改的",
            text="",
        )
        assert other.status_code == 400 and "只能撤回或修改自己提出的" in other.text
    assert [(s.title, s.status) for s in subs(settings, meeting_id)] == [
        ("原来的标题", "submitted"),
        ("要撤回的", "submitted"),
    ]

    revised = submit(
        client, keys, meeting_id, me.id, action="revise", sub=str(mine.id), title="新标题", text="新内容"
    )
    assert revised.status_code == 303 and revised.headers["location"].endswith("saved=revise")
    bad = submit(client, keys, meeting_id, me.id, action="revise", sub=str(mine.id), title="", text="x")
    assert bad.status_code == 400 and "请填写问题标题" in bad.text
    gone = submit(client, keys, meeting_id, me.id, action="withdraw", sub=str(withdrawn.id))
    assert gone.status_code == 303
    after = {s.id: s for s in subs(settings, meeting_id)}
    assert (after[mine.id].title, after[mine.id].text) == ("新标题", "新内容")
    assert [h["what"] for h in json.loads(after[mine.id].history)] == ["submitted", "edited"]
    assert after[withdrawn.id].status == "withdrawn"
    page = client.get(f"/d/{meeting_id}/questions", headers=deputy_headers(keys, me.id)).text
    assert "已撤回" in page and page.count("撤回此问题") == 1  # only the open one can still go
    # A withdrawn question cannot be withdrawn again, nor merged or approved by staff.
    again = submit(client, keys, meeting_id, me.id, action="withdraw", sub=str(withdrawn.id))
    assert again.status_code == 400
    approve = review(client, keys, meeting_id, action="approve", sub=str(withdrawn.id))
    assert approve.status_code == 400 and "已处理" in approve.text

    set_deadline(settings, meeting_id, int(time.time() * 1000) - 1000)
    late = submit(client, keys, meeting_id, me.id, action="withdraw", sub=str(mine.id))
    assert late.status_code == 400 and "已截止" in late.text
    assert subs(settings, meeting_id)[0].status == "submitted"
    unknown = submit(client, keys, meeting_id, me.id, action="explode", sub=str(mine.id))
    assert unknown.status_code == 400


def test_merge_keeps_the_chosen_question_and_the_board_shows_the_history(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    cards = ids_by_card(settings)
    a, b = cards["1001"], cards["1002"]
    submit(client, keys, meeting_id, a.id, title="道路问题甲", text="")
    submit(client, keys, meeting_id, b.id, title="道路问题乙", text="")
    first, second = subs(settings, meeting_id)
    picks = {f"pick_{first.id}": "1", f"pick_{second.id}": "1"}
    outside = review(client, keys, meeting_id, action="merge", keep="999999", **picks)
    assert outside.status_code == 400 and "要保留的问题须在所选的问题之中" in outside.text
    assert [s.status for s in subs(settings, meeting_id)] == ["submitted", "submitted"]

    merged = review(client, keys, meeting_id, action="merge", keep=str(second.id), **picks)
    assert merged.status_code == 303
    after = {s.id: s for s in subs(settings, meeting_id)}
    assert after[first.id].status == "merged" and after[first.id].merged_into == second.id
    assert after[second.id].status == "submitted" and str(a.id) in after[second.id].co_proposers.split(",")
    board = client.get(f"/m/{meeting_id}/review", headers=staff_headers(client, keys)).text
    assert "处理记录（2）" in board
    assert f"合并：并入 #{first.id}《道路问题甲》（{a.name} 提出）" in board
