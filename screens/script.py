"""The chair's script (主持词): the lines the chair reads, in session order, with the live figures.

In a Chinese hall the chair reads from a script while an operator works the console. The
script is built from the agenda and the final list of questions; each line's wording is
a per-meeting template (Settings.script, edited by staff) with placeholders such as
{应到} {实到} {问题} filled from the state. A figure not known yet (before check-in, a
rating still open, the printed copy) is a blank to fill in by hand.

Which line is next is read from the state, never stored: a line is *read* once the
console did what the line announces (the check-in opened, the question was called, the
rating opened), and a result line once the session moved past it; the next line is the
first one not read after the last one read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from live.rules import has_quorum, quorum_needed
from live.setup import AgendaItem, Question
from live.state import MeetingState, VoteRound
from screens.view import View, tally_of

BLANK = "＿＿＿＿"  # a figure still unknown: the chair fills it in by hand


@dataclass(frozen=True)
class Step:
    key: str
    name: str  # the step as the edit page names it
    default: str
    placeholders: tuple[str, ...]


_MEETING = ("会议",)
_ATTENDANCE = ("会议", "应到", "实到", "请假", "缺席", "需到")
_QUESTION = ("序号", "问题", "提问人", "代表组", "应询人")
_RATING = ("满意", "基本满意", "不满意", "已评", "结果")
_VOTE = ("表决事项", "赞成", "反对", "弃权", "未按", "结果")

STEPS: tuple[Step, ...] = (
    Step("checkin", "签到", "各位代表：请扫描大屏幕上的二维码签到，签到后请保持手机畅通。", _MEETING),
    Step(
        "open",
        "开会（符合法定人数）",
        "各位代表：本次会议应到{应到}人，实到{实到}人，符合法定人数，现在开会。",
        _ATTENDANCE,
    ),
    Step(
        "open_short",
        "开会（不足法定人数）",
        "各位代表：本次会议应到{应到}人，实到{实到}人，不足法定人数（需到{需到}人），会议暂不能开始。"
        "请工作人员继续核实出席情况。",
        _ATTENDANCE,
    ),
    Step("item", "进入议程", "下面进行第{序号}项议程：{议程}。", ("序号", "议程")),
    Step("question", "请代表提问", "现在进行第{序号}个问题。请{提问人}代表提问，问题是：{问题}", _QUESTION),
    Step("answer", "请应询人回答", "请{应询人}回答。", _QUESTION),
    Step("followup", "请代表追问", "请{追问人}代表追问。", (*_QUESTION, "追问人")),
    Step("followup_reply", "请应询人答复追问", "请{应询人}答复追问。", (*_QUESTION, "追问人")),
    Step(
        "rate",
        "开始满意度测评",
        "请各位代表对{应询人}的答复进行满意度测评，请在手机上按键。",
        _QUESTION,
    ),
    Step(
        "result",
        "宣布测评结果",
        "测评结果：满意{满意}票，基本满意{基本满意}票，不满意{不满意}票，测评结果为：{结果}。",
        (*_QUESTION, *_RATING),
    ),
    Step("item_rate", "对议程测评", "请各位代表对“{议程}”进行满意度测评，请在手机上按键。", ("议程",)),
    Step(
        "item_result",
        "宣布议程测评结果",
        "“{议程}”测评结果：满意{满意}票，基本满意{基本满意}票，不满意{不满意}票，测评结果为：{结果}。",
        ("议程", *_RATING),
    ),
    Step("vote", "开始表决", "现在对“{表决事项}”进行表决，请各位代表在手机上按键。", ("表决事项",)),
    Step(
        "vote_result",
        "宣布表决结果",
        "表决结果：赞成{赞成}票，反对{反对}票，弃权{弃权}票，未按键{未按}人。“{表决事项}”{结果}。",
        _VOTE,
    ),
    Step("close", "闭会", "本次会议的各项议程已经全部完成，现在闭会。", _MEETING),
)
BY_KEY = {s.key: s for s in STEPS}

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class BadWording(ValueError):
    """Per step key, what is wrong with its wording (in Chinese, for the edit page)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def check_wording(form: Mapping[str, str]) -> dict[str, str]:
    """The wording of every step from the edit form, checked: only what differs from the
    default is kept (so a later change of a default reaches meetings that never edited
    that step). Raises BadWording naming each unknown placeholder."""
    errors: dict[str, str] = {}
    kept: dict[str, str] = {}
    for step in STEPS:
        text = form.get(step.key, step.default).replace("\r\n", "\n").strip()
        if not text:
            errors[step.key] = f"“{step.name}”不能为空；要用默认内容请点“恢复默认”。"
            continue
        if len(text) > 500:
            errors[step.key] = f"“{step.name}”过长（最多500字）。"
            continue
        unknown = [name for name in _PLACEHOLDER.findall(text) if name not in step.placeholders]
        stray = _PLACEHOLDER.sub("", text)
        if unknown:
            known = "、".join("{" + p + "}" for p in step.placeholders)
            listed = "、".join("{" + u + "}" for u in unknown)
            errors[step.key] = f"“{step.name}”中的占位符{listed}无法识别。这一步可用的占位符：{known}。"
        elif "{" in stray or "}" in stray:
            errors[step.key] = f"“{step.name}”中的花括号不成对：占位符要写成{{应到}}这样。"
        elif text != step.default:
            kept[step.key] = text
    if errors:
        raise BadWording(errors)
    return kept


