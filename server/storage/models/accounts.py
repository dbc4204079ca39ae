"""Staff, sessions, screens, phones, the office's audit trail and the guards on typed codes."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from server.storage.models.base import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(64), nullable=False, default=""),
    Column("password_hash", String(255), nullable=False),
    Column("roles", String(64), nullable=False),  # comma-separated: admin,staff,chair
    Column("created_ms", BigInteger, nullable=False),
    # A one-time password (first admin, added or reset by an admin) must be changed
    # before the console opens.
    Column("must_change_password", Boolean, nullable=False, default=False, server_default=false()),
    # Login cookies issued before this moment are void: set when the password changes or
    # is reset, so a session opened with the old password ends everywhere (server/web/http.py).
    Column("sessions_from_ms", BigInteger, nullable=False, default=0, server_default="0"),
)

# Staff login sessions, one row per login: the server's record of which cookies are still
# good. Logout deletes the row, a password change or reset deletes the user's rows, and a
# row past ``expires_ms`` is void (deleted at the next login). The key is the SHA-256 of
# the random session id in the signed cookie, so the database alone opens no session.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("device", String(200), nullable=False, default=""),
    Index("ix_staff_sessions_user_id", "user_id"),
    Index("ix_staff_sessions_expires_ms", "expires_ms"),
)

screen_pairings = Table(
    "screen_pairings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # projector | podium
    Column("code", String(8), nullable=False),
    Column("request_token", String(64), nullable=False, unique=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("approved_ms", BigInteger, nullable=True),
)

# The phone (browser) each card is bound to: one at a time. ``sid`` is the random part of
# that phone's signed cookie; "" once staff released the card for another phone. A row
# for an older card version is void (re-issuing a card frees it).
phone_bindings = Table(
    "phone_bindings",
    metadata,
    Column("deputy_id", ForeignKey("deputies.id"), primary_key=True),
    Column("card_version", Integer, nullable=False),
    Column("sid", String(32), nullable=False),
    Column("bound_ms", BigInteger, nullable=False),
    Column("device", String(200), nullable=False, default=""),
)

# What the office did before and around the meeting that is not in a meeting's event log
# (an event there would mean the meeting has begun): re-issued cards, roster imports.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor", String(96), nullable=False),  # e.g. "staff:wang"
    Column("device", String(200), nullable=False, default=""),
    Column("action", String(32), nullable=False),  # e.g. "card_reissued", "roster_imported"
    Column("body_id", ForeignKey("bodies.id"), nullable=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=True),
    Column("detail", Text, nullable=False, default=""),  # JSON
    Index("ix_audit_body_id", "body_id"),
)

# Typed binding of a phone by card number and short code (server/storage/guards.py): wrong codes
# per card, the delay they earned, and the lock staff can put on a card by hand.
card_guards = Table(
    "card_guards",
    metadata,
    Column("deputy_id", ForeignKey("deputies.id"), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failed_ms", BigInteger, nullable=False, default=0),
    Column("last_address", String(64), nullable=False, default=""),
    Column("retry_after_ms", BigInteger, nullable=False, default=0),  # refused unchecked before this
    Column("locked_by", String(96), nullable=False, default=""),  # "" when not locked
    Column("locked_ms", BigInteger, nullable=False, default=0),
)
