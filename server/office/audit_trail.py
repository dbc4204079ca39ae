"""A meeting's audit trail for people: the event log and the preparation work, in Chinese.

The event log (``events``) already records who changed what, when and from which device;
this module turns its rows into lines a clerk can read (an event's Chinese name, the
actor's display name, a short summary of the data) and writes them as CSV (UTF-8 with a
BOM, so Excel opens the Chinese) or XLSX. The meeting's entries in the ``audit`` table
(preparation and office work: cards re-issued, the meeting's rules edited) are
included and marked as 准备工作.

Secret choices never appear: the log does not hold them (:func:`live.events.to_record`),
and the summaries of a rating and of a secret vote never read a choice even if one were
there. Every exported cell is guarded against spreadsheet formula injection.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.commands import CheckInMethod
from live.events import (
    AgendaItemStarted,
    AttendanceAnnounced,
    AttendanceCleared,
    BannerSet,
    CheckInClosed,
    CheckInOpened,
    DeputyCheckedIn,
    DeputyOnLeave,
    Event,
    FloorGranted,
    FloorMoved,
    FloorRequested,
    FloorWithdrawn,
    PhaseChanged,
    ProjectorFocused,
    ProjectorModeSet,
    QuestionCalled,
    RatingCast,
    RatingClosed,
    RatingOpened,
    SpeechEnded,
    SpeechStarted,
    SpokeFor,
    TimerChanged,
    VoteAnnounced,
    VoteCast,
    VoteClosed,
    VoteOpened,
    from_record,
)
from live.setup import Setup
from live.state import FloorKind
from screens import messages as msg
from server.storage import audit
from server.storage import models as m
from server.storage.store import load_setup

# The Chinese name of every event type; tests/test_audit_trail.py fails when one is missing.
EVENT_NAMES: dict[str, str] = {
    "CheckInOpened": "开始签到",
    "CheckInClosed": "结束签到",
    "DeputyCheckedIn": "代表签到",
    "DeputyOnLeave": "登记请假",
    "AttendanceCleared": "撤销出席登记",
    "AttendanceAnnounced": "宣布出席情况",
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

ROLE_NAMES = {"chair": "主持人", "staff": "工作人员", "deputy": "代表", "cli": "命令行"}
HEADERS = ("序号", "时间", "事件", "操作人", "设备", "内容", "类别")
EVENT_CATEGORY = "会议事件"
PREPARATION_CATEGORY = "准备工作"  # the audit table: before or beside the meeting
SECRET = "选择保密"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ (or tab, CR) gets a quote."""
    value = _CONTROL.sub("", value)
    return "'" + value if value.startswith(FORMULA_START) else value


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
        if role == "deputy":
            d = self.setup.deputies.get(int(who)) if who.isdigit() else None
            return f"{label} {d.name}（卡号 {d.card_no}）" if d else f"{label}（编号 {who}）"
        shown = self.staff.get(who, "")
        return f"{label} {shown}（{who}）" if shown and shown != who else f"{label} {who}"


def _duration(ms: int) -> str:
    seconds = max(ms, 0) // 1000
    return f"{seconds // 60}分{seconds % 60:02d}秒"


