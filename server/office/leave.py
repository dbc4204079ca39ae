"""Leave (请假): a deputy asks from the phone, staff approve or refuse, or record it by hand.

A request (``leave_requests``) is ``asked`` until staff decide it (``approved`` or
``refused``, with an optional note), or the deputy withdraws it (``withdrawn``); staff
recording leave by hand (登记请假) write one that is approved at once. Who decided and when
is kept on the row and in the audit trail (``leave_asked``, ``leave_decided``,
``leave_recorded``), in the same transaction as the change.

Refused in Chinese, changing nothing (:class:`NotAllowed`): a meeting that has ended or a
rehearsal, a deputy who is not a member that day or is suspended, a deputy already
checked in, a second open request, an empty or over-long reason.

Every function runs inside the caller's transaction, which holds the meeting's write lock
(server/storage/db.py ``meeting_write``), so "already checked in" is read from the log as the
meeting's writer would see it. A decision returns an :class:`Effect`: what the running
meeting must then do through the one action path (MarkLeave, ClearAttendance), which the
web face submits after the commit; a meeting that has not begun reads approved leave
from the table when it loads (``Setup.on_leave``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base import parse
from server.base.days import moment_of_ms
from server.storage import audit
from server.storage import models as m
from server.storage.attendance import PRESENT, NotAllowed, expected, meeting_day, presence

MAX_REASON = 200
MAX_NOTE = 200
ASKED, APPROVED, REFUSED, WITHDRAWN = "asked", "approved", "refused", "withdrawn"
OPEN = (ASKED, APPROVED)
STATUS_NAMES = {ASKED: "待审批", APPROVED: "已批准", REFUSED: "未批准", WITHDRAWN: "已撤回"}

__all__ = ["NotAllowed"]


@dataclass(frozen=True)
class Request:
    id: int
    deputy_id: int
    name: str
    card_no: str
    group: str
    reason: str
    status: str
    asked_by: str
    asked_ms: int
    decided_by: str
    decided_ms: int | None
    note: str

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)

    @property
    def by_staff(self) -> bool:
        return not self.asked_by.startswith("deputy:")

    @property
    def asked_at(self) -> str:
        return moment_of_ms(self.asked_ms)

    @property
    def decided_at(self) -> str:
        return moment_of_ms(self.decided_ms) if self.decided_ms else ""


@dataclass(frozen=True)
class Effect:
    """What the running meeting must do once the change is committed: ``mark`` is
    "leave" (MarkLeave), "clear" (ClearAttendance of a deputy on leave) or ""; ``begun``
    says whether the meeting's log has begun (else a reload of its setup suffices)."""

    deputy_id: int
    mark: str = ""
    begun: bool = False


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def reason_of(raw: str | None) -> str:
    reason = parse.text(raw, MAX_REASON, lines=True)
    if reason is None:
        raise NotAllowed(f"请假理由不能超过 {MAX_REASON} 字，也不能含有特殊控制字符。")
    if not reason:
        raise NotAllowed("请填写请假理由。")
    return reason


def note_of(raw: str | None) -> str:
    note = parse.text(raw, MAX_NOTE, lines=True)
    if note is None:
        raise NotAllowed(f"审批意见不能超过 {MAX_NOTE} 字，也不能含有特殊控制字符。")
    return note


async def meeting_of(conn: AsyncConnection, meeting_id: int) -> Any:
    row = (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).first()
    if row is None:
        raise NotAllowed("没有这个会议。")
    return row


def _open_for_leave(meeting: Any) -> None:
    if meeting.closed_ms is not None:
        raise NotAllowed("会议已经结束，不能再请假或审批请假；如需更正，请在出勤记录中更正。")
    if meeting.rehearsal:
        raise NotAllowed("这是彩排，不需要请假。")


async def _member(conn: AsyncConnection, meeting: Any, deputy_id: int, now_ms: int) -> None:
    if deputy_id not in await expected(conn, meeting, now_ms):
        raise NotAllowed(
            f"该代表不是本次会议（{meeting_day(meeting, now_ms).isoformat()}）的应到人员，无需请假。"
        )


async def _not_present(conn: AsyncConnection, meeting_id: int, deputy_id: int) -> None:
    if await presence(conn, meeting_id, deputy_id) == PRESENT:
        raise NotAllowed("该代表已经签到，不能请假。")


async def _has_events(conn: AsyncConnection, meeting_id: int) -> bool:
    ev = m.events
    return (
        await conn.execute(select(ev.c.id).where(ev.c.meeting_id == meeting_id).limit(1))
    ).first() is not None


