"""A roster into the body: plan (what would change, every error named), then write.

Writing is all or nothing inside the caller's transaction, and only when the plan has no
error and the caller did not ask for a dry run. A card number already in the body updates
that deputy; a new one inserts a deputy (a random short code, card version 1) with a
mandate from ``starts_on`` (by default the running term's first day). Reading and checking
the file is :mod:`server.office.imports`.

An import never deletes. A current member the file does not list is 名册中未出现
(``plan.missing``): kept, unless the caller passes an :class:`EndChoice` for them, which
ends the mandate (server/office/mandates.py) in the import's own transaction; the choices
are all checked before anything is written, and one bad choice refuses the whole import.

A row whose card number belongs to a former member (every mandate ended) is an error:
updating that deputy would silently make them a member again, and inserting is
impossible (the card number is unique in the body). A by-election is
:func:`server.office.mandates.add_member`, which starts a new mandate for a former member
of the same name and card number on purpose, with its own date and audit entry.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.office import mandates
from server.office.imports import (
    DeputyRow,
    MissingMember,
    Parsed,
    RosterPlan,
    RowError,
    new_short_code,
    read_roster,
)
from server.storage import members
from server.storage import models as m


@dataclass(frozen=True)
class EndChoice:
    """Staff chose to end the mandate of a member the file does not list."""

    ends_on: dt.date
    reason: str
    organ: str
    document: str
    document_on: dt.date | None = None


async def group_ids(conn: AsyncConnection, body_id: int) -> dict[str, int]:
    rows = await conn.execute(
        select(m.groups.c.name, m.groups.c.id)
        .where(m.groups.c.body_id == body_id)
        .order_by(m.groups.c.position, m.groups.c.id)
    )
    return {str(name): int(gid) for name, gid in rows}


async def plan_roster(
    conn: AsyncConnection, body_id: int, parsed: Parsed[DeputyRow], *, create_groups: bool = False
) -> RosterPlan:
    rows, errors, cols = parsed.rows, parsed.errors, parsed.columns
    groups = await group_ids(conn, body_id)
    now = today()
    people = await mandates.members_of(conn, body_id, now)
    existing: dict[str, tuple[int, str]] = {p.card_no: (p.id, p.name) for p in people}
    former = {
        p.card_no: p for p in people if p.mandates and all(x.ends_on and x.ends_on <= now for x in p.mandates)
    }
    plan = RosterPlan(errors=list(errors), ignored=cols.ignored, headers=cols.headers)
    listed = {row.card_no for row in rows}
    for p in people:
        open_mandate = p.open_mandate
        if open_mandate is not None and p.card_no not in listed:
            plan.missing.append(MissingMember(p.id, p.name, p.group, p.card_no, open_mandate.starts_on))
    for row in rows:
        if row.valid and row.card_no in former:
            gone = former[row.card_no]
            last = gone.mandates[-1]
            assert last.ends_on is not None
            plan.errors.append(
                RowError(
                    row.row,
                    "card_no",
                    f"该{cols.label('card_no')}属于已终止代表资格的{gone.name}"
                    f"（{last.ends_on.isoformat()} 起，{last.end_reason_name}），"
                    "导入不会恢复其代表资格；如系补选请使用名册页面的“补选代表”",
                    cols.label("card_no"),
                )
            )
            continue
        if row.group and row.group not in groups:
            if not create_groups:
                known = "、".join(groups) or "（本届尚未设置小组）"
                text = f"没有“{row.group}”这个小组；已有：{known}"
                plan.errors.append(RowError(row.row, "group", text, cols.label("group")))
                continue
            if row.group not in plan.new_groups:
                plan.new_groups.append(row.group)
        if not row.valid:
            continue
        if row.card_no in existing:
            deputy_id, name_now = existing[row.card_no]
            plan.updates.append((deputy_id, row))
            if name_now != row.name:  # a card number typed wrong would overwrite someone else
                plan.renamed.append((row, name_now))
        else:
            plan.inserts.append(row)
    plan.errors.sort(key=lambda e: e.row)
    return plan


def check_choices(plan: RosterPlan, choices: dict[int, EndChoice]) -> list[str]:
    """Every reason a choice cannot be applied, naming the member; [] when all can."""
    missing = {x.deputy_id: x for x in plan.missing}
    problems: list[str] = []
    for deputy_id, choice in choices.items():
        who = missing.get(deputy_id)
        if who is None:
            problems.append("所选代表不在“名册中未出现”的名单中（名册可能已被修改），请重新上传预览。")
            continue
        held = mandates.Mandate(0, deputy_id, who.starts_on, "", None, "", "", "", None)
        try:
            mandates.check_end(held, who.name, choice.ends_on, choice.reason, choice.organ, choice.document)
        except mandates.Refused as refused:
            text = str(refused)
            problems.append(text if who.name in text else f"{who.name}：{text}")
    return problems


async def write_roster(
    conn: AsyncConnection,
    body_id: int,
    plan: RosterPlan,
    starts_on: dt.date | None = None,
    by: str = "",
    choices: dict[int, EndChoice] | None = None,
    device: str = "",
) -> None:
    """Write the plan; each new deputy's mandate starts on ``starts_on`` (by default the
    running term's first day); the mandates of ``choices`` end. A bad choice raises
    :class:`server.office.mandates.Refused` before anything is written."""
    if plan.errors:
        raise ValueError("a roster plan with errors is never written")
    choices = choices or {}
    problems = check_choices(plan, choices)
    if problems:
        raise mandates.Refused("；".join(problems))
    groups = await group_ids(conn, body_id)
    position = (
        await conn.execute(
            select(func.coalesce(func.max(m.groups.c.position), -1)).where(m.groups.c.body_id == body_id)
        )
    ).scalar_one()
    for name in plan.new_groups:
        position += 1
        result = await conn.execute(
            insert(m.groups).values(body_id=body_id, name=name, position=position).returning(m.groups.c.id)
        )
        groups[name] = int(result.scalar_one())
    starts_on = starts_on or await members.default_start(conn, body_id)
    now_ms = time.time_ns() // 1_000_000
    # One statement per table, not one per row: the write lock is held while this runs,
    # and the hall's check-ins and ballots wait for it (3,000 rows: 2.8 s row by row).
    if plan.inserts:
        added = await conn.execute(
            insert(m.deputies).returning(m.deputies.c.id, sort_by_parameter_order=True),
            [
                {
                    "body_id": body_id,
                    "group_id": groups[row.group],
                    "name": row.name,
                    "card_no": row.card_no,
                    "short_code": row.short_code or new_short_code(),
                    "card_version": 1,
                    "phone": row.phone,
                    "notes": row.notes,
                }
                for row in plan.inserts
            ],
        )
        new_ids = [int(i) for i in added.scalars()]
        await members.start_mandates(conn, new_ids, starts_on, "elected", by, now_ms)
    for with_code in (False, True):  # executemany needs the same columns in every row
        changes: list[dict[str, Any]] = [
            {
                "deputy_id": deputy_id,
                "name": row.name,
                "group_id": groups[row.group],
                "phone": row.phone,
                "notes": row.notes,
                **({"short_code": row.short_code} if with_code else {}),
            }
            for deputy_id, row in plan.updates
            if bool(row.short_code) == with_code
        ]
        if changes:
            columns: dict[str, Any] = {k: bindparam(k) for k in changes[0] if k != "deputy_id"}
            stmt = update(m.deputies).where(m.deputies.c.id == bindparam("deputy_id")).values(**columns)
            await conn.execute(stmt, changes)
    for deputy_id, choice in choices.items():
        await mandates.end_mandate(
            conn,
            deputy_id,
            choice.ends_on,
            choice.reason,
            choice.organ,
            choice.document,
            choice.document_on,
            by or "roster_import",
            device,
        )
        plan.ended.append(deputy_id)
    plan.starts_on = starts_on
    plan.written = True


async def import_roster(
    conn: AsyncConnection,
    body_id: int,
    data: bytes | Parsed[DeputyRow],
    filename: str,
    *,
    create_groups: bool = False,
    dry_run: bool = False,
    starts_on: dt.date | None = None,
    choices: dict[int, EndChoice] | None = None,
    by: str = "",
    device: str = "",
) -> RosterPlan:
    """Plan, and write when there is no error and no dry run; the caller owns the transaction.
    ``data``: the file, or the file already read (the web face reads it in the workshop)."""
    parsed = read_roster(data, filename) if isinstance(data, bytes) else data
    plan = await plan_roster(conn, body_id, parsed, create_groups=create_groups)
    if not plan.errors and not dry_run:
        await write_roster(conn, body_id, plan, starts_on, by, choices, device)
    return plan
