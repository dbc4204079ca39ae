"""An office over time: body levels and rules, terms, sessions, mandates, suspensions,
the presidium, meeting reviewers, non-voting attendees, leave and frozen attendance.

Existing data moves: every body gets a term (its number read from a name such as
"第十七届", else 1) that starts on the day of its first meeting; every deputy gets a mandate
from that day; every meeting belongs to that term, is held on the day it was created, and
joins a session when its title names one ("第三次会议"). 应到 then counts the same
deputies as before the upgrade.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CHINA = dt.timezone(dt.timedelta(hours=8))
DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def _numeral(text: str) -> int | None:
    """一 … 九十九 as an int; None for anything else."""
    if not text or any(c not in DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (DIGITS[tens] if tens else 1) * 10 + (DIGITS[ones] if ones else 0)


def _day(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).date()


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def _recorded() -> list[sa.Column[object]]:
    return [
        sa.Column("recorded_by", sa.String(length=96), server_default="", nullable=False),
        sa.Column("recorded_ms", sa.BigInteger(), server_default="0", nullable=False),
    ]


def _tables() -> None:
    op.create_table(
        "terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        _fk("terms", "body_id", "bodies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms")),
        sa.UniqueConstraint("body_id", "number", name="uq_terms_body_number"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        _fk("sessions", "term_id", "terms"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("term_id", "number", name="uq_sessions_term_number"),
    )
    op.create_table(
        "mandates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("start_reason", sa.String(length=16), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=16), server_default="", nullable=False),
        sa.Column("end_organ", sa.String(length=128), server_default="", nullable=False),
        sa.Column("end_document", sa.String(length=128), server_default="", nullable=False),
        sa.Column("end_document_on", sa.Date(), nullable=True),
        *_recorded(),
        _fk("mandates", "deputy_id", "deputies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandates")),
    )
    op.create_index("ix_mandates_deputy_id", "mandates", ["deputy_id"])
    op.create_table(
        "suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("organ", sa.String(length=128), server_default="", nullable=False),
        sa.Column("document", sa.String(length=128), server_default="", nullable=False),
        *_recorded(),
        _fk("suspensions", "deputy_id", "deputies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspensions")),
    )
    op.create_index("ix_suspensions_deputy_id", "suspensions", ["deputy_id"])
    op.create_table(
        "presidium_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), server_default="", nullable=False),
        _fk("presidium_members", "term_id", "terms"),
        _fk("presidium_members", "session_id", "sessions"),
        _fk("presidium_members", "deputy_id", "deputies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presidium_members")),
    )
    op.create_index("ix_presidium_members_term_id", "presidium_members", ["term_id"])


def _meeting_tables() -> None:
    op.create_table(
        "meeting_reviewers",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("granted_by", sa.String(length=96), nullable=False),
        sa.Column("granted_ms", sa.BigInteger(), nullable=False),
        _fk("meeting_reviewers", "meeting_id", "meetings"),
        _fk("meeting_reviewers", "deputy_id", "deputies"),
        sa.PrimaryKeyConstraint("meeting_id", "deputy_id", name=op.f("pk_meeting_reviewers")),
    )
    op.create_table(
        "attendees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("organisation", sa.String(length=128), server_default="", nullable=False),
        sa.Column("official_id", sa.Integer(), nullable=True),
        _fk("attendees", "meeting_id", "meetings"),
        _fk("attendees", "official_id", "officials"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendees")),
    )
    op.create_index("ix_attendees_meeting_id", "attendees", ["meeting_id"])
    op.create_table(
        "leave_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asked_by", sa.String(length=96), nullable=False),
        sa.Column("asked_ms", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=96), server_default="", nullable=False),
        sa.Column("decided_ms", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        _fk("leave_requests", "meeting_id", "meetings"),
        _fk("leave_requests", "deputy_id", "deputies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_requests")),
    )
    op.create_index("ix_leave_requests_meeting_id", "leave_requests", ["meeting_id"])
    op.create_table(
        "attendance_records",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("checked_in_ms", sa.BigInteger(), nullable=True),
        sa.Column("how", sa.String(length=8), server_default="", nullable=False),
        sa.Column("late", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("left_ms", sa.BigInteger(), nullable=True),
        sa.Column("returned_ms", sa.BigInteger(), nullable=True),
        sa.Column("leave_approved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("corrected_by", sa.String(length=96), server_default="", nullable=False),
        sa.Column("corrected_ms", sa.BigInteger(), nullable=True),
        _fk("attendance_records", "meeting_id", "meetings"),
        _fk("attendance_records", "deputy_id", "deputies"),
        sa.PrimaryKeyConstraint("meeting_id", "deputy_id", name=op.f("pk_attendance_records")),
    )
    op.create_index("ix_attendance_records_deputy_id", "attendance_records", ["deputy_id"])


def _columns() -> None:
    with op.batch_alter_table("bodies") as batch:
        batch.add_column(sa.Column("level", sa.String(length=16), server_default="town", nullable=False))
        batch.add_column(sa.Column("rules", sa.Text(), server_default="{}", nullable=False))
    # Plain ADD COLUMN: recreating ``meetings`` (a batch on SQLite) trips the foreign keys
    # that point at it. SQLite takes the REFERENCES clause inline; PostgreSQL a constraint.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, target in (("term_id", "terms"), ("session_id", "sessions")):
        name = op.f(f"fk_meetings_{column}_{target}")
        if sqlite:
            op.execute(
                f"ALTER TABLE meetings ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES {target} (id)"
            )
        else:
            op.add_column("meetings", sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(name, "meetings", target, [column], ["id"])
    op.add_column("meetings", sa.Column("held_on", sa.Date(), nullable=True))
    op.add_column("meetings", sa.Column("starts_at", sa.String(length=5), server_default="", nullable=False))
    op.add_column("meetings", sa.Column("place", sa.String(length=128), server_default="", nullable=False))
    op.add_column("meetings", sa.Column("rehearsal", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("meetings", sa.Column("rehearsal_of", sa.Integer(), nullable=True))
    op.add_column("meetings", sa.Column("closed_ms", sa.BigInteger(), nullable=True))


def _move_data() -> None:
    conn = op.get_bind()
    bodies = sa.table(
        "bodies", sa.column("id", sa.Integer), sa.column("name"), sa.column("kind"), sa.column("level")
    )
    meetings = sa.table(
        "meetings",
        sa.column("id", sa.Integer),
        sa.column("body_id", sa.Integer),
        sa.column("title"),
        sa.column("created_ms", sa.BigInteger),
        sa.column("term_id", sa.Integer),
        sa.column("session_id", sa.Integer),
        sa.column("held_on", sa.Date),
    )
    deputies = sa.table("deputies", sa.column("id", sa.Integer), sa.column("body_id", sa.Integer))
    terms = sa.table(
        "terms",
        sa.column("id", sa.Integer),
        sa.column("body_id"),
        sa.column("number"),
        sa.column("starts_on"),
    )
    sessions = sa.table("sessions", sa.column("id", sa.Integer), sa.column("term_id"), sa.column("number"))
    mandates = sa.table(
        "mandates",
        sa.column("deputy_id"),
        sa.column("starts_on"),
        sa.column("start_reason"),
        sa.column("recorded_by"),
    )
    today = dt.datetime.now(CHINA).date()
    for body in conn.execute(sa.select(bodies.c.id, bodies.c.name, bodies.c.kind)).all():
        if body.kind == "standing_committee":
            conn.execute(sa.update(bodies).where(bodies.c.id == body.id).values(level="county"))
        found = re.search(r"第([一二三四五六七八九十]+)届", body.name)
        number = (_numeral(found.group(1)) if found else None) or 1
        rows = conn.execute(
            sa.select(meetings.c.id, meetings.c.title, meetings.c.created_ms).where(
                meetings.c.body_id == body.id
            )
        ).all()
        starts_on = min([_day(r.created_ms) for r in rows] + [today])
        term_id = conn.execute(
            sa.insert(terms).values(body_id=body.id, number=number, starts_on=starts_on).returning(terms.c.id)
        ).scalar_one()
        for deputy in conn.execute(sa.select(deputies.c.id).where(deputies.c.body_id == body.id)).all():
            conn.execute(
                sa.insert(mandates).values(
                    deputy_id=deputy.id, starts_on=starts_on, start_reason="migrated", recorded_by="migration"
                )
            )
        numbered: dict[int, int] = {}
        for r in rows:
            said = re.search(r"第([一二三四五六七八九十]+)次会议", r.title)
            session_number = _numeral(said.group(1)) if said else None
            session_id = None
            if session_number is not None:
                if session_number not in numbered:
                    numbered[session_number] = conn.execute(
                        sa.insert(sessions)
                        .values(term_id=term_id, number=session_number)
                        .returning(sessions.c.id)
                    ).scalar_one()
                session_id = numbered[session_number]
            conn.execute(
                sa.update(meetings)
                .where(meetings.c.id == r.id)
                .values(term_id=term_id, session_id=session_id, held_on=_day(r.created_ms))
            )


def upgrade() -> None:
    _tables()
    _columns()
    _meeting_tables()
    _move_data()


def downgrade() -> None:
    for table in (
        "attendance_records",
        "leave_requests",
        "attendees",
        "meeting_reviewers",
    ):
        op.drop_table(table)
    with op.batch_alter_table("meetings") as batch:
        batch.drop_constraint(op.f("fk_meetings_session_id_sessions"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_meetings_term_id_terms"), type_="foreignkey")
        for column in (
            "closed_ms",
            "rehearsal_of",
            "rehearsal",
            "place",
            "starts_at",
            "held_on",
            "session_id",
            "term_id",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("bodies") as batch:
        batch.drop_column("rules")
        batch.drop_column("level")
    for table in ("presidium_members", "suspensions", "mandates", "sessions", "terms"):
        op.drop_table(table)
