"""Duty records (履职记录) as XLSX: a summary sheet, one row per member, and a detail sheet.

A plain function over records already read (:mod:`server.record.duty`): the web face runs
it in the office's worker processes (server/office/workshop.py). Counts are numbers; every
text cell is text, and one that a spreadsheet would run as a formula gets a quote in front
(server/office/audit_trail.py ``safe_cell``, as every other export of the office).

Nothing per secret ballot or rating: the records hold none (server/record/duty.py).
"""

from __future__ import annotations

import io
from typing import Any

from server.office.attendance_history import CODE_NAMES
from server.office.audit_trail import safe_cell
from server.record.duty import DutyRecord

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARY = "履职汇总"
DETAIL = "履职明细"
SUMMARY_HEADERS = (
    "姓名",
    "卡号",
    "代表小组",
    *CODE_NAMES.values(),
    "提出问题",
    "询问",
    "联名提出",
    "追问",
    "发言次数",
    "发言时长",
    "询问追问时长",
    "参加记名表决",
    "评价督办事项",
    "述职评议结果",
    "缺席提示",
)
DETAIL_HEADERS = ("姓名", "卡号", "代表小组", "会议", "日期", "类别", "内容", "结果", "时长")


def duration(ms: int) -> str:
    """ "7分00秒": how the office writes a speaking time."""
    seconds = max(0, ms) // 1000
    return f"{seconds // 60}分{seconds % 60:02d}秒"


def warning_text(record: DutyRecord) -> str:
    if not record.absences:
        return ""
    sessions = "、".join(record.absences)
    if record.warned:
        return f"已达两次未经批准缺席：{sessions}"
    return f"未经批准缺席一次：{sessions}"


def summary_row(record: DutyRecord) -> list[Any]:
    t = record.totals
    mb = record.member
    reports = "；".join(f"{r.item}：{r.grade}" for r in record.reports)
    return [
        mb.name,
        mb.card_no,
        mb.group,
        *(t.attendance[code] for code in CODE_NAMES),
        t.proposed,
        t.asked,
        t.co_proposed,
        t.followups,
        t.speeches,
        duration(t.speech_ms),
        duration(t.question_ms),
        t.named_votes,
        t.judged,
        reports,
        warning_text(record),
    ]


def detail_rows(record: DutyRecord) -> list[list[str]]:
    mb = record.member
    who = [mb.name, mb.card_no, mb.group]
    rows: list[list[str]] = []
    for md in record.meetings:
        mt, mark = md.meeting, md.mark
        times = "，".join(
            x
            for x in (
                f"签到 {mark.checked_in_at}" if mark.checked_in_at else "",
                f"离会 {mark.left_at}" if mark.left_ms else "",
                f"返回 {mark.returned_at}" if mark.returned_ms else "",
            )
            if x
        )
        at = [*who, mt.title, mt.day]
        rows.append([*at, "出勤", mark.name, times, ""])
        rows += [[*at, "询问", a.title, "", duration(a.spoken_ms)] for a in md.asked]
        rows += [[*at, "追问", f.question, "", duration(f.spoken_ms)] for f in md.followups]
        rows += [[*at, "发言", s.item, f"第{s.nth}次", duration(s.spoken_ms)] for s in md.speeches]
        rows += [
            [*at, "记名表决", n.title + (f"（第{n.round_no}轮）" if n.round_no > 1 else ""), n.choice, ""]
            for n in md.named
        ]
    rows += [[*who, p.meeting, "", "提出问题", p.title, p.status_name, ""] for p in record.proposed]
    rows += [[*who, p.meeting, "", "联名提出", p.title, p.status_name, ""] for p in record.co_proposed]
    rows += [
        [*who, "", "", "评价督办事项", j.title, j.verdict_name + ("，不同意办结" if j.objects else ""), ""]
        for j in record.judged
    ]
    rows += [
        [*who, r.meeting, "", "述职评议", f"{r.item}（{r.reporter}）", r.grade, r.counts]
        for r in record.reports
    ]
    if record.absences:
        rows.append([*who, "", "", "缺席提示", warning_text(record), "", ""])
    return rows


def _fill(sheet: Any, rows: list[list[Any]], widths: list[int]) -> None:
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if isinstance(value, int):
                sheet.cell(row=r, column=c, value=value)
            else:
                cell = sheet.cell(row=r, column=c, value=safe_cell(str(value)))
                cell.data_type = "s"  # text, never a formula
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    sheet.freeze_panes = "D2"


def duty_xlsx(records: list[DutyRecord]) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs in the project

    book = Workbook()
    summary: Any = book.active
    summary.title = SUMMARY
    rows: list[list[Any]] = [list(SUMMARY_HEADERS), *(summary_row(r) for r in records)]
    _fill(summary, rows, [10, 8, 14, *([8] * len(CODE_NAMES)), 8, 6, 8, 6, 8, 10, 12, 12, 12, 30, 30])
    detail = book.create_sheet(DETAIL)
    lines: list[list[Any]] = [list(DETAIL_HEADERS)]
    for r in records:
        lines += detail_rows(r)
    _fill(detail, lines, [10, 8, 14, 36, 12, 12, 44, 16, 10])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(what: str) -> str:
    return f"履职记录-{what}.xlsx"
