"""The results of a held meeting as sheets: one table per kind, shared by the XLSX, the
CSVs and the results page (server/record/results_files.py, server/web/routes/results.py).

Pure: a :class:`~server.record.facts.MeetingRecord` and the meeting's reporters
(server/record/reporters.py) in, :class:`Sheet` values out. A cell is text, a whole
number or a rate (a fraction, shown as a percentage); the column says which, so the
XLSX writes numbers as numbers and the page and the CSV read "56.3%".

Secrecy. A rating and a secret vote appear only as counts: the record holds nothing
else of them (facts.py). A named (记名) vote's choices are public by law; the sheet
``named`` lists them and exists only when the meeting had a named vote.

The public page reads :mod:`server.record.results_public` instead: counts only, no list
of persons of any kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from live.setup import Question
from live.state import Choice, RatingResult, Ungraded, VoteChoice
from screens import messages as msg
from screens.view import tally_of
from server.base.days import second_of_ms
from server.record.facts import Attendance, MeetingRecord, QuestionRecord, VoteRecord
from server.record.reporters import KIND_NAMES, Reporter, report_results

Cell = str | int | float | None
Kind = Literal["text", "int", "pct"]
SHEET_KEYS = ("attendance", "ratings", "votes", "named", "speaking", "reports")
NOT_RATED = "未测评"
FOR_REFERENCE = "仅供参考"
NO_VALID = "无有效评价"
NOT_REACHED = "未在会上询问"


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = "text"
    width: int = 10  # in Excel's character widths; a hanzi is about two


@dataclass(frozen=True)
class Sheet:
    """One kind of result: an optional summary line above (应到 48 …), then the table."""

    key: str  # attendance, ratings, votes, named, speaking, reports: the CSV's name
    title: str  # the XLSX sheet's name and the page's heading
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    summary: tuple[tuple[str, int], ...] = ()

    @property
    def headers(self) -> list[str]:
        return [c.title for c in self.columns]

    def shown(self) -> list[list[str]]:
        """The rows as text, as the page and the CSV show them."""
        return [[shown(v, c.kind) for v, c in zip(row, self.columns, strict=True)] for row in self.rows]


def shown(value: Cell, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "pct" and isinstance(value, float):
        return f"{value * 100:.1f}%"
    return str(value)


def clock(ms: int | None) -> str:
    """14:38:13 in China time; "" when it never happened."""
    return second_of_ms(ms)[11:] if ms is not None else ""


def _rate(result: RatingResult, choice: Choice) -> float | None:
    """The rate as the hall heard it, to a tenth of a percent (screens/view.py rounds the
    same way), so the XLSX, the CSV, the page and the projector read the same figure."""
    if not result.base:
        return None
    return float(f"{float(result.rate(choice) * 100):.1f}") / 100


def verdict(result: RatingResult | None) -> str:
    """The grade, or what stands in its place (仅供参考 / 无有效评价 / 未测评)."""
    if result is None:
        return NOT_RATED
    if result.ungraded is Ungraded.NO_QUORUM or not result.quorum:
        return FOR_REFERENCE
    if result.ungraded is not None or result.grade is None:
        return NO_VALID
    return msg.CHOICES[result.grade]


def officials(q: Question) -> str:
    return "、".join(f"{r.name}（{r.title}）" if r.title else r.name for r in q.respondents)


# -- 出席 ---------------------------------------------------------------------------------


def attendance_status(a: Attendance) -> str:
    if a.status == "leave":
        return "请假"
    if a.status == "absent":
        return "缺席"
    marks = [m for m, on in (("迟到", a.late), ("中途离会", a.left)) if on]
    return "、".join(marks) or "出席"


def attendance_sheet(record: MeetingRecord) -> Sheet:
    deputies = record.setup.deputies
    rows = tuple(
        (
            n,
            deputies[a.deputy_id].name,
            deputies[a.deputy_id].group,
            attendance_status(a),
            clock(a.checked_in_ms),
            clock(a.left_ms),
            clock(a.returned_ms),
        )
        for n, a in enumerate(record.attendance, start=1)
    )
    summary = (
        ("应到", record.expected),
        ("实到", len(record.with_status("present"))),
        ("请假", len(record.with_status("leave"))),
        ("缺席", len(record.with_status("absent"))),
        ("迟到", len(record.late)),
        ("中途离会", len(record.left)),
    )
    columns = (
        Column("序号", "int", 6),
        Column("姓名", width=12),
        Column("代表小组", width=16),
        Column("出席情况", width=16),
        Column("签到时间", width=10),
        Column("离会时间", width=10),
        Column("返回时间", width=10),
    )
    return Sheet("attendance", "出席", columns, rows, summary)


# -- 满意度测评 -----------------------------------------------------------------------------

# The grade right after the rates: on a screen too narrow for every column, what was
# decided is seen before the base and the notes (looked at on the results page at 1366).
RATING_COUNTS = (
    Column("满意", "int", 7),
    Column("基本满意", "int", 9),
    Column("不满意", "int", 7),
    Column("合计", "int", 7),
    Column("满意率", "pct", 8),
    Column("基本满意率", "pct", 10),
    Column("不满意率", "pct", 9),
    Column("等次", width=10),
    Column("基数", "int", 7),
    Column("基数规则", width=22),
    Column("说明", width=24),
    Column("纸质计票", width=16),
)


def rating_cells(record: MeetingRecord, result: RatingResult | None, note: str = "") -> tuple[Cell, ...]:
    """The counts, base, rule, rates, grade, note and paper count of one rating."""
    if result is None:
        return (None, None, None, None, None, None, None, NOT_RATED, None, "", note, "")
    tally = tally_of(result, False, record.setup.settings.rating_rule)
    return (
        result.count(Choice.SATISFIED),
        result.count(Choice.BASIC),
        result.count(Choice.DISSATISFIED),
        result.cast,
        _rate(result, Choice.SATISFIED),
        _rate(result, Choice.BASIC),
        _rate(result, Choice.DISSATISFIED),
        verdict(result),
        result.base,
        tally.rule,
        tally.note or note,
        "纸质计票" if result.paper is not None else "",
    )


def _asker(record: MeetingRecord, q: QuestionRecord) -> tuple[str, str]:
    deputy = record.setup.deputies.get(q.question.asker_id) if q.question.asker_id is not None else None
    return (deputy.name if deputy else ""), (q.question.group or (deputy.group if deputy else ""))


def ratings_sheet(record: MeetingRecord) -> Sheet:
    rows: list[tuple[Cell, ...]] = []
    for item in record.item_ratings:
        rows.append(
            (f"议程{item.item.position}", item.item.title, "", "", "", *rating_cells(record, item.result))
        )
    for q in record.questions:
        name, group = _asker(record, q)
        note = "" if q.reached else NOT_REACHED
        head: tuple[Cell, ...] = (
            f"问题{q.question.position}",
            q.question.title,
            name,
            group,
            officials(q.question),
        )
        rows.append((*head, *rating_cells(record, q.rating, note)))
    columns = (
        Column("序号", width=8),
        Column("测评事项", width=40),
        Column("提问代表", width=10),
        Column("代表小组", width=14),
        Column("应询人", width=30),
        *RATING_COUNTS,
    )
    return Sheet("ratings", "满意度测评", columns, tuple(rows))


# -- 表决 -----------------------------------------------------------------------------------


def vote_rule(record: MeetingRecord, v: VoteRecord) -> str:
    """通过条件 in words: "全体代表过半数"."""
    return msg.vote_base(v.base, record.setup.settings.body_kind) + msg.THRESHOLDS[v.threshold]


def vote_verdict(v: VoteRecord) -> str:
    return msg.VERDICTS[v.result.passed] if v.result is not None else "未结束"


def votes_sheet(record: MeetingRecord) -> Sheet:
    rows: list[tuple[Cell, ...]] = []
    for v in record.votes:
        r = v.result
        counts: tuple[Cell, ...] = (
            (r.for_votes, r.against, r.abstain, r.not_voted) if r else (None, None, None, None)
        )
        rows.append(
            (
                v.title,
                f"第{v.round_no}轮",
                "无记名" if v.secret else "记名",
                msg.VOTE_METHODS[v.method],
                vote_rule(record, v),
                r.base if r else None,
                *counts,
                vote_verdict(v),
                "已宣布" if v.announced else "未宣布",
            )
        )
    columns = (
        Column("表决事项", width=40),
        Column("轮次", width=7),
        Column("方式", width=8),
        Column("计票方式", width=10),
        Column("通过条件", width=18),
        Column("基数", "int", 7),
        Column(msg.VOTE_CHOICES[VoteChoice.FOR], "int", 7),
        Column(msg.VOTE_CHOICES[VoteChoice.AGAINST], "int", 7),
        Column(msg.VOTE_CHOICES[VoteChoice.ABSTAIN], "int", 7),
        Column(msg.NOT_VOTED, "int", 7),
        Column("结果", width=8),
        Column("宣布", width=8),
    )
    return Sheet("votes", "表决", columns, tuple(rows))


def named_sheet(record: MeetingRecord) -> Sheet | None:
    """A named vote's choices, member by member (public by law); None without a named vote."""
    named = [v for v in record.votes if not v.secret]
    if not named:
        return None
    deputies = record.setup.deputies
    rows: list[tuple[Cell, ...]] = []
    for v in named:
        for deputy_id, choice in v.named:
            d = deputies.get(deputy_id)
            rows.append(
                (
                    v.title,
                    f"第{v.round_no}轮",
                    d.name if d else "",
                    d.group if d else "",
                    msg.VOTE_CHOICES[choice],
                )
            )
    columns = (
        Column("表决事项", width=40),
        Column("轮次", width=7),
        Column("姓名", width=12),
        Column("代表小组", width=16),
        Column("表决意见", width=10),
    )
    return Sheet("named", "记名表决", columns, tuple(rows))


