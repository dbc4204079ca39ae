"""The deputies judge the handling (server/office/followup_deputy.py, followup_judgments.py):
the items of a deputy's own questions (asked or co-proposed), a verdict per reply that can
change while the reply is current, a 不满意 that sends the item back for 重新办理 in the
same transaction (a post by the deputy, audit entries), nothing to judge until the next
reply, a 不同意办结 that makes closing need a written reason, and the counts of
``summary``. Strangers see and judge nothing; bad input changes nothing.
tests/test_followup_deputy_postgres.py runs these again on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.base.settings import Settings
from server.office import followup, followup_deputy, followup_judgments
from server.office import followup_rules as rules
from server.office.meeting_forms import Invalid
from server.storage import models as m
from tests.test_followup import ACTOR, DEVICE, add_organ, decide, now_ms
from tests.test_meetings_admin import run

TABLES = (m.followup_items, m.followup_posts, m.followup_judgments, m.audit)
PHONE = "phone test"


async def digest(conn: AsyncConnection) -> str:
    h = hashlib.sha256()
    for table in TABLES:
        for row in await conn.execute(select(table).order_by(*table.primary_key.columns)):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Cast:
    item_id: int
    other_item: int
    asker: int
    co: int  # co-proposed the item's question
    stranger: int  # a deputy of the body who did neither


async def cast(conn: AsyncConnection, meeting_id: int) -> Cast:
    """The demo meeting's decision (four items); the first item's question gets a
    co-proposer, and a deputy of the body who has nothing to do with it is found."""
    await decide(conn, meeting_id)
    fi, q, sub, d = m.followup_items, m.questions, m.question_submissions, m.deputies
    items = list((await conn.execute(select(fi).order_by(fi.c.id))).all())
    first = items[0]
    question = (await conn.execute(select(q).where(q.c.id == first.question_id))).one()
    askers = {int(a) for a in await conn.scalars(select(q.c.asker_id).where(q.c.meeting_id == meeting_id))}
    others = [
        int(i)
        for i in await conn.scalars(
            select(d.c.id).where(d.c.body_id == first.body_id, d.c.id.not_in(askers)).order_by(d.c.id)
        )
    ]
    co, stranger = others[0], others[1]
    await conn.execute(update(sub).where(sub.c.question_id == first.question_id).values(co_proposers=f"{co}"))
    return Cast(int(first.id), int(items[1].id), int(question.asker_id), co, stranger)


async def reply(conn: AsyncConnection, item_id: int, cls: str = "A", text: str = "已完成雨棚改造") -> None:
    """The organ replies (who=ORGAN), as on its own page."""
    await followup.change_status(
        conn, item_id, rules.REPLIED, text=text, reply_class=cls, who=rules.ORGAN, author="县住建局",
        actor="organ:1", device=DEVICE, now_ms=now_ms(),
    )  # fmt: skip


async def close(conn: AsyncConnection, item_id: int, text: str = "") -> None:
    await followup.change_status(
        conn, item_id, rules.CLOSED, text=text, author="chair", actor=ACTOR, device=DEVICE, now_ms=now_ms()
    )


async def status(conn: AsyncConnection, item_id: int) -> str:
    fi = m.followup_items
    return str((await conn.execute(select(fi.c.status).where(fi.c.id == item_id))).scalar_one())


async def name_of(conn: AsyncConnection, deputy_id: int) -> str:
    return str(
        (await conn.execute(select(m.deputies.c.name).where(m.deputies.c.id == deputy_id))).scalar_one()
    )


async def judge(conn: AsyncConnection, item_id: int, deputy_id: int, verdict: str, text: str = "") -> Any:
    return await followup_deputy.judge(conn, item_id, deputy_id, verdict, text, device=PHONE, now_ms=now_ms())


async def audit_actions(conn: AsyncConnection) -> list[tuple[str, str]]:
    a = m.audit
    return [(r.action, r.actor) for r in await conn.execute(select(a.c.action, a.c.actor).order_by(a.c.id))]


def test_dissatisfied_sends_the_item_back_for_redo_until_the_next_reply(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        c = await cast(conn, meeting_id)
        await reply(conn, c.item_id)
        name = await name_of(conn, c.asker)
        entries = len(await audit_actions(conn))
        moved = await judge(conn, c.item_id, c.asker, rules.DISSATISFIED, "  雨棚仍然漏水  ")
        assert moved == rules.REDO
        assert await status(conn, c.item_id) == rules.REDO
        p = m.followup_posts
        posts = list((await conn.execute(select(p).where(p.c.item_id == c.item_id).order_by(p.c.id))).all())
        last = posts[-1]
        assert (last.kind, last.status_from, last.status_to) == ("status", rules.REPLIED, rules.REDO)
        assert (last.author, last.on_behalf, last.text) == (name, False, "雨棚仍然漏水")
        # Audit: the judgment and the automatic 重新办理, both by the deputy.
        assert (await audit_actions(conn))[entries:] == [
            ("followup_judged", f"deputy:{c.asker}"),
            ("followup_status", f"deputy:{c.asker}"),
        ]
        # 重新办理: nothing to judge (nor to object to) until the organ replies again …
        before = await digest(conn)
        for verdict in (rules.SATISFIED, rules.BASIC):
            with pytest.raises(Invalid, match="没有待评价的答复"):
                await judge(conn, c.item_id, c.asker, verdict)
        with pytest.raises(Invalid, match="没有待评价的答复"):
            await judge(conn, c.item_id, c.co, rules.DISSATISFIED)
        with pytest.raises(Invalid, match="没有待评价的答复"):
            await followup_deputy.object_to_closing(conn, c.item_id, c.asker, "理由", device=PHONE, now_ms=1)
        # … and the asker's phone sending its 不满意 again (a lost answer) changes nothing.
        assert await judge(conn, c.item_id, c.asker, rules.DISSATISFIED) == rules.REDO
        assert await digest(conn) == before
        shown = await followup_deputy.item(conn, c.item_id, c.asker, today())
        assert not shown.judging and shown.status == rules.REDO
        # The second reply is judged afresh: the first reply's judgment is history.
        await reply(conn, c.item_id, "B", "已列入明年计划")
        assert (await followup_judgments.summary(conn, [c.item_id]))[c.item_id] == (
            followup_judgments.JudgmentSummary()
        )
        assert await judge(conn, c.item_id, c.asker, rules.BASIC) is None
        assert await status(conn, c.item_id) == rules.REPLIED
        replies = await followup_judgments.by_reply(conn, c.item_id)
        assert [(r.reply_class, r.current) for r in replies] == [("A", False), ("B", True)]
        assert [(j.deputy, j.verdict, j.reason) for j in replies[0].judgments] == [
            (name, rules.DISSATISFIED, "雨棚仍然漏水")
        ]
        assert [(j.deputy, j.verdict) for j in replies[1].judgments] == [(name, rules.BASIC)]
        # Without words, the 重新办理 post says who and why in a default line.
        await judge(conn, c.item_id, c.co, rules.DISSATISFIED)
        text = (await conn.execute(select(p.c.text).order_by(p.c.id.desc()).limit(1))).scalar_one()
        assert text == f"{await name_of(conn, c.co)}代表对答复不满意，要求重新办理。"

    run(settings.database_url, fn)


def test_satisfied_keeps_the_reply_and_a_judgment_can_change_while_it_is_current(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        c = await cast(conn, meeting_id)
        await reply(conn, c.item_id)
        assert await judge(conn, c.item_id, c.asker, rules.SATISFIED) is None
        assert await status(conn, c.item_id) == rules.REPLIED
        j = m.followup_judgments
        rows = list((await conn.execute(select(j))).all())
        assert [(r.deputy_id, r.verdict, r.objects) for r in rows] == [(c.asker, rules.SATISFIED, False)]
        # The same verdict again (a retry) writes nothing, not even an audit entry.
        before = await digest(conn)
        assert await judge(conn, c.item_id, c.asker, rules.SATISFIED) is None
        assert await digest(conn) == before
        # Changed: still one row for this deputy and reply.
        await judge(conn, c.item_id, c.asker, rules.BASIC)
        rows = list((await conn.execute(select(j))).all())
        assert [(r.deputy_id, r.verdict) for r in rows] == [(c.asker, rules.BASIC)]
        summary = await followup_judgments.summary(conn, [c.item_id, c.other_item])
        assert summary[c.item_id] == followup_judgments.JudgmentSummary(basic=1)
        assert summary[c.other_item] == followup_judgments.JudgmentSummary()  # no reply: zeros
        shown = await followup_deputy.item(conn, c.item_id, c.asker, today())
        assert shown.judging and shown.my_verdict == rules.BASIC
        # Changed to 不满意: now it goes back.
        assert await judge(conn, c.item_id, c.asker, rules.DISSATISFIED) == rules.REDO
        assert await status(conn, c.item_id) == rules.REDO

    run(settings.database_url, fn)


def test_an_objection_blocks_closing_without_a_reason_and_allows_it_with_one(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        c = await cast(conn, meeting_id)
        await reply(conn, c.item_id)
        await judge(conn, c.item_id, c.asker, rules.SATISFIED)
        await followup_deputy.object_to_closing(
            conn, c.item_id, c.asker, "  市场东侧雨棚还没修  ", device=PHONE, now_ms=now_ms()
        )
        j = m.followup_judgments
        row = (await conn.execute(select(j))).one()
        # The verdict stays; the objection is beside it.
        assert (row.verdict, row.objects, row.reason) == (rules.SATISFIED, True, "市场东侧雨棚还没修")
        assert await followup_judgments.objected(conn, c.item_id)
        summary = await followup_judgments.summary(conn, [c.item_id])
        assert summary[c.item_id] == followup_judgments.JudgmentSummary(satisfied=1, objections=1)
        body_id = (await conn.execute(select(m.followup_items.c.body_id))).scalars().first()
        assert await followup_judgments.objected_items(conn, int(body_id or 0)) == {c.item_id}
        before = await digest(conn)
        for text in ("", "   "):
            with pytest.raises(Invalid, match="有代表不同意办结，办结须写明理由"):
                await close(conn, c.item_id, text)
        assert await digest(conn) == before
        # The organ cannot close it either way (only staff close).
        with pytest.raises(Invalid, match="只有人大办公室"):
            await followup.change_status(
                conn, c.item_id, rules.CLOSED, text="理由", who=rules.ORGAN, author="县住建局",
                actor="organ:1", device=DEVICE, now_ms=now_ms(),
            )  # fmt: skip
        await close(conn, c.item_id, "已与代表当面沟通，东侧雨棚纳入明年计划")
        assert await status(conn, c.item_id) == rules.CLOSED
        with pytest.raises(Invalid, match="没有待评价的答复"):
            await judge(conn, c.item_id, c.asker, rules.BASIC)  # closed: nothing to judge

    run(settings.database_url, fn)


def test_a_withdrawn_objection_no_longer_blocks_closing(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        c = await cast(conn, meeting_id)
        await reply(conn, c.item_id)
        common: dict[str, Any] = {"device": PHONE, "now_ms": now_ms()}
        await followup_deputy.object_to_closing(conn, c.item_id, c.co, "还没修好", **common)
        await followup_deputy.withdraw_objection(conn, c.item_id, c.co, **common)
        row = (await conn.execute(select(m.followup_judgments))).one()
        assert (row.verdict, row.objects, row.reason) == (None, False, "")
        assert not await followup_judgments.objected(conn, c.item_id)
        actions = [a for a, _ in await audit_actions(conn)]
        assert actions[-2:] == ["followup_objected", "followup_objection_withdrawn"]
        await close(conn, c.item_id)  # an A reply, no objection: no reason needed
        assert await status(conn, c.item_id) == rules.CLOSED

    run(settings.database_url, fn)


def test_the_co_proposer_sees_and_judges_a_stranger_does_neither(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        c = await cast(conn, meeting_id)
        await reply(conn, c.item_id)
        body_id = int((await conn.execute(select(m.followup_items.c.body_id))).scalars().first() or 0)
        asker_items = await followup_deputy.item_ids(conn, body_id, c.asker)
        assert c.item_id in asker_items and c.other_item not in asker_items
        assert await followup_deputy.item_ids(conn, body_id, c.co) == [c.item_id]
        assert await followup_deputy.item_ids(conn, body_id, c.stranger) == []
        listed = await followup_deputy.items(conn, body_id, c.co, today())
        assert [(i.id, i.judging, i.my_verdict) for i in listed] == [(c.item_id, True, None)]
        await judge(conn, c.item_id, c.co, rules.BASIC)
        before = await digest(conn)
        with pytest.raises(followup_deputy.NotYours):
            await followup_deputy.item(conn, c.item_id, c.stranger, today())
        with pytest.raises(followup_deputy.NotYours):
            await judge(conn, c.item_id, c.stranger, rules.DISSATISFIED)
        with pytest.raises(followup_deputy.NotYours):
            await followup_deputy.object_to_closing(
                conn, c.item_id, c.stranger, "理由", device=PHONE, now_ms=1
            )
        with pytest.raises(followup_deputy.NotYours):  # the asker of another item is a stranger here
            await judge(conn, c.other_item, c.asker, rules.SATISFIED)
        with pytest.raises(Invalid, match="找不到"):
            await followup_deputy.item(conn, 999_999, c.asker, today())
        assert await digest(conn) == before
        assert await status(conn, c.item_id) == rules.REPLIED
        summary = await followup_judgments.summary(conn, [c.item_id])
        assert summary[c.item_id] == followup_judgments.JudgmentSummary(basic=1)

    run(settings.database_url, fn)


def test_an_item_made_by_hand_has_no_deputies_to_judge_it(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        c = await cast(conn, meeting_id)
        body_id = int((await conn.execute(select(m.followup_items.c.body_id))).scalars().first() or 0)
        item_id = await followup.create_item(
            conn,
            body_id,
            title="专题询问意见",
            assigned_on=today(),
            actor=ACTOR,
            device=DEVICE,
            now_ms=now_ms(),
        )
        await reply(conn, item_id)
        with pytest.raises(followup_deputy.NotYours):
            await judge(conn, item_id, c.asker, rules.SATISFIED)
        assert item_id not in await followup_deputy.item_ids(conn, body_id, c.asker)

    run(settings.database_url, fn)


def test_bad_input_is_refused_in_chinese_and_changes_nothing(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        c = await cast(conn, meeting_id)
        before = await digest(conn)
        with pytest.raises(Invalid, match="没有待评价的答复"):  # 办理中: no reply yet
            await judge(conn, c.item_id, c.asker, rules.SATISFIED)
        await reply(conn, c.item_id)
        before = await digest(conn)
        common: dict[str, Any] = {"device": PHONE, "now_ms": now_ms()}
        for verdict in ("", "great", "满意"):
            with pytest.raises(Invalid, match="请选择满意、基本满意或不满意"):
                await judge(conn, c.item_id, c.asker, verdict)
        with pytest.raises(Invalid, match="不超过 500 个字"):
            await judge(conn, c.item_id, c.asker, rules.DISSATISFIED, "字" * 501)
        for reason in ("", "  ", "字" * 501):
            with pytest.raises(Invalid, match="不同意办结的理由"):
                await followup_deputy.object_to_closing(conn, c.item_id, c.asker, reason, **common)
        with pytest.raises(Invalid, match="您没有对这次答复提出不同意办结"):
            await followup_deputy.withdraw_objection(conn, c.item_id, c.asker, **common)
        assert await digest(conn) == before
        assert await status(conn, c.item_id) == rules.REPLIED
        # The limit itself is allowed.
        await followup_deputy.object_to_closing(conn, c.item_id, c.asker, "字" * 500, **common)

    run(settings.database_url, fn)


def test_the_deputys_view_has_organs_commitments_posts_in_order_and_attachment_names(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        c = await cast(conn, meeting_id)
        fi = m.followup_items
        body_id = int((await conn.execute(select(fi.c.body_id).where(fi.c.id == c.item_id))).scalar_one())
        lead, other = await add_organ(conn, body_id, "县住建局"), await add_organ(conn, body_id, "县财政局")
        await followup.set_organs(conn, c.item_id, lead, [other], actor=ACTOR, device=DEVICE)
        await followup.add_commitment(
            conn, c.item_id, "年内完成雨棚改造", actor=ACTOR, device=DEVICE, now_ms=1
        )
        # Overdue while it waits for the reply: the deadline was yesterday.
        yesterday = today() - dt.timedelta(days=1)
        await conn.execute(update(fi).where(fi.c.id == c.item_id).values(reply_due=yesterday))
        shown = await followup_deputy.item(conn, c.item_id, c.asker, today())
        assert shown.overdue and not shown.judging and shown.posts == ()
        await reply(conn, c.item_id)
        p = m.followup_posts
        reply_id = int((await conn.execute(select(p.c.id).where(p.c.item_id == c.item_id))).scalar_one())
        await conn.execute(
            insert(m.followup_attachments).values(
                post_id=reply_id, filename="答复函.pdf", mime="application/pdf", size=4, sha256="0" * 64,
                data=b"%PDF",
            )
        )  # fmt: skip
        shown = await followup_deputy.item(conn, c.item_id, c.asker, today())
        assert (shown.lead, shown.assisting, shown.commitments) == (
            "县住建局",
            ("县财政局",),
            ("年内完成雨棚改造",),
        )
        assert not shown.overdue  # replied: no longer waiting
        assert [(x.kind, x.text, x.author, x.attachments) for x in shown.posts] == [
            ("reply", "已完成雨棚改造", "县住建局", ("答复函.pdf",))
        ]
        assert shown.judging and shown.current_reply == shown.posts[0]
        await judge(conn, c.item_id, c.asker, rules.DISSATISFIED, "东侧漏雨")
        shown = await followup_deputy.item(conn, c.item_id, c.asker, today())
        assert [x.kind for x in shown.posts] == ["reply", "status"]  # in order
        assert shown.overdue  # back to waiting, and the deadline has passed

    run(settings.database_url, fn)
