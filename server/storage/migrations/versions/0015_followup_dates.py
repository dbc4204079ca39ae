"""Real columns for two things follow-up kept elsewhere: the day of a progress post's work,
and a progress report's scope and printed date.

New columns: ``followup_posts.work_on`` (the day the work was done; set for progress
posts), ``followup_reports.scope`` (JSON: ``{"meetings": [ids]}``, none = every item of the
body) and ``followup_reports.dated`` (the date the report prints).

Before this, a progress post's ``at_ms`` was the moment it was posted moved back by whole
China days to the day of the work, with the real day kept in its audit entry
(``done_on``); and a report's scope and date lived only in its audit entry
(``meetings``, ``dated``). The upgrade carries both over, so the code reads the columns
only: a progress post gets ``work_on`` from its entry and ``at_ms`` moved forward again to
the day it was posted (the day of the entry's own moment — the entry was written in the
same transaction); one without an entry (a database moved without its audit trail) gets
the day its ``at_ms`` names and keeps its ``at_ms``. A report without an entry keeps the
whole body and no date (the page then prints the day it was made, as before). The
downgrade moves a progress post's ``at_ms`` back to the day of its work, as the old code
expects, and drops the columns (the audit entries hold the rest).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# China has kept one offset since 1991; a migration must not import the application's code.
CHINA = dt.timezone(dt.timedelta(hours=8))
DAY_MS = 24 * 3600 * 1000

_posts = sa.table(
    "followup_posts",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("at_ms", sa.BigInteger),
    sa.column("work_on", sa.Date),
)
_reports = sa.table(
    "followup_reports", sa.column("id", sa.Integer), sa.column("scope", sa.Text), sa.column("dated", sa.Date)
)
_audit = sa.table(
    "audit", sa.column("at_ms", sa.BigInteger), sa.column("action", sa.String), sa.column("detail", sa.Text)
)


def _day(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).date()


def _entries(bind: Any, action: str, key: str) -> dict[int, tuple[int, dict[str, Any]]]:
    """The audit entries of ``action``, by the id their detail names under ``key``."""
    out: dict[int, tuple[int, dict[str, Any]]] = {}
    for at_ms, detail in bind.execute(
        sa.select(_audit.c.at_ms, _audit.c.detail).where(_audit.c.action == action)
    ):
        try:
            d = json.loads(detail or "{}")
        except ValueError:
            continue
        if isinstance(d, dict) and isinstance(d.get(key), int):
            out[d[key]] = (int(at_ms), d)
    return out


def _date(raw: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        return None


def _carry_over() -> None:
    bind = op.get_bind()
    posted = _entries(bind, "followup_posted", "post")
    for post_id, at_ms in bind.execute(
        sa.select(_posts.c.id, _posts.c.at_ms).where(_posts.c.kind == "progress")
    ).all():
        entry = posted.get(int(post_id))
        work_on = _date(entry[1].get("done_on")) if entry else None
        values: dict[str, Any] = {"work_on": work_on or _day(int(at_ms))}
        if entry and work_on:
            values["at_ms"] = int(at_ms) + (_day(entry[0]) - work_on).days * DAY_MS
        bind.execute(sa.update(_posts).where(_posts.c.id == post_id).values(**values))
    made = _entries(bind, "followup_report_made", "report")
    for (report_id,) in bind.execute(sa.select(_reports.c.id)).all():
        if int(report_id) not in made:
            continue
        d = made[int(report_id)][1]
        meetings = sorted(x for x in d.get("meetings", []) if isinstance(x, int))
        scope = json.dumps({"meetings": meetings})
        bind.execute(
            sa.update(_reports)
            .where(_reports.c.id == report_id)
            .values(scope=scope, dated=_date(d.get("dated")))
        )


def upgrade() -> None:
    with op.batch_alter_table("followup_posts") as batch:
        batch.add_column(sa.Column("work_on", sa.Date(), nullable=True))
    with op.batch_alter_table("followup_reports") as batch:
        batch.add_column(sa.Column("scope", sa.Text(), server_default="{}", nullable=False))
        batch.add_column(sa.Column("dated", sa.Date(), nullable=True))
    _carry_over()


def downgrade() -> None:
    # The old code reads a progress post's at_ms as the day of its work: move it back there.
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_posts.c.id, _posts.c.at_ms, _posts.c.work_on).where(_posts.c.work_on.is_not(None))
    )
    for post_id, at_ms, work_on in rows.all():
        back = (_day(int(at_ms)) - work_on).days * DAY_MS
        bind.execute(sa.update(_posts).where(_posts.c.id == post_id).values(at_ms=int(at_ms) - back))
    with op.batch_alter_table("followup_reports") as batch:
        batch.drop_column("dated")
        batch.drop_column("scope")
    with op.batch_alter_table("followup_posts") as batch:
        batch.drop_column("work_on")
