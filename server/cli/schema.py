"""`wenzheng db upgrade`, and the schema check every other command makes before it starts.

Only `wenzheng db upgrade` changes an existing database's schema, and it backs up first:
on SQLite a consistent copy (server/storage/backup.py, integrity-checked) into
``data/backups/``; on PostgreSQL it prints the ``pg_dump`` command (never the password) and
goes on only with ``--yes``. A database already at the newest revision, or a new one with no
tables, has nothing to protect and is not copied.

`wenzheng serve` and the other commands call ``ready``: a database with no tables is
created, as on a first install; an older one is refused with the way forward (`wenzheng db
upgrade`), except where ``older_ok`` (the demo, `make run`), which upgrades as before. A
revision this code does not know was written by a newer version and is refused by every
command, `wenzheng db upgrade` included. The check runs once, in the process that parses
the command line: a server with several workers checks before uvicorn forks them.

An upgrade runs in one transaction (server/storage/migrations/env.py), so a failing one
leaves the database at its old revision; the message still names the backup.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from server.base.days import CHINA
from server.base.settings import Settings
from server.storage.backup import BackupError, backup_sqlite, postgres_commands, sqlite_file
from server.storage.migrate import Schema, Standing, schema, upgrade

REFUSED, NEEDS_YES = 1, 2


def _error(text: str) -> None:
    print(f"错误：{text}", file=sys.stderr)


def refusal(found: Schema) -> str:
    """Why a command does not run on this database, in one line ("" when it may)."""
    if found.standing is Standing.NEWER:
        return (
            f"数据库的结构版本 {found.revision} 本程序不认识（本程序最新为 {found.head}）："
            "它由更新版本的问政写入。请安装那个版本，或用 wenzheng restore 恢复升级前的备份。"
        )
    if found.standing is Standing.FOREIGN:
        return (
            "数据库里已有表，却没有问政的结构版本记录（alembic_version）：它不是问政数据库。"
            "请检查 WENZHENG_DATABASE_URL。"
        )
    return ""


def ready(database_url: str, older_ok: bool = False) -> bool:
    """Whether a command may use the database; creates a new one (and upgrades an older one
    when ``older_ok``), prints why not otherwise."""
    found = schema(database_url)
    why = refusal(found)
    if not why and found.standing is Standing.OLDER and not older_ok:
        why = (
            f"数据库的结构版本是 {found.revision}，本程序需要 {found.head}。"
            "请先停止服务，运行 wenzheng db upgrade（它会先备份数据库）。"
        )
    if why:
        _error(why)
        return False
    if found.standing is not Standing.CURRENT:
        upgrade(database_url)
    return True


def backup_name(found: Schema) -> str:
    stamp = dt.datetime.now(CHINA).strftime("%Y%m%d-%H%M%S")
    return f"wenzheng-{found.revision}-before-{found.head}-{stamp}"


def _backup_sqlite(settings: Settings, found: Schema) -> Path | None:
    try:
        source = sqlite_file(make_url(settings.database_url))
        folder = settings.data_dir / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        summary = backup_sqlite(source, folder / f"{backup_name(found)}.db")
    except (BackupError, OSError) as exc:
        _error(f"升级前的备份没有完成，未升级：{exc}")
        return None
    print(f"已备份：{summary.path}（会议 {summary.meetings} 个，事件 {summary.events} 条，完整性检查通过）")
    return summary.path


def _postgres_go_ahead(settings: Settings, found: Schema, yes: bool) -> bool:
    dump, restore = postgres_commands(make_url(settings.database_url), Path(f"{backup_name(found)}.dump"))
    print("数据库是 PostgreSQL，本命令不复制。升级前请先停止服务，用 PostgreSQL 自带的工具备份：")
    print(f"  {dump}")
    print("升级出错时用它恢复：")
    print(f"  {restore}")
    print("密码不在此显示：请用 PGPASSWORD 环境变量或 ~/.pgpass 提供。")
    if not yes:
        _error(
            "PostgreSQL 数据库须先按上面的命令备份；备份好后加 --yes 重新运行 wenzheng db upgrade。未升级。"
        )
    return yes


def upgrade_with_backup(settings: Settings, yes: bool) -> int:
    """`wenzheng db upgrade` but the first admin; returns the exit code."""
    found = schema(settings.database_url)
    why = refusal(found)
    if why:
        _error(why)
        return REFUSED
    print(f"升级前结构版本：{found.revision or '无（新数据库）'}（本程序最新为 {found.head}）")
    backup: Path | None = None
    if found.standing is Standing.OLDER:
        if make_url(settings.database_url).get_backend_name() == "sqlite":
            backup = _backup_sqlite(settings, found)
            if backup is None:
                return REFUSED
        elif not _postgres_go_ahead(settings, found, yes):
            return NEEDS_YES
    if found.standing is not Standing.CURRENT:
        try:
            upgrade(settings.database_url)
        except Exception as exc:  # any failure of a migration: say where the database is now
            return _failed(settings, found, backup, exc)
    after = schema(settings.database_url)
    if found == after:
        print(f"升级后结构版本：{after.revision}（已是最新，无需升级）")
    else:
        print(f"升级后结构版本：{after.revision}")
        print("数据库已升级到最新版本。")
    return 0


def _failed(settings: Settings, before: Schema, backup: Path | None, exc: Exception) -> int:
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
    now = schema(settings.database_url).revision
    if now == before.revision:
        state = f"升级在一个事务中进行，已回滚：数据库仍是结构版本 {now or '无'}，未改动。"
    else:
        state = f"数据库停在结构版本 {now}，不完整。"
    if backup is not None:
        state += f"升级前的备份：{backup}（需要时先停止服务，再运行 wenzheng restore {backup} --force）。"
    _error(f"数据库升级失败：{reason}。{state}")
    return REFUSED
