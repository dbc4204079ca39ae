"""The progress reports a moved meeting's agenda takes (``agenda_items.report_id``).

A report row (``followup_reports``) is the office's, not the meeting's, but the meeting
shows its figures while the item that takes it is current, and its record must read the
same wherever the meeting goes: prepared on the office server, run on the hall's laptop,
brought back. So the export carries each report an agenda item takes (title, overview,
figures, who made it and when) in the payload's ``reports`` section, and the import links
the item to this installation's copy of it: the same report (same body, title, figures,
maker and moment) when it is already here — a meeting coming home finds the report it
left with, and no second copy is made — or else a copy made from the file, so the laptop
can show the figures and the record keeps what the hall heard. A file from before this
section has no ``reports`` and no item taking one.

Every column travels, the scope and the printed date too (migration 0015). The scope names
meetings by their ids on the installation the report was made on: a copy keeps those of
the meetings here (the meeting being moved, mapped) and counts the others as
``elsewhere``, so it never names a different meeting that happens to have the same id
here (server/office/followup_report.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import followup_report
from server.office.move_format import MoveRefused
from server.office.move_ids import IdMap
from server.storage import models as m
from server.storage.table_rows import decode, rows

REPORT = "report"  # the IdMap kind
SECTION = "reports"


async def collect(conn: AsyncConnection, agenda_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reports the exported agenda takes, as the database holds them."""
    wanted = sorted({r["report_id"] for r in agenda_items if r.get("report_id") is not None})
    if not wanted:
        return []
    return await rows(conn, m.followup_reports, m.followup_reports.c.id.in_(wanted))


def check_shape(payload: dict[str, Any]) -> None:
    if not isinstance(payload.get(SECTION, []), list):
        raise MoveRefused("文件不完整：“reports”部分格式不对。")


def _scope_here(raw: str, ids: IdMap) -> str:
    here = ids.ids.get("meeting", {})
    meetings, elsewhere = followup_report.scope_of(raw)
    kept = [here[i] for i in meetings if i in here]
    return followup_report.scope_json(kept, elsewhere + len(meetings) - len(kept))


async def link(conn: AsyncConnection, payload: dict[str, Any], ids: IdMap) -> list[str]:
    """Every carried report mapped to a row here (found or copied); lines saying which."""
    lines: list[str] = []
    r = m.followup_reports.c
    for raw in payload.get(SECTION, []):
        src = decode(m.followup_reports, raw)
        if src.get("id") is None:
            raise MoveRefused("文件中的进展报告缺少编号。")
        row = src | {"body_id": ids.of("body", src["body_id"])}
        same = (
            await conn.execute(
                select(r.id).where(
                    r.body_id == row["body_id"],
                    r.title == row["title"],
                    r.counts == row.get("counts", "{}"),
                    r.made_by == row["made_by"],
                    r.made_at_ms == row["made_at_ms"],
                )
            )
        ).scalar()
        if same is not None:
            ids.set(REPORT, src["id"], int(same))
            lines.append(f"议程所听取的进展报告《{row['title']}》本机已有，沿用本机编号 {same}。")
            continue
        new = dict(row)
        new.pop("id")
        if "scope" in new:
            new["scope"] = _scope_here(str(new["scope"]), ids)
        made = await conn.execute(insert(m.followup_reports).values(new).returning(m.followup_reports.c.id))
        new_id = int(made.scalar_one())
        ids.set(REPORT, src["id"], new_id)
        title = row["title"]
        lines.append(f"议程所听取的进展报告《{title}》本机没有，已按文件保存一份（本机编号 {new_id}）。")
    return lines
