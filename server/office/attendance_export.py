"""Attendance history as XLSX: a body's members × meetings, and one member's records.

Plain functions over data already read (:mod:`server.office.attendance_history`): the web
face runs them in its worker processes (server/office/workshop.py), so a workbook never holds up the
hall. Every cell is text, guarded like the audit trail's (a leading = + - @ gets a quote).
"""

from __future__ import annotations

import io
from typing import Any

from server.office.attendance_history import CODE_NAMES, Grid, Mark, Meeting, Member
from server.office.audit_trail import safe_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BODY_HEADERS = ("姓名", "卡号", "代表小组")
MEMBER_HEADERS = ("会议", "日期", "出勤", "签到时间", "签到方式", "中途离会", "返回", "更正")


def _book(title: str, rows: list[list[str]], widths: list[int]) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs in the project
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    book = Workbook()
    sheet: Any = book.active
    sheet.title = title
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c, value=safe_cell(value))
            cell.data_type = "s"  # text, never a formula
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    sheet.freeze_panes = "D2" if title == "出勤汇总" else "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def meeting_label(meeting: Meeting) -> str:
    return f"{meeting.title}（{meeting.day}）" if meeting.day else meeting.title


def body_xlsx(grid: Grid) -> bytes:
    """One row per member: a code per meeting (出/迟/离/假/缺), then the totals."""
    header = [*BODY_HEADERS, *(meeting_label(mt) for mt in grid.meetings), *CODE_NAMES.values()]
    rows = [header]
    for mb in grid.members:
        cells = [mb.name, mb.card_no, mb.group]
        for mt in grid.meetings:
            mark = grid.mark(mb.id, mt.id)
            cells.append(mark.code if mark else "")
        totals = grid.totals.get(mb.id, {})
        cells += [str(totals.get(code, 0)) for code in CODE_NAMES]
        rows.append(cells)
    widths = [10, 10, 14, *([16] * len(grid.meetings)), *([8] * len(CODE_NAMES))]
    return _book("出勤汇总", rows, widths)


def member_xlsx(member: Member, history: list[tuple[Meeting, Mark]]) -> bytes:
    rows = [list(MEMBER_HEADERS)]
    for mt, mark in history:
        corrected = f"{mark.corrected_at} {mark.corrected_by.partition(':')[2]}" if mark.corrected_ms else ""
        rows.append(
            [
                mt.title,
                mt.day,
                mark.name,
                mark.checked_in_at,
                mark.how_name,
                mark.left_at,
                mark.returned_at,
                corrected.strip(),
            ]
        )
    return _book("出勤记录", rows, [40, 12, 16, 10, 14, 10, 10, 24])


def filename(what: str) -> str:
    return f"出勤记录-{what}.xlsx"
