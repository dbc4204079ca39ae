"""`wenzheng db upgrade` and `wenzheng demo`: the schema, and the demo meeting."""

from __future__ import annotations

import argparse
import asyncio

from server.base.settings import load
from server.cli.serve import demo_meeting, ensure_admin
from server.storage.migrate import upgrade


def cmd_db(args: argparse.Namespace) -> int:
    settings = load()
    upgrade(settings.database_url)
    print("数据库已升级到最新版本。")
    ensure_admin(settings)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = load()
    upgrade(settings.database_url)
    meeting_id = asyncio.run(demo_meeting(settings))
    print(f"演示会议已就绪（会议编号 {meeting_id}）。")
    return 0


def add_data(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="数据库")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_up = db_sub.add_parser("upgrade", help="升级数据库结构")
    db_up.set_defaults(func=cmd_db)
    demo = sub.add_parser("demo", help="载入演示会议")
    demo.set_defaults(func=cmd_demo)