# -- 发言时间 -------------------------------------------------------------------------------


def _seconds(ms: int) -> int:
    return round(ms / 1000)


def speaking_sheet(record: MeetingRecord) -> Sheet:
    rows: list[tuple[Cell, ...]] = []
    for q in record.questions:
        if not q.stretches:
            continue
        label, title = f"问题{q.question.position}", q.question.title
        over = 0
        for s in q.stretches:
            speaker = record.name(s.speaker_id) if s.speaker_id is not None else officials(q.question)
            spoken, allowed = _seconds(s.duration_ms), _seconds(s.allowance_ms)
            over += max(0, spoken - allowed)
            phase = msg.PHASES[s.phase]
            rows.append(
                (label, title, phase, speaker, clock(s.start_ms), spoken, allowed, max(0, spoken - allowed))
            )
        # the total's overrun adds up each part's: time one speaker left over is not
        # credited to another
        rows.append((label, title, "合计", "", "", _seconds(q.spoken_ms), _seconds(q.allowance_ms), over))
    items = {i.id: i for i in record.setup.agenda}
    for n, sp in enumerate(record.speeches, start=1):
        item = items.get(sp.item_id) if sp.item_id is not None else None
        spoken, allowed = _seconds(sp.spoken_ms), _seconds(sp.allowance_ms)
        rows.append(
            (
                f"发言{n}",
                item.title if item else "",
                f"第{sp.nth}次发言",
                record.name(sp.deputy_id),
                clock(sp.start_ms),
                spoken,
                allowed,
                max(0, spoken - allowed),
            )
        )
    columns = (
        Column("序号", width=8),
        Column("事项", width=40),
        Column("环节", width=12),
        Column("发言人", width=30),
        Column("开始时间", width=10),
        Column("用时（秒）", "int", 10),
        Column("限时（秒）", "int", 10),
        Column("超时（秒）", "int", 10),
    )
    return Sheet("speaking", "发言时间", columns, tuple(rows))


