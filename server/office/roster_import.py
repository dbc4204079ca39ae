"""A roster into the body: plan (what would change, every error named), then write.

Writing is all or nothing inside the caller's transaction, and only when the plan has no
error and the caller did not ask for a dry run. A card number already in the body updates
that deputy; a new one inserts a deputy (a random short code, card version 1) with a
mandate from ``starts_on`` (by default the running term's first day). Reading and checking
the file is :mod:`server.office.imports`.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office.imports import RosterPlan, RowError, Sheet, new_short_code, parse_roster, read_sheet
from server.storage import members
from server.storage import models as m


async def group_ids(conn: AsyncConnection, body_id: int) -> dict[str, int]:
    rows = await conn.execute(
        select(m.groups.c.name, m.groups.c.id)
        .where(m.groups.c.body_id == body_id)
        .order_by(m.groups.c.position, m.groups.c.id)
    )
    return {str(name): int(gid) for name, gid in rows}


async def plan_roster(
    conn: AsyncConnection, body_id: int, sheet: Sheet, *, create_groups: bool = False
) -> RosterPlan:
    rows, errors = parse_roster(sheet)
    groups = await group_ids(conn, body_id)
    existing: dict[str, tuple[int, str]] = {
        str(card): (int(did), str(name))
        for card, did, name in await conn.execute(
            select(m.deputies.c.card_no, m.deputies.c.id, m.deputies.c.name).where(
                m.deputies.c.body_id == body_id
            )
        )
    }
    plan = RosterPlan(errors=errors)
    for row in rows:
        if row.group and row.group not in groups:
            if not create_groups:
                known = "、".join(groups) or "（本届尚未设置小组）"
                plan.errors.append(RowError(row.row, "group", f"没有“{row.group}”这个小组；已有：{known}"))
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


async def write_roster(
    conn: AsyncConnection, body_id: int, plan: RosterPlan, starts_on: dt.date | None = None, by: str = ""
) -> None:
    """Write the plan; each new deputy's mandate starts on ``starts_on`` (by default the
    running term's first day)."""
    if plan.errors:
        raise ValueError("a roster plan with errors is never written")
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
    for row in plan.inserts:
        added = await conn.execute(
            insert(m.deputies)
            .values(
                body_id=body_id,
                group_id=groups[row.group],
                name=row.name,
                card_no=row.card_no,
                short_code=row.short_code or new_short_code(),
                card_version=1,
                phone=row.phone,
                notes=row.notes,
            )
            .returning(m.deputies.c.id)
        )
        await members.start_mandate(conn, int(added.scalar_one()), starts_on, "elected", by, now_ms)
    for deputy_id, row in plan.updates:
        values: dict[str, Any] = {"name": row.name, "group_id": groups[row.group], "phone": row.phone}
        values["notes"] = row.notes
        if row.short_code:
            values["short_code"] = row.short_code
        await conn.execute(update(m.deputies).where(m.deputies.c.id == deputy_id).values(**values))
    plan.written = True


async def import_roster(
    conn: AsyncConnection,
    body_id: int,
    data: bytes,
    filename: str,
    *,
    create_groups: bool = False,
    dry_run: bool = False,
    starts_on: dt.date | None = None,
) -> RosterPlan:
    """Plan, and write when there is no error and no dry run; the caller owns the transaction."""
    plan = await plan_roster(conn, body_id, read_sheet(data, filename), create_groups=create_groups)
    if not plan.errors and not dry_run:
        await write_roster(conn, body_id, plan, starts_on)
    return plan
