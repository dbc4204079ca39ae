"""Who reports on an agenda item (a 述职评议, migration 0016), chosen on the meeting's edit page.

One choice per item, from one select: nobody, a deputies' group of the meeting's body
(``group:<id>``), a member of it on the meeting's day (``member:<id>``), or a deputy of the
higher congress elected here, the seed's "2+X" (``higher``: the name and congress typed,
since such a deputy is not on this body's roster). The choice is parsed whole and written
whole: the four reporter columns change together or not at all, and a refusal names the
field in Chinese (:class:`Invalid`).

Who reports is a name, not a rule of the meeting: it may be set or corrected after the
meeting began (the hall reloads its setup and shows the new name; the rating already taken
is the named reporter's). Every change is audited as ``meeting_edited``. The functions run
in the caller's transaction; server/record/reporters.py reads what is written here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from screens.messages import reporter_label
from server.base import parse
from server.base.days import today
from server.office.bodies import Who
from server.office.meeting_forms import Invalid
from server.storage import audit, members
from server.storage import models as m

ACTION = "agenda_reporter"
NAME_MAX = 64  # agenda_items.reporter_name
CONGRESS_MAX = 100  # agenda_items.reporter_congress

TEXT = {
    "unknown_item": "找不到这个议程项。",
    "choice": "请选择述职人：不设、本机构的代表小组、本机构的代表或上级人大代表。",
    "group": "所选代表小组不属于本机构，请重新选择。",
    "member": "所选代表不是本机构在会议当日的组成人员，请重新选择。",
    "suspended": "所选代表在会议当日暂停执行代表职务，不能述职。",
    "name_empty": "请填写上级人大代表的姓名。",
    "name_long": f"上级人大代表的姓名不能超过 {NAME_MAX} 个字。",
    "name_unreadable": "姓名含有无法识别的字符（如控制字符），请删去后重试。",
    "congress_long": f"所属人大不能超过 {CONGRESS_MAX} 个字。",
    "congress_unreadable": "所属人大含有无法识别的字符（如控制字符），请删去后重试。",
}


@dataclass(frozen=True)
class Choices:
    """What the select offers for a meeting: its body's groups and its members that day."""

    groups: dict[int, str]  # id -> name, in the body's order
    members: dict[int, str]  # id -> "name（group）", by group then name

    def value(self, item: Any) -> str:
        """The select's value for an item as stored."""
        if item.reporter_kind == "group":
            return f"group:{item.reporter_group_id}"
        if item.reporter_kind == "member":
            return f"member:{item.reporter_deputy_id}"
        return str(item.reporter_kind)

    def label(self, item: Any) -> str:
        """The item's reporter as the hall names it; "" when nobody is named."""
        if item.reporter_kind == "group":
            return self.groups.get(item.reporter_group_id, "")
        if item.reporter_kind == "member":
            return self.members.get(item.reporter_deputy_id, "")
        return reporter_label(item.reporter_kind, item.reporter_name, congress=item.reporter_congress)


@dataclass(frozen=True)
class Choice:
    kind: str  # "", group, member, higher
    group_id: int | None = None
    deputy_id: int | None = None
    name: str = ""
    congress: str = ""


def _day(meeting: Any) -> dt.date:
    """The meeting's day decides who is a member (应到 counts the same way)."""
    day = meeting.held_on or today()
    assert isinstance(day, dt.date)
    return day


async def choices(conn: AsyncConnection, meeting: Any) -> Choices:
    """Groups of the meeting's body and its members on the meeting's day (not suspended)."""
    g, d = m.groups, m.deputies
    groups = {
        int(r.id): str(r.name)
        for r in await conn.execute(
            select(g.c.id, g.c.name).where(g.c.body_id == meeting.body_id).order_by(g.c.position, g.c.id)
        )
    }
    on_day = await members.on_day(conn, meeting.body_id, _day(meeting))
    rows = await conn.execute(
        select(d.c.id, d.c.name, g.c.name.label("group_name"))
        .outerjoin(g, g.c.id == d.c.group_id)
        .where(d.c.body_id == meeting.body_id)
        .order_by(g.c.position, d.c.name, d.c.id)
    )
    people = {
        int(r.id): reporter_label("member", str(r.name), str(r.group_name or ""))
        for r in rows
        if r.id in on_day.members and r.id not in on_day.suspended
    }
    return Choices(groups, people)


