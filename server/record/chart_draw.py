"""How the record's charts are drawn (server/record/charts.py holds the charts themselves).

Drawn with matplotlib's object API (``Figure`` + ``savefig``), never pyplot: pyplot keeps
a global registry of figures that a server would leak and race on, and picks a GUI
backend. ``savefig`` draws a PNG with Agg and an SVG with the SVG backend, whatever
``matplotlib.use`` says, so no backend is chosen here. The style is set once per process
(:func:`style`); after that nothing global changes while drawing.

The layout: each row's label stands above its bar, full width, so a long Chinese title is
wrapped (with Chinese line-breaking rules) instead of squeezing the bars on a phone. The y
axis is measured in inches, so type, bars and gaps keep their sizes whatever the number
of rows; the x range is fitted so that the longest bar and the note after it both fit.

Text from users is drawn with math parsing off (``$`` stays a dollar sign) and escaped by
matplotlib's SVG writer, so no title can put markup into the SVG.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING


def _config_dir() -> None:
    """matplotlib keeps its font cache under MPLCONFIGDIR, else the home folder; a service
    without a writable home (deploy/systemd: ProtectHome) would rebuild it in a fresh
    temporary folder in every worker. Then keep it in the data folder."""
    if "MPLCONFIGDIR" not in os.environ and not os.access(Path.home(), os.W_OK):
        data = Path(os.environ.get("WENZHENG_DATA_DIR", "data")).resolve()
        os.environ["MPLCONFIGDIR"] = str(data / "matplotlib")


_config_dir()

import matplotlib  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from server.record.charts import DPI, EMPTY, FORMATS, Fmt, Series  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

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


def style() -> str:
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


def width(text: str) -> float:
    """Width in ems: a CJK (wide) character is one, anything else about half."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)


# Chinese typesetting keeps closing marks off the start of a line (避头): they take the
# character before along; and opening marks off the end of one (避尾): they move down.
NO_LINE_START = set("，。、；：？！）》」』”’…,.;:?!)")
NO_LINE_END = set("（《「『“‘(")
NEAR_BRACKET = 6.0  # ems: a bracket opened this close to the break starts the next line


def wrap(text: str, ems: float, lines: int = 2) -> list[str]:
    """``text`` in lines of at most ``ems``; beyond ``lines`` lines it is cut with "…"."""
    out: list[str] = []
    line = ""
    for c in " ".join(text.split()):
        if width(line + c) <= ems:
            line += c
            continue
        carry = ""
        opened = line.rfind("（")
        if opened > 0 and width(line[opened:]) <= NEAR_BRACKET:  # "…（草案）（第1" + "轮…"
            line, carry = line[:opened], line[opened:]  # the bracket goes down whole
        elif c in NO_LINE_START and len(line) > 1:
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
        while last and width(last + "…") > ems:
            last = last[:-1]
        out[-1] = last + "…"
    return out


@dataclass
class Canvas:
    """A figure whose y axis is measured in inches down from the top of the plot."""

    fig: Figure
    ax: Axes
    size: Size
    bars: list[float]  # each row's bar centre
    bar_h: float


def canvas(labels: Sequence[str], size: Size, xmax: float, legend: Sequence[Artist]) -> Canvas:
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
    return Canvas(fig, ax, size, bars, bar_h)


def patch(s: Series) -> Patch:
    return Patch(facecolor=s.fill, hatch=s.hatch, edgecolor=s.ink, linewidth=0.6, label=s.name)


def segment(c: Canvas, y: float, x0: float, w: float, s: Series) -> None:
    c.ax.barh(
        y, w, height=c.bar_h, left=x0, color=s.fill, hatch=s.hatch or None, edgecolor=s.ink, linewidth=0.6
    )
    c.ax.barh(y, w, height=c.bar_h, left=x0, fill=False, edgecolor="#222222", linewidth=0.6)


def axes_in(size: Size) -> float:
    return size.width_in - LEFT_IN - RIGHT_IN


def tail_ems(text: str) -> float:
    """Width of a count or note in ems of the label type (digits are half an em)."""
    return width(text) * TAIL


def fit(ends: Sequence[tuple[float, float]], size: Size) -> float:
    """The x range that fits each bar (its end in data) and the note after it (in ems)."""
    em_in = size.font_pt / 72
    room = [end / max(0.2, 1 - (ems + 0.5) * em_in / axes_in(size)) for end, ems in ends]
    return max([*room, 1.0])


def in_data(xmax: float, size: Size, ems: float) -> float:
    """``ems`` of label type as a length on an x axis running to ``xmax``."""
    return ems * size.font_pt / 72 / axes_in(size) * xmax


def tag(c: Canvas, x: float, y: float, text: str) -> None:
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


def note(c: Canvas, x: float, y: float, text: str) -> None:
    """Text after a bar's end."""
    x += in_data(c.ax.get_xlim()[1], c.size, 0.4)
    c.ax.text(x, y, text, va="center", ha="left", fontsize=c.size.font_pt * TAIL, parse_math=False)


def fits(n: int, xmax: float, size: Size) -> bool:
    """Whether the count ``n`` can be printed on its own segment."""
    return n >= in_data(xmax, size, tail_ems(str(n)) + 0.7)


def tails_of(
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
            f"{s.name}{n}" for n, s in zip(counts, series, strict=True) if n > 0 and not fits(n, xmax, size)
        ]
        out.append("  ".join(t for t in (*outside, note) if t))
    return out


def stacked(
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
        tails = tails_of(rows, series, notes, xmax, size)
        xmax = fit([(t, tail_ems(tail)) for t, tail in zip(totals, tails, strict=True)], size)
    tails = tails_of(rows, series, notes, xmax, size)
    c = canvas([label for label, _ in rows], size, xmax, [patch(s) for s in series])
    for (_, counts), y, tail in zip(rows, c.bars, tails, strict=True):
        x = 0.0
        for n, s in zip(counts, series, strict=True):
            if n <= 0:
                continue
            segment(c, y, x, n, s)
            if fits(n, xmax, size):
                tag(c, x + n / 2, y, str(n))
            x += n
        if tail:
            note(c, x, y, tail)
    return c.fig


def empty(size: Size) -> Figure:
    pt = size.font_pt / 72
    fig = Figure(figsize=(size.width_in, pt * 6), dpi=DPI)
    fig.text(0.5, 0.5, EMPTY, ha="center", va="center", fontsize=size.font_pt * 1.2, color="#444444")
    return fig


def svg_root(svg: str) -> str:
    """Scale with its box: width 100%, no fixed height (the viewBox keeps the ratio)."""
    head, sep, rest = svg.partition("<svg ")
    attrs, close, body = rest.partition(">")
    kept = [a for a in attrs.split('" ') if not a.startswith(("width=", "height="))]
    attrs = '" '.join(kept)
    if not attrs.endswith('"'):
        attrs += '"'
    return f'{head}{sep}width="100%" style="max-width: 30rem" role="img" {attrs}{close}{body}'


def to_bytes(fig: Figure | None, fmt: Fmt) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}")
    fig = fig or empty(SIZES[fmt])
    out = io.BytesIO()
    if fmt == "png":
        fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
        return out.getvalue()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return svg_root(out.getvalue().decode("utf-8")).encode("utf-8")
