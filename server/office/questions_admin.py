"""Question collection (征集) and review (汇总平衡): the logic, no HTTP.

Submissions are kept apart from the final list. Deputies (or staff on their behalf) write
rows in ``question_submissions`` before the meeting's ``submission_deadline_ms``; a group
sees its own group's submissions with their status and any reject reason. Staff on the
review board merge duplicates (the kept submission gains every proposer of the merged
ones, and its ``history`` JSON records what was merged, by whom, when), edit the text,
reject with a reason, or approve. Approving writes a row in ``questions`` at the end of
the final list (:mod:`server.office.final_list`). Every function runs inside the
caller's transaction and raises :class:`Invalid` before writing anything on bad input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base import parse
from server.office.meeting_forms import Invalid
from server.storage import models as m

TITLE_MAX = 200
TEXT_MAX = 5000
REASON_MAX = 500
STATUS_NAMES = {
    "submitted": "待审",
    "merged": "已合并",
    "rejected": "未采用",
    "approved": "已采用",
    "withdrawn": "已撤回",
}

TEXT = {
    "title": "请填写问题标题（不超过200字）。",
    "text": "问题内容不能超过5000字。",
    "deadline": "问题征集已截止，不能再提交。",
    "official": "所选的应询人员不在本机构名单中。",
    "co_proposer": "联名代表须是本机构的代表：找不到“{x}”。",
    "co_unknown": "所选的联名代表不在本机构名单中。",
    "deputy": "找不到这位代表。",
    "unknown": "找不到这条问题。",
    "not_open": "这条问题已处理（已合并、未采用或已采用），不能再改。",
    "merge_two": "合并请至少选择两条待审的问题。",
    "merge_keep": "要保留的问题须在所选的问题之中。",
    "not_yours": "只能撤回或修改自己提出的、尚未处理的问题。",
    "reason": "请填写未采用的理由（不超过500字）。",
    "started": "会议已经开始，问题清单已载入现场，不能再修改。",
    "not_in_list": "这条问题不在最终清单中。",
    "deadline_bad": "截止时间格式应为 2026-06-01 18:00，年份在 2000 至 2099 之间。",
    "unreadable": "“{field}”含有无法识别的字符（如控制字符），请删去后重试。",
    "respondent": "请至少选择一位本机构的应询人员。",
}


def id_list(raw: str) -> list[int]:
    return parse.row_ids(raw) or []


def history_of(row: Any) -> list[dict[str, Any]]:
    try:
        data = json.loads(row.history or "[]")
    except ValueError:
        return []
    return data if isinstance(data, list) else []


async def meeting(conn: AsyncConnection, meeting_id: int) -> Any:
    return (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).first()


async def deputy(conn: AsyncConnection, body_id: int, deputy_id: int) -> Any:
    stmt = (
        select(m.deputies, m.groups.c.name.label("group_name"))
        .join(m.groups, m.groups.c.id == m.deputies.c.group_id)
        .where(m.deputies.c.id == deputy_id, m.deputies.c.body_id == body_id)
    )
    return (await conn.execute(stmt)).first()


async def deputies(conn: AsyncConnection, body_id: int) -> list[Any]:
    stmt = (
        select(m.deputies, m.groups.c.name.label("group_name"))
        .join(m.groups, m.groups.c.id == m.deputies.c.group_id)
        .where(m.deputies.c.body_id == body_id)
        .order_by(m.groups.c.position, m.groups.c.id, m.deputies.c.card_no)
    )
    return list((await conn.execute(stmt)).all())


async def officials(conn: AsyncConnection, body_id: int) -> list[Any]:
    stmt = select(m.officials).where(m.officials.c.body_id == body_id).order_by(m.officials.c.id)
    return list((await conn.execute(stmt)).all())


def _text(raw: str, limit: int, key: str, name: str, too_long: str, *, lines: bool = False) -> str:
    value = parse.text(raw, limit, lines=lines)
    if value is None:
        long = len(raw.strip()) > limit
        raise Invalid({key: too_long if long else TEXT["unreadable"].format(field=name)})
    return value


def check_text(form: Mapping[str, str]) -> tuple[str, str]:
    errors: dict[str, str] = {}
    title = text = ""
    try:
        title = _text(form.get("title", ""), TITLE_MAX, "title", "标题", TEXT["title"])
        if not title:
            errors["title"] = TEXT["title"]
    except Invalid as bad:
        errors.update(bad.errors)
    try:
        text = _text(form.get("text", ""), TEXT_MAX, "text", "问题内容", TEXT["text"], lines=True)
    except Invalid as bad:
        errors.update(bad.errors)
    if errors:
        raise Invalid(errors)
    return title, text


async def submit(
    conn: AsyncConnection,
    meeting_id: int,
    deputy_id: int,
    form: Mapping[str, str],
    now_ms: int,
    entered_by: str = "",
) -> int:
    """A new submission by ``deputy_id``; co-proposers by id (``co``) or card number (``co_cards``)."""
    row = await meeting(conn, meeting_id)
    if row is None:
        raise Invalid({"meeting": TEXT["unknown"]})
    if not entered_by and row.submission_deadline_ms is not None and now_ms > row.submission_deadline_ms:
        raise Invalid({"deadline": TEXT["deadline"]})
    me = await deputy(conn, row.body_id, deputy_id)
    if me is None:
        raise Invalid({"deputy": TEXT["deputy"]})
    errors: dict[str, str] = {}
    try:
        title, text = check_text(form)
    except Invalid as bad:
        errors.update(bad.errors)
    members = await deputies(conn, row.body_id)
    by_id = {d.id: d for d in members}
    by_card = {d.card_no: d for d in members}
    co: list[int] = []
    for raw in form.get("co", "").replace("，", ",").split(","):
        raw = raw.strip()
        co_id = parse.row_id(raw)
        if raw and (co_id is None or co_id not in by_id):
            errors["co"] = TEXT["co_proposer"].format(x=raw[:20])
        elif co_id is not None:
            co.append(co_id)
    for raw in form.get("co_cards", "").replace("，", ",").split(","):
        raw = raw.strip()
        if raw and raw not in by_card:
            errors["co"] = TEXT["co_proposer"].format(x=raw[:20])
        elif raw:
            co.append(by_card[raw].id)
    co = [d for d in dict.fromkeys(co) if d != deputy_id]
    wanted: int | None = None
    raw_official = form.get("official", "").strip()
    if raw_official:
        ids = {o.id for o in await officials(conn, row.body_id)}
        wanted = parse.row_id(raw_official)
        if wanted not in ids:
            errors["official"] = TEXT["official"]
            wanted = None
    if errors:
        raise Invalid(errors)
    history = [{"what": "submitted", "who": entered_by or f"deputy:{deputy_id}", "ms": now_ms}]
    result = await conn.execute(
        insert(m.question_submissions)
        .values(
            meeting_id=meeting_id,
            deputy_id=deputy_id,
            group_id=me.group_id,
            title=title,
            text=text,
            wanted_official_id=wanted,
            co_proposers=",".join(str(d) for d in co),
            status="submitted",
            reject_reason="",
            history=json.dumps(history, ensure_ascii=False),
            created_ms=now_ms,
            updated_ms=now_ms,
            entered_by=entered_by,
        )
        .returning(m.question_submissions.c.id)
    )
    return int(result.scalar_one())


async def submissions(conn: AsyncConnection, meeting_id: int, group_id: int | None = None) -> list[Any]:
    t = m.question_submissions
    stmt = select(t).where(t.c.meeting_id == meeting_id)
    if group_id is not None:
        stmt = stmt.where(t.c.group_id == group_id)
    return list((await conn.execute(stmt.order_by(t.c.group_id, t.c.id))).all())


async def open_submission(conn: AsyncConnection, meeting_id: int, sub_id: int) -> Any:
    t = m.question_submissions
    row = (await conn.execute(select(t).where(t.c.id == sub_id, t.c.meeting_id == meeting_id))).first()
    if row is None:
        raise Invalid({"submission": TEXT["unknown"]})
    if row.status != "submitted":
        raise Invalid({"submission": TEXT["not_open"]})
    return row


async def edit(
    conn: AsyncConnection, meeting_id: int, sub_id: int, form: Mapping[str, str], who: str, now_ms: int
) -> None:
    row = await open_submission(conn, meeting_id, sub_id)
    title, text = check_text(form)
    history = [
        *history_of(row),
        {"what": "edited", "who": who, "ms": now_ms, "old_title": row.title, "old_text": row.text},
    ]
    await conn.execute(
        update(m.question_submissions)
        .where(m.question_submissions.c.id == sub_id)
        .values(title=title, text=text, history=json.dumps(history, ensure_ascii=False), updated_ms=now_ms)
    )


async def reject(
    conn: AsyncConnection, meeting_id: int, sub_id: int, reason: str, who: str, now_ms: int
) -> None:
    row = await open_submission(conn, meeting_id, sub_id)
    reason = _text(reason, REASON_MAX, "reason", "理由", TEXT["reason"], lines=True)
    if not reason:
        raise Invalid({"reason": TEXT["reason"]})
    history = [*history_of(row), {"what": "rejected", "who": who, "ms": now_ms, "reason": reason}]
    await conn.execute(
        update(m.question_submissions)
        .where(m.question_submissions.c.id == sub_id)
        .values(
            status="rejected",
            reject_reason=reason,
            history=json.dumps(history, ensure_ascii=False),
            updated_ms=now_ms,
        )
    )


async def merge(
    conn: AsyncConnection,
    meeting_id: int,
    ids: Sequence[int],
    who: str,
    now_ms: int,
    keep_id: int | None = None,
) -> int:
    """Merge into ``keep_id`` (by default the first of ``ids``): it keeps every proposer
    and the merged texts."""
    ids = list(dict.fromkeys(ids))
    if len(ids) < 2:
        raise Invalid({"merge": TEXT["merge_two"]})
    if keep_id is not None:
        if keep_id not in ids:
            raise Invalid({"merge": TEXT["merge_keep"]})
        ids = [keep_id, *(i for i in ids if i != keep_id)]
    rows = [await open_submission(conn, meeting_id, i) for i in ids]
    keep, others = rows[0], rows[1:]
    proposers = [keep.deputy_id, *id_list(keep.co_proposers)]
    for o in others:
        proposers += [o.deputy_id, *id_list(o.co_proposers)]
    co = [d for d in dict.fromkeys(proposers) if d != keep.deputy_id]
    history = [
        *history_of(keep),
        {
            "what": "merged",
            "who": who,
            "ms": now_ms,
            "from": [
                {
                    "id": o.id,
                    "deputy_id": o.deputy_id,
                    "title": o.title,
                    "text": o.text,
                    "history": history_of(o),
                }
                for o in others
            ],
        },
    ]
    t = m.question_submissions
    await conn.execute(
        update(t)
        .where(t.c.id == keep.id)
        .values(
            co_proposers=",".join(str(d) for d in co),
            history=json.dumps(history, ensure_ascii=False),
            updated_ms=now_ms,
        )
    )
    for o in others:
        h = [*history_of(o), {"what": "merged_into", "who": who, "ms": now_ms, "into": keep.id}]
        await conn.execute(
            update(t)
            .where(t.c.id == o.id)
            .values(
                status="merged",
                merged_into=keep.id,
                history=json.dumps(h, ensure_ascii=False),
                updated_ms=now_ms,
            )
        )
    return int(keep.id)


async def set_deadline(conn: AsyncConnection, meeting_id: int, deadline_ms: int | None) -> None:
    await conn.execute(
        update(m.meetings).where(m.meetings.c.id == meeting_id).values(submission_deadline_ms=deadline_ms)
    )
