"""Duty records (履职记录, server/record/duty.py) of the demo meeting held through the real
action path (server/record/hold.py + sitting.py): every figure checked against the
meeting's record folded from the log; a rehearsal counts for nothing. The office functions
here run again on PostgreSQL (tests/test_duty_postgres.py)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from live.state import Phase
from screens.messages import VOTE_CHOICES
from server.base.settings import Settings
from server.office import followup_deputy, rehearsals
from server.record import duty, duty_facts
from server.record.duty import DutyRecord
from server.record.sitting import NAMED_TITLE, SECRET_TITLE
from server.storage import models as m
from tests.rec_duty_fixtures import hold_demo
from tests.test_followup_deputy import cast, reply
from tests.test_meetings_admin import run


def records(settings: Settings, body_id: int) -> dict[int, DutyRecord]:
    async def fn(conn: AsyncConnection) -> dict[int, DutyRecord]:
        return {r.member.id: r for r in await duty.body_records(conn, body_id)}

    found: dict[int, DutyRecord] = run(settings.database_url, fn)
    return found


def one(settings: Settings, body_id: int, deputy_id: int) -> DutyRecord | None:
    async def fn(conn: AsyncConnection) -> DutyRecord | None:
        return await duty.deputy_record(conn, body_id, deputy_id)

    found: DutyRecord | None = run(settings.database_url, fn)
    return found


def test_duty_records_agree_with_the_record_of_the_sitting(settings: Settings, meeting_id: int) -> None:
    sat = hold_demo(settings, meeting_id)
    rec = sat.record
    everyone = records(settings, sat.body_id)
    assert set(everyone) >= {a.deputy_id for a in rec.attendance}
    # the single read and the body's read agree
    assert one(settings, sat.body_id, sat.asker()) == everyone[sat.asker()]

    # an asker: the question, asked in the hall, with the asking time the log measured
    asker = everyone[sat.asker()].meetings
    assert len(asker) == 1 and asker[0].meeting.id == meeting_id
    q0 = rec.questions[0]
    asking = [s for s in q0.stretches if s.phase is Phase.ASKING]
    assert [(a.title, a.spoken_ms) for a in asker[0].asked] == [(q0.question.title, asking[0].duration_ms)]
    assert everyone[sat.asker()].totals.asked == sum(
        q.reached and q.question.asker_id == sat.asker() for q in rec.questions
    )
    # the unreached question's asker asked nothing in the hall
    never = rec.questions[-1]
    assert not never.reached
    assert never.question.title not in [a.title for a in everyone[never.question.asker_id].meetings[0].asked]

    # a follow-up speaker: each follow-up stretch of the log, with its time
    follower = sat.follower(1)
    mine = [
        (q.question.title, s.duration_ms)
        for q in rec.questions
        for s in q.stretches
        if s.phase is Phase.FOLLOWUP_ASK and s.speaker_id == follower
    ]
    assert mine and [(f.question, f.spoken_ms) for f in everyone[follower].meetings[0].followups] == mine
    assert everyone[follower].totals.followups == len(mine)

    # the speech-maker: the general speech and its time; the speaking time in questions too
    (speech,) = [s for s in rec.speeches if s.deputy_id == sat.speaker]
    made = everyone[sat.speaker]
    assert [(s.nth, s.spoken_ms) for s in made.meetings[0].speeches] == [(speech.nth, speech.spoken_ms)]
    assert made.totals.speeches == 1 and made.totals.speech_ms == speech.spoken_ms == 7 * 60_000
    spoken = sum(
        s.duration_ms
        for q in rec.questions
        for s in q.stretches
        if s.speaker_id == sat.speaker and s.phase in (Phase.ASKING, Phase.FOLLOWUP_ASK)
    )
    assert made.totals.question_ms == spoken

    # on leave, absent, late, left part-way, left and came back
    codes = {
        who: everyone[who].meetings[0].mark.code for who in (sat.on_leave, *sat.absent, sat.late, sat.leaves)
    }
    assert codes == {
        sat.on_leave: "假",
        sat.absent[0]: "缺",
        sat.absent[1]: "缺",
        sat.late: "迟",
        sat.leaves: "离",
    }
    assert everyone[sat.returns].meetings[0].mark.code == "出"
    assert everyone[sat.returns].meetings[0].mark.returned_ms is not None
    for who in (sat.on_leave, *sat.absent):
        md = everyone[who].meetings[0]
        assert not md.asked and not md.followups and not md.speeches and not md.named
        assert everyone[who].totals.named_votes == 0
    assert everyone[sat.on_leave].totals.attendance == {"出": 0, "迟": 0, "离": 0, "假": 1, "缺": 0}
    assert everyone[sat.absent[0]].totals.attendance["缺"] == 1
    # the two-absence rule's count shows on the record: one session missed without approval
    missed = everyone[sat.absent[0]].absences
    assert len(missed) == 1 and not everyone[sat.absent[0]].warned
    assert everyone[sat.on_leave].absences == () and everyone[sat.asker()].absences == ()

    # named votes with the choice; the secret rounds appear nowhere
    (named,) = [v for v in rec.votes if not v.secret]
    choices = dict(named.named)
    for who, r in everyone.items():
        shown = [n for md in r.meetings for n in md.named]
        titles = {n.title for n in shown}
        assert SECRET_TITLE not in titles and "" not in titles
        if who in choices:
            assert [(n.title, n.choice) for n in shown] == [(NAMED_TITLE, VOTE_CHOICES[choices[who]])]
    assert sat.leaves not in choices
    assert [n.choice for n in everyone[sat.leaves].meetings[0].named] == ["未按"]
    assert sum(r.totals.named_votes for r in everyone.values()) == len(choices) == named.result.cast  # type: ignore[union-attr]

    # proposals: the demo's approved questions were proposed by their askers
    assert everyone[sat.asker()].totals.proposed >= 1


def test_a_rehearsal_counts_for_nothing(settings: Settings, meeting_id: int) -> None:
    async def make(conn: AsyncConnection) -> int:
        return await rehearsals.create(
            conn, meeting_id, actor="staff:chair", device="test", now_ms=int(time.time() * 1000)
        )

    rehearsal_id: int = run(settings.database_url, make)
    sat = hold_demo(settings, rehearsal_id)
    assert sat.record.closed and sat.record.setup.rehearsal
    everyone = records(settings, sat.body_id)
    asker = sat.asker()
    assert everyone[asker].meetings == ()
    assert all(
        r.totals.asked == r.totals.followups == r.totals.speeches == r.totals.named_votes == 0
        for r in everyone.values()
    )
    assert all(sum(r.totals.attendance.values()) == 0 for r in everyone.values())


def test_judgments_and_reports_belong_to_the_deputy(settings: Settings, meeting_id: int) -> None:
    sat = hold_demo(settings, meeting_id)
    report = next(i for i in sat.record.setup.agenda if i.kind == "report")
    group_of = {d: sat.record.setup.deputies[d].group for d in sat.record.setup.deputies}

    async def fn(conn: AsyncConnection) -> Any:
        c = await cast(conn, meeting_id)
        await reply(conn, c.item_id, "A", "已完成")
        await followup_deputy.judge(
            conn, c.item_id, c.co, "basic", device="t", now_ms=int(time.time() * 1000)
        )
        await followup_deputy.object_to_closing(
            conn, c.item_id, c.co, "还没修完", device="t", now_ms=int(time.time() * 1000)
        )
        groups = await duty.groups_of(conn, {sat.speaker})
        await conn.execute(
            update(m.agenda_items)
            .where(m.agenda_items.c.id == report.id)
            .values(reporter_kind="group", reporter_group_id=groups[sat.speaker])
        )
        return c

    c = run(settings.database_url, fn)
    everyone = records(settings, sat.body_id)
    (j,) = everyone[c.co].judged
    assert (j.item_id, j.verdict_name, j.objects, j.reason) == (c.item_id, "基本满意", True, "还没修完")
    assert everyone[c.asker].judged == () and everyone[c.co].totals.judged == 1
    (rated,) = sat.record.item_ratings
    mates = [d for d, g in group_of.items() if g == group_of[sat.speaker]]
    for who, r in everyone.items():
        if who in mates:
            (line,) = r.reports
            expected = "，".join(f"{name} {rated.result.count(c)}" for c, name in duty_facts.GRADES.items())
            assert (line.item, line.counts) == (report.title, expected)
            assert line.grade == duty_facts.GRADES[rated.result.grade]  # type: ignore[index]
        else:
            assert r.reports == ()


def test_the_worker_reads_the_same_facts_and_kept_ones_are_used(settings: Settings, meeting_id: int) -> None:
    """The web face folds in a worker process (duty_facts.facts_in_worker, its own
    connection); what it reads equals the fold in the caller, and a kept meeting is not
    folded again."""
    sat = hold_demo(settings, meeting_id)
    in_worker = duty_facts.facts_in_worker(settings.database_url, [meeting_id])

    async def here(conn: AsyncConnection) -> Any:
        return await duty_facts.read_facts(conn, [meeting_id])

    assert run(settings.database_url, here) == in_worker
    facts = in_worker[meeting_id]
    assert facts.closed and SECRET_TITLE not in {r.title for r in facts.named}
    calls: list[list[int]] = []

    async def runner(ids: list[int]) -> dict[int, duty_facts.MeetingFacts]:
        calls.append(ids)
        return in_worker

    async def twice(conn: AsyncConnection) -> Any:
        duty_facts.clear()
        first = await duty.body_records(conn, sat.body_id, None, runner)
        second = await duty.body_records(conn, sat.body_id, None, runner)
        return first, second

    first, second = run(settings.database_url, twice)
    assert first == second and calls == [[meeting_id]]
