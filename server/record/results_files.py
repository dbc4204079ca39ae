"""The results of a meeting as files: one XLSX with a sheet per kind, and a CSV per sheet.

Plain functions over sheets already built (:mod:`server.record.results`), run in the
workshop's processes (server/office/workshop.py), so a workbook never holds up the hall.

- XLSX: bold headers, widths for Chinese text, the header row frozen, counts as numbers
  and rates as numbers formatted as percentages (Excel sums and charts them).
- CSV: UTF-8 with a BOM, so Excel on a Chinese Windows (which otherwise reads GB18030)
  opens it right; CRLF line ends, as Excel writes them.

Text cells are guarded against formula injection the way every export of the project is
(server/office/audit_trail.py ``safe_cell``): a cell starting with = + - @ (or a tab, a
CR) gets a leading quote, and XLSX text cells are written as text, never as formulas. A
question's title is typed by staff and may begin with anything.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from server.office.audit_trail import safe_cell
from server.record.results import Cell, Column, Sheet, shown

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
PERCENT = "0.0%"


def _text(sheet: Sheet) -> list[list[str]]:
    """Every line of the sheet as the CSV holds it: the summary, a blank line, the table."""
    lines: list[list[str]] = []
    if sheet.summary:
        lines.append([cell for label, n in sheet.summary for cell in (label, str(n))])
        lines.append([])
    lines.append(sheet.headers)
    lines += sheet.shown()
    return [[safe_cell(v) for v in line] for line in lines]


def sheet_csv(sheet: Sheet) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_text(sheet))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _put(ws: Any, row: int, col: int, value: Cell, column: Column | None) -> Any:
    if value is None or value == "":
        return ws.cell(row=row, column=col)  # left blank, as a spreadsheet has it
    if isinstance(value, str):
        cell = ws.cell(row=row, column=col, value=safe_cell(value))
        cell.data_type = "s"  # text, never a formula
        return cell
    cell = ws.cell(row=row, column=col, value=value)
    if column is not None and column.kind == "pct":
        cell.number_format = PERCENT
    return cell


def _write(ws: Any, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]  # no stubs
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    bold = Font(bold=True)
    row = 1
    if sheet.summary:
        for i, (label, n) in enumerate(sheet.summary):
            _put(ws, row, 2 * i + 1, label, None).font = bold
            _put(ws, row, 2 * i + 2, n, None)
        row += 2
    for c, column in enumerate(sheet.columns, start=1):
        cell = _put(ws, row, c, column.title, None)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.freeze_panes = ws.cell(row=row + 1, column=1).coordinate
    for values in sheet.rows:
        row += 1
        for c, (value, column) in enumerate(zip(values, sheet.columns, strict=True), start=1):
            _put(ws, row, c, value, column)
    for c, column in enumerate(sheet.columns, start=1):
        # a hanzi is about two of Excel's character widths: the header must fit too
        width = max(column.width, 2 * len(column.title) + 2)
        ws.column_dimensions[get_column_letter(c)].width = width


def results_xlsx(sheets: list[Sheet]) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs in the project

    book = Workbook()
    first: Any = book.active
    book.remove(first)
    for sheet in sheets:
        _write(book.create_sheet(sheet.title), sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(title: str, what: str, ext: str) -> str:
    return f"会议结果-{title}-{what}.{ext}" if what else f"会议结果-{title}.{ext}"


__all__ = ["CSV", "XLSX", "filename", "results_xlsx", "sheet_csv", "shown"]
