"""Index the ballots by meeting and question: counts are re-read from them.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_rating_ballots_meeting_question", "rating_ballots", ["meeting_id", "question_id"])


def downgrade() -> None:
    op.drop_index("ix_rating_ballots_meeting_question", table_name="rating_ballots")
