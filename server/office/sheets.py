"""Spreadsheets in: a CSV (UTF-8, UTF-8 with BOM, GB18030, tab-separated) or an XLSX file
becomes a :class:`Sheet` of text cells, numbered as the spreadsheet shows them.

A problem with the whole file (too big, too many rows, empty, an old .xls, an encrypted
workbook, an unknown encoding, a broken XLSX) raises :class:`ImportRefused` with a
Chinese message; checking the rows is :mod:`server.office.imports`' work.

Bounds. Rows are read one at a time and reading stops at the first row over
:data:`MAX_ROWS` (blank rows do not count, and none after them is dropped), so a file of
100,000 rows is refused after reading 20,001. Only the first :data:`MAX_COLUMNS` columns
are read. An XLSX is a zip: its members' declared sizes (which zipfile enforces while
inflating) must add up to at most :data:`MAX_UNPACKED`, which bounds a zip bomb's huge
shared strings or sheet; the sheet's declared dimension is ignored, since openpyxl pads
every row to it (``A1:XFD1048576`` is 16,384 cells a row from a file of a few kilobytes).

Encodings. UTF-8 is tried first: text in another encoding almost never decodes as
UTF-8. GB18030 is the fallback, and it decodes nearly any byte string, so its result must
also look like a Chinese spreadsheet, or the file is refused rather than imported as
mojibake: no line may be valid UTF-8 with Chinese in it (a file mixing UTF-8 and GBK
lines); no private-use, replacement or non-Chinese four-byte character; no double-byte
character glued to a Latin letter whose second byte is itself a Latin letter (Latin-1
"Müller" reads as "M黮ler"); and at most a fifth of the non-ASCII characters may fall
outside GB2312's hanzi and punctuation (Big5 or Shift-JIS text read as GBK lands mostly
in rare characters). Control characters are refused in every encoding: NUL is what
UTF-16 (Excel's "Unicode 文本", BOM or not), images and other binary files have in common.
UTF-8 cut inside a character at the end is an interrupted upload. What remains possible
is text in a legacy encoding whose bytes land in GB2312's common hanzi (EUC-KR Korean
does): bytes alone cannot tell it from Chinese; the staff page's preview lists the names.

Formulas (:func:`is_formula`): an XLSX is read with its formulas, not their cached
values, and a cell starting with = + - @ is refused by the row checks, whatever the file
type, since a spreadsheet program runs such text as a formula (CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
import string
import zipfile
from collections import Counter
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 200
MAX_LINES = 1_048_576  # Excel's own limit on rows, blank ones included
MAX_UNPACKED = 50 * 1024 * 1024

SAVE_AGAIN = "请在 Excel 或 WPS 中另存为 .xlsx，或另存为 UTF-8 编码的 CSV 后再导入。"
UNREADABLE = "无法识别文件编码：" + SAVE_AGAIN
NOT_TEXT = "无法识别文件编码（文件含有非文字内容，可能是 UTF-16 编码、图片或其他非表格文件）：" + SAVE_AGAIN
NOT_XLSX = "无法读取该 Excel 文件：请确认是 .xlsx 格式（不支持旧的 .xls）。"
ENCRYPTED = (
    "该 Excel 文件设置了打开密码（已加密），无法读取：请在 Excel 或 WPS 中取消密码，另存为 .xlsx 后再导入。"
)
OLD_XLS = "不支持旧的 .xls 格式：请在 Excel 或 WPS 中另存为 .xlsx 或 CSV。"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")  # an encrypted OOXML file's stream
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
LATIN_GLUED = re.compile(r"[A-Za-z][^\x00-\x7f]|[^\x00-\x7f](?=[A-Za-z])")
FORMULA_START = ("=", "+", "-", "@")


class ImportRefused(Exception):
    """The whole file is refused; ``message`` is Chinese and says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Sheet:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells)


def is_formula(text: str) -> bool:
    """A formula, or text Excel would run as one when the data goes out as CSV again."""
    return len(text) > 1 and text.startswith(FORMULA_START)


# -- CSV: bytes to text -----------------------------------------------------------------


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _is_hanzi(ch: str) -> bool:
    o = ord(ch)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3FFFF


def _mixed_lines(data: bytes) -> tuple[int, int]:
    """The first line that is UTF-8 with Chinese in it (GBK text never is) and the first
    that is not UTF-8; (0, 0) when no line is UTF-8 with Chinese."""
    utf8 = other = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError:
            other = other or number
            continue
        if re.search(r"[^\x00-\u07ff]", decoded):
            utf8 = utf8 or number
    return (utf8, other) if utf8 and other else (0, 0)


def _check_gb18030(text: str) -> None:
    """Refuse a GB18030 reading that is not Chinese text (see the module's docstring)."""
    odd = f"文件可能不是 UTF-8 或 GBK 编码：{SAVE_AGAIN}"
    counts = Counter(text)
    familiar = total = 0
    for ch, n in counts.items():
        if ch.isascii():
            continue
        code = ch.encode("gb18030")
        if 0xE000 <= ord(ch) <= 0xF8FF or (len(code) == 4 and not _is_hanzi(ch)):  # U+FFFD is four bytes
            raise ImportRefused(f"第 {_line_of(text, text.index(ch))} 行有无法识别的字符，{odd}")
        total += n
        if len(code) == 2 and code[1] >= 0xA1 and (0xA1 <= code[0] <= 0xA3 or 0xB0 <= code[0] <= 0xF7):
            familiar += n  # GB2312's hanzi and its punctuation rows
    if total and familiar < total * 0.8:
        raise ImportRefused(UNREADABLE)
    for glued in LATIN_GLUED.finditer(text):
        code = glued.group()[-1].encode("gb18030")
        if len(code) == 2 and chr(code[1]) in string.ascii_letters:
            raise ImportRefused(f"第 {_line_of(text, glued.start())} 行有无法识别的字符，{odd}")


