"""The proceedings read from the database, and the staff's free paragraph saved to it.

:func:`gather` reads the meeting's record (server/record/load.py), its chair and note
(``meetings.chair``, ``meetings.record_note``) and its reporters, and builds the document
model; :func:`save_note` checks and stores the note with an audit entry, in one
transaction. Neither touches HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import meeting_forms
from server.record import charts
from server.record.load import held_meeting
from server.record.proceedings import Proceedings, proceedings
from server.record.reporters import reporters
from server.storage import audit
from server.storage import models as m

MAX_NOTE = 2000
CHARTS = ("satisfaction", "speaking")  # the charts the proceedings show


class BadNote(ValueError):
    """The note was refused; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class RecordPage:
    """What the print view needs beside the document: the body, the note as typed."""

    body_id: int
    chair: str
    note: str
    closed: bool
    rehearsal: bool
    doc: Proceedings
    # The rows of the charts the document shows (server/record/charts.py), by kind: they
    # go to the workshop with the document, where the PNGs are drawn.
    chart_rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)


async def gather(conn: AsyncConnection, meeting_id: int, now_ms: int) -> RecordPage:
    """Raises store.MeetingNotFound for a meeting that does not exist."""
    held = await held_meeting(conn, meeting_id)
    rows = {k: v for k, v in charts.meeting_rows(held.record).items() if k in CHARTS}
    row = (
        await conn.execute(
            select(m.meetings.c.chair, m.meetings.c.record_note).where(m.meetings.c.id == meeting_id)
        )
    ).one()
    note = str(row.record_note or "")
    doc = proceedings(
        held.record,
        chair=str(row.chair or ""),
        note=note,
        reporters=await reporters(conn, meeting_id),
        as_of_ms=now_ms,
        charts=tuple(rows),
    )
    chair = str(row.chair or "")
    return RecordPage(held.body_id, chair, note, held.record.closed, held.rehearsal, doc, rows)


def check_note(raw: str) -> str:
    """The note as stored: line ends made plain, blank ends trimmed; refused when too long."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > MAX_NOTE:
        raise BadNote(f"说明最多 {MAX_NOTE} 字，现有 {len(text)} 字，请删减后再保存。")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise BadNote("说明中有无法显示的控制字符，请删去后再保存。")
    return text


def check_chair(raw: str) -> str:
    """The chair as the meeting's edit page checks it (one rule for both forms)."""
    try:
        return meeting_forms.check_chair(raw)
    except meeting_forms.Invalid as refused:
        raise BadNote(next(iter(refused.errors.values()))) from None


async def save_note(
    conn: AsyncConnection, meeting_id: int, chair: str, note: str, actor: str, device: str
) -> bool:
    """Store the chair's name and the note; False when there is no such meeting. Raises
    :class:`BadNote` (nothing stored)."""
    name, text = check_chair(chair), check_note(note)
    done = await conn.execute(
        update(m.meetings).where(m.meetings.c.id == meeting_id).values(chair=name, record_note=text)
    )
    if not done.rowcount:
        return False
    await audit.record(
        conn,
        "meeting_edited",
        actor=actor,
        device=device,
        meeting_id=meeting_id,
        what="会议记录说明",
        summary=f"主持人：{name or '未填'}；说明：{f'{len(text)} 字' if text else '未填'}",
    )
    return True
