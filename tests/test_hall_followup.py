"""From the hall into follow-up, in the office: 承诺事项 typed per question
(server/office/question_commitments.py) and copied by the 交办 decision into the items;
what the hall did with each question, read from the meeting's event log, and the rating
line an item keeps (counts, 满意率, 等次 under the meeting's rule, or 未测评); written answers
(书面答复) as an item's first post (server/office/followup_hall.py). Bad input is refused
in Chinese and changes nothing. tests/test_hall_followup_postgres.py runs these again on
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from fractions import Fraction

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from live.events import QuestionCalled, RatingClosed, to_record
from live.rules import grade
from live.setup import BodyKind, Denominator, RatingRule
from live.state import Choice, Ungraded
from server.base.days import CHINA
from server.base.settings import Settings
from server.office import followup, followup_hall, question_commitments
from server.office.meeting_forms import Invalid
from server.storage import models as m
from server.storage.store import settings_from_json, settings_to_json
from tests.test_followup import ACTOR, DEVICE, decide, digest, now_ms, question_ids
from tests.test_meetings_admin import run

TABLES = (m.question_commitments, m.followup_commitments, m.followup_posts, m.followup_items, m.audit)


async def lines_of(conn: AsyncConnection) -> list[tuple[int, str, str]]:
    qc = m.question_commitments
    rows = await conn.execute(select(qc.c.question_id, qc.c.text, qc.c.recorded_by).order_by(qc.c.id))
    return [(int(q), str(t), str(b)) for q, t, b in rows]


async def add(conn: AsyncConnection, meeting_id: int, question_id: int, text: str, at: int = 0) -> int:
    return await question_commitments.add(
        conn, meeting_id, question_id, text, actor=ACTOR, device=DEVICE, now_ms=at or now_ms()
    )


async def log(conn: AsyncConnection, meeting_id: int, *events: object) -> None:
    """Events as the hall's runtime would have appended them."""
    ev = m.events
    seq = int(
        (
            await conn.execute(
                select(ev.c.seq).where(ev.c.meeting_id == meeting_id).order_by(ev.c.seq.desc())
            )
        ).scalar()
        or 0
    )
    for event in events:
        seq += 1
        name, data = to_record(event)  # type: ignore[arg-type]
        await conn.execute(
            ev.insert().values(
                meeting_id=meeting_id,
                seq=seq,
                type=name,
                data=json.dumps(data),
                actor="chair:chair",
                created_ms=now_ms(),
            )
        )


def closed(
    question_id: int, counts: dict[Choice, int], rule: RatingRule, members: int, present: int, **kw: bool
) -> RatingClosed:
    """The RatingClosed the hall's close would write, graded by live/rules.py."""
    r = grade(question_id, counts, rule, members, present, **kw)
    return RatingClosed(
        question_id,
        r.count(Choice.SATISFIED),
        r.count(Choice.BASIC),
        r.count(Choice.DISSATISFIED),
        r.base,
        r.grade,
        r.ungraded,
        r.quorum,
    )


