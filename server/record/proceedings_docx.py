"""The proceedings (会议记录) as a Word document: the model of proceedings.py, rendered.

The office's house style (server/office/docx_style.py, after GB/T 9704): A4, the
standard's margins, 仿宋 text, 黑体 headings, page numbers. Labels (请假：, 提问代表：) in
楷体, tables in 五号. Charts come as PNG bytes by kind, drawn beforehand by the caller.

Pure and CPU-bound: :func:`proceedings_docx_drawn` (the charts, then the document) runs in
the workshop (server/office/workshop.py).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from docx.document import Document as Doc
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from server.office.docx_style import (
    ERHAO,
    HEAD_FONT,
    KAI_FONT,
    SIHAO,
    TEXT_WIDTH_MM,
    TITLE_FONT,
    WUHAO,
    a4_document,
    add_row,
    fix_widths,
    grid_table,
    para,
    run,
)
from server.record import charts as chart_rows
from server.record.blocks import Block, Figure, Grid, Heading, Para, Proceedings


def _grid(doc: Doc, grid: Grid) -> None:
    table = grid_table(doc, grid.head, grid.widths_mm)
    for values in grid.rows:
        add_row(table, values)
    fix_widths(table, grid.widths_mm)
    para(doc, indent=False, line=Pt(10))  # a little air after the table


def _figure(doc: Doc, figure: Figure, png: bytes | None) -> None:
    if png is None:
        return
    p = para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line=None)
    p.paragraph_format.keep_with_next = True  # the chart and its caption on one page
    p.add_run().add_picture(io.BytesIO(png), width=Mm(TEXT_WIDTH_MM - 6))
    caption = para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    run(caption, figure.caption, KAI_FONT, WUHAO + 1.5)


def _block(doc: Doc, block: Block, charts: Mapping[str, bytes]) -> None:
    match block:
        case Heading(text=text, level=1):
            p = para(doc, indent=False)
            p.paragraph_format.space_before = Pt(8)  # a breath between the sections
            p.paragraph_format.keep_with_next = True  # never the last line of a page
            run(p, text, HEAD_FONT)
        case Heading(text=text):  # the standard's second level: 楷体, not bold
            p = para(doc)
            p.paragraph_format.keep_with_next = True
            run(p, text, KAI_FONT)
        case Para(text=text, label=label):
            p = para(doc)
            if label:
                run(p, f"{label}：", KAI_FONT)
            run(p, text)
        case Grid():
            _grid(doc, block)
        case Figure():
            _figure(doc, block, charts.get(block.chart))


def proceedings_docx_drawn(doc_model: Proceedings, rows: dict[str, list[tuple[Any, ...]]]) -> bytes:
    """The charts drawn from their rows (as PNG), then the document: one trip to the
    workshop, where matplotlib lives (server/record/chart_draw.py)."""
    return proceedings_docx(doc_model, chart_rows.draw_all(rows, "png") if rows else {})


def proceedings_docx(doc_model: Proceedings, charts: Mapping[str, bytes] | None = None) -> bytes:
    """The proceedings as DOCX bytes: the title, the marks, the particulars, the note, the body."""
    doc = a4_document()
    title = para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line=Pt(36))
    run(title, "会议记录", TITLE_FONT, ERHAO)
    name = para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    run(name, doc_model.title, KAI_FONT)
    for mark in doc_model.marks:
        run(para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER), mark, HEAD_FONT, SIHAO, bold=True)
    para(doc, indent=False)
    for label, value in doc_model.facts:
        p = para(doc, indent=False)
        run(p, f"{label}：", HEAD_FONT)
        run(p, value)
    if doc_model.note:
        run(para(doc, indent=False), "说明", HEAD_FONT)
        for line in doc_model.note:
            run(para(doc), line)
    for block in doc_model.blocks:
        _block(doc, block, charts or {})
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
