"""The record's charts: satisfaction, votes, speaking time, attendance over a body's meetings.

One renderer for both outputs: PNG for the DOCX (16 cm wide at 200 dpi, read on A4) and
SVG for the pages (a viewBox and ``width="100%"``, read on a 360-px phone). Each chart
takes plain rows (a label and counts) and returns bytes; the adapters below turn a
:class:`~server.record.facts.MeetingRecord` or a body's attendance grid into rows.

Drawn with matplotlib's object API (``Figure`` + ``savefig``), never pyplot: pyplot keeps
a global registry of figures that a server would leak and race on, and picks a GUI
backend. ``savefig`` draws a PNG with Agg and an SVG with the SVG backend, whatever
``matplotlib.use`` says, so no backend is chosen here. The style is set once
per process (:func:`_style`); after that nothing global changes while drawing.

Printed in black and white. Every category has its own grey level AND its own hatch, so a
photocopy still tells 满意 from 基本满意; counts sit on a white label box, legible over
any fill. Each row's label stands above its bar, full width, so a long Chinese title is
wrapped instead of squeezing the bars on a phone.

Text from users (question titles, vote titles, meeting titles) is drawn with math parsing
off (``$`` stays a dollar sign) and escaped by matplotlib's SVG writer, so no title can
put markup into the SVG.
"""

from __future__ import annotations

import io
import logging
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from live.state import Choice

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

    from server.office.attendance_history import Grid
    from server.record.facts import MeetingRecord

log = logging.getLogger(__name__)

Fmt = Literal["png", "svg"]
FORMATS: tuple[Fmt, ...] = ("png", "svg")
KINDS = ("satisfaction", "votes", "speaking", "attendance")
EMPTY = "暂无数据"
DPI = 200

# Where Debian/Ubuntu (fonts-wqy-microhei) and Fedora put the font.
FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
)
# SVG keeps its text as text (svg.fonttype "none"): a chart is a few kilobytes instead of
# a few hundred (every CJK glyph as a path), its labels can be selected, searched and read
# aloud, and the viewer draws them in its own CJK font: every phone and desktop has one,
# named in this fallback list after the font the PNG uses. Paths would only pay off for a
# viewer without any CJK font, which our readers do not have.
FALLBACK_FAMILIES = (
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "DejaVu Sans",
)

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
    Series("未按", "#ffffff", "..", "#555555"),
)
ATTENDANCE = (
    Series("实到", "#1f5f99", "", "#ffffff"),
    Series("请假", "#f2c94c", "///", "#6b5310"),
    Series("缺席", "#d6604d", "xx", "#5a1a10"),
)
SPOKEN = Series("用时", "#9ecae1", "", "#31556b")
OVER = Series("超时", "#d6604d", "xx", "#5a1a10")


@dataclass(frozen=True)
class Size:
    """The page a format is read on: its width and type size."""

    width_in: float
    font_pt: float

    @property
    def label_ems(self) -> float:
        """How many ems of label fit across the plot (a little to spare)."""
        return (self.width_in - LEFT_IN - RIGHT_IN) * 72 / self.font_pt * 0.96


LEFT_IN = RIGHT_IN = 0.08  # the plot's side margins
TAIL = 0.9  # the type of counts and notes, relative to the labels'
SIZES: dict[Fmt, Size] = {
    "png": Size(16 / 2.54, 9.0),  # the A4 text block: 16 cm, 9 pt labels
    # The pages scale the SVG to their width: 3.6 in of 10 pt type shown on a 360-px
    # phone (about 340 px across) is type of 13 px; a desk page caps its width instead.
    "svg": Size(3.6, 10.0),
}

_lock = threading.Lock()
_family: list[str] = []


