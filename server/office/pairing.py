"""Pairing a projector or podium screen by a one-time code that staff enter on the console.

An unpaired browser asks for a code (``ask``) and shows it; staff enter it (``approve``);
the browser's next refresh finds its request approved (``ask`` again) and gets its screen
cookie from the web face. A request lives ``PAIRING_TTL_MS``; a code asked for by one kind
of screen never pairs another kind or another meeting.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import models as m

PAIRING_TTL_MS = 10 * 60 * 1000
SCREEN_NAMES = {"projector": "投影屏", "podium": "发言计时屏", "script": "主持词屏"}


@dataclass(frozen=True)
class Asked:
    """A screen's request: its code to show, or ``approved`` (it is paired now)."""

    token: str
    code: str
    approved: bool


async def ask(conn: AsyncConnection, meeting_id: int, kind: str, token: str, now_ms: int) -> Asked:
    """The request of the browser holding ``token`` ("" for none), or a new one."""
    p = m.screen_pairings
    row = (await conn.execute(select(p).where(p.c.request_token == token))).first() if token else None
    if row is not None and (row.meeting_id, row.kind) != (meeting_id, kind):
        row = None  # a code asked for by another screen: this one needs its own
    if row is not None and row.approved_ms is not None:
        await conn.execute(delete(p).where(p.c.id == row.id))  # used once
        return Asked(token, row.code, True)
    if row is None or row.created_ms < now_ms - PAIRING_TTL_MS:
        token = secrets.token_urlsafe(24)
        code = f"{secrets.randbelow(10**6):06d}"
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


async def approve(conn: AsyncConnection, meeting_id: int, code: str, by: str, now_ms: int) -> str | None:
    """Staff entered ``code``: the kind of screen it pairs, or None for no such request."""
    p = m.screen_pairings
    row = (
        await conn.execute(
            select(p).where(
                p.c.meeting_id == meeting_id,
                p.c.code == code,
                p.c.approved_ms.is_(None),
                p.c.created_ms > now_ms - PAIRING_TTL_MS,
            )
        )
    ).first()
    if row is None:
        return None
    await conn.execute(update(p).where(p.c.id == row.id).values(approved_by=by, approved_ms=now_ms))
    return str(row.kind)