# -- 述职评议 -------------------------------------------------------------------------------


def reports_sheet(record: MeetingRecord, reporters: dict[int, Reporter]) -> Sheet:
    rows: list[tuple[Cell, ...]] = []
    for r in report_results(record, reporters):
        head: tuple[Cell, ...] = (
            f"议程{r.item.position}",
            r.item.title,
            r.reporter.label,
            KIND_NAMES[r.reporter.kind],
        )
        rows.append((*head, *rating_cells(record, r.result)))
    columns = (
        Column("序号", width=8),
        Column("议程", width=36),
        Column("述职人", width=28),
        Column("类别", width=12),
        *RATING_COUNTS,
    )
    return Sheet("reports", "述职评议", columns, tuple(rows))


# -- all of them ----------------------------------------------------------------------------


def sheets(record: MeetingRecord, reporters: dict[int, Reporter]) -> list[Sheet]:
    """Every sheet of the meeting, in the workbook's order (记名表决 only with a named vote)."""
    named = named_sheet(record)
    return [
        attendance_sheet(record),
        ratings_sheet(record),
        votes_sheet(record),
        *([named] if named else []),
        speaking_sheet(record),
        reports_sheet(record, reporters),
    ]


def by_key(all_sheets: Sequence[Sheet], key: str) -> Sheet | None:
    return next((s for s in all_sheets if s.key == key), None)
