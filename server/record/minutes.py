"""What the draft minutes (会议纪要) of a held meeting say: pure, from its MeetingRecord.

A 纪要 is an official document (公文) of what the meeting decided (议定事项), issued by the
body's organ: a people's congress's session by its presidium (主席团), a standing
committee's meeting by the standing committee. The office edits the draft in Word and
issues it by its own procedure, so the draft never claims to be final: the period number
and the date of issue are placeholders in 【】, and what the record cannot know (the 交办
decision, when none is recorded yet) is a sentence marked 【待补充】 for staff to complete.

Drawn from the record: the opening paragraph (when, where, who chaired, 应到 / 实到 /
请假 / 缺席, 列席), then the matters numbered 一、二、…: each report heard and its rating,
the inquiry and each question's rating, each matter voted by its last round (a revote is
said plainly: 经重新表决), the questions assigned for follow-up; at the end the 出席 / 请假 /
缺席 / 列席 lines. Only counts of a secret poll appear, never who took part in it: the
record holds nothing else (server/record/facts.py).

:mod:`server.record.minutes_docx` lays it out after GB/T 9704-2012;
:mod:`server.record.minutes_load` gathers the input from the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from live.rules import has_quorum
from live.setup import AttendeeKind, BodyKind
from live.state import Choice, RatingResult, Ungraded, VoteMethod
from server.base.days import chinese_day, day_of_ms, numeral
from server.record.facts import MeetingRecord, QuestionRecord, VoteRecord
from server.record.reporters import Reporter

DRAFT_NOTE = "（草稿，请修改后按程序印发）"
REHEARSAL_NOTE = "（彩排记录，不得印发）"
NOT_CLOSED_NOTE = "（会议尚未结束，内容截至生成时）"
TO_COMPLETE = "【待补充】"
GRADES = {Choice.SATISFIED: "满意", Choice.BASIC: "基本满意", Choice.DISSATISFIED: "不满意"}
# Beyond this many present, the 出席 line names the count, not every member (a county
# congress of 300): the sign-in sheet is the list.
MAX_NAMED_PRESENT = 60


@dataclass(frozen=True)
class AssignedItem:
    """A question the 交办 decision made a follow-up item."""

    title: str
    priority: bool  # 重点督办
    organs: tuple[str, ...] = ()  # the lead first; empty until staff set them


@dataclass(frozen=True)
class Decision:
    """The meeting's recorded 交办 decision (server/office/followup.py)."""

    organ: str
    decided_on: dt.date
    document_no: str
    reply_due: dt.date | None
    items: tuple[AssignedItem, ...]
    closed: tuple[tuple[str, str], ...] = ()  # (question, reason) not made items


@dataclass(frozen=True)
class Para:
    """A paragraph of a matter: ``lead`` (a sub-heading such as "（一）…", set in 楷体)
    followed by ``text``."""

    text: str
    lead: str = ""


@dataclass(frozen=True)
class Matter:
    """One 议定事项: its first-level heading (without the numeral) and its paragraphs."""

    heading: str
    paras: tuple[Para, ...]


@dataclass(frozen=True)
class Minutes:
    notes: tuple[str, ...]  # the red marking lines at the very top: always the draft note
    mark: str  # 发文机关标志: the organ's name + 会议纪要
    number: str  # 〔年份〕第【　】期
    title: str
    opening: str
    matters: tuple[Matter, ...]
    lines: tuple[tuple[str, str], ...]  # ("出席", names), ("请假", names) …
    issuer: str  # 版记: the organ that issues, a placeholder
    issued: str  # 版记: the day of issue, a placeholder

    @property
    def core_title(self) -> str:
        """The DOCX's title property: says 草稿, as the first line does."""
        return f"{self.title}（草稿）"


def organ_of(body_name: str, kind: BodyKind) -> str:
    """Who issues the 纪要: a congress's presidium, or the standing committee itself."""
    if kind is BodyKind.CONGRESS:
        return f"{body_name}主席团"
    return body_name


