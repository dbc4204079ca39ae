"""What the public sees of follow-up (server/office/followup_publish.py, followup_public.py):
only items staff marked public; of their history the status changes always and a post's
text only once staff approved it; approval and withdrawal audited, a double click writes
once, a post of another item or an unknown item refused with nothing written; the page's
read groups by meeting, counts, marks 逾期 from the China date and places each item on the
four steps. tests/test_followup_public_postgres.py runs these again on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.settings import Settings
from server.office import followup, followup_posts, followup_public, followup_publish
from server.office import followup_rules as rules
from server.office.meeting_forms import Invalid
from server.storage import models as m
from tests.test_followup import ACTOR, DEVICE, add_organ, decide, digest, now_ms
from tests.test_meetings_admin import run

WHO: dict[str, Any] = {"actor": ACTOR, "device": DEVICE}


async def body_of(conn: AsyncConnection, meeting_id: int) -> int:
    stmt = select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id)
    return int((await conn.execute(stmt)).scalar_one())


async def items_of(conn: AsyncConnection) -> list[int]:
    fi = m.followup_items
    return [int(i) for i in await conn.scalars(select(fi.c.id).order_by(fi.c.id))]


async def organ_post(conn: AsyncConnection, item_id: int, organ_id: int, text: str, at_ms: int) -> int:
    """An organ's progress post, as the organ's page writes it (kind "progress")."""
    p = m.followup_posts
    stmt = (
        insert(p)
        .values(item_id=item_id, kind="progress", text=text, author="住建局", organ_id=organ_id, at_ms=at_ms)
        .returning(p.c.id)
    )
    return int((await conn.execute(stmt)).scalar_one())


async def audit_actions(conn: AsyncConnection) -> list[str]:
    a = m.audit
    stmt = select(a.c.action).where(a.c.action.in_(followup_publish_actions())).order_by(a.c.id)
    return list(await conn.scalars(stmt))


def followup_publish_actions() -> tuple[str, ...]:
    return ("followup_public", "followup_post_approved", "followup_post_withdrawn")


def test_publishing_and_approval_are_audited_checked_and_written_once(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        await decide(conn, meeting_id)
        first, second, *_ = await items_of(conn)
        body_id = await body_of(conn, meeting_id)
        organ = await add_organ(conn, body_id, "住建局")
        post = await organ_post(conn, first, organ, "已完成选址", now_ms())
        other = await organ_post(conn, second, organ, "别的事项的进展", now_ms())
        before = await digest(conn)
        with pytest.raises(Invalid, match="找不到这个督办事项"):
            await followup_publish.set_public(conn, 999_999, True, **WHO)
        with pytest.raises(Invalid, match="不属于这个督办事项"):
            await followup_publish.approve_post(conn, first, other, now_ms=now_ms(), **WHO)
        with pytest.raises(Invalid, match="不属于这个督办事项"):
            await followup_publish.withdraw_post(conn, first, 999_999, **WHO)
        assert await digest(conn) == before and await audit_actions(conn) == []

        assert await followup_publish.set_public(conn, first, True, **WHO) == (body_id, True)
        assert await followup_publish.set_public(conn, first, True, **WHO) == (body_id, False)  # twice
        at = now_ms()
        assert await followup_publish.approve_post(conn, first, post, now_ms=at, **WHO) == (body_id, True)
        again = await followup_publish.approve_post(
            conn, first, post, now_ms=at + 5, actor="staff:x", device="d"
        )
        assert again == (body_id, False)  # the first approver stays
        p = m.followup_posts
        row = (await conn.execute(select(p).where(p.c.id == post))).one()
        assert (row.public_approved, row.approved_by, row.approved_at_ms) == (True, "chair", at)
        assert await followup_publish.withdraw_post(conn, first, post, **WHO) == (body_id, True)
        assert await followup_publish.withdraw_post(conn, first, post, **WHO) == (body_id, False)
        row = (await conn.execute(select(p).where(p.c.id == post))).one()
        assert (row.public_approved, row.approved_by, row.approved_at_ms) == (False, "", None)
        assert await followup_publish.set_public(conn, first, False, **WHO) == (body_id, True)
        assert await audit_actions(conn) == [
            "followup_public",
            "followup_post_approved",
            "followup_post_withdrawn",
            "followup_public",
        ]
        a = m.audit
        entries = list(
            (await conn.execute(select(a).where(a.c.action.in_(followup_publish_actions())))).all()
        )
        assert all(e.actor == ACTOR and e.body_id == body_id for e in entries)
        assert '"approved_by": "chair"' in entries[2].detail  # whose approval was withdrawn

    run(settings.database_url, fn)


def test_the_public_read_shows_published_items_status_changes_and_approved_text_only(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        await decide(conn, meeting_id)
        first, second, third, hidden = await items_of(conn)
        body_id = await body_of(conn, meeting_id)
        day = today()
        organ, helper = await add_organ(conn, body_id, "住建局"), await add_organ(conn, body_id, "交通局")
        await followup.set_organs(conn, first, organ, [helper], **WHO)
        await followup.add_commitment(conn, first, "年底前新增停车位 200 个", now_ms=now_ms(), **WHO)
        t0 = now_ms()
        approved = await organ_post(conn, first, organ, "已完成选址", t0)
        await organ_post(conn, first, organ, "内部草稿，未经审核", t0 + 1)
        common: dict[str, Any] = {"author": "chair", **WHO}
        await followup.change_status(
            conn, first, rules.REPLIED, text="答复正文未批准", reply_class="B", now_ms=t0 + 2, **common
        )
        await followup.change_status(
            conn, third, rules.REPLIED, text="", reply_class="A", now_ms=t0, **common
        )
        await followup.change_status(conn, third, rules.CLOSED, text="", now_ms=t0 + 3, **common)
        fi = m.followup_items
        await conn.execute(update(fi).where(fi.c.id == second).values(reply_due=day - dt.timedelta(days=3)))
        for item_id in (first, second, third):
            await followup_publish.set_public(conn, item_id, True, **WHO)
        await followup_publish.approve_post(conn, first, approved, now_ms=now_ms(), **WHO)

        board = await followup_public.public_board(conn, body_id, day)
        assert board is not None and board.today == day
        c = followup_public.counts(board.groups)
        assert (c.total, c.closed, c.open, c.overdue) == (3, 1, 2, 1)
        assert len(board.groups) == 1 and board.groups[0].meeting_id == meeting_id
        shown = {i.id: i for i in board.groups[0].items}
        assert set(shown) == {first, second, third} and hidden not in shown
        one = shown[first]
        assert (one.lead, one.assisting, one.commitments) == (
            "住建局",
            ("交通局",),
            ("年底前新增停车位 200 个",),
        )
        assert one.asker and one.respondent and one.groups  # as announced in the hall
        assert (one.step, one.status_name, one.reply_class) == (2, "已答复", "B")
        # The approved post with its organ and text; the reply's change without its text;
        # the draft not at all.
        assert [(p.change, p.text, p.source) for p in one.posts] == [
            ("", "已完成选址", "住建局"),
            ("已答复（B 类）", "", ""),
        ]
        late = shown[second]
        assert late.overdue and late.late_days == 3 and late.step == 1 and late.posts == ()
        done = shown[third]
        assert done.step == 3 and [p.change for p in done.posts] == ["已答复（A 类）", "已办结"]
        # Withdrawn: the text leaves; taken off the page: the item leaves.
        await followup_publish.withdraw_post(conn, first, approved, **WHO)
        await followup_publish.set_public(conn, third, False, **WHO)
        board = await followup_public.public_board(conn, body_id, day)
        assert board is not None and board.total == 2
        assert [p.text for p in board.groups[0].items[0].posts] == [""]
        assert await followup_public.public_board(conn, 999_999, day) is None

    run(settings.database_url, fn)


def test_items_by_hand_are_grouped_after_the_meetings_and_redo_is_the_second_step(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        body_id = await body_of(conn, meeting_id)
        day = today()
        common: dict[str, Any] = {**WHO, "now_ms": now_ms()}
        loose = await followup.create_item(conn, body_id, title="专题询问意见", assigned_on=day, **common)
        inside = await followup.create_item(
            conn, body_id, title="会上的问题", assigned_on=day, meeting_id=meeting_id, **common
        )
        await followup.change_status(
            conn, inside, rules.REPLIED, text="", reply_class="C", author="chair", **common
        )
        await followup.change_status(conn, inside, rules.REDO, text="代表不满意", author="chair", **common)
        for item_id in (loose, inside):
            await followup_publish.set_public(conn, item_id, True, **WHO)
        board = await followup_public.public_board(conn, body_id, day)
        assert board is not None
        assert [g.meeting_id for g in board.groups] == [meeting_id, None]
        assert board.groups[1].title == "其他督办事项"
        redo = board.groups[0].items[0]
        assert (redo.status, redo.step) == (rules.REDO, 1)
        assert [p.change for p in redo.posts] == ["已答复（C 类）", "重新办理"]
        assert all(p.text == "" for p in redo.posts)  # the deputies' reason is not approved

    run(settings.database_url, fn)


def test_the_commands_demo_is_public_with_approved_posts(settings: Settings, meeting_id: int) -> None:
    from server.office.followup_demo import load_followup_demo

    async def fn(conn: AsyncConnection) -> None:
        await load_followup_demo(conn)
        board = await followup_public.public_board(conn, await body_of(conn, meeting_id), today())
        assert board is not None
        c = followup_public.counts(board.groups)
        assert (c.total, c.closed, c.overdue) == (5, 1, 1)
        closed = next(i for g in board.groups for i in g.items if i.status == rules.CLOSED)
        assert [bool(p.text) for p in closed.posts] == [True, True]
        # The second session's two items: the organ's progress and reply, both approved.
        asked = [i for g in board.groups for i in g.items if i.status == rules.REPLIED]
        assert len(asked) == 2 and all([bool(p.text) for p in i.posts] == [True, True] for i in asked)
        actions = await audit_actions(conn)
        assert actions.count("followup_public") == 5 and actions.count("followup_post_approved") == 6

    run(settings.database_url, fn)


def test_the_public_history_runs_by_the_day_of_the_work(settings: Settings, meeting_id: int) -> None:
    """Progress typed today about earlier work stands at the day of that work; other posts
    at the day they were posted; one day keeps posting order."""

    async def fn(conn: AsyncConnection) -> None:
        await decide(conn, meeting_id)
        first = (await items_of(conn))[0]
        body_id = await body_of(conn, meeting_id)
        organ = await add_organ(conn, body_id, "住建局")
        await followup.set_organs(conn, first, organ, [], **WHO)
        t0, day = now_ms(), today()
        by: dict[str, Any] = {"organ_id": organ, "today": day, "author": "", "on_behalf": False, **WHO}

        async def progress(text: str, back: int, at_ms: int) -> None:
            post_id = await followup_posts.post_progress(
                conn, first, text=text, done_on=day - dt.timedelta(days=back), now_ms=at_ms, **by
            )
            await followup_publish.approve_post(conn, first, post_id, now_ms=at_ms, **WHO)

        await progress("今天完成验收", 0, t0)
        common: dict[str, Any] = {"author": "chair", **WHO}
        await followup.change_status(
            conn, first, rules.REPLIED, text="", reply_class="A", now_ms=t0 + 1, **common
        )
        await progress("上月完成测量", 25, t0 + 2)
        await progress("上周完成施工", 6, t0 + 3)
        await progress("今天整理资料", 0, t0 + 4)
        await followup_publish.set_public(conn, first, True, **WHO)
        board = await followup_public.public_board(conn, body_id, day)
        assert board is not None
        (item,) = [i for g in board.groups for i in g.items]
        assert [(p.day, p.text or p.change) for p in item.posts] == [
            (day - dt.timedelta(days=25), "上月完成测量"),
            (day - dt.timedelta(days=6), "上周完成施工"),
            (day, "今天完成验收"),
            (day, "已答复（A 类）"),
            (day, "今天整理资料"),
        ]

    run(settings.database_url, fn)
