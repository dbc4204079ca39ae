"""`wenzheng check`: each readiness line passing and failing, against real parts.

A real SQLite file and a real PostgreSQL database at the newest and at older revisions,
the demo's real chair account, real `wenzheng serve` and TLS servers on loopback, the real
Redis and a closed port, an SNTP server on loopback with a chosen offset, real free disk
space with thresholds set around it, and backups made and recorded by the real command.
The command itself, its exit code and the offline profile are in test_check_cli.py.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.base.settings import Settings
from server.office import clock, readiness
from server.office.readiness import Level, Limits, Line
from server.storage import backup_record
from server.storage.db import create_engine
from server.storage.migrate import upgrade
from tests.check_parts import closed_udp_port, http_server, sntp_server
from tests.conftest import REDIS_URL, Server, free_port, install_demo, server_env

QUICK = Limits(timeout=1.0, timedatectl=None)


def lines(offline: bool = False, limits: Limits = QUICK, **env: str) -> dict[str, Line]:
    """Every line for the test's data folder, with ``env`` over the process environment."""
    # Never the default time server: tests send nothing beyond this machine.
    merged = {**os.environ, "WENZHENG_NTP_SERVER": closed_udp_port(), **env}
    found = asyncio.run(readiness.check(readiness.from_env(merged), offline=offline, limits=limits))
    return {line.name: line for line in found}


def assert_line(line: Line, level: Level, *words: str) -> None:
    said = f"{line.text} {line.todo}"
    assert line.level is level, line
    for word in words:
        assert word in said, (word, line)
    assert bool(line.todo) == (level is not Level.OK), line  # what to do, exactly when not passing


# -- the database ------------------------------------------------------------------------


def test_database_passes_when_migrated_and_fails_missing_empty_old_or_newer(settings: Settings) -> None:
    db_file = settings.data_dir / "wenzheng.db"
    assert_line(lines()["数据库"], Level.FAIL, "找不到数据库", "wenzheng db upgrade")
    assert not db_file.exists()  # checking created nothing
    sqlite3.connect(db_file).close()  # a file with no tables
    assert_line(lines()["数据库"], Level.FAIL, "还没有问政的表", "wenzheng db upgrade")
    upgrade(settings.database_url)
    assert_line(lines()["数据库"], Level.OK, "SQLite", "最新")
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0010'")
    assert_line(lines()["数据库"], Level.FAIL, "0010", "wenzheng db upgrade", "wenzheng backup")
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00d'")
    assert_line(lines()["数据库"], Level.FAIL, "比本程序新")


@pytest.mark.postgres
def test_database_on_postgres_passes_and_fails_on_a_closed_port(data_dir: Path, pg_database: str) -> None:
    assert_line(lines(WENZHENG_DATABASE_URL=pg_database)["数据库"], Level.FAIL, "还没有问政的表")
    upgrade(pg_database)
    assert_line(lines(WENZHENG_DATABASE_URL=pg_database)["数据库"], Level.OK, "PostgreSQL", "最新")
    closed = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    started = time.monotonic()
    assert_line(
        lines(WENZHENG_DATABASE_URL=closed)["数据库"], Level.FAIL, "连接失败", "WENZHENG_DATABASE_URL"
    )
    assert time.monotonic() - started < 5


# -- the secret key and the demo account -------------------------------------------------


def test_secret_key_passes_when_generated_and_fails_missing_placeholder_or_weak(data_dir: Path) -> None:
    assert_line(lines()["密钥"], Level.FAIL, "没有密钥", "wenzheng serve")
    assert not (data_dir / "secret_key").exists()
    for placeholder in (
        "CHANGE_ME",
        "change-me-to-a-long-random-string-of-64-characters!!",
        "<your-secret-key>",
    ):
        assert_line(lines(WENZHENG_SECRET_KEY=placeholder)["密钥"], Level.FAIL, "WENZHENG_SECRET_KEY")
    assert_line(lines(WENZHENG_SECRET_KEY="Kq3vP9")["密钥"], Level.FAIL, "6 个字符，太短")
    assert_line(lines(WENZHENG_SECRET_KEY="ab" * 40)["密钥"], Level.FAIL, "过于单一")
    from server.base.settings import load

    key = load().secret_key  # what `wenzheng serve` generates into the data folder
    line = lines()["密钥"]
    assert_line(line, Level.OK, "secret_key", "64 个字符")
    assert key not in f"{line.text}{line.todo}"  # the key itself is never shown


