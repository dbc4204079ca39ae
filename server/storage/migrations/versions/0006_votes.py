"""Formal votes: receipts (who voted) and a secret vote's running totals (no ballot rows).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vote_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("ballot_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputies.id"], name=op.f("fk_vote_receipts_deputy_id_deputies")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_vote_receipts_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_receipts")),
        sa.UniqueConstraint(
            "meeting_id", "vote_id", "deputy_id", name="uq_vote_receipts_meeting_vote_deputy"
        ),
    )
    op.create_table(
        "vote_tallies",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_vote_tallies_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("meeting_id", "vote_id", "choice", name=op.f("pk_vote_tallies")),
    )


def downgrade() -> None:
    op.drop_table("vote_tallies")
    op.drop_table("vote_receipts")
