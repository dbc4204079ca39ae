"""A meeting's agenda as its setup carries it (server/storage/store.py ``load_setup``):
each item with the figures of the progress report it takes and who reports on it, read
in one query so the screens show them with no I/O.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import AgendaItem, ReportSummary
from screens.messages import reporter_label
from server.storage import models as m

REPORT_COUNTS = ("total", "closed", "open", "overdue", "class_a", "class_b", "class_c", "redo", "objected")


def report_summary(title: str, counts: str) -> ReportSummary:
    """A progress report's figures from its stored JSON (``followup_reports.counts``). A
    figure missing or unreadable reads 0: the hall shows what the report stated, never a
    figure made up here."""
    try:
        raw = json.loads(counts or "{}")
    except ValueError:
        raw = {}
    if not isinstance(raw, dict):
        raw = {}
    figures: dict[str, int] = {}
    for key in REPORT_COUNTS:
        value = raw.get(key)
        figures[key] = value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
    return ReportSummary(title, **figures)


async def agenda_items(conn: AsyncConnection, meeting_id: int) -> tuple[AgendaItem, ...]:
    """The agenda, each item with the figures of the progress report it takes, if any, and
    who reports on it (migration 0016): loaded here once, in one query, so the screens show
    them with no I/O. The reporter reads as server/record/reporters.py reads it: a group or
    member no longer found names nobody."""
    a, r = m.agenda_items, m.followup_reports
    rg, rd = m.groups.alias("reporter_group"), m.deputies.alias("reporter_deputy")
    dg = m.groups.alias("reporter_deputy_group")
    rows = await conn.execute(
        select(
            a,
            r.c.title.label("report_title"),
            r.c.counts.label("report_counts"),
            rg.c.name.label("reporter_group_name"),
            rd.c.name.label("reporter_deputy_name"),
            dg.c.name.label("reporter_deputy_group"),
        )
        .select_from(
            a.outerjoin(r, r.c.id == a.c.report_id)
            .outerjoin(rg, rg.c.id == a.c.reporter_group_id)
            .outerjoin(rd, rd.c.id == a.c.reporter_deputy_id)
            .outerjoin(dg, dg.c.id == rd.c.group_id)
        )
        .where(a.c.meeting_id == meeting_id)
        .order_by(a.c.position)
    )
    return tuple(
        AgendaItem(
            row.id,
            row.position,
            row.title,
            row.kind,
            report_summary(row.report_title, row.report_counts) if row.report_title is not None else None,
            _reporter(row),
        )
        for row in rows
    )


def _reporter(row: Any) -> str:
    kind = row.reporter_kind
    if kind == "group":
        return reporter_label(kind, row.reporter_group_name or "")
    if kind == "member":
        return reporter_label(kind, row.reporter_deputy_name or "", row.reporter_deputy_group or "")
    if kind == "higher":
        return reporter_label(kind, row.reporter_name, congress=row.reporter_congress)
    return ""
