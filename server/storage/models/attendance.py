"""Around one meeting: its reviewers, non-voting attendees, leave and frozen attendance."""

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

# Presidium members given a meeting's question review board from their phones, without a
# staff account; their approvals name them.
meeting_reviewers = Table(
    "meeting_reviewers",
    metadata,
    Column("meeting_id", ForeignKey("meetings.id"), primary_key=True),
    Column("deputy_id", ForeignKey("deputies.id"), primary_key=True),
    Column("granted_by", String(96), nullable=False),
    Column("granted_ms", BigInteger, nullable=False),
)

# People who attend without a vote (列席人员, 旁听 citizens, 应询人): they may check in for
# the record, never count toward 应到 or the quorum, never rate or vote.
attendees = Table(
    "attendees",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # observer | citizen | respondent
    Column("name", String(64), nullable=False),
    Column("organisation", String(128), nullable=False, default="", server_default=""),
    Column("official_id", ForeignKey("officials.id"), nullable=True),
    Index("ix_attendees_meeting_id", "meeting_id"),
)

# Leave (请假) asked for from a phone or recorded by staff, and who decided it when.
leave_requests = Table(
    "leave_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("meeting_id", ForeignKey("meetings.id"), nullable=False),
    Column("deputy_id", ForeignKey("deputies.id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # asked | approved | refused | withdrawn
    Column("asked_by", String(96), nullable=False),  # "deputy:17" or "staff:wang"
    Column("asked_ms", BigInteger, nullable=False),
    Column("decided_by", String(96), nullable=False, default="", server_default=""),
    Column("decided_ms", BigInteger, nullable=True),
    Column("note", Text, nullable=False, default="", server_default=""),
    Index("ix_leave_requests_meeting_id", "meeting_id"),
)

# One row per member per closed meeting, frozen from the event log when the meeting
# closes (server/storage/attendance.py); a correction afterwards is audited.
attendance_records = Table(
    "attendance_records",
    metadata,
    Column("meeting_id", ForeignKey("meetings.id"), primary_key=True),
    Column("deputy_id", ForeignKey("deputies.id"), primary_key=True),
    Column("status", String(8), nullable=False),  # present | leave | absent
    Column("checked_in_ms", BigInteger, nullable=True),
    Column("how", String(8), nullable=False, default="", server_default=""),  # phone | hand
    Column("late", Boolean, nullable=False, default=False, server_default=false()),
    Column("left_ms", BigInteger, nullable=True),  # 中途离会, the last time
    Column("returned_ms", BigInteger, nullable=True),
    Column("leave_approved", Boolean, nullable=False, default=False, server_default=false()),
    Column("corrected_by", String(96), nullable=False, default="", server_default=""),
    Column("corrected_ms", BigInteger, nullable=True),
    Index("ix_attendance_records_deputy_id", "deputy_id"),
)
