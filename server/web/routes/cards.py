"""Staff pages for a meeting's invitation cards: the printable sheet, the DOCX, re-issuing a
card, releasing a card for a new phone, locking a card against new phones (and what the
guards against guessing have seen of it: server/storage/guards.py)."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from screens import messages as msg
from server.base import parse
from server.base.days import short_moment_of_ms
from server.base.keys import StaffSession
from server.office import invitations
from server.office.invitations import CardSheet
from server.room.hub import Room
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
PAGE_CARDS = 200  # cards a page of the sheet shows: 25 A4 sheets
DOCX_WAIT_S = 8  # a DOCX ready within this is sent at once; a bigger one gets a waiting page


async def _room(request: Request) -> Room | None:
    """Loading the meeting also loads the card cache that re-issuing must update."""
    try:
        return await services(request).meetings.room(int(request.path_params["meeting_id"]))
    except MeetingNotFound:
        return None


async def _sheet(
    request: Request, group: str | None, first: int = 0, count: int | None = None
) -> CardSheet | None:
    svc = services(request)
    meeting_id = int(request.path_params["meeting_id"])
    try:
        async with snapshot_read(svc.engine) as conn:
            return await invitations.card_sheet(
                conn, meeting_id, svc.keys, svc.meetings.public_url, group, first=first, count=count
            )
    except invitations.NoSuchMeeting:
        return None


def _group(request: Request) -> str | None:
    """The selection asked for: a group's name, ALL, or None (the first group)."""
    return request.query_params.get("group", "").strip()[:64] or None


