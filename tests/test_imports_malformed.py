"""Malformed imports are refused in Chinese and leave nothing behind (server/office/sheets.py).

Every refused file goes three ways: the staff page's upload (the preview: a 4xx answer
with the message on it and no "确认导入"), the confirmation (an upload kept from a good
preview whose bytes were then replaced: the confirmation reads the file again, so it is
refused the same way, and forgotten), and ``wenzheng roster|officials import`` (exit 1,
the message on stderr, no traceback). After each, the bodies, groups, deputies, officials
and audit tables hold exactly the rows they held before, and the upload store is empty.
"""

from __future__ import annotations

import asyncio
import html
import io
import json
import random
import re
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from openpyxl.worksheet.formula import ArrayFormula
from sqlalchemy import select

from server import cli
from server.base.settings import Settings
from server.office import sheets
from server.office.demo import BODY
from server.storage import models as m
from tests.conftest import WENZHENG, TestClient, plain_engine, server_env  # type: ignore[attr-defined]
from tests.test_imports import GOOD, HEADER, login, xlsx

ROW = "张三,城东代表小组,2001,,\n"
OFFICIALS_GOOD = "姓名,职务,单位\n新官,局长,县交通运输局\n".encode()
SAVE_AGAIN = "另存为 .xlsx，或另存为 UTF-8 编码的 CSV"


@dataclass(frozen=True)
class Case:
    label: str
    filename: str
    data: bytes
    expect: str  # a regular expression the Chinese message matches


# -- files ------------------------------------------------------------------------------


def zip_of(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return out.getvalue()


def repack(book: bytes, parts: dict[str, bytes]) -> bytes:
    """The workbook with some of its parts replaced or added."""
    with zipfile.ZipFile(io.BytesIO(book)) as package:
        kept = {name: package.read(name) for name in package.namelist()}
    return zip_of({**kept, **parts})


def part(book: bytes, name: str = "xl/worksheets/sheet1.xml") -> str:
    with zipfile.ZipFile(io.BytesIO(book)) as package:
        return package.read(name).decode()


def compound_file(streams: list[str]) -> bytes:
    """A minimal OLE compound file (CFB version 3) holding empty streams: an old .xls is
    one with a "Workbook" stream, an encrypted .xlsx one with "EncryptedPackage"."""
    free, end = 0xFFFFFFFF, 0xFFFFFFFE
    header = struct.pack(
        "<8s16sHHHHH6s9I", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"", 0x3E, 3, 0xFFFE, 9, 6, b"",
        *(0, 1, 1, 0, 4096, end, 0, end, 0),
    )  # fmt: skip
    header += struct.pack("<109I", 0, *[free] * 108)  # the FAT is sector 0
    fat = struct.pack("<128I", 0xFFFFFFFD, end, *[free] * 126)  # the directory is sector 1

    def entry(name: str, kind: int, child: int = free, right: int = free) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return struct.pack(
            "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, free, right, child, b"", 0, 0, 0, end, 0
        )

    last = len(streams) - 1
    entries = [entry("Root Entry", 5, child=1)]
    entries += [entry(name, 2, right=i + 2 if i < last else free) for i, name in enumerate(streams)]
    return header + fat + b"".join(entries).ljust(512, b"\0")


def two_rows() -> bytes:
    return xlsx([["姓名", "代表小组", "卡号"], ["张三", "城东代表小组", "2001"]])


@cache
def hundred_thousand_rows() -> tuple[bytes, bytes]:
    """A real 100,000-row roster as CSV and as XLSX, built once for the module (the sheet's
    XML is written here, with inline strings as openpyxl writes them, in a fraction of the
    time openpyxl takes)."""
    rows = [(f"某{i}", "城东代表小组", str(100_000 + i)) for i in range(100_000)]
    csv = ("姓名,代表小组,卡号\n" + "".join(",".join(r) + "\n" for r in rows)).encode()
    cells = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{a}</t></is></c><c r="B{n}" t="inlineStr">'
        f'<is><t>{b}</t></is></c><c r="C{n}" t="inlineStr"><is><t>{c}</t></is></c></row>'
        for n, (a, b, c) in enumerate(rows, start=2)
    )
    xml = part(two_rows())
    header = xml[: xml.index("</row>") + len("</row>")]  # the sheet up to its first row
    xml = header.replace('"A1:C2"', '"A1:C100001"') + cells + xml[xml.index("</sheetData>") :]
    return csv, repack(two_rows(), {"xl/worksheets/sheet1.xml": xml.encode()})


