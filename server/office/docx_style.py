"""The house style of the office's Word documents (python-docx), shared by every DOCX.

Laid out after GB/T 9704 (党政机关公文格式): A4, margins 37 mm top, 35 mm bottom, 28 mm left,
26 mm right; titles in 二号 方正小标宋简体, headings in 三号 黑体, the text in 三号
仿宋_GB2312 at a fixed 28 pt line, page numbers "— 1 —" at the foot. Word needs the
Chinese font in ``w:rFonts/@w:eastAsia`` (``run.font.name`` sets only the Latin ones), so
every run sets both; a computer without a font substitutes its own.
"""

from __future__ import annotations

from collections.abc import Container, Sequence

from docx import Document
from docx.document import Document as Doc
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

TITLE_FONT, HEAD_FONT, KAI_FONT = "方正小标宋简体", "黑体", "楷体_GB2312"
BODY_FONT, LATIN = "仿宋_GB2312", "Times New Roman"
ERHAO, SANHAO, SIHAO, WUHAO = 22, 16, 14, 10.5  # 二号, 三号, 四号, 五号 in points
LINE = Pt(28)
INDENT = Pt(2 * SANHAO)  # two characters
TEXT_WIDTH_MM = 156  # 210 - 28 - 26


def run(
    p: Paragraph,
    text: str,
    font: str = BODY_FONT,
    size: float = SANHAO,
    bold: bool = False,
    color: RGBColor | None = None,
) -> None:
    r = p.add_run(text)
    r.font.size = Pt(size)
    r.font.bold = bold
    r.font.name = LATIN
    if color is not None:
        r.font.color.rgb = color
    r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


def para(
    doc: Doc, *, indent: bool = True, align: WD_ALIGN_PARAGRAPH | None = None, line: Pt | None = LINE
) -> Paragraph:
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    if line is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = line
    if indent:
        fmt.first_line_indent = INDENT
    if align is not None:
        p.alignment = align
    return p


def page_numbers(doc: Doc) -> None:
    """— 1 — at the foot of every page, 四号 (the standard's 4 号半角宋体 digits)."""
    p = doc.sections[0].footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(p, "— ", "宋体", SIHAO)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    r = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    r.append(text)
    field.append(r)
    p._p.append(field)
    run(p, " —", "宋体", SIHAO)


def a4_document() -> Doc:
    """An empty document on A4 with the standard's margins and page numbers."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)
    page_numbers(doc)
    return doc


def cell(c: _Cell, text: str, bold: bool = False, center: bool = False) -> None:
    p = c.paragraphs[0]
    p.paragraph_format.space_after = Pt(0)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(p, text, HEAD_FONT if bold else BODY_FONT, WUHAO)


def grid_table(doc: Doc, head: Sequence[str], widths_mm: Sequence[float]) -> Table:
    """A bordered table, centred, its head row repeated on every page; fill it with
    :func:`cell`, then call :func:`fix_widths`."""
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    first = table.rows[0]
    first._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for c, text in zip(first.cells, head, strict=True):
        cell(c, text, bold=True, center=True)
    made: Table = table
    return made


def add_row(table: Table, values: Sequence[str], center: Container[int] = ()) -> None:
    """One row of text cells; the columns numbered in ``center`` centred."""
    cells = table.add_row().cells  # type: ignore[no-untyped-call]
    for i, (c, text) in enumerate(zip(cells, values, strict=True)):
        cell(c, text, center=i in center)


def fix_widths(table: Table, widths_mm: Sequence[float]) -> None:
    # Fixed widths, in the grid as well as each cell: LibreOffice and WPS read the grid,
    # Word the cells; with autofit on, both share the width out evenly.
    table.autofit = False
    for col, width in zip(table._tbl.tblGrid.gridCol_lst, widths_mm, strict=True):
        col.w = Mm(width)
    for row in table.rows:
        for c, width in zip(row.cells, widths_mm, strict=True):
            c.width = Mm(width)
