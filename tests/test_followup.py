"""Follow-up (督办) in the office (server/office/followup.py, followup_reads.py): items only
from a recorded 交办 decision (or by hand), the reply deadline from the 交办 day, a reason for
every question not made an item, organs (one lead, known ones only), commitments, status
changes with their history and audit entry, the board's counts, order and filters. Bad
input is refused in Chinese and changes nothing. tests/test_followup_postgres.py runs these
again on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.settings import Settings
from server.office import followup, followup_reads
from server.office import followup_rules as rules
from server.office.meeting_forms import Invalid
from server.storage import models as m
from tests.test_meetings_admin import run

ACTOR, DEVICE = "staff:chair", "test"
TABLES = (
    m.followup_decisions,
    m.followup_items,
    m.followup_item_organs,
    m.followup_commitments,
    m.followup_posts,
    m.followup_closed_questions,
    m.organs,
    m.audit,
)


def now_ms() -> int:
    return int(time.time() * 1000)


async def question_ids(conn: AsyncConnection, meeting_id: int) -> list[int]:
    q = m.questions
    return [
        int(i)
        for i in await conn.scalars(select(q.c.id).where(q.c.meeting_id == meeting_id).order_by(q.c.position))
    ]


async def digest(conn: AsyncConnection) -> str:
    h = hashlib.sha256()
    for table in TABLES:
        for row in await conn.execute(select(table).order_by(*table.primary_key.columns)):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


async def decide(conn: AsyncConnection, meeting_id: int, **change: Any) -> int:
    """The demo meeting's decision: the first four questions become items (the first is
    重点督办), the last two are closed with a reason."""
    qs = await question_ids(conn, meeting_id)
    args: dict[str, Any] = {
        "organ": "主席团",
        "decided_on": dt.date(2026, 11, 30),
        "document_no": "某政办〔2026〕12号",
        "reply_months": 3,
        "chosen": qs[:4],
        "priority": qs[:1],
        "reasons": {qs[4]: "已在会上答复清楚", qs[5]: "与第一个问题合并督办"},
        "actor": ACTOR,
        "device": DEVICE,
        "now_ms": now_ms(),
    }
    args.update(change)
    return await followup.record_decision(conn, meeting_id, **args)


async def add_organ(conn: AsyncConnection, body_id: int, name: str) -> int:
    o = m.organs
    stmt = insert(o).values(body_id=body_id, name=name, created_at_ms=now_ms()).returning(o.c.id)
    return int((await conn.execute(stmt)).scalar_one())


def test_a_decision_makes_items_of_the_chosen_questions_and_closes_the_others(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        qs = await question_ids(conn, meeting_id)
        fi = m.followup_items
        assert (await conn.execute(select(fi))).first() is None  # nothing before the decision
        decision_id = await decide(conn, meeting_id)
        items = list((await conn.execute(select(fi).order_by(fi.c.id))).all())
        assert [i.question_id for i in items] == qs[:4]
        assert all(i.decision_id == decision_id for i in items)
        assert [i.priority for i in items] == [True, False, False, False]
        # 11-30 + 3 months: February has no 30th, so its last day.
        assert {i.reply_due for i in items} == {dt.date(2027, 2, 28)}
        assert {i.assigned_on for i in items} == {dt.date(2026, 11, 30)}
        assert {i.status for i in items} == {rules.HANDLING}
        first = items[0]
        assert first.asker and first.groups and first.respondent  # the snapshot of the question
        _, closed = await followup_reads.decided(conn, decision_id)
        assert [c.reason for c in closed] == ["已在会上答复清楚", "与第一个问题合并督办"]
        entry = (await conn.execute(select(m.audit).where(m.audit.c.action == "followup_decided"))).one()
        assert entry.meeting_id == meeting_id and "主席团" in entry.detail and entry.actor == ACTOR

    run(settings.database_url, fn)


def test_bad_decisions_are_refused_in_chinese_and_change_nothing(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        qs = await question_ids(conn, meeting_id)
        before = await digest(conn)
        refusals = [
            ({"reply_months": 7}, "1 至 6 个月"),
            ({"reply_months": 0}, "1 至 6 个月"),
            ({"reasons": {qs[4]: "已答复"}}, "须写明理由"),  # the sixth question has none
            ({"reasons": {qs[4]: "理由", qs[5]: "  "}}, "须写明理由"),
            ({"priority": [qs[5]]}, "重点督办的问题须同时选为督办事项"),
            ({"chosen": [*qs, 999_999]}, "不是这次会议的问题"),
            ({"organ": " "}, "作出交办决定的机构"),
            ({"document_no": ""}, "交办文号"),
        ]
        for change, message in refusals:
            with pytest.raises(Invalid) as bad:
                await decide(conn, meeting_id, **change)
            assert message in "".join(bad.value.errors.values()), change
        assert await digest(conn) == before
        await decide(conn, meeting_id)
        after = await digest(conn)
        with pytest.raises(Invalid, match="已经记录了交办决定"):
            await decide(conn, meeting_id)
        await conn.execute(update(m.meetings).where(m.meetings.c.id == meeting_id).values(rehearsal=True))
        await conn.execute(m.followup_items.delete())
        await conn.execute(m.followup_closed_questions.delete())
        await conn.execute(m.followup_decisions.delete())
        with pytest.raises(Invalid, match="彩排不交办"):
            await decide(conn, meeting_id)
        assert after != before

    run(settings.database_url, fn)


def test_an_item_by_hand_has_no_decision_and_is_checked(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        body_id = int(
            (
                await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
            ).scalar_one()
        )
        before = await digest(conn)
        for change, message in [
            ({"title": ""}, "标题"),
            ({"reply_months": 9}, "1 至 6 个月"),
            ({"meeting_id": 999_999}, "找不到这次会议"),
        ]:
            args: dict[str, Any] = {
                "title": "专题询问意见：农贸市场改造",
                "assigned_on": dt.date(2026, 5, 31),
            }
            args.update(change)
            with pytest.raises(Invalid) as bad:
                await followup.create_item(conn, body_id, actor=ACTOR, device=DEVICE, now_ms=now_ms(), **args)
            assert message in "".join(bad.value.errors.values())
        assert await digest(conn) == before
        item_id = await followup.create_item(
            conn, body_id, title="书面答复：村道亮化", assigned_on=dt.date(2026, 5, 31), reply_months=1,
            actor=ACTOR, device=DEVICE, now_ms=now_ms(),
        )  # fmt: skip
        item = (await conn.execute(select(m.followup_items).where(m.followup_items.c.id == item_id))).one()
        assert item.decision_id is None and item.question_id is None
        assert item.reply_due == dt.date(2026, 6, 30)

    run(settings.database_url, fn)


def test_organs_one_lead_any_assisting_and_only_known_ones(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        await decide(conn, meeting_id)
        item = (await conn.execute(select(m.followup_items).order_by(m.followup_items.c.id))).first()
        assert item is not None
        roads, water, market = [
            await add_organ(conn, item.body_id, n) for n in ("交通局", "水务局", "市场监管局")
        ]
        other_body = int(
            (
                await conn.execute(
                    insert(m.bodies).values(name="别的机构", kind="congress").returning(m.bodies.c.id)
                )
            ).scalar_one()
        )
        foreign = await add_organ(conn, other_body, "别处的交通局")
        before = await digest(conn)
        with pytest.raises(Invalid, match="牵头承办单位"):
            await followup.set_organs(conn, item.id, None, [water], actor=ACTOR, device=DEVICE)
        with pytest.raises(Invalid, match="不在本机构的承办单位名单"):
            await followup.set_organs(conn, item.id, roads, [foreign], actor=ACTOR, device=DEVICE)
        assert await digest(conn) == before
        await followup.set_organs(conn, item.id, roads, [water, market], actor=ACTOR, device=DEVICE)
        await followup.set_organs(conn, item.id, water, [roads], actor=ACTOR, device=DEVICE)  # replaced whole
        view = await followup_reads.item_view(conn, item.id)
        assert view is not None
        assert [(name, lead) for _, name, lead in view.organs] == [("水务局", True), ("交通局", False)]

    run(settings.database_url, fn)


def test_status_changes_follow_the_rules_with_history_and_audit(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        await decide(conn, meeting_id)
        item_id = int(
            (await conn.execute(select(m.followup_items.c.id).order_by(m.followup_items.c.id)))
            .scalars()
            .first()
            or 0
        )
        common: dict[str, Any] = {"author": "chair", "actor": ACTOR, "device": DEVICE}
        await followup.add_commitment(
            conn, item_id, "年内完成农贸市场雨棚改造", now_ms=now_ms(), actor=ACTOR, device=DEVICE
        )
        before = await digest(conn)
        with pytest.raises(Invalid, match="不能从“办理中”改为“已办结”"):
            await followup.change_status(conn, item_id, rules.CLOSED, text="", now_ms=now_ms(), **common)
        with pytest.raises(Invalid, match="答复类别"):
            await followup.change_status(
                conn, item_id, rules.REPLIED, text="已答复", now_ms=now_ms(), **common
            )
        assert await digest(conn) == before
        step = now_ms()
        await followup.change_status(
            conn, item_id, rules.REPLIED, text="书面答复：列入明年计划", reply_class="B", on_behalf=True,
            now_ms=step, **common,
        )  # fmt: skip
        # B stays open: closing it needs a reason; the organ cannot close it at all.
        with pytest.raises(Invalid, match="B 类答复"):
            await followup.change_status(conn, item_id, rules.CLOSED, text="", now_ms=now_ms(), **common)
        with pytest.raises(Invalid, match="只有人大办公室"):
            await followup.change_status(
                conn, item_id, rules.CLOSED, text="理由", who=rules.ORGAN, now_ms=now_ms(), **common
            )
        # 不满意: sent back for 重新办理, then a second reply.
        await followup.change_status(
            conn, item_id, rules.REDO, text="代表不满意：雨棚仍漏水", now_ms=now_ms(), **common
        )
        await followup.change_status(
            conn, item_id, rules.REPLIED, text="已返工", reply_class="A", now_ms=now_ms(), **common
        )
        await followup.change_status(conn, item_id, rules.CLOSED, text="", now_ms=now_ms(), **common)
        view = await followup_reads.item_view(conn, item_id)
        assert view is not None
        assert view.item.status == rules.CLOSED and view.item.reply_class == "A"
        assert [(p.status_from, p.status_to, p.reply_class) for p in view.posts] == [
            ("handling", "replied", "B"),
            ("replied", "redo", None),
            ("redo", "replied", "A"),
            ("replied", "closed", None),
        ]
        first = view.posts[0]
        assert first.author == "chair" and first.on_behalf and first.at_ms == step
        assert [c.text for c in view.commitments] == ["年内完成农贸市场雨棚改造"]
        assert view.moves == []  # closed is final
        actions = list(
            await conn.scalars(select(m.audit.c.action).where(m.audit.c.action.like("followup_%")))
        )
        assert actions.count("followup_status") == 4 and "followup_committed" in actions

    run(settings.database_url, fn)


def test_the_board_counts_orders_and_filters(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        body_id = int(
            (
                await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
            ).scalar_one()
        )
        day = today()
        common: dict[str, Any] = {"actor": ACTOR, "device": DEVICE, "now_ms": now_ms()}

        async def item(title: str, due: dt.date, priority: bool = False) -> int:
            item_id = await followup.create_item(
                conn, body_id, title=title, assigned_on=day, priority=priority, **common
            )
            await conn.execute(
                update(m.followup_items).where(m.followup_items.c.id == item_id).values(reply_due=due)
            )
            return item_id

        later = await item("以后到期", day + dt.timedelta(days=60))
        soon = await item("十天后到期", day + dt.timedelta(days=10), priority=True)
        week = await item("今天到期", day)  # the deadline day: due, not overdue
        late = await item("昨天到期", day - dt.timedelta(days=1))
        done = await item("已办结", day - dt.timedelta(days=30))
        await followup.change_status(
            conn, done, rules.REPLIED, text="答复", reply_class="A", author="chair", **common
        )
        await followup.change_status(conn, done, rules.CLOSED, text="", author="chair", **common)
        organ = await add_organ(conn, body_id, "住建局")
        await followup.set_organs(conn, soon, organ, [], actor=ACTOR, device=DEVICE)

        board = await followup_reads.board(conn, body_id, day, followup_reads.Filters())
        assert [c.id for c in board.cards] == [late, week, soon, later, done]
        assert (board.total, board.closed, board.open, board.overdue, board.within_week) == (5, 1, 4, 1, 1)
        pick = followup_reads.Filters
        assert [
            c.id for c in (await followup_reads.board(conn, body_id, day, pick(priority=True))).cards
        ] == [soon]
        assert [
            c.id for c in (await followup_reads.board(conn, body_id, day, pick(organ_id=organ))).cards
        ] == [soon]
        assert [
            c.id for c in (await followup_reads.board(conn, body_id, day, pick(status="overdue"))).cards
        ] == [late]
        assert [
            c.id for c in (await followup_reads.board(conn, body_id, day, pick(status="closed"))).cards
        ] == [done]
        # Tomorrow the deadline day has passed: computed on request, no flag to set.
        tomorrow = await followup_reads.board(conn, body_id, day + dt.timedelta(days=1), pick())
        assert tomorrow.overdue == 2 and tomorrow.cards[0].id in (late, week)

    run(settings.database_url, fn)


def test_the_commands_demo_shows_one_overdue_one_due_soon_one_closed(
    settings: Settings, meeting_id: int
) -> None:
    """`wenzheng serve --demo` (server/cli/serve.py) adds these; loading twice adds nothing.
    Beside the three hand-made items, the second session's two questions went round the
    loop: organs, progress, a reply, the asker's judgment (one 基本满意, one objection)."""
    from server.office import followup_judgments
    from server.office.followup_demo import load_followup_demo
    from server.office.followup_demo_loop import ORGANS

    async def fn(conn: AsyncConnection) -> None:
        await load_followup_demo(conn)
        await load_followup_demo(conn)
        body_id = int(
            (
                await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
            ).scalar_one()
        )
        board = await followup_reads.board(conn, body_id, today(), followup_reads.Filters())
        assert (board.total, board.closed, board.overdue, board.within_week) == (5, 1, 1, 1)
        assert board.cards[0].overdue and board.cards[1].soon
        closed = board.cards[-1]
        assert (closed.status, closed.reply_class) == (rules.CLOSED, "A")
        assert {name for _, name in board.organs} == {name for name, _, _ in ORGANS}
        assert all(c.lead for c in board.cards), [c.title for c in board.cards if not c.lead]
        asked = [c for c in board.cards if c.meeting_id is not None]
        assert len(asked) == 2 and {c.meeting_id for c in asked} != {meeting_id}  # the second session
        by_class = {c.reply_class: c for c in asked}
        assert {c.status for c in asked} == {rules.REPLIED} and set(by_class) == {"A", "B"}
        p = m.followup_posts
        kinds = {
            c.id: [
                str(k)
                for k in await conn.scalars(select(p.c.kind).where(p.c.item_id == c.id).order_by(p.c.at_ms))
            ]
            for c in asked
        }
        assert all(k == ["progress", "reply"] for k in kinds.values()), kinds
        judged = await followup_judgments.summary(conn, [c.id for c in asked])
        a, b = judged[by_class["A"].id], judged[by_class["B"].id]
        assert (a.basic, a.satisfied, a.dissatisfied, a.objections) == (1, 0, 0, 0)
        assert (b.basic + b.satisfied + b.dissatisfied, b.objections) == (0, 1)
        assert await followup_judgments.objected_items(conn, body_id, open_only=True) == {by_class["B"].id}
        fr = m.followup_reports
        reports = (await conn.execute(select(fr.c.counts).where(fr.c.body_id == body_id))).all()
        assert len(reports) == 1
        assert '"total": 5' in reports[0].counts and '"objected": 1' in reports[0].counts

    run(settings.database_url, fn)
