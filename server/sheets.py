"""Spreadsheets in: a CSV (UTF-8, UTF-8 with BOM, GB18030, tab-separated) or an XLSX file
becomes a :class:`Sheet` of text cells, numbered as the spreadsheet shows them.

A problem with the whole file (too big, empty, an old .xls, an unknown encoding, a
broken XLSX) raises :class:`ImportRefused` with a Chinese message; checking the rows is
:mod:`server.imports`' work.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


class ImportRefused(Exception):
    """The whole file is refused; ``message`` is Chinese and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # card numbers and phones typed as numbers in Excel
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportRefused(
            "无法识别文件编码：请另存为 UTF-8 或 GB18030 编码的 CSV，或 Excel 文件。"
        ) from None


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    # "文本文件（制表符分隔）" as Excel and WPS save it: tabs, no commas in the header.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [[c.strip() for c in row] for row in reader]
    except csv.Error:
        raise ImportRefused(
            f"CSV 文件格式有误（第 {reader.line_num} 行附近，可能是引号不成对或单元格过长），"
            "请在 Excel 或 WPS 中重新另存为 CSV。"
        ) from None


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # no stubs in the project

    try:
        # Formulas are read as formulas (not their cached values) so they can be refused.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        raise ImportRefused("无法读取该 Excel 文件：请确认是 .xlsx 格式（不支持旧的 .xls）。") from None
    try:
        sheet = book.worksheets[0]
        out = []
        for values in sheet.iter_rows(values_only=True):
            out.append([_cell_text(v) for v in values])
            if len(out) > MAX_ROWS + 1:
                break
        return out
    except Exception:
        raise ImportRefused("该 Excel 文件已损坏或无法读取，请在 Excel 或 WPS 中重新保存后再试。") from None
    finally:
        book.close()


def read_sheet(data: bytes, filename: str) -> Sheet:
    """The file's first sheet as text cells; raises ImportRefused for the whole file."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"文件太大：最大 {MAX_BYTES // (1024 * 1024)} MB。")
    if not data.strip():
        raise ImportRefused("文件是空的。")
    is_xlsx = data[:4] == b"PK\x03\x04"
    if data[:4] == b"\xd0\xcf\x11\xe0" or (filename.lower().endswith(".xls") and not is_xlsx):
        raise ImportRefused("不支持旧的 .xls 格式：请在 Excel 或 WPS 中另存为 .xlsx 或 CSV。")
    table = _read_xlsx(data) if is_xlsx else _read_csv(data)
    numbered = [(n, row) for n, row in enumerate(table, start=1) if any(c.strip() for c in row)]
    if not numbered:
        raise ImportRefused("文件中没有内容。")
    (_, headers), body = numbered[0], numbered[1:]
    if len(body) > MAX_ROWS:
        raise ImportRefused(f"行数太多：最多 {MAX_ROWS} 行。")
    return Sheet([re.sub(r"[\s\u3000\ufeff*＊]", "", h) for h in headers], body)
