"""Responsible organs (承办单位) of a body: the list, its import, and each organ's link.

An organ is kept per body like the roster: a name unique in the body, a contact person and
a phone. The file (XLSX or CSV, read by :mod:`server.office.sheets`) has the columns
单位名称 (required), 联系人 and 联系电话; every row is checked and every problem named, and
the import writes all or nothing inside the caller's transaction. A name already in the
body updates that organ's contact and phone; an import never deletes an organ, and an
empty cell (or a column the file does not have) keeps what is stored, so a file of names
alone cannot wipe the contacts staff typed.

Each organ opens its own follow-up items through a personal link that carries its id and
``link_version`` (:meth:`server.base.keys.Keys.organ_link`). Staff revoke the link by
bumping the version: the old link then names a version that is no longer the organ's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import epoch_ms
from server.base.keys import Keys
from server.office import followup_rules
from server.office.columns import Parsed, RowError, find_columns, named_errors, row_cells
from server.office.imports import clean_phone, valid_phone
from server.office.sheets import is_formula, read_sheet
from server.storage import audit
from server.storage import models as m

HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("单位名称", "承办单位", "单位"),
    "contact": ("联系人",),
    "phone": ("联系电话", "电话", "手机"),
}
REQUIRED = ("name",)
MAX_LEN = {"name": 128, "contact": 64, "phone": 32}
LABELS = {"name": "单位名称", "contact": "联系人", "phone": "联系电话"}
SPACES = re.compile(r"[\s\u3000]+")

REVOKED = "此链接已停用，请向人大办公室索取新链接"
FORGED = "链接无效：请核对链接或向人大办公室索取。"
WHAT_TO_DO = (
    "用手机扫描上方二维码（或在浏览器中打开二维码下方的链接），即可查看本单位承办的督办事项、办理状态和答复期限。",
    "此链接为本单位专用，请妥善保管，勿转发给其他单位；如链接遗失或外泄，请联系人大办公室停用并换发新链接。",
)


class Refused(Exception):
    """Bad input: the Chinese message says why; nothing was written."""


@dataclass(frozen=True)
class OrganRow:
    row: int
    name: str
    contact: str
    phone: str


@dataclass
class OrgansPlan:
    inserts: list[OrganRow] = field(default_factory=list)
    updates: list[tuple[int, OrganRow]] = field(default_factory=list)  # (organ id, row)
    errors: list[RowError] = field(default_factory=list)
    ignored: tuple[str, ...] = ()
    written: bool = False

    def summary(self) -> str:
        return f"新增 {len(self.inserts)} 个单位，更新 {len(self.updates)} 个单位"


@dataclass(frozen=True)
class Organ:
    id: int
    body_id: int
    name: str
    contact: str
    phone: str
    link_version: int


def clean_text(text: str) -> str:
    return SPACES.sub(" ", text).strip()


def check_fields(name: str, contact: str, phone: str) -> tuple[tuple[str, str, str], list[tuple[str, str]]]:
    """One organ's fields cleaned, and every problem as (field, Chinese message)."""
    values = {"name": clean_text(name), "contact": clean_text(contact), "phone": clean_phone(phone)}
    problems: list[tuple[str, str]] = []
    for key, value in values.items():
        if is_formula(value) and not (key == "phone" and valid_phone(value)):
            problems.append((key, "不接受公式（以 =、+、-、@ 开头的内容），请填写文字"))
        elif len(value) > MAX_LEN[key]:
            problems.append((key, f"太长（最多 {MAX_LEN[key]} 个字）"))
        elif key == "phone" and value and not valid_phone(value):
            problems.append((key, f"“{value}”不是有效的电话号码（手机号 11 位，座机如 0573-12345678）"))
    if not values["name"]:
        problems.append(("name", "单位名称不能为空"))
    return (values["name"], values["contact"], values["phone"]), problems


