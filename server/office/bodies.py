"""A body's records as the office keeps them: the bodies, their officials, edits by hand.

Imports of whole rosters are in :mod:`server.office.imports`; these are the reads the pages
need, creating and editing a body (each recorded in the audit trail here, in the caller's
transaction), and the edits of one deputy or one official (the caller records those).
Bad input raises :class:`Invalid` with a Chinese message per field and writes nothing.
Terms and sessions are in :mod:`server.office.terms`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import BodyKind, Quorum
from server.base import parse
from server.base.days import today
from server.office.body_rules import BODY_RULES, KIND_KEYS_ALL, LEVELS, QUORUMS, read_rules
from server.office.imports import DeputyRow, OfficialRow, clean_name
from server.office.meeting_forms import Invalid
from server.storage import audit, members
from server.storage import models as m

NAME_MAX = 64

TEXT: Mapping[str, str] = MappingProxyType(
    {
        "name_empty": "请填写机构名称，如“某县人民代表大会常务委员会”。",
        "name_long": f"机构名称不能超过 {NAME_MAX} 个字。",
        "name_unreadable": "机构名称含有无法识别的字符（如控制字符），请删去后重试。",
        "name_taken": "已有名为“{name}”的机构，请换一个名称。",
        "kind": "机构类型须为人民代表大会或人大常委会。",
        "level": "级别须为乡镇、县级、设区的市级或省级。",
        "town_standing": "乡镇不设人大常委会：乡镇人大的主席团在闭会期间负责日常工作。",
        "kind_fixed": "这个机构已经有会议，机构类型不能再修改。",
        "quorum": "法定人数须为三分之二以上或过半数。",
        "no_body": "找不到这个机构。",
        "office_only": "机构、届次和会次只能由管理员或会务人员维护。",
    }
)


class Who:
    """Who makes a change, as the audit trail names them."""

    def __init__(self, actor: str, device: str) -> None:
        self.actor = actor
        self.device = device


async def every_body(conn: AsyncConnection) -> list[Any]:
    return list((await conn.execute(select(m.bodies).order_by(m.bodies.c.id))).all())


async def body(conn: AsyncConnection, body_id: int) -> Any:
    return (await conn.execute(select(m.bodies).where(m.bodies.c.id == body_id))).first()


async def deputy_count(conn: AsyncConnection, body_id: int) -> int:
    """Members today (whose mandate covers today)."""
    return len((await members.on_day(conn, body_id, today())).members)


async def officials(conn: AsyncConnection, body_id: int) -> list[Any]:
    o = m.officials
    return list((await conn.execute(select(o).where(o.c.body_id == body_id).order_by(o.c.id))).all())


async def official(conn: AsyncConnection, body_id: int, official_id: int) -> Any:
    o = m.officials
    return (await conn.execute(select(o).where(o.c.id == official_id, o.c.body_id == body_id))).first()


async def update_deputy(
    conn: AsyncConnection, body_id: int, deputy_id: int, row: DeputyRow, group_id: int
) -> None:
    d = m.deputies
    await conn.execute(
        update(d)
        .where(d.c.id == deputy_id, d.c.body_id == body_id)
        .values(name=row.name, group_id=group_id, phone=row.phone, notes=row.notes)
    )


async def update_official(conn: AsyncConnection, body_id: int, official_id: int, row: OfficialRow) -> None:
    o = m.officials
    await conn.execute(
        update(o)
        .where(o.c.id == official_id, o.c.body_id == body_id)
        .values(name=row.name, title=row.title, organisation=row.organisation)
    )


# -- creating and editing a body -------------------------------------------------------------


def _check_name(raw: str) -> str:
    name = clean_name(raw or "")
    if not name:
        raise Invalid({"name": TEXT["name_empty"]})
    if len(name) > NAME_MAX:
        raise Invalid({"name": TEXT["name_long"]})
    if parse.text(name, NAME_MAX) is None:
        raise Invalid({"name": TEXT["name_unreadable"]})
    return name


def check_kind(raw: str) -> BodyKind:
    kind = KIND_KEYS_ALL.get((raw or "").strip())
    if kind is None:
        raise Invalid({"kind": TEXT["kind"]})
    return kind


def check_level(raw: str) -> str:
    level = (raw or "").strip()
    if level not in LEVELS:
        raise Invalid({"level": TEXT["level"]})
    return level


async def _name_taken(conn: AsyncConnection, name: str, but: int | None = None) -> bool:
    query = select(m.bodies.c.id).where(m.bodies.c.name == name)
    if but is not None:
        query = query.where(m.bodies.c.id != but)
    return (await conn.execute(query)).first() is not None


async def _checked(
    conn: AsyncConnection, name: str, kind: str, level: str, but: int | None = None
) -> tuple[str, BodyKind, str]:
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    for key, check, raw in (
        ("name", _check_name, name),
        ("kind", check_kind, kind),
        ("level", check_level, level),
    ):
        try:
            checked[key] = check(raw)
        except Invalid as bad:
            errors.update(bad.errors)
    if "name" in checked and await _name_taken(conn, checked["name"], but):
        errors["name"] = TEXT["name_taken"].format(name=checked["name"])
    if checked.get("kind") is BodyKind.STANDING_COMMITTEE and checked.get("level") == "town":
        errors["level"] = TEXT["town_standing"]
    if errors:
        raise Invalid(errors)
    return checked["name"], checked["kind"], checked["level"]


async def create_body(conn: AsyncConnection, name: str, kind: str, level: str, who: Who) -> int:
    """A new body; ``kind`` congress | standing-committee, ``level`` town … province."""
    name, body_kind, level = await _checked(conn, name, kind, level)
    result = await conn.execute(
        insert(m.bodies)
        .values(name=name, kind=body_kind.value, level=level, rules="{}")
        .returning(m.bodies.c.id)
    )
    body_id = int(result.scalar_one())
    await audit.record(
        conn,
        "body_created",
        actor=who.actor,
        device=who.device,
        body_id=body_id,
        name=name,
        kind=body_kind.value,
        level=level,
        summary=f"{name}（{BODY_RULES[body_kind].label}，{LEVELS[level]}）",
    )
    return body_id


async def meeting_count(conn: AsyncConnection, body_id: int) -> int:
    stmt = select(func.count()).select_from(m.meetings).where(m.meetings.c.body_id == body_id)
    return int((await conn.execute(stmt)).scalar_one())


async def edit_body(
    conn: AsyncConnection, body_id: int, name: str, kind: str, level: str, quorum: str, who: Who
) -> None:
    """Name, level, the quorum rule (``""``: the law's), and the kind while it has no meeting."""
    row = await body(conn, body_id)
    if row is None:
        raise Invalid({"body": TEXT["no_body"]})
    errors: dict[str, str] = {}
    try:
        name, body_kind, level = await _checked(conn, name, kind, level, but=body_id)
    except Invalid as bad:
        errors.update(bad.errors)
        body_kind = BodyKind(row.kind)
    if body_kind.value != row.kind and await meeting_count(conn, body_id):
        errors["kind"] = TEXT["kind_fixed"]
    wanted = (quorum or "").strip()
    if wanted and wanted not in set(Quorum):
        errors["quorum"] = TEXT["quorum"]
    if errors:
        raise Invalid(errors)
    rules = read_rules(row.rules)
    # The law's own rule is no override: kept empty, it follows the kind if that changes.
    if wanted and Quorum(wanted) != BODY_RULES[body_kind].default_quorum:
        rules["quorum"] = wanted
    else:
        rules.pop("quorum", None)
    new = {"name": name, "kind": body_kind.value, "level": level, "rules": json.dumps(rules, sort_keys=True)}
    changed = {k: v for k, v in new.items() if getattr(row, k) != v}
    if not changed:
        return
    await conn.execute(update(m.bodies).where(m.bodies.c.id == body_id).values(**changed))
    await audit.record(
        conn,
        "body_edited",
        actor=who.actor,
        device=who.device,
        body_id=body_id,
        changed={k: [getattr(row, k), v] for k, v in changed.items()},
        summary="；".join(f"{k}：{getattr(row, k)} → {v}" for k, v in changed.items()),
    )


def quorum_choices() -> Mapping[Quorum, str]:
    return QUORUMS
