"""Rows of any table as JSON-ready dicts and back, by the columns' types.

For moving a meeting between installations (server/office/move_export.py and
move_import.py): dates travel as ISO text, bytes (a sealed ballot) as base64, the rest as
JSON's own numbers, strings, booleans and nulls. A value of the wrong shape is refused
with :class:`BadRow`, never written.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, ColumnElement, Date, Integer, LargeBinary, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection


class BadRow(ValueError):
    """A row in the file does not fit the table (the message names table and column)."""


def encode(table: Table, row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table.columns:
        value = getattr(row, column.name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, bytes | bytearray | memoryview):
            value = base64.b64encode(bytes(value)).decode()
        out[column.name] = value
    return out


def decode(table: Table, values: Any) -> dict[str, Any]:
    """A row of ``table`` from the file; only the table's columns, each of its type."""
    if not isinstance(values, dict):
        raise BadRow(f"{table.name}: 行不是对象")
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.name not in values:
            continue  # a column newer than the file: the table's default
        value = values[column.name]
        where = f"{table.name}.{column.name}"
        if value is None:
            if not column.nullable and not column.primary_key:
                raise BadRow(f"{where} 不能为空")
        elif isinstance(column.type, Boolean):
            if not isinstance(value, bool):
                raise BadRow(f"{where} 应为真假值")
        elif isinstance(column.type, Integer | BigInteger):
            if not isinstance(value, int) or isinstance(value, bool):
                raise BadRow(f"{where} 应为整数")
        elif isinstance(column.type, Date):
            try:
                value = dt.date.fromisoformat(str(value))
            except ValueError as exc:
                raise BadRow(f"{where} 应为日期") from exc
        elif isinstance(column.type, LargeBinary):
            try:
                value = base64.b64decode(str(value), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise BadRow(f"{where} 应为 base64") from exc
        elif not isinstance(value, str):
            raise BadRow(f"{where} 应为文字")
        out[column.name] = value
    return out


async def rows(conn: AsyncConnection, table: Table, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    """Every row of ``table`` matching ``where``, encoded, in primary-key order."""
    stmt = select(table).where(where).order_by(*table.primary_key.columns)
    return [encode(table, r) for r in await conn.execute(stmt)]
