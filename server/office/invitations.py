"""Invitation cards: each deputy's personal link, the printed sheet, the DOCX, re-issuing.

A card carries the signed invitation link (as a QR code), the card number and the short
code for binding by hand. The link names the card version; re-issuing a card raises the
version and draws a new short code, so the old link, the old short code and every phone
bound with them stop working as soon as the cache in :class:`server.room.meetings.Meetings`
holds the new card.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import dataclass
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.image import Image
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.oxml.ns import qn
from docx.oxml.shape import CT_Inline
from docx.parts.image import ImagePart
from docx.shared import Mm, Pt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from screens.messages import schedule_line
from server.base.keys import Keys
from server.office.card_qr import draw
from server.office.imports import new_short_code
from server.storage import models as m
from server.storage.cards import Card

CARDS_PER_PAGE = 8  # 2 columns × 4 rows on A4
ALL = "*"  # the selection of every group
CHUNK = 500  # cards signed between two yields to the event loop
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
    group: str = ALL  # the selection: a group's name, or ALL
    total: int = 0  # cards in the selection (``cards`` may be one page of them)
    body_total: int = 0  # cards in the whole body
    first: int = 0  # index of ``cards[0]`` in the selection
    ids: frozenset[int] = frozenset()  # every deputy of the selection, on any page

    def pages(self) -> list[tuple[InvitationCard, ...]]:
        return [self.cards[i : i + CARDS_PER_PAGE] for i in range(0, len(self.cards), CARDS_PER_PAGE)]

    def fingerprint(self) -> str:
        """Changes with anything printed on a card (a re-issued card's link, a new name),
        so a DOCX built before is never handed out for a sheet that has changed."""
        digest = hashlib.sha256(repr((self.title, self.body_name, self.when, self.group)).encode())
        for card in self.cards:
            digest.update(repr(card).encode())
        return digest.hexdigest()


class NoSuchMeeting(LookupError):
    pass


def invitation_url(public_url: str, keys: Keys, meeting_id: int, deputy_id: int, card_version: int) -> str:
    return f"{public_url}/i/{meeting_id}/{keys.invitation(deputy_id, card_version)}"


def _card_order(card_no: str) -> tuple[int, str]:
    return (len(card_no), card_no)  # numeric card numbers in numeric order


async def card_sheet(
    conn: AsyncConnection,
    meeting_id: int,
    keys: Keys,
    public_url: str,
    group: str | None = ALL,
    *,
    first: int = 0,
    count: int | None = None,
) -> CardSheet:
    """The cards of a meeting's body, by group and card number: of ``group`` (ALL: every
    group; None: the first group), and of those ``count`` from ``first`` (a page)."""
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
    if group is None:
        group = str(groups[0].name) if groups else ALL
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
    every = result.all()
    rows = sorted(
        (r for r in every if group == ALL or names.get(r.group_id) == group),
        key=lambda r: (order.get(r.group_id, len(order)), _card_order(r.card_no)),
    )
    page = rows[first:] if count is None else rows[first : first + count]
    cards: list[InvitationCard] = []
    for i, r in enumerate(page):
        if i and not i % CHUNK:
            await asyncio.sleep(0)  # signing thousands of links: let the hall in between
        url = invitation_url(public_url, keys, meeting_id, r.id, r.card_version)
        cards.append(InvitationCard(r.id, r.name, names.get(r.group_id, ""), r.card_no, r.short_code, url))
    when = schedule_line(meeting.held_on, meeting.starts_at, meeting.place)
    return CardSheet(
        meeting_id,
        str(meeting.title),
        str(meeting.name),
        tuple(names.values()),
        tuple(cards),
        when,
        group,
        len(rows),
        len(every),
        first,
        frozenset(r.id for r in rows),
    )


async def group_of(conn: AsyncConnection, deputy_id: int) -> str:
    """The name of the deputy's group ("" if none): the cards page to return to."""
    found = await conn.execute(
        select(m.groups.c.name)
        .join(m.deputies, m.deputies.c.group_id == m.groups.c.id)
        .where(m.deputies.c.id == deputy_id)
    )
    return str(found.scalar() or "")


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
    return draw(url)[1]


class _Pictures:
    """Pictures added without python-docx's scans of the whole document per picture (its
    ``add_picture`` compares the new image with every earlier one and looks for the
    highest shape id in the document: quadratic, minutes for a body of 3,000 cards).
    Every QR code differs, so nothing is lost by not looking for an equal one."""

    def __init__(self, doc: Any) -> None:
        self.part = doc.part
        self.count = 0

    def add(self, paragraph: Any, png: bytes, width: int) -> None:
        self.count += 1
        image = Image.from_blob(png)
        name = f"qr{self.count}.png"
        part = ImagePart.from_image(image, PackURI(f"/word/media/{name}"))
        rid = f"rIdQr{self.count}"
        self.part.rels.add_relationship(RT.IMAGE, part, rid)
        cx, cy = image.scaled_dimensions(width, None)
        inline = CT_Inline.new_pic_inline(10_000 + self.count, rid, name, cx, cy)
        paragraph.add_run()._r.add_drawing(inline)


def _run(paragraph: object, text: str, size: float, bold: bool = False) -> None:
    run = paragraph.add_run(text)  # type: ignore[attr-defined]
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)


def cards_docx(sheet: CardSheet, pngs: dict[str, bytes] | None = None) -> bytes:
    """The same sheet as a Word document: a 2-column table, four rows of cards a page.
    ``pngs``: QR codes already drawn, by link (the others are drawn here). CPU work of
    seconds for a big body: run it in :mod:`server.office.workshop`."""
    pngs = pngs or {}
    doc = Document()
    pictures = _Pictures(doc)
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
            pictures.add(qr, pngs.get(card.url) or qr_png(card.url), Mm(30))
            codes = cell.add_paragraph()
            codes.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(codes, f"卡号 {card.card_no}    验证码 {card.short_code[:4]} {card.short_code[4:]}", 10)
            note = cell.add_paragraph()
            note.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(note, "手机扫码进入会议；无法扫码时输入卡号和验证码", 7)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
