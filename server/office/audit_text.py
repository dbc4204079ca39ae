"""The audit trail in Chinese: every event's name, the actors' names, a short summary.

Secret choices never appear: the log does not hold them (:func:`live.events.to_record`),
and the summaries of a rating and of a secret vote never read a choice even if one were
there. The rows and the files are in :mod:`server.office.audit_trail`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from live import events as ev
from live.commands import CheckInMethod
from live.setup import Setup
from live.state import FloorKind, Ungraded, VoteMethod
from screens import messages as msg

# The Chinese name of every event type; tests/test_audit_trail.py fails when one is missing.
EVENT_NAMES: dict[str, str] = {
    "CheckInOpened": "开始签到",
    "CheckInClosed": "结束签到",
    "DeputyCheckedIn": "代表签到",
    "DeputyOnLeave": "登记请假",
    "AttendanceCleared": "撤销出席登记",
    "AttendanceAnnounced": "宣布出席情况",
    "DeputyLeftHall": "中途离会",
    "DeputyReturned": "返回会场",
    "AttendeeCheckedIn": "列席旁听人员签到",
    "MeetingClosed": "会议结束",
    "AgendaItemStarted": "进入议程",
    "QuestionCalled": "开始问题",
    "PhaseChanged": "切换环节",
    "TimerChanged": "计时变更",
    "RatingOpened": "开始满意度测评",
    "RatingCast": "代表测评",
    "RatingClosed": "结束满意度测评",
    "ProjectorFocused": "投影屏切换画面",
    "FloorRequested": "申请发言",
    "FloorWithdrawn": "撤回发言申请",
    "FloorMoved": "调整发言顺序",
    "FloorGranted": "准予发言",
    "SpeechStarted": "开始发言",
    "SpeechEnded": "结束发言",
    "SpokeFor": "记录发言时长",
    "BannerSet": "设置投影屏字幕",
    "ProjectorModeSet": "投影屏状态",
    "VoteOpened": "开始表决",
    "VoteCast": "代表投票",
    "VoteClosed": "结束表决",
    "VoteAnnounced": "宣布表决结果",
}

ROLE_NAMES = {
    "chair": "主持人",
    "staff": "工作人员",
    "deputy": "代表",
    "presidium": "主席团成员",  # a reviewer on their phone (server/office/reviewers.py)
    "cli": "命令行",
}
SECRET = "选择保密"


@dataclass
class Names:
    """What turns ids into names: the meeting's setup, staff display names, vote titles."""

    setup: Setup
    staff: dict[str, str] = field(default_factory=dict)  # username -> display name
    votes: dict[int, str] = field(default_factory=dict)  # vote id -> title

    def deputy(self, deputy_id: int | None) -> str:
        if deputy_id is None:
            return ""
        d = self.setup.deputies.get(deputy_id)
        if d is None:
            return f"代表（编号 {deputy_id}）"
        return f"{d.name}（{d.group}，卡号 {d.card_no}）" if d.group else f"{d.name}（卡号 {d.card_no}）"

    def attendee(self, attendee_id: int) -> str:
        a = self.setup.attendees.get(attendee_id)
        if a is None:
            return f"列席旁听人员（编号 {attendee_id}）"
        where = f"，{a.organisation}" if a.organisation else ""
        return f"{a.name}（{msg.ATTENDEE_KINDS[a.kind]}{where}）"

    def question(self, question_id: int) -> str:
        if question_id < 0:  # an agenda item's rating (live.ratings.item_key)
            return "议程" + self.item(-question_id)
        q = self.setup.question(question_id)
        return f"第 {q.position} 题“{q.title}”" if q else f"问题（编号 {question_id}）"

    def item(self, item_id: int | None) -> str:
        if item_id is None:
            return ""
        a = self.setup.agenda_item(item_id)
        return f"第 {a.position} 项“{a.title}”" if a else f"（编号 {item_id}）"

    def vote(self, vote_id: int) -> str:
        title = self.votes.get(vote_id)
        return f"“{title}”" if title else f"表决（编号 {vote_id}）"

    def actor(self, actor: str) -> str:
        """ "chair:zhang" -> "主持人 张伟（zhang）"; "deputy:17" -> "代表 王建国（卡号 1017）"."""
        role, _, who = actor.partition(":")
        label = ROLE_NAMES.get(role)
        if label is None or not who:
            return actor
        if role == "cli":  # `wenzheng roster import` run by this operating-system user
            return f"{label}（系统用户 {who}）"
        if role in ("deputy", "presidium"):
            d = self.setup.deputies.get(int(who)) if who.isdigit() else None
            return f"{label} {d.name}（卡号 {d.card_no}）" if d else f"{label}（编号 {who}）"
        shown = self.staff.get(who, "")
        return f"{label} {shown}（{who}）" if shown and shown != who else f"{label} {who}"


