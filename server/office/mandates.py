"""Members over time: mandates, their ends, suspensions, by-elections.

A deputy is a member on day D of every mandate with ``starts_on <= D < ends_on``
(:mod:`server.storage.members`). Nothing here deletes a row: a mandate that ends keeps
its reason, the organ that decided it and the document it rests on; a suspension that
ends keeps its dates. Every change is written with its audit entry (``body_id`` set) in
the caller's transaction; a refusal raises :class:`Refused` with a Chinese message
before anything is written, so the caller's transaction has nothing to undo.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import covers, epoch_ms, overlaps
from server.office.imports import DeputyRow, RowError, check_deputy, new_short_code
from server.office.mandate_reads import (
    END_REASONS,
    START_REASONS,
    Mandate,
    Member,
    Suspension,
    mandates_of,
    member,
    members_of,
    suspensions_of,
)
from server.storage import audit, members
from server.storage import models as m

__all__ = [  # the reads live in mandate_reads.py; callers use mandates.*
    "END_REASONS",
    "START_REASONS",
    "Mandate",
    "Member",
    "Suspension",
    "mandates_of",
    "member",
    "members_of",
    "suspensions_of",
]
MAX_ORGAN = MAX_DOCUMENT = 128
MAX_REASON_TEXT = 500


class Refused(ValueError):
    """A change refused; the message is for staff, in Chinese. Nothing was written."""


# -- checks shared with the roster import --------------------------------------------------


def _text(value: str, what: str, limit: int, *, required: bool = True) -> str:
    text = " ".join(value.split())
    if required and not text:
        raise Refused(f"请填写{what}。")
    if len(text) > limit:
        raise Refused(f"{what}太长（最多 {limit} 个字）。")
    return text


def check_end(
    mandate: Mandate | None, name: str, ends_on: dt.date, reason: str, organ: str, document: str
) -> tuple[str, str]:
    """Why this end cannot be recorded (:class:`Refused`), or the organ and document cleaned."""
    if mandate is None:
        raise Refused(f"{name}目前没有未终止的代表资格，无需再次终止。")
    if mandate.ends_on is not None:
        raise Refused(f"{name}的代表资格已于 {mandate.ends_on.isoformat()} 终止，不能再次终止。")
    if ends_on <= mandate.starts_on:
        raise Refused(
            f"{name}的代表资格终止日期（{ends_on.isoformat()}）应晚于其开始日期（{mandate.starts_on.isoformat()}）。"
        )
    if reason not in END_REASONS:
        raise Refused(f"请选择终止代表资格的原因（{'、'.join(END_REASONS.values())}）。")
    return (
        _text(organ, "作出决定或公告的机关", MAX_ORGAN),
        _text(document, "依据文件的文号", MAX_DOCUMENT),
    )


# -- writing ------------------------------------------------------------------------------


async def _deputy(conn: AsyncConnection, deputy_id: int) -> tuple[int, str, str]:
    d = m.deputies
    row = (await conn.execute(select(d.c.body_id, d.c.name, d.c.card_no).where(d.c.id == deputy_id))).first()
    if row is None:
        raise Refused("没有这位代表。")
    return int(row.body_id), str(row.name), str(row.card_no)


async def end_mandate(
    conn: AsyncConnection,
    deputy_id: int,
    ends_on: dt.date,
    reason: str,
    organ: str,
    document: str,
    document_on: dt.date | None,
    by: str,
    device: str = "",
) -> None:
    """End the deputy's open mandate at the start of ``ends_on``; an open suspension (or
    one running past that day) ends with it."""
    body_id, name, card_no = await _deputy(conn, deputy_id)
    held = await mandates_of(conn, deputy_id)
    current = next((x for x in held if x.ends_on is None), held[-1] if held else None)
    organ, document = check_end(current, name, ends_on, reason, organ, document)
    assert current is not None
    later = [s for s in await suspensions_of(conn, deputy_id) if s.starts_on >= ends_on]
    if later:
        raise Refused(
            f"{name}有一段从 {later[0].starts_on.isoformat()} 开始的暂停执行代表职务记录，"
            "晚于所填的终止日期，请核对日期。"
        )
    t = m.mandates
    await conn.execute(
        update(t)
        .where(t.c.id == current.id)
        .values(
            ends_on=ends_on,
            end_reason=reason,
            end_organ=organ,
            end_document=document,
            end_document_on=document_on,
            recorded_by=by[:96],
            recorded_ms=epoch_ms(),
        )
    )
    s = m.suspensions
    await conn.execute(
        update(s)
        .where(s.c.deputy_id == deputy_id, s.c.starts_on < ends_on)
        .where(or_(s.c.ends_on.is_(None), s.c.ends_on > ends_on))
        .values(ends_on=ends_on)
    )
    await audit.record(
        conn,
        "mandate_ended",
        actor=by,
        device=device,
        body_id=body_id,
        deputy_id=deputy_id,
        card_no=card_no,
        ends_on=ends_on.isoformat(),
        reason=reason,
        organ=organ,
        document=document,
        document_on=document_on.isoformat() if document_on else "",
        what=f"{name}：{END_REASONS[reason]}，{ends_on.isoformat()} 起不再是代表（{organ} {document}）",
    )


async def add_member(
    conn: AsyncConnection,
    body_id: int,
    cells: dict[str, str],
    starts_on: dt.date,
    by: str,
    device: str = "",
) -> int:
    """补选: a new member from ``starts_on`` (name, group, card number; phone and notes
    optional). A card number of a former member with the same name starts a new mandate
    for that deputy; any other card number already in the body is refused."""
    errors: list[RowError] = []
    row: DeputyRow = check_deputy(
        0, {k: cells.get(k, "") for k in ("name", "group", "card_no", "phone", "notes")}, errors
    )
    if errors:
        raise Refused("；".join(f"{e.field_label}：{e.message}" for e in errors) + "。")
    g, d = m.groups, m.deputies
    group_id = (
        await conn.execute(select(g.c.id).where(g.c.body_id == body_id, g.c.name == row.group))
    ).scalar()
    if group_id is None:
        raise Refused(f"没有“{row.group}”这个代表小组。")
    found = (
        await conn.execute(select(d.c.id, d.c.name).where(d.c.body_id == body_id, d.c.card_no == row.card_no))
    ).first()
    if found is not None:
        return await _again(conn, body_id, int(found.id), str(found.name), row, starts_on, by, device)
    added = await conn.execute(
        insert(d)
        .values(
            body_id=body_id,
            group_id=group_id,
            name=row.name,
            card_no=row.card_no,
            short_code=new_short_code(),
            card_version=1,
            phone=row.phone,
            notes=row.notes,
        )
        .returning(d.c.id)
    )
    deputy_id = int(added.scalar_one())
    await members.start_mandate(conn, deputy_id, starts_on, "by_election", by, epoch_ms())
    await audit.record(
        conn,
        "member_added",
        actor=by,
        device=device,
        body_id=body_id,
        deputy_id=deputy_id,
        card_no=row.card_no,
        starts_on=starts_on.isoformat(),
        what=f"{row.name}（{row.group}），{starts_on.isoformat()} 起为代表",
    )
    return deputy_id


async def _again(
    conn: AsyncConnection,
    body_id: int,
    deputy_id: int,
    name_now: str,
    row: DeputyRow,
    starts_on: dt.date,
    by: str,
    device: str,
) -> int:
    """A former member elected again (same card number, same name): a new mandate."""
    held = await mandates_of(conn, deputy_id)
    if any(x.ends_on is None for x in held):
        raise Refused(f"卡号 {row.card_no} 已是现任代表{name_now}的卡号，请换一个卡号。")
    if name_now != row.name:
        raise Refused(
            f"卡号 {row.card_no} 属于已终止代表资格的{name_now}，不能用于{row.name}，请换一个卡号。"
        )
    last_end = max((x.ends_on for x in held if x.ends_on is not None), default=None)
    if last_end is not None and starts_on < last_end:
        raise Refused(f"{name_now}此前的代表资格至 {last_end.isoformat()} 终止，补选日期不能早于该日。")
    await members.start_mandate(conn, deputy_id, starts_on, "by_election", by, epoch_ms())
    await audit.record(
        conn,
        "mandate_started",
        actor=by,
        device=device,
        body_id=body_id,
        deputy_id=deputy_id,
        card_no=row.card_no,
        starts_on=starts_on.isoformat(),
        reason="by_election",
        what=f"{name_now}经补选，{starts_on.isoformat()} 起再次为代表",
    )
    return deputy_id


async def suspend(
    conn: AsyncConnection,
    deputy_id: int,
    starts_on: dt.date,
    ends_on: dt.date | None,
    reason: str,
    organ: str,
    document: str,
    by: str,
    device: str = "",
) -> None:
    """暂停执行代表职务 from ``starts_on`` (to the start of ``ends_on``, or until ended)."""
    body_id, name, card_no = await _deputy(conn, deputy_id)
    reason = _text(reason, "暂停执行代表职务的原因", MAX_REASON_TEXT)
    organ = _text(organ, "作出决定或公告的机关", MAX_ORGAN)
    document = _text(document, "依据文件的文号", MAX_DOCUMENT, required=False)
    if ends_on is not None and ends_on <= starts_on:
        raise Refused("暂停的结束日期应晚于开始日期。")
    mandate = next(
        (x for x in await mandates_of(conn, deputy_id) if covers(x.starts_on, x.ends_on, starts_on)), None
    )
    if mandate is None:
        raise Refused(f"{starts_on.isoformat()} {name}不是代表，不能暂停执行代表职务。")
    if mandate.ends_on is not None:
        if ends_on is None:
            ends_on = mandate.ends_on  # it cannot outlast the mandate
        elif ends_on > mandate.ends_on:
            raise Refused(f"{name}的代表资格至 {mandate.ends_on.isoformat()} 终止，暂停不能超过该日。")
    for other in await suspensions_of(conn, deputy_id):
        if overlaps(starts_on, ends_on, other.starts_on, other.ends_on):
            until = other.ends_on.isoformat() if other.ends_on else "尚未结束"
            raise Refused(f"与已有的暂停执行代表职务（{other.starts_on.isoformat()} 至 {until}）重叠。")
    await conn.execute(
        insert(m.suspensions).values(
            deputy_id=deputy_id,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            organ=organ,
            document=document,
            recorded_by=by[:96],
            recorded_ms=epoch_ms(),
        )
    )
    until = f"至 {ends_on.isoformat()}" if ends_on else ""
    await audit.record(
        conn,
        "suspension_started",
        actor=by,
        device=device,
        body_id=body_id,
        deputy_id=deputy_id,
        card_no=card_no,
        starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat() if ends_on else "",
        reason=reason,
        organ=organ,
        document=document,
        what=f"{name}：{starts_on.isoformat()} 起暂停执行代表职务{until}（{reason}）",
    )


async def end_suspension(
    conn: AsyncConnection, deputy_id: int, suspension_id: int, ends_on: dt.date, by: str, device: str = ""
) -> None:
    """恢复执行代表职务 at the start of ``ends_on``."""
    body_id, name, card_no = await _deputy(conn, deputy_id)
    found = next((s for s in await suspensions_of(conn, deputy_id) if s.id == suspension_id), None)
    if found is None:
        raise Refused("没有这条暂停执行代表职务的记录。")
    if found.ends_on is not None:
        raise Refused(f"这次暂停已于 {found.ends_on.isoformat()} 结束。")
    if ends_on <= found.starts_on:
        raise Refused(f"恢复日期应晚于暂停开始日期（{found.starts_on.isoformat()}）。")
    s = m.suspensions
    await conn.execute(
        update(s)
        .where(s.c.id == suspension_id)
        .values(ends_on=ends_on, recorded_by=by[:96], recorded_ms=epoch_ms())
    )
    await audit.record(
        conn,
        "suspension_ended",
        actor=by,
        device=device,
        body_id=body_id,
        deputy_id=deputy_id,
        card_no=card_no,
        suspension_id=suspension_id,
        ends_on=ends_on.isoformat(),
        what=f"{name}：{ends_on.isoformat()} 起恢复执行代表职务",
    )
