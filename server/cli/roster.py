"""`wenzheng roster import|export` and `wenzheng officials import` (kept out of cli.py).

Row errors go to stderr in Chinese, one a line, and the exit code is 1 when there is any;
the import is one transaction, so an error anywhere writes nothing. An import that
writes leaves an entry in the office's audit trail in that same transaction, as the
/bodies pages do; its actor is ``cli:<the operating-system user>`` and its device the
host and the command. A dry run records nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import socket
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import BadDay, parse_optional_day
from server.base.settings import load
from server.cli.schema import REFUSED, ready
from server.office import exports, imports, roster_import
from server.room.bus import setup_message, tell_servers
from server.storage import audit
from server.storage import models as m
from server.storage.db import create_engine


class NoSuchBody(Exception):
    pass


async def body_id_by_name(conn: AsyncConnection, name: str) -> int:
    found = (await conn.execute(select(m.bodies.c.id).where(m.bodies.c.name == name))).scalar()
    if found is None:
        names = [
            str(n) for n in (await conn.execute(select(m.bodies.c.name).order_by(m.bodies.c.id))).scalars()
        ]
        raise NoSuchBody(f"没有名为“{name}”的机构。已有：{'、'.join(names) or '（无）'}")
    return int(found)


def read_file(path: str) -> tuple[bytes, str] | None:
    file = Path(path)
    try:
        if file.stat().st_size > imports.MAX_BYTES:
            print(f"错误：文件太大：最大 {imports.MAX_BYTES // (1024 * 1024)} MB。", file=sys.stderr)
            return None
        return file.read_bytes(), file.name
    except OSError as exc:
        print(f"错误：无法读取文件 {path}：{exc.strerror}", file=sys.stderr)
        return None


def _report(plan: imports.RosterPlan | imports.OfficialsPlan, dry_run: bool) -> int:
    if plan.errors:
        for error in plan.errors:
            print(error.text(), file=sys.stderr)
        print(f"共 {len(plan.errors)} 处错误，未导入任何数据。", file=sys.stderr)
        return 1
    if dry_run:
        print(f"检查通过（试运行，未写入）：{plan.summary()}。")
    else:
        print(f"导入完成：{plan.summary()}。")
    return 0


def cli_actor() -> str:
    """Who ran the command, as the audit trail names them: ``cli:<os user>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


async def _audit(
    conn: AsyncConnection,
    kind: str,
    body_id: int,
    filename: str,
    plan: imports.RosterPlan | imports.OfficialsPlan,
) -> None:
    await audit.record(
        conn,
        f"{kind}_imported",
        actor=cli_actor(),
        device=f"{socket.gethostname()} wenzheng {kind} import",
        body_id=body_id,
        file=filename,
        summary=plan.summary(),
    )


async def _tell_servers(body_id: int) -> None:
    """Servers on Redis reload the body's loaded meetings at once. A single server without
    Redis cannot hear the command line: it sees the import at its next start (the /bodies
    pages have no such gap)."""
    settings = load()
    if settings.redis_url:
        try:
            await tell_servers(settings.redis_url, settings.redis_prefix, setup_message(None, body_id, "cli"))
        except Exception as exc:  # the import stands; the servers see it at their next start
            print(f"提示：已导入，但未能通知正在运行的服务（{exc}），请重启服务。", file=sys.stderr)


async def _roster_import(args: argparse.Namespace, data: bytes, filename: str) -> int:
    starts_on = parse_optional_day(args.starts_on or "", "--from 任期开始日期")
    engine = create_engine(load().database_url)
    try:
        async with engine.begin() as conn:
            body_id = await body_id_by_name(conn, args.body)
            plan = await roster_import.import_roster(
                conn,
                body_id,
                data,
                filename,
                create_groups=args.create_groups,
                dry_run=args.dry_run,
                starts_on=starts_on,
                by=cli_actor(),
            )
            if not plan.errors and not args.dry_run:
                await _audit(conn, "roster", body_id, filename, plan)
        if not plan.errors and not args.dry_run:
            await _tell_servers(body_id)
        code = _report(plan, args.dry_run)
        if not plan.errors:
            _report_missing(plan)
        return code
    finally:
        await engine.dispose()