# -- what is checked after each refusal -------------------------------------------------


def snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an import could touch, in id order."""

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = plain_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                out = {}
                for table in (m.bodies, m.groups, m.deputies, m.officials, m.audit):
                    rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
                    out[table.name] = [tuple(r) for r in rows]
                await conn.rollback()
            return out
        finally:
            await engine.dispose()

    return asyncio.run(read())


def uploads(settings: Settings) -> list[str]:
    folder = settings.data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@contextmanager
def measured(label: str) -> Iterator[None]:
    """Prints the block's wall time and how far the process's peak RSS rose above the RSS
    it started at (Linux: VmHWM, reset first through /proc/self/clear_refs)."""

    def status(key: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    start, began = status("VmRSS"), time.perf_counter()
    yield
    took, peak = time.perf_counter() - began, status("VmHWM") - start
    print(f"\n{label}: {took:.2f} s, peak RSS +{peak / 1024:.0f} MB")


# Linux carries a process's peak RSS across fork and exec, so a child of pytest would
# report pytest's own; a small Python in between reports the command's (its child's).
PEAK_OF_CHILD = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)"
)


def wenzheng_measured(settings: Settings, *args: str) -> tuple[int, str, float, float]:
    """`wenzheng …` as the operator runs it: exit code, stderr, wall time in seconds and
    the command's peak RSS in MB."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_OF_CHILD, str(WENZHENG), *args],
        env=server_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.perf_counter() - began
    err, _, peak = done.stderr.rstrip("\n").rpartition("\n")
    return done.returncode, err + "\n", took, int(peak) / 1024


class Refusals:
    """One logged-in client; each case is refused by the pages and the command line."""

    def __init__(self, client: TestClient, settings: Settings, tmp_path: Path, capsys: Any) -> None:
        self.client, self.settings, self.tmp_path, self.capsys = client, settings, tmp_path, capsys
        self.csrf = login(client)
        self.before = snapshot(settings)

    def page(self, kind: str, case: Case) -> str:
        files = {"file": (case.filename, case.data)}
        reply = self.client.post(f"/bodies/1/{kind}/preview", files=files, data={"csrf": self.csrf})
        assert 400 <= reply.status_code < 500, (case.label, reply.status_code)
        assert re.search(case.expect, html.unescape(reply.text)), (case.label, reply.text[-1500:])
        assert "确认导入" not in reply.text and 'name="token"' not in reply.text, case.label
        return str(reply.text)

    def confirmation(self, kind: str, case: Case) -> None:
        good = OFFICIALS_GOOD if kind == "officials" else GOOD.encode()
        files = {"file": ("good.csv", good)}
        reply = self.client.post(f"/bodies/1/{kind}/preview", files=files, data={"csrf": self.csrf})
        found = re.search(r'name="token" value="([^"]+)"', reply.text)
        assert found, reply.text
        kept = self.settings.data_dir / "uploads" / found.group(1)
        kept.with_suffix(".bin").write_bytes(case.data)
        meta = json.loads(kept.with_suffix(".json").read_text())
        kept.with_suffix(".json").write_text(json.dumps({**meta, "filename": case.filename}))
        done = self.client.post(
            f"/bodies/1/{kind}/confirm", data={"csrf": self.csrf, "token": found.group(1)}
        )
        assert 400 <= done.status_code < 500, (case.label, done.status_code)
        assert re.search(case.expect, html.unescape(done.text)), (case.label, done.text[-1500:])
        assert "导入完成" not in done.text

    def command(self, kind: str, case: Case) -> str:
        path = self.tmp_path / case.filename
        path.write_bytes(case.data)
        earlier = self.capsys.readouterr().out  # this test's own prints, given back below
        code = cli.main([kind, "import", str(path), "--body", BODY])
        out = self.capsys.readouterr()
        print(earlier, end="")
        assert code == 1 and out.out == "", (case.label, out)
        assert re.search(case.expect, out.err) and "Traceback" not in out.err, (case.label, out.err)
        return str(out.err)

    def everywhere(self, cases: list[Case]) -> None:
        """Each case by the three ways for a roster, and (the same reading of the file)
        by the page and the command line for officials."""
        for case in cases:
            for kind in ("roster", "officials"):
                self.page(kind, case)
                if kind == "roster":
                    self.confirmation(kind, case)
                self.command(kind, case)
                assert snapshot(self.settings) == self.before, case.label
                assert uploads(self.settings) == [], case.label


