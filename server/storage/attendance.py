"""Frozen attendance: one record per member per closed meeting, read from the event log.

When a meeting closes (a ``MeetingClosed`` event is appended, server/storage/store.py),
:func:`freeze` folds the meeting's log into ``attendance_records`` in the same
transaction: every member on the meeting's day (less the suspended) gets one row,
出席 (present), 请假 (leave) or 缺席 (absent). The log is read by event TYPE NAME and its
JSON data, so this module does not depend on the classes of :mod:`live.events`:

- ``DeputyCheckedIn{deputy_id, method}``: present, at the event's time; ``how`` is "hand"
  for a check-in by staff, "phone" otherwise; after the first ``AttendanceAnnounced`` it
  is late (迟到).
- ``DeputyOnLeave{deputy_id}``: leave. It is approved when an approved leave request
  exists or staff marked it in the hall (only staff and the chair can).
- ``AttendanceCleared{deputy_id}``: back to absent.
- ``DeputyLeftHall`` / ``DeputyReturned`` ``{deputy_id}``: the last time the deputy left
  part-way (中途离会) and came back.

A deputy whose leave was approved before the meeting starts it on leave (as the running
meeting's ``Setup.on_leave`` does) until the log says otherwise. A rehearsal (彩排) is
closed but writes no record. A correction by staff afterwards is audited with the record
before and after (:func:`correct`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import day_of_ms
from server.storage import audit, members
from server.storage import models as m

PRESENT, LEAVE, ABSENT = "present", "leave", "absent"
STATUSES = (PRESENT, LEAVE, ABSENT)
NAMES = {PRESENT: "出席", LEAVE: "请假", ABSENT: "缺席"}
CHECKED_IN, ON_LEAVE, CLEARED = "DeputyCheckedIn", "DeputyOnLeave", "AttendanceCleared"
LEFT, RETURNED, ANNOUNCED, CLOSED = "DeputyLeftHall", "DeputyReturned", "AttendanceAnnounced", "MeetingClosed"
FOLDED = (CHECKED_IN, ON_LEAVE, CLEARED, LEFT, RETURNED, ANNOUNCED)
BY_HAND = frozenset({"staff", "by_staff", "hand"})  # check-in methods that mean staff did it
STAFF_ROLES = frozenset({"staff", "chair", "admin"})


class NotAllowed(ValueError):
    """A change refused; the message is for the user, in Chinese. Nothing was written."""


@dataclass(frozen=True)
class Record:
    status: str = ABSENT
    checked_in_ms: int | None = None
    how: str = ""
    late: bool = False
    left_ms: int | None = None
    returned_ms: int | None = None
    leave_approved: bool = False


async def approved_leave(conn: AsyncConnection, meeting_id: int) -> set[int]:
    """The deputies whose leave for the meeting is approved (asked and approved, or recorded)."""
    lr = m.leave_requests
    rows = await conn.execute(
        select(lr.c.deputy_id).where(lr.c.meeting_id == meeting_id, lr.c.status == "approved")
    )
    return {int(r.deputy_id) for r in rows}


def _deputy(data: dict[str, Any]) -> int | None:
    value = data.get("deputy_id")
    return value if isinstance(value, int) else None


async def fold(conn: AsyncConnection, meeting_id: int, approved: set[int]) -> dict[int, Record]:
    """What the log says of each deputy it names, starting from approved leave."""
    out: dict[int, Record] = {d: Record(LEAVE, leave_approved=True) for d in approved}
    announced = False
    ev = m.events
    rows = await conn.execute(
        select(ev.c.type, ev.c.data, ev.c.actor, ev.c.created_ms)
        .where(ev.c.meeting_id == meeting_id, ev.c.type.in_(FOLDED))
        .order_by(ev.c.seq)
    )
    for r in rows:
        if r.type == ANNOUNCED:
            announced = True
            continue
        data = json.loads(r.data or "{}")
        deputy_id = _deputy(data)
        if deputy_id is None:
            continue
        now = out.get(deputy_id, Record())
        at = int(r.created_ms)
        if r.type == CHECKED_IN:
            how = "hand" if str(data.get("method", "")) in BY_HAND else "phone"
            now = replace(
                now, status=PRESENT, checked_in_ms=at, how=how, late=announced, leave_approved=False
            )
        elif r.type == ON_LEAVE:
            by_staff = str(r.actor).partition(":")[0] in STAFF_ROLES
            now = Record(LEAVE, leave_approved=by_staff or deputy_id in approved)
        elif r.type == CLEARED:
            now = Record()
        elif r.type == LEFT:
            now = replace(now, left_ms=at)
        else:  # RETURNED
            now = replace(now, returned_ms=at)
        out[deputy_id] = now
    return out


async def presence(conn: AsyncConnection, meeting_id: int, deputy_id: int) -> str:
    """The deputy's attendance in the meeting now: present, leave or absent."""
    return (await fold(conn, meeting_id, set())).get(deputy_id, Record()).status