def describe(event: Event, names: Names) -> str:
    """A short Chinese summary of an event's data; never a secret choice."""
    match event:
        case CheckInOpened() | CheckInClosed():
            return ""
        case DeputyCheckedIn(deputy_id=d, method=method):
            how = "扫描会场二维码" if method is CheckInMethod.HALL_QR else "工作人员人工签到"
            return f"{names.deputy(d)}，{how}"
        case DeputyOnLeave(deputy_id=d) | AttendanceCleared(deputy_id=d):
            return names.deputy(d)
        case AttendanceAnnounced():
            quorum = "符合法定人数" if event.quorum else "不足法定人数"
            return (
                f"应到 {event.expected} 人，实到 {event.present} 人，请假 {event.leave} 人，"
                f"缺席 {event.absent} 人，{quorum}"
            )
        case AgendaItemStarted(item_id=item):
            return names.item(item)
        case QuestionCalled(question_id=q) | RatingOpened(question_id=q):
            return names.question(q)
        case PhaseChanged(phase=phase, speaker_id=speaker):
            return msg.PHASES[phase] + (f"，发言代表：{names.deputy(speaker)}" if speaker else "")
        case TimerChanged():
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
        case RatingCast(question_id=q):  # the choice is secret: never read it
            return f"{names.question(q)}，已测评（{SECRET}）"
        case RatingClosed():
            grade = msg.CHOICES[event.grade] if event.grade else "无有效评价"
            return (
                f"{names.question(event.question_id)}：满意 {event.satisfied}，基本满意 {event.basic}，"
                f"不满意 {event.dissatisfied}，基数 {event.base}，结果：{grade}"
            )
        case ProjectorFocused(focus=focus):
            return msg.FOCUS[focus]
        case FloorRequested():
            kind = "追问" if event.kind is FloorKind.FOLLOWUP else "发言"
            subject = f"，主题：{event.subject}" if event.subject else ""
            return f"{names.deputy(event.deputy_id)}，申请{kind}{subject}"
        case FloorWithdrawn(deputy_id=d) | FloorGranted(deputy_id=d):
            return names.deputy(d)
        case FloorMoved(deputy_id=d, place=place):
            return f"{names.deputy(d)}，移至第 {place} 位"
        case SpeechStarted():
            on = f"，议程{names.item(event.item_id)}" if event.item_id is not None else ""
            return f"{names.deputy(event.deputy_id)}，第 {event.nth} 次发言{on}"
        case SpeechEnded(deputy_id=d, spoken_ms=spoken) | SpokeFor(deputy_id=d, spoken_ms=spoken):
            return f"{names.deputy(d)}，用时 {_duration(spoken)}"
        case BannerSet(text=text):
            return text or "（撤下字幕）"
        case ProjectorModeSet(mode=mode):
            return msg.PROJECTOR_MODES[mode]
        case VoteOpened():
            secret = "无记名" if event.secret else "记名"
            return (
                f"“{event.title}” 第 {event.round_no} 轮，{msg.VOTE_METHODS[event.method]}，{secret}，"
                f"通过条件：{msg.VOTE_BASES[event.base]}{msg.THRESHOLDS[event.threshold]}"
            )
        case VoteCast():
            if event.secret:  # the choice is stored apart: never read it
                return (
                    f"{names.vote(event.vote_id)}，{names.deputy(event.deputy_id)}已投票（无记名，{SECRET}）"
                )
            choice = msg.VOTE_CHOICES[event.choice] if event.choice else "（未记录）"
            return f"{names.vote(event.vote_id)}，{names.deputy(event.deputy_id)}：{choice}（记名表决）"
        case VoteClosed():
            return (
                f"{names.vote(event.vote_id)}：赞成 {event.for_votes}，反对 {event.against}，"
                f"弃权 {event.abstain}，{msg.NOT_VOTED} {event.not_voted}，基数 {event.base}，"
                f"{msg.VERDICTS[event.passed]}"
            )
        case VoteAnnounced(vote_id=v):
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


@dataclass(frozen=True)
class Row:
    """One line of the trail: an event (with its seq) or a preparation entry (seq None)."""

    seq: int | None
    at_ms: int
    kind: str  # the event type or the audit action
    name: str
    actor: str
    device: str
    summary: str

    @property
    def preparation(self) -> bool:
        return self.seq is None

    @property
    def category(self) -> str:
        return PREPARATION_CATEGORY if self.preparation else EVENT_CATEGORY

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.at_ms / 1000))

    def cells(self) -> list[str]:
        values = ["" if self.seq is None else str(self.seq), self.when, self.name, self.actor]
        return [safe_cell(v) for v in [*values, self.device, self.summary, self.category]]


