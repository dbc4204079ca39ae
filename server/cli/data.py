"""`wenzheng db upgrade` and `wenzheng demo`: the schema (server/cli/schema.py), and the demo meeting."""

from __future__ import annotations

import argparse
import asyncio

from server.base.settings import load
from server.cli.schema import REFUSED, ready, upgrade_with_backup
from server.cli.serve import demo_meeting, ensure_admin


def cmd_db(args: argparse.Namespace) -> int:
    settings = load()
    code = upgrade_with_backup(settings, args.yes)
    if code == 0:
        ensure_admin(settings)
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    settings = load()
    if not ready(settings.database_url, older_ok=True):  # a demo upgrades as it always has
        return REFUSED
    meeting_id = asyncio.run(demo_meeting(settings))
    print(f"演示会议已就绪（会议编号 {meeting_id}）。")
    return 0


def add_data(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="数据库")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_up = db_sub.add_parser(
        "upgrade",
        help="升级数据库结构（先备份）",
        description="把数据库结构升级到本程序的版本。SQLite：先把一致的备份写入数据目录的 "
        "backups/，再升级；PostgreSQL：打印 pg_dump 备份命令，须加 --yes 才升级。"
        "升级在一个事务中进行，失败时数据库保持原样。",
    )
    db_up.add_argument("--yes", action="store_true", help="PostgreSQL：已按打印的命令备份，继续升级")
    db_up.set_defaults(func=cmd_db)
    demo = sub.add_parser("demo", help="载入演示会议")
    demo.set_defaults(func=cmd_demo)
