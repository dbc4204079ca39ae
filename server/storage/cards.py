"""A deputy's invitation card as data: what is printed on it, and its version.

Re-issuing a card raises its version and draws a new short code; the link, the short code
and every phone's cookie name the version (server/room/phonebook.py, docs/design.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Card:
    """What the printed invitation card carries, for binding a phone by hand."""

    deputy_id: int
    body_id: int
    card_no: str
    short_code: str
    card_version: int
