"""The progress report as a Word document an office would submit (python-docx).

Laid out after GB/T 9704 in the office's house style (server/office/docx_style.py): the
title in 二号 方正小标宋简体, first-level headings (一、二、…) in 三号 黑体, the text in 三号
仿宋_GB2312, page numbers "— 1 —" at the foot.

Pure and CPU-bound: :func:`report_docx` runs in the workshop (server/office/workshop.py).
"""

from __future__ import annotations

import io

from docx.document import Document as Doc
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from server.base.days import chinese_day, numeral
from server.office import followup_rules as rules
from server.office.docx_style import (
    ERHAO,
    HEAD_FONT,
    KAI_FONT,
    SIHAO,
    TITLE_FONT,
    a4_document,
    add_row,
    fix_widths,
    grid_table,
)
from server.office.docx_style import para as _para
from server.office.docx_style import run as _run
from server.office.followup_judgments import JudgmentSummary
from server.office.followup_report import Report, counts_sentence
from server.office.followup_report_items import PostLine, ReportItem

TABLE_HEAD = ("序号", "问题", "提问代表", "承办单位", "状态", "答复类别", "代表评价")
TABLE_WIDTHS_MM = (12, 42, 19, 28, 20, 12, 23)  # 156 mm: the text width (210 - 28 - 26)


def _labelled(doc: Doc, label: str, text: str) -> None:
    p = _para(doc)
    _run(p, f"{label}：", KAI_FONT)
    _run(p, text)


def organs_text(item: ReportItem) -> str:
    if not item.lead:
        return "未指定"
    return item.lead + "（牵头）" + "".join(f"、{name}（协办）" for name in item.assisting)


def class_text(item: ReportItem) -> str:
    """ "B 类（正在解决或列入计划逐步解决）"."""
    cls = item.reply_class
    return f"{cls} 类（{rules.CLASSES[cls][2:]}）" if cls in rules.CLASSES else "—"


def status_text(item: ReportItem) -> str:
    text = item.status_name
    if item.reply_class:
        text += f"，最近一次答复为 {class_text(item)}"
    if item.overdue:
        text += f"；已超过答复期限（{chinese_day(item.reply_due)}），逾期未答复"
    return text + "。"


def view_text(item: ReportItem) -> str:
    """The deputies' judgments of the item's current reply, in a sentence."""
    if not any(p.kind == rules.REPLY for p in item.posts):
        return "尚未答复，暂无代表评价。"
    v = item.view
    if not v.any:
        return "代表尚未对当前答复作出评价。"
    text = f"对当前答复，满意 {v.satisfied} 人，基本满意 {v.basic} 人，不满意 {v.dissatisfied} 人"
    return text + (f"；{v.objections} 人不同意办结。" if v.objections else "。")


def view_cell(v: JudgmentSummary) -> str:
    if not v.any:
        return "—"
    text = f"满意 {v.satisfied}\n基本满意 {v.basic}\n不满意 {v.dissatisfied}"
    return text + (f"\n不同意办结 {v.objections}" if v.objections else "")


def post_text(post: PostLine) -> str:
    who = post.author
    if post.on_behalf:
        who = f"{post.organ or '承办单位'}（{post.author} 代为录入）"
    elif post.organ and post.organ != post.author:
        who = f"{post.organ}（{post.author}）"
    if post.kind == "status" and post.status_to:
        what = f"状态改为“{rules.STATUSES.get(post.status_to, post.status_to)}”"
    elif post.kind == rules.REPLY:
        what = f"答复（{post.reply_class} 类）" if post.reply_class else "答复"
    else:
        what = rules.POST_KINDS.get(post.kind, "记录")
    if post.posted is not None and post.posted != post.day:
        what += f"（{chinese_day(post.posted)}报送）"
    return f"{chinese_day(post.day)}，{who}，{what}" + (f"：{post.text}" if post.text else "。")


def _item_section(doc: Doc, number: int, item: ReportItem) -> None:
    head = _para(doc)
    _run(head, f"{numeral(number)}、{item.title}", HEAD_FONT)
    if item.priority:
        _run(head, "（重点督办）", HEAD_FONT)
    if item.question and item.question != item.title:
        _labelled(doc, "问题", item.question)
    asker = item.asker + (f"（{item.groups}）" if item.groups else "") if item.asker else (item.groups or "—")
    _labelled(doc, "提问代表", asker + (f"，{item.meeting}" if item.meeting else ""))
    _labelled(doc, "应询人", item.respondent or "—")
    if item.rating:
        _labelled(doc, "会上满意度测评", item.rating.removeprefix("测评："))
    _labelled(doc, "承办单位", organs_text(item))
    _labelled(
        doc, "交办与期限", f"{chinese_day(item.assigned_on)}交办，答复期限{chinese_day(item.reply_due)}"
    )
    if item.commitments:
        _labelled(doc, "承诺事项", "")
        for n, line in enumerate(item.commitments, 1):
            _run(_para(doc), f"{n}. {line}")
    else:
        _labelled(doc, "承诺事项", "无记录。")
    if item.posts:
        _labelled(doc, "办理过程", "")
        for post in item.posts:
            _run(_para(doc), post_text(post))
    else:
        _labelled(doc, "办理过程", "尚无办理记录。")
    _labelled(doc, "办理状态", status_text(item))
    _labelled(doc, "代表评价", view_text(item))


def _table(doc: Doc, items: tuple[ReportItem, ...]) -> None:
    table = grid_table(doc, TABLE_HEAD, TABLE_WIDTHS_MM)
    for n, item in enumerate(items, 1):
        status = item.status_name + ("（逾期）" if item.overdue else "")
        values = (
            str(n),
            item.title,
            item.asker or "—",
            organs_text(item),
            status,
            item.reply_class or "—",
            view_cell(item.view),
        )
        add_row(table, values, center=(0, 2, 4, 5))
    fix_widths(table, TABLE_WIDTHS_MM)


def report_docx(report: Report) -> bytes:
    """The report as DOCX bytes: title, date, overview, counts, one section per item, the
    table of all items."""
    doc = a4_document()
    title = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line=Pt(36))
    _run(title, report.title, TITLE_FONT, ERHAO)
    dated = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(dated, f"（{chinese_day(report.dated)}）", KAI_FONT)
    _para(doc, indent=False)
    for block in report.overview.splitlines():
        if block.strip():
            _run(_para(doc), block.strip())
    counts = _para(doc)
    _run(counts, "总体情况：", KAI_FONT)
    _run(counts, f"截至{chinese_day(report.as_of)}，{counts_sentence(report.counts)}")
    for n, item in enumerate(report.items, 1):
        _item_section(doc, n, item)
    doc.add_page_break()  # type: ignore[no-untyped-call]
    head = _para(doc, indent=False)
    _run(head, "附表", HEAD_FONT)
    caption = _para(doc, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    _run(caption, "人大代表问政会所提问题推进落实情况一览表", TITLE_FONT, SIHAO + 4)
    caption.paragraph_format.space_after = Pt(8)
    _table(doc, report.items)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
