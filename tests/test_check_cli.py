"""`wenzheng check [--offline]` as a person runs it: the lines it prints, its exit code, the
offline profile, and `wenzheng backup --record` for a PostgreSQL dump.

Real `wenzheng serve` on loopback, a real SNTP server on loopback, real pg_dump.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from server.base.settings import Settings
from server.storage import backup_record
from server.storage.migrate import upgrade
from tests.check_parts import closed_udp_port, sntp_server
from tests.conftest import WENZHENG, Server, free_port, server_env

NAMES = ("数据库", "密钥", "演示账号", "公开地址", "Redis", "时间", "磁盘空间", "备份")


def wenzheng(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Never the default time server: tests send nothing beyond this machine.
    merged = {**os.environ, "WENZHENG_NTP_SERVER": closed_udp_port(), **env}
    return subprocess.run([str(WENZHENG), *args], capture_output=True, text=True, timeout=60, env=merged)


def levels(stdout: str) -> dict[str, str]:
    found = dict(
        (name, level) for level, name in re.findall(r"^\[(通过|注意|未通过)\]\s+(\S+?)：", stdout, re.M)
    )
    assert tuple(found) == NAMES, stdout
    return found


def test_check_on_nothing_fails_every_line_it_can_and_creates_nothing(data_dir: Path) -> None:
    done = wenzheng("check", WENZHENG_NTP_SERVER=closed_udp_port())
    assert done.returncode == 1, done.stdout + done.stderr
    found = levels(done.stdout)
    for name in ("数据库", "密钥", "公开地址", "时间", "备份"):
        assert found[name] == "未通过", done.stdout
    # every line that does not pass is followed by what to do
    assert done.stdout.count("处理：") == sum(level != "通过" for level in found.values())
    assert "结果：5 项未通过" in done.stdout
    assert list(data_dir.iterdir()) == []  # no database, no key, no record


def test_exit_code_offline_profile_and_a_ready_install(settings: Settings, tmp_path: Path) -> None:
    """Ready: exit 0. No time server and no backup: 1 online, 0 offline (warnings)."""
    upgrade(settings.database_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"WENZHENG_PUBLIC_URL": url}
    server = Server(server_env(settings, **env), port, tmp_path / "serve.log")
    server.start()
    try:
        silent = closed_udp_port()
        online = wenzheng("check", WENZHENG_NTP_SERVER=silent, **env)
        offline = wenzheng("check", "--offline", WENZHENG_NTP_SERVER=silent, **env)
        assert online.returncode == 1, online.stdout
        assert levels(online.stdout)["时间"] == levels(online.stdout)["备份"] == "未通过"
        assert offline.returncode == 0, offline.stdout
        assert offline.stdout.startswith("问政安装检查（离线会场）")
        found = levels(offline.stdout)
        assert found["时间"] == found["备份"] == "注意"
        assert found["公开地址"] == "注意"  # a loopback address: fine here, not for phones
        assert "可以开会" in offline.stdout

        made = wenzheng("backup", str(tmp_path / "before-the-meeting.db"))
        assert made.returncode == 0, made.stderr
        with sntp_server(0.3) as ntp:
            ready = wenzheng("check", WENZHENG_NTP_SERVER=ntp, **env)
        assert ready.returncode == 0, ready.stdout
        found = levels(ready.stdout)
        assert {name for name, level in found.items() if level != "通过"} == {"公开地址"}, ready.stdout
        with sntp_server(12.0) as ntp:  # a clock 12 s off fails even in a hall
            late = wenzheng("check", "--offline", WENZHENG_NTP_SERVER=ntp, **env)
        assert late.returncode == 1 and levels(late.stdout)["时间"] == "未通过", late.stdout
    finally:
        server.stop()


@pytest.mark.postgres
def test_backup_record_takes_a_real_pg_dump_and_refuses_what_is_no_backup(
    data_dir: Path, pg_database: str, tmp_path: Path
) -> None:
    upgrade(pg_database)
    dump = tmp_path / "wenzheng.dump"
    printed = wenzheng("backup", str(dump), WENZHENG_DATABASE_URL=pg_database)
    assert printed.returncode == 2 and f"wenzheng backup --record {dump}" in printed.stdout, printed.stdout
    dbname = pg_database.rsplit("/", 1)[1]
    subprocess.run(
        ["pg_dump", "-Fc", "-h", "127.0.0.1", "-U", "postgres", "-d", dbname, "-f", str(dump)],
        check=True,
        timeout=60,
    )
    done = wenzheng("backup", "--record", str(dump), WENZHENG_DATABASE_URL=pg_database)
    assert done.returncode == 0, done.stderr
    recorded = backup_record.last(data_dir)
    assert recorded is not None and recorded.kind == "pg_dump" and recorded.path == str(dump)
    found = levels(
        wenzheng("check", WENZHENG_DATABASE_URL=pg_database, WENZHENG_NTP_SERVER=closed_udp_port()).stdout
    )
    assert found["备份"] == "通过" and found["数据库"] == "通过"

    empty = tmp_path / "failed.dump"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("pg_dump output was here")
    for path, says in ((empty, "是空的"), (text, "不是 SQLite"), (tmp_path / "nowhere", "不存在")):
        refused = wenzheng("backup", "--record", str(path), WENZHENG_DATABASE_URL=pg_database)
        assert refused.returncode == 1 and says in refused.stderr, refused.stderr
    assert backup_record.last(data_dir) == recorded  # a refusal leaves the last record alone
    both = wenzheng("backup", "--record", str(dump), str(dump), WENZHENG_DATABASE_URL=pg_database)
    assert both.returncode == 1 and "只能给一个" in both.stderr