def _style() -> str:
    """Register the CJK font and set the style, once per process; returns the family name."""
    with _lock:
        if _family:
            return _family[0]
        name = "DejaVu Sans"
        found = next((p for p in FONT_FILES if Path(p).is_file()), None)
        if found is None:
            log.error(
                "charts: no CJK font (looked for %s); Chinese labels will not render. "
                "Install fonts-wqy-microhei.",
                ", ".join(FONT_FILES),
            )
        else:
            font_manager.fontManager.addfont(found)
            name = font_manager.FontProperties(fname=found).get_name()
        matplotlib.rcParams.update(
            {
                "font.family": ["sans-serif"],
                "font.sans-serif": [name, *FALLBACK_FAMILIES],
                "svg.fonttype": "none",
                "svg.hashsalt": "wenzheng",  # the same chart gives the same bytes (cache, tests)
                "hatch.linewidth": 0.8,
                "axes.unicode_minus": False,
            }
        )
        _family.append(name)
        return name


def _width(text: str) -> float:
    """Width in ems: a CJK (wide) character is one, anything else about half."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)


# Chinese typesetting keeps closing marks off the start of a line (避头): they take the
# character before along; and opening marks off the end of one (避尾): they move down.
NO_LINE_START = set("，。、；：？！）》」』”’…,.;:?!)")
NO_LINE_END = set("（《「『“‘(")


def wrap(text: str, ems: float, lines: int = 2) -> list[str]:
    """``text`` in lines of at most ``ems``; beyond ``lines`` lines it is cut with "…"."""
    out: list[str] = []
    line = ""
    for c in " ".join(text.split()):
        if _width(line + c) <= ems:
            line += c
            continue
        carry = ""
        if c in NO_LINE_START and len(line) > 1:
            line, carry = line[:-1], line[-1]
        while len(line) > 1 and line[-1] in NO_LINE_END:
            line, carry = line[:-1], line[-1] + carry
        out.append(line)
        line = (carry + c).lstrip()
    if line or not out:
        out.append(line)
    if len(out) > lines:
        out = out[:lines]
        last = out[-1]
        while last and _width(last + "…") > ems:
            last = last[:-1]
        out[-1] = last + "…"
    return out


@dataclass
class _Canvas:
    """A figure whose y axis is measured in inches down from the top of the plot."""

    fig: Figure
    ax: Axes
    size: Size
    bars: list[float]  # each row's bar centre
    bar_h: float


def _canvas(labels: Sequence[str], size: Size, xmax: float, legend: Sequence[Artist]) -> _Canvas:
    pt = size.font_pt / 72
    line_h, bar_h, gap = pt * 1.35, pt * 2.0, pt * 1.1
    top, bottom = (pt * 3.2 if legend else pt), pt * 0.6
    y, bars, wrapped = 0.0, [], []
    for label in labels:
        lines = wrap(label, size.label_ems)
        wrapped.append((y, lines))
        y += len(lines) * line_h + pt * 0.25
        bars.append(y + bar_h / 2)
        y += bar_h + gap
    content = max(y - gap, pt)
    height = top + content + bottom
    fig = Figure(figsize=(size.width_in, height), dpi=DPI)
    left, right = LEFT_IN, RIGHT_IN
    ax = fig.add_axes(
        (left / size.width_in, bottom / height, 1 - (left + right) / size.width_in, content / height)
    )
    ax.set_xlim(0, xmax)
    ax.set_ylim(content, 0)
    ax.set_axis_off()
    for at, lines in wrapped:
        ax.text(
            0,
            at,
            "\n".join(lines),
            va="top",
            ha="left",
            fontsize=size.font_pt,
            linespacing=1.25,
            parse_math=False,
        )
    if legend:
        fig.legend(
            handles=list(legend),
            loc="upper left",
            bbox_to_anchor=(left / size.width_in, 1),
            ncols=len(legend),
            frameon=False,
            fontsize=size.font_pt,
            handlelength=2.2,
            handleheight=1.1,
            columnspacing=1.2,
            borderaxespad=0.3,
        )
    return _Canvas(fig, ax, size, bars, bar_h)


def _patch(s: Series) -> Patch:
    return Patch(facecolor=s.fill, hatch=s.hatch, edgecolor=s.ink, linewidth=0.6, label=s.name)


def _segment(c: _Canvas, y: float, x0: float, w: float, s: Series) -> None:
    c.ax.barh(
        y, w, height=c.bar_h, left=x0, color=s.fill, hatch=s.hatch or None, edgecolor=s.ink, linewidth=0.6
    )
    c.ax.barh(y, w, height=c.bar_h, left=x0, fill=False, edgecolor="#222222", linewidth=0.6)


def _axes_in(size: Size) -> float:
    return size.width_in - LEFT_IN - RIGHT_IN


def _ems(text: str) -> float:
    """Width of a count or note in ems of the label type (digits are half an em)."""
    return _width(text) * TAIL


def _fit(ends: Sequence[tuple[float, float]], size: Size) -> float:
    """The x range that fits each bar (its end in data) and the note after it (in ems)."""
    em_in = size.font_pt / 72
    room = [end / max(0.2, 1 - (ems + 0.5) * em_in / _axes_in(size)) for end, ems in ends]
    return max([*room, 1.0])


def _in_data(xmax: float, size: Size, ems: float) -> float:
    """``ems`` of label type as a length on an x axis running to ``xmax``."""
    return ems * size.font_pt / 72 / _axes_in(size) * xmax


def _tag(c: _Canvas, x: float, y: float, text: str) -> None:
    c.ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=c.size.font_pt * TAIL,
        parse_math=False,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
    )


def _note(c: _Canvas, x: float, y: float, text: str) -> None:
    """Text after a bar's end."""
    x += _in_data(c.ax.get_xlim()[1], c.size, 0.4)
    c.ax.text(x, y, text, va="center", ha="left", fontsize=c.size.font_pt * TAIL, parse_math=False)


