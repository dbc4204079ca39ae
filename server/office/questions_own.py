"""A deputy's own submissions, and the history of any submission as people read it.

Until the deadline, and while staff have not yet handled it, the proposer may revise a
submission or withdraw it (status ``withdrawn``; the row stays, with its history, so the
review board can see what was withdrawn and when). Staff entering a question on a
deputy's behalf go through the review board instead. Every function runs inside the
caller's transaction and raises :class:`Invalid` before writing anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base import days, parse
from server.office.meeting_forms import Invalid
from server.office.questions_admin import TEXT, check_text, history_of, meeting
from server.storage import models as m


async def _own_open(conn: AsyncConnection, meeting_id: int, sub_id: int, deputy_id: int, now_ms: int) -> Any:
    row = await meeting(conn, meeting_id)
    if row is None:
        raise Invalid({"meeting": TEXT["unknown"]})
    if row.submission_deadline_ms is not None and now_ms > row.submission_deadline_ms:
        raise Invalid({"deadline": TEXT["deadline"]})
    t = m.question_submissions
    found = (await conn.execute(select(t).where(t.c.id == sub_id, t.c.meeting_id == meeting_id))).first()
    if found is None or found.deputy_id != deputy_id or found.status != "submitted":
        raise Invalid({"submission": TEXT["not_yours"]})
    return found


async def withdraw(conn: AsyncConnection, meeting_id: int, sub_id: int, deputy_id: int, now_ms: int) -> None:
    row = await _own_open(conn, meeting_id, sub_id, deputy_id, now_ms)
    history = [*history_of(row), {"what": "withdrawn", "who": f"deputy:{deputy_id}", "ms": now_ms}]
    await conn.execute(
        update(m.question_submissions)
        .where(m.question_submissions.c.id == sub_id)
        .values(status="withdrawn", history=json.dumps(history, ensure_ascii=False), updated_ms=now_ms)
    )


async def revise(
    conn: AsyncConnection, meeting_id: int, sub_id: int, deputy_id: int, form: Mapping[str, str], now_ms: int
) -> None:
    row = await _own_open(conn, meeting_id, sub_id, deputy_id, now_ms)
    title, text = check_text(form)
    history = [
        *history_of(row),
        {
            "what": "edited",
            "who": f"deputy:{deputy_id}",
            "ms": now_ms,
            "old_title": row.title,
            "old_text": row.text,
        },
    ]
    await conn.execute(
        update(m.question_submissions)
        .where(m.question_submissions.c.id == sub_id)
        .values(title=title, text=text, history=json.dumps(history, ensure_ascii=False), updated_ms=now_ms)
    )


# -- the history as text -------------------------------------------------------------------

WHAT = {
    "submitted": "提交",
    "edited": "修改",
    "rejected": "不采用",
    "merged": "合并",
    "merged_into": "并入",
    "approved": "采用",
    "withdrawn": "撤回",
}


def _when(ms: Any) -> str:
    try:
        return days.short_moment_of_ms(int(ms))
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def _who(who: Any, names: Callable[[int], str], staff: Mapping[str, str]) -> str:
    """A deputy by name; a presidium member on the review board as "主席团成员 王某"; staff
    by their display name, as "工作人员 李某"."""
    text = str(who or "")
    role, _, rest = text.partition(":")
    deputy_id = parse.row_id(rest) if role in ("deputy", "presidium") else None
    if deputy_id is not None:
        name = names(deputy_id) or "代表"
        return f"主席团成员 {name}" if role == "presidium" else name
    if text in staff:
        return f"工作人员 {staff[text]}"
    return text or "—"


def history_lines(row: Any, names: Callable[[int], str], staff: Mapping[str, str] | None = None) -> list[str]:
    """One line per step, oldest first, e.g. "06-01 10:00 王某 合并：并入 #7《…》（李某 提出）".

    ``staff`` maps the usernames of staff to display names (the review board passes it)."""
    lines = []
    for step in history_of(row):
        if not isinstance(step, dict):
            continue
        what = str(step.get("what", ""))
        who = _who(step.get("who"), names, staff or {})
        line = f"{_when(step.get('ms'))} {who} {WHAT.get(what, what)}"
        if what == "edited":
            line += f"：原标题《{step.get('old_title', '')}》"
        elif what == "rejected":
            line += f"：{step.get('reason', '')}"
        elif what == "merged_into":
            line += f" #{step.get('into', '')}"
        elif what == "merged":
            merged = [
                f"#{f.get('id', '')}《{f.get('title', '')}》（{names(int(f.get('deputy_id') or 0))} 提出）"
                for f in step.get("from", [])
                if isinstance(f, dict)
            ]
            line += "：并入 " + "、".join(merged)
        lines.append(line)
    return lines
