"""The proceedings (会议记录) of a meeting as one document model, in the form an office files.

Pure: from a :class:`~server.record.facts.MeetingRecord`, the meeting's chair and the
staff's free paragraph (``meetings.chair``, ``meetings.record_note``) and the agenda
items' reporters (server/record/reporters.py), :func:`proceedings` builds a
:class:`Proceedings`: a title, the meeting's particulars, marks (彩排, 会议尚未结束), the
note, and a flat run of blocks (server/record/blocks.py: headings, paragraphs, tables). The DOCX writer
(proceedings_docx.py) and the print view (screens/templates/pages/record.html) both only
render these blocks, so the two never disagree.

Secrecy: a rating and a secret vote give counts only. A named (记名) vote is public, so
its choices are listed by name; nothing here can list who took part in a secret poll,
because the record does not hold it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from fractions import Fraction

from live.setup import AgendaItem, Denominator, Question, RatingRule
from live.state import Phase, RatingResult, Threshold, VoteChoice
from screens import messages as msg
from screens.view import tally_of
from server.base.days import CHINA, chinese_day, day_of_ms, moment_of_ms, numeral
from server.record.blocks import Block, Figure, Grid, Heading, Para, Proceedings
from server.record.facts import Attendance, MeetingRecord, QuestionRecord, Stretch, VoteRecord
from server.record.reporters import Reporter

PHASES = {
    Phase.ASKING: "提问",
    Phase.ANSWERING: "答复",
    Phase.FOLLOWUP_ASK: "追问",
    Phase.FOLLOWUP_REPLY: "追问答复",
}
STRETCH_HEAD = ("环节", "发言人", "开始", "结束", "规定时间", "用时", "超时")
STRETCH_WIDTHS = (17, 36, 21, 21, 19, 21, 21)
DENOMINATOR_WORDS = {
    Denominator.MEMBERS: "应到人数",
    Denominator.PRESENT: "实到人数",
    Denominator.CAST: "实际投票数",
}
THRESHOLD_WORDS = {
    Threshold.MAJORITY: "赞成票超过基数的一半为通过",
    Threshold.TWO_THIRDS: "赞成票达到基数的三分之二为通过",
}
NOT_RATED = "未测评"
FIGURES = (("satisfaction", "满意度测评结果（问题与报告）"), ("speaking", "各问题用时与规定时间"))


def clock(ms: int) -> str:
    """A moment of the sitting, in China time, to the second: "14:31:05"."""
    return dt.datetime.fromtimestamp(ms / 1000, CHINA).strftime("%H:%M:%S")


def duration(ms: int) -> str:
    """ "2分30秒", "45秒", "3分"."""
    minutes, seconds = divmod(max(0, ms) // 1000, 60)
    if not minutes:
        return f"{seconds}秒"
    return f"{minutes}分{seconds}秒" if seconds else f"{minutes}分"


def spoken(ms: int, allowance_ms: int) -> str:
    """The time used, with the overrun beside it: "5分40秒（超时40秒）"."""
    over = overrun(ms, allowance_ms)
    return duration(ms) + (f"（超时{over}）" if over != "—" else "")


def share(f: Fraction) -> str:
    """1/2 → 二分之一."""
    return f"{numeral(f.denominator)}分之{numeral(f.numerator)}"


def names(record: MeetingRecord, ids: list[int] | tuple[int, ...]) -> str:
    return "、".join(record.name(d) for d in ids) or "无"


def _who(record: MeetingRecord, deputy_id: int | None) -> str:
    d = record.setup.deputies.get(deputy_id) if deputy_id is not None else None
    if d is None:
        return "—"
    return f"{d.name}（{d.group}）" if d.group else d.name


def _respondents(q: Question) -> str:
    return "、".join(f"{r.name}（{r.title}）" if r.title else r.name for r in q.respondents) or "—"


def _planned_day(record: MeetingRecord) -> str:
    try:
        return chinese_day(dt.date.fromisoformat(record.setup.held_on))
    except ValueError:
        return ""


def _facts(record: MeetingRecord, chair: str) -> tuple[tuple[str, str], ...]:
    """The particulars; the time is when the sitting actually opened and closed, the
    planned day and hour only for a meeting not yet begun."""
    if record.opened_ms is not None:
        when = f"{chinese_day(day_of_ms(record.opened_ms))} {clock(record.opened_ms)[:5]} 开始"
        if record.closed_ms is not None:
            when += f"，{clock(record.closed_ms)[:5]} 结束"
    else:
        planned = " ".join(p for p in (_planned_day(record), record.setup.starts_at) if p)
        when = f"{planned}（尚未开始）" if planned else "尚未开始"
    return (
        ("会议名称", record.setup.title),
        ("会议机构", record.setup.body_name),
        ("会议时间", when),
        ("会议地点", record.setup.place or "—"),
        ("主持人", chair or "—"),
    )


def _marks(record: MeetingRecord, as_of_ms: int) -> tuple[str, ...]:
    marks: list[str] = []
    if record.setup.rehearsal:
        marks.append("彩排：本记录为彩排所记，不是会议记录，不作为履职依据。")
    if not record.closed:
        marks.append(f"会议尚未结束：本记录截至 {moment_of_ms(as_of_ms)}。")
    return tuple(marks)


def attendance_blocks(record: MeetingRecord) -> list[Block]:
    present = record.with_status("present")
    leave, absent = record.with_status("leave"), record.with_status("absent")
    # Until the close, who has not checked in may still come: 未签到, not yet 缺席.
    missing = "缺席" if record.closed else "未签到"
    blocks: list[Block] = [
        Para(
            f"应到 {record.expected} 人，实到 {len(present)} 人，"
            f"请假 {len(leave)} 人，{missing} {len(absent)} 人。",
            "人数",
        ),
        Para(names(record, [a.deputy_id for a in leave]), "请假"),
        Para(names(record, [a.deputy_id for a in absent]), missing),
    ]
    late = "、".join(
        f"{record.name(a.deputy_id)}（{clock(a.checked_in_ms)} 签到）"
        for a in record.late
        if a.checked_in_ms is not None
    )
    blocks.append(Para(late or "无", "迟到"))
    blocks.append(Para("、".join(_left(record, a) for a in record.left) or "无", "中途离会"))
    return blocks


def _left(record: MeetingRecord, a: Attendance) -> str:
    assert a.left_ms is not None
    back = "未返回" if a.out_at_end else f"{clock(a.returned_ms or 0)} 返回"
    return f"{record.name(a.deputy_id)}（{clock(a.left_ms)} 离会，{back}）"


def agenda_blocks(record: MeetingRecord) -> list[Block]:
    rows: list[tuple[str, ...]] = []
    taken = {step.item.id for step in record.agenda}
    for n, step in enumerate(record.agenda, 1):
        rows.append((str(n), step.item.title, _kind(step.item), clock(step.started_ms)))
    untaken = [i for i in sorted(record.setup.agenda, key=lambda i: i.position) if i.id not in taken]
    for item in untaken:
        rows.append(("—", item.title, _kind(item), "未进行"))
    if not rows:
        return [Para("会议未进行议程。")]
    return [Grid(("序号", "议程", "类别", "开始时间"), tuple(rows), (14, 96, 22, 24))]


def _kind(item: AgendaItem) -> str:
    return msg.AGENDA_KINDS.get(item.kind, item.kind)


def rule_sentence(rule: RatingRule) -> str:
    """The grading rule in words: the base the rates are measured on, and the shares."""
    base = DENOMINATOR_WORDS[rule.denominator]
    text = (
        f"以{base}为基数计算各项比率；满意票达到基数的{share(rule.satisfied_share)}评为满意，"
        f"满意与基本满意票合计达到基数的{share(rule.basic_share)}评为基本满意，否则评为不满意"
    )
    if rule.min_ballots:
        text += f"；有效票少于 {rule.min_ballots} 张的不评定等次"
    return text + "。"


def rating_paras(result: RatingResult | None, rule: RatingRule) -> list[Para]:
    """Counts with their rates, the base in words, the grade; 仅供参考 and the paper count
    where they apply. Counts only: a rating is secret."""
    if result is None:
        return [Para(NOT_RATED, "满意度测评")]
    tally = tally_of(result, False, rule)
    counts = "，".join(f"{line.label} {line.count} 票（{line.percent}）" for line in tally.lines)
    paras = [
        Para(f"{counts}；共 {result.cast} 票，{tally.rule}。", "满意度测评"),
        Para(tally.verdict + (f"（{tally.note}）" if tally.note else ""), "测评等次"),
    ]
    if tally.paper:
        paras.append(Para(tally.paper.replace(" · ", "，"), "计票方式"))
    return paras


def overrun(ms: int, allowance_ms: int) -> str:
    """ "40秒" past the allowance, "—" within it (a second's grace: the clocks tick in ms)."""
    return duration(ms - allowance_ms) if allowance_ms and ms - allowance_ms >= 1000 else "—"


def _stretch_row(record: MeetingRecord, q: Question, s: Stretch) -> tuple[str, ...]:
    # The officials by name only: the 应询人 line above gives their titles.
    who = _who(record, s.speaker_id) if s.speaker_id is not None else "、".join(r.name for r in q.respondents)
    return (
        PHASES.get(s.phase, s.phase.value),
        who or "—",
        clock(s.start_ms),
        clock(s.end_ms),
        duration(s.allowance_ms) if s.allowance_ms else "—",
        duration(s.duration_ms),
        overrun(s.duration_ms, s.allowance_ms),
    )


def question_blocks(record: MeetingRecord, n: int, qr: QuestionRecord) -> list[Block]:
    q = qr.question
    blocks: list[Block] = [
        Heading(f"（{numeral(n)}）{q.title}", 2),
        Para(_who(record, q.asker_id) if q.asker_id is not None else (q.group or "—"), "提问代表"),
        Para(_respondents(q), "应询人"),
    ]
    if qr.called_ms is None:
        blocks.append(Para("会上未及询问。", "询问情况"))
        return blocks
    blocks.append(
        Para(f"{clock(qr.called_ms)} 开始，用时 {spoken(qr.spoken_ms, qr.allowance_ms)}。", "询问时间")
    )
    if qr.stretches:
        rows = tuple(_stretch_row(record, q, s) for s in qr.stretches)
        blocks.append(Grid(STRETCH_HEAD, rows, STRETCH_WIDTHS))
    blocks.append(Para(names(record, qr.followup_speakers), "追问代表"))
    blocks += rating_paras(qr.rating, record.setup.settings.rating_rule)
    if qr.commitments:
        blocks.append(Para("", "承诺事项"))
        blocks += [Para(f"{i}. {line}") for i, line in enumerate(qr.commitments, 1)]
    else:
        blocks.append(Para("无记录。", "承诺事项"))
    return blocks


def item_rating_blocks(record: MeetingRecord, reporters: dict[int, Reporter]) -> list[Block]:
    """The agenda items rated (a report, a 述职) and the 述职 items never rated."""
    rated = {r.item.id: r.result for r in record.item_ratings}
    items = [
        i for i in sorted(record.setup.agenda, key=lambda i: i.position) if i.id in rated or i.id in reporters
    ]
    blocks: list[Block] = []
    for n, item in enumerate(items, 1):
        blocks.append(Heading(f"（{numeral(n)}）{item.title}", 2))
        if item.id in reporters:
            blocks.append(Para(reporters[item.id].label, "述职人"))
        blocks += rating_paras(rated.get(item.id), record.setup.settings.rating_rule)
    return blocks


def _round_label(v: VoteRecord) -> str:
    return f"第{numeral(v.round_no)}轮（重新表决）" if v.round_no > 1 else "第一轮"


def vote_blocks(record: MeetingRecord) -> list[Block]:
    blocks: list[Block] = []
    firsts = [v for v in record.votes if v.vote_id == v.first_id]
    body_kind = record.setup.settings.body_kind
    for n, first in enumerate(firsts, 1):
        blocks.append(Heading(f"（{numeral(n)}）{first.title or '表决事项'}", 2))
        for v in record.rounds_of(first.first_id):
            how = "记名表决" if not v.secret else "无记名表决（只记票数）"
            rule = msg.vote_base(v.base, body_kind) + msg.THRESHOLDS[v.threshold]
            closed = f"，{clock(v.closed_ms)} 结束" if v.closed_ms is not None else ""
            blocks.append(
                Para(
                    f"{how}，{msg.VOTE_METHODS[v.method]}；{clock(v.opened_ms)} 开始{closed}；"
                    f"通过条件：{rule}（{THRESHOLD_WORDS[v.threshold]}）。",
                    _round_label(v),
                )
            )
            blocks += _vote_result(record, v)
    return blocks


def _vote_result(record: MeetingRecord, v: VoteRecord) -> list[Block]:
    r = v.result
    if r is None:
        return [Para("表决未结束，无结果。", "表决结果")]
    said = "已当场宣布" if v.announced else "未宣布"
    out: list[Block] = [
        Para(
            f"赞成 {r.for_votes} 票，反对 {r.against} 票，弃权 {r.abstain} 票，"
            f"{msg.NOT_VOTED} {r.not_voted} 票（基数 {r.base} 人）；{msg.VERDICTS[r.passed]}，{said}。",
            "表决结果",
        )
    ]
    if v.secret:
        return out
    for choice in VoteChoice:
        ids = [d for d, c in v.named if c is choice]
        label = f"{msg.VOTE_CHOICES[choice]}（{len(ids)} 人）"
        out.append(Para(names(record, ids), label))
    return out


def speech_blocks(record: MeetingRecord) -> list[Block]:
    if not record.speeches:
        return [Para("无代表发言。")]
    rows = tuple(
        (
            _who(record, s.deputy_id),
            it.title if (it := record.setup.agenda_item(s.item_id or 0)) else "—",
            f"第{numeral(s.nth)}次",
            clock(s.start_ms),
            duration(s.allowance_ms) if s.allowance_ms else "—",
            spoken(s.spoken_ms, s.allowance_ms),
        )
        for s in record.speeches
    )
    head = ("发言代表", "议程", "次序", "开始", "规定时间", "用时")
    return [Grid(head, rows, (38, 36, 16, 22, 20, 24))]


def announcement_blocks(record: MeetingRecord) -> list[Block]:
    rows: list[tuple[int, str, str]] = []
    for at, a in record.announcements:
        text = f"应到 {a.expected} 人，实到 {a.present} 人，请假 {a.leave} 人，缺席 {a.absent} 人"
        text += f"，中途离会 {a.left} 人" if a.left else ""
        text += "，符合法定人数" if a.quorum else "，不足法定人数"
        rows.append((at, "宣布出席情况", text))
    rows += [(b.at_ms, "大屏字幕", b.text) for b in record.banners]
    if not rows:
        return [Para("无。")]
    rows.sort(key=lambda r: r[0])
    return [Grid(("时间", "类别", "内容"), tuple((clock(t), k, x) for t, k, x in rows), (22, 30, 104))]


def proceedings(
    record: MeetingRecord,
    *,
    chair: str = "",
    note: str = "",
    reporters: dict[int, Reporter] | None = None,
    as_of_ms: int = 0,
    charts: Collection[str] = (),
) -> Proceedings:
    """The proceedings of the meeting; ``as_of_ms`` dates a record of a meeting not yet
    closed; ``charts`` names the charts drawn for it (server/record/charts.py), of which
    the satisfaction and the speaking-time ones are placed after the questions."""
    reporters = reporters or {}
    sections: list[tuple[str, list[Block]]] = [
        ("出席情况", attendance_blocks(record)),
        ("会议议程", agenda_blocks(record)),
    ]
    questions: list[Block] = [Para(rule_sentence(record.setup.settings.rating_rule), "测评规则")]
    for n, qr in enumerate(record.questions, 1):
        questions += question_blocks(record, n, qr)
    questions += [Figure(kind, caption) for kind, caption in FIGURES if kind in charts]
    if record.questions:
        sections.append(("询问与答复", questions))
    items = item_rating_blocks(record, reporters)
    if items:
        sections.append(("报告与述职测评", items))
    sections += [
        ("表决", vote_blocks(record) or [Para("会议未进行表决。")]),
        ("代表发言", speech_blocks(record)),
        ("会议公告", announcement_blocks(record)),
    ]
    blocks: list[Block] = []
    for n, (title, body) in enumerate(sections, 1):
        blocks.append(Heading(f"{numeral(n)}、{title}"))
        blocks += body
    paragraphs = tuple(line.strip() for line in note.splitlines() if line.strip())
    return Proceedings(
        record.setup.meeting_id,
        record.setup.title,
        _facts(record, chair),
        _marks(record, as_of_ms),
        paragraphs,
        tuple(blocks),
    )


__all__ = ["Block", "Figure", "Grid", "Heading", "Para", "Proceedings", "proceedings"]
