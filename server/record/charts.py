"""The record's charts: satisfaction, votes, speaking time, attendance over a body's meetings.

One renderer for both outputs: PNG for the DOCX (16 cm wide at 200 dpi, read on A4) and
SVG for the pages (a viewBox and ``width="100%"``, read on a 360-px phone). Each chart
takes plain rows (a label and counts) and returns bytes; the adapters below turn a
:class:`~server.record.facts.MeetingRecord` or a body's attendance grid into rows. How
they are drawn (matplotlib, the CJK font, the layout): server/record/chart_draw.py.

Printed in black and white. Every category has its own grey level AND its own hatch, so a
photocopy still tells 满意 from 基本满意; counts sit on a white label box, legible over
any fill; over-allowance speaking time is dark and cross-hatched beyond a black mark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from live.state import Choice

if TYPE_CHECKING:
    from server.office.attendance_history import Grid
    from server.record.facts import MeetingRecord

# matplotlib is imported only where a chart is drawn (server/record/chart_draw.py), in the
# workshop's processes: the server's own process, which builds the rows and sends them
# there, neither loads it nor pays its memory.

Fmt = Literal["png", "svg"]
FORMATS: tuple[Fmt, ...] = ("png", "svg")
EMPTY = "暂无数据"
DPI = 200
KINDS = ("satisfaction", "votes", "speaking", "attendance")

Row3 = tuple[str, int, int, int]
Row4 = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class Series:
    """A category of a stacked bar: its legend name, fill, hatch and the hatch's ink."""

    name: str
    fill: str
    hatch: str
    ink: str


# Grey levels (luma) in brackets: dark, middle, light, white, each with its own hatch.
SATISFACTION = (
    Series("满意", "#1f5f99", "", "#ffffff"),  # (82)
    Series("基本满意", "#9ecae1", "///", "#31556b"),  # (191)
    Series("不满意", "#d6604d", "xx", "#5a1a10"),  # (129)
)
VOTES = (
    Series("赞成", "#1f5f99", "", "#ffffff"),
    Series("反对", "#d6604d", "xx", "#5a1a10"),
    Series("弃权", "#f2c94c", "///", "#6b5310"),
    Series("未按", "#ffffff", "---", "#555555"),  # dots would cost 70 KB of SVG pattern
)
ATTENDANCE = (
    Series("实到", "#1f5f99", "", "#ffffff"),
    Series("请假", "#f2c94c", "///", "#6b5310"),
    Series("缺席", "#d6604d", "xx", "#5a1a10"),
)
SPOKEN = Series("用时", "#9ecae1", "", "#31556b")
OVER = Series("超时", "#d6604d", "xx", "#5a1a10")


def satisfaction_chart(rows: Sequence[Row3], fmt: Fmt) -> bytes:
    """Per question: 满意, 基本满意, 不满意 counts."""
    from server.record import chart_draw as d

    d.style()
    data = [(label, (a, b, d)) for label, a, b, d in rows]
    return d.to_bytes(d.stacked(data, SATISFACTION, d.SIZES[fmt]), fmt)


def votes_chart(rows: Sequence[Row4], fmt: Fmt) -> bytes:
    """Per round: 赞成, 反对, 弃权, 未按."""
    from server.record import chart_draw as d

    d.style()
    data = [(label, (f, a, ab, n)) for label, f, a, ab, n in rows]
    return d.to_bytes(d.stacked(data, VOTES, d.SIZES[fmt]), fmt)


def attendance_chart(rows: Sequence[Row4], fmt: Fmt) -> bytes:
    """Per meeting: 应到 (printed after the bar), 实到, 请假, 缺席."""
    from server.record import chart_draw as d

    d.style()
    data = [(label, (p, lv, ab)) for label, _, p, lv, ab in rows]
    expected = [e for _, e, _, _, _ in rows]
    return d.to_bytes(d.stacked(data, ATTENDANCE, d.SIZES[fmt], [f"应到{e}" for e in expected]), fmt)


def duration(seconds: int) -> str:
    m, s = divmod(max(0, seconds), 60)
    if not m:
        return f"{s}秒"
    return f"{m}分{s:02d}秒" if s else f"{m}分"


