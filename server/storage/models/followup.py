"""After the meeting: the responsible organs, the 交办 decisions and the follow-up items (督办).

A meeting's approved questions become follow-up items when an organ of the body (主任会议,
主席团 …) decides so (``followup_decisions``); an item may also be created by hand. Each
item has its responsible organs (one lead, any number assisting), the commitments made at
the meeting, and its history (``followup_posts``: progress, replies, status changes). A
question the decision did not make an item keeps the reason (``followup_closed_questions``).
The rules (deadlines, overdue, the legal status changes) are server/office/followup_rules.py.
"""

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

# The units that answer for the follow-up (承办单位) of one body. ``link_version`` is in
# the organ's personal link: bumping it revokes every link issued before.
organs = Table(
    "organs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", ForeignKey("bodies.id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("contact", String(64), nullable=False, default="", server_default=""),
    Column("phone", String(32), nullable=False, default="", server_default=""),
    Column("link_version", Integer, nullable=False, default=1, server_default="1"),
    Column("created_at_ms", BigInteger, nullable=False),
    UniqueConstraint("body_id", "name", name="uq_organs_body_name"),
)

# A 交办 decision: which organ of the body decided (主任会议 / 主席团 …), on which day, by
# which document, and within how many months the answer is due.
followup_decisions = Table(
    "followup_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("organ", String(64), nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("document_no", String(64), nullable=False),
    Column("reply_months", Integer, nullable=False, default=3, server_default="3"),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at_ms", BigInteger, nullable=False),
)

# One follow-up item. The asker, groups, respondent and rating are snapshots taken when the
# item is made, so the item reads the same after the roster changes.
followup_items = Table(
    "followup_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", ForeignKey("bodies.id"), nullable=False),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=True),
    Column("decision_id", ForeignKey("followup_decisions.id"), nullable=True),  # null: made by hand
    Column("question_id", ForeignKey("questions.id"), nullable=True),
    Column("title", String(200), nullable=False),
    Column("asker", String(64), nullable=False, default="", server_default=""),
    Column("groups", Text, nullable=False, default="", server_default=""),
    Column("respondent", String(128), nullable=False, default="", server_default=""),
    Column("rating_text", String(200), nullable=False, default="", server_default=""),
    Column("priority", Boolean, nullable=False, default=False, server_default=false()),  # 重点督办
    Column("assigned_on", Date, nullable=False),
    Column("reply_due", Date, nullable=False),
    Column("status", String(16), nullable=False),  # handling | replied | redo | closed
    Column("reply_class", String(1), nullable=True),  # A | B | C, the last reply's
    Column("created_at_ms", BigInteger, nullable=False),
    # Shown on the body's public follow-up page (staff decide; the page speaks in the
    # congress's name).
    Column("public", Boolean, nullable=False, default=False, server_default=false()),
)

followup_item_organs = Table(
    "followup_item_organs",
    metadata,
    Column("item_id", ForeignKey("followup_items.id"), primary_key=True),
    Column("organ_id", ForeignKey("organs.id"), primary_key=True),
    Column("lead", Boolean, nullable=False, default=False, server_default=false()),
)

# 承诺事项: what the respondent promised at the meeting.
followup_commitments = Table(
    "followup_commitments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("followup_items.id"), nullable=False),
    Column("text", String(300), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)

# The item's history: progress, replies, requests to close, status changes, judgments and
# objections. ``on_behalf``: staff wrote it for the organ (a reply received on paper).
# ``at_ms`` is when it was posted; ``work_on`` the day the work was done (progress only).
followup_posts = Table(
    "followup_posts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("followup_items.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(64), nullable=False),
    Column("on_behalf", Boolean, nullable=False, default=False, server_default=false()),
    Column("status_from", String(16), nullable=True),
    Column("status_to", String(16), nullable=True),
    Column("reply_class", String(1), nullable=True),
    Column("public_approved", Boolean, nullable=False, default=False, server_default=false()),
    Column("at_ms", BigInteger, nullable=False),
    Column("organ_id", ForeignKey("organs.id"), nullable=True),  # the organ it is from (or for)
    Column("approved_by", String(64), nullable=False, default="", server_default=""),
    Column("approved_at_ms", BigInteger, nullable=True),
    Column("work_on", Date, nullable=True),
)

# A question the decision did not make an item, and why (required).
followup_closed_questions = Table(
    "followup_closed_questions",
    metadata,
    Column("decision_id", ForeignKey("followup_decisions.id"), primary_key=True),
    Column("question_id", ForeignKey("questions.id"), primary_key=True),
    Column("reason", String(200), nullable=False),
)

# A file attached to a post (an organ's scanned reply, a photo of the work): PDF, DOCX,
# PNG or JPEG, its type judged from its first bytes and its size checked before it is
# kept. Kept in the database, so a backup or a move of the database carries it.
followup_attachments = Table(
    "followup_attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", ForeignKey("followup_posts.id"), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("mime", String(80), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_followup_attachments_post_id", "post_id"),
)

# A deputy's judgment of a reply (``reply_post_id``): 满意 / 基本满意 / 不满意 (``verdict``),
# and whether the deputy objects to closing the item (不同意办结, ``objects`` with ``reason``).
# One per deputy per reply; the deputy may change it while the reply is the item's last.
followup_judgments = Table(
    "followup_judgments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("followup_items.id"), nullable=False),
    Column("reply_post_id", ForeignKey("followup_posts.id"), nullable=False),
    Column("deputy_id", ForeignKey("deputies.id"), nullable=False),
    Column("verdict", String(16), nullable=True),  # satisfied | basic | dissatisfied
    Column("objects", Boolean, nullable=False, default=False, server_default=false()),
    Column("reason", Text, nullable=False, default="", server_default=""),
    Column("at_ms", BigInteger, nullable=False),
    UniqueConstraint("reply_post_id", "deputy_id", name="uq_followup_judgments_reply_deputy"),
    Index("ix_followup_judgments_item_id", "item_id"),
)

# 承诺事项 typed from the console while the question is in the hall, before any item
# exists; the 交办 decision copies them into the item's ``followup_commitments``. It has
# the meeting's id so a meeting moved from the hall's laptop carries them.
question_commitments = Table(
    "question_commitments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("question_id", ForeignKey("questions.id"), nullable=False),
    Column("text", String(300), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_question_commitments_meeting_id", "meeting_id"),
)

# A progress report (推进落实情况的报告) as generated: its overview paragraph as staff
# edited it and the counts it stated (JSON), so the next session's agenda item that
# takes it shows the same figures the report printed; its scope (JSON
# ``{"meetings": [ids]}``, none = every item of the body) and the date it prints, so a
# second download prints the same report.
followup_reports = Table(
    "followup_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body_id", ForeignKey("bodies.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("overview", Text, nullable=False, default="", server_default=""),
    Column("counts", Text, nullable=False, default="{}", server_default="{}"),
    Column("made_by", String(64), nullable=False),
    Column("made_at_ms", BigInteger, nullable=False),
    Column("scope", Text, nullable=False, default="{}", server_default="{}"),
    Column("dated", Date, nullable=True),
)
