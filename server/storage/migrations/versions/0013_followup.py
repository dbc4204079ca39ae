"""After the meeting: responsible organs, 交办 decisions and follow-up items (督办).

New tables only (server/storage/models/followup.py): ``organs``, ``followup_decisions``,
``followup_items``, ``followup_item_organs``, ``followup_commitments``, ``followup_posts``,
``followup_closed_questions``. Nothing existing changes.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "organs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("contact", sa.String(length=64), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=32), server_default="", nullable=False),
        sa.Column("link_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        _fk("organs", "body_id", "bodies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organs")),
        sa.UniqueConstraint("body_id", "name", name="uq_organs_body_name"),
    )
    op.create_table(
        "followup_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("organ", sa.String(length=64), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("document_no", sa.String(length=64), nullable=False),
        sa.Column("reply_months", sa.Integer(), server_default="3", nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at_ms", sa.BigInteger(), nullable=False),
        _fk("followup_decisions", "meeting_id", "meetings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_decisions")),
    )
    op.create_table(
        "followup_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("asker", sa.String(length=64), server_default="", nullable=False),
        sa.Column("groups", sa.Text(), server_default="", nullable=False),
        sa.Column("respondent", sa.String(length=128), server_default="", nullable=False),
        sa.Column("rating_text", sa.String(length=200), server_default="", nullable=False),
        sa.Column("priority", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.Column("reply_due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reply_class", sa.String(length=1), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        _fk("followup_items", "body_id", "bodies"),
        _fk("followup_items", "meeting_id", "meetings"),
        _fk("followup_items", "decision_id", "followup_decisions"),
        _fk("followup_items", "question_id", "questions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_items")),
    )
    op.create_table(
        "followup_item_organs",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("organ_id", sa.Integer(), nullable=False),
        sa.Column("lead", sa.Boolean(), server_default=sa.false(), nullable=False),
        _fk("followup_item_organs", "item_id", "followup_items"),
        _fk("followup_item_organs", "organ_id", "organs"),
        sa.PrimaryKeyConstraint("item_id", "organ_id", name=op.f("pk_followup_item_organs")),
    )
    op.create_table(
        "followup_commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        _fk("followup_commitments", "item_id", "followup_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_commitments")),
    )
    op.create_table(
        "followup_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("on_behalf", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status_from", sa.String(length=16), nullable=True),
        sa.Column("status_to", sa.String(length=16), nullable=True),
        sa.Column("reply_class", sa.String(length=1), nullable=True),
        sa.Column("public_approved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        _fk("followup_posts", "item_id", "followup_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_posts")),
    )
    op.create_table(
        "followup_closed_questions",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        _fk("followup_closed_questions", "decision_id", "followup_decisions"),
        _fk("followup_closed_questions", "question_id", "questions"),
        sa.PrimaryKeyConstraint("decision_id", "question_id", name=op.f("pk_followup_closed_questions")),
    )


def downgrade() -> None:
    for table in (
        "followup_closed_questions",
        "followup_posts",
        "followup_commitments",
        "followup_item_organs",
        "followup_items",
        "followup_decisions",
        "organs",
    ):
        op.drop_table(table)
