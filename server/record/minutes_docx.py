"""The draft minutes (server/record/minutes.py) as a Word document laid out after GB/T 9704-2012.

The page: A4, 天头 37 mm, 订口 28 mm, a text area of 156 × 225 mm (so 35 mm at the foot
and 26 mm outside), 22 lines of 三号 a page (a fixed line of 28.95 pt). The 版头: the
organ's mark (发文机关标志, "…会议纪要") in red 方正小标宋简体, 35 mm below the top of the
text area; two lines below it the period line (〔年份〕第【　】期, a placeholder); 4 mm under
that a red line as wide as the text. The title two lines below the red line, 二号小标宋,
centred; the text in 三号 仿宋_GB2312, first-level headings (一、) in 黑体, second-level
leads (（一）) in 楷体; the 出席 / 请假 / 列席 lines with the label in 黑体 and the names
hanging after the colon; the 版记 between black lines; page numbers "— 1 —" in 4号 宋体 at
the foot, outside (right on odd pages, left on even), one character in.

A draft: the first line says so in red, the title property says 草稿, and nothing that
only the office can fill (the period number, the day of issue) is filled.

Word reads the Chinese font from ``w:rFonts/@w:eastAsia`` (``run.font.name`` sets only the
Latin ones), so every run sets both. Pure and CPU-bound: runs in the workshop
(server/office/workshop.py).
"""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as Doc
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from server.base.days import numeral
from server.office import docx_style
from server.office.docx_style import (
    BODY_FONT,
    ERHAO,
    HEAD_FONT,
    KAI_FONT,
    SANHAO,
    SIHAO,
    TITLE_FONT,
)
from server.record.minutes import Minutes

NUMBER_FONT = "宋体"  # the page number (GB/T 9704 7.5); the others are the house style's
RED = RGBColor(0xFF, 0x00, 0x00)
LINE = Pt(28.95)  # 225 mm / 22 lines
TEXT_WIDTH_MM, TOP_MM, INNER_MM, BOTTOM_MM = 156, 37, 28, 35
MARK_FROM_TOP_MM = 35  # the mark's top edge below the text area's (GB/T 9704 7.2.3)
MARK_MAX_PT = 42  # a short organ name is not blown up past this
# What follows w:pBdr in a w:pPr (ECMA-376 CT_PPrBase, then w:rPr, w:sectPr, w:pPrChange).
_AFTER_PBDR = (
    "shd tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN "
    "bidi adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
    "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
)
AFTER_PBDR = tuple(f"w:{tag}" for tag in _AFTER_PBDR.split())


def _run(
    p: Paragraph,
    text: str,
    font: str = BODY_FONT,
    size: float = SANHAO,
    color: RGBColor | None = None,
) -> None:
    docx_style.run(p, text, font, size, color=color)


def _para(
    doc: Doc, *, indent: bool = True, align: WD_ALIGN_PARAGRAPH | None = None, line: Pt | None = LINE
) -> Paragraph:
    """The house paragraph on the 纪要's own grid (22 lines a page), kept from a lone last line."""
    p = docx_style.para(doc, indent=indent, align=align, line=line)
    p.paragraph_format.widow_control = True
    return p


def _border(p: Paragraph, side: str, color: str, eighths: int, space_pt: int = 0) -> None:
    """A line along one side of the paragraph (w:pBdr): the red line, the 版记's lines."""
    ppr = p._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        # In its place in the schema's order: Word refuses a w:pPr whose children are not.
        borders = OxmlElement("w:pBdr")
        ppr.insert_element_before(borders, *AFTER_PBDR)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(eighths))  # in eighths of a point
    line.set(qn("w:space"), str(space_pt))
    line.set(qn("w:color"), color)
    borders.append(line)


def _page(doc: Doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(TOP_MM), Mm(BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(INNER_MM), Mm(210 - INNER_MM - TEXT_WIDTH_MM)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(20)
    # The line grid: 22 lines of 三号 to the page, as the standard counts them.
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE.pt * 20)))


def _page_number(p: Paragraph, align: WD_ALIGN_PARAGRAPH) -> None:
    """ "— 1 —", 4号 宋体, one character in from the outside edge."""
    p.alignment = align
    fmt = p.paragraph_format
    if align is WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = Pt(SIHAO)
    else:
        fmt.left_indent = Pt(SIHAO)
    _run(p, "— ", NUMBER_FONT, SIHAO)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), str(SIHAO * 2))
    rpr.append(size)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    p._p.append(field)
    _run(p, " —", NUMBER_FONT, SIHAO)


