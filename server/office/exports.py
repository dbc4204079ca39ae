"""Rosters out: the XLSX export and the CSV the demo loader imports.

Both write the import's own headers (:mod:`server.office.imports`), so an export imports back
unchanged. Cells are written as text, never as formulas, and card numbers keep their
leading zeros.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.days import today
from server.office.imports import EXPORT_COLUMNS, ROSTER_HEADERS
from server.storage import models as m


async def roster_rows(conn: AsyncConnection, body_id: int, *, current_only: bool = False) -> list[Any]:
    """The body's deputies with their group's name, in group order then card number;
    ``current_only`` leaves out former members (every mandate ended by today), so an
    export imports back without reviving anyone."""
    stmt = (
        select(
            m.deputies.c.id,
            m.deputies.c.name,
            m.groups.c.name.label("group"),
            m.deputies.c.card_no,
            m.deputies.c.phone,
            m.deputies.c.notes,
        )
        .join(m.groups, m.groups.c.id == m.deputies.c.group_id)
        .where(m.deputies.c.body_id == body_id)
        .order_by(m.groups.c.position, m.groups.c.id, func.length(m.deputies.c.card_no), m.deputies.c.card_no)
    )
    if current_only:
        mt = m.mandates
        mine = mt.c.deputy_id == m.deputies.c.id
        live = select(mt.c.id).where(mine, or_(mt.c.ends_on.is_(None), mt.c.ends_on > today()))
        stmt = stmt.where(or_(live.exists(), ~select(mt.c.id).where(mine).exists()))
    return list((await conn.execute(stmt)).all())


def roster_xlsx(rows: Iterable[Any]) -> bytes:
    """An XLSX with the import's own headers, so an export imports back unchanged."""
    from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs in the project

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "代表名册"
    sheet.append([ROSTER_HEADERS[k][0] for k in EXPORT_COLUMNS])
    for r, row in enumerate(rows, start=2):
        for c, key in enumerate(EXPORT_COLUMNS, start=1):
            value = row[key] if isinstance(row, dict) else getattr(row, key)
            cell = sheet.cell(row=r, column=c, value=str(value))
            cell.data_type = "s"  # text, never a formula, and card numbers keep leading zeros
    for letter, width in zip("ABCDE", (14, 18, 12, 18, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def roster_csv(rows: Iterable[dict[str, str]], *, with_short_code: bool = False) -> bytes:
    """A CSV in the import's format (the demo loader builds its roster with this)."""
    keys = [*EXPORT_COLUMNS, "short_code"] if with_short_code else list(EXPORT_COLUMNS)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([ROSTER_HEADERS[k][0] for k in keys])
    for row in rows:
        writer.writerow([row.get(k, "") for k in keys])
    return out.getvalue().encode("utf-8")
