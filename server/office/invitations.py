"""Invitation cards: each deputy's personal link, the printed sheet, the DOCX, re-issuing.

A card carries the signed invitation link (as a QR code), the card number and the short
code for binding by hand. The link names the card version; re-issuing a card raises the
version and draws a new short code, so the old link, the old short code and every phone
bound with them stop working as soon as the cache in :class:`server.room.meetings.Meetings`
holds the new card.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from screens.messages import schedule_line
from server.base.keys import Keys
from server.office.imports import new_short_code
from server.storage import models as m
from server.storage.cards import Card

CARDS_PER_PAGE = 8  # 2 columns × 4 rows on A4
COLUMNS = 2
FONT = "SimSun"


@dataclass(frozen=True)
class InvitationCard:
    deputy_id: int
    name: str
    group: str
    card_no: str
    short_code: str
    url: str


@dataclass(frozen=True)
class CardSheet:
    meeting_id: int
    title: str
    body_name: str
    groups: tuple[str, ...]  # every group of the body, for the filter
    cards: tuple[InvitationCard, ...]
    when: str = ""  # "2026年7月15日 14:30 · 镇人大会议室"

    def pages(self) -> list[tuple[InvitationCard, ...]]:
        return [self.cards[i : i + CARDS_PER_PAGE] for i in range(0, len(self.cards), CARDS_PER_PAGE)]


class NoSuchMeeting(LookupError):
    pass


def invitation_url(public_url: str, keys: Keys, meeting_id: int, deputy_id: int, card_version: int) -> str:
    return f"{public_url}/i/{meeting_id}/{keys.invitation(deputy_id, card_version)}"


def _card_order(card_no: str) -> tuple[int, str]:
    return (len(card_no), card_no)  # numeric card numbers in numeric order


async def card_sheet(
    conn: AsyncConnection, meeting_id: int, keys: Keys, public_url: str, group: str = ""
) -> CardSheet:
    """The cards of a meeting's body, by group and card number; only ``group`` if given."""
    meeting = (
        await conn.execute(
            select(
                m.meetings.c.title,
                m.meetings.c.body_id,
                m.meetings.c.held_on,
                m.meetings.c.starts_at,
                m.meetings.c.place,
                m.bodies.c.name,
            )
            .join(m.bodies, m.bodies.c.id == m.meetings.c.body_id)
            .where(m.meetings.c.id == meeting_id)
        )
    ).first()
    if meeting is None:
        raise NoSuchMeeting(meeting_id)
    groups = (
        await conn.execute(
            select(m.groups.c.id, m.groups.c.name)
            .where(m.groups.c.body_id == meeting.body_id)
            .order_by(m.groups.c.position, m.groups.c.id)
        )
    ).all()
    order = {gid: i for i, (gid, _) in enumerate(groups)}
    names = {gid: str(name) for gid, name in groups}
    result = await conn.execute(
        select(
            m.deputies.c.id,
            m.deputies.c.name,
            m.deputies.c.group_id,
            m.deputies.c.card_no,
            m.deputies.c.short_code,
            m.deputies.c.card_version,
        ).where(m.deputies.c.body_id == meeting.body_id)
    )
    rows = sorted(result.all(), key=lambda r: (order.get(r.group_id, len(order)), _card_order(r.card_no)))
    cards = tuple(
        InvitationCard(
            r.id,
            r.name,
            names.get(r.group_id, ""),
            r.card_no,
            r.short_code,
            invitation_url(public_url, keys, meeting_id, r.id, r.card_version),
        )
        for r in rows
        if not group or names.get(r.group_id) == group
    )
    when = schedule_line(meeting.held_on, meeting.starts_at, meeting.place)
    return CardSheet(meeting_id, str(meeting.title), str(meeting.name), tuple(names.values()), cards, when)


async def reissue(conn: AsyncConnection, body_id: int, deputy_id: int) -> Card | None:
    """A new version and short code for a deputy's card; None if not in that body."""
    row = (
        await conn.execute(
            select(m.deputies.c.card_no, m.deputies.c.card_version, m.deputies.c.short_code).where(
                m.deputies.c.id == deputy_id, m.deputies.c.body_id == body_id
            )
        )
    ).first()
    if row is None:
        return None
    code = new_short_code()
    while code == row.short_code:
        code = new_short_code()
    version = int(row.card_version) + 1
    await conn.execute(
        update(m.deputies).where(m.deputies.c.id == deputy_id).values(card_version=version, short_code=code)
    )
    return Card(deputy_id, body_id, str(row.card_no), code, version)


# -- the DOCX ------------------------------------------------------------------------------


def qr_png(url: str) -> bytes:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=6, border=2)
    return buf.getvalue()


def _run(paragraph: object, text: str, size: float, bold: bool = False) -> None:
    run = paragraph.add_run(text)  # type: ignore[attr-defined]
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def cards_docx(sheet: CardSheet) -> bytes:
    """The same sheet as a Word document: a 2-column table, four rows of cards a page."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(10))
    doc.styles["Normal"].paragraph_format.space_after = Pt(0)
    pages = sheet.pages() or [()]
    for number, cards in enumerate(pages):
        if number:
            doc.add_page_break()  # type: ignore[no-untyped-call]
        rows = (len(cards) + COLUMNS - 1) // COLUMNS
        table = doc.add_table(rows=max(rows, 1), cols=COLUMNS)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for row in table.rows:
            row.height = Mm(66)  # at least; 4 rows and the page break fit in 277 mm
        for i, card in enumerate(cards):
            cell = table.cell(i // COLUMNS, i % COLUMNS)
            cell.width = Mm(95)
            head = cell.paragraphs[0]
            head.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(head, f"{sheet.body_name}\n{sheet.title}" + (f"\n{sheet.when}" if sheet.when else ""), 8)
            name = cell.add_paragraph()
            name.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(name, card.name, 16, bold=True)
            _run(name, f"  {card.group}", 9)
            qr = cell.add_paragraph()
            qr.alignment = WD_ALIGN_PARAGRAPH.CENTER
            qr.add_run().add_picture(io.BytesIO(qr_png(card.url)), width=Mm(30))
            codes = cell.add_paragraph()
            codes.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(codes, f"卡号 {card.card_no}    验证码 {card.short_code[:4]} {card.short_code[4:]}", 10)
            note = cell.add_paragraph()
            note.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(note, "手机扫码进入会议；无法扫码时输入卡号和验证码", 7)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
