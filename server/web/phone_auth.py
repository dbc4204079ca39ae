"""Which deputy a phone is: its signed cookie, checked against the card and its phone.

Shared by the phone's pages, its socket and the question pages. The policy of one phone
per card is in :mod:`server.storage.phones`.
"""

from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection

from server.base.keys import DeputyBinding
from server.room.phonebook import Outcome
from server.storage.cards import Card
from server.storage.phones import How, Verdict
from server.web.http import DEPUTY_COOKIE, device, services


def signed(conn: HTTPConnection, meeting_id: int) -> DeputyBinding | None:
    """The deputy this phone's cookie names, if the card is current and in this meeting."""
    svc = services(conn)
    binding = svc.keys.read_deputy(conn.cookies.get(DEPUTY_COOKIE))
    if binding is None:
        return None
    card = svc.meetings.cards.get(binding.deputy_id)
    if card is None or card.card_version != binding.card_version:
        return None
    if card.body_id != svc.meetings.body_of.get(meeting_id):
        return None
    return binding


async def phone_binding(conn: HTTPConnection, meeting_id: int) -> DeputyBinding | None:
    """The deputy this phone is bound to: its cookie, and the card's phone is this one."""
    binding = signed(conn, meeting_id)
    if binding is None:
        return None
    meetings = services(conn).meetings
    verdict = meetings.phone_verdict(binding)
    if verdict is Verdict.THIS_PHONE:
        return binding
    if verdict is Verdict.FREE:
        adopted = await claim(conn, meeting_id, meetings.cards[binding.deputy_id], How.ADOPT)
        if adopted is Outcome.BOUND:
            return binding
    return None


def signed_out(conn: HTTPConnection, meeting_id: int) -> bool:
    """This phone was bound, but its card has moved to another phone or was released."""
    binding = signed(conn, meeting_id)
    if binding is None:
        return False
    return services(conn).meetings.phone_verdict(binding) in (Verdict.ELSEWHERE, Verdict.RELEASED)


def phone_sid(conn: HTTPConnection, card: Card) -> str:
    """The phone's own sid when its cookie is for this card; a new one otherwise."""
    binding = services(conn).keys.read_deputy(conn.cookies.get(DEPUTY_COOKIE))
    if (
        binding is not None
        and binding.deputy_id == card.deputy_id
        and binding.card_version == card.card_version
    ):
        return binding.sid
    return secrets.token_hex(8)


async def claim(
    conn: HTTPConnection, meeting_id: int, card: Card, how: How, sid: str | None = None
) -> Outcome:
    return await services(conn).meetings.book.bind(
        card,
        sid or phone_sid(conn, card),
        how,
        meeting_id=meeting_id,
        actor=f"deputy:{card.deputy_id}",
        device=device(conn),
    )
