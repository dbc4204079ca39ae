"""Staff pages for a meeting's invitation cards: the printable sheet, the DOCX, re-issuing a
card, releasing a card for a new phone, locking a card against new phones (and what the
guards against guessing have seen of it: server/storage/guards.py)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base import parse
from server.base.keys import StaffSession
from server.office import invitations
from server.office.invitations import CardSheet
from server.room.hub import Room
from server.room.meetings import qr_svg
from server.storage import audit, guards
from server.storage.cards import Card
from server.storage.db import snapshot_read
from server.storage.store import MeetingNotFound
from server.web.http import csrf_ok, device, form_of, message_page, page, require_staff, services

# What the page says on the card after a staff action (the page jumps to that card).
DONE = {
    "reissued": "已补发新卡：旧卡的二维码和验证码已作废，请打印这张新卡。",
    "released": "已解除手机绑定：原手机已退出，代表用新手机打开邀请链接即可绑定。",
    "locked": "已锁定：这张卡不能再绑定新手机，已绑定的手机不受影响。",
    "unlocked": "已解锁，错误记录已清除。",
}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def _room(request: Request) -> Room | None:
    """Loading the meeting also loads the card cache that re-issuing must update."""
    try:
        return await services(request).meetings.room(int(request.path_params["meeting_id"]))
    except MeetingNotFound:
        return None


async def _sheet(request: Request, group: str) -> CardSheet | None:
    svc = services(request)
    meeting_id = int(request.path_params["meeting_id"])
    try:
        async with snapshot_read(svc.engine) as conn:
            return await invitations.card_sheet(conn, meeting_id, svc.keys, svc.meetings.public_url, group)
    except invitations.NoSuchMeeting:
        return None


async def cards_page(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    group = request.query_params.get("group", "").strip()[:64]
    if await _room(request) is None:
        return message_page(msg.edge("no_meeting"), 404)
    sheet = await _sheet(request, group)
    if sheet is None:
        return message_page(msg.edge("no_meeting"), 404)
    qrs = {card.deputy_id: qr_svg(card.url) for card in sheet.cards}
    done = {
        deputy_id: text
        for key, text in DONE.items()
        if (deputy_id := parse.row_id(request.query_params.get(key))) is not None
    }
    async with snapshot_read(services(request).engine) as conn:
        watch = await guards.read(conn, [card.deputy_id for card in sheet.cards])
    return page(
        "cards_sheet",
        sheet=sheet,
        qrs=qrs,
        group=group,
        group_q=quote(group),
        reissued=parse.row_id(request.query_params.get("reissued")) or 0,
        done=done,
        phones=_phone_states(request, sheet),
        guards=watch,
        when=_clock,
        csrf=services(request).keys.csrf(session.sid),
        user=session,
    )


def _clock(at_ms: int) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(at_ms / 1000))


def _phone_states(request: Request, sheet: CardSheet) -> dict[int, str]:
    """Each card's phone, as the cards page shows it: bound, released or none."""
    meetings = services(request).meetings
    states = {}
    for card in sheet.cards:
        bound, known = meetings.book.bound.get(card.deputy_id), meetings.cards.get(card.deputy_id)
        if bound is None or known is None or bound.card_version != known.card_version:
            continue
        states[card.deputy_id] = "bound" if bound.sid else "released"
    return states


async def cards_docx(request: Request) -> Response:
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    group = request.query_params.get("group", "").strip()[:64]
    sheet = await _sheet(request, group)
    if sheet is None:
        return message_page(msg.edge("no_meeting"), 404)
    data = await asyncio.to_thread(invitations.cards_docx, sheet)  # QR codes and a DOCX: off the loop
    async with services(request).engine.begin() as conn:
        await audit.record(
            conn,
            "cards_printed",
            actor=f"staff:{session.username}",
            device=device(request),
            meeting_id=sheet.meeting_id,
            group=group,
        )
    filename = quote(f"邀请卡-{sheet.title}{'-' + group if group else ''}.docx")
    return Response(
        data,
        media_type=DOCX,
        headers={"content-disposition": f"attachment; filename=\"cards.docx\"; filename*=UTF-8''{filename}"},
    )


