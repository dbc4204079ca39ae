"""The bodies and their people over time: terms, sessions, groups, deputies, mandates,
suspensions, the presidium and the officials who answer."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from server.storage.models.base import metadata

bodies = Table(
    "bodies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),  # live.setup.BodyKind
    # town | county | city | province: a town congress has no standing committee, and its
    # presidium works between sessions (server/office/body_rules.py).
    Column("level", String(16), nullable=False, default="town", server_default="town"),
    # The body's own rules where they differ from the law's defaults (JSON, body_rules.py).
    Column("rules", Text, nullable=False, default="{}", server_default="{}"),
)

# A body's terms (届): 第十七届 from its first day to its last. ``ends_on`` is unset while the
# term runs with no known end. Days are the body's calendar days (China time).
terms = Table(
    "terms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", ForeignKey("bodies.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=True),
    UniqueConstraint("body_id", "number", name="uq_terms_body_number"),
)

# The numbered sessions within a term (第三次会议). A congress's session may have several
# sittings (meetings); a standing committee's session is usually one meeting. The
# two-absence rule of 代表法 counts a congress's sessions, not its sittings.
sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("term_id", ForeignKey("terms.id"), nullable=False),
    Column("number", Integer, nullable=False),
    UniqueConstraint("term_id", "number", name="uq_sessions_term_number"),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", ForeignKey("bodies.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    UniqueConstraint("body_id", "name", name="uq_groups_body_name"),
)

deputies = Table(
    "deputies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", ForeignKey("bodies.id"), nullable=False),
    Column("group_id", ForeignKey("groups.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("card_no", String(32), nullable=False),
    # Printed on the card, for binding by hand: 8 digits (server/storage/guards.py, a guesser's odds).
    Column("short_code", String(16), nullable=False),
    Column("card_version", Integer, nullable=False, default=1),  # re-issuing a card revokes old links
    Column("phone", String(32), nullable=False, default=""),
    Column("notes", Text, nullable=False, default=""),
    UniqueConstraint("body_id", "card_no", name="uq_deputies_body_card"),
)

# Who is a member on which day. A deputy is a member on day D of every mandate with
# starts_on <= D < ends_on (the mandate ends at the start of ``ends_on``: a resignation
# accepted that day leaves the deputy out of that day's 应到). Nothing is deleted: an
# ended mandate keeps its reason, the organ that decided it and the document.
mandates = Table(
    "mandates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deputy_id", ForeignKey("deputies.id"), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("start_reason", String(16), nullable=False),  # elected | by_election | migrated
    Column("ends_on", Date, nullable=True),
    Column("end_reason", String(16), nullable=False, default="", server_default=""),
    Column("end_organ", String(128), nullable=False, default="", server_default=""),
    Column("end_document", String(128), nullable=False, default="", server_default=""),
    Column("end_document_on", Date, nullable=True),
    Column("recorded_by", String(96), nullable=False, default="", server_default=""),
    Column("recorded_ms", BigInteger, nullable=False, default=0, server_default="0"),
    Index("ix_mandates_deputy_id", "deputy_id"),
)

# 暂停执行代表职务: while one covers a day (starts_on <= D < ends_on), the deputy is a member
# who cannot check in, rate or vote; not counted in 应到.
suspensions = Table(
    "suspensions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("deputy_id", ForeignKey("deputies.id"), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=True),
    Column("reason", Text, nullable=False, default="", server_default=""),
    Column("organ", String(128), nullable=False, default="", server_default=""),
    Column("document", String(128), nullable=False, default="", server_default=""),
    Column("recorded_by", String(96), nullable=False, default="", server_default=""),
    Column("recorded_ms", BigInteger, nullable=False, default=0, server_default="0"),
    Index("ix_suspensions_deputy_id", "deputy_id"),
)

# 主席团 members: per session for a county or higher congress (session_id set), per term
# for a town congress (session_id unset: it also works between sessions).
presidium_members = Table(
    "presidium_members",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("term_id", ForeignKey("terms.id"), nullable=False),
    Column("session_id", ForeignKey("sessions.id"), nullable=True),
    Column("deputy_id", ForeignKey("deputies.id"), nullable=False),
    Column("role", String(32), nullable=False, default="", server_default=""),  # 常务主席, 主席…
    Index("ix_presidium_members_term_id", "term_id"),
)

officials = Table(
    "officials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", ForeignKey("bodies.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("title", String(128), nullable=False),
    Column("organisation", String(128), nullable=False, default=""),
)