def wording(settings_script: Mapping[str, str], key: str) -> str:
    return settings_script.get(key) or BY_KEY[key].default


@dataclass(frozen=True)
class Part:
    """A piece of a line: literal text, or a filled placeholder (``figure``) or a blank."""

    text: str
    figure: bool = False
    blank: bool = False


@dataclass(frozen=True)
class Line:
    key: str
    parts: tuple[Part, ...]
    status: str  # "read", "next" or "later"

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts)


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[Line, ...]


def fill(template: str, values: Mapping[str, str | None]) -> tuple[Part, ...]:
    """``template`` with its placeholders filled; a value of None is a blank."""
    parts: list[Part] = []
    at = 0
    for m in _PLACEHOLDER.finditer(template):
        if m.start() > at:
            parts.append(Part(template[at : m.start()]))
        value = values.get(m.group(1))
        parts.append(Part(BLANK, blank=True) if value is None else Part(value, figure=True))
        at = m.end()
    if at < len(template):
        parts.append(Part(template[at:]))
    return tuple(parts)


_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 25 -> 二十五 (an agenda never runs past 99)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _DIGITS[tens]
    return head + "十" + (_DIGITS[ones] if ones else "")


def needed(state: MeetingState) -> int:
    """The fewest present who make the quorum (0 when nobody is expected, as no number does).

    Arithmetic, not a search: the script is rendered on every attendance update, and trying
    every head count up to 应到 cost milliseconds per update in a 3,000-member body."""
    expected = state.expected
    return quorum_needed(state.setup.settings.quorum_rule, expected) if expected > 0 else 0


@dataclass
class _Draft:
    key: str
    values: dict[str, str | None]
    done: bool | None  # None: a result line, read once any later line is read