def test_demo_account_fails_with_the_public_password_and_passes_once_changed(settings: Settings) -> None:
    upgrade(settings.database_url)
    assert_line(lines()["演示账号"], Level.OK, "没有演示账号")
    install_demo(settings.database_url)  # what `make run` / `serve --demo` creates
    assert_line(lines()["演示账号"], Level.FAIL, "wenzheng-demo", "/admin/users", "wenzheng user add chair")

    async def change() -> None:
        from server.office.accounts import save_user

        engine = create_engine(settings.database_url)
        async with engine.begin() as conn:
            await save_user(conn, "chair", frozenset({"chair"}), "a-new-long-password", must_change=False)
        await engine.dispose()

    asyncio.run(change())
    assert_line(lines()["演示账号"], Level.OK, "不再使用演示密码")


# -- the public address ------------------------------------------------------------------


class NamedServer(Server):
    """`wenzheng serve` reached by this machine's name rather than a loopback literal."""

    def __init__(self, env: dict[str, str], port: int, log_path: Path, host: str) -> None:
        super().__init__(env, port, log_path)
        self.host = host

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def test_public_address_passes_by_name_and_fails_unset_closed_or_not_ours(
    settings: Settings, tmp_path: Path
) -> None:
    assert_line(lines()["公开地址"], Level.FAIL, "未设置 WENZHENG_PUBLIC_URL", "192.168")
    # The machine's own name, served on the address it resolves to (loopback here): a
    # name is judged by what phones resolve, so only loopback literals are flagged.
    name = socket.gethostname()
    address = socket.gethostbyname(name)
    port = free_port()
    server = NamedServer(server_env(settings, WENZHENG_HOST=address), port, tmp_path / "named.log", name)
    server.start()
    try:
        url = f"http://{name}:{port}"
        assert_line(lines(WENZHENG_PUBLIC_URL=url)["公开地址"], Level.OK, url, "/healthz")
        if address.startswith("127."):  # the literal: only this machine opens it
            loop_url = f"http://127.0.0.1:{port}"
            assert_line(lines(WENZHENG_PUBLIC_URL=loop_url)["公开地址"], Level.WARN, "回环地址")
            on_lan = lines(WENZHENG_PUBLIC_URL=loop_url, WENZHENG_HOST="0.0.0.0")["公开地址"]
            assert_line(on_lan, Level.FAIL, "回环地址", "手机打不开")
    finally:
        server.stop()
    closed = f"http://127.0.0.1:{free_port()}"
    assert_line(lines(WENZHENG_PUBLIC_URL=closed)["公开地址"], Level.FAIL, "本机打不开", "wenzheng serve")
    with http_server(wenzheng_like=False) as other:
        assert_line(lines(WENZHENG_PUBLIC_URL=other)["公开地址"], Level.FAIL, "不是问政服务")
    assert_line(lines(WENZHENG_PUBLIC_URL="ftp://x")["公开地址"], Level.FAIL, "不是 http")


def test_public_address_over_https_with_a_self_signed_certificate_fails_and_says_so(
    data_dir: Path, tmp_path: Path
) -> None:
    with http_server(tls_folder=tmp_path) as url:
        assert url.startswith("https://")
        assert_line(lines(WENZHENG_PUBLIC_URL=url)["公开地址"], Level.FAIL, "自签名", "离线会场")


# -- Redis ---------------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_is_needed_for_several_workers_and_must_answer(data_dir: Path, redis_prefix: str) -> None:
    assert_line(lines()["Redis"], Level.OK, "一个工作进程")
    assert_line(lines(WENZHENG_WORKERS="4")["Redis"], Level.FAIL, "4 个工作进程", "WENZHENG_REDIS_URL")
    assert_line(lines(WENZHENG_WORKERS="4", WENZHENG_REDIS_URL=REDIS_URL)["Redis"], Level.OK, "可连接")
    closed = f"redis://127.0.0.1:{free_port()}/0"
    failing = lines(WENZHENG_WORKERS="2", WENZHENG_REDIS_URL=closed)["Redis"]
    assert_line(failing, Level.FAIL, "连接不上", "WENZHENG_REDIS_URL")
    assert_line(lines(WENZHENG_WORKERS="two")["Redis"], Level.FAIL, "不是正整数")


