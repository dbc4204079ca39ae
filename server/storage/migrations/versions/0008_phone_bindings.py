"""One phone per card: the binding each card has now.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "phone_bindings",
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("card_version", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=32), nullable=False),
        sa.Column("bound_ms", sa.BigInteger(), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputies.id"], name=op.f("fk_phone_bindings_deputy_id_deputies")
        ),
        sa.PrimaryKeyConstraint("deputy_id", name=op.f("pk_phone_bindings")),
    )


def downgrade() -> None:
    op.drop_table("phone_bindings")
