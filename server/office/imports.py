"""Rosters and officials in and out: CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX.

Theory of operation. A file becomes a :class:`Sheet` (header plus numbered rows: the row
number is the one Excel shows, the header being row 1); a file-level problem (too big,
unreadable, a required column missing) raises :class:`ImportRefused` with a Chinese
message. Columns are found by their Chinese header, in any order; other columns are
ignored. Every row is then checked and every problem becomes a :class:`RowError` naming
the row and the field, so the office fixes the whole file at once.

Writing is all or nothing: :func:`import_roster` plans inside the caller's transaction
and writes only when the plan has no error (and the caller did not ask for a dry run).
A card number already in the body updates that deputy; a new one inserts a deputy with a
random four-digit short code and card version 1. Groups are configured before the
roster: an unknown group is an error unless the caller allows creating new groups.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office.columns import (
    FIELD_LABELS,
    Columns,
    Parsed,
    RowError,
    find_columns,
    named_errors,
    row_cells,
    usual_label,
)
from server.office.sheets import MAX_BYTES, ImportRefused, Sheet, is_formula, read_sheet
from server.storage import models as m

__all__ = [  # callers use imports.*
    "FIELD_LABELS",
    "MAX_BYTES",
    "Columns",
    "ImportRefused",
    "Parsed",
    "RowError",
    "Sheet",
    "read_sheet",
]

MAX_NOTES = 500
MAX_ERRORS_SHOWN = 200

# field key -> accepted header names (first one is what the export writes)
ROSTER_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "group": ("代表小组", "代表团", "小组"),
    "card_no": ("卡号", "代表证号"),
    "phone": ("手机", "电话", "手机号码", "联系电话"),
    "notes": ("备注",),
    "short_code": ("验证码",),
}
ROSTER_REQUIRED = ("name", "group", "card_no")
OFFICIAL_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "title": ("职务",),
    "organisation": ("单位", "工作单位"),
}
OFFICIAL_REQUIRED = ("name", "title")
EXPORT_COLUMNS = ("name", "group", "card_no", "phone", "notes")
MAX_LEN = {
    "name": 64,
    "group": 64,
    "card_no": 32,
    "phone": 32,
    "notes": MAX_NOTES,
    "title": 128,
    "organisation": 128,
    "short_code": 16,
}

MOBILE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(?:-\d{1,6})?")
CARD_NO = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]*")
# A card's short code: 8 digits, typed on a numeric keypad (letters are hard for elderly
# deputies on a pinyin keyboard); with the guards of server/storage/guards.py a guess is hopeless.
SHORT_CODE_DIGITS = 8
SHORT_CODE = re.compile(f"[0-9]{{{SHORT_CODE_DIGITS}}}")
CJK_AND_SPACES = re.compile(r"[\u3400-\u9fff\s\u3000]+")


@dataclass(frozen=True)
class DeputyRow:
    row: int
    name: str
    group: str
    card_no: str
    phone: str
    notes: str
    short_code: str  # "" when the file has none
    valid: bool = True  # False: the row has errors of its own (its group is still checked)


@dataclass(frozen=True)
class MissingMember:
    """A current member the file does not list (名册中未出现): kept unless staff end the
    mandate; an import never deletes."""

    deputy_id: int
    name: str
    group: str
    card_no: str
    starts_on: dt.date  # of the open mandate


@dataclass
class RosterPlan:
    """What an import would do; written only when ``errors`` is empty."""

    inserts: list[DeputyRow] = field(default_factory=list)
    updates: list[tuple[int, DeputyRow]] = field(default_factory=list)  # (deputy id, row)
    renamed: list[tuple[DeputyRow, str]] = field(default_factory=list)  # (row, name now) for a check
    new_groups: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    missing: list[MissingMember] = field(default_factory=list)  # 名册中未出现
    ended: list[int] = field(default_factory=list)  # deputy ids whose mandate the import ended
    starts_on: dt.date | None = None  # the new members' mandates start (set when written)
    written: bool = False
    ignored: tuple[str, ...] = ()  # the file's columns that are not imported (序号, 性别 …)
    headers: dict[str, str] = field(default_factory=dict)  # field key -> the file's header

    def label(self, key: str) -> str:
        """A column as the file heads it (代表证号), for the preview's tables."""
        return self.headers.get(key) or FIELD_LABELS.get(key, key)

    def summary(self) -> str:
        text = f"新增 {len(self.inserts)} 人，更新 {len(self.updates)} 人"
        if self.new_groups:
            text += f"，新建小组 {len(self.new_groups)} 个（{'、'.join(self.new_groups)}）"
        if self.missing:
            text += f"，名册中未出现 {len(self.missing)} 人"
            if self.written:
                kept = len(self.missing) - len(self.ended)
                text += f"（保留 {kept} 人，终止代表资格 {len(self.ended)} 人）"
        return text

    @property
    def kept(self) -> list[MissingMember]:
        return [x for x in self.missing if x.deputy_id not in self.ended]


