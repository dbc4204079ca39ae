"""Roster and officials import (server/office/imports.py) against the demo body, and the pages."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.base.settings import Settings
from server.office import exports, imports, roster_import, sheets
from server.office.demo import BODY
from server.storage import models as m
from server.storage.db import create_engine

HEADER = "姓名,代表小组,卡号,手机,备注\n"
GOOD = HEADER + "张三丰,城东代表小组,2001,13812345678,退休教师\n李四,城西代表小组,2002,0573-12345678,\n"


@pytest.fixture
async def engine(settings: Settings, meeting_id: int) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url)
    yield engine
    await engine.dispose()


async def body_id(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        found = (await conn.execute(select(m.bodies.c.id).where(m.bodies.c.name == BODY))).scalar_one()
        await conn.rollback()
    return int(found)


async def run(engine: AsyncEngine, data: bytes, name: str = "r.csv", **kw: Any) -> imports.RosterPlan:
    bid = await body_id(engine)
    async with engine.begin() as conn:
        return await roster_import.import_roster(conn, bid, data, name, **kw)


async def deputies(engine: AsyncEngine) -> dict[str, tuple[str, str, str, str, str, int]]:
    """card -> (name, group, phone, notes, short_code, card_version)"""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                m.deputies.c.card_no,
                m.deputies.c.name,
                m.groups.c.name,
                m.deputies.c.phone,
                m.deputies.c.notes,
                m.deputies.c.short_code,
                m.deputies.c.card_version,
            ).join(m.groups, m.groups.c.id == m.deputies.c.group_id)
        )
        out = {str(r[0]): (r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows}
        await conn.rollback()
    return out


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
async def test_csv_in_each_encoding_imports(engine: AsyncEngine, encoding: str) -> None:
    plan = await run(engine, GOOD.encode(encoding))
    assert plan.errors == [] and plan.written
    assert plan.summary().startswith("新增 2 人，更新 0 人，名册中未出现 48 人（保留 48 人")
    found = await deputies(engine)
    assert found["2001"][:4] == ("张三丰", "城东代表小组", "13812345678", "退休教师")
    assert found["2002"][:3] == ("李四", "城西代表小组", "0573-12345678")
    assert re.fullmatch(r"[0-9]{8}", found["2001"][4]) and found["2001"][5] == 1
    assert len(found) == 50


async def test_xlsx_columns_in_any_order_and_numbers_as_cells(engine: AsyncEngine) -> None:
    data = xlsx([["备注", "卡号", "多余的列", "姓名", "代表团"], [None, 2001, "x", "王　芳", "南塘代表小组"]])
    plan = await run(engine, data, "名册.xlsx")
    assert plan.errors == []
    assert (await deputies(engine))["2001"][:3] == ("王芳", "南塘代表小组", "")


def test_blank_rows_keep_the_spreadsheet_numbering_and_headers_may_be_padded() -> None:
    sheet = imports.read_sheet(
        "\n姓　名,代表小组*, 卡号 \n\n张三,城东代表小组,1\n,,\n李四,城西代表小组,2\n".encode(), "r.csv"
    )
    assert sheet.headers == ["姓名", "代表小组", "卡号"]
    assert [n for n, _ in sheet.rows] == [4, 6]
    with pytest.raises(imports.ImportRefused, match="不支持旧的"):
        imports.read_sheet(b"\xd0\xcf\x11\xe0 old excel", "名册.xls")
    with pytest.raises(imports.ImportRefused, match="不支持旧的"):
        imports.read_sheet(b"\xd0\xcf\x11\xe0 old excel", "renamed.csv")
    with pytest.raises(imports.ImportRefused, match="无法读取该 Excel"):
        imports.read_sheet(b"PK\x03\x04 not really a zip", "r.xlsx")
    with pytest.raises(imports.ImportRefused, match="CSV 文件格式有误"):
        imports.read_sheet(("姓名\n" + '"' + "长" * 200_000).encode(), "r.csv")


async def test_missing_header_is_refused_in_chinese(engine: AsyncEngine) -> None:
    with pytest.raises(imports.ImportRefused, match="缺少列：卡号"):
        await run(engine, "姓名,代表小组\n张三,城东代表小组\n".encode())


async def test_size_limits(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(imports.ImportRefused, match="文件太大"):
        await run(engine, b"x" * (imports.MAX_BYTES + 1))
    monkeypatch.setattr(sheets, "MAX_ROWS", 3)
    many = HEADER + "".join(f"某{i},城东代表小组,{3000 + i},,\n" for i in range(4))
    with pytest.raises(imports.ImportRefused, match="行数太多"):
        await run(engine, many.encode())


# -- row errors ---------------------------------------------------------------------------


async def test_each_error_names_its_row_and_field(engine: AsyncEngine) -> None:
    rows = [
        ",城东代表小组,2001,,",  # row 2: no name
        "赵六,火星代表小组,2002,,",  # row 3: unknown group
        "钱七,城东代表小组,2003,,",  # row 4: fine
        "孙八,城东代表小组,2003,,",  # row 5: card of row 4
        "周九,城东代表小组,2004,12345,",  # row 6: phone
        "吴十," + "城东代表小组,2005,," + "很" * 501,  # row 7: notes too long
        "郑一,城东代表小组,,,",  # row 8: no card
    ]
    before = await deputies(engine)
    plan = await run(engine, (HEADER + "\n".join(rows) + "\n").encode())
    found = {(e.row, e.field_label) for e in plan.errors}
    assert found == {(2, "姓名"), (3, "代表小组"), (5, "卡号"), (6, "手机"), (7, "备注"), (8, "卡号")}
    texts = [e.text() for e in plan.errors]
    assert "第 5 行「卡号」：卡号 2003 与第 4 行重复" in texts
    assert any(t.startswith("第 3 行「代表小组」：没有“火星代表小组”这个小组") for t in texts)
    assert not plan.written and await deputies(engine) == before  # row 4 was fine: still nothing


async def test_formulas_are_refused(engine: AsyncEngine) -> None:
    header = ["姓名", "代表小组", "卡号"]
    data = xlsx([header, ["=A1&A1", "城东代表小组", 2001], ["钱七", "城东代表小组", "=1+1"]])
    plan = await run(engine, data, "r.xlsx")
    assert [(e.row, e.field) for e in plan.errors] == [(2, "name"), (3, "card_no")]
    assert all("公式" in e.message for e in plan.errors)


async def test_an_error_in_the_last_row_writes_nothing(engine: AsyncEngine) -> None:
    good = "".join(f"某人{i},城东代表小组,{3000 + i},,\n" for i in range(100))
    plan = await run(engine, (HEADER + good + "末行,城东代表小组,3999,999,\n").encode())
    assert [e.row for e in plan.errors] == [102]
    assert len(await deputies(engine)) == 48


async def test_dry_run_writes_nothing(engine: AsyncEngine) -> None:
    plan = await run(engine, GOOD.encode(), dry_run=True)
    assert plan.errors == [] and not plan.written and len(plan.inserts) == 2
    assert len(await deputies(engine)) == 48


async def test_new_groups_only_when_allowed(engine: AsyncEngine) -> None:
    data = (HEADER + "赵六,新区代表小组,2001,,\n").encode()
    assert [e.field for e in (await run(engine, data)).errors] == ["group"]
    plan = await run(engine, data, create_groups=True)
    assert plan.errors == [] and plan.new_groups == ["新区代表小组"]
    assert (await deputies(engine))["2001"][1] == "新区代表小组"


async def test_reimport_updates_by_card_number(engine: AsyncEngine) -> None:
    before = (await deputies(engine))["1001"]
    data = (HEADER + "王建国,城西代表小组,1001,13900001111,换届后调整\n新代表,城东代表小组,2001,,\n").encode()
    plan = await run(engine, data)
    assert plan.summary().startswith("新增 1 人，更新 1 人") and plan.renamed == []
    after = (await deputies(engine))["1001"]
    assert after == ("王建国", "城西代表小组", "13900001111", "换届后调整", before[4], before[5])
    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(m.deputies))).scalar_one()
        await conn.rollback()
    assert count == 49


# -- export and officials -----------------------------------------------------------------


async def test_export_round_trips(engine: AsyncEngine) -> None:
    await run(engine, (HEADER + "张三丰,城东代表小组,0042,13812345678,备注，有逗号\n").encode())
    bid = await body_id(engine)
    async with engine.connect() as conn:
        data = exports.roster_xlsx(await exports.roster_rows(conn, bid))
        await conn.rollback()
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "代表小组", "卡号", "手机", "备注")
    assert ("张三丰", "城东代表小组", "0042", "13812345678", "备注，有逗号") in rows
    before = await deputies(engine)
    plan = await run(engine, data, "export.xlsx")
    assert plan.errors == [] and plan.summary() == "新增 0 人，更新 49 人"
    assert await deputies(engine) == before


async def test_officials_import(engine: AsyncEngine) -> None:
    bid = await body_id(engine)
    text = "姓名,职务,单位\n沈立群,党委副书记、镇长,清溪镇人民政府\n新官,局长,县交通运输局\n,科长,\n"
    data = text.encode("gb18030")
    async with engine.begin() as conn:
        plan = await imports.import_officials(conn, bid, data, "o.csv")
    assert [e.text() for e in plan.errors] == ["第 4 行「姓名」：姓名不能为空"]
    async with engine.begin() as conn:
        plan = await imports.import_officials(conn, bid, data.rsplit(b"\n", 2)[0] + b"\n", "o.csv")
    assert plan.errors == [] and plan.summary().startswith("新增 1 人，更新 1 人")
    async with engine.connect() as conn:
        rows = (await conn.execute(select(m.officials.c.name, m.officials.c.title))).all()
        await conn.rollback()
    assert ("沈立群", "党委副书记、镇长") in rows and ("新官", "局长") in rows and len(rows) == 6


# -- the staff pages ----------------------------------------------------------------------


def login(client: Any) -> str:
    reply = client.post("/login", data={"username": "chair", "password": "wenzheng-demo", "next": "/"})
    assert reply.status_code == 303
    page = client.get("/bodies/1/roster")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_pages_need_login_and_csrf(client: Any) -> None:
    assert client.get("/bodies/1/roster").status_code == 303
    assert client.get("/bodies/1/roster.xlsx").status_code == 303
    login(client)
    files = {"file": ("r.csv", GOOD.encode(), "text/csv")}
    reply = client.post("/bodies/1/roster/preview", files=files, data={"csrf": "wrong"})
    assert reply.status_code == 403


def test_upload_preview_confirm_export_and_edit(client: Any) -> None:
    csrf = login(client)
    page = client.get("/bodies/1/roster").text
    assert "城东代表小组（8 人）" in page and "王建国" in page and "导出 Excel" in page
    bad = (HEADER + ",城东代表小组,2001,,\n").encode("gb18030")
    reply = client.post("/bodies/1/roster/preview", files={"file": ("r.csv", bad)}, data={"csrf": csrf})
    assert reply.status_code == 400 and "第 2 行" in reply.text and "姓名不能为空" in reply.text
    assert "确认导入" not in reply.text
    reply = client.post(
        "/bodies/1/roster/preview", files={"file": ("r.csv", GOOD.encode())}, data={"csrf": csrf}
    )
    assert "新增 2 人，更新 0 人" in reply.text and "确认导入" in reply.text
    token = re.search(r'name="token" value="([^"]+)"', reply.text)
    assert token
    assert "张三丰" not in client.get("/bodies/1/roster").text  # nothing written by the preview
    done = client.post("/bodies/1/roster/confirm", data={"csrf": csrf, "token": token.group(1)})
    assert done.status_code == 200 and "导入完成：新增 2 人，更新 0 人" in done.text
    assert "张三丰" in client.get("/bodies/1/roster").text
    again = client.post("/bodies/1/roster/confirm", data={"csrf": csrf, "token": token.group(1)})
    assert again.status_code == 400 and "已过期" in again.text
    exported = client.get("/bodies/1/roster.xlsx")
    assert exported.status_code == 200 and exported.content[:2] == b"PK"
    refused = client.post(
        "/bodies/1/deputies/1",
        data={"csrf": csrf, "name": "", "group": "城东代表小组", "phone": "12", "notes": ""},
    )
    assert (
        refused.status_code == 400 and "姓名不能为空" in refused.text and "不是有效的手机号" in refused.text
    )
    saved = client.post(
        "/bodies/1/deputies/1",
        data={"csrf": csrf, "name": "王建国", "group": "城西代表小组", "phone": "13900001111", "notes": "改"},
    )
    assert saved.status_code == 303
    assert "已保存" in client.get(saved.headers["location"]).text


async def test_tab_separated_text_and_a_renamed_card_is_pointed_out(engine: AsyncEngine) -> None:
    data = "姓名\t代表小组\t卡号\n李四\t城东代表小组\t1001\n".encode("gb18030")
    plan = await run(engine, data, "名册.txt", dry_run=True)
    assert plan.errors == [] and [(r.row, r.card_no, old) for r, old in plan.renamed] == [
        (2, "1001", "王建国")
    ]


def test_officials_upload_and_edit_in_the_browser_pages(client: Any) -> None:
    csrf = login(client)
    data = "姓名,职务,单位\n新官,局长,县交通运输局\n,科长,\n".encode()
    reply = client.post("/bodies/1/officials/preview", files={"file": ("o.csv", data)}, data={"csrf": csrf})
    assert "第 3 行" in reply.text and "姓名不能为空" in reply.text and "确认导入" not in reply.text
    good = "姓名,职务,单位\n新官,局长,县交通运输局\n".encode()
    reply = client.post("/bodies/1/officials/preview", files={"file": ("o.csv", good)}, data={"csrf": csrf})
    token = re.search(r'name="token" value="([^"]+)"', reply.text)
    assert token and "/officials/confirm" in reply.text
    # a token for officials does not confirm a roster import
    wrong = client.post("/bodies/1/roster/confirm", data={"csrf": csrf, "token": token.group(1)})
    assert wrong.status_code == 400
    done = client.post("/bodies/1/officials/confirm", data={"csrf": csrf, "token": token.group(1)})
    assert "导入完成：新增 1 人，更新 0 人" in done.text
    assert "县交通运输局" in client.get("/bodies/1/roster").text
    refused = client.post(
        "/bodies/1/officials/1", data={"csrf": csrf, "name": "沈立群", "title": "", "organisation": ""}
    )
    assert refused.status_code == 400 and "职务不能为空" in refused.text
    saved = client.post(
        "/bodies/1/officials/1",
        data={"csrf": csrf, "name": "沈立群", "title": "镇长", "organisation": "镇政府"},
    )
    assert saved.status_code == 303 and "镇政府" in client.get("/bodies/1/roster").text


# -- the file's own words: its headers in errors, its other columns named as ignored -------

OFFICE_HEADER = "序号,姓名,性别,代表团,代表证号,联系电话,工作单位及职务,,备注\n"


async def test_row_errors_name_the_files_own_headers(engine: AsyncEngine) -> None:
    rows = [
        "1,,男,城东代表小组,2001,,某单位,,",  # row 2: no name
        "2,钱七,女,城东代表小组,,,某单位,,",  # row 3: no card number
        "3,孙八,男,城东代表小组,2003,12345,某单位,,",  # row 4: phone
        "4,周九,男,火星代表小组,2004,,某单位,,",  # row 5: unknown group
        "5,吴十,男,城东代表小组,2003,,某单位,,",  # row 6: card of row 4
        "6,郑一,男,,2006,,某单位,,",  # row 7: no group
    ]
    plan = await run(engine, (OFFICE_HEADER + "\n".join(rows) + "\n").encode())
    found = [(e.row, e.field, e.field_label) for e in plan.errors]
    assert found == [
        (2, "name", "姓名"),
        (3, "card_no", "代表证号"),
        (4, "phone", "联系电话"),
        (5, "group", "代表团"),
        (6, "card_no", "代表证号"),
        (7, "group", "代表团"),
    ]
    texts = [e.text() for e in plan.errors]
    assert "第 3 行「代表证号」：代表证号不能为空" in texts
    assert "第 6 行「代表证号」：代表证号 2003 与第 4 行重复" in texts
    assert "第 7 行「代表团」：代表团不能为空" in texts
    assert any(t.startswith("第 5 行「代表团」：没有“火星代表小组”这个小组") for t in texts)
    assert not any("卡号" in t or "「手机」" in t or "代表小组不能" in t for t in texts)


def test_the_columns_no_field_reads_are_listed_in_the_files_order() -> None:
    data = OFFICE_HEADER + "1,钱七,女,城东代表小组,2001,,某单位,多出的内容,\n"
    parsed = imports.read_roster(data.encode(), "r.csv")
    assert parsed.columns.ignored == ("序号", "性别", "工作单位及职务", "第 8 列（无表头）")
    assert parsed.columns.headers == {
        "name": "姓名",
        "group": "代表团",
        "card_no": "代表证号",
        "phone": "联系电话",
        "notes": "备注",
    }
    twice = imports.read_roster("姓名,代表小组,卡号,手机,电话\n钱七,城东代表小组,2001,,\n".encode(), "r.csv")
    assert twice.columns.ignored == ("电话",)  # a second phone column: only the first is read
    clean = imports.read_roster(GOOD.encode(), "r.csv")
    assert clean.columns.ignored == ()
    officials = imports.read_officials(
        "序号,姓名,职务,工作单位,性别\n1,王五,局长,某局,男\n".encode(), "o.csv"
    )
    assert officials.columns.ignored == ("序号", "性别")


def test_the_preview_names_the_ignored_columns(client: Any) -> None:
    csrf = login(client)
    good = OFFICE_HEADER + "1,赵六,男,城东代表小组,2001,13812345678,某单位,,\n"
    reply = client.post(
        "/bodies/1/roster/preview", files={"file": ("r.csv", good.encode())}, data={"csrf": csrf}
    )
    assert reply.status_code == 200 and "新增 1 人" in reply.text
    assert "<th>代表证号</th><th>姓名</th><th>代表团</th><th>联系电话</th><th>备注</th>" in reply.text
    ignored = reply.text.split('id="r-ignored"')[1].split("</div>")[0]
    assert "以下 3 列不会导入" in ignored
    assert [h for h in ("序号", "性别", "工作单位及职务") if f"<li>{h}</li>" in ignored] == [
        "序号",
        "性别",
        "工作单位及职务",
    ]
    bad = OFFICE_HEADER + "1,赵六,男,城东代表小组,,,某单位,,\n"
    refused = client.post(
        "/bodies/1/roster/preview", files={"file": ("r.csv", bad.encode())}, data={"csrf": csrf}
    )
    assert refused.status_code == 400 and 'id="r-ignored"' in refused.text
    assert "<td>代表证号</td><td>代表证号不能为空</td>" in refused.text
    assert (
        client.post(
            "/bodies/1/roster/preview", files={"file": ("r.csv", GOOD.encode())}, data={"csrf": csrf}
        ).text.count('id="r-ignored"')
        == 0
    )
