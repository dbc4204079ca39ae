"""A moved meeting into this installation, all or nothing (`wenzheng meeting import`).

The caller opens one transaction and commits it only when :func:`import_meeting` returns
(or rolls it back for a dry run): a refusal (:class:`MoveRefused`, a Chinese message) or
any error leaves nothing written. Every row gets this installation's ids; every id inside
a row (event payloads, actors "deputy:17", co-proposers, audit details) is rewritten through
one :class:`IdMap` (server/office/move_ids.py, the table of event id fields). The meeting
keeps its state: a closed meeting stays closed, its frozen attendance records as they were;
one not closed arrives as it stood, and the import says so. ``meeting_imports`` (migration
0012) remembers the meeting's origin, so a second import of it is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import move_reports
from server.office.bodies import Who
from server.office.move_format import MoveRefused
from server.office.move_ids import ATTENDEE, DEPUTY, ITEM, QUESTION, ROUND, IdMap
from server.office.move_map import map_people
from server.storage import audit
from server.storage import models as m
from server.storage.migrate import MIGRATIONS
from server.storage.table_rows import BadRow, decode

SECTIONS = (
    "meeting",
    "body",
    "groups",
    "deputies",
    "mandates",
    "suspensions",
    "officials",
    "terms",
    "sessions",
)
TABLES = (
    "agenda_items",
    "questions",
    "question_respondents",
    "question_submissions",
    "attendees",
    "leave_requests",
    "meeting_reviewers",
    "events",
    "attendance_records",
    "rating_receipts",
    "rating_tallies",
    "vote_receipts",
    "vote_tallies",
    "sealed_ballots",
    "audit",
    "question_commitments",
)
# Tables a file from an older version of the program may lack: read as empty.
OPTIONAL_TABLES = ("question_commitments",)


@dataclass(frozen=True)
class Imported:
    meeting_id: int
    lines: list[str]


def known_revisions() -> set[str]:
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py")}


def check_shape(payload: dict[str, Any]) -> None:
    """The payload has every part, each of the right kind, before anything is read."""
    revision = payload.get("schema_revision")
    if revision not in known_revisions():
        raise MoveRefused(
            f"导出文件来自数据库结构版本 {revision!r}，本程序不认识（可能更新）；请先升级本机程序再导入。"
        )
    for key in SECTIONS:
        if not isinstance(payload.get(key), dict if key in ("meeting", "body") else list):
            raise MoveRefused(f"文件不完整：缺少“{key}”部分。")
    tables = payload.get("tables")
    if isinstance(tables, dict):
        for name in OPTIONAL_TABLES:
            tables.setdefault(name, [])
    if not isinstance(tables, dict) or any(not isinstance(tables.get(t), list) for t in TABLES):
        raise MoveRefused("文件不完整：缺少会议数据表。")
    if tables["sealed_ballots"]:  # export refuses these: only the laptop's key opens them
        raise MoveRefused(
            "文件中有尚未结束的无记名轮次的密封选票，本机无法开启。请在导出方结束该轮后重新导出。"
        )
    if not isinstance(payload.get("origin"), str) or not payload["origin"]:
        raise MoveRefused("文件不完整：缺少会议来源标识。")
    move_reports.check_shape(payload)


async def _insert(conn: AsyncConnection, table: Table, row: dict[str, Any]) -> int:
    row = dict(row)
    row.pop("id", None)
    return int((await conn.execute(insert(table).values(row).returning(table.c.id))).scalar_one())


async def _bulk(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(table), rows)


async def import_meeting(
    conn: AsyncConnection,
    payload: dict[str, Any],
    signer: str,
    who: Who,
    *,
    body_name: str | None = None,
    add_missing: bool = False,
    own: str = "",
) -> Imported:
    """``own``: this installation's fingerprint; a meeting held here is not imported here."""
    try:
        return await _import(conn, payload, signer, who, body_name, add_missing, own)
    except BadRow as exc:
        raise MoveRefused(f"文件内容有误：{exc}。未导入任何内容。") from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise MoveRefused(f"文件内容不完整或格式不对（{exc!s:.60}）。未导入任何内容。") from exc