async def cards_page(request: Request) -> Response:
    """One group's cards at a time (or every group's, a page of them at a time): their QR
    codes come from the cache or the office's worker processes, never the event loop."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    number = parse.integer(request.query_params.get("page", "1"), 1, 10**6) or 1
    if await _room(request) is None:
        return message_page(msg.edge("no_meeting"), 404)
    sheet = await _sheet(request, _group(request), (number - 1) * PAGE_CARDS, PAGE_CARDS)
    if sheet is None:
        return message_page(msg.edge("no_meeting"), 404)
    files = services(request).card_files
    qrs = await files.svgs(sheet)
    done = {
        deputy_id: text
        for key, text in DONE.items()
        if (deputy_id := parse.row_id(request.query_params.get(key))) is not None
    }
    async with snapshot_read(services(request).engine) as conn:
        watch = await guards.read(conn, [card.deputy_id for card in sheet.cards])
    pages = max(1, -(-sheet.total // PAGE_CARDS))
    released = parse.integer(request.query_params.get("released_phones"), 0, 10**6)
    return page(
        "cards_sheet",
        sheet=sheet,
        qrs=qrs,
        group=sheet.group,
        group_q=quote(sheet.group),
        everyone=invitations.ALL,
        number=number,
        pages=pages,
        reissued=parse.row_id(request.query_params.get("reissued")) or 0,
        done=done,
        released_phones=released,
        phones=_phone_states(request, sheet),
        bound_here=_bound_count(request, sheet, False),
        bound_all=_bound_count(request, sheet, True),
        docx=files.jobs.get((sheet.meeting_id, sheet.group)),
        guards=watch,
        when=_clock,
        csrf=services(request).keys.csrf(session.sid),
        user=session,
    )


def _clock(at_ms: int) -> str:
    return short_moment_of_ms(at_ms)


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


def _bound_cards(request: Request, body_id: int, deputy_ids: set[int] | None) -> list[Card]:
    """The cards of the body (of ``deputy_ids`` only, if given) that a phone holds now."""
    meetings = services(request).meetings
    held = []
    for deputy_id, card in meetings.cards.items():
        if card.body_id != body_id or (deputy_ids is not None and deputy_id not in deputy_ids):
            continue
        bound = meetings.book.bound.get(deputy_id)
        if bound is not None and bound.sid and bound.card_version == card.card_version:
            held.append(card)
    return held


def _bound_count(request: Request, sheet: CardSheet, whole_body: bool) -> int:
    body_id = services(request).meetings.body_of[sheet.meeting_id]
    ids = None if whole_body or sheet.group == invitations.ALL else set(sheet.ids)
    return len(_bound_cards(request, body_id, ids))


async def cards_docx(request: Request) -> Response:
    """The DOCX of a group or of the whole body, built in the background: a small one is
    sent at once; a big one gets a page that says it is being built and offers the file
    when it is ready (the same link, asked again)."""
    session = require_staff(request)
    if isinstance(session, Response):
        return session
    sheet = await _sheet(request, request.query_params.get("group", "").strip()[:64] or invitations.ALL)
    if sheet is None:
        return message_page(msg.edge("no_meeting"), 404)
    job = services(request).card_files.docx(sheet.meeting_id, sheet.group, sheet)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(job.task), DOCX_WAIT_S)
    if job.failed:
        return message_page("生成 Word 文件失败，请稍后重试。", 503, back=f"/m/{sheet.meeting_id}/cards")
    if not job.ready:
        return page(
            "cards_docx_wait",
            sheet=sheet,
            group_q=quote(sheet.group),
            everyone=invitations.ALL,
            user=session,
        )
    async with services(request).engine.begin() as conn:
        await audit.record(
            conn,
            "cards_printed",
            actor=f"staff:{session.username}",
            device=device(request),
            meeting_id=sheet.meeting_id,
            group="" if sheet.group == invitations.ALL else sheet.group,
        )
    part = "" if sheet.group == invitations.ALL else f"-{sheet.group}"
    filename = quote(f"邀请卡-{sheet.title}{part}.docx")
    return Response(
        job.result(),
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


async def _back_to_card(
    request: Request, meeting_id: int, deputy_id: int, form: dict[str, str], done: str
) -> Response:
    """The page of the card acted on: the group the form came from, else the card's own."""
    group = form.get("group", "").strip()[:64]
    if not group:
        async with snapshot_read(services(request).engine) as conn:
            group = await invitations.group_of(conn, deputy_id)
    target = f"/m/{meeting_id}/cards?{done}={deputy_id}" + (f"&group={quote(group)}" if group else "")
    number = parse.integer(form.get("page", ""), 2, 10**6)
    target += f"&page={number}" if number else ""
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
    return await _back_to_card(request, meeting_id, deputy_id, form, "reissued")


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
    return await _back_to_card(request, meeting_id, card.deputy_id, form, "released")


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
    return await _back_to_card(request, meeting_id, card.deputy_id, form, "locked" if locked else "unlocked")


async def release_phones(request: Request) -> Response:
    """Free every phone bound to the cards of one group, or of the whole body, at once
    (a body's phones stay bound from one meeting to the next)."""
    checked = await _card_form(request)
    if isinstance(checked, Response):
        return checked
    session, room, form = checked
    meetings = services(request).meetings
    meeting_id = room.runtime.meeting_id
    body_id = meetings.body_of[meeting_id]
    group = form.get("group", "").strip()[:64] or invitations.ALL
    back = f"/m/{meeting_id}/cards?group={quote(group)}"
    ids: set[int] | None = None
    if form.get("scope") == "group":
        sheet = await _sheet(request, group, 0, 0)
        if sheet is None or group not in sheet.groups:
            return message_page("没有这个代表小组，未解除任何绑定。", 400, back=back)
        ids = set(sheet.ids)
    elif form.get("scope") not in ("group", "all"):
        return message_page("请从邀请卡页面解除绑定，未解除任何绑定。", 400, back=back)
    scope = "全部" if ids is None else group
    count = await meetings.book.release_all(
        _bound_cards(request, body_id, ids),
        body_id=body_id,
        meeting_id=meeting_id,
        scope=scope,
        actor=f"staff:{session.username}",
        device=device(request),
    )
    return RedirectResponse(f"{back}&released_phones={count}", status_code=303)