@dataclass(frozen=True)
class OfficialRow:
    row: int
    name: str
    title: str
    organisation: str


@dataclass
class OfficialsPlan:
    inserts: list[OfficialRow] = field(default_factory=list)
    updates: list[tuple[int, OfficialRow]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    ignored: tuple[str, ...] = ()  # the file's columns that are not imported
    headers: dict[str, str] = field(default_factory=dict)  # field key -> the file's header

    def label(self, key: str) -> str:
        """A column as the file heads it (代表证号), for the preview's tables."""
        return self.headers.get(key) or FIELD_LABELS.get(key, key)

    def summary(self) -> str:
        return f"新增 {len(self.inserts)} 人，更新 {len(self.updates)} 人"


def _common_checks(number: int, cells: dict[str, str], errors: list[RowError]) -> None:
    """Formulas (and text Excel would take for one: a phone "+86…" is a phone) and length."""
    for key, value in cells.items():
        if is_formula(value) and not (key == "phone" and valid_phone(clean_phone(value))):
            errors.append(RowError(number, key, "不接受公式（以 =、+、-、@ 开头的内容），请填写文字"))
        elif len(value) > MAX_LEN.get(key, 64):
            errors.append(RowError(number, key, f"太长（最多 {MAX_LEN.get(key, 64)} 个字）"))


def clean_name(name: str) -> str:
    """Names padded for alignment ("王　芳") lose the padding; other names keep single spaces."""
    name = name.strip()
    if CJK_AND_SPACES.fullmatch(name):
        return re.sub(r"[\s\u3000]+", "", name)
    return re.sub(r"\s+", " ", name)


def clean_phone(phone: str) -> str:
    return re.sub(r"[\s\u3000]+", "", phone).replace("—", "-").replace("－", "-")


def valid_phone(phone: str) -> bool:
    return bool(MOBILE.fullmatch(phone) or LANDLINE.fullmatch(phone))


def check_deputy(
    number: int, cells: dict[str, str], errors: list[RowError], label: Callable[[str], str] = usual_label
) -> DeputyRow:
    """One row's own checks (no database): the fields cleaned; errors are appended.
    ``label`` names a field in a message as the file heads its column."""
    before = len(errors)
    _common_checks(number, cells, errors)
    name = clean_name(cells.get("name", ""))
    group = cells.get("group", "").strip()
    card_no = cells.get("card_no", "").strip()
    phone = clean_phone(cells.get("phone", ""))
    short_code = cells.get("short_code", "").strip()
    if not name:
        errors.append(RowError(number, "name", f"{label('name')}不能为空"))
    if not group:
        errors.append(RowError(number, "group", f"{label('group')}不能为空"))
    if not card_no:
        errors.append(RowError(number, "card_no", f"{label('card_no')}不能为空"))
    elif not CARD_NO.fullmatch(card_no) and not is_formula(card_no):
        where = f"{label('card_no')}“{card_no}”"
        errors.append(RowError(number, "card_no", f"{where}只能包含数字、字母和连字符"))
    if phone and not valid_phone(phone) and not is_formula(phone):
        example = "（11 位）或带区号的座机号（如 0573-12345678）"
        errors.append(RowError(number, "phone", f"“{phone}”不是有效的手机号{example}"))
    if short_code and not SHORT_CODE.fullmatch(short_code) and not is_formula(short_code):
        errors.append(RowError(number, "short_code", f"验证码应为 {SHORT_CODE_DIGITS} 位数字"))
    return DeputyRow(
        number, name, group, card_no, phone, cells.get("notes", ""), short_code, len(errors) == before
    )


def parse_roster(sheet: Sheet) -> Parsed[DeputyRow]:
    """Every row checked on its own and against the other rows of the file."""
    cols = find_columns(sheet, ROSTER_HEADERS, ROSTER_REQUIRED)
    rows: list[DeputyRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, cells in row_cells(sheet, cols):
        card_no = cells.get("card_no", "")
        row = check_deputy(number, cells, errors, cols.label)
        if card_no and card_no in seen:
            text = f"{cols.label('card_no')} {card_no} 与第 {seen[card_no]} 行重复"
            errors.append(RowError(number, "card_no", text))
            row = replace(row, valid=False)
        elif card_no:
            seen[card_no] = number
        rows.append(row)
    return Parsed(rows, named_errors(errors, cols), cols)


def read_roster(data: bytes, filename: str) -> Parsed[DeputyRow]:
    """An uploaded roster read and checked: CPU work for a big file, run in the workshop
    (:mod:`server.office.workshop`) by the web face."""
    return parse_roster(read_sheet(data, filename))


def read_officials(data: bytes, filename: str) -> Parsed[OfficialRow]:
    return parse_officials(read_sheet(data, filename))


def parse_officials(sheet: Sheet) -> Parsed[OfficialRow]:
    cols = find_columns(sheet, OFFICIAL_HEADERS, OFFICIAL_REQUIRED)
    rows: list[OfficialRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in row_cells(sheet, cols):
        before = len(errors)
        row = check_official(number, cells, errors, cols.label)
        key = (row.name, row.organisation)
        if row.name and key in seen:
            where = row.organisation or "无单位"
            errors.append(RowError(number, "name", f"{row.name}（{where}）与第 {seen[key]} 行重复"))
        elif row.name:
            seen[key] = number
        if len(errors) == before:
            rows.append(row)
    return Parsed(rows, named_errors(errors, cols), cols)


def check_official(
    number: int, cells: dict[str, str], errors: list[RowError], label: Callable[[str], str] = usual_label
) -> OfficialRow:
    """One official's own checks: the fields cleaned; errors are appended."""
    _common_checks(number, cells, errors)
    name, title = clean_name(cells.get("name", "")), cells.get("title", "").strip()
    if not name:
        errors.append(RowError(number, "name", f"{label('name')}不能为空"))
    if not title:
        errors.append(RowError(number, "title", f"{label('title')}不能为空"))
    return OfficialRow(number, name, title, cells.get("organisation", "").strip())


# -- planning and writing -----------------------------------------------------------------


def new_short_code() -> str:
    return f"{secrets.randbelow(10**SHORT_CODE_DIGITS):0{SHORT_CODE_DIGITS}d}"


async def import_officials(
    conn: AsyncConnection,
    body_id: int,
    data: bytes | Parsed[OfficialRow],
    filename: str,
    *,
    dry_run: bool = False,
) -> OfficialsPlan:
    """Officials are matched by name and organisation: a match updates the title.
    ``data``: the file, or the file already read (:func:`read_officials`)."""
    parsed = read_officials(data, filename) if isinstance(data, bytes) else data
    rows, errors = parsed.rows, parsed.errors
    existing = {
        (str(n), str(o)): int(i)
        for i, n, o in await conn.execute(
            select(m.officials.c.id, m.officials.c.name, m.officials.c.organisation).where(
                m.officials.c.body_id == body_id
            )
        )
    }
    plan = OfficialsPlan(errors=errors, ignored=parsed.columns.ignored, headers=parsed.columns.headers)
    for row in rows:
        found = existing.get((row.name, row.organisation))
        if found is None:
            plan.inserts.append(row)
        else:
            plan.updates.append((found, row))
    if plan.errors or dry_run:
        return plan
    for row in plan.inserts:
        await conn.execute(
            insert(m.officials).values(
                body_id=body_id, name=row.name, title=row.title, organisation=row.organisation
            )
        )
    for official_id, row in plan.updates:
        await conn.execute(update(m.officials).where(m.officials.c.id == official_id).values(title=row.title))
    plan.written = True
    return plan