def _fits(n: int, xmax: float, size: Size) -> bool:
    """Whether the count ``n`` can be printed on its own segment."""
    return n >= _in_data(xmax, size, _ems(str(n)) + 0.7)


def _tails(
    rows: Sequence[tuple[str, Sequence[int]]],
    series: Sequence[Series],
    notes: Sequence[str],
    xmax: float,
    size: Size,
) -> list[str]:
    """Per row: the counts too narrow for their segment, named ("不满意1"), then the note."""
    out = []
    for (_, counts), note in zip(rows, notes, strict=True):
        outside = [
            f"{s.name}{n}" for n, s in zip(counts, series, strict=True) if n > 0 and not _fits(n, xmax, size)
        ]
        out.append("  ".join(t for t in (*outside, note) if t))
    return out


def _stacked(
    rows: Sequence[tuple[str, Sequence[int]]],
    series: Sequence[Series],
    size: Size,
    notes: Sequence[str] = (),
) -> Figure | None:
    """Horizontal stacked bars, one per row; a count too narrow for its segment is named
    after the bar instead, so every count is printed somewhere. The x range is the
    longest bar plus its note: a few rounds of fitting, since the range decides which
    counts fit on their segments and those that do not lengthen the notes."""
    totals = [sum(counts) for _, counts in rows]
    if not rows or not any(totals):
        return None
    notes = list(notes) or [""] * len(rows)
    xmax = float(max(totals))
    for _ in range(3):
        tails = _tails(rows, series, notes, xmax, size)
        xmax = _fit([(t, _ems(tail)) for t, tail in zip(totals, tails, strict=True)], size)
    tails = _tails(rows, series, notes, xmax, size)
    c = _canvas([label for label, _ in rows], size, xmax, [_patch(s) for s in series])
    for (_, counts), y, tail in zip(rows, c.bars, tails, strict=True):
        x = 0.0
        for n, s in zip(counts, series, strict=True):
            if n <= 0:
                continue
            _segment(c, y, x, n, s)
            if _fits(n, xmax, size):
                _tag(c, x + n / 2, y, str(n))
            x += n
        if tail:
            _note(c, x, y, tail)
    return c.fig


