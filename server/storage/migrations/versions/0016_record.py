"""The record of a held meeting (issue 19): who chaired it, the free paragraph of its
proceedings, and who reports on a 述职评议 agenda item.

New columns:
- ``meetings.chair`` (主持人, as the proceedings name it) and ``meetings.record_note`` (the
  paragraph staff add to the proceedings before generating them);
- ``agenda_items.reporter_kind``: "" (nobody reports: a report heard, a question item),
  ``group`` (a deputies' group of this body: ``reporter_group_id``), ``member`` (a member of
  this body: ``reporter_deputy_id``) or ``higher`` (the seed's "2+X": a deputy of the higher
  congress elected here, not on this body's roster: ``reporter_name`` and
  ``reporter_congress``).

Nothing to carry over: every existing meeting gets no chair and no note, every existing
item nobody reporting. The downgrade drops the columns.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("chair", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("record_note", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("agenda_items") as batch:
        batch.add_column(sa.Column("reporter_kind", sa.String(16), nullable=False, server_default=""))
        batch.add_column(
            sa.Column(
                "reporter_group_id",
                sa.Integer(),
                sa.ForeignKey("groups.id", name="fk_agenda_items_reporter_group"),
                nullable=True,
            )
        )
        batch.add_column(
            sa.Column(
                "reporter_deputy_id",
                sa.Integer(),
                sa.ForeignKey("deputies.id", name="fk_agenda_items_reporter_deputy"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("reporter_name", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("reporter_congress", sa.String(100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("agenda_items") as batch:
        batch.drop_column("reporter_congress")
        batch.drop_column("reporter_name")
        batch.drop_column("reporter_deputy_id")
        batch.drop_column("reporter_group_id")
        batch.drop_column("reporter_kind")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("record_note")
        batch.drop_column("chair")