def _page_numbers(doc: Doc) -> None:
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)


def _mark_size(mark: str) -> float:
    """The largest size up to MARK_MAX_PT at which the mark fits the text width on one line."""
    width_pt = Mm(TEXT_WIDTH_MM).pt
    return float(min(MARK_MAX_PT, int(width_pt / max(1, len(mark)))))


def _head(doc: Doc, minutes: Minutes) -> None:
    """The draft marking, then the 版头: the mark, the period line over the red line."""
    for note in minutes.notes:
        _run(_para(doc, indent=False), note, HEAD_FONT, SANHAO, RED)
    size = _mark_size(minutes.mark)
    mark = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line=Pt(size * 1.3))
    mark.paragraph_format.space_before = Pt(max(0.0, Mm(MARK_FROM_TOP_MM).pt - LINE.pt * len(minutes.notes)))
    _run(mark, minutes.mark, TITLE_FONT, size, RED)
    _para(doc, indent=False)
    _para(doc, indent=False)  # the period line stands two lines below the mark
    number = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(number, minutes.number)
    _border(number, "bottom", "FF0000", 12, space_pt=11)  # 1.5 pt, 4 mm below the line
    _para(doc, indent=False)
    _para(doc, indent=False)  # the title two lines below the red line
    title = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line=Pt(ERHAO * 1.6))
    for n, part in enumerate(title_lines(minutes.title)):
        if n:
            title.add_run().add_break()
        _run(title, part, TITLE_FONT, ERHAO)
    _para(doc, indent=False)


def title_lines(title: str) -> list[str]:
    """A long title broken where it reads well: before its parenthesis (the meeting's
    name, then "（年中人代会）纪要"), not wherever the line runs out."""
    per_line = int(Mm(TEXT_WIDTH_MM).pt // ERHAO)
    cut = title.find("（")
    if len(title) <= per_line or not 6 <= cut <= per_line or len(title) - cut > per_line:
        return [title]
    return [title[:cut], title[cut:]]


def _lines(doc: Doc, minutes: Minutes) -> None:
    """出席 / 请假 / 列席: two characters in, the label in 黑体, the names hanging after
    the colon (GB/T 9704 10.3)."""
    _para(doc, indent=False)
    for label, names in minutes.lines:
        p = _para(doc, indent=False)
        fmt = p.paragraph_format
        fmt.left_indent = Pt(SANHAO * (2 + len(label) + 1))
        fmt.first_line_indent = Pt(-SANHAO * (len(label) + 1))
        _run(p, f"{label}：", HEAD_FONT)
        _run(p, names)


def _record_note(doc: Doc, minutes: Minutes) -> None:
    """The 版记: who issues and when (placeholders), between black lines, 4号 仿宋."""
    _para(doc, indent=False)
    p = _para(doc, indent=False)
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = Pt(SIHAO)
    fmt.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM) - Pt(2 * SIHAO), WD_TAB_ALIGNMENT.RIGHT)
    _border(p, "top", "000000", 8, space_pt=4)
    _border(p, "bottom", "000000", 8, space_pt=4)
    _run(p, f"{minutes.issuer}\t{minutes.issued}", BODY_FONT, SIHAO)


def minutes_docx(minutes: Minutes) -> bytes:
    """The draft minutes as DOCX bytes."""
    doc = Document()
    _page(doc)
    props = doc.core_properties
    props.title = minutes.core_title
    props.subject = "会议纪要（草稿）"
    props.keywords = "草稿"
    props.comments = "草稿：请修改后按程序印发。"
    props.author = props.last_modified_by = "问政"
    _page_numbers(doc)
    _head(doc, minutes)
    _run(_para(doc), minutes.opening)
    for n, matter in enumerate(minutes.matters, 1):
        head = _para(doc)
        head.paragraph_format.keep_with_next = True  # never a heading alone at a page's foot
        _run(head, f"{numeral(n)}、{matter.heading}", HEAD_FONT)
        for para in matter.paras:
            p = _para(doc)
            if para.lead:
                _run(p, para.lead, KAI_FONT)
            if para.text:
                _run(p, para.text)
    _lines(doc, minutes)
    _record_note(doc, minutes)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