def meeting_day(meeting: Any, now_ms: int) -> dt.date:
    """The meeting's day: the day it is held on, else the day it closes."""
    held = meeting.held_on
    return held if isinstance(held, dt.date) else day_of_ms(now_ms)


async def expected(conn: AsyncConnection, meeting: Any, now_ms: int) -> set[int]:
    """The members on the meeting's day, less the suspended: the 应到 of the records."""
    on_day = await members.on_day(conn, meeting.body_id, meeting_day(meeting, now_ms))
    return set(on_day.members - on_day.suspended)


async def freeze(conn: AsyncConnection, meeting_id: int, now_ms: int) -> int:
    """Close the meeting and write its records; the number of records written.

    Run inside the transaction that appends ``MeetingClosed``, after its row is inserted.
    A meeting frozen before keeps its records (and any correction of them).
    """
    mt = m.meetings
    meeting = (await conn.execute(select(mt).where(mt.c.id == meeting_id))).first()
    if meeting is None:
        return 0
    if meeting.closed_ms is None:
        await conn.execute(update(mt).where(mt.c.id == meeting_id).values(closed_ms=now_ms))
    if meeting.rehearsal:
        return 0  # a rehearsal counts nowhere: no attendance history, no two-absence rule
    ar = m.attendance_records
    if (await conn.execute(select(ar.c.deputy_id).where(ar.c.meeting_id == meeting_id).limit(1))).first():
        return 0
    who = await expected(conn, meeting, now_ms)
    folded = await fold(conn, meeting_id, await approved_leave(conn, meeting_id))
    rows = [
        {"meeting_id": meeting_id, "deputy_id": d, **asdict(folded.get(d, Record()))} for d in sorted(who)
    ]
    if rows:
        await conn.execute(insert(ar), rows)
    return len(rows)


def _shown(row: Any) -> dict[str, Any]:
    return {"status": row.status, "leave_approved": bool(row.leave_approved), "late": bool(row.late)}


async def correct(
    conn: AsyncConnection,
    meeting_id: int,
    deputy_id: int,
    status: str,
    note: str,
    *,
    by: str,
    device: str,
    now_ms: int,
) -> None:
    """Staff correct one frozen record (出席/请假/缺席, with a note), audited before/after.

    请假 set by a correction is approved leave (staff decide it); a record that is not
    出席 is not late. Raises :class:`NotAllowed` and writes nothing when refused.
    """
    if status not in STATUSES:
        raise NotAllowed("请选择出勤状态：出席、请假或缺席。")
    if not note:
        raise NotAllowed("请填写更正说明（依据或原因）。")
    ar = m.attendance_records
    where = (ar.c.meeting_id == meeting_id, ar.c.deputy_id == deputy_id)
    row = (await conn.execute(select(ar).where(*where))).first()
    if row is None:
        raise NotAllowed("没有这条出勤记录：会议结束后才生成出勤记录。")
    after = {
        "status": status,
        "leave_approved": status == LEAVE,
        "late": bool(row.late) and status == PRESENT,
    }
    before = _shown(row)
    if before == after:
        raise NotAllowed("出勤状态没有变化，未作更正。")
    await conn.execute(update(ar).where(*where).values(**after, corrected_by=by[:96], corrected_ms=now_ms))
    body_id = (await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))).scalar()
    await audit.record(
        conn,
        "attendance_corrected",
        actor=by,
        device=device,
        body_id=body_id,
        meeting_id=meeting_id,
        deputy_id=deputy_id,
        before=before,
        after=after,
        note=note,
        summary=f"{NAMES[before['status']]} → {NAMES[status]}；说明：{note}",
    )
