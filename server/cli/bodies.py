"""`wenzheng body add|list`, `wenzheng term add`, `wenzheng session add`.

Each command is one transaction through the same functions as the /bodies pages
(:mod:`server.office.bodies`, :mod:`server.office.terms`), so it leaves the same entry in
the audit trail; its actor is ``cli:<the operating-system user>``. A refusal prints one
Chinese line to stderr and exits with 2, having written nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base import days, parse
from server.base.settings import load
from server.cli.roster import NoSuchBody, body_id_by_name, cli_actor
from server.cli.schema import ready
from server.office import bodies as office_bodies
from server.office import body_rules, terms
from server.office.bodies import Who
from server.office.meeting_forms import Invalid
from server.storage.db import create_engine

REFUSED = 2


def who(command: str) -> Who:
    return Who(cli_actor(), f"{socket.gethostname()} wenzheng {command}")


def refuse(text: str) -> int:
    print(f"错误：{text}", file=sys.stderr)
    return REFUSED


def first_error(bad: Invalid) -> str:
    return next(iter(bad.errors.values()), "输入有误。")


def run(work: Callable[[AsyncConnection], Awaitable[str]]) -> int:
    """Run ``work`` in one transaction; print what it returns, or refuse in one line."""
    url = load().database_url
    if not ready(url):
        return REFUSED

    async def go() -> str:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    try:
        print(asyncio.run(go()))
    except Invalid as bad:
        return refuse(first_error(bad))
    except NoSuchBody as exc:
        return refuse(str(exc))
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return refuse(f"数据库未能写入（{reason}），未做任何修改。")
    return 0


async def term_of(conn: AsyncConnection, body_id: int, number: int | None) -> tuple[int, int]:
    """(id, number) of the term ``number``, or of the running (else latest) one."""
    if number is not None:
        row = await terms.term_by_number(conn, body_id, number)
        if row is None:
            raise Invalid({"term": terms.TEXT["term_number_missing"].format(term=days.term_name(number))})
    else:
        row = await terms.current_term(conn, body_id)
        if row is None:
            raise Invalid({"term": terms.TEXT["no_terms"]})
    return int(row.id), int(row.number)


def cmd_body_add(args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> str:
        body_id = await office_bodies.create_body(conn, args.name, args.kind, args.level, who("body add"))
        return f"已新建机构“{args.name.strip()}”（编号 {body_id}）。下一步：wenzheng term add …"

    return run(work)


def cmd_body_list(args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> str:
        lines = []
        for b in await office_bodies.every_body(conn):
            label = body_rules.BODY_RULES[body_rules.KIND_KEYS_ALL[b.kind]].label
            term = await terms.current_term(conn, b.id)
            now = (
                f"{days.term_name(term.number)}（{terms.span(term.starts_on, term.ends_on)}）"
                if term
                else "尚无届次"
            )
            lines.append(f"{b.id}\t{b.name}\t{label}\t{body_rules.LEVELS.get(b.level, b.level)}\t{now}")
        return "\n".join(lines) or "尚无机构。新建：wenzheng body add 名称 --kind congress --level county"

    return run(work)


def cmd_term_add(args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> str:
        body_id = await body_id_by_name(conn, args.body)
        term_id = await terms.add_term(conn, body_id, args.number, args.start, args.end, who("term add"))
        row = await terms.term_row(conn, term_id)
        return (
            f"已为“{args.body}”添加{days.term_name(row.number)}（{terms.span(row.starts_on, row.ends_on)}）。"
        )

    return run(work)


def cmd_session_add(args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> str:
        body_id = await body_id_by_name(conn, args.body)
        wanted = parse.integer(args.term.strip(), 1, terms.NUMBER_MAX) if args.term.strip() else None
        if args.term.strip() and wanted is None:
            raise Invalid({"term": terms.TEXT["number"]})
        term_id, term_number = await term_of(conn, body_id, wanted)
        _, n = await terms.add_session(conn, term_id, args.number, who("session add"))
        return f"已为“{args.body}”{days.term_name(term_number)}添加{days.session_name(n)}。"

    return run(work)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    body = sub.add_parser("body", help="机构（人民代表大会、人大常委会）")
    body_sub = body.add_subparsers(dest="body_command", required=True)
    add = body_sub.add_parser("add", help="新建机构")
    add.add_argument("name", help="机构名称，如 某县人民代表大会常务委员会（不含届次）")
    add.add_argument(
        "--kind", required=True, help="congress（人民代表大会）或 standing-committee（人大常委会）"
    )
    add.add_argument(
        "--level", required=True, help="town（乡镇）、county（县级）、city（设区的市级）或 province（省级）"
    )
    add.set_defaults(func=cmd_body_add)
    listing = body_sub.add_parser("list", help="列出机构及其本届")
    listing.set_defaults(func=cmd_body_list)
    term = sub.add_parser("term", help="届次")
    term_sub = term.add_subparsers(dest="term_command", required=True)
    tadd = term_sub.add_parser("add", help="为机构添加一届")
    tadd.add_argument("body", help="机构名称")
    tadd.add_argument("--number", required=True, help="届次，如 17")
    tadd.add_argument("--from", dest="start", required=True, help="开始日期，如 2022-01-06")
    tadd.add_argument("--to", dest="end", default="", help="届满日期（下一届开始之日），可不填")
    tadd.set_defaults(func=cmd_term_add)
    session = sub.add_parser("session", help="会次")
    session_sub = session.add_subparsers(dest="session_command", required=True)
    sadd = session_sub.add_parser("add", help="为一届添加会次（默认本届、下一个序号）")
    sadd.add_argument("body", help="机构名称")
    sadd.add_argument("--term", default="", help="届次，默认本届")
    sadd.add_argument("--number", default="", help="会次序号，默认下一个")
    sadd.set_defaults(func=cmd_session_add)
