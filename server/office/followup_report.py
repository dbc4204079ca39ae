"""The progress report to the next session (推进落实情况的报告): its data, counts and record.

A report covers the items of a body, or those of some of its meetings (the scope), as
they stood when it was made. Making one checks the title, the overview and the scope
(no items, no report), then saves a ``followup_reports`` row — the title, the overview as
staff edited it, the counts it states (JSON, exactly the keys of :data:`COUNT_KEYS`, the
figures the next session's agenda item shows) — with its audit entry, in the caller's
transaction. The DOCX itself is drawn from a :class:`Report` in the workshop
(server/office/followup_report_docx.py).

The same report again. The row keeps its scope (``scope``, JSON ``{"meetings": [ids]}``,
none = the whole body) and the date it prints (``dated``); the audit entry repeats them
for the record but is not read (migration 0015 moved the entries of reports made before
it into the columns; a row with no date prints the day it was made). A copy brought by a
meeting move from another installation names only the meetings that are here
(server/office/move_reports.py) and counts the others (``elsewhere``): when none is here,
its items are not here either and the rebuilt DOCX prints the saved figures without
them. A download of an earlier report is rebuilt *as of its making*: items created
since are left out, each item's status and reply class are those of its last status
post up to then, posts, commitments and judgments after it are left out, and overdue is
counted on the China day it was made. So it prints the same counts that were saved; the
one thing that can differ is a deputy's judgment changed later (a judgment row keeps its
latest verdict only).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import chinese_day, day_of_ms
from server.office import followup_rules as rules
from server.office.followup_report_items import ReportItem, gather
from server.office.meeting_forms import Invalid
from server.storage import audit
from server.storage import models as m

DEFAULT_TITLE = "关于人大代表问政会所提问题推进落实情况的报告"
# A form's field carries at most 2,000 characters (server/web/http.py): the overview's own
# limit stays below it, so an overlong one gets this module's message, not a generic one.
MAX_TITLE, MAX_OVERVIEW = 200, 1500
# followup_reports.counts, the contract with the agenda item that takes a report.
COUNT_KEYS = ("total", "closed", "open", "overdue", "class_a", "class_b", "class_c", "redo", "objected")

TEXT = {
    "no_body": "找不到这个机构。",
    "empty": "所选范围内没有督办事项，无法生成报告。请先记录交办决定或选择其他会议。",
    "unknown_meeting": "所选会议不属于本机构。",
    "title": f"请填写报告标题，不超过 {MAX_TITLE} 个字。",
    "overview": f"请填写概述，不超过 {MAX_OVERVIEW} 个字。",
    "no_report": "找不到这份报告。",
}


@dataclass(frozen=True)
class Report:
    """Everything the DOCX prints (picklable, for the workshop)."""

    body_name: str
    title: str
    dated: dt.date
    overview: str
    counts: dict[str, int]
    items: tuple[ReportItem, ...]
    as_of: dt.date  # the China day the items were read as of (overdue counted then)


@dataclass(frozen=True)
class Saved:
    """A report made earlier, as the page lists it."""

    id: int
    title: str
    overview: str
    counts: dict[str, int]
    made_by: str
    made_at_ms: int
    meetings: tuple[int, ...]  # the scope; () = every item of the body
    dated: dt.date
    elsewhere: int = 0  # meetings of the scope not on this installation (a moved copy)


def scope_json(meeting_ids: Collection[int], elsewhere: int = 0) -> str:
    """``followup_reports.scope`` for these meetings (and ``elsewhere`` not on this one)."""
    scope: dict[str, Any] = {"meetings": sorted(meeting_ids)}
    if elsewhere:
        scope["elsewhere"] = elsewhere
    return json.dumps(scope)


def scope_of(raw: str | None) -> tuple[tuple[int, ...], int]:
    """The meetings and the count elsewhere a ``scope`` names (a bad one: the whole body)."""
    try:
        scope = json.loads(raw or "{}")
    except ValueError:
        scope = {}
    if not isinstance(scope, dict):
        scope = {}
    meetings = scope.get("meetings", [])
    elsewhere = scope.get("elsewhere", 0)
    ids = tuple(int(x) for x in meetings if isinstance(x, int)) if isinstance(meetings, list) else ()
    return ids, elsewhere if isinstance(elsewhere, int) else 0


def counts_of(items: Sequence[ReportItem]) -> dict[str, int]:
    """The report's figures (the keys of :data:`COUNT_KEYS`, in that order)."""
    closed = sum(i.status == rules.CLOSED for i in items)
    return {
        "total": len(items),
        "closed": closed,
        "open": len(items) - closed,
        "overdue": sum(i.overdue for i in items),
        "class_a": sum(i.reply_class == "A" for i in items),
        "class_b": sum(i.reply_class == "B" for i in items),
        "class_c": sum(i.reply_class == "C" for i in items),
        "redo": sum(i.status == rules.REDO for i in items),
        "objected": sum(i.view.objections > 0 for i in items),
    }


def counts_sentence(c: dict[str, int]) -> str:
    """The short counts paragraph of the report (and the core of the default overview)."""
    # Overdue is always stated (a nought is news too); 重新办理 and objections when there are any.
    text = (
        f"共交办 {c['total']} 项，已办结 {c['closed']} 项，正在办理 {c['open']} 项，"
        f"其中逾期 {c['overdue']} 项"
        + (f"、重新办理 {c['redo']} 项" if c["redo"] else "")
        + f"；答复 A 类 {c['class_a']} 项、B 类 {c['class_b']} 项、C 类 {c['class_c']} 项"
    )
    if c["objected"]:
        text += f"；代表不同意办结 {c['objected']} 项"
    return text + "。"


