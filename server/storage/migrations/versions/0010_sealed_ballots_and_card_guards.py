"""Sealed secret ballots; guards against guessing a card's short code; 8-digit codes.

- ``sealed_ballots``: the choice of a secret ballot while its round is open, sealed with
  the installation's key (server/base/ballot_box.py). Totals of a round are written once, when
  it closes; a rating or secret vote open during the upgrade keeps the totals it already
  has in the tally tables, and its new ballots are sealed.
- ``card_guards``: wrong short codes per card, the delay they earned, a lock by staff.
- Short codes of fewer than 8 digits are drawn again with 8: a 4-digit code fell to a
  script in seconds. The invitation link (the QR code on the card) keeps working; the
  code printed on old cards no longer binds a phone, so reprint the cards.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SHORT_CODE_DIGITS = 8


def upgrade() -> None:
    op.create_table(
        "sealed_ballots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_sealed_ballots_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_ballots")),
    )
    op.create_index("ix_sealed_ballots_round", "sealed_ballots", ["meeting_id", "kind", "round_id"])
    op.create_table(
        "card_guards",
        sa.Column("deputy_id", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_address", sa.String(length=64), nullable=False),
        sa.Column("retry_after_ms", sa.BigInteger(), nullable=False),
        sa.Column("locked_by", sa.String(length=96), nullable=False),
        sa.Column("locked_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputies.id"], name=op.f("fk_card_guards_deputy_id_deputies")
        ),
        sa.PrimaryKeyConstraint("deputy_id", name=op.f("pk_card_guards")),
    )
    conn = op.get_bind()
    deputies = sa.table("deputies", sa.column("id", sa.Integer), sa.column("short_code", sa.String))
    short = [
        r.id
        for r in conn.execute(sa.select(deputies.c.id, deputies.c.short_code))
        if len(r.short_code) < SHORT_CODE_DIGITS
    ]
    for deputy_id in short:
        code = f"{secrets.randbelow(10**SHORT_CODE_DIGITS):0{SHORT_CODE_DIGITS}d}"
        conn.execute(sa.update(deputies).where(deputies.c.id == deputy_id).values(short_code=code))


def downgrade() -> None:
    # The sealed choices of rounds still open cannot be turned back into the old running
    # totals without the key; a downgrade drops them (close open rounds first).
    op.drop_table("card_guards")
    op.drop_index("ix_sealed_ballots_round", table_name="sealed_ballots")
    op.drop_table("sealed_ballots")