async def parse_choice(conn: AsyncConnection, meeting: Any, form: Mapping[str, str]) -> Choice:
    """The form's choice, checked against the meeting's body and day; raises Invalid."""
    raw = form.get("reporter", "")
    kind, _, ref = raw.partition(":")
    if raw == "":
        return Choice("")
    if kind == "higher" and not ref:
        return _higher(form)
    row_id = parse.row_id(ref)
    if kind == "group" and row_id is not None:
        gc = m.groups.c
        found = (await conn.execute(select(gc.body_id).where(gc.id == row_id))).scalar()
        if found != meeting.body_id:
            raise Invalid({"reporter": TEXT["group"]})
        return Choice("group", group_id=row_id)
    if kind == "member" and row_id is not None:
        dc = m.deputies.c
        body = (await conn.execute(select(dc.body_id).where(dc.id == row_id))).scalar()
        on_day = await members.on_day(conn, meeting.body_id, _day(meeting))
        if body != meeting.body_id or row_id not in on_day.members:
            raise Invalid({"reporter": TEXT["member"]})
        if row_id in on_day.suspended:
            raise Invalid({"reporter": TEXT["suspended"]})
        return Choice("member", deputy_id=row_id)
    raise Invalid({"reporter": TEXT["choice"]})


def _typed(raw: str, limit: int, field: str, long: str, unreadable: str) -> tuple[str, dict[str, str]]:
    """A typed line: spaces (and line breaks) trimmed and made one; its refusal, if any."""
    value = " ".join(raw.split())
    if len(value) > limit:
        return value, {field: TEXT[long]}
    if parse.text(value, limit) is None:
        return value, {field: TEXT[unreadable]}
    return value, {}


def _higher(form: Mapping[str, str]) -> Choice:
    name, errors = _typed(
        form.get("reporter_name", ""), NAME_MAX, "reporter_name", "name_long", "name_unreadable"
    )
    if not name and not errors:
        errors["reporter_name"] = TEXT["name_empty"]
    congress, bad = _typed(
        form.get("reporter_congress", ""),
        CONGRESS_MAX,
        "reporter_congress",
        "congress_long",
        "congress_unreadable",
    )
    errors |= bad
    if errors:
        raise Invalid(errors)
    return Choice("higher", name=name, congress=congress)


async def _label(conn: AsyncConnection, choice: Choice) -> str:
    """The reporter as the audit trail's summary names it (the hall's wording)."""
    if choice.kind == "group":
        gc = m.groups.c
        name = (await conn.execute(select(gc.name).where(gc.id == choice.group_id))).scalar()
        return reporter_label("group", str(name or ""))
    if choice.kind == "member":
        d, g = m.deputies, m.groups
        row = (
            await conn.execute(
                select(d.c.name, g.c.name.label("group_name"))
                .outerjoin(g, g.c.id == d.c.group_id)
                .where(d.c.id == choice.deputy_id)
            )
        ).one()
        return reporter_label("member", str(row.name), str(row.group_name or ""))
    return reporter_label(choice.kind, choice.name, congress=choice.congress)


async def save(
    conn: AsyncConnection, meeting_id: int, meeting: Any, form: Mapping[str, str], who: Who
) -> None:
    """Set who reports on the item ``form["item_id"]`` of this meeting; raises Invalid."""
    ai = m.agenda_items
    item_id = parse.row_id(form.get("item_id"))
    item = (await conn.execute(select(ai).where(ai.c.id == item_id, ai.c.meeting_id == meeting_id))).first()
    if item is None:
        raise Invalid({"item": TEXT["unknown_item"]})
    try:
        choice = await parse_choice(conn, meeting, form)
    except Invalid as bad:
        raise Invalid({**bad.errors, "reporter_item": str(item.id)}) from bad
    await conn.execute(
        update(ai)
        .where(ai.c.id == item.id)
        .values(
            reporter_kind=choice.kind,
            reporter_group_id=choice.group_id,
            reporter_deputy_id=choice.deputy_id,
            reporter_name=choice.name,
            reporter_congress=choice.congress,
        )
    )
    label = await _label(conn, choice)
    await audit.record(
        conn,
        "meeting_edited",
        actor=who.actor,
        device=who.device,
        body_id=meeting.body_id,
        meeting_id=meeting_id,
        # The trail shows "summary" (server/office/audit_text.py); "field" only sorts it.
        field="reporter",
        item_id=item.id,
        reporter_kind=choice.kind,
        summary=f"第 {item.position} 项议程“{item.title}”的述职人：" + (label if label else "不设"),
    )