def speaking_chart(rows: Sequence[tuple[str, int, int]], fmt: Fmt) -> bytes:
    """Per question: seconds spoken (a bar; beyond the allowance dark and cross-hatched)
    against the allowance (a black mark across the bar), both printed after it."""
    from server.record import chart_draw as d

    d.style()
    size = d.SIZES[fmt]
    if not rows or not any(sp or al for _, sp, al in rows):
        return d.to_bytes(None, fmt)
    notes = [duration(sp) + (f" / 限时{duration(al)}" if al else "") for _, sp, al in rows]
    xmax = d.fit([(max(sp, al), d.tail_ems(n)) for (_, sp, al), n in zip(rows, notes, strict=True)], size)
    from matplotlib.lines import Line2D

    mark = Line2D([], [], color="black", linewidth=2.2, label="限时")
    c = d.canvas([label for label, _, _ in rows], size, xmax, [d.patch(SPOKEN), d.patch(OVER), mark])
    for (_, spoken, allowed), y, note in zip(rows, c.bars, notes, strict=True):
        within = min(spoken, allowed) if allowed else spoken
        if within:
            d.segment(c, y, 0, within, SPOKEN)
        if spoken > within:
            d.segment(c, y, within, spoken - within, OVER)
        if allowed:
            half = c.bar_h * 0.6  # a little beyond the bar, short of the label above
            c.ax.plot(
                [allowed] * 2, [y - half, y + half], color="black", linewidth=2.2, solid_capstyle="butt"
            )
        d.note(c, max(spoken, allowed), y, note)
    return d.to_bytes(c.fig, fmt)


# ---- rows from the record and the attendance grid ----


def satisfaction_rows(record: MeetingRecord) -> list[Row3]:
    """Every rated question (numbered as on the agenda), then every rated agenda item."""
    rows: list[Row3] = []
    for n, q in enumerate(record.questions, 1):
        if q.rating is not None:
            r = q.rating
            label = f"{n}. {q.question.title}"
            rows.append(
                (label, r.count(Choice.SATISFIED), r.count(Choice.BASIC), r.count(Choice.DISSATISFIED))
            )
    for it in record.item_ratings:
        r = it.result
        rows.append(
            (it.item.title, r.count(Choice.SATISFIED), r.count(Choice.BASIC), r.count(Choice.DISSATISFIED))
        )
    return rows


def vote_rows(record: MeetingRecord) -> list[Row4]:
    """Every closed round, labelled with its title, round and verdict."""
    rows: list[Row4] = []
    for v in record.votes:
        if v.result is None:
            continue
        verdict = "通过" if v.result.passed else "未通过"
        res = v.result
        label = f"{v.title}（第{v.round_no}轮，{verdict}）"
        rows.append((label, res.for_votes, res.against, res.abstain, res.not_voted))
    return rows


def speaking_rows(record: MeetingRecord) -> list[tuple[str, int, int]]:
    """Every question the hall reached: seconds spoken (asking, answer, follow-ups) and allowed."""
    return [
        (f"{n}. {q.question.title}", q.spoken_ms // 1000, q.allowance_ms // 1000)
        for n, q in enumerate(record.questions, 1)
        if q.reached
    ]


MAX_MEETINGS = 12  # the latest ones: more would not fit one A4 page of the DOCX


def attendance_rows(grid: Grid) -> list[Row4]:
    """Per meeting of the grid (rehearsals are never in it), oldest first: 应到, 实到, 请假, 缺席.

    Leave that was not approved counts as absence (the grid's codes 假 and 缺)."""
    rows: list[Row4] = []
    for mt in grid.meetings[-MAX_MEETINGS:]:
        marks = [mk for (_, mid), mk in grid.marks.items() if mid == mt.id]
        codes = [mk.code for mk in marks]
        present = sum(1 for c in codes if c in ("出", "迟", "离"))
        label = f"{mt.day} {mt.title}".strip()
        rows.append((label, len(marks), present, codes.count("假"), codes.count("缺")))
    return rows


CHARTS: dict[str, Callable[..., bytes]] = {
    "satisfaction": satisfaction_chart,
    "votes": votes_chart,
    "speaking": speaking_chart,
    "attendance": attendance_chart,
}


def meeting_rows(record: MeetingRecord) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the meeting's three charts, kind -> rows (satisfaction, votes,
    speaking), leaving out a chart with nothing to show. Plain tuples: they travel to the
    workshop, where a MeetingRecord cannot go (its setup holds mapping proxies)."""
    found: dict[str, list[tuple[Any, ...]]] = {
        "satisfaction": list(satisfaction_rows(record)),
        "votes": list(vote_rows(record)),
        "speaking": list(speaking_rows(record)),
    }
    return {kind: rows for kind, rows in found.items() if rows}


def draw_all(rows: dict[str, list[tuple[Any, ...]]], fmt: Fmt = "png") -> dict[str, bytes]:
    """Every chart of ``rows`` (from :func:`meeting_rows`) at once: one trip to the
    workshop for a DOCX. A PNG is 16 cm wide at 200 dpi: insert it at that width.

    ``pngs = await workshop.run(charts.draw_all, charts.meeting_rows(record), "png")``"""
    return {kind: CHARTS[kind](r, fmt) for kind, r in rows.items()}
