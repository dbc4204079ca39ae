"""A deputy's duty record (履职记录) across the meetings of the body.

Which meetings. Those of the body that are not rehearsals and that the deputy was a member
for: the attendance records frozen at each close (server/office/attendance_history.py)
hold one row per member expected that day (mandates and suspensions decide who is, see
server/storage/members.py), so a meeting counts for the deputy exactly when it holds a
record of him or her. Questions proposed count for every meeting of the body that is not
a rehearsal (they are proposed before the meeting), withdrawn ones excepted.

What, per meeting (from its record, server/record/facts.py, reduced to what a duty record
shows, folded once and kept: server/record/duty_facts.py): the attendance mark
(出/迟/离/假/缺, with the times); the questions the deputy asked that the hall reached,
with his or her speaking time; the follow-ups (追问) asked; general speeches; every NAMED
vote's choice (public), 未按 for a named vote the deputy did not press in while a member
present. Beside the meetings: the questions proposed and co-proposed, the follow-up items
judged, the 述职评议 results of items the deputy or his or her group reported on
(server/record/reporters.py), and the two-absence warning of 代表法 §49.

Secrecy. Nothing is read of a secret vote or a rating: whether a deputy pressed in a
secret poll is part of its 未按 count, so the record of a deputy who attended a meeting
says only that, whatever he or she did in its secret polls. The records of two deputies
who attended the same meeting alike differ only in what is public.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from screens.messages import NOT_VOTED
from server.office import attendance_history as ah
from server.office import followup_rules as rules
from server.office.questions_admin import STATUS_NAMES, id_list
from server.record import reporters as rp
from server.record.duty_facts import Asked, FollowUp, MeetingFacts, Runner, SpeechLine, closed_facts
from server.storage import models as m
from server.storage.attendance import PRESENT


@dataclass(frozen=True)
class NamedChoice:
    """The deputy's choice in a named (记名) vote round: 赞成 / 反对 / 弃权 / 未按."""

    title: str
    round_no: int
    choice: str

    @property
    def voted(self) -> bool:
        return self.choice != NOT_VOTED


@dataclass(frozen=True)
class MeetingDuty:
    meeting: ah.Meeting
    mark: ah.Mark
    asked: tuple[Asked, ...] = ()
    followups: tuple[FollowUp, ...] = ()
    speeches: tuple[SpeechLine, ...] = ()
    named: tuple[NamedChoice, ...] = ()

    @property
    def question_ms(self) -> int:
        """The deputy's speaking time in questions: asking and follow-ups."""
        return sum(a.spoken_ms for a in self.asked) + sum(f.spoken_ms for f in self.followups)


@dataclass(frozen=True)
class Proposal:
    meeting: str
    title: str
    status: str

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)


@dataclass(frozen=True)
class Judged:
    """The deputy's judgment of a follow-up item's reply."""

    item_id: int
    title: str
    verdict: str | None
    objects: bool
    reason: str
    at_ms: int

    @property
    def verdict_name(self) -> str:
        return rules.VERDICTS.get(self.verdict or "", "未评价")


@dataclass(frozen=True)
class ReportLine:
    """A 述职评议 result of an item the deputy (or his or her group) reported on."""

    meeting: str
    item: str
    reporter: str
    grade: str  # 满意 / 基本满意 / 不满意, or why there is none
    counts: str  # "满意 30，基本满意 10，不满意 5" ("" when never rated)


@dataclass(frozen=True)
class Totals:
    attendance: dict[str, int]  # 出/迟/离/假/缺 → meetings
    proposed: int
    asked: int
    co_proposed: int
    followups: int
    speeches: int
    speech_ms: int
    question_ms: int
    named_votes: int  # named vote rounds the deputy pressed in
    judged: int


@dataclass(frozen=True)
class DutyRecord:
    member: ah.Member
    meetings: tuple[MeetingDuty, ...]
    proposed: tuple[Proposal, ...] = ()
    co_proposed: tuple[Proposal, ...] = ()
    judged: tuple[Judged, ...] = ()
    reports: tuple[ReportLine, ...] = ()
    absences: tuple[str, ...] = ()  # sessions missed without approval (the term with most)

    @property
    def warned(self) -> bool:
        return len(self.absences) >= ah.RULE_LIMIT

    @property
    def totals(self) -> Totals:
        counts = dict.fromkeys(ah.CODE_NAMES, 0)
        for md in self.meetings:
            counts[md.mark.code] += 1
        return Totals(
            attendance=counts,
            proposed=len(self.proposed),
            asked=sum(len(md.asked) for md in self.meetings),
            co_proposed=len(self.co_proposed),
            followups=sum(len(md.followups) for md in self.meetings),
            speeches=sum(len(md.speeches) for md in self.meetings),
            speech_ms=sum(s.spoken_ms for md in self.meetings for s in md.speeches),
            question_ms=sum(md.question_ms for md in self.meetings),
            named_votes=sum(n.voted for md in self.meetings for n in md.named),
            judged=len(self.judged),
        )


