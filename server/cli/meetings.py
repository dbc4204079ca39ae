"""`wenzheng meeting add`: a meeting of a body, held on a day, in a session (and `export`,
`import`: server/cli/moves.py).

The same function as the /meetings/new page (:func:`server.office.meetings_admin.create`):
the term is the one covering the day, the session a number of it or ``new`` (the next),
the title built from the body, term and session unless ``--title`` is given. Audited as
``meeting_created`` by ``cli:<user>``; a refusal is one Chinese line and exit code 2.
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.cli import moves
from server.cli.bodies import run, who
from server.cli.roster import body_id_by_name
from server.office import meetings_admin
from server.office.meeting_kinds import KINDS
from server.storage import models as m


def cmd_meeting_add(args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> str:
        body_id = await body_id_by_name(conn, args.body)
        meeting_id = await meetings_admin.create(
            conn,
            body_id,
            args.kind,
            time.time_ns() // 1_000_000,
            held_on=args.date,
            starts_at=args.time,
            place=args.place,
            session=args.session,
            title=args.title,
            who=who("meeting add"),
        )
        title = (
            await conn.execute(select(m.meetings.c.title).where(m.meetings.c.id == meeting_id))
        ).scalar_one()
        return f"已新建会议“{title}”（编号 {meeting_id}）。主持台：/m/{meeting_id}/console"

    return run(work)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    meeting = sub.add_parser("meeting", help="会议")
    meeting_sub = meeting.add_subparsers(dest="meeting_command", required=True)
    add = meeting_sub.add_parser("add", help="新建会议（按日期归入届次）")
    add.add_argument("body", help="机构名称")
    add.add_argument(
        "--kind", required=True, help="会议类型：" + "、".join(f"{k}（{v.label}）" for k, v in KINDS.items())
    )
    add.add_argument("--date", required=True, help="会议日期，如 2026-07-15")
    add.add_argument("--time", default="", help="开始时间，如 14:30")
    add.add_argument("--place", default="", help="会议地点")
    add.add_argument("--session", default="", help="会次序号，或 new（新建下一次）；人民代表大会必填")
    add.add_argument("--title", default="", help="会议名称，默认按机构、届次、会次生成")
    add.set_defaults(func=cmd_meeting_add)
    moves.add_parsers(meeting_sub)  # export, import: a meeting moves to another installation
