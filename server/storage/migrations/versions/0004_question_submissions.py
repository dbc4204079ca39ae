"""Question collection and review: submissions and a per-meeting submission deadline.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meetings", sa.Column("submission_deadline_ms", sa.BigInteger(), nullable=True))
    op.create_table(
        "question_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("wanted_official_id", sa.Integer(), nullable=True),
        sa.Column("co_proposers", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("history", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputies.id"], name=op.f("fk_question_submissions_deputy_id_deputies")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_question_submissions_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_question_submissions_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["wanted_official_id"],
            ["officials.id"],
            name=op.f("fk_question_submissions_wanted_official_id_officials"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_submissions")),
    )
    op.create_index("ix_question_submissions_meeting_id", "question_submissions", ["meeting_id"])


def downgrade() -> None:
    op.drop_index("ix_question_submissions_meeting_id", table_name="question_submissions")
    op.drop_table("question_submissions")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("submission_deadline_ms")