async def _card_form(request: Request) -> tuple[StaffSession, Room, dict[str, str]] | Response:
    """A staff form about one card: the session, the loaded meeting and the form."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    form = await form_of(request)
    if form is None or not csrf_ok(request, session.sid, form):
        return message_page(msg.edge("csrf"), 403)
    room = await _room(request)
    if room is None:
        return message_page(msg.edge("no_meeting"), 404)
    return session, room, form


def _back_to_card(meeting_id: int, deputy_id: int, form: dict[str, str], done: str) -> Response:
    group = form.get("group", "").strip()[:64]
    target = f"/m/{meeting_id}/cards?{done}={deputy_id}" + (f"&group={quote(group)}" if group else "")
    return RedirectResponse(target + f"#card-{deputy_id}", status_code=303)


async def reissue(request: Request) -> Response:
    """A new card for one deputy: the old link and short code stop working at once."""
    checked = await _card_form(request)
    if isinstance(checked, Response):
        return checked
    session, room, form = checked
    svc = services(request)
    meeting_id = room.runtime.meeting_id
    body_id = svc.meetings.body_of[meeting_id]
    deputy_id = int(request.path_params["deputy_id"])
    async with svc.engine.begin() as conn:
        card = await invitations.reissue(conn, body_id, deputy_id)
        if card is not None:
            await audit.record(
                conn,
                "card_reissued",
                actor=f"staff:{session.username}",
                device=device(request),
                body_id=body_id,
                meeting_id=meeting_id,
                deputy_id=deputy_id,
                card_no=card.card_no,
                version=card.card_version,
            )
    if card is None:
        return message_page(msg.edge("not_found"), 404)
    await svc.meetings.refresh_card(card)
    return _back_to_card(meeting_id, deputy_id, form, "reissued")


async def _loaded_card(request: Request) -> tuple[Card, int, dict[str, str], str] | Response:
    """A staff form about a card the meeting's room holds: (card, meeting, form, actor)."""
    checked = await _card_form(request)
    if isinstance(checked, Response):
        return checked
    session, room, form = checked
    meetings = services(request).meetings
    meeting_id = room.runtime.meeting_id
    card = meetings.cards.get(int(request.path_params["deputy_id"]))
    if card is None or card.body_id != meetings.body_of[meeting_id]:
        return message_page(msg.edge("not_found"), 404)
    return card, meeting_id, form, f"staff:{session.username}"


async def release(request: Request) -> Response:
    """Free a deputy's card for another phone (a new or borrowed phone, another browser):
    the phone bound now is signed out, the next one to open the link is bound."""
    found = await _loaded_card(request)
    if isinstance(found, Response):
        return found
    card, meeting_id, form, actor = found
    await services(request).meetings.book.release(
        card, meeting_id=meeting_id, actor=actor, device=device(request)
    )
    return _back_to_card(meeting_id, card.deputy_id, form, "released")


async def lock(request: Request) -> Response:
    """Lock a card against any new phone (someone is guessing its code, or the card is
    lost); the phone it has keeps it. Unlocking also forgets the wrong codes."""
    return await _set_lock(request, True)


async def unlock(request: Request) -> Response:
    return await _set_lock(request, False)


async def _set_lock(request: Request, locked: bool) -> Response:
    found = await _loaded_card(request)
    if isinstance(found, Response):
        return found
    card, meeting_id, form, actor = found
    book = services(request).meetings.book
    await book.set_lock(card, locked, meeting_id=meeting_id, actor=actor, device=device(request))
    return _back_to_card(meeting_id, card.deputy_id, form, "locked" if locked else "unlocked")
