"""The blocks a document of the record is made of: headings, paragraphs, tables, charts.

The proceedings (server/record/proceedings.py) are built as a run of these blocks; the
DOCX writer and the print view's template only render them, so the two never disagree.
Frozen and plain: they cross into the workshop's process by pickling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Heading:
    tag: ClassVar[str] = "heading"  # what the page's template switches on
    text: str
    level: int = 1  # 1: 一、出席情况; 2: （一）a question, a vote


@dataclass(frozen=True)
class Para:
    tag: ClassVar[str] = "para"
    text: str
    label: str = ""  # "请假" → 请假：…, set apart in the documents


@dataclass(frozen=True)
class Grid:
    tag: ClassVar[str] = "grid"
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths_mm: tuple[float, ...]  # of the DOCX's 156 mm text width; the page uses them as shares

    @property
    def shares(self) -> tuple[float, ...]:
        """The columns' widths in per cent, for the page."""
        whole = sum(self.widths_mm) or 1
        return tuple(round(w * 100 / whole, 1) for w in self.widths_mm)


@dataclass(frozen=True)
class Figure:
    """A chart (server/record/charts.py): a PNG in the DOCX, the SVG on the page."""

    tag: ClassVar[str] = "figure"
    chart: str  # satisfaction / speaking
    caption: str


Block = Heading | Para | Grid | Figure


@dataclass(frozen=True)
class Proceedings:
    meeting_id: int
    title: str  # the meeting's name
    facts: tuple[tuple[str, str], ...]  # 会议名称, 机构, 时间, 地点, 主持人
    marks: tuple[str, ...]  # 彩排 / 会议尚未结束: said above everything else
    note: tuple[str, ...]  # the staff's free paragraph(s), before the body
    blocks: tuple[Block, ...]

    @property
    def file_name(self) -> str:
        return f"{self.title}-会议记录.docx"