def default_overview(body_name: str, meeting_titles: Sequence[str], c: dict[str, int], day: dt.date) -> str:
    """The overview the page offers, for staff to edit before generating."""
    scope = "、".join(f"“{t}”" for t in meeting_titles) if meeting_titles else "历次问政会"
    return (
        f"为做好人大代表问政“下半篇文章”，{body_name}对{scope}上代表所提问题逐项交办、跟踪督办。"
        f"截至{chinese_day(day)}，{counts_sentence(c)}"
        "现将各问题推进落实情况报告如下。"
    )


async def meetings_of(conn: AsyncConnection, body_id: int) -> list[tuple[int, str, int]]:
    """The body's meetings that have items: (id, title, items), newest first."""
    fi, mt = m.followup_items, m.meetings
    rows = await conn.execute(
        select(mt.c.id, mt.c.title, func.count(fi.c.id))
        .join(fi, fi.c.meeting_id == mt.c.id)
        .where(mt.c.body_id == body_id, fi.c.body_id == body_id)
        .group_by(mt.c.id, mt.c.title)
        .order_by(mt.c.id.desc())
    )
    return [(int(mid), str(title), int(n)) for mid, title, n in rows]


async def _check_scope(conn: AsyncConnection, body_id: int, meeting_ids: Collection[int]) -> None:
    if not meeting_ids:
        return
    mt = m.meetings
    found = set(
        await conn.scalars(select(mt.c.id).where(mt.c.body_id == body_id, mt.c.id.in_(list(meeting_ids))))
    )
    if found != set(meeting_ids):
        raise Invalid({"scope": TEXT["unknown_meeting"]})


def check_form(title: str, overview: str) -> tuple[str, str]:
    """The title and overview, stripped; :class:`Invalid` in Chinese when empty or too long."""
    errors = {}
    title, overview = title.strip(), overview.strip()
    if not title or len(title) > MAX_TITLE:
        errors["title"] = TEXT["title"]
    if not overview or len(overview) > MAX_OVERVIEW:
        errors["overview"] = TEXT["overview"]
    if errors:
        raise Invalid(errors)
    return title, overview


async def make_report(
    conn: AsyncConnection,
    body_id: int,
    *,
    title: str,
    overview: str,
    meeting_ids: Collection[int],
    dated: dt.date,
    actor: str,
    device: str,
    now_ms: int,
) -> tuple[int, Report]:
    """Save a report of the items in scope as they stand now; returns its id and what the
    DOCX prints. Nothing is written when the title, overview or scope is wrong."""
    body_name = (await conn.execute(select(m.bodies.c.name).where(m.bodies.c.id == body_id))).scalar()
    if body_name is None:
        raise Invalid({"body": TEXT["no_body"]})
    title, overview = check_form(title, overview)
    await _check_scope(conn, body_id, meeting_ids)
    items = await gather(conn, body_id, meeting_ids, now_ms)
    if not items:
        raise Invalid({"scope": TEXT["empty"]})
    counts = counts_of(items)
    fr = m.followup_reports
    made_by = audit.who(actor)
    report_id = int(
        (
            await conn.execute(
                fr.insert()
                .values(
                    body_id=body_id,
                    title=title,
                    overview=overview,
                    counts=json.dumps(counts),
                    made_by=made_by,
                    made_at_ms=now_ms,
                    scope=scope_json(meeting_ids),
                    dated=dated,
                )
                .returning(fr.c.id)
            )
        ).scalar_one()
    )
    await audit.record(
        conn,
        "followup_report_made",
        actor=actor,
        device=device,
        body_id=body_id,
        report=report_id,
        meetings=sorted(meeting_ids),
        dated=dated.isoformat(),
        counts=counts,
        summary=f"{title}（{dated.isoformat()}）：{counts['total']} 项，已办结 {counts['closed']} 项",
    )
    report = Report(str(body_name), title, dated, overview, counts, tuple(items), day_of_ms(now_ms))
    return report_id, report


async def saved_reports(conn: AsyncConnection, body_id: int, report_id: int | None = None) -> list[Saved]:
    """The body's reports, newest first (or the one ``report_id``), each with its scope and
    date (the day it was made when it has none)."""
    fr = m.followup_reports
    stmt = select(fr).where(fr.c.body_id == body_id).order_by(fr.c.id.desc())
    if report_id is not None:
        stmt = stmt.where(fr.c.id == report_id)
    out = []
    for r in await conn.execute(stmt):
        meetings, elsewhere = scope_of(r.scope)
        out.append(
            Saved(
                int(r.id),
                str(r.title),
                str(r.overview),
                json.loads(r.counts or "{}"),
                str(r.made_by),
                int(r.made_at_ms),
                meetings,
                r.dated if r.dated is not None else day_of_ms(int(r.made_at_ms)),
                elsewhere,
            )
        )
    return out


async def rebuild(conn: AsyncConnection, body_id: int, report_id: int) -> Report | None:
    """An earlier report again, as of its making (see the module's docstring)."""
    found = await saved_reports(conn, body_id, report_id)
    body_name = (await conn.execute(select(m.bodies.c.name).where(m.bodies.c.id == body_id))).scalar()
    if not found or body_name is None:
        return None
    saved = found[0]
    only_elsewhere = saved.elsewhere and not saved.meetings  # not "the whole body"
    items = [] if only_elsewhere else await gather(conn, body_id, saved.meetings, saved.made_at_ms, now=False)
    return Report(
        str(body_name),
        saved.title,
        saved.dated,
        saved.overview,
        {k: int(saved.counts.get(k, 0)) for k in COUNT_KEYS},
        tuple(items),
        day_of_ms(saved.made_at_ms),
    )
