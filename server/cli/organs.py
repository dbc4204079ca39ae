"""`wenzheng organs import FILE --body NAME [--dry-run]`: the responsible organs (承办单位).

As `wenzheng roster import` (server/cli/roster.py): row errors go to stderr in Chinese,
one a line, and the exit code is 1 when there is any; the import is one transaction, so
an error anywhere writes nothing; a write leaves its audit entry in that transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys

from sqlalchemy.exc import SQLAlchemyError

from server.base.settings import load
from server.cli.roster import NoSuchBody, body_id_by_name, cli_actor, read_file
from server.cli.schema import REFUSED, ready
from server.office import imports, organs
from server.storage.db import create_engine


async def _import(args: argparse.Namespace, data: bytes, filename: str) -> int:
    engine = create_engine(load().database_url)
    try:
        async with engine.begin() as conn:
            body_id = await body_id_by_name(conn, args.body)
            plan = await organs.import_organs(
                conn,
                body_id,
                data,
                filename,
                dry_run=args.dry_run,
                actor=cli_actor(),
                device=f"{socket.gethostname()} wenzheng organs import",
            )
    finally:
        await engine.dispose()
    if plan.errors:
        for error in plan.errors:
            print(error.text(), file=sys.stderr)
        print(f"共 {len(plan.errors)} 处错误，未导入任何数据。", file=sys.stderr)
        return 1
    print(f"{'检查通过（试运行，未写入）' if args.dry_run else '导入完成'}：{plan.summary()}。")
    return 0


def cmd_organs_import(args: argparse.Namespace) -> int:
    if not ready(load().database_url):
        return REFUSED
    read = read_file(args.file)
    if read is None:
        return 1
    try:
        return asyncio.run(_import(args, *read))
    except (NoSuchBody, imports.ImportRefused) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:  # busy, full, a constraint: the transaction rolled back
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        print(f"错误：数据库未能写入（{reason}），未导入任何数据。", file=sys.stderr)
        return 1


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    organs_parser = sub.add_parser("organs", help="承办单位（会后督办）")
    organs_sub = organs_parser.add_subparsers(dest="organs_command", required=True)
    imp = organs_sub.add_parser(
        "import", help="从 Excel (.xlsx) 或 CSV 导入承办单位（单位名称、联系人、联系电话）"
    )
    imp.add_argument("file")
    imp.add_argument("--body", required=True, help="机构名称，如 清溪镇人民代表大会")
    imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    imp.set_defaults(func=cmd_organs_import)