async def names_for(conn: AsyncConnection, meeting_id: int) -> Names:
    """Raises :class:`server.storage.store.MeetingNotFound` for an unknown meeting."""
    setup = await load_setup(conn, meeting_id)
    staff = {u: d for u, d in await conn.execute(select(m.users.c.username, m.users.c.display_name))}
    votes: dict[int, str] = {}
    opened = await conn.execute(
        select(m.events.c.data).where(m.events.c.meeting_id == meeting_id, m.events.c.type == "VoteOpened")
    )
    for (data,) in opened:
        d = json.loads(data)
        votes[int(d["vote_id"])] = str(d.get("title", ""))
    return Names(setup, staff, votes)


def _event_row(r: Any, names: Names) -> Row:
    try:
        summary = describe(from_record(r.type, json.loads(r.data)), names)
    except (ValueError, TypeError, KeyError):  # a row this version cannot read: no raw data
        summary = "（无法解析的记录）"
    return Row(
        r.seq, r.created_ms, r.type, EVENT_NAMES.get(r.type, r.type), names.actor(r.actor), r.device, summary
    )


def _where(meeting_id: int, kind: str) -> Any:
    where = [m.events.c.meeting_id == meeting_id]
    if kind:
        where.append(m.events.c.type == kind)
    return where


async def count_events(conn: AsyncConnection, meeting_id: int, kind: str = "") -> int:
    stmt = select(func.count()).select_from(m.events).where(*_where(meeting_id, kind))
    return int((await conn.execute(stmt)).scalar_one())


async def event_rows(
    conn: AsyncConnection,
    names: Names,
    *,
    kind: str = "",
    limit: int | None = None,
    offset: int = 0,
    newest_first: bool = False,
) -> list[Row]:
    """The meeting's events, optionally of one type, by seq."""
    t = m.events
    stmt = (
        select(t.c.seq, t.c.type, t.c.data, t.c.actor, t.c.device, t.c.created_ms)
        .where(*_where(names.setup.meeting_id, kind))
        .order_by(t.c.seq.desc() if newest_first else t.c.seq)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_event_row(r, names) for r in await conn.execute(stmt)]


async def preparation_rows(conn: AsyncConnection, names: Names, *, newest_first: bool = False) -> list[Row]:
    """The meeting's entries in the ``audit`` table."""
    t = m.audit
    stmt = (
        select(t.c.at_ms, t.c.actor, t.c.device, t.c.action, t.c.detail)
        .where(t.c.meeting_id == names.setup.meeting_id)
        .order_by(t.c.id.desc() if newest_first else t.c.id)
    )
    rows = []
    for r in await conn.execute(stmt):
        try:
            detail = json.loads(r.detail or "{}")
        except ValueError:
            detail = {}
        name = audit.ACTIONS.get(r.action, r.action)
        summary = describe_preparation(detail if isinstance(detail, dict) else {}, names)
        rows.append(Row(None, r.at_ms, r.action, name, names.actor(r.actor), r.device, summary))
    return rows


async def trail(conn: AsyncConnection, meeting_id: int) -> tuple[Names, list[Row]]:
    """Everything, oldest first: preparation entries and events merged by time."""
    names = await names_for(conn, meeting_id)
    rows = [*await preparation_rows(conn, names), *await event_rows(conn, names)]
    rows.sort(key=lambda r: (r.at_ms, r.seq is not None, r.seq or 0))  # stable: audit ids keep order
    return names, rows


def to_csv(rows: list[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(row.cells())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[Row]) -> bytes:
    from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs in the project

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "操作记录"
    sheet.append(list(HEADERS))
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row.cells(), start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            cell.data_type = "s"  # text, never a formula
    for letter, width in zip("ABCDEFG", (8, 20, 16, 26, 36, 60, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(title: str, ext: str) -> str:
    return f"操作记录-{title}.{ext}"
