"""A file's columns: which field each header names (aliases included), what no field
reads, and a row's errors under the header the file gave the column.

An office's file says 代表团 for the group, 代表证号 for the card number, 联系电话 for
the phone, and has 序号, 性别, 工作单位及职务 besides; an error names the column as the
file does, and the preview lists the columns that are not imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from server.office.sheets import ImportRefused, Sheet

R = TypeVar("R")

FIELD_LABELS = {
    "name": "姓名",
    "group": "代表小组",
    "card_no": "卡号",
    "phone": "手机",
    "notes": "备注",
    "short_code": "验证码",
    "title": "职务",
    "organisation": "单位",
}


@dataclass(frozen=True)
class RowError:
    row: int
    field: str  # a key of FIELD_LABELS
    message: str
    header: str = ""  # the column's header in the file (代表证号, 联系电话 …), if it has one

    @property
    def field_label(self) -> str:
        """The column as the office's file names it, else the field's usual name."""
        return self.header or FIELD_LABELS.get(self.field, self.field)

    def text(self) -> str:
        return f"第 {self.row} 行「{self.field_label}」：{self.message}"


@dataclass(frozen=True)
class Columns:
    """Where the file keeps each field, under which header, and what no field reads."""

    index: dict[str, int]  # field key -> column
    headers: dict[str, str]  # field key -> the file's own header (an alias: 代表证号, 联系电话)
    ignored: tuple[str, ...] = ()  # the other columns, as the file heads them (序号, 性别 …)

    def label(self, key: str) -> str:
        return self.headers.get(key) or FIELD_LABELS.get(key, key)


def find_columns(sheet: Sheet, spec: dict[str, tuple[str, ...]], required: Iterable[str]) -> Columns:
    found: dict[str, int] = {}
    for key, names in spec.items():
        for i, header in enumerate(sheet.headers):
            if header in names and key not in found:
                found[key] = i
    missing = [spec[k][0] for k in required if k not in found]
    if missing:
        wanted = "、".join(f"「{spec[k][0]}」" for k in required)
        raise ImportRefused(f"第一行缺少列：{'、'.join(missing)}。表头必须包含 {wanted}。")
    used = set(found.values())
    ignored = []
    for i, header in enumerate(sheet.headers):
        if i in used:
            continue
        if header:
            ignored.append(header)  # a second 电话 column too: only the first is read
        elif any(i < len(row) and row[i].strip() for _, row in sheet.rows):
            ignored.append(f"第 {i + 1} 列（无表头）")
    return Columns(found, {k: sheet.headers[i] for k, i in found.items()}, tuple(ignored))


def row_cells(sheet: Sheet, cols: Columns) -> Iterable[tuple[int, dict[str, str]]]:
    for number, row in sheet.rows:
        yield number, {k: (row[i].strip() if i < len(row) else "") for k, i in cols.index.items()}


def named_errors(errors: list[RowError], cols: Columns) -> list[RowError]:
    """Each error under the header its column has in the file."""
    return [replace(e, header=e.header or cols.label(e.field)) for e in errors]


def usual_label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


@dataclass(frozen=True)
class Parsed(Generic[R]):
    """A file read and its rows checked on their own: what the database is asked about next."""

    rows: list[R]
    errors: list[RowError]
    columns: Columns
