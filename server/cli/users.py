"""`wenzheng user add`: a staff account from the command line (a one-time password
unless one is given)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from server.base.settings import Settings, load
from server.cli.schema import REFUSED, ready
from server.storage.db import create_engine

ROLES = ("admin", "staff", "chair")


async def _user_add(settings: Settings, name: str, roles: list[str], password: str, one_time: bool) -> None:
    from server.office.accounts import save_user

    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            await save_user(conn, name, frozenset(roles), password, must_change=one_time)
    finally:
        await engine.dispose()


def cmd_user_add(args: argparse.Namespace) -> int:
    from server.office.accounts import MIN_PASSWORD, AccountError, one_time_password

    if args.password is not None and len(args.password) < MIN_PASSWORD:
        print(f"错误：密码至少需要 {MIN_PASSWORD} 个字符。", file=sys.stderr)
        return 2
    settings = load()
    if not ready(settings.database_url):
        return REFUSED
    password = args.password or one_time_password()
    try:
        asyncio.run(_user_add(settings, args.name, args.role, password, one_time=not args.password))
    except AccountError as refusal:
        print(f"错误：{refusal.message}", file=sys.stderr)
        return 2
    if not args.password:
        print(f"用户 {args.name} 的一次性密码：{password}（只显示这一次，首次登录后须修改）")
    else:
        print(f"用户 {args.name} 已保存。")
    return 0


def add_users(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="用户")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="添加或更新用户")
    add.add_argument("name")
    add.add_argument("--role", action="append", choices=ROLES, required=True)
    add.add_argument("--password", help="不填则生成一次性密码并打印一次")
    add.set_defaults(func=cmd_user_add)
