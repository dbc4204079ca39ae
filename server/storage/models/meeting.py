"""A meeting and what happens in it: agenda, questions, the event log, receipts and tallies."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from server.storage.models.base import metadata

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
    Column("term_id", ForeignKey("terms.id"), nullable=True),
    Column("session_id", ForeignKey("sessions.id"), nullable=True),
    Column("held_on", Date, nullable=True),  # 应到 counts the members on this day
    Column("starts_at", String(5), nullable=False, default="", server_default=""),  # "14:30"
    Column("place", String(128), nullable=False, default="", server_default=""),
    # A rehearsal (彩排) says so on every screen and leaves nothing in the attendance
    # history, the duty records or the two-absence rule.
    Column("rehearsal", Boolean, nullable=False, default=False, server_default=false()),
    Column("rehearsal_of", Integer, nullable=True),  # the meeting it was cloned from
    Column("closed_ms", BigInteger, nullable=True),  # set when the meeting closes
    Column("chair", String(64), nullable=False, default="", server_default=""),  # 主持人
    # The paragraph staff add to the proceedings (会议记录) before generating them.
    Column("record_note", Text, nullable=False, default="", server_default=""),
)

agenda_items = Table(
    "agenda_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    # The progress report this item takes (the next session hears and rates it).
    Column("report_id", ForeignKey("followup_reports.id"), nullable=True),
    # Who reports on a 述职评议 item (migration 0016): "" nobody, "group" (reporter_group_id),
    # "member" (reporter_deputy_id), "higher" (a deputy of the higher congress: name, congress).
    Column("reporter_kind", String(16), nullable=False, default="", server_default=""),
    Column("reporter_group_id", ForeignKey("groups.id"), nullable=True),
    Column("reporter_deputy_id", ForeignKey("deputies.id"), nullable=True),
    Column("reporter_name", String(64), nullable=False, default="", server_default=""),
    Column("reporter_congress", String(100), nullable=False, default="", server_default=""),
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

# Meetings moved in from another installation (`wenzheng meeting import`, migration 0012):
# ``origin`` names the exporting installation's signing key and its meeting id there, so
# a second import of the same meeting is refused by the unique constraint.
meeting_imports = Table(
    "meeting_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("origin", String(128), nullable=False, unique=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("signer", String(64), nullable=False),  # the signing key's fingerprint
    Column("source_title", String(200), nullable=False),
    Column("imported_ms", BigInteger, nullable=False),
    Column("imported_by", String(96), nullable=False),
)