def _select() -> Any:
    lr, d, g = m.leave_requests, m.deputies, m.groups
    return (
        select(lr, d.c.name, d.c.card_no, g.c.name.label("group_name"))
        .join(d, d.c.id == lr.c.deputy_id)
        .join(g, g.c.id == d.c.group_id)
    )


def _request(r: Any) -> Request:
    return Request(
        r.id,
        r.deputy_id,
        r.name,
        r.card_no,
        r.group_name,
        r.reason,
        r.status,
        r.asked_by,
        r.asked_ms,
        r.decided_by,
        r.decided_ms,
        r.note,
    )


async def requests(conn: AsyncConnection, meeting_id: int, deputy_id: int | None = None) -> list[Request]:
    """A meeting's requests, pending first, then the newest; or one deputy's, newest first."""
    lr = m.leave_requests
    stmt = _select().where(lr.c.meeting_id == meeting_id)
    if deputy_id is not None:
        stmt = stmt.where(lr.c.deputy_id == deputy_id).order_by(lr.c.id.desc())
    else:
        pending = case((lr.c.status == ASKED, 0), else_=1)
        stmt = stmt.order_by(pending, lr.c.asked_ms.desc(), lr.c.id.desc())
    return [_request(r) for r in await conn.execute(stmt)]


async def _one(conn: AsyncConnection, meeting_id: int, request_id: int) -> Request:
    lr = m.leave_requests
    row = (await conn.execute(_select().where(lr.c.id == request_id, lr.c.meeting_id == meeting_id))).first()
    if row is None:
        raise NotAllowed("没有这份请假申请。")
    return _request(row)


async def _open_request(conn: AsyncConnection, meeting_id: int, deputy_id: int) -> Request | None:
    found = [r for r in await requests(conn, meeting_id, deputy_id) if r.status in OPEN]
    return found[0] if found else None


async def ask(
    conn: AsyncConnection, meeting_id: int, deputy_id: int, raw_reason: str | None, device: str, now_ms: int
) -> int:
    """A deputy asks for leave from the phone; the new request's id."""
    meeting = await meeting_of(conn, meeting_id)
    _open_for_leave(meeting)
    reason = reason_of(raw_reason)
    await _member(conn, meeting, deputy_id, now_ms)
    await _not_present(conn, meeting_id, deputy_id)
    before = await _open_request(conn, meeting_id, deputy_id)
    if before is not None:
        raise NotAllowed(f"您已有一份请假申请（{before.status_name}），不能重复申请。")
    actor = f"deputy:{deputy_id}"
    result = await conn.execute(
        insert(m.leave_requests).values(
            meeting_id=meeting_id,
            deputy_id=deputy_id,
            reason=reason,
            status=ASKED,
            asked_by=actor,
            asked_ms=now_ms,
        )
    )
    request_id = _new_id(result)
    await audit.record(
        conn,
        "leave_asked",
        actor=actor,
        device=device,
        meeting_id=meeting_id,
        request_id=request_id,
        deputy_id=deputy_id,
        reason=reason,
        summary=f"请假理由：{reason}",
    )
    return request_id


async def withdraw(
    conn: AsyncConnection, meeting_id: int, deputy_id: int, request_id: int, device: str, now_ms: int
) -> None:
    """The deputy withdraws a request staff have not yet decided."""
    meeting = await meeting_of(conn, meeting_id)
    _open_for_leave(meeting)
    found = await _one(conn, meeting_id, request_id)
    if found.deputy_id != deputy_id or found.status != ASKED:
        raise NotAllowed("只能撤回本人尚未审批的请假申请。")
    actor = f"deputy:{deputy_id}"
    await _set(conn, request_id, WITHDRAWN, actor, now_ms, "")
    await audit.record(
        conn,
        "leave_decided",
        actor=actor,
        device=device,
        meeting_id=meeting_id,
        request_id=request_id,
        deputy_id=deputy_id,
        before=ASKED,
        after=WITHDRAWN,
        summary="代表撤回请假申请",
    )


async def _set(conn: AsyncConnection, request_id: int, status: str, by: str, now_ms: int, note: str) -> None:
    lr = m.leave_requests
    await conn.execute(
        update(lr)
        .where(lr.c.id == request_id)
        .values(status=status, decided_by=by, decided_ms=now_ms, note=note)
    )


