"""Pairing a projector or podium screen by a one-time code that staff enter on the console.

An unpaired browser asks for a code (``ask``) and shows it; staff enter it (``approve``);
the browser's next refresh finds its request approved (``ask`` again) and gets its screen
cookie from the web face. A request lives ``PAIRING_TTL_MS``; a code asked for by one kind
of screen never pairs another kind or another meeting.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import models as m

PAIRING_TTL_MS = 10 * 60 * 1000
FREE_CODE_TRIES = 20  # draws for a code no pending request shows
SCREEN_NAMES = {"projector": "投影屏", "podium": "发言计时屏", "script": "主持词屏"}


@dataclass(frozen=True)
class Asked:
    """A screen's request: its code to show, or ``approved`` (it is paired now)."""

    token: str
    code: str
    approved: bool


async def ask(
    conn: AsyncConnection, meeting_id: int, kind: str, token: str, now_ms: int, *, new: bool = True
) -> Asked | None:
    """The request of the browser holding ``token`` ("" for none), or a new one; None
    when a new one is needed and ``new`` is False (its address asked for too many)."""
    p = m.screen_pairings
    row = (await conn.execute(select(p).where(p.c.request_token == token))).first() if token else None
    if row is not None and (row.meeting_id, row.kind) != (meeting_id, kind):
        row = None  # a code asked for by another screen: this one needs its own
    if row is not None and row.approved_ms is not None:
        await conn.execute(delete(p).where(p.c.id == row.id))  # used once
        return Asked(token, row.code, True)
    if row is None or row.created_ms < now_ms - PAIRING_TTL_MS:
        if not new:
            return None
        token = secrets.token_urlsafe(24)
        code = await _free_code(conn, meeting_id, now_ms)
        values = {
            "meeting_id": meeting_id,
            "kind": kind,
            "code": code,
            "request_token": token,
            "created_ms": now_ms,
        }
        await conn.execute(insert(p).values(**values))
        return Asked(token, code, False)
    return Asked(token, row.code, False)


async def _free_code(conn: AsyncConnection, meeting_id: int, now_ms: int) -> str:
    """A code no pending request of the meeting shows. Anyone may ask for codes, as many
    as they like: a code shown twice would let staff, typing the one on the chair's
    tablet, pair an attacker's browser instead (as a projector: its hall code checks in
    from anywhere). Requests long expired are forgotten here, so asking fills no disk (an
    approved one lives twice as long: its screen collects it at its next refresh)."""
    p = m.screen_pairings
    old = now_ms - 2 * PAIRING_TTL_MS
    await conn.execute(delete(p).where(p.c.meeting_id == meeting_id, p.c.created_ms < old))
    code = ""
    for _ in range(FREE_CODE_TRIES):
        code = f"{secrets.randbelow(10**6):06d}"
        if not (await _pending(conn, meeting_id, code, now_ms)):
            return code
    return code  # a flooded code space: the clash is refused at approval (nobody is paired)


async def _pending(conn: AsyncConnection, meeting_id: int, code: str, now_ms: int) -> list[Any]:
    p = m.screen_pairings
    query = select(p).where(
        p.c.meeting_id == meeting_id,
        p.c.code == code,
        p.c.approved_ms.is_(None),
        p.c.created_ms > now_ms - PAIRING_TTL_MS,
    )
    return list((await conn.execute(query.limit(2))).all())


async def approve(conn: AsyncConnection, meeting_id: int, code: str, by: str, now_ms: int) -> str | None:
    """Staff entered ``code``: the kind of screen it pairs, or None for no such request,
    or for a code two requests show (staff cannot tell which screen they are looking at)."""
    p = m.screen_pairings
    rows = await _pending(conn, meeting_id, code, now_ms)
    if len(rows) != 1:
        return None
    row = rows[0]
    await conn.execute(update(p).where(p.c.id == row.id).values(approved_by=by, approved_ms=now_ms))
    return str(row.kind)