async def _import(
    conn: AsyncConnection,
    payload: dict[str, Any],
    signer: str,
    who: Who,
    body_name: str | None,
    add_missing: bool,
    own: str,
) -> Imported:
    check_shape(payload)
    origin = payload["origin"]
    if own and origin.startswith(own + "/"):
        raise MoveRefused(f"这是本机自己的会议（本机编号 {origin.partition('/')[2]}），不能再导入本机。")
    mi = m.meeting_imports.c
    before = (await conn.execute(select(mi.meeting_id).where(mi.origin == origin))).scalar()
    if before is not None:
        raise MoveRefused(f"这个会议已经导入过（本机会议编号 {before}），不能重复导入。")
    ids = IdMap()
    lines = await map_people(conn, payload, ids, body_name, add_missing)
    t = {name: [decode(getattr(m, name), r) for r in payload["tables"][name]] for name in TABLES}
    src = decode(m.meetings, payload["meeting"])
    meeting_row = src | {
        "body_id": ids.of("body", src["body_id"]),
        "term_id": ids.of("term", src["term_id"]) if src.get("term_id") is not None else None,
        "session_id": ids.of("session", src["session_id"]) if src.get("session_id") is not None else None,
        "rehearsal_of": None,  # a meeting of the laptop's, not here
    }
    meeting_id = await _insert(conn, m.meetings, meeting_row)
    ids.set("meeting", src["id"], meeting_id)
    at = {"meeting_id": meeting_id}
    lines += await move_reports.link(conn, payload, ids)
    for r in t["agenda_items"]:
        linked = {
            "report_id": ids.of(move_reports.REPORT, r.get("report_id")),
            # who reports (migration 0016): the office's group or member; None stays None
            "reporter_group_id": ids.of("group", r.get("reporter_group_id")),
            "reporter_deputy_id": ids.of(DEPUTY, r.get("reporter_deputy_id")),
        }
        ids.set(ITEM, r["id"], await _insert(conn, m.agenda_items, r | at | linked))
    for r in t["questions"]:
        new = r | at | {"asker_id": ids.of(DEPUTY, r["asker_id"]), "group_id": ids.of("group", r["group_id"])}
        ids.set(QUESTION, r["id"], await _insert(conn, m.questions, new))
    await _bulk(
        conn,
        m.question_respondents,
        [
            r
            | {
                "question_id": ids.of(QUESTION, r["question_id"]),
                "official_id": ids.of("official", r["official_id"]),
            }
            for r in t["question_respondents"]
        ],
    )
    for r in t["question_submissions"]:
        new = r | at
        new |= {
            "deputy_id": ids.of(DEPUTY, r["deputy_id"]),
            "group_id": ids.of("group", r["group_id"]),
            "wanted_official_id": ids.of("official", r["wanted_official_id"]),
            "co_proposers": ids.deputy_list(r["co_proposers"]),
            "merged_into": None,  # set below, once every submission has its new id
            "question_id": ids.of(QUESTION, r["question_id"]),
            "history": ids.history(r["history"]),
        }
        ids.set("submission", r["id"], await _insert(conn, m.question_submissions, new))
    for r in t["question_submissions"]:
        if r["merged_into"] is not None:
            qs = m.question_submissions
            await conn.execute(
                update(qs)
                .where(qs.c.id == ids.of("submission", r["id"]))
                .values(merged_into=ids.of("submission", r["merged_into"]))
            )
    for r in t["attendees"]:
        new = r | at | {"official_id": ids.of("official", r["official_id"])}
        ids.set(ATTENDEE, r["id"], await _insert(conn, m.attendees, new))
    for r in t["leave_requests"]:
        new = r | at
        new |= {"deputy_id": ids.of(DEPUTY, r["deputy_id"]), "asked_by": ids.actor(r["asked_by"])}
        new["decided_by"] = ids.actor(r["decided_by"]) if "decided_by" in r else ""
        ids.set("leave", r["id"], await _insert(conn, m.leave_requests, new))
    await _rows(conn, t, ids, meeting_id)
    lines += await _record(conn, payload, signer, who, meeting_id, src, meeting_row["body_id"])
    return Imported(meeting_id, lines)