def deciding_organ(kind: BodyKind) -> str:
    """Who usually decides the 交办 (DOMAIN.md, "After the meeting")."""
    return "主席团" if kind is BodyKind.CONGRESS else "主任会议"


def _members(kind: BodyKind) -> str:
    return "代表" if kind is BodyKind.CONGRESS else "组成人员"


def _day(record: MeetingRecord) -> dt.date | None:
    try:
        return dt.date.fromisoformat(record.setup.held_on)
    except ValueError:
        return day_of_ms(record.opened_ms) if record.opened_ms is not None else None


def _when(record: MeetingRecord) -> str:
    day = _day(record)
    text = chinese_day(day) if day else "【会议日期】"
    hour = record.setup.starts_at.partition(":")[0]
    if hour.isdigit():
        text += "上午" if int(hour) < 12 else "下午"
    return text


def rating_text(result: RatingResult) -> str:
    """ "测评结果为满意（满意 25 票，…）", or why it has no grade."""
    counts = "，".join(f"{GRADES[c]}{result.count(c)}票" for c in Choice)
    if result.ungraded is Ungraded.NO_QUORUM:
        return f"测评开始时未达到法定人数，结果仅供参考（{counts}）"
    if result.grade is None:
        return f"测评无有效评价（{counts}）"
    return f"测评结果为{GRADES[result.grade]}（{counts}）"


def _closed(text: str) -> str:
    """A title as a sentence: a question already ends with its mark."""
    return text if text.endswith(("？", "。", "！", "?")) else text + "。"


def _book(title: str) -> str:
    title = title.strip()
    if not title:
        return "【表决事项名称】"
    return title if title.startswith("《") else f"《{title}》"


def _method(v: VoteRecord) -> str:
    if v.method is VoteMethod.HANDS:
        return "举手"
    return "无记名" if v.secret else "记名"


def _counts(v: VoteRecord) -> str:
    r = v.result
    assert r is not None
    text = f"赞成{r.for_votes}票，反对{r.against}票，弃权{r.abstain}票"
    return text + (f"，未按{r.not_voted}人" if r.not_voted else "")


def vote_matter(rounds: tuple[VoteRecord, ...]) -> Matter | None:
    """A matter voted, by its last closed round; None when no round closed."""
    closed = [v for v in rounds if v.result is not None]
    if not closed:
        return None
    first, last = rounds[0], closed[-1]
    assert last.result is not None
    title = _book(first.title or last.title)
    passed = last.result.passed
    text = f"会议以{_method(last)}方式进行表决。"
    if last.round_no > 1 or len(closed) > 1:
        earlier = "首次表决未获通过" if not closed[0].result or not closed[0].result.passed else "首次表决后"
        text += f"{earlier}，经重新表决，{_counts(last)}，"
    else:
        text += f"{_counts(last)}，"
    text += "获得通过。" if passed else "未获通过。"
    heading = f"会议表决通过了{title}" if passed else f"{title}未获通过"
    return Matter(heading, (Para(text),))


def _heard(title: str, reporter: Reporter | None) -> str:
    if reporter is not None:
        return f"会议听取了{reporter.label}的述职报告"
    if title.startswith("听取"):
        return f"会议听取了{title.removeprefix('听取')}"
    return f"会议进行了“{title}”议程"


def _asked(record: MeetingRecord, q: QuestionRecord) -> str:
    question = q.question
    who = record.name(question.asker_id)
    deputy = record.setup.deputies.get(question.asker_id) if question.asker_id is not None else None
    group = question.group or (deputy.group if deputy else "")
    asker = f"{group}{who}代表" if who else (group or "代表")
    respondents = "、".join(f"{r.title}{r.name}" for r in question.respondents) or "有关负责人"
    text = f"{asker}提问，{respondents}答复"
    followers = [record.name(d) for d in q.followup_speakers if record.name(d)]
    if followers:
        text += f"，{'、'.join(followers)}代表进行了追问"
    return text + "。"


