"""Presidium members who review a meeting's questions from their own phones.

Staff give a member of the meeting's presidium (:mod:`server.office.presidium`) the
question review board of one meeting (a ``meeting_reviewers`` row; ``reviewer_granted`` and
``reviewer_revoked`` in the audit trail). The member then opens the board from the phone
bound to their card, without a staff account; what they do on it is recorded as
``presidium:<deputy id>``, so the submission history and the audit trail say "主席团成员
王某" where a staff member's work says the staff member's name. Access needs all three:
the grant, a seat on the meeting's presidium, and a mandate (not suspended) today.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.office import presidium
from server.office.meeting_forms import Invalid
from server.storage import audit, members
from server.storage import models as m

ROLE = "presidium"  # the actor's role in histories and the audit trail: "presidium:17"
LABEL = "主席团成员"

TEXT = {
    "not_presidium": "只能授权本次会议所属主席团的成员。",
    "not_granted": "这位代表没有本次会议的审核授权。",
    "staff_only": "此操作由会务人员办理。",
    "refused": "您没有审核本次会议问题的授权。如需审核，请联系会务人员。",
}

# What a reviewer's actions are called in the audit trail's summary.
REVIEW_NAMES = {
    "approve": "采用",
    "reject": "不采用",
    "merge": "合并",
    "edit": "修改",
    "up": "调整顺序",
    "down": "调整顺序",
    "order": "调整顺序",
    "assign": "指定提问代表和应询人员",
    "deadline": "设置征集截止时间",
    "enter": "代代表录入问题",
}


def actor_of(deputy_id: int) -> str:
    return f"{ROLE}:{deputy_id}"


async def grants(conn: AsyncConnection, meeting_id: int) -> dict[int, Any]:
    r = m.meeting_reviewers
    rows = await conn.execute(select(r).where(r.c.meeting_id == meeting_id))
    return {int(row.deputy_id): row for row in rows}


async def grant(
    conn: AsyncConnection, meeting_id: int, deputy_id: int, *, actor: str, device: str, now_ms: int
) -> bool:
    """Give the board to a member of the meeting's presidium; False if they had it already."""
    _, seated = await presidium.of_meeting(conn, meeting_id)
    found = next((x for x in seated if x.deputy_id == deputy_id), None)
    if found is None:
        raise Invalid({"deputy": TEXT["not_presidium"]})
    if deputy_id in await grants(conn, meeting_id):
        return False
    await conn.execute(
        insert(m.meeting_reviewers).values(
            meeting_id=meeting_id, deputy_id=deputy_id, granted_by=actor[:96], granted_ms=now_ms
        )
    )
    await audit.record(
        conn,
        "reviewer_granted",
        actor=actor,
        device=device,
        meeting_id=meeting_id,
        deputy_id=deputy_id,
        summary=f"{found.name}（{found.role}）可在手机上审核本次会议的问题",
    )
    return True


async def revoke(conn: AsyncConnection, meeting_id: int, deputy_id: int, *, actor: str, device: str) -> None:
    if deputy_id not in await grants(conn, meeting_id):
        raise Invalid({"deputy": TEXT["not_granted"]})
    r = m.meeting_reviewers
    await conn.execute(delete(r).where(r.c.meeting_id == meeting_id, r.c.deputy_id == deputy_id))
    await audit.record(
        conn, "reviewer_revoked", actor=actor, device=device, meeting_id=meeting_id, deputy_id=deputy_id
    )


async def may_review(conn: AsyncConnection, meeting_id: int, deputy_id: int) -> bool:
    """Granted, on the meeting's presidium, and a member (not suspended) today."""
    if deputy_id not in await grants(conn, meeting_id):
        return False
    try:
        where, seated = await presidium.of_meeting(conn, meeting_id)
    except Invalid:
        return False
    if deputy_id not in {x.deputy_id for x in seated}:
        return False
    on = await members.on_day(conn, where.body_id, today())
    return deputy_id in on.members and deputy_id not in on.suspended


async def record_review(
    conn: AsyncConnection,
    meeting_id: int,
    action: str,
    form: Mapping[str, str],
    *,
    actor: str,
    device: str,
) -> None:
    """One ``question_reviewed`` entry for a write on the review board, naming who did it
    (``by``: "主席团成员 王某" or "工作人员 李某") and what."""
    by = await who_did(conn, actor)
    what = REVIEW_NAMES.get(action, action)
    t = m.question_submissions
    sub_id = form.get("sub", "").strip()
    if sub_id.isdigit() and len(sub_id) <= 9:
        row = (
            await conn.execute(
                select(t.c.id, t.c.title).where(t.c.id == int(sub_id), t.c.meeting_id == meeting_id)
            )
        ).first()
        if row is not None:
            what += f" #{row.id}《{row.title}》"
    await audit.record(
        conn,
        "question_reviewed",
        actor=actor,
        device=device,
        meeting_id=meeting_id,
        by=by,
        review=action,
        summary=f"{by}：{what}",
    )


async def who_did(conn: AsyncConnection, actor: str) -> str:
    """ "presidium:17" -> "主席团成员 王某"; "staff:li" -> "工作人员 李某" (the display name)."""
    role, _, rest = actor.partition(":")
    if role == ROLE and rest.isdigit():
        return f"{LABEL} {await deputy_name(conn, int(rest))}"
    return f"工作人员 {(await staff_names(conn)).get(rest, rest)}"


async def staff_names(conn: AsyncConnection) -> dict[str, str]:
    """username -> display name, for the histories the review board shows."""
    u = m.users
    return {str(a): str(b or a) for a, b in await conn.execute(select(u.c.username, u.c.display_name))}


async def meeting_row(conn: AsyncConnection, meeting_id: int) -> Any:
    mt, b = m.meetings, m.bodies
    stmt = (
        select(mt, b.c.name.label("body_name")).join(b, b.c.id == mt.c.body_id).where(mt.c.id == meeting_id)
    )
    return (await conn.execute(stmt)).first()


async def deputy_name(conn: AsyncConnection, deputy_id: int) -> str:
    d = m.deputies
    return str((await conn.execute(select(d.c.name).where(d.c.id == deputy_id))).scalar() or "")