def meeting_duty(facts: MeetingFacts, meeting: ah.Meeting, mark: ah.Mark, deputy_id: int) -> MeetingDuty:
    """What the deputy did at one meeting: public facts only. A member present is shown
    every named round, 未按 where he or she did not press (a named vote is public)."""
    named = tuple(
        NamedChoice(r.title, r.round_no, r.choices.get(deputy_id, NOT_VOTED))
        for r in (facts.named if mark.status == PRESENT else ())
    )
    return MeetingDuty(
        meeting,
        mark,
        facts.asked.get(deputy_id, ()),
        facts.followups.get(deputy_id, ()),
        facts.speeches.get(deputy_id, ()),
        named,
    )


@dataclass
class _Body:
    """What the body's duty records are read from, for the members asked."""

    histories: dict[int, list[tuple[ah.Meeting, ah.Mark]]] = field(default_factory=dict)
    facts: dict[int, MeetingFacts] = field(default_factory=dict)
    proposed: dict[int, list[Proposal]] = field(default_factory=lambda: defaultdict(list))
    co_proposed: dict[int, list[Proposal]] = field(default_factory=lambda: defaultdict(list))
    judged: dict[int, list[Judged]] = field(default_factory=lambda: defaultdict(list))
    reports: dict[int, list[ReportLine]] = field(default_factory=lambda: defaultdict(list))
    absences: dict[int, tuple[str, ...]] = field(default_factory=dict)


async def members(conn: AsyncConnection, body_id: int, group_id: int | None = None) -> list[ah.Member]:
    """The body's deputies (former ones too: their records stay), by group and card number."""
    d, g = m.deputies, m.groups
    stmt = select(d.c.id, d.c.name, d.c.card_no, g.c.name.label("group_name")).join(g, g.c.id == d.c.group_id)
    stmt = stmt.where(d.c.body_id == body_id)
    if group_id is not None:
        stmt = stmt.where(d.c.group_id == group_id)
    rows = await conn.execute(stmt.order_by(g.c.position, g.c.id, d.c.card_no, d.c.id))
    return [ah.Member(r.id, r.name, r.card_no, r.group_name) for r in rows]


async def group_name(conn: AsyncConnection, body_id: int, group_id: int) -> str | None:
    g = m.groups
    row = (await conn.execute(select(g.c.name).where(g.c.id == group_id, g.c.body_id == body_id))).first()
    return str(row.name) if row else None


async def _proposals(conn: AsyncConnection, body_id: int, ids: set[int], into: _Body) -> None:
    sub, mt = m.question_submissions, m.meetings
    rows = await conn.execute(
        select(sub.c.deputy_id, sub.c.co_proposers, sub.c.title, sub.c.status, mt.c.title.label("meeting"))
        .join(mt, mt.c.id == sub.c.meeting_id)
        .where(mt.c.body_id == body_id, mt.c.rehearsal.is_(False), sub.c.status != "withdrawn")
        .order_by(sub.c.created_ms, sub.c.id)
    )
    for r in rows:
        line = Proposal(str(r.meeting), str(r.title), str(r.status))
        if r.deputy_id in ids:
            into.proposed[int(r.deputy_id)].append(line)
        for co in dict.fromkeys(id_list(r.co_proposers or "")):
            if co in ids and co != r.deputy_id:
                into.co_proposed[co].append(line)


async def _judgments(conn: AsyncConnection, body_id: int, ids: set[int], into: _Body) -> None:
    j, fi, mt = m.followup_judgments, m.followup_items, m.meetings
    rows = await conn.execute(
        select(j.c.deputy_id, j.c.item_id, fi.c.title, j.c.verdict, j.c.objects, j.c.reason, j.c.at_ms)
        .join(fi, fi.c.id == j.c.item_id)
        .outerjoin(mt, mt.c.id == fi.c.meeting_id)
        .where(fi.c.body_id == body_id, j.c.deputy_id.in_(ids), mt.c.rehearsal.isnot(True))
        .order_by(j.c.at_ms, j.c.id)
    )
    for r in rows:
        into.judged[int(r.deputy_id)].append(
            Judged(int(r.item_id), str(r.title), r.verdict, bool(r.objects), str(r.reason), int(r.at_ms))
        )