async def decide(
    conn: AsyncConnection,
    meeting_id: int,
    request_id: int,
    approve: bool,
    raw_note: str | None,
    *,
    by: str,
    device: str,
    now_ms: int,
) -> Effect:
    """Staff approve or refuse a request (an approved one may be refused afterwards, a
    refused one approved). ``by`` is the staff user's name."""
    meeting = await meeting_of(conn, meeting_id)
    _open_for_leave(meeting)
    note = note_of(raw_note)
    found = await _one(conn, meeting_id, request_id)
    after = APPROVED if approve else REFUSED
    if found.status == WITHDRAWN:
        raise NotAllowed("代表已撤回这份申请。")
    if found.status == after:
        raise NotAllowed(f"这份申请已经是“{STATUS_NAMES[after]}”。")
    if approve:
        await _member(conn, meeting, found.deputy_id, now_ms)
        await _not_present(conn, meeting_id, found.deputy_id)
        other = await _open_request(conn, meeting_id, found.deputy_id)
        if other is not None and other.id != request_id:
            raise NotAllowed(f"该代表已有另一份请假申请（{other.status_name}）。")
    actor = f"staff:{by}"
    await _set(conn, request_id, after, actor, now_ms, note)
    await audit.record(
        conn,
        "leave_decided",
        actor=actor,
        device=device,
        meeting_id=meeting_id,
        request_id=request_id,
        deputy_id=found.deputy_id,
        name=found.name,
        before=found.status,
        after=after,
        note=note,
        summary=f"{STATUS_NAMES[found.status]} → {STATUS_NAMES[after]}" + (f"；意见：{note}" if note else ""),
    )
    begun = await _has_events(conn, meeting_id)
    if approve:
        return Effect(found.deputy_id, "leave", begun)
    return Effect(found.deputy_id, "clear" if found.status == APPROVED else "", begun)


async def record(
    conn: AsyncConnection,
    meeting_id: int,
    deputy_id: int,
    raw_reason: str | None,
    *,
    by: str,
    device: str,
    now_ms: int,
) -> Effect:
    """Staff record leave by hand (登记请假): approved at once."""
    meeting = await meeting_of(conn, meeting_id)
    _open_for_leave(meeting)
    reason = reason_of(raw_reason)
    await _member(conn, meeting, deputy_id, now_ms)
    await _not_present(conn, meeting_id, deputy_id)
    before = await _open_request(conn, meeting_id, deputy_id)
    if before is not None:
        hint = "请直接批准该申请。" if before.status == ASKED else ""
        raise NotAllowed(f"该代表已有请假申请（{before.status_name}）。{hint}")
    actor = f"staff:{by}"
    result = await conn.execute(
        insert(m.leave_requests).values(
            meeting_id=meeting_id,
            deputy_id=deputy_id,
            reason=reason,
            status=APPROVED,
            asked_by=actor,
            asked_ms=now_ms,
            decided_by=actor,
            decided_ms=now_ms,
        )
    )
    await audit.record(
        conn,
        "leave_recorded",
        actor=actor,
        device=device,
        meeting_id=meeting_id,
        request_id=_new_id(result),
        deputy_id=deputy_id,
        reason=reason,
        summary=f"登记请假（批准）；理由：{reason}",
    )
    return Effect(deputy_id, "leave", await _has_events(conn, meeting_id))


async def roster(conn: AsyncConnection, meeting: Any, now_ms: int) -> list[Any]:
    """The members who may be given leave (应到 of the meeting's day), by group and card."""
    who = await expected(conn, meeting, now_ms)
    d, g = m.deputies, m.groups
    rows = await conn.execute(
        select(d.c.id, d.c.name, d.c.card_no, g.c.name.label("group_name"))
        .join(g, g.c.id == d.c.group_id)
        .where(d.c.body_id == meeting.body_id)
        .order_by(g.c.position, g.c.id, d.c.card_no)
    )
    return [r for r in rows if r.id in who]


async def decider_names(conn: AsyncConnection, found: list[Request]) -> dict[str, str]:
    """ "staff:wang" → the user's display name (or the user name) for the pages."""
    names = {r.decided_by for r in found if r.decided_by.startswith("staff:")}
    if not names:
        return {}
    users = m.users
    rows = await conn.execute(
        select(users.c.username, users.c.display_name).where(
            users.c.username.in_([n.partition(":")[2] for n in names])
        )
    )
    shown = {f"staff:{u}": (dn or u) for u, dn in rows}
    return {n: shown.get(n, n.partition(":")[2]) for n in names}
