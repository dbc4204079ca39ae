"""Who reports on an agenda item, and the 述职评议 results that belong to them.

An item of a 述职评议 names who reports (migration 0016): a deputies' group of this body, a
member of it, or, the seed's "2+X", a deputy of the higher congress elected here, who is
not on this body's roster and is entered by name and congress. The item's rating (live
keys it by the item's id negated, server/record/facts.py ``item_ratings``) is then that
reporter's result: the per-meeting 述职评议 sheet lists them, and a member's duty record
shows the results of the items he or she reported on (:func:`member_reports`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import AgendaItem
from live.state import RatingResult
from screens.messages import REPORTER_KINDS, reporter_label
from server.record.facts import MeetingRecord
from server.storage import models as m

ReporterKind = Literal["group", "member", "higher"]
KIND_NAMES: dict[str, str] = REPORTER_KINDS


@dataclass(frozen=True)
class Reporter:
    item_id: int
    kind: ReporterKind
    name: str  # the group's name, the member's name, or the higher deputy's name
    group_id: int | None = None
    deputy_id: int | None = None
    congress: str = ""  # a higher deputy's congress, e.g. "某某市人民代表大会"
    group: str = ""  # a member's group

    @property
    def label(self) -> str:
        """How the proceedings, the sheets and the projector name the reporter (the one
        wording, screens/messages.py, that the hall's setup also uses)."""
        return reporter_label(self.kind, self.name, self.group, self.congress)


@dataclass(frozen=True)
class ReportResult:
    """One reporter's 述职评议 result at a meeting (None: the item was never rated)."""

    item: AgendaItem
    reporter: Reporter
    result: RatingResult | None


async def reporters(conn: AsyncConnection, meeting_id: int) -> dict[int, Reporter]:
    """The meeting's items that name who reports, by item id."""
    ai, g, d = m.agenda_items, m.groups, m.deputies
    dg = g.alias("member_group")
    rows = await conn.execute(
        select(
            ai.c.id,
            ai.c.reporter_kind,
            ai.c.reporter_group_id,
            ai.c.reporter_deputy_id,
            ai.c.reporter_name,
            ai.c.reporter_congress,
            g.c.name.label("group_name"),
            d.c.name.label("deputy_name"),
            dg.c.name.label("deputy_group"),
        )
        .select_from(
            ai.outerjoin(g, g.c.id == ai.c.reporter_group_id)
            .outerjoin(d, d.c.id == ai.c.reporter_deputy_id)
            .outerjoin(dg, dg.c.id == d.c.group_id)
        )
        .where(ai.c.meeting_id == meeting_id, ai.c.reporter_kind != "")
    )
    out: dict[int, Reporter] = {}
    for r in rows:
        item_id = int(r.id)
        if r.reporter_kind == "group" and r.group_name is not None:
            out[item_id] = Reporter(item_id, "group", str(r.group_name), group_id=int(r.reporter_group_id))
        elif r.reporter_kind == "member" and r.deputy_name is not None:
            out[item_id] = Reporter(
                item_id,
                "member",
                str(r.deputy_name),
                deputy_id=int(r.reporter_deputy_id),
                group=str(r.deputy_group or ""),
            )
        elif r.reporter_kind == "higher" and r.reporter_name:
            out[item_id] = Reporter(
                item_id, "higher", str(r.reporter_name), congress=str(r.reporter_congress)
            )
    return out


def report_results(record: MeetingRecord, named: dict[int, Reporter]) -> list[ReportResult]:
    """The 述职评议 results of a meeting, in agenda order: every item that names a reporter."""
    rated = {r.item.id: r.result for r in record.item_ratings}
    return [
        ReportResult(item, named[item.id], rated.get(item.id))
        for item in sorted(record.setup.agenda, key=lambda i: i.position)
        if item.id in named
    ]


async def member_reports(conn: AsyncConnection, deputy_id: int) -> list[tuple[int, int]]:
    """(meeting id, item id) of every item this member reported on, alone or with the group
    he or she belongs to (the group's result is the group's, shown as such), oldest
    meeting first.

    Only meetings held and closed (a meeting still to come names who will report, not who
    reported); rehearsals count for nothing. A group's report counts only at meetings held
    while the member held a mandate (a deputy elected later did not report with the
    group). The group is the member's group now: the roster keeps no history of groups.
    """
    ai, mt, md = m.agenda_items, m.meetings, m.mandates
    group_id = (
        await conn.execute(select(m.deputies.c.group_id).where(m.deputies.c.id == deputy_id))
    ).scalar()
    was_member = exists().where(
        md.c.deputy_id == deputy_id,
        or_(mt.c.held_on.is_(None), md.c.starts_on <= mt.c.held_on),
        or_(md.c.ends_on.is_(None), mt.c.held_on.is_(None), md.c.ends_on > mt.c.held_on),
    )
    alone = and_(ai.c.reporter_kind == "member", ai.c.reporter_deputy_id == deputy_id)
    with_group = and_(ai.c.reporter_kind == "group", ai.c.reporter_group_id == group_id, was_member)
    rows = await conn.execute(
        select(ai.c.meeting_id, ai.c.id)
        .join(mt, mt.c.id == ai.c.meeting_id)
        .where(
            mt.c.rehearsal == false(),
            mt.c.closed_ms.is_not(None),
            or_(alone, with_group) if group_id is not None else alone,
        )
        .order_by(mt.c.held_on, mt.c.id, ai.c.position, ai.c.id)
    )
    return [(int(mid), int(iid)) for mid, iid in rows]
