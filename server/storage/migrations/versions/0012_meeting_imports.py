"""Meetings moved in from another installation (`wenzheng meeting import`).

One row per imported meeting: its origin (the exporting installation's signing key
fingerprint and its meeting id there) is unique, so the same meeting is never imported
twice (server/office/move_import.py).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meeting_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=128), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("source_title", sa.String(length=200), nullable=False),
        sa.Column("imported_ms", sa.BigInteger(), nullable=False),
        sa.Column("imported_by", sa.String(length=96), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_imports_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_imports")),
        sa.UniqueConstraint("origin", name=op.f("uq_meeting_imports_origin")),
    )


def downgrade() -> None:
    op.drop_table("meeting_imports")
