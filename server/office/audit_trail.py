"""A meeting's audit trail for people: the event log and the preparation work, in Chinese.

The event log (``events``) already records who changed what, when and from which device;
this module turns its rows into lines a clerk can read (an event's Chinese name, the
actor's display name, a short summary of the data) and writes them as CSV (UTF-8 with a
BOM, so Excel opens the Chinese) or XLSX. The meeting's entries in the ``audit`` table
(preparation and office work: cards re-issued, the meeting's rules edited) are
included and marked as 准备工作.

Secret choices never appear: the log does not hold them (:func:`live.events.to_record`),
and the summaries of a rating and of a secret vote never read a choice even if one were
there. Every exported cell is guarded against spreadsheet formula injection.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.events import from_record
from server.base.days import stamp_of_ms
from server.office.audit_text import EVENT_NAMES, Names, describe, describe_preparation
from server.storage import audit
from server.storage import models as m
from server.storage.store import load_setup

HEADERS = ("序号", "时间", "事件", "操作人", "设备", "内容", "类别")
EVENT_CATEGORY = "会议事件"
PREPARATION_CATEGORY = "准备工作"  # the audit table: before or beside the meeting
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ (or tab, CR) gets a quote."""
    value = _CONTROL.sub("", value)
    return "'" + value if value.startswith(FORMULA_START) else value


@dataclass(frozen=True)
class Row:
    """One line of the trail: an event (with its seq) or a preparation entry (seq None)."""

    seq: int | None
    at_ms: int
    kind: str  # the event type or the audit action
    name: str
    actor: str
    device: str
    summary: str

    @property
    def preparation(self) -> bool:
        return self.seq is None

    @property
    def category(self) -> str:
        return PREPARATION_CATEGORY if self.preparation else EVENT_CATEGORY

    @property
    def when(self) -> str:
        return stamp_of_ms(self.at_ms)  # China time, whatever the server's zone

    def cells(self) -> list[str]:
        values = ["" if self.seq is None else str(self.seq), self.when, self.name, self.actor]
        return [safe_cell(v) for v in [*values, self.device, self.summary, self.category]]


async def names_for(conn: AsyncConnection, meeting_id: int) -> Names:
    """Raises :class:`server.storage.store.MeetingNotFound` for an unknown meeting."""
    setup = await load_setup(conn, meeting_id)
    staff = {u: d for u, d in await conn.execute(select(m.users.c.username, m.users.c.display_name))}
    votes: dict[int, str] = {}
    opened = await conn.execute(
        select(m.events.c.data).where(m.events.c.meeting_id == meeting_id, m.events.c.type == "VoteOpened")
    )
    for (data,) in opened:
        d = json.loads(data)
        votes[int(d["vote_id"])] = str(d.get("title", ""))
    return Names(setup, staff, votes)


def _event_row(r: Any, names: Names) -> Row:
    try:
        summary = describe(from_record(r.type, json.loads(r.data)), names)
    except (ValueError, TypeError, KeyError):  # a row this version cannot read: no raw data
        summary = "（无法解析的记录）"
    return Row(
        r.seq, r.created_ms, r.type, EVENT_NAMES.get(r.type, r.type), names.actor(r.actor), r.device, summary
    )


def _where(meeting_id: int, kind: str) -> Any:
    where = [m.events.c.meeting_id == meeting_id]
    if kind:
        where.append(m.events.c.type == kind)
    return where


async def count_events(conn: AsyncConnection, meeting_id: int, kind: str = "") -> int:
    stmt = select(func.count()).select_from(m.events).where(*_where(meeting_id, kind))
    return int((await conn.execute(stmt)).scalar_one())


async def event_rows(
    conn: AsyncConnection,
    names: Names,
    *,
    kind: str = "",
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[Row]:
    """The meeting's events, optionally of one type, by seq."""
    t = m.events
    stmt = (
        select(t.c.seq, t.c.type, t.c.data, t.c.actor, t.c.device, t.c.created_ms)
        .where(*_where(names.setup.meeting_id, kind))
        .order_by(t.c.seq.desc() if newest_first else t.c.seq)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_event_row(r, names) for r in await conn.execute(stmt)]


async def preparation_rows(conn: AsyncConnection, names: Names, *, newest_first: bool = False) -> list[Row]:
    """The meeting's entries in the ``audit`` table."""
    t = m.audit
    stmt = (
        select(t.c.at_ms, t.c.actor, t.c.device, t.c.action, t.c.detail)
        .where(t.c.meeting_id == names.setup.meeting_id)
        .order_by(t.c.id.desc() if newest_first else t.c.id)
    )
    rows = []
    for r in await conn.execute(stmt):
        try:
            detail = json.loads(r.detail or "{}")
        except ValueError:
            detail = {}
        name = audit.ACTIONS.get(r.action, r.action)
        summary = describe_preparation(detail if isinstance(detail, dict) else {}, names)
        rows.append(Row(None, r.at_ms, r.action, name, names.actor(r.actor), r.device, summary))
    return rows


async def trail(conn: AsyncConnection, meeting_id: int) -> tuple[Names, list[Row]]:
    """Everything, oldest first: preparation entries and events merged by time."""
    names = await names_for(conn, meeting_id)
    rows = [*await preparation_rows(conn, names), *await event_rows(conn, names)]
    rows.sort(key=lambda r: (r.at_ms, r.seq is not None, r.seq or 0))  # stable: audit ids keep order
    return names, rows


def to_csv(rows: list[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(row.cells())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[Row]) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs in the project

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "操作记录"
    sheet.append(list(HEADERS))
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row.cells(), start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            cell.data_type = "s"  # text, never a formula
    for letter, width in zip("ABCDEFG", (8, 20, 16, 26, 36, 60, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(title: str, ext: str) -> str:
    return f"操作记录-{title}.{ext}"
