"""`wenzheng roster import|export` and `wenzheng officials import`, run as the operator runs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import func, select

from server import models as m
from server.demo import BODY
from server.settings import Settings
from tests.conftest import WENZHENG, Db, server_env

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