def inquiry_matter(record: MeetingRecord, heading: str) -> Matter | None:
    reached = [q for q in record.questions if q.reached]
    if not reached:
        return None
    paras = [
        Para(
            f"会议开展了人大代表问政，{len(reached)}个问题由代表当场提出询问，应询人当场作答。"
            "会议对各问题的答复分别进行了满意度测评："
        )
    ]
    for n, q in enumerate(reached, 1):
        rated = (
            f"会议对该问题的答复进行了满意度测评，{rating_text(q.rating)}。"
            if q.rating
            else "未进行满意度测评。"
        )
        paras.append(Para(_asked(record, q) + rated, lead=f"（{numeral(n)}）{_closed(q.question.title)}"))
    unreached = [q.question.title for q in record.questions if not q.reached]
    if unreached:
        listed = "、".join(f"“{t}”" for t in unreached)
        paras.append(Para(f"另有{len(unreached)}个问题会上未及询问：{listed}。"))
    return Matter(heading, tuple(paras))


def followup_matter(record: MeetingRecord, decision: Decision | None) -> Matter | None:
    if not any(q.reached for q in record.questions) and decision is None:
        return None
    heading = "问政问题的交办督办"
    if decision is None:
        organ = deciding_organ(record.setup.settings.body_kind)
        text = (
            f"{TO_COMPLETE}会议所提问题由{organ}研究确定交办意见后，交有关单位办理并跟踪督办。"
            "请补充交办决定的机关、日期和文号，列为督办事项的问题及其承办单位、重点督办事项和答复期限。"
        )
        return Matter(heading, (Para(text),))
    due = f"，答复期限至{chinese_day(decision.reply_due)}" if decision.reply_due else ""
    paras = [
        Para(
            f"{decision.organ}于{chinese_day(decision.decided_on)}作出交办决定（{decision.document_no}），"
            f"将以下{len(decision.items)}个问题列为督办事项，交有关单位办理并跟踪督办{due}："
        )
    ]
    for n, item in enumerate(decision.items, 1):
        rest = "列为重点督办事项。" if item.priority else ""
        if item.organs:
            rest += f"承办单位：{'、'.join(item.organs)}。"
        lead = f"（{numeral(n)}）{_closed(item.title) if rest else item.title}"
        paras.append(Para(rest, lead=lead))
    for title, reason in decision.closed:
        # Staff type the reason as a sentence, often with its own full stop: not a second.
        paras.append(Para(f"“{title}”不列为督办事项，理由：{reason.rstrip('。.；;，, ')}。"))
    return Matter(heading, tuple(paras))


def _attendees(record: MeetingRecord) -> list[str]:
    """Who attended without a vote (列席): the listed observers and respondents, and the
    officials who answered a question reached; 旁听 citizens are not named."""
    out: list[str] = []
    for a in record.setup.attendees.values():
        if a.kind in (AttendeeKind.OBSERVER, AttendeeKind.RESPONDENT):
            out.append(f"{a.organisation}{a.name}")
    for q in record.questions:
        if q.reached:
            for r in q.question.respondents:
                named = f"{r.title}{r.name}"
                if named not in out and not any(x.endswith(r.name) for x in out):
                    out.append(named)
    return out


def _opening(record: MeetingRecord, chair: str, attendees: list[str]) -> str:
    kind = record.setup.settings.body_kind
    present = len(record.with_status("present"))
    leave, absent = len(record.with_status("leave")), len(record.with_status("absent"))
    place = record.setup.place or "【会议地点】"
    text = f"{_when(record)}，{record.setup.title}在{place}举行。会议由{chair or '【主持人】'}主持。"
    if record.opened_ms is None:  # nothing held yet: figures for staff to fill in
        text += f"会议应到{_members(kind)}{record.expected}人，实到【　】人，请假【　】人，缺席【　】人。"
    else:
        text += f"会议应到{_members(kind)}{record.expected}人，实到{present}人，请假{leave}人，缺席{absent}人"
        quorum = has_quorum(record.setup.settings.quorum_rule, record.expected, present)
        text += "，符合法定人数。" if quorum else "，未达到法定人数。"
    if attendees:
        text += (
            f"{attendees[0]}等{len(attendees)}人列席会议。"
            if len(attendees) > 1
            else f"{attendees[0]}列席会议。"
        )
    return text + "现将会议议定事项纪要如下："