# -- the clock -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "level", "words"),
    [(0.0, Level.OK, "+0.0"), (2.5, Level.WARN, "超过 1 秒"), (-30.0, Level.FAIL, "超过 5 秒")],
)
def test_clock_against_a_real_sntp_server(data_dir: Path, offset: float, level: Level, words: str) -> None:
    with sntp_server(offset) as server:
        assert abs(clock.offset(server, 1.0) - offset) < 0.2
        line = lines(WENZHENG_NTP_SERVER=server)["时间"]
    assert_line(line, level, words, server)


def test_clock_without_a_time_server_fails_online_and_warns_offline(data_dir: Path) -> None:
    closed = closed_udp_port()
    assert_line(lines(WENZHENG_NTP_SERVER=closed)["时间"], Level.FAIL, "无法访问", "timedatectl")
    assert_line(lines(True, WENZHENG_NTP_SERVER=closed)["时间"], Level.WARN, "离线会场", "北京时间")
    with sntp_server(0.0, answer=False) as silent:  # a server that swallows the request
        started = time.monotonic()
        line = lines(WENZHENG_NTP_SERVER=silent, limits=Limits(timeout=0.5, timedatectl=None))["时间"]
        assert time.monotonic() - started < 3
    assert_line(line, Level.FAIL, "没有应答")
    with sntp_server(0.0, stratum=0) as unsynchronised:  # kiss-o'-death: not a time to trust
        assert_line(lines(WENZHENG_NTP_SERVER=unsynchronised)["时间"], Level.FAIL, "不可用")


def test_clock_believes_the_system_when_it_reports_synchronised(data_dir: Path, tmp_path: Path) -> None:
    """timedatectl's answer, as systemd prints it (a two-line script standing in for it:
    this machine has no systemd)."""
    fake = tmp_path / "timedatectl"
    fake.write_text("#!/bin/sh\necho yes\n")
    fake.chmod(0o755)
    line = lines(WENZHENG_NTP_SERVER=closed_udp_port(), limits=Limits(timeout=1, timedatectl=str(fake)))
    assert_line(line["时间"], Level.OK, "系统报告时钟已同步")
    fake.write_text("#!/bin/sh\necho no\n")
    line = lines(WENZHENG_NTP_SERVER=closed_udp_port(), limits=Limits(timeout=1, timedatectl=str(fake)))
    assert_line(line["时间"], Level.FAIL, "系统也未报告")


# -- disk space and the backup ---------------------------------------------------------------


def test_disk_space_against_thresholds_around_what_is_free(data_dir: Path) -> None:
    import shutil

    free = shutil.disk_usage(data_dir).free
    assert_line(lines(limits=Limits(timedatectl=None, disk_warn=1, disk_fail=0))["磁盘空间"], Level.OK)
    warn = Limits(timedatectl=None, disk_warn=free * 2, disk_fail=1)
    assert_line(lines(limits=warn)["磁盘空间"], Level.WARN, "WENZHENG_DATA_DIR")
    fail = Limits(timedatectl=None, disk_warn=free * 4, disk_fail=free * 2)
    assert_line(lines(limits=fail)["磁盘空间"], Level.FAIL, str(data_dir))


def test_backup_age_from_the_real_command_and_older_records(settings: Settings, tmp_path: Path) -> None:
    upgrade(settings.database_url)
    assert_line(lines()["备份"], Level.FAIL, "还没有备份记录", "wenzheng backup")
    assert_line(lines(True)["备份"], Level.WARN, "还没有备份记录")
    out = tmp_path / "b.db"
    wenzheng = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "wenzheng"
    done = subprocess.run([str(wenzheng), "backup", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert_line(lines()["备份"], Level.OK, str(out), "分钟前")
    three_days = datetime.now(UTC) - timedelta(days=3)
    backup_record.record(settings.data_dir, out, now=three_days)
    assert_line(lines()["备份"], Level.WARN, "3 天前", "超过 1 天")
    backup_record.record(settings.data_dir, out, now=datetime.now(UTC) - timedelta(days=10))
    assert_line(lines()["备份"], Level.FAIL, "超过 7 天")
    assert_line(lines(True)["备份"], Level.FAIL, "超过 7 天")  # offline: a backup can still be made
    (settings.data_dir / backup_record.RECORD_NAME).write_text("{half")
    assert_line(lines()["备份"], Level.FAIL, "无法读取", "重新备份")
