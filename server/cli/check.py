"""`wenzheng check [--offline]`: is this installation ready for a meeting?

The checks are server/office/readiness.py's (the console shows the same lines). One line
each, in Chinese; a line that does not pass is followed by what to do. Exit 0 when no line
fails (warnings allowed), 1 otherwise. The command writes nothing: no data folder, no
secret key, no database file.
"""

from __future__ import annotations

import argparse
import asyncio

from server.office import readiness
from server.office.readiness import Level, Line

MARKS = {Level.OK: "[通过]  ", Level.WARN: "[注意]  ", Level.FAIL: "[未通过]"}


def render(lines: list[Line], offline: bool) -> str:
    title = "问政安装检查" + ("（离线会场）" if offline else "")
    out = [title]
    for line in lines:
        out.append(f"{MARKS[line.level]} {line.name}：{line.text}")
        if line.todo:
            out.append(f"          处理：{line.todo}")
    failing = sum(line.level is Level.FAIL for line in lines)
    warning = sum(line.level is Level.WARN for line in lines)
    if failing:
        out.append(f"结果：{failing} 项未通过，{warning} 项注意。未就绪：请按“处理”逐项解决后再检查。")
    elif warning:
        out.append(f"结果：全部通过或注意（{warning} 项注意），可以开会；请看过每项“注意”。")
    else:
        out.append("结果：全部通过，可以开会。")
    return "\n".join(out)


def cmd_check(args: argparse.Namespace) -> int:
    lines = asyncio.run(readiness.check(readiness.from_env(), offline=args.offline))
    print(render(lines, args.offline), flush=True)
    return 1 if readiness.failed(lines) else 0


def add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser(
        "check",
        help="会前检查：本安装是否可以开会",
        description="逐项检查数据库、密钥、演示账号、公开地址、Redis、时间、磁盘空间和备份；"
        "有一项未通过时退出码为 1。",
    )
    check.add_argument(
        "--offline",
        action="store_true",
        help="离线会场（没有互联网）：时间服务器无应答、尚无备份记为“注意”而非“未通过”",
    )
    check.set_defaults(func=cmd_check)