def _report_line(meeting: ah.Meeting, facts: MeetingFacts, reporter: rp.Reporter) -> ReportLine:
    found = facts.items.get(reporter.item_id)
    if found is None:
        return ReportLine(meeting.title, "", reporter.label, "未测评", "")
    return ReportLine(meeting.title, found.title, reporter.label, found.grade, found.counts)


async def _reports(conn: AsyncConnection, groups: dict[int, int], into: _Body) -> None:
    """The 述职评议 results of the items the members (or their groups) reported on, at the
    meetings in their histories."""
    wanted = {mt.id for h in into.histories.values() for mt, _ in h if mt.id in into.facts}
    ai = m.agenda_items
    rows = await conn.execute(
        select(ai.c.meeting_id)
        .distinct()
        .where(ai.c.meeting_id.in_(wanted), ai.c.reporter_kind.in_(("member", "group")))
    )
    named = {int(mid): await rp.reporters(conn, int(mid)) for (mid,) in rows.all()}
    for who, history in into.histories.items():
        for meeting, _ in history:
            for reporter in named.get(meeting.id, {}).values():
                mine = reporter.deputy_id == who or (
                    reporter.group_id is not None and reporter.group_id == groups.get(who)
                )
                if mine:
                    into.reports[who].append(_report_line(meeting, into.facts[meeting.id], reporter))


async def groups_of(conn: AsyncConnection, ids: set[int]) -> dict[int, int]:
    """deputy → the id of his or her group now."""
    d = m.deputies
    rows = await conn.execute(select(d.c.id, d.c.group_id).where(d.c.id.in_(ids)))
    return {int(i): int(g) for i, g in rows}


async def _read(
    conn: AsyncConnection, body_id: int, people: list[ah.Member], one: bool, runner: Runner | None
) -> _Body:
    ids = {p.id for p in people}
    into = _Body()
    if one:
        into.histories = {people[0].id: await ah.member_history(conn, body_id, people[0].id)}
        missed = await ah.session_absences(conn, body_id, people[0].id)
    else:
        grid = await ah.grid(conn, body_id)
        for p in people:
            into.histories[p.id] = [
                (mt, mark) for mt in grid.meetings if (mark := grid.mark(p.id, mt.id)) is not None
            ]
        missed = await ah.session_absences(conn, body_id)
    for who in ids:
        terms = sorted(missed.get(who, {}).values(), key=len)
        into.absences[who] = tuple(terms[-1]) if terms else ()
    meeting_ids = {mt.id for h in into.histories.values() for mt, _ in h}
    into.facts = await closed_facts(conn, meeting_ids, runner)
    await _proposals(conn, body_id, ids, into)
    await _judgments(conn, body_id, ids, into)
    await _reports(conn, await groups_of(conn, ids), into)
    return into


def _assemble(person: ah.Member, into: _Body) -> DutyRecord:
    meetings = tuple(
        meeting_duty(into.facts[mt.id], mt, mark, person.id)
        for mt, mark in into.histories.get(person.id, [])
        if mt.id in into.facts
    )
    return DutyRecord(
        person,
        meetings,
        tuple(into.proposed.get(person.id, ())),
        tuple(into.co_proposed.get(person.id, ())),
        tuple(into.judged.get(person.id, ())),
        tuple(into.reports.get(person.id, ())),
        into.absences.get(person.id, ()),
    )


async def deputy_record(
    conn: AsyncConnection, body_id: int, deputy_id: int, runner: Runner | None = None
) -> DutyRecord | None:
    """One member's duty record; None when the deputy is not of this body."""
    found = [p for p in await members(conn, body_id) if p.id == deputy_id]
    if not found:
        return None
    return _assemble(found[0], await _read(conn, body_id, found, True, runner))


async def body_records(
    conn: AsyncConnection, body_id: int, group_id: int | None = None, runner: Runner | None = None
) -> list[DutyRecord]:
    """Every member's duty record (of one group when ``group_id`` is given)."""
    people = await members(conn, body_id, group_id)
    if not people:
        return []
    into = await _read(conn, body_id, people, False, runner)
    return [_assemble(p, into) for p in people]
