"""`wenzheng roster import|export` and `wenzheng officials import`, run as the operator runs them.

An import that writes is on the office's audit trail (actor ``cli:<os user>``) in the same
transaction; a dry run or a refused import records nothing.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import socket
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from server.base.settings import Settings
from server.cli.roster import body_id_by_name, cli_actor
from server.office.demo import BODY
from server.storage import audit
from server.storage import models as m
from tests.conftest import WENZHENG, Db, plain_engine, server_env

HEADER = "姓名,代表小组,卡号,手机,备注\n"


def wenzheng(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WENZHENG), *args], env=server_env(settings), capture_output=True, text=True, timeout=60
    )


def deputy_count(db: Db) -> int:
    async def fn(conn):  # type: ignore[no-untyped-def]
        return (await conn.execute(select(func.count()).select_from(m.deputies))).scalar_one()

    return int(db._run(fn))


def test_import_with_errors_exits_nonzero_and_names_the_rows(
    settings: Settings, db: Db, tmp_path: Path
) -> None:
    bad = tmp_path / "名册.csv"
    bad.write_bytes(
        (HEADER + "张三,城东代表小组,2001,,\n,城东代表小组,2002,,\n李四,城东代表小组,2001,138,\n").encode(
            "gb18030"
        )
    )
    done = wenzheng(settings, "roster", "import", str(bad), "--body", BODY)
    assert done.returncode == 1
    assert "第 3 行「姓名」：姓名不能为空" in done.stderr
    assert "第 4 行「卡号」：卡号 2001 与第 2 行重复" in done.stderr
    assert "第 4 行「手机」" in done.stderr
    assert "未导入任何数据" in done.stderr
    assert deputy_count(db) == 48


def test_dry_run_writes_nothing_then_import_writes(settings: Settings, db: Db, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "张三,城东代表小组,2001,13812345678,\n李四,新区代表小组,2002,,\n")
    done = wenzheng(settings, "roster", "import", str(good), "--body", BODY, "--dry-run", "--create-groups")
    assert done.returncode == 0, done.stderr
    assert "新增 2 人，更新 0 人" in done.stdout and "试运行" in done.stdout
    assert deputy_count(db) == 48
    refused = wenzheng(settings, "roster", "import", str(good), "--body", BODY)
    assert refused.returncode == 1 and "第 3 行「代表小组」：没有“新区代表小组”这个小组" in refused.stderr
    done = wenzheng(settings, "roster", "import", str(good), "--body", BODY, "--create-groups")
    assert done.returncode == 0 and "导入完成" in done.stdout
    assert deputy_count(db) == 50


def test_export_then_reimport(settings: Settings, db: Db, tmp_path: Path) -> None:
    out = tmp_path / "名册.xlsx"
    done = wenzheng(settings, "roster", "export", "--body", BODY, "--out", str(out))
    assert done.returncode == 0 and "已导出 48 名代表" in done.stdout
    again = wenzheng(settings, "roster", "import", str(out), "--body", BODY)
    assert again.returncode == 0, again.stderr
    assert "新增 0 人，更新 48 人" in again.stdout
    assert deputy_count(db) == 48


def test_unknown_body_and_officials(settings: Settings, meeting_id: int, tmp_path: Path) -> None:
    officials = tmp_path / "应询人.csv"
    officials.write_text("姓名,职务,单位\n新官,局长,县交通运输局\n")
    done = wenzheng(settings, "officials", "import", str(officials), "--body", "某县")
    assert done.returncode == 1 and "没有名为“某县”的机构" in done.stderr
    done = wenzheng(settings, "officials", "import", str(officials), "--body", BODY)
    assert done.returncode == 0 and "新增 1 人" in done.stdout


def audit_rows(db: Db) -> list[dict[str, Any]]:
    async def fn(conn):  # type: ignore[no-untyped-def]
        rows = await conn.execute(select(m.audit).order_by(m.audit.c.id))
        return [dict(r._mapping) for r in rows]

    return list(db._run(fn))


def test_imports_from_the_command_line_are_on_the_audit_trail(
    settings: Settings, db: Db, tmp_path: Path
) -> None:
    roster = tmp_path / "名册.csv"
    roster.write_text(HEADER + "张三,城东代表小组,2001,13812345678,\n")
    officials = tmp_path / "应询人.csv"
    officials.write_text("姓名,职务,单位\n新官,局长,县交通运输局\n")
    bad = tmp_path / "坏名册.csv"
    bad.write_text(HEADER + ",城东代表小组,2002,,\n")
    before = audit_rows(db)

    for args in (
        ("roster", "import", str(roster), "--body", BODY, "--dry-run"),
        ("officials", "import", str(officials), "--body", BODY, "--dry-run"),
        ("roster", "import", str(bad), "--body", BODY),
    ):
        done = wenzheng(settings, *args)
        assert done.returncode == (1 if "坏名册" in args[2] else 0), done.stderr
    assert audit_rows(db) == before, "a dry run or a refused import recorded something"

    assert wenzheng(settings, "roster", "import", str(roster), "--body", BODY).returncode == 0
    assert wenzheng(settings, "officials", "import", str(officials), "--body", BODY).returncode == 0
    new = audit_rows(db)[len(before) :]
    body_id = asyncio.run(_body_id(settings))
    host = socket.gethostname()
    assert [(r["action"], r["actor"], r["device"], r["body_id"]) for r in new] == [
        ("roster_imported", cli_actor(), f"{host} wenzheng roster import", body_id),
        ("officials_imported", cli_actor(), f"{host} wenzheng officials import", body_id),
    ]
    assert cli_actor() == f"cli:{getpass.getuser()}"
    details = [json.loads(r["detail"]) for r in new]
    assert details[0] == {
        "file": "名册.csv",
        "summary": "新增 1 人，更新 0 人，名册中未出现 48 人（保留 48 人，终止代表资格 0 人）",
    }
    assert details[1]["file"] == "应询人.csv" and "新增 1 人" in details[1]["summary"]

    async def shown() -> list[audit.Entry]:
        engine = plain_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                return await audit.entries(conn, body_id)
        finally:
            await engine.dispose()

    assert [e.action_name for e in asyncio.run(shown())[:2]] == ["导入应询人", "导入代表名册"]


async def _body_id(settings: Settings) -> int:
    engine = plain_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            return await body_id_by_name(conn, BODY)
    finally:
        await engine.dispose()


def test_the_import_and_its_audit_entry_are_one_transaction(
    settings: Settings, db: Db, tmp_path: Path
) -> None:
    """The audit table refuses the entry (a trigger): the import is not written either."""
    roster = tmp_path / "名册.csv"
    roster.write_text(HEADER + "张三,城东代表小组,2001,13812345678,\n")
    database = settings.database_url.split("///", 1)[1]
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        )
    before = audit_rows(db)
    done = wenzheng(settings, "roster", "import", str(roster), "--body", BODY)
    assert done.returncode == 1
    assert done.stderr.startswith("错误：数据库未能写入（audit refused），未导入任何数据。")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert deputy_count(db) == 48 and audit_rows(db) == before

    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER no_audit")
    assert wenzheng(settings, "roster", "import", str(roster), "--body", BODY).returncode == 0
    assert deputy_count(db) == 49 and len(audit_rows(db)) == len(before) + 1


def test_from_sets_the_new_members_start_and_the_missing_are_kept_and_named(
    settings: Settings, db: Db, tmp_path: Path
) -> None:
    roster = tmp_path / "名册.csv"
    roster.write_text(HEADER + "张三,城东代表小组,2001,13812345678,\n")
    bad = wenzheng(settings, "roster", "import", str(roster), "--body", BODY, "--from", "2024-02-30")
    assert bad.returncode == 1 and "--from 任期开始日期不是日历上的日子" in bad.stderr
    assert deputy_count(db) == 48
    done = wenzheng(settings, "roster", "import", str(roster), "--body", BODY, "--from", "2024-01-01")
    assert done.returncode == 0, done.stderr
    assert "新增代表的任期自 2024-01-01 开始" in done.stdout
    assert "名册中未出现 48 名现任代表，已保留其代表资格：王建国（卡号 1001）" in done.stdout
    assert "保留 48 人，终止代表资格 0 人" in done.stdout

    async def fn(conn):  # type: ignore[no-untyped-def]
        started = (
            await conn.execute(
                select(m.mandates.c.starts_on, m.mandates.c.ends_on, m.mandates.c.recorded_by)
                .join(m.deputies, m.deputies.c.id == m.mandates.c.deputy_id)
                .where(m.deputies.c.card_no == "2001")
            )
        ).all()
        open_ = (await conn.execute(select(func.count()).where(m.mandates.c.ends_on.is_(None)))).scalar_one()
        return started, open_

    started, open_ = db._run(fn)
    assert [(str(s), e, by) for s, e, by in started] == [("2024-01-01", None, cli_actor())]
    assert open_ == 49  # the command line never ends a mandate