def _empty(size: Size) -> Figure:
    pt = size.font_pt / 72
    fig = Figure(figsize=(size.width_in, pt * 6), dpi=DPI)
    fig.text(0.5, 0.5, EMPTY, ha="center", va="center", fontsize=size.font_pt * 1.2, color="#444444")
    return fig


def _svg_root(svg: str) -> str:
    """Scale with its box: width 100%, no fixed height (the viewBox keeps the ratio)."""
    head, sep, rest = svg.partition("<svg ")
    attrs, close, body = rest.partition(">")
    kept = [a for a in attrs.split('" ') if not a.startswith(("width=", "height="))]
    attrs = '" '.join(kept)
    if not attrs.endswith('"'):
        attrs += '"'
    return f'{head}{sep}width="100%" style="max-width: 30rem" role="img" {attrs}{close}{body}'


def _bytes(fig: Figure | None, fmt: Fmt) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}")
    fig = fig or _empty(SIZES[fmt])
    out = io.BytesIO()
    if fmt == "png":
        fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
        return out.getvalue()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _svg_root(out.getvalue().decode("utf-8")).encode("utf-8")


def satisfaction_chart(rows: Sequence[Row3], fmt: Fmt) -> bytes:
    """Per question: 满意, 基本满意, 不满意 counts."""
    _style()
    data = [(label, (a, b, d)) for label, a, b, d in rows]
    return _bytes(_stacked(data, SATISFACTION, SIZES[fmt]), fmt)


def votes_chart(rows: Sequence[Row4], fmt: Fmt) -> bytes:
    """Per round: 赞成, 反对, 弃权, 未按."""
    _style()
    data = [(label, (f, a, ab, n)) for label, f, a, ab, n in rows]
    return _bytes(_stacked(data, VOTES, SIZES[fmt]), fmt)


def attendance_chart(rows: Sequence[Row4], fmt: Fmt) -> bytes:
    """Per meeting: 应到 (printed after the bar), 实到, 请假, 缺席."""
    _style()
    data = [(label, (p, lv, ab)) for label, _, p, lv, ab in rows]
    expected = [e for _, e, _, _, _ in rows]
    return _bytes(_stacked(data, ATTENDANCE, SIZES[fmt], [f"应到{e}" for e in expected]), fmt)


def duration(seconds: int) -> str:
    m, s = divmod(max(0, seconds), 60)
    if not m:
        return f"{s}秒"
    return f"{m}分{s:02d}秒" if s else f"{m}分"


def speaking_chart(rows: Sequence[tuple[str, int, int]], fmt: Fmt) -> bytes:
    """Per question: seconds spoken (a bar; beyond the allowance dark and cross-hatched)
    against the allowance (a black mark across the bar), both printed after it."""
    _style()
    size = SIZES[fmt]
    if not rows or not any(sp or al for _, sp, al in rows):
        return _bytes(None, fmt)
    notes = [duration(sp) + (f" / 限时{duration(al)}" if al else "") for _, sp, al in rows]
    xmax = _fit([(max(sp, al), _ems(n)) for (_, sp, al), n in zip(rows, notes, strict=True)], size)
    mark = Line2D([], [], color="black", linewidth=2.2, label="限时")
    c = _canvas([label for label, _, _ in rows], size, xmax, [_patch(SPOKEN), _patch(OVER), mark])
    for (_, spoken, allowed), y, note in zip(rows, c.bars, notes, strict=True):
        within = min(spoken, allowed) if allowed else spoken
        if within:
            _segment(c, y, 0, within, SPOKEN)
        if spoken > within:
            _segment(c, y, within, spoken - within, OVER)
        if allowed:
            half = c.bar_h * 0.6  # a little beyond the bar, short of the label above
            c.ax.plot(
                [allowed] * 2, [y - half, y + half], color="black", linewidth=2.2, solid_capstyle="butt"
            )
        _note(c, max(spoken, allowed), y, note)
    return _bytes(c.fig, fmt)


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


MAX_MEETINGS = 24  # the latest ones: a longer chart no longer reads on a page


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
