"""Storing the chair's script wording (主持词) in the meeting's settings JSON.

The wording is checked by screens/script.py before it gets here; this only writes it,
keeping every other setting as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office.meetings_admin import settings_of
from server.storage import models as m
from server.storage.store import settings_to_json


def stored(row: Any) -> Mapping[str, str]:
    """The steps whose wording this meeting changed."""
    return settings_of(row).script


async def save(conn: AsyncConnection, meeting_id: int, row: Any, wording: Mapping[str, str]) -> None:
    settings = replace(settings_of(row), script=MappingProxyType(dict(wording)))
    meeting = m.meetings.c.id == meeting_id
    await conn.execute(update(m.meetings).where(meeting).values(settings=settings_to_json(settings)))