def _decode(data: bytes) -> str:
    data = data.rstrip(b"\x1a")  # the end-of-file mark of old DOS programs
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            raise ImportRefused("文件不完整（末尾被截断，可能上传中断）：请重新上传。") from None
        if BINARY.search(data):
            raise ImportRefused(NOT_TEXT) from None
        utf8, other = _mixed_lines(data)
        if utf8:
            where = f"第 {utf8} 行是 UTF-8，第 {other} 行是 GBK 或其他编码"
            raise ImportRefused(f"文件混用了两种编码（{where}）：{SAVE_AGAIN}") from None
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportRefused(UNREADABLE) from None
        _check_gb18030(text)
    if CONTROL.search(text):
        raise ImportRefused(NOT_TEXT)
    return text


def _csv_rows(data: bytes) -> Generator[list[str], None, None]:
    text = _decode(data)
    first = text.partition("\n")[0]
    # "文本文件（制表符分隔）" as Excel and WPS save it: tabs, no commas in the header.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise ImportRefused(
                f"CSV 文件格式有误（第 {reader.line_num} 行附近，可能是引号不成对或单元格过长），"
                "请在 Excel 或 WPS 中重新另存为 CSV。"
            ) from None
        yield [c.strip() for c in row[:MAX_COLUMNS]]


# -- XLSX -------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # card numbers and phones typed as numbers in Excel
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if type(value).__name__ in ("ArrayFormula", "DataTableFormula"):  # formulas kept as objects
        return "=" + str(getattr(value, "text", None) or "TABLE()").lstrip("=")
    return str(value).strip()


def _check_package(data: bytes) -> None:
    """The zip holds a workbook, unencrypted, of a bounded size once inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
    except Exception:
        raise ImportRefused(
            "无法读取该 Excel 文件：文件不完整或已损坏（可能上传中断），请在 Excel 或 WPS 中重新保存后再试。"
        ) from None
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise ImportRefused("这个文件不是 Excel 表格（可能是其他压缩包或 Word 文档）：" + SAVE_AGAIN)
    if any(m.flag_bits & 0x1 for m in members):
        raise ImportRefused(ENCRYPTED)
    if sum(m.file_size for m in members) > MAX_UNPACKED:
        raise ImportRefused(
            f"Excel 文件内容太多（解压后超过 {MAX_UNPACKED // (1024 * 1024)} MB）："
            "请只保留名单所在的工作表，删除图片和多余的格式后另存再试。"
        )


def _xlsx_rows(data: bytes) -> Generator[list[str], None, None]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # no stubs in the project

    _check_package(data)
    try:
        # Formulas are read as formulas (not their cached values) so they can be refused.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        raise ImportRefused(NOT_XLSX) from None
    try:
        if not book.worksheets:
            raise ImportRefused("文件中没有内容（没有工作表）。")
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # rows as they are, not padded to a declared size
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except Exception:
                raise ImportRefused(
                    "该 Excel 文件已损坏或无法读取，请在 Excel 或 WPS 中重新保存后再试。"
                ) from None
            yield [_cell_text(v) for v in values[:MAX_COLUMNS]]
    finally:
        book.close()


# -- either -----------------------------------------------------------------------------


def read_sheet(data: bytes, filename: str) -> Sheet:
    """The file's first sheet as text cells; raises ImportRefused for the whole file."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(f"文件太大：最大 {MAX_BYTES // (1024 * 1024)} MB。")
    if not data.strip():
        raise ImportRefused("文件是空的。")
    is_xlsx = data[:4] == b"PK\x03\x04"
    name = filename.lower()
    if data[:4] == OLE_MAGIC and ENCRYPTED_STREAM in data:
        raise ImportRefused(ENCRYPTED)
    if data[:4] == OLE_MAGIC or (name.endswith(".xls") and not is_xlsx):
        raise ImportRefused(OLD_XLS)
    if name.endswith((".xlsx", ".xlsm")) and not is_xlsx:
        raise ImportRefused("文件名是 .xlsx，但内容不是 Excel 文件（可能是改了扩展名的 CSV）：" + SAVE_AGAIN)
    numbered: list[tuple[int, list[str]]] = []
    with closing(_xlsx_rows(data) if is_xlsx else _csv_rows(data)) as rows:
        for number, row in enumerate(rows, start=1):
            if number > MAX_LINES:
                raise ImportRefused(f"行数太多：连同空行超过 {MAX_LINES} 行，文件可能已损坏。")
            if any(row):
                numbered.append((number, row))
                if len(numbered) > MAX_ROWS + 1:  # the header and MAX_ROWS rows
                    raise ImportRefused(f"行数太多：最多 {MAX_ROWS} 行（不含表头），请删除多余的行后再试。")
    if not numbered:
        raise ImportRefused("文件中没有内容。")
    (_, headers), body = numbered[0], numbered[1:]
    return Sheet([re.sub(r"[\s\u3000\ufeff*＊]", "", h) for h in headers], body)
