"""Ratings keep totals per choice instead of a row per ballot.

Rows of single ballots with random ids still came back from PostgreSQL in the order they
were written, which is the order of the receipts: whoever could read both tables could
link a deputy to a choice. The totals are carried over; the ballot rows are dropped.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rating_tallies",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_rating_tallies_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("meeting_id", "question_id", "choice", name=op.f("pk_rating_tallies")),
    )
    op.execute(
        "INSERT INTO rating_tallies (meeting_id, question_id, choice, n) "
        "SELECT meeting_id, question_id, choice, COUNT(*) FROM rating_ballots "
        "GROUP BY meeting_id, question_id, choice"
    )
    op.drop_index("ix_rating_ballots_meeting_question", table_name="rating_ballots")
    op.drop_table("rating_ballots")


def downgrade() -> None:
    # The single ballots are gone for good (that is the point); a downgrade recreates the
    # empty table so that older code runs, and loses the totals of ratings in progress.
    op.create_table(
        "rating_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_rating_ballots_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_ballots")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_rating_ballots_meeting_question", "rating_ballots", ["meeting_id", "question_id"], unique=False
    )
    op.drop_table("rating_tallies")
