"""Rehearsals (彩排): a copy of a meeting to try the hall with, and its reset.

A rehearsal is a meeting of its own (``meetings.rehearsal`` true, ``rehearsal_of`` the real
one), cloned from the real meeting with the same rules, agenda, questions and
respondents, day, time, place, term and session, and its non-voting attendees; its title
ends in "（彩排）" and every screen shows the mark (``Setup.rehearsal``). What it records
counts nowhere: leave is refused for it and no attendance records are written for it
(server/office/leave.py and the attendance records), and a reset deletes every record of
what happened in it (:data:`CLEARED`) and reopens it, leaving only its ``audit`` rows
(``rehearsal_created``, ``rehearsal_reset``). A real meeting is never reset.

Every function runs inside the caller's transaction and raises :class:`Invalid` with a
Chinese message before writing anything. The running room must drop its state after a
reset: the web face runs :func:`reset` through ``Meetings.rewrite_log``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import meetings_admin
from server.office.meeting_forms import TITLE_MAX, Invalid
from server.storage import audit
from server.storage import models as m

SUFFIX = "（彩排）"

TEXT = {
    "no_meeting": "找不到这次会议。",
    "of_rehearsal": "这已经是彩排，请从正式会议创建彩排。",
    "not_rehearsal": "这是正式会议，不能重置：只有彩排可以重置。",
}

# What happened in a meeting, deleted by a reset: the log, ballots and their receipts and
# totals, leave and attendance. Every table with a meeting_id is either here or in KEPT
# (tests/test_rehearsals.py checks it, so a new table needs a decision).
CLEARED: tuple[Table, ...] = (
    m.events,
    m.rating_receipts,
    m.rating_tallies,
    m.vote_receipts,
    m.vote_tallies,
    m.sealed_ballots,
    m.leave_requests,
    m.attendance_records,
    # 承诺事项 typed at the console during a rehearsal are practice, never anyone's promise.
    m.question_commitments,
)
# The meeting's preparation, kept: agenda, final list, submissions, the paired screens, who
# reviews, who attends without a vote, and the audit trail itself.
KEPT: tuple[Table, ...] = (
    m.agenda_items,
    m.questions,
    m.question_submissions,
    m.screen_pairings,
    m.meeting_reviewers,
    m.attendees,
    m.audit,
    m.meeting_imports,  # where a moved meeting came from (server/office/move_import.py)
    # Follow-up (督办): a rehearsal never gets any (server/office/followup.py refuses it).
    m.followup_decisions,
    m.followup_items,
)


async def _meeting(conn: AsyncConnection, meeting_id: int) -> Any:
    row = (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).first()
    if row is None:
        raise Invalid({"meeting": TEXT["no_meeting"]})
    return row


async def create(conn: AsyncConnection, meeting_id: int, *, actor: str, device: str, now_ms: int) -> int:
    """A rehearsal of the real meeting ``meeting_id``; its id."""
    source = await _meeting(conn, meeting_id)
    if source.rehearsal:
        raise Invalid({"meeting": TEXT["of_rehearsal"]})
    new_id = await meetings_admin.clone(conn, meeting_id, now_ms)
    assert new_id is not None  # the source was just read in this transaction
    title = source.title[: TITLE_MAX - len(SUFFIX)] + SUFFIX
    await conn.execute(
        update(m.meetings)
        .where(m.meetings.c.id == new_id)
        .values(
            title=title,
            rehearsal=True,
            rehearsal_of=meeting_id,
            term_id=source.term_id,
            session_id=source.session_id,
            held_on=source.held_on,
            starts_at=source.starts_at,
            place=source.place,
            submission_deadline_ms=source.submission_deadline_ms,
        )
    )
    a = m.attendees
    for row in (await conn.execute(select(a).where(a.c.meeting_id == meeting_id).order_by(a.c.id))).all():
        await conn.execute(
            insert(a).values(
                meeting_id=new_id,
                kind=row.kind,
                name=row.name,
                organisation=row.organisation,
                official_id=row.official_id,
            )
        )
    await audit.record(
        conn,
        "rehearsal_created",
        actor=actor,
        device=device,
        body_id=source.body_id,
        meeting_id=new_id,
        rehearsal_of=meeting_id,
        summary=f"由《{source.title}》创建彩排《{title}》",
    )
    return new_id


async def reset(conn: AsyncConnection, meeting_id: int, *, actor: str, device: str) -> dict[str, int]:
    """Delete everything the rehearsal recorded and reopen it; how many rows per table."""
    row = await _meeting(conn, meeting_id)
    if not row.rehearsal:
        raise Invalid({"meeting": TEXT["not_rehearsal"]})
    deleted: dict[str, int] = {}
    for table in CLEARED:
        n = (
            await conn.execute(
                select(func.count()).select_from(table).where(table.c.meeting_id == meeting_id)
            )
        ).scalar_one()
        if n:
            await conn.execute(delete(table).where(table.c.meeting_id == meeting_id))
        deleted[table.name] = int(n)
    await conn.execute(update(m.meetings).where(m.meetings.c.id == meeting_id).values(closed_ms=None))
    await audit.record(
        conn,
        "rehearsal_reset",
        actor=actor,
        device=device,
        body_id=row.body_id,
        meeting_id=meeting_id,
        deleted=deleted,
        summary=f"删除会议记录 {deleted.get('events', 0)} 条，彩排可以重新开始",
    )
    return deleted


async def is_rehearsal(conn: AsyncConnection, meeting_id: int) -> bool:
    found = (await conn.execute(select(m.meetings.c.rehearsal).where(m.meetings.c.id == meeting_id))).scalar()
    return bool(found)
