"""Tables. SQLAlchemy Core: the hot path inserts rows, it does not need an ORM.

The event log (``events``) is the record of everything that happened in a meeting and
its audit trail. A secret ballot (every rating, a secret vote) leaves a receipt
(``rating_receipts``, ``vote_receipts``: who took part, one per deputy per round) and a
sealed choice (``sealed_ballots``, unreadable without the installation's key, see
server/base/ballot_box.py); when the round closes, its totals go to ``rating_tallies`` or
``vote_tallies`` and the sealed rows are deleted.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

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

bodies = Table(
    "bodies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
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

officials = Table(
    "officials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", ForeignKey("bodies.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("title", String(128), nullable=False),
    Column("organisation", String(128), nullable=False, default=""),
)

meetings = Table(
    "meetings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", ForeignKey("bodies.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("settings", Text, nullable=False, default="{}"),  # JSON, see server.storage.store
    Column("created_ms", BigInteger, nullable=False),
    # Deputies submit questions until then (server.office.questions_admin); unset: no deadline.
    Column("submission_deadline_ms", BigInteger, nullable=True),
)

agenda_items = Table(
    "agenda_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("title", String(200), nullable=False),
)

questions = Table(
    "questions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("asker_id", ForeignKey("deputies.id"), nullable=True),
    Column("group_id", ForeignKey("groups.id"), nullable=True),
)

question_respondents = Table(
    "question_respondents",
    metadata,
    Column("question_id", ForeignKey("questions.id"), primary_key=True),
    Column("official_id", ForeignKey("officials.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)

# Questions as deputies submit them (征集), reviewed by staff (汇总平衡); approving one
# writes a row in ``questions``, the final list the live session calls.
question_submissions = Table(
    "question_submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("deputy_id", ForeignKey("deputies.id"), nullable=False),  # the proposer
    Column("group_id", ForeignKey("groups.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("wanted_official_id", ForeignKey("officials.id"), nullable=True),
    Column("co_proposers", Text, nullable=False, default=""),  # deputy ids, comma-separated
    Column("status", String(16), nullable=False),  # submitted | merged | rejected | approved
    Column("reject_reason", Text, nullable=False, default=""),
    Column("merged_into", Integer, nullable=True),
    Column("question_id", Integer, nullable=True),  # the row in ``questions`` once approved
    Column("history", Text, nullable=False, default="[]"),  # JSON list of {what, who, ms, ...}
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("entered_by", String(64), nullable=False, default=""),  # staff username, on a deputy's behalf
    Index("ix_question_submissions_meeting_id", "meeting_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(48), nullable=False),
    Column("data", Text, nullable=False),
    Column("actor", String(96), nullable=False),  # e.g. "chair:zhang", "deputy:17"
    Column("device", String(200), nullable=False, default=""),
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("meeting_id", "seq", name="uq_events_meeting_seq"),
)

rating_receipts = Table(
    "rating_receipts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("question_id", Integer, nullable=False),
    Column("deputy_id", ForeignKey("deputies.id"), nullable=False),
    Column("ballot_key", String(64), nullable=False),
    UniqueConstraint("question_id", "deputy_id", name="uq_rating_receipts_question_deputy"),
)

rating_tallies = Table(
    "rating_tallies",
    metadata,
    # Totals per choice of a closed rating, written once at the close (server/base/ballot_box.py):
    # a total that moved with each ballot would name the choice of the receipt beside it.
    Column("meeting_id", ForeignKey("meetings.id"), primary_key=True),
    Column("question_id", Integer, primary_key=True),
    Column("choice", String(16), primary_key=True),
    Column("n", Integer, nullable=False),
)

# Votes (表决): ``vote_receipts`` says who voted (one per deputy per vote). A secret vote's
# choices are sealed while it is open and become totals in ``vote_tallies`` when it
# closes, as ratings do. A named vote's choices are in the event log, by name.
vote_receipts = Table(
    "vote_receipts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("vote_id", Integer, nullable=False),
    Column("deputy_id", ForeignKey("deputies.id"), nullable=False),
    Column("ballot_key", String(64), nullable=False),
    UniqueConstraint("meeting_id", "vote_id", "deputy_id", name="uq_vote_receipts_meeting_vote_deputy"),
)

vote_tallies = Table(
    "vote_tallies",
    metadata,
    Column("meeting_id", ForeignKey("meetings.id"), primary_key=True),
    Column("vote_id", Integer, primary_key=True),
    Column("choice", String(16), primary_key=True),
    Column("n", Integer, nullable=False),
)

# The choice of a secret ballot while its round is open, sealed with the installation's key
# (server/base/ballot_box.py): nothing here can be read, or told apart from another choice,
# without it. ``kind`` is "rating" (round: the question id, an agenda item's negated) or
# "vote" (round: the vote id). Deleted when the round closes and its totals are written.
sealed_ballots = Table(
    "sealed_ballots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("round_id", Integer, nullable=False),
    Column("sealed", LargeBinary(64), nullable=False),
    Index("ix_sealed_ballots_round", "meeting_id", "kind", "round_id"),
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