def read_organs(data: bytes, filename: str) -> Parsed[OrganRow]:
    """A file read and every row checked on its own and against the others (no database):
    CPU work, run in the workshop by the web face."""
    sheet = read_sheet(data, filename)
    cols = find_columns(sheet, HEADERS, REQUIRED)
    rows: list[OrganRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, cells in row_cells(sheet, cols):
        if not any(cells.values()):
            continue
        (name, contact, phone), problems = check_fields(
            cells.get("name", ""), cells.get("contact", ""), cells.get("phone", "")
        )
        errors += [RowError(number, key, text) for key, text in problems]
        if name and name in seen:
            errors.append(RowError(number, "name", f"“{name}”与第 {seen[name]} 行重复"))
        elif name:
            seen[name] = number
        if not problems:
            rows.append(OrganRow(number, name, contact, phone))
    return Parsed(rows, named_errors(errors, cols), cols)


async def organs_of(conn: AsyncConnection, body_id: int) -> list[Organ]:
    rows = await conn.execute(
        select(
            m.organs.c.id,
            m.organs.c.body_id,
            m.organs.c.name,
            m.organs.c.contact,
            m.organs.c.phone,
            m.organs.c.link_version,
        )
        .where(m.organs.c.body_id == body_id)
        .order_by(m.organs.c.id)
    )
    return [Organ(*row) for row in rows]


async def organ(conn: AsyncConnection, organ_id: int) -> Organ | None:
    row = (
        await conn.execute(
            select(
                m.organs.c.id,
                m.organs.c.body_id,
                m.organs.c.name,
                m.organs.c.contact,
                m.organs.c.phone,
                m.organs.c.link_version,
            ).where(m.organs.c.id == organ_id)
        )
    ).first()
    return Organ(*row) if row is not None else None


async def import_organs(
    conn: AsyncConnection,
    body_id: int,
    data: bytes | Parsed[OrganRow],
    filename: str,
    *,
    dry_run: bool = False,
    actor: str = "",
    device: str = "",
) -> OrgansPlan:
    """Plan, and write (with its audit entry) when there is no error and no dry run; the
    caller owns the transaction. ``data``: the file, or the file already read."""
    parsed = read_organs(data, filename) if isinstance(data, bytes) else data
    existing = {o.name: o.id for o in await organs_of(conn, body_id)}
    plan = OrgansPlan(errors=list(parsed.errors), ignored=parsed.columns.ignored)
    for row in parsed.rows:
        found = existing.get(row.name)
        if found is None:
            plan.inserts.append(row)
        else:
            plan.updates.append((found, row))
    if plan.errors or dry_run:
        return plan
    now_ms = epoch_ms()
    for row in plan.inserts:
        values = {"contact": row.contact, "phone": row.phone}
        await conn.execute(
            insert(m.organs).values(body_id=body_id, name=row.name, created_at_ms=now_ms, **values)
        )
    for organ_id, row in plan.updates:
        kept = {k: v for k, v in (("contact", row.contact), ("phone", row.phone)) if v}
        if kept:  # an empty cell keeps what is stored: an import never deletes
            await conn.execute(update(m.organs).where(m.organs.c.id == organ_id).values(**kept))
    await audit.record(
        conn,
        "organs_imported",
        actor=actor,
        device=device,
        body_id=body_id,
        file=filename,
        summary=plan.summary(),
    )
    plan.written = True
    return plan


async def add_organ(
    conn: AsyncConnection, body_id: int, name: str, contact: str, phone: str, *, actor: str, device: str = ""
) -> int:
    """A new organ typed by staff; :class:`Refused` (nothing written) on bad input."""
    (name, contact, phone), problems = check_fields(name, contact, phone)
    if problems:
        raise Refused("；".join(f"{LABELS[k]}：{text}" for k, text in problems))
    if name in {o.name for o in await organs_of(conn, body_id)}:
        raise Refused(f"已有名为“{name}”的承办单位")
    result = await conn.execute(
        insert(m.organs)
        .values(body_id=body_id, name=name, contact=contact, phone=phone, created_at_ms=epoch_ms())
        .returning(m.organs.c.id)
    )
    organ_id = int(result.scalar_one())
    await audit.record(conn, "organ_added", actor=actor, device=device, body_id=body_id, what=name)
    return organ_id


async def edit_organ(
    conn: AsyncConnection, found: Organ, name: str, contact: str, phone: str, *, actor: str, device: str = ""
) -> None:
    """Rename an organ or change its contact; the link stays valid (same id, same version)."""
    (name, contact, phone), problems = check_fields(name, contact, phone)
    if problems:
        raise Refused("；".join(f"{LABELS[k]}：{text}" for k, text in problems))
    if name != found.name and name in {o.name for o in await organs_of(conn, found.body_id)}:
        raise Refused(f"已有名为“{name}”的承办单位")
    await conn.execute(
        update(m.organs).where(m.organs.c.id == found.id).values(name=name, contact=contact, phone=phone)
    )
    what = name if name == found.name else f"{found.name} → {name}"  # the roster page's 内容 column
    await audit.record(conn, "organ_edited", actor=actor, device=device, body_id=found.body_id, what=what)


async def revoke_link(conn: AsyncConnection, found: Organ, *, actor: str, device: str = "") -> int:
    """Every link given out so far stops working; the new version's link is the one to hand out."""
    version = found.link_version + 1
    await conn.execute(update(m.organs).where(m.organs.c.id == found.id).values(link_version=version))
    what = f"{found.name}（原链接停用，第 {version} 版链接起用）"
    await audit.record(
        conn, "organ_link_revoked", actor=actor, device=device, body_id=found.body_id, what=what
    )
    return version


def link_url(public_url: str, keys: Keys, found: Organ) -> str:
    """The organ's link at the office server's address (WENZHENG_PUBLIC_URL)."""
    return f"{public_url}/o/{keys.organ_link(found.id, found.link_version)}"


async def organ_of_link(conn: AsyncConnection, keys: Keys, token: str) -> Organ | str:
    """The organ a link opens, or why it opens nothing: ``'forged'`` or ``'revoked'``."""
    read = keys.read_organ_link(token)
    if read is None:
        return "forged"
    found = await organ(conn, read[0])
    if found is None:
        return "forged"  # signed by us for an organ since removed: nothing to show either way
    return found if found.link_version == read[1] else "revoked"


@dataclass(frozen=True)
class OrganItem:
    id: int
    title: str
    status: str
    reply_due: dt.date
    priority: bool
    lead: bool


STATUS_NAMES = followup_rules.STATUSES
# The organ's page reminds of what is due within a week (the board looks 14 days ahead).
SOON_DAYS = 7


@dataclass(frozen=True)
class Reminders:
    """What the organ's page says at the top, computed on request (no cron)."""

    overdue: frozenset[int]  # item ids past the deadline with no reply
    soon: frozenset[int]  # item ids whose reply is due within SOON_DAYS days

    def text(self) -> str:
        return f"{SOON_DAYS} 天内到期 {len(self.soon)} 项，已逾期 {len(self.overdue)} 项"


def reminders(items: list[OrganItem], today: dt.date) -> Reminders:
    """Overdue: the China date is past the deadline (the deadline day itself is in time)
    and no reply came; due soon: due from today to SOON_DAYS days ahead."""
    late = frozenset(i.id for i in items if followup_rules.overdue(i.status, i.reply_due, today))
    soon = frozenset(
        i.id for i in items if followup_rules.due_within(i.status, i.reply_due, today, SOON_DAYS)
    )
    return Reminders(late, soon)


async def items_of(conn: AsyncConnection, organ_id: int) -> list[OrganItem]:
    """The follow-up items this organ leads or assists with, and no other."""
    i, io = m.followup_items.c, m.followup_item_organs.c
    rows = await conn.execute(
        select(i.id, i.title, i.status, i.reply_due, i.priority, io.lead)
        .select_from(m.followup_items.join(m.followup_item_organs, io.item_id == i.id))
        .where(io.organ_id == organ_id)
        .order_by(i.reply_due, i.id)
    )
    return [OrganItem(int(a), str(b), str(c), d, bool(e), bool(f)) for a, b, c, d, e, f in rows]
