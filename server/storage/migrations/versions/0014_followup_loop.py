"""Follow-up closes its loop: attachments, the deputies' judgments, commitments typed in
the hall, the public page and the progress report.

New tables: ``followup_attachments``, ``followup_judgments``, ``question_commitments``,
``followup_reports``. New columns: ``followup_items.public``, ``followup_posts.organ_id``,
``approved_by``, ``approved_at_ms``, ``agenda_items.report_id``. Nothing existing changes
meaning; the new columns have defaults or are nullable.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "followup_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("overview", sa.Text(), server_default="", nullable=False),
        sa.Column("counts", sa.Text(), server_default="{}", nullable=False),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.Column("made_at_ms", sa.BigInteger(), nullable=False),
        _fk("followup_reports", "body_id", "bodies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_reports")),
    )
    op.create_table(
        "followup_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mime", sa.String(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        _fk("followup_attachments", "post_id", "followup_posts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_attachments")),
    )
    op.create_index("ix_followup_attachments_post_id", "followup_attachments", ["post_id"])
    op.create_table(
        "followup_judgments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reply_post_id", sa.Integer(), nullable=False),
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("objects", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        _fk("followup_judgments", "item_id", "followup_items"),
        _fk("followup_judgments", "reply_post_id", "followup_posts"),
        _fk("followup_judgments", "deputy_id", "deputies"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_judgments")),
        sa.UniqueConstraint("reply_post_id", "deputy_id", name="uq_followup_judgments_reply_deputy"),
    )
    op.create_index("ix_followup_judgments_item_id", "followup_judgments", ["item_id"])
    op.create_table(
        "question_commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        _fk("question_commitments", "meeting_id", "meetings"),
        _fk("question_commitments", "question_id", "questions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_commitments")),
    )
    op.create_index("ix_question_commitments_meeting_id", "question_commitments", ["meeting_id"])
    # batch_alter_table: SQLite adds a column with a foreign key only by copying the table.
    with op.batch_alter_table("followup_items") as batch:
        batch.add_column(sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("followup_posts") as batch:
        batch.add_column(sa.Column("organ_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("approved_by", sa.String(length=64), server_default="", nullable=False))
        batch.add_column(sa.Column("approved_at_ms", sa.BigInteger(), nullable=True))
        batch.create_foreign_key(op.f("fk_followup_posts_organ_id_organs"), "organs", ["organ_id"], ["id"])
    with op.batch_alter_table("agenda_items") as batch:
        batch.add_column(sa.Column("report_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_agenda_items_report_id_followup_reports"), "followup_reports", ["report_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("agenda_items") as batch:
        batch.drop_constraint(op.f("fk_agenda_items_report_id_followup_reports"), type_="foreignkey")
        batch.drop_column("report_id")
    with op.batch_alter_table("followup_posts") as batch:
        batch.drop_constraint(op.f("fk_followup_posts_organ_id_organs"), type_="foreignkey")
        batch.drop_column("approved_at_ms")
        batch.drop_column("approved_by")
        batch.drop_column("organ_id")
    with op.batch_alter_table("followup_items") as batch:
        batch.drop_column("public")
    op.drop_index("ix_question_commitments_meeting_id", table_name="question_commitments")
    op.drop_table("question_commitments")
    op.drop_index("ix_followup_judgments_item_id", table_name="followup_judgments")
    op.drop_table("followup_judgments")
    op.drop_index("ix_followup_attachments_post_id", table_name="followup_attachments")
    op.drop_table("followup_attachments")
    op.drop_table("followup_reports")