def _report_missing(plan: imports.RosterPlan) -> None:
    """The command line never ends a mandate: it names the members it kept."""
    if plan.starts_on is not None and plan.inserts:
        print(f"新增代表的任期自 {plan.starts_on.isoformat()} 开始。")
    if not plan.missing:
        return
    names = "、".join(f"{x.name}（卡号 {x.card_no}）" for x in plan.missing)
    print(f"名册中未出现 {len(plan.missing)} 名现任代表，已保留其代表资格：{names}。")
    print("如其中有代表资格已终止的，请在名册页面逐人登记终止（日期、原因、决定机关和文件）。")


async def _officials_import(args: argparse.Namespace, data: bytes, filename: str) -> int:
    engine = create_engine(load().database_url)
    try:
        async with engine.begin() as conn:
            body_id = await body_id_by_name(conn, args.body)
            plan = await imports.import_officials(conn, body_id, data, filename, dry_run=args.dry_run)
            if not plan.errors and not args.dry_run:
                await _audit(conn, "officials", body_id, filename, plan)
        if not plan.errors and not args.dry_run:
            await _tell_servers(body_id)
        return _report(plan, args.dry_run)
    finally:
        await engine.dispose()


async def _roster_export(args: argparse.Namespace) -> int:
    engine = create_engine(load().database_url)
    try:
        async with engine.connect() as conn:
            body_id = await body_id_by_name(conn, args.body)
            rows = await exports.roster_rows(conn, body_id, current_only=True)
            await conn.commit()
    finally:
        await engine.dispose()
    Path(args.out).write_bytes(exports.roster_xlsx(rows))
    print(f"已导出 {len(rows)} 名代表到 {args.out}。")
    return 0


def _run(kind: str, args: argparse.Namespace) -> int:
    if not ready(load().database_url):
        return REFUSED
    try:
        if kind == "export":
            return asyncio.run(_roster_export(args))
        read = read_file(args.file)
        if read is None:
            return 1
        if kind == "roster":
            return asyncio.run(_roster_import(args, *read))
        return asyncio.run(_officials_import(args, *read))
    except (NoSuchBody, imports.ImportRefused, BadDay) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:  # busy, full, a constraint: the transaction rolled back
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        print(f"错误：数据库未能写入（{reason}），未导入任何数据。", file=sys.stderr)
        return 1


def cmd_roster_import(args: argparse.Namespace) -> int:
    return _run("roster", args)


def cmd_roster_export(args: argparse.Namespace) -> int:
    return _run("export", args)


def cmd_officials_import(args: argparse.Namespace) -> int:
    return _run("officials", args)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    roster = sub.add_parser("roster", help="代表名册")
    roster_sub = roster.add_subparsers(dest="roster_command", required=True)
    imp = roster_sub.add_parser("import", help="从 Excel (.xlsx) 或 CSV 导入代表名册（全部成功才写入）")
    imp.add_argument("file")
    imp.add_argument("--body", required=True, help="机构名称，如 清溪镇人民代表大会")
    imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    imp.add_argument("--create-groups", action="store_true", help="自动创建文件中的新小组")
    imp.add_argument(
        "--from",
        dest="starts_on",
        metavar="YYYY-MM-DD",
        help="新增代表的任期开始日期（默认为本届开始日期，无届次时为今天）",
    )
    imp.set_defaults(func=cmd_roster_import)
    exp = roster_sub.add_parser("export", help="导出代表名册为 Excel (.xlsx)")
    exp.add_argument("--body", required=True)
    exp.add_argument("--out", required=True)
    exp.set_defaults(func=cmd_roster_export)
    officials = sub.add_parser("officials", help="应询人")
    officials_sub = officials.add_subparsers(dest="officials_command", required=True)
    oimp = officials_sub.add_parser("import", help="导入应询人（姓名、职务、单位）")
    oimp.add_argument("file")
    oimp.add_argument("--body", required=True)
    oimp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    oimp.set_defaults(func=cmd_officials_import)
