"""What a meeting's export holds (`wenzheng meeting export`), read in one transaction.

The meeting's own rows, table by table, as the database holds them (server/storage/table_rows.py),
and enough of its body to map it on the office's side: the body, its groups, its deputies
(name, card number, group; not the short code, phone or notes: the office has its own
cards), their mandates and suspensions, its officials, terms and sessions.

Secret ballots travel as the database holds them and no further: receipts (who took part)
and the totals of closed rounds; nothing is opened or decrypted to export it. A meeting
with a secret round still open (sealed choices on disk) is refused: those choices open
only with this installation's key, so the office could never close the round. Staff
accounts, phone bindings, card guards and screen pairings stay behind: they belong to the
installation, not the meeting.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import move_reports
from server.office.move_format import VERSION, MoveRefused, installation_fingerprint
from server.storage import models as m
from server.storage.table_rows import rows

# The meeting's tables with a ``meeting_id`` column, copied whole; the order is the
# order of insertion on import (a row's references come before it).
MEETING_TABLES: tuple[Table, ...] = (
    m.agenda_items,
    m.questions,
    m.question_submissions,
    m.attendees,
    m.leave_requests,
    m.meeting_reviewers,
    m.events,
    m.attendance_records,
    m.rating_receipts,
    m.rating_tallies,
    m.vote_receipts,
    m.vote_tallies,
    m.sealed_ballots,
    m.audit,
    # 承诺事项 typed in the hall: the office's 交办 decision, after the move, copies them.
    m.question_commitments,
)
# Tables with a ``meeting_id`` left behind: screens paired with this installation, and
# where the meeting came from if it was moved here (its origin travels in the payload).
# Follow-up (督办) is the office's work after the meeting, on the office's own organs: it
# is not carried (only what the hall typed for it, above, is). tests/test_meeting_move.py
# checks every such table is in one list or the other.
NOT_CARRIED: tuple[Table, ...] = (
    m.screen_pairings,
    m.meeting_imports,
    m.followup_decisions,
    m.followup_items,
)
DEPUTY_COLUMNS = ("id", "body_id", "group_id", "name", "card_no")


async def schema_revision(conn: AsyncConnection) -> str:
    return str((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one())


def origin_of(fingerprint: str, meeting_id: int) -> str:
    """The meeting's identity across installations: the same on every export of it."""
    return f"{fingerprint}/{meeting_id}"


async def origin(conn: AsyncConnection, fingerprint: str, meeting_id: int) -> str:
    """Where the meeting was held: a meeting moved here keeps the origin it came with, so
    moving it on (or back) is still refused as a second import of the same meeting."""
    mi = m.meeting_imports.c
    found = (await conn.execute(select(mi.origin).where(mi.meeting_id == meeting_id))).scalar()
    return str(found) if found is not None else origin_of(fingerprint, meeting_id)


async def collect(conn: AsyncConnection, meeting_id: int, secret_key: str) -> dict[str, Any]:
    meeting_rows = await rows(conn, m.meetings, m.meetings.c.id == meeting_id)
    if not meeting_rows:
        raise MoveRefused(f"没有编号为 {meeting_id} 的会议。")
    meeting = meeting_rows[0]
    body_id = meeting["body_id"]
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in MEETING_TABLES:
        tables[table.name] = await rows(conn, table, table.c.meeting_id == meeting_id)
    if tables["sealed_ballots"]:
        # Sealed under this installation's key and meeting id: the office could never open
        # them, so the round could never close there. Close it here, where it can.
        raise MoveRefused(
            f"会议中有尚未结束的无记名测评或表决（{len(tables['sealed_ballots'])} 张密封选票）。"
            "密封选票只能用本机密钥开启，迁移后将无法结束这一轮。请先在本机主持台结束所有测评和表决，再导出。"
        )
    question_ids = [q["id"] for q in tables["questions"]]
    qr = m.question_respondents
    tables[qr.name] = await rows(conn, qr, qr.c.question_id.in_(question_ids))
    d = m.deputies
    deputy_ids = select(d.c.id).where(d.c.body_id == body_id).scalar_subquery()
    deputies = [{k: r[k] for k in DEPUTY_COLUMNS} for r in await rows(conn, d, d.c.body_id == body_id)]
    term_ids = select(m.terms.c.id).where(m.terms.c.body_id == body_id).scalar_subquery()
    fingerprint = installation_fingerprint(secret_key)
    return {
        "format_version": VERSION,
        "schema_revision": await schema_revision(conn),
        "origin": await origin(conn, fingerprint, meeting_id),
        "exported_ms": time.time_ns() // 1_000_000,
        "meeting": meeting,
        "body": (await rows(conn, m.bodies, m.bodies.c.id == body_id))[0],
        "groups": await rows(conn, m.groups, m.groups.c.body_id == body_id),
        "deputies": deputies,
        "mandates": await rows(conn, m.mandates, m.mandates.c.deputy_id.in_(deputy_ids)),
        "suspensions": await rows(conn, m.suspensions, m.suspensions.c.deputy_id.in_(deputy_ids)),
        "officials": await rows(conn, m.officials, m.officials.c.body_id == body_id),
        "terms": await rows(conn, m.terms, m.terms.c.body_id == body_id),
        "sessions": await rows(conn, m.sessions, m.sessions.c.term_id.in_(term_ids)),
        "tables": tables,
        # The progress reports the agenda takes (server/office/move_reports.py).
        move_reports.SECTION: await move_reports.collect(conn, tables["agenda_items"]),
    }


def summary(payload: dict[str, Any]) -> list[str]:
    """Lines to print after an export or before an import: what the file holds."""
    t = payload["tables"]
    meeting = payload["meeting"]
    closed = "已结束" if meeting["closed_ms"] else "未结束"
    lines = [
        f"会议：{meeting['title']}（原编号 {meeting['id']}，{closed}）",
        f"机构：{payload['body']['name']}",
        f"事件 {len(t['events'])} 条，出勤记录 {len(t['attendance_records'])} 条，"
        f"满意度测评回执 {len(t['rating_receipts'])} 条，表决回执 {len(t['vote_receipts'])} 条，"
        f"审计记录 {len(t['audit'])} 条，承诺事项 {len(t.get('question_commitments', []))} 条",
    ]
    reports = payload.get(move_reports.SECTION) or []
    if reports:
        lines.append(f"议程所听取的督办进展报告 {len(reports)} 份")
    return lines
