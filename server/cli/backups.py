"""`wenzheng backup` and `wenzheng restore`: copies of a SQLite database, and the commands for
PostgreSQL's own tools (server/storage/backup.py, server/storage/restore.py do the work).

A finished backup is recorded in the data folder (server/storage/backup_record.py) for
`wenzheng check`; `wenzheng backup --record FILE` records one made by pg_dump.

Every refusal is one line in Chinese on stderr and exit 1; PostgreSQL exits 2 after
printing its commands. Neither command creates a data folder or a secret key.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from server.base.settings import Places, locate
from server.storage import backup_record
from server.storage.backup import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_POSTGRES,
    BackupError,
    backup_sqlite,
    postgres_commands,
    size_text,
    sqlite_file,
)
from server.storage.restore import restore_sqlite


def configured() -> tuple[Places, URL] | None:
    """The configured database, read without creating the data folder or a secret key."""
    places = locate()
    try:
        return places, make_url(places.database_url)
    except (ArgumentError, ValueError) as exc:
        print(f"错误：WENZHENG_DATABASE_URL 无法解析：{exc}", file=sys.stderr)
        return None


def sqlite_path_or_exit(url: URL, verb: str) -> Path | int:
    backend = url.get_backend_name()
    if backend != "sqlite":
        print(f"错误：不支持{verb}这种数据库：{backend}", file=sys.stderr)
        return EXIT_ERROR
    try:
        return sqlite_file(url)
    except BackupError as refusal:
        print(f"错误：无法{verb}：{refusal}", file=sys.stderr)
        return EXIT_ERROR


def cmd_record(places: Places, backup: Path) -> int:
    """`wenzheng backup --record FILE`: a backup made by other means (pg_dump) counts."""
    try:
        done = backup_record.record(places.data_dir, backup)
    except backup_record.RecordError as refusal:
        print(f"错误：{refusal}", file=sys.stderr)
        return EXIT_ERROR
    print(f"已记下备份：{done.path}（{size_text(done.size)}），wenzheng check 据此检查备份的时间。")
    return EXIT_OK


def note_backup(places: Places, out: Path) -> None:
    """Record a finished backup for `wenzheng check`; the backup stands even if this fails."""
    try:
        backup_record.record(places.data_dir, out)
    except backup_record.RecordError as problem:
        print(f"注意：备份已完成，但未能记下它（{problem}）；wenzheng check 将看不到这次备份。")


def cmd_backup(args: argparse.Namespace) -> int:
    found = configured()
    if found is None:
        return EXIT_ERROR
    places, url = found
    if args.record is not None:
        if args.out is not None:
            print("错误：--record 与备份路径只能给一个。", file=sys.stderr)
            return EXIT_ERROR
        return cmd_record(places, Path(args.record))
    if args.out is None:
        print("错误：请给出备份文件路径（或用 --record 文件名 记下已有的备份）。", file=sys.stderr)
        return EXIT_ERROR
    out = Path(args.out)
    if url.get_backend_name() == "postgresql":
        dump, restore = postgres_commands(url, out)
        print("数据库是 PostgreSQL，本命令不复制。请用 PostgreSQL 自带的工具备份（自定义格式 -Fc）：")
        print(f"  {dump}")
        print("恢复（先停止服务；--clean 会先删除库中已有的表）：")
        print(f"  {restore}")
        print("密码不在此显示：请用 PGPASSWORD 环境变量或 ~/.pgpass 提供。")
        print("备份成功后记下它（wenzheng check 检查备份的时间）：")
        print(f"  wenzheng backup --record {shlex.quote(str(out))}")
        return EXIT_POSTGRES
    source = sqlite_path_or_exit(url, "备份")
    if isinstance(source, int):
        return source
    try:
        summary = backup_sqlite(source, out, force=args.force)
    except BackupError as refusal:
        print(f"错误：{refusal}", file=sys.stderr)
        return EXIT_ERROR
    print(f"备份完成：{summary.path}")
    print(f"  大小  {size_text(summary.size)}")
    print(f"  会议  {summary.meetings} 个")
    print(f"  事件  {summary.events} 条")
    print("  完整性检查通过（integrity_check: ok）")
    note_backup(places, summary.path)
    return EXIT_OK


def add_backup(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser(
        "backup",
        help="备份数据库",
        description="备份数据库。SQLite：服务运行时也可备份，得到某一时刻的一致副本，"
        "先写入临时文件并检查完整性，再改成目标文件名。PostgreSQL：打印 pg_dump 命令，退出码 2。",
    )
    backup.add_argument("out", metavar="OUT_PATH", nargs="?", help="备份文件路径")
    backup.add_argument(
        "--record",
        metavar="FILE",
        help="不备份，只记下一个已有的备份（如 pg_dump -Fc 的文件），供 wenzheng check 检查备份的时间",
    )
    backup.add_argument("--force", action="store_true", help="覆盖已存在的备份文件")
    backup.set_defaults(func=cmd_backup)


def cmd_restore(args: argparse.Namespace) -> int:
    backup = Path(args.backup)
    found = configured()
    if found is None:
        return EXIT_ERROR
    places, url = found
    if url.get_backend_name() == "postgresql":
        _, restore = postgres_commands(url, backup)
        print("数据库是 PostgreSQL，本命令不恢复。请先停止服务，再用 PostgreSQL 自带的工具恢复")
        print("（备份须是 pg_dump -Fc 的文件；--clean 会先删除库中已有的表）：")
        print(f"  {restore}")
        print("密码不在此显示：请用 PGPASSWORD 环境变量或 ~/.pgpass 提供。")
        return EXIT_POSTGRES
    target = sqlite_path_or_exit(url, "恢复")
    if isinstance(target, int):
        return target
    try:
        done = restore_sqlite(backup, target, force=args.force)
    except BackupError as refusal:
        print(f"错误：{refusal}", file=sys.stderr)
        return EXIT_ERROR
    upgrade = "最新" if done.revision == done.head else f"须运行 wenzheng db upgrade 升级到 {done.head}"
    print(f"恢复完成：{done.path}")
    print(f"  来自  {Path(os.path.abspath(backup))}")
    print(f"  大小  {size_text(done.size)}")
    print(f"  会议  {done.meetings} 个")
    print(f"  事件  {done.events} 条")
    print(f"  结构版本  {done.revision}（{upgrade}）")
    print("  完整性检查通过（integrity_check: ok）")
    if done.removed:
        print(f"  已删除旧数据库留下的 {'、'.join(done.removed)}")
    if not places.secret_key_set:
        print(
            f"注意：没有 {places.secret_key_path}，也没有设置 WENZHENG_SECRET_KEY。服务启动时会生成新密钥，"
            "已印发的邀请卡和已登录的会话随之失效；要沿用它们，请先放回原来的 secret_key 文件。"
        )
    return EXIT_OK


def add_restore(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    restore = sub.add_parser(
        "restore",
        help="从备份恢复数据库",
        description="用 wenzheng backup 的备份恢复 SQLite 数据库：先检查备份（SQLite、完整性、"
        "问政数据库、已知的结构版本），写入临时文件后改名到位。覆盖已有的数据库须加 --force；"
        "数据库正被服务使用时一律拒绝。PostgreSQL：打印 pg_restore 命令，退出码 2。",
    )
    restore.add_argument("backup", metavar="BACKUP", help="备份文件路径")
    restore.add_argument("--force", action="store_true", help="覆盖已有的数据库（须先停止服务）")
    restore.set_defaults(func=cmd_restore)