def _lines(record: MeetingRecord, attendees: list[str]) -> tuple[tuple[str, str], ...]:
    kind = record.setup.settings.body_kind
    present = [record.name(a.deputy_id) for a in record.with_status("present")]
    leave = [record.name(a.deputy_id) for a in record.with_status("leave")]
    absent = [record.name(a.deputy_id) for a in record.with_status("absent")]
    if len(present) > MAX_NAMED_PRESENT:
        shown = f"{_members(kind)}{len(present)}人（名单见签到记录）"
    else:
        shown = "、".join(present) or "无"
    lines = [("出席", shown), ("请假", "、".join(leave) or "无")]
    if absent:
        lines.append(("缺席", "、".join(absent)))
    if attendees:
        lines.append(("列席", "、".join(attendees)))
    return tuple(lines)


def draft(
    record: MeetingRecord,
    *,
    chair: str,
    decision: Decision | None,
    reporters: dict[int, Reporter] | None = None,
) -> Minutes:
    """The draft minutes of a meeting from its record, its chair, its 交办 decision (None
    while none is recorded) and who reported on its 述职 items."""
    reporters = reporters or {}
    setup = record.setup
    kind = setup.settings.body_kind
    organ = organ_of(setup.body_name, kind)
    rated = {r.item.id: r.result for r in record.item_ratings}
    matters: list[Matter] = []
    inquiry_done = False
    for step in record.agenda:
        item = step.item
        if item.kind == "inquiry":
            if not inquiry_done and (m := inquiry_matter(record, item.title)):
                matters.append(m)
                inquiry_done = True
            continue
        result = rated.get(item.id)
        if item.kind != "report" and result is None and item.id not in reporters:
            continue
        text = _heard(item.title, reporters.get(item.id))
        if result is not None:
            text += f"，并进行了满意度测评，{rating_text(result)}。"
        else:
            text += "。"
        matters.append(Matter(item.title, (Para(text),)))
    if not inquiry_done and (m := inquiry_matter(record, "人大代表问政")):
        matters.append(m)
    for first_id in dict.fromkeys(v.first_id for v in record.votes):
        if voted := vote_matter(record.rounds_of(first_id)):
            matters.append(voted)
    if followed := followup_matter(record, decision):
        matters.append(followed)
    day = _day(record)
    attendees = _attendees(record)
    notes: tuple[str, ...] = (DRAFT_NOTE, REHEARSAL_NOTE) if setup.rehearsal else (DRAFT_NOTE,)
    if not record.closed:
        notes += (NOT_CLOSED_NOTE,)
    return Minutes(
        notes=notes,
        mark=f"{organ}会议纪要",
        number=f"〔{day.year if day else '【年份】'}〕第【　】期",
        title=f"{setup.title}纪要",
        opening=_opening(record, chair, attendees),
        matters=tuple(matters),
        lines=_lines(record, attendees),
        issuer=f"【{organ}办公室】",
        issued="【印发日期】印发",
    )


def plain_text(minutes: Minutes) -> str:
    """Everything the draft says, in reading order (for tests and a quick look)."""
    parts = [*minutes.notes, minutes.mark, minutes.number, minutes.title, minutes.opening]
    for n, matter in enumerate(minutes.matters, 1):
        parts.append(f"{numeral(n)}、{matter.heading}")
        parts += [p.lead + p.text for p in matter.paras]
    parts += [f"{label}：{names}" for label, names in minutes.lines]
    parts += [minutes.issuer, minutes.issued]
    return "\n".join(parts)