async def _rows(
    conn: AsyncConnection, t: dict[str, list[dict[str, Any]]], ids: IdMap, meeting_id: int
) -> None:
    """The log and what hangs on it, in bulk: nothing here is referred to by id."""
    at = {"meeting_id": meeting_id}

    def deputy(r: dict[str, Any]) -> dict[str, Any]:
        return r | at | {"deputy_id": ids.of(DEPUTY, r["deputy_id"])}

    def no_id(r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if k != "id"}

    await _bulk(conn, m.meeting_reviewers, [deputy(r) for r in t["meeting_reviewers"]])
    events = [
        no_id(r) | at | {"data": ids.event_data(r["type"], r["data"]), "actor": ids.actor(r["actor"])}
        for r in t["events"]
    ]
    await _bulk(conn, m.events, events)
    await _bulk(conn, m.attendance_records, [deputy(r) for r in t["attendance_records"]])
    receipts = [
        no_id(deputy(r)) | {"question_id": ids.of(ROUND, r["question_id"])} for r in t["rating_receipts"]
    ]
    await _bulk(conn, m.rating_receipts, receipts)
    tallies = [r | at | {"question_id": ids.of(ROUND, r["question_id"])} for r in t["rating_tallies"]]
    await _bulk(conn, m.rating_tallies, tallies)
    await _bulk(conn, m.vote_receipts, [no_id(deputy(r)) for r in t["vote_receipts"]])
    await _bulk(conn, m.vote_tallies, [r | at for r in t["vote_tallies"]])
    trail = [
        no_id(r)
        | at
        | {
            "body_id": ids.ids.get("body", {}).get(r["body_id"]) if r["body_id"] is not None else None,
            "actor": ids.actor(r["actor"]),
            "detail": ids.audit_detail(r["detail"]),
        }
        for r in t["audit"]
    ]
    await _bulk(conn, m.audit, trail)
    commitments = [
        no_id(r) | at | {"question_id": ids.of(QUESTION, r["question_id"])} for r in t["question_commitments"]
    ]
    await _bulk(conn, m.question_commitments, commitments)


async def _record(
    conn: AsyncConnection,
    payload: dict[str, Any],
    signer: str,
    who: Who,
    meeting_id: int,
    src: dict[str, Any],
    body_id: int,
) -> list[str]:
    now = time.time_ns() // 1_000_000
    try:
        await conn.execute(
            insert(m.meeting_imports).values(
                origin=payload["origin"],
                meeting_id=meeting_id,
                signer=signer,
                source_title=src["title"][:200],
                imported_ms=now,
                imported_by=who.actor[:96],
            )
        )
    except IntegrityError as exc:  # another import of the same meeting committed meanwhile
        raise MoveRefused("这个会议已经导入过，不能重复导入。") from exc
    await audit.record(
        conn,
        "meeting_imported",
        actor=who.actor,
        device=who.device,
        body_id=body_id,
        meeting_id=meeting_id,
        origin=payload["origin"],
        signer=signer,
        source_meeting_id=src["id"],
        summary=f"从签名指纹 {signer} 的安装导入“{src['title']}”（原编号 {src['id']}）",
    )
    lines = [f"已导入会议“{src['title']}”，本机编号 {meeting_id}。"]
    if src.get("closed_ms") is None:
        lines.append("注意：该会议在导出时尚未结束，按原状导入；如需结束，请在本机主持台结束会议。")
    return lines
