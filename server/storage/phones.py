"""One phone per card: which phone (browser) each deputy's card is bound to now.

The policy (docs/design.md, "A forwarded invitation"):

- A card is bound to one phone at a time. The phone is named by the random ``sid`` in
  its signed cookie; the ``phone_bindings`` row holds the ``sid`` that counts.
- Opening the invitation link binds a card that is free (never bound, released by
  staff, or re-issued since). On a card bound to another phone the link asks first
  (「改用本机」), and only then moves the binding: the link's token cannot be guessed,
  and the phone bound before is told at once and signed out.
- The card number and short code bind only a card that has no phone (server/storage/guards.py:
  a guessed code must never take a card away from its deputy); they also need the hall
  code, so they work only in the hall.
- Staff can release a card (its phone is signed out, the next phone to open the link
  binds) or re-issue it (a new link and short code; every old phone is out), and lock it
  against any new phone.
- A signed cookie of the current card version for a card with no row at all (a phone
  bound before this table existed) is adopted as the card's phone.

Each process keeps the rows of the cards it has loaded in memory, because the check is
on every request of every phone; a change is told to the other processes on the bus
("phone" messages) and read back from the database there.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import models as m

RELEASED = ""


@dataclass(frozen=True)
class Bound:
    card_version: int
    sid: str  # RELEASED: free for the next phone that opens the link


class Verdict(enum.Enum):
    THIS_PHONE = "this_phone"
    FREE = "free"  # no binding for the current card version yet
    RELEASED = "released"  # staff freed the card; only the link or the card binds it
    ELSEWHERE = "elsewhere"  # another phone holds the card


class How(enum.Enum):
    ADOPT = "adopt"  # a cookie from before phone bindings: only a card with no binding
    LINK = "link"  # the invitation link: a free or released card
    MOVE = "move"  # the invitation link, confirmed on a card another phone holds
    CARD = "card"  # card number and short code: a free or released card


def verdict(bound: Bound | None, card_version: int, sid: str) -> Verdict:
    if bound is None or bound.card_version < card_version:
        return Verdict.FREE
    if bound.card_version > card_version:
        return Verdict.ELSEWHERE  # a cookie of a card re-issued since
    if bound.sid == sid:
        return Verdict.THIS_PHONE
    return Verdict.RELEASED if bound.sid == RELEASED else Verdict.ELSEWHERE


def allows(how: How, now: Verdict) -> bool:
    if now is Verdict.THIS_PHONE or how is How.MOVE:
        return True
    if how in (How.LINK, How.CARD):
        return now in (Verdict.FREE, Verdict.RELEASED)
    return now is Verdict.FREE


async def read(conn: AsyncConnection, deputy_ids: list[int] | None = None) -> dict[int, Bound]:
    query = select(m.phone_bindings.c.deputy_id, m.phone_bindings.c.card_version, m.phone_bindings.c.sid)
    if deputy_ids is not None:
        query = query.where(m.phone_bindings.c.deputy_id.in_(deputy_ids))
    return {int(r.deputy_id): Bound(int(r.card_version), str(r.sid)) for r in await conn.execute(query)}


async def read_body(conn: AsyncConnection, body_id: int) -> dict[int, Bound]:
    deputies = select(m.deputies.c.id).where(m.deputies.c.body_id == body_id)
    query = select(
        m.phone_bindings.c.deputy_id, m.phone_bindings.c.card_version, m.phone_bindings.c.sid
    ).where(m.phone_bindings.c.deputy_id.in_(deputies))
    return {int(r.deputy_id): Bound(int(r.card_version), str(r.sid)) for r in await conn.execute(query)}


async def claim(
    conn: AsyncConnection, deputy_id: int, card_version: int, sid: str, device: str, how: How
) -> tuple[bool, Bound | None, Bound | None]:
    """Bind the card to the phone ``sid`` if ``how`` allows it, in the caller's transaction.

    Returns (bound, before, now). Two phones claiming one free card at the same moment:
    the primary key lets one insert through, the other sees the first's row and is
    judged against it.
    """
    before = (await read(conn, [deputy_id])).get(deputy_id)
    if not allows(how, verdict(before, card_version, sid)):
        return False, before, before
    now = Bound(card_version, sid)
    if before == now:
        return True, before, now
    try:
        async with conn.begin_nested():
            await _write(conn, deputy_id, now, device)
    except IntegrityError:
        raced = (await read(conn, [deputy_id])).get(deputy_id)
        return raced == now, before, raced
    return True, before, now


async def release(conn: AsyncConnection, deputy_id: int, card_version: int, device: str) -> Bound:
    """Free the card for the next phone that opens the link; the bound phone is signed out."""
    now = Bound(card_version, RELEASED)
    await _write(conn, deputy_id, now, device)
    return now


async def _write(conn: AsyncConnection, deputy_id: int, bound: Bound, device: str) -> None:
    """Replace the card's row; a row inserted meanwhile by another process raises
    IntegrityError (the primary key), which ``claim`` judges against."""
    await conn.execute(delete(m.phone_bindings).where(m.phone_bindings.c.deputy_id == deputy_id))
    await conn.execute(
        insert(m.phone_bindings).values(
            deputy_id=deputy_id,
            card_version=bound.card_version,
            sid=bound.sid,
            bound_ms=time.time_ns() // 1_000_000,
            device=device[:200],
        )
    )