def _duration(ms: int) -> str:
    seconds = max(ms, 0) // 1000
    return f"{seconds // 60}分{seconds % 60:02d}秒"


def describe(event: ev.Event, names: Names) -> str:
    """A short Chinese summary of an event's data; never a secret choice."""
    match event:
        case ev.CheckInOpened() | ev.CheckInClosed():
            return ""
        case ev.DeputyCheckedIn(deputy_id=d, method=method):
            how = "扫描会场二维码" if method is CheckInMethod.HALL_QR else "人工签到"
            return f"{names.deputy(d)}，{how}"
        case (
            ev.DeputyOnLeave(deputy_id=d)
            | ev.AttendanceCleared(deputy_id=d)
            | ev.DeputyLeftHall(deputy_id=d)
            | ev.DeputyReturned(deputy_id=d)
        ):
            return names.deputy(d)
        case ev.AttendeeCheckedIn(attendee_id=a):
            return names.attendee(a)
        case ev.MeetingClosed():
            return ""
        case ev.AttendanceAnnounced():
            quorum = "符合法定人数" if event.quorum else "不足法定人数"
            return (
                f"应到 {event.expected} 人，实到 {event.present} 人，请假 {event.leave} 人，"
                f"缺席 {event.absent} 人，" + (f"中途离会 {event.left} 人，" if event.left else "") + quorum
            )
        case ev.AgendaItemStarted(item_id=item):
            return names.item(item)
        case ev.QuestionCalled(question_id=q):
            return names.question(q)
        case ev.RatingOpened(question_id=q, quorum=quorum):
            return names.question(q) + ("" if quorum else f"（{msg.UNGRADED_NOTES[Ungraded.NO_QUORUM]}）")
        case ev.PhaseChanged(phase=phase, speaker_id=speaker):
            return msg.PHASES[phase] + (f"，发言代表：{names.deputy(speaker)}" if speaker else "")
        case ev.TimerChanged():
            if event.role is None and not event.running:
                return "计时器清空"
            role = msg.TIMER_ROLES[event.role] if event.role else "计时"
            if event.running:
                state = "计时中"
            elif event.remaining_ms == event.duration_ms:
                state = "未开始"
            else:
                state = "已暂停"
            return (
                f"{role}，时长 {_duration(event.duration_ms)}，{state}，剩余 {_duration(event.remaining_ms)}"
            )
        case ev.RatingCast(question_id=q):  # the choice is secret: never read it
            return f"{names.question(q)}，已测评（{SECRET}）"
        case ev.RatingClosed():
            return _rating_closed(event, names)
        case ev.ProjectorFocused(focus=focus):
            return msg.FOCUS[focus]
        case ev.FloorRequested():
            kind = "追问" if event.kind is FloorKind.FOLLOWUP else "发言"
            subject = f"，主题：{event.subject}" if event.subject else ""
            return f"{names.deputy(event.deputy_id)}，申请{kind}{subject}"
        case ev.FloorWithdrawn(deputy_id=d) | ev.FloorGranted(deputy_id=d):
            return names.deputy(d)
        case ev.FloorMoved(deputy_id=d, place=place):
            return f"{names.deputy(d)}，移至第 {place} 位"
        case ev.SpeechStarted():
            on = f"，议程{names.item(event.item_id)}" if event.item_id is not None else ""
            return f"{names.deputy(event.deputy_id)}，第 {event.nth} 次发言{on}"
        case ev.SpeechEnded(deputy_id=d, spoken_ms=spoken) | ev.SpokeFor(deputy_id=d, spoken_ms=spoken):
            return f"{names.deputy(d)}，用时 {_duration(spoken)}"
        case ev.BannerSet(text=text):
            return text or "（撤下字幕）"
        case ev.ProjectorModeSet(mode=mode):
            return msg.PROJECTOR_MODES[mode]
        case ev.VoteOpened():
            secret = "无记名" if event.secret else "记名"
            base = msg.vote_base(event.base, names.setup.settings.body_kind)
            return (
                f"“{event.title}” 第 {event.round_no} 轮，{msg.VOTE_METHODS[event.method]}，{secret}，"
                f"通过条件：{base}{msg.THRESHOLDS[event.threshold]}"
            )
        case ev.VoteCast():
            if event.secret:  # the choice is stored apart: never read it
                return (
                    f"{names.vote(event.vote_id)}，{names.deputy(event.deputy_id)}已投票（无记名，{SECRET}）"
                )
            choice = msg.VOTE_CHOICES[event.choice] if event.choice else "（未记录）"
            return f"{names.vote(event.vote_id)}，{names.deputy(event.deputy_id)}：{choice}（记名表决）"
        case ev.VoteClosed():
            return (
                f"{names.vote(event.vote_id)}：赞成 {event.for_votes}，反对 {event.against}，"
                f"弃权 {event.abstain}，{msg.NOT_VOTED} {event.not_voted}，基数 {event.base}，"
                f"{msg.VERDICTS[event.passed]}"
            )
        case ev.VoteAnnounced(vote_id=v):
            return names.vote(v)
    return ""