@pytest.fixture
def refusals(client: TestClient, settings: Settings, tmp_path: Path, capsys: Any) -> Refusals:
    return Refusals(client, settings, tmp_path, capsys)


# -- 1. encodings -----------------------------------------------------------------------


def test_text_in_no_supported_encoding_is_refused_not_imported_as_mojibake(refusals: Refusals) -> None:
    noise = random.Random(7).randbytes(4096)
    gbk_header = HEADER.encode("gb18030")
    group = "城东代表小组".encode("gb18030")
    utf8_rows = (HEADER + ROW).encode()
    unreadable = "无法识别文件编码.*" + SAVE_AGAIN
    odd = "有无法识别的字符，文件可能不是 UTF-8 或 GBK 编码.*" + SAVE_AGAIN
    mixed = "混用了两种编码（第 {} 行是 UTF-8，第 {} 行是 GBK 或其他编码）.*" + SAVE_AGAIN
    cases = [
        Case("random bytes", "r.csv", noise, unreadable),
        Case("a PNG renamed .csv", "名册.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + noise, "非文字内容"),
        Case("UTF-16 without a BOM", "r.csv", (HEADER + ROW).encode("utf-16-le"), "UTF-16"),
        Case("UTF-16 with a BOM", "r.txt", (HEADER + ROW).encode("utf-16"), "UTF-16"),
        # Latin-1 names pasted under a GBK header: "Müller" reads as GB18030 "M黮ler"
        Case("Latin-1 under GBK", "r.csv", gbk_header + b"M\xfcller," + group + b",2001,,\n", odd),
        Case("Latin-1 under UTF-8", "r.csv", utf8_rows + b"Ren\xe9e,x,2002,,\n", mixed.format(1, 3)),
        Case(
            "GBK, then UTF-8", "r.csv", gbk_header + ROW.encode("gb18030") + ROW.encode(), mixed.format(3, 1)
        ),
        Case("Big5", "r.csv", "姓名,代表小組,卡號\n張三,城東代表小組,2001\n".encode("big5"), "无法识别"),
        Case("Shift-JIS", "r.csv", "姓名,代表小組,番号\n山田太郎,東京,1\n".encode("shift_jis"), unreadable),
        Case("UTF-8 cut inside a character", "r.csv", (HEADER + ROW).encode()[:-12], "文件不完整"),
    ]
    refusals.everywhere(cases)


# -- 2. broken workbooks ----------------------------------------------------------------


def test_broken_workbooks_are_refused(refusals: Refusals) -> None:
    book = two_rows()
    xml = part(book)
    shared = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{shared}"/>'
    types = part(book, "[Content_Types].xml").replace("</Types>", override + "</Types>")
    huge = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
    huge += b"x" * sheets.MAX_UNPACKED + b"</t></si></sst>"
    entities = '<!ENTITY a0 "xxxxxxxxxx">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 9)
    )
    laughs = f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>' + xml.replace(
        "&#24352;&#19977;", "&a8;"
    )
    far = '<row r="999999999"><c r="A999999999" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    cases = [
        Case("the first half of an .xlsx", "r.xlsx", book[: len(book) // 2], "文件不完整或已损坏"),
        Case("a zip that is not a workbook", "r.xlsx", zip_of({"readme.txt": b"hello"}), "不是 Excel 表格"),
        Case(
            "a Word document renamed .xlsx",
            "r.xlsx",
            zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
            "不是 Excel 表格",
        ),
        Case("a workbook without rows", "r.xlsx", xlsx([]), "文件中没有内容"),
        Case(
            "a password-protected workbook",
            "名册.xlsx",
            compound_file(["EncryptionInfo", "EncryptedPackage"]),
            "设置了打开密码",
        ),
        Case("an old .xls", "名册.xls", compound_file(["Workbook"]), "不支持旧的 .xls"),
        Case("CSV text named .xlsx", "名册.xlsx", (HEADER + ROW).encode(), "内容不是 Excel 文件"),
        Case(
            "a sheet whose XML is cut off",
            "r.xlsx",
            repack(book, {"xl/worksheets/sheet1.xml": xml[: len(xml) // 2].encode()}),
            "无法读取该 Excel 文件|已损坏",
        ),
        Case(
            "an entity expansion",
            "r.xlsx",
            repack(book, {"xl/worksheets/sheet1.xml": laughs.encode()}),
            "已损坏",
        ),
        Case(
            "50 MB of shared strings",
            "r.xlsx",
            repack(
                book,
                {
                    "[Content_Types].xml": types.encode(),
                    "xl/sharedStrings.xml": huge,
                },
            ),
            f"解压后超过 {sheets.MAX_UNPACKED // (1024 * 1024)} MB",
        ),
        Case(
            "a row past Excel's last row",
            "r.xlsx",
            repack(book, {"xl/worksheets/sheet1.xml": xml.replace("</sheetData>", far).encode()}),
            "连同空行超过 1048576 行",
        ),
    ]
    refusals.everywhere(cases)


# -- 3. formulas ------------------------------------------------------------------------


def test_formulas_and_csv_injection_are_refused_naming_row_and_column(refusals: Refusals) -> None:
    text = HEADER + "".join(
        [
            "=1+1,城东代表小组,2001,,\n",  # row 2: the name
            "钱七,城东代表小组,+2002,,\n",  # row 3: the card number
            "孙八,城东代表小组,2003,-1+13812345678,\n",  # row 4: the phone
            "周九,城东代表小组,2004,+86 138 1234 5678,@SUM(A1)\n",  # row 5: the notes; the phone is one
            "吴十,城东代表小组,2005,,-\n",  # row 6: a lone dash is text
        ]
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "代表小组", "卡号", "手机"])
    sheet.append(["=A1&A1", "城东代表小组", 2001])
    sheet.append(["钱七", "城东代表小组", None])
    sheet["C3"] = ArrayFormula("C3:C3", "=SUM(1,2)")  # read back as an object, not as text
    sheet.append(["孙八", "城东代表小组", 2003, '=HYPERLINK("http://example.com","13812345678")'])
    sheet.append(["吴十", "城东代表小组", 2005, "+8613812345678"])
    out = io.BytesIO()
    book.save(out)
    wrong = [(2, "姓名"), (3, "卡号"), (4, "手机"), (5, "备注")]
    for case, errors in (
        (Case("CSV injection", "r.csv", text.encode(), "不接受公式"), wrong),
        (Case("formula cells", "r.xlsx", out.getvalue(), "不接受公式"), wrong[:3]),
    ):
        page = re.sub(r"<[^>]+>", " ", html.unescape(refusals.page("roster", case)))
        err = refusals.command("roster", case)
        for n, label in errors:
            assert re.search(rf"第 {n} 行\s+{label}\s+不接受公式（以 =、\+、-、@ 开头的内容）", page), page
            assert f"第 {n} 行「{label}」：不接受公式" in err, err
        assert len(re.findall("不接受公式", page)) == len(errors) == len(re.findall("不接受公式", err))
        assert f"共 {len(errors)} 处错误，未导入任何数据" in err
        refusals.confirmation("roster", case)
        assert snapshot(refusals.settings) == refusals.before and uploads(refusals.settings) == []


# -- 4. 100,000 rows --------------------------------------------------------------------


def test_a_100000_row_file_is_refused_at_the_row_limit(refusals: Refusals) -> None:
    """Through the page here; through the command, measured, in the last test."""
    csv, book = hundred_thousand_rows()
    limit = f"行数太多：最多 {sheets.MAX_ROWS} 行（不含表头）"
    print(f"\n100,000 rows: CSV {len(csv) / 1e6:.1f} MB, XLSX {len(book) / 1e6:.1f} MB")
    tracemalloc.start()
    began = time.perf_counter()
    with pytest.raises(sheets.ImportRefused, match=limit):
        sheets.read_sheet(csv, "十万行.csv")
    took, peak = time.perf_counter() - began, tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"read_sheet refusing the CSV, under tracemalloc: {took:.2f} s, peak {peak / 1e6:.0f} MB allocated")
    for filename, data in (("十万行.csv", csv), ("十万行.xlsx", book)):
        with measured(f"the staff page refusing {filename}"):
            refusals.page("roster", Case(filename, filename, data, limit))
    refusals.confirmation("roster", Case("十万行.csv", "十万行.csv", csv, limit))
    assert snapshot(refusals.settings) == refusals.before and uploads(refusals.settings) == []


# -- zip bombs that are bounded, not refused ---------------------------------------------


def test_a_declared_huge_sheet_is_read_as_it_is() -> None:
    """A dimension of A1:XFD1048576 no longer pads every row to 16,384 cells (2,000 rows
    took 2.6 s and 290 MB that way), a cell in column XFD is cut at MAX_COLUMNS, and a
    data row after a long run of blank rows is read, not dropped."""
    book = two_rows()
    xml = part(book)
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>某{n}</t></is></c><c r="B{n}" t="inlineStr">'
        f'<is><t>城东代表小组</t></is></c><c r="C{n}"><v>{n}</v></c></row>'
        for n in range(3, 2003)
    )
    wide = '<c r="XFD1" t="inlineStr"><is><t>多余</t></is></c></row>'
    late = '<row r="40000"><c r="A40000" t="inlineStr"><is><t>末行</t></is></c></row>'
    huge = re.sub(r'<dimension ref="[^"]+"/>', '<dimension ref="A1:XFD1048576"/>', xml)
    huge = huge.replace("</row>", wide, 1).replace("</sheetData>", rows + late + "</sheetData>")
    with measured("a 2,000-row sheet declaring A1:XFD1048576"):
        sheet = sheets.read_sheet(repack(book, {"xl/worksheets/sheet1.xml": huge.encode()}), "r.xlsx")
    assert sheet.headers[:3] == ["姓名", "代表小组", "卡号"] and len(sheet.headers) == sheets.MAX_COLUMNS
    assert len(sheet.rows) == 2002 and max(len(cells) for _, cells in sheet.rows) == 3
    assert sheet.rows[1] == (3, ["某3", "城东代表小组", "3"]) and sheet.rows[-1] == (40000, ["末行"])


# -- the command itself ------------------------------------------------------------------


def test_the_wenzheng_command_refuses_without_a_traceback(
    settings: Settings, meeting_id: int, tmp_path: Path
) -> None:
    """The command as a process: one line on stderr, exit 1; and what refusing 100,000
    rows costs it, beside what refusing a small file does."""
    before = snapshot(settings)
    csv, book = hundred_thousand_rows()
    limit = f"行数太多：最多 {sheets.MAX_ROWS} 行（不含表头）"
    files = [
        ("名册.csv", b"\x89PNG\r\n\x1a\n" + random.Random(3).randbytes(2048), "officials", "无法识别"),
        ("名册.xlsx", two_rows()[:300], "roster", "文件不完整或已损坏"),
        ("十万行.csv", csv, "roster", limit),
        ("十万行.xlsx", book, "roster", limit),
    ]
    for filename, data, kind, expect in files:
        path = tmp_path / filename
        path.write_bytes(data)
        code, err, took, peak = wenzheng_measured(settings, kind, "import", str(path), "--body", BODY)
        assert code == 1 and err.startswith("错误：") and expect in err, err
        assert "Traceback" not in err and len(err.splitlines()) == 1, err
        print(f"\nwenzheng {kind} import, {filename} ({len(data):,} B): {took:.2f} s, peak RSS {peak:.0f} MB")
    assert snapshot(settings) == before
