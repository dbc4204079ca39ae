"""The agenda item that takes a follow-up progress report (督办进展报告) to the next session.

The office generates a progress report for a body (``followup_reports``: its title and the
figures it stated). When staff prepare the body's next mid-year session they add an agenda
item that takes it (``agenda_items.report_id``): a report item (kind ``report``, the kind
the console already rates), so the hall hears it and the deputies rate it live exactly as
any report is rated, and the projector shows the report's figures while the item is current
(server/storage/store.py loads them into the meeting's setup).

Only a report of the meeting's own body can be taken, and only once per meeting. Every
function runs inside the caller's transaction, checks everything before it writes, raises
:class:`Invalid` with a Chinese message (nothing written), and leaves an entry in the audit
trail. The caller (the meeting's edit page) has already refused a meeting that began.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import ReportSummary
from server.base import parse
from server.office.bodies import Who
from server.office.meeting_forms import Invalid, check_title
from server.storage import audit
from server.storage import models as m
from server.storage.store import report_summary

ACTION = "agenda_report"  # the edit form's action that adds such an item
KIND = "report"  # heard, then rated like any report (screens/templates/fragments/c-agenda.html)

TEXT = {
    "no_meeting": "找不到这次会议。",
    "pick": "请选择要听取的督办进展报告。",
    "other_body": "所选进展报告不是本机构的，只能听取{body}的进展报告。",
    "taken": "本次会议已有听取该进展报告的议程（第 {position} 项）。",
    "kind": "本项议程听取督办进展报告，类型只能是“报告”。",
}


async def body_reports(conn: AsyncConnection, body_id: int) -> list[Any]:
    """The body's saved progress reports, newest first: what the edit page offers."""
    r = m.followup_reports.c
    rows = await conn.execute(
        select(r.id, r.title, r.made_by, r.made_at_ms)
        .where(r.body_id == body_id)
        .order_by(r.made_at_ms.desc(), r.id.desc())
    )
    return list(rows.all())


async def summaries(conn: AsyncConnection, report_ids: list[int]) -> dict[int, ReportSummary]:
    """The figures of these reports, by id (the edit page shows them beside the item)."""
    if not report_ids:
        return {}
    r = m.followup_reports.c
    rows = await conn.execute(select(r.id, r.title, r.counts).where(r.id.in_(report_ids)))
    return {row.id: report_summary(row.title, row.counts) for row in rows}


async def add_item(conn: AsyncConnection, meeting_id: int, form: Mapping[str, str], who: Who) -> int:
    """An agenda item, last on the agenda, that takes the report ``form["report_id"]``;
    its title is ``form["item_title"]`` or, left blank, the report's. Returns its id."""
    meeting = (await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))).first()
    if meeting is None:
        raise Invalid({"report_id": TEXT["no_meeting"]})
    report_id = parse.row_id(form.get("report_id"))
    r = m.followup_reports.c
    report = (
        (await conn.execute(select(r.id, r.body_id, r.title).where(r.id == report_id))).first()
        if report_id is not None
        else None
    )
    if report is None:
        raise Invalid({"report_id": TEXT["pick"]})
    if report.body_id != meeting.body_id:
        body = (await conn.execute(select(m.bodies.c.name).where(m.bodies.c.id == meeting.body_id))).scalar()
        raise Invalid({"report_id": TEXT["other_body"].format(body=body or "本机构")})
    a = m.agenda_items.c
    taken = (
        await conn.execute(select(a.position).where(a.meeting_id == meeting_id, a.report_id == report.id))
    ).scalar()
    if taken is not None:
        raise Invalid({"report_id": TEXT["taken"].format(position=taken)})
    typed = form.get("item_title", "")
    title = check_title(typed if typed.strip() else report.title, "item_title")
    count = select(func.count()).where(a.meeting_id == meeting_id)
    position = int((await conn.execute(count)).scalar_one()) + 1
    item_id = int(
        (
            await conn.execute(
                insert(m.agenda_items)
                .values(meeting_id=meeting_id, position=position, kind=KIND, title=title, report_id=report.id)
                .returning(m.agenda_items.c.id)
            )
        ).scalar_one()
    )
    await audit.record(
        conn,
        "agenda_report_added",
        actor=who.actor,
        device=who.device,
        body_id=meeting.body_id,
        meeting_id=meeting_id,
        item_id=item_id,
        report_id=report.id,
        summary=f"第 {position} 项议程“{title}”听取进展报告《{report.title}》",
    )
    return item_id


def check_kind(kind: str, report_id: int | None) -> None:
    """An item that takes a report stays a report item: only that kind is rated as one."""
    if report_id is not None and kind != KIND:
        raise Invalid({"item_kind": TEXT["kind"]})