def describe_preparation(detail: dict[str, Any], names: Names) -> str:
    """The summary of an ``audit`` entry (its credentials were never written there)."""
    parts: list[str] = []
    if isinstance(detail.get("deputy_id"), int):
        parts.append(names.deputy(detail["deputy_id"]))
    elif detail.get("card_no"):
        parts.append(f"卡号 {detail['card_no']}")
    if detail.get("version"):
        parts.append(f"第 {detail['version']} 版")
    for key in ("what", "summary", "file"):
        if detail.get(key):
            parts.append(str(detail[key]))
    if isinstance(detail.get("failures"), int):  # a wrong short code (never the code itself)
        parts.append(f"连续第 {detail['failures']} 次")
    reason = {"locked": "此卡已锁定", "delayed": f"等待中（还需 {detail.get('wait_s', 0)} 秒）"}.get(
        str(detail.get("reason", ""))
    )
    if reason:
        parts.append(reason)
    if detail.get("address"):
        parts.append(f"来自 {detail['address']}")
    return "，".join(parts)


def _rating_closed(event: ev.RatingClosed, names: Names) -> str:
    """Counts, base, grade (or why none) and, for a paper count, its tellers and what
    became of the electronic ballots: totals only, so the few cast stay secret."""
    if event.grade:
        grade = msg.CHOICES[event.grade]
    elif event.ungraded:
        grade = msg.UNGRADED[event.ungraded]
    else:
        grade = "无有效评价"
    text = (
        f"{names.question(event.question_id)}：满意 {event.satisfied}，基本满意 {event.basic}，"
        f"不满意 {event.dissatisfied}，基数 {event.base}，结果：{grade}"
    )
    if not event.quorum:
        text += f"（{msg.UNGRADED_NOTES[Ungraded.NO_QUORUM]}）"
    if event.method is VoteMethod.PAPER:
        if event.kept:
            ballots = f"已投电子票 {event.kept} 张保留并计入总数"
        elif event.discarded:
            ballots = f"已投电子票 {event.discarded} 张作废"
        else:
            ballots = "无已投电子票"
        text += f"；{msg.PAPER_COUNT}，{ballots}；监票人：{event.scrutineers}，计票人：{event.counters}"
    return text
