"""A follow-up progress report's figures as the hall's screens show them.

An agenda item may take a progress report (live.setup.ReportSummary, loaded with the
meeting): while it is current the projector shows the figures large, and the phones and
the public page show them in one line, so the deputies rate the handling with the numbers
in front of them. The figures are the report's own, as it was generated.
"""

from __future__ import annotations

from dataclasses import dataclass

from live.setup import ReportSummary

# The classes of a reply, as the law's practice for deputies' suggestions names them.
CLASS_NOTES = {
    "a": "已解决或基本解决",
    "b": "正在解决或列入计划逐步解决",
    "c": "因条件限制需以后解决",
}


@dataclass(frozen=True)
class Figure:
    key: str  # the CSS class: its colour on the projector
    label: str
    count: int
    note: str = ""


def main_figures(r: ReportSummary) -> tuple[Figure, ...]:
    """交办, 已办结, 正在办理, 逾期: the four a hall reads first."""
    return (
        Figure("total", "交办", r.total),
        Figure("closed", "已办结", r.closed),
        Figure("open", "正在办理", r.open),
        Figure("overdue", "逾期", r.overdue),
    )


def class_figures(r: ReportSummary) -> tuple[Figure, ...]:
    """Items by their last reply's class."""
    return (
        Figure("class-a", "A 类", r.class_a, CLASS_NOTES["a"]),
        Figure("class-b", "B 类", r.class_b, CLASS_NOTES["b"]),
        Figure("class-c", "C 类", r.class_c, CLASS_NOTES["c"]),
    )


def extra_line(r: ReportSummary) -> str:
    """What the deputies said of the handling, when anything: items sent back for
    重新办理 and items a deputy would not see closed."""
    parts = []
    if r.redo:
        parts.append(f"重新办理 {r.redo} 项")
    if r.objected:
        parts.append(f"代表不同意办结 {r.objected} 项")
    return " · ".join(parts)


def short_line(r: ReportSummary) -> str:
    """The figures in one line of a projector, above a rating and its result (the full
    figures were on the screen while the report was heard)."""
    return (
        f"交办 {r.total} 项：已办结 {r.closed} · 正在办理 {r.open} · 逾期 {r.overdue} · "
        f"A 类 {r.class_a} · B 类 {r.class_b} · C 类 {r.class_c}"
    )


def parts(r: ReportSummary) -> tuple[str, ...]:
    """Every figure as its own phrase ("交办 12 项"): a phone breaks the line between
    them, never inside one."""
    out = [
        f"交办 {r.total} 项",
        f"已办结 {r.closed} 项",
        f"正在办理 {r.open} 项",
        f"逾期 {r.overdue} 项",
        f"A 类 {r.class_a} 项",
        f"B 类 {r.class_b} 项",
        f"C 类 {r.class_c} 项",
    ]
    if r.redo:
        out.append(f"重新办理 {r.redo} 项")
    if r.objected:
        out.append(f"代表不同意办结 {r.objected} 项")
    return tuple(out)


def line(r: ReportSummary) -> str:
    """All of it in one line of text."""
    return " · ".join(parts(r))