class _Builder:
    def __init__(self, view: View | None, state: MeetingState) -> None:
        self.view = view  # None: the printed copy, every live figure a blank
        self.state = state
        self.sections: list[tuple[str, list[_Draft]]] = []
        order = [q.id for q in state.setup.questions]
        self.q_index = {qid: i for i, qid in enumerate(order)}
        self.current_q = self.q_index.get(state.question_id, -1) if state.question_id else -1
        item = state.setup.agenda_item(state.agenda_item_id) if state.agenda_item_id else None
        self.current_item = item.position if item else None

    @property
    def live(self) -> bool:
        return self.view is not None

    def add(self, key: str, values: dict[str, str | None], done: bool | None) -> None:
        self.sections[-1][1].append(_Draft(key, values, done if self.live else False))

    def item_entered(self, item: AgendaItem) -> bool:
        return self.current_item is not None and self.current_item >= item.position

    def opening(self) -> None:
        s = self.state
        started = (
            self.current_item is not None or s.question_id is not None or bool(s.votes) or bool(s.ratings)
        )
        self.sections.append(("开会", []))
        self.add("checkin", {"会议": s.setup.title}, s.checkin_open or s.present_count > 0 or started)
        figures: dict[str, str | None] = {"会议": s.setup.title, "应到": None, "实到": None}
        figures.update({"请假": None, "缺席": None, "需到": None})
        if self.live:
            figures.update(
                应到=str(s.expected),
                实到=str(s.present_count),
                请假=str(s.leave_count),
                缺席=str(s.expected - s.present_count - s.leave_count),
                需到=str(needed(s)),
            )
        quorum = has_quorum(s.setup.settings.quorum_rule, s.expected, s.present_count)
        if self.live:
            self.add("open" if quorum else "open_short", figures, started and quorum)
        else:  # printed: the chair cannot know beforehand, so both wordings are on paper
            self.add("open", figures, False)
            self.add("open_short", figures, False)

    def question(self, number: int, q: Question) -> None:
        s = self.state
        index = self.q_index[q.id]
        rating = s.ratings.get(q.id)
        rated = rating is not None and rating.result is not None
        past = self.current_q > index or rated
        current = self.current_q == index
        asker = s.setup.deputies.get(q.asker_id) if q.asker_id else None
        values: dict[str, str | None] = {
            "序号": chinese_number(number),
            "问题": q.title,
            "提问人": asker.name if asker else None,
            "代表组": (asker.group if asker else q.group) or None,
            "应询人": "、".join(f"{r.title}{r.name}" for r in q.respondents) or None,
        }
        phase = s.phase.value if current and s.phase else ""
        self.add("question", values, past or current)
        self.add("answer", values, past or (current and phase not in ("", "asking")))
        self.followup(values, phase)
        self.add("rate", values, past or rating is not None)
        self.add("result", {**values, **self.rating_figures(q.id)}, None)

    def followup(self, values: dict[str, str | None], phase: str) -> None:
        """A 追问 is not planned: on paper it is an optional line, live it shows while the
        current question is in it (the state keeps no record of a 追问 once it is over)."""
        if not self.live:
            self.add("followup", {**values, "追问人": None}, False)
            self.add("followup_reply", {**values, "追问人": None}, False)
            return
        if phase not in ("followup_ask", "followup_reply"):
            return
        speaker = self.state.setup.deputies.get(self.state.speaker_id) if self.state.speaker_id else None
        named = {**values, "追问人": speaker.name if speaker else None}
        if phase == "followup_ask":  # the reply's phase no longer names who asked
            self.add("followup", named, True)
        self.add("followup_reply", named, phase == "followup_reply")

    def rating_figures(self, key: int) -> dict[str, str | None]:
        rating = self.state.ratings.get(key)
        figures: dict[str, str | None] = dict.fromkeys(_RATING)
        if rating is None or rating.result is None or not self.live:
            return figures
        tally = tally_of(rating.result, is_open=False, rule=self.state.setup.settings.rating_rule)
        counts = {line.label: str(line.count) for line in tally.lines}
        figures.update(counts)
        figures["已评"] = str(tally.cast)
        # Read as the projector shows it: the grade or what stands in its place (无有效评价,
        # 不评定等次), with the base it was measured on and why a grade is missing.
        said = "；".join(part for part in (tally.rule, tally.note) if part)
        figures["结果"] = tally.verdict + (f"（{said}）" if said else "")
        return figures

    def item_rating(self, item: AgendaItem) -> None:
        rating = self.state.ratings.get(-item.id)
        self.add("item_rate", {"议程": item.title}, rating is not None)
        self.add("item_result", {"议程": item.title, **self.rating_figures(-item.id)}, None)

    def vote(self, title: str, vote: VoteRound | None) -> None:
        self.add("vote", {"表决事项": title}, vote is not None)
        figures: dict[str, str | None] = {"表决事项": title, **dict.fromkeys(_VOTE[1:])}
        if vote is not None and vote.result is not None and self.live:
            r = vote.result
            figures.update(
                赞成=str(r.for_votes),
                反对=str(r.against),
                弃权=str(r.abstain),
                未按=str(r.not_voted),
                结果="获得通过" if r.passed else "未获通过",
            )
        self.add("vote_result", figures, None)

    def agenda(self) -> None:
        s = self.state
        questions_placed = False
        votes_by_item: dict[int | None, list[VoteRound]] = {}
        for vote in s.votes.values():
            votes_by_item.setdefault(vote.item_id, []).append(vote)
        agenda_ids = {item.id for item in s.setup.agenda}
        for number, item in enumerate(sorted(s.setup.agenda, key=lambda i: i.position), start=1):
            self.sections.append((f"第{chinese_number(number)}项　{item.title}", []))
            self.add("item", {"序号": chinese_number(number), "议程": item.title}, self.item_entered(item))
            if item.kind == "inquiry" and not questions_placed:
                questions_placed = True
                for n, q in enumerate(s.setup.questions, start=1):
                    self.question(n, q)
            if item.kind == "rating" or -item.id in s.ratings:
                self.item_rating(item)
            votes = votes_by_item.get(item.id, [])
            if item.kind == "vote" and not votes:
                self.vote(item.title, None)
            for vote in votes:
                self.vote(vote.title, vote)
        others = [v for key, vs in votes_by_item.items() if key not in agenda_ids for v in vs]
        if s.setup.questions and not questions_placed:
            self.sections.append(("询问", []))
            for n, q in enumerate(s.setup.questions, start=1):
                self.question(n, q)
        if others:
            self.sections.append(("其他表决", []))
            for vote in others:
                self.vote(vote.title, vote)

    def closing(self) -> None:
        self.sections.append(("闭会", []))
        self.add("close", {"会议": self.state.setup.title}, self.state.closed)

    def build(self, words: Callable[[str], str]) -> list[Section]:
        self.opening()
        self.agenda()
        self.closing()
        drafts = [d for _, ds in self.sections for d in ds]
        # A result line is read once any later line is; the rest as the console did them.
        read_later = False
        read: list[bool] = [False] * len(drafts)
        for i in range(len(drafts) - 1, -1, -1):
            done = drafts[i].done
            read[i] = read_later if done is None else done
            read_later = read_later or read[i]
        # The next line comes after the last one read: an item the chair skipped (entered
        # a later one) does not hold the highlight back.
        last = max((i for i, r in enumerate(read) if r), default=-1)
        next_at = next((i for i in range(last + 1, len(read)) if not read[i]), None) if self.live else None
        out: list[Section] = []
        i = 0
        for title, ds in self.sections:
            lines = []
            for d in ds:
                status = "read" if read[i] else "next" if i == next_at else "later"
                lines.append(Line(d.key, fill(words(d.key), d.values), status))
                i += 1
            out.append(Section(title, tuple(lines)))
        return out


def live_script(view: View) -> list[Section]:
    """The script as the chair reads it now: live figures, the next line marked."""
    script = view.state.setup.settings.script
    return _Builder(view, view.state).build(lambda key: wording(script, key))


def printed_script(state: MeetingState) -> list[Section]:
    """The whole script before the session: every live figure a blank, nothing read."""
    script = state.setup.settings.script
    return _Builder(None, state).build(lambda key: wording(script, key))