def test_commitments_typed_per_question_are_checked_audited_and_removable(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        qs = await question_ids(conn, meeting_id)
        first = await add(conn, meeting_id, qs[0], "  年底前完成\r\n雨棚改造  ")
        await add(conn, meeting_id, qs[0], "每季度通报进度")
        await add(conn, meeting_id, qs[2], "三个月内答复")
        assert await lines_of(conn) == [
            (qs[0], "年底前完成 雨棚改造", "chair"),  # one line: a pasted break becomes a space
            (qs[0], "每季度通报进度", "chair"),
            (qs[2], "三个月内答复", "chair"),
        ]
        mine = await question_commitments.of_question(conn, meeting_id, qs[0])
        assert [c.text for c in mine] == ["年底前完成 雨棚改造", "每季度通报进度"]
        a = m.audit
        entry = (
            await conn.execute(select(a).where(a.c.action == "question_committed").order_by(a.c.id))
        ).first()
        assert entry is not None and entry.meeting_id == meeting_id and "年底前完成" in entry.detail
        before = await digest_of(conn)
        for text, wanted in (
            ("", "请填写承诺事项"),
            ("   ", "请填写承诺事项"),
            ("长" * 301, "不超过 300 个字"),
        ):
            with pytest.raises(Invalid) as bad:
                await add(conn, meeting_id, qs[0], text)
            assert wanted in bad.value.errors["commitment"]
        with pytest.raises(Invalid) as bad:  # a question of no such meeting
            await add(conn, meeting_id + 1000, qs[0], "承诺")
        assert "不属于这次会议" in bad.value.errors["question"]
        with pytest.raises(Invalid):  # a line of another question is not this one's to delete
            await question_commitments.remove(conn, meeting_id, qs[1], first, actor=ACTOR, device=DEVICE)
        assert await digest_of(conn) == before
        assert len("长" * 300) == 300 and await add(conn, meeting_id, qs[1], "长" * 300)  # the limit itself
        await question_commitments.remove(conn, meeting_id, qs[0], first, actor=ACTOR, device=DEVICE)
        assert [t for _, t, _ in await lines_of(conn)] == ["每季度通报进度", "三个月内答复", "长" * 300]
        gone = (await conn.execute(select(a).where(a.c.action == "question_commitment_removed"))).one()
        assert "年底前完成 雨棚改造" in gone.detail and gone.actor == ACTOR  # the trail keeps what it said
        with pytest.raises(Invalid) as bad:
            await question_commitments.remove(conn, meeting_id, qs[0], first, actor=ACTOR, device=DEVICE)
        assert "已不存在" in bad.value.errors["commitment"]

    run(settings.database_url, fn)


async def digest_of(conn: AsyncConnection) -> str:
    return await digest(conn) + str(
        [tuple(r) for t in TABLES for r in await conn.execute(select(t).order_by(*t.primary_key.columns))]
    )


def test_the_decision_copies_each_chosen_questions_commitments_into_its_item(
    settings: Settings, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> None:
        qs = await question_ids(conn, meeting_id)
        await add(conn, meeting_id, qs[0], "年底前完成改造", at=1_700_000_000_000)
        await add(conn, meeting_id, qs[0], "每月通报", at=1_700_000_000_001)
        await add(
            conn, meeting_id, qs[5], "不列入的问题的承诺"
        )  # closed by the decision: stays with the question
        await decide(conn, meeting_id)
        fi, fc = m.followup_items, m.followup_commitments
        items = dict((await conn.execute(select(fi.c.question_id, fi.c.id))).all())
        copied = (
            await conn.execute(
                select(fc.c.item_id, fc.c.text, fc.c.recorded_by, fc.c.at_ms).order_by(fc.c.id)
            )
        ).all()
        assert [tuple(r) for r in copied] == [
            (items[qs[0]], "年底前完成改造", "chair", 1_700_000_000_000),
            (items[qs[0]], "每月通报", "chair", 1_700_000_000_001),
        ]
        # Once decided, the question's lines are the decision's: they change on the item now.
        before = await digest_of(conn)
        with pytest.raises(Invalid) as bad:
            await add(conn, meeting_id, qs[1], "晚到的承诺")
        assert "已记录交办决定" in bad.value.errors["commitment"]
        first = (await question_commitments.of_question(conn, meeting_id, qs[0]))[0]
        with pytest.raises(Invalid):
            await question_commitments.remove(conn, meeting_id, qs[0], first.id, actor=ACTOR, device=DEVICE)
        assert await digest_of(conn) == before

    run(settings.database_url, fn)


def test_the_hall_record_and_the_graded_rating_line_of_each_item(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        qs = await question_ids(conn, meeting_id)
        # The meeting grades over those present (实到), not the default 应到.
        mt = m.meetings
        raw = (await conn.execute(select(mt.c.settings).where(mt.c.id == meeting_id))).scalar_one()
        body_kind = (
            await conn.execute(
                select(m.bodies.c.kind).join(mt, mt.c.body_id == m.bodies.c.id).where(mt.c.id == meeting_id)
            )
        ).scalar_one()
        s = settings_from_json(raw, BodyKind(body_kind))
        rule = RatingRule(Denominator.PRESENT, Fraction(1, 2), Fraction(1, 2))
        await conn.execute(
            update(mt)
            .where(mt.c.id == meeting_id)
            .values(settings=settings_to_json(replace(s, rating_rule=rule)))
        )
        sat = {Choice.SATISFIED: 21, Choice.BASIC: 15, Choice.DISSATISFIED: 4}
        # 21 of 40 present reach half: 满意 over 实到 (over 应到 48 it would be 基本满意).
        await log(
            conn,
            meeting_id,
            QuestionCalled(qs[0]),
            closed(qs[0], sat, rule, members=48, present=40),
            QuestionCalled(qs[1]),
            closed(
                qs[1],
                {Choice.SATISFIED: 5, Choice.BASIC: 2, Choice.DISSATISFIED: 1},
                rule,
                48,
                30,
                quorum=False,
            ),
            QuestionCalled(qs[2]),  # asked, the rating never opened
            closed(-1, sat, rule, 48, 40),  # an agenda item's rating: no question's
        )
        hall = await followup_hall.hall_of(conn, meeting_id)
        assert hall.rule == rule
        assert [hall.of(q).label for q in qs[:4]] == [
            "会上已提问、已测评",
            "会上已提问、已测评",
            "会上已提问，未测评",
            "会上未轮到",
        ]
        assert [hall.of(q).reached for q in qs] == [True, True, True, False, False, False]
        assert hall.of(qs[0]).result is not None and hall.of(qs[0]).result.grade is Choice.SATISFIED
        await decide(conn, meeting_id)
        fi = m.followup_items
        texts = dict((await conn.execute(select(fi.c.question_id, fi.c.rating_text))).all())
        assert (
            texts[qs[0]]
            == "测评：满意 21，基本满意 15，不满意 4；满意率 52.5%（以实到人数 40 为基数）；等次：满意"
        )
        assert texts[qs[1]].startswith(
            "测评：满意 5，基本满意 2，不满意 1；满意率 16.7%（以实到人数 30 为基数）；等次：不评定等次"
        )
        assert "仅供参考" in texts[qs[1]]
        assert texts[qs[2]] == texts[qs[3]] == "未测评"

    run(settings.database_url, fn)


def test_the_rating_line_follows_the_rule_and_says_when_there_is_no_grade() -> None:
    members = RatingRule()  # the published district rule: half of all members
    counts = {Choice.SATISFIED: 21, Choice.BASIC: 15, Choice.DISSATISFIED: 4}
    r = grade(7, counts, members, members=48, present=40)
    assert followup_hall.rating_text(r, members) == (
        "测评：满意 21，基本满意 15，不满意 4；满意率 43.8%（以应到人数 48 为基数）；等次：基本满意"
    )
    few = RatingRule(min_ballots=10)
    r = grade(7, {Choice.SATISFIED: 3}, few, members=48, present=40)
    assert r.ungraded is Ungraded.TOO_FEW
    assert followup_hall.rating_text(r, few).endswith(
        "等次：无有效评价（有效票 3 张，少于本次会议规定的 10 张）"
    )
    assert followup_hall.rating_text(None, members) == "未测评"


def test_written_answers_become_the_first_post_of_their_items(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        qs = await question_ids(conn, meeting_id)
        fp = m.followup_posts
        before = await digest_of(conn)
        refusals = [
            ({qs[4]: ("县住建局", "已列入计划")}, "请把"),  # qs[4] is not made an item by decide()
            ({qs[-1] + 100: ("县住建局", "已列入计划")}, "不是这次会议的问题"),
            ({qs[1]: ("县住建局", "答" * 5001)}, "不超过 5000 个字"),
            ({qs[1]: ("  ", "已列入计划")}, "答复人或答复单位"),
            ({qs[1]: ("局" * 65, "已列入计划")}, "答复人或答复单位"),
        ]
        for answers, wanted in refusals:
            with pytest.raises(Invalid) as bad:
                await decide(conn, meeting_id, answers=answers)
            assert wanted in bad.value.errors["answers"], answers
            assert await digest_of(conn) == before
        answers = {
            qs[1]: (" 县住建局 ", "一、已完成排查。\r\n二、明年三月前完工。"),
            qs[2]: ("县交通局", "答" * 5000),  # the limit itself
            qs[3]: ("县水务局", "   "),  # blank: nothing to keep
            qs[5]: ("", ""),  # not an item, but blank: fine
        }
        await decide(conn, meeting_id, answers=answers)
        fi = m.followup_items
        items = dict((await conn.execute(select(fi.c.question_id, fi.c.id))).all())
        posts = (await conn.execute(select(fp).order_by(fp.c.id))).all()
        assert [(p.item_id, p.kind, p.author) for p in posts] == [
            (items[qs[1]], "answer", "县住建局"),
            (items[qs[2]], "answer", "县交通局"),
        ]
        assert posts[0].text == "一、已完成排查。\n二、明年三月前完工。" and not posts[0].on_behalf
        day = dt.datetime.fromtimestamp(posts[0].at_ms / 1000, CHINA)
        assert (day.date(), day.hour, day.minute) == (dt.date(2026, 11, 30), 0, 0)  # the 交办 day
        entry = (
            await conn.execute(select(m.audit.c.detail).where(m.audit.c.action == "followup_decided"))
        ).scalar_one()
        assert json.loads(entry)["written_answers"] == 2

    run(settings.database_url, fn)


def test_an_item_by_hand_takes_an_optional_written_answer(settings: Settings, meeting_id: int) -> None:
    async def fn(conn: AsyncConnection) -> None:
        body_id = int(
            (
                await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
            ).scalar_one()
        )
        common = {"assigned_on": dt.date(2026, 5, 4), "actor": ACTOR, "device": DEVICE, "now_ms": now_ms()}
        before = await digest_of(conn)
        for answer, by in (("答" * 5001, "县住建局"), ("已答复", "")):
            with pytest.raises(Invalid):
                await followup.create_item(
                    conn, body_id, title="书面答复：村道亮化", answer=answer, answer_by=by, **common
                )
            assert await digest_of(conn) == before
        plain = await followup.create_item(conn, body_id, title="专题询问意见", **common)
        answered = await followup.create_item(
            conn,
            body_id,
            title="书面答复：村道亮化",
            answer="已安装路灯 120 盏。",
            answer_by="县住建局",
            **common,
        )
        fp = m.followup_posts
        posts = (await conn.execute(select(fp.c.item_id, fp.c.kind, fp.c.author, fp.c.text))).all()
        assert [tuple(p) for p in posts] == [(answered, "answer", "县住建局", "已安装路灯 120 盏。")]
        assert plain != answered

    run(settings.database_url, fn)
