"""The readiness lines about what this machine keeps: the database and its schema revision,
the secret key, the demo account's password, free disk space, the last backup.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from server.base import days
from server.office import hashing
from server.office.demo import DEMO_PASSWORD
from server.office.readiness_core import GIB, MIB, Installation, Level, Limits, Line, in_thread, short
from server.storage import backup_record
from server.storage import models as m
from server.storage.db import snapshot_read
from server.storage.migrate import Standing, judge, read_revision

MIN_KEY = 32
# Parts of a placeholder someone forgot to replace (compared without case and punctuation).
# Long enough that a generated key (64 random characters) never holds one by chance.
PLACEHOLDERS = ("changeme", "replaceme", "placeholder", "example", "yoursecret", "secretkey", "xxxxxx")

# -- the database, the key, the demo account ---------------------------------------------


def open_engine(inst: Installation) -> AsyncEngine | None:
    """An engine of its own for the command; None when it would create a SQLite file."""
    try:
        url = make_url(inst.database_url)
    except (ArgumentError, ValueError):
        return None
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return None
    connect_args: dict[str, object] = {"timeout": 2} if url.get_driver_name() == "asyncpg" else {}
    return create_async_engine(url, poolclass=NullPool, connect_args=connect_args)


def _kind(inst: Installation) -> str:
    return "PostgreSQL" if inst.database_url.startswith("postgresql") else "SQLite"


async def database(inst: Installation, engine: AsyncEngine | None, limits: Limits) -> Line:
    name, kind = "数据库", _kind(inst)
    where = "检查 WENZHENG_DATABASE_URL（及 WENZHENG_DATA_DIR）"
    if engine is None:
        return Line(
            name,
            Level.FAIL,
            f"找不到数据库（{make_url_text(inst.database_url)}）",
            f"运行 wenzheng db upgrade 创建数据库；数据库在别处时{where}。",
        )
    try:
        async with asyncio.timeout(limits.timeout):
            async with snapshot_read(engine) as conn:  # no write lock in a running server
                current, other_tables = await conn.run_sync(read_revision)
    except TimeoutError:
        return Line(
            name,
            Level.FAIL,
            f"{kind} 在 {limits.timeout:g} 秒内连接不上",
            f"确认数据库服务已启动，{where}：地址、端口、用户和密码。",
        )
    except (SQLAlchemyError, OSError) as exc:
        return Line(name, Level.FAIL, f"{kind} 连接失败：{short(exc)}", f"确认数据库服务已启动，{where}。")
    found = await in_thread(judge, current, other_tables, timeout=limits.timeout + 3)
    head = found.head
    if found.standing is Standing.FOREIGN:
        return Line(
            name,
            Level.FAIL,
            f"{kind} 里已有表，却没有问政的结构版本记录：它不是问政数据库",
            f"{where}。",
        )
    if current is None:
        return Line(name, Level.FAIL, f"{kind} 可连接，但其中还没有问政的表", "运行 wenzheng db upgrade。")
    if found.standing is Standing.CURRENT:
        return Line(name, Level.OK, f"{kind} 可连接，结构版本 {current}（最新）")
    if found.standing is Standing.OLDER:
        return Line(
            name,
            Level.FAIL,
            f"{kind} 的结构版本是 {current}，本程序需要 {head}",
            "先备份（wenzheng backup），再运行 wenzheng db upgrade。",
        )
    return Line(
        name,
        Level.FAIL,
        f"{kind} 的结构版本 {current} 比本程序新（本程序最新为 {head}）",
        "安装与这个数据库相同或更新版本的问政程序；不要用旧程序打开它。",
    )


def make_url_text(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "地址无法解析"


def secret(inst: Installation) -> Line:
    name = "密钥"
    key = inst.secret_key
    make = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
    replace = (
        f"设置 WENZHENG_SECRET_KEY 为 {make} 的输出（至少 {MIN_KEY} 个字符），"
        "或删去它，由服务在数据文件夹中生成；已印发邀请卡后更换密钥，卡片须重印。"
    )
    if inst.secret_unreadable:
        return Line(
            name,
            Level.FAIL,
            f"密钥文件 {inst.secret_source} 无法读取（{inst.secret_unreadable}）",
            "以运行服务的用户运行 wenzheng check（如 sudo -u wenzheng …），检查才能看到服务所见的一切。",
        )
    if key is None:
        return Line(
            name,
            Level.FAIL,
            "没有密钥：WENZHENG_SECRET_KEY 未设置，数据文件夹中也没有 secret_key",
            f"启动一次 wenzheng serve（生成并保存在数据文件夹中），"
            f"或设置 WENZHENG_SECRET_KEY 为 {make} 的输出。",
        )
    plain = re.sub(r"[^a-z0-9]", "", key.lower())
    if any(marker in plain for marker in PLACEHOLDERS):
        said = f"密钥（{inst.secret_source}）是示例中的占位值，不是真正的密钥"
        return Line(name, Level.FAIL, said, replace)
    if len(key) < MIN_KEY:
        return Line(name, Level.FAIL, f"密钥（{inst.secret_source}）只有 {len(key)} 个字符，太短", replace)
    if len(set(key)) < 10:
        return Line(name, Level.FAIL, f"密钥（{inst.secret_source}）的字符过于单一，容易被猜出", replace)
    return Line(name, Level.OK, f"已设置（{inst.secret_source}，{len(key)} 个字符）")


async def demo_account(engine: AsyncEngine | None, limits: Limits) -> Line:
    name = "演示账号"
    if engine is None:
        return Line(name, Level.WARN, "数据库不可用，未能检查", "先解决“数据库”一项。")
    try:
        async with asyncio.timeout(limits.timeout), snapshot_read(engine) as conn:
            stored = (
                await conn.execute(select(m.users.c.password_hash).where(m.users.c.username == "chair"))
            ).scalar()
    except (TimeoutError, SQLAlchemyError, OSError):
        return Line(name, Level.WARN, "数据库不可用，未能检查", "先解决“数据库”一项。")
    if stored is None:
        return Line(name, Level.OK, "没有演示账号 chair")
    if not await hashing.verified(DEMO_PASSWORD, str(stored)):
        return Line(name, Level.OK, "账号 chair 已不再使用演示密码")
    return Line(
        name,
        Level.FAIL,
        f"账号 chair（主持人、管理员）仍用公开的演示密码 {DEMO_PASSWORD}，读过说明的人都能登录主持台",
        "在“用户管理”（/admin/users）为 chair 重设密码，或运行 "
        "wenzheng user add chair --role chair --role staff --role admin（打印一次性密码）。",
    )


# -- the disk and the backup -------------------------------------------------------------


def _existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _gib(n: int) -> str:
    if n >= GIB:
        return f"{n / GIB:.1f} GiB"
    return f"{n / MIB:.0f} MiB" if n >= 10 * MIB else f"{n / MIB:.2f} MiB"


def disk(inst: Installation, limits: Limits) -> Line:
    name = "磁盘空间"
    folder = _existing(inst.data_dir)
    free = shutil.disk_usage(folder).free
    said = f"数据文件夹 {inst.data_dir} 所在磁盘可用 {_gib(free)}"
    if _kind(inst) == "PostgreSQL":
        said += "（PostgreSQL 的数据在数据库服务器上，请另行查看）"
    todo = "清理这块磁盘，或把数据文件夹（WENZHENG_DATA_DIR）移到空间更大的磁盘；备份和日志会逐渐占满它。"
    if free < limits.disk_fail:
        return Line(name, Level.FAIL, f"{said}，不足 {_gib(limits.disk_fail)}", todo)
    if free < limits.disk_warn:
        return Line(name, Level.WARN, f"{said}，不足 {_gib(limits.disk_warn)}", todo)
    return Line(name, Level.OK, said)


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))} 分钟"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} 小时"
    return f"{seconds / 86400:.0f} 天"


def backup(inst: Installation, offline: bool, limits: Limits) -> Line:
    name = "备份"
    if _kind(inst) == "PostgreSQL":
        how = (
            "用 pg_dump -Fc 备份（wenzheng backup 文件名 会打印完整命令），"
            "再运行 wenzheng backup --record 文件名 记下它。"
        )
    else:
        how = "运行 wenzheng backup /备份目录/wenzheng-日期.db（服务运行时也可以），备份会自动记下。"
    try:
        last = backup_record.last(inst.data_dir)
    except backup_record.RecordError as damaged:
        return Line(name, Level.FAIL, str(damaged), f"重新备份一次：{how}")
    if last is None:
        level = Level.WARN if offline else Level.FAIL
        return Line(name, level, "还没有备份记录", how)
    seconds = (datetime.now(UTC) - last.at).total_seconds()
    when = last.at.astimezone(days.CHINA).strftime("%Y-%m-%d %H:%M")
    said = f"最近一次备份 {when}（{_age(seconds)}前，{_gib(last.size)}）：{last.path}"
    if not Path(last.path).exists():
        said += "（文件已不在原处）"
    if seconds > limits.backup_fail_days * 86400:
        return Line(name, Level.FAIL, f"{said}，已超过 {limits.backup_fail_days:g} 天", how)
    if seconds > limits.backup_warn_days * 86400:
        return Line(name, Level.WARN, f"{said}，已超过 {limits.backup_warn_days:g} 天", how)
    return Line(name, Level.OK, said)
