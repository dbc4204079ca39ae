"""Preparing a meeting: its kind, its rules, its agenda; creating and cloning it.

Theory of operation. A meeting is created from a *kind* (:data:`KINDS`, one row per
meeting DOMAIN.md "The meetings the system runs" describes) held by a *body*. The body's
kind decides the quorum and the pass rule (地方组织法 §14, §25, §51: :data:`BODY_RULES`,
enforced by :mod:`live.rules` through ``Settings.body_kind``); the meeting kind brings
the default agenda and the timer defaults. Everything the kind fills in is a default:
the edit page changes any of it.

Defaults we chose (all editable per meeting):

- rating rule: measured against all members (应到), 满意 at 1/2, 满意+基本满意 at 1/2 —
  the published district rule in DOMAIN.md;
- timers in seconds, per role: asking 180, answering 300, follow-up question 60,
  follow-up reply 120, rating 60; a 专题询问 gives officials 600 s to answer and 180 s
  for a follow-up reply (a topic, several departments); a 述职评议 gives the reporting
  group 600 s (its report runs on the "answering" timer) and 120 s to introduce it;
- warning 30 s before the end; the projector shows the tally only after the rating.

Rules are fixed once a meeting has begun: a meeting whose event log is not empty refuses
every edit (the running state was folded under the old rules, and agenda items are
named by its events). Clone it to prepare the next one.

The functions that touch the database take an open connection and never commit; the
route decides the transaction. Parsing a form returns either the new value or a
``{field: Chinese message}`` map, never half of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import DEFAULT_TIMER_SECONDS, BodyKind, Denominator, RatingRule, Settings, TimerRole
from screens.messages import AGENDA_KINDS
from server.base import parse
from server.base.presence import BadNetwork, parse_ranges
from server.storage import models as m
from server.storage.store import settings_from_json, settings_to_json

TITLE_MAX = 200
TIMER_MIN, TIMER_MAX = 10, 3600
WARN_MAX = 600
FLOOR_CAP_MAX = 10  # requests for the floor per deputy per agenda item
CLONE_SUFFIX = " (副本)"

# -- the body's rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class BodyRules:
    label: str
    quorum: str  # as the law says it; live.rules.has_quorum computes it
    passing: str  # a resolution passes with … (not of those present)


BODY_RULES: Mapping[BodyKind, BodyRules] = MappingProxyType(
    {
        BodyKind.CONGRESS: BodyRules("人民代表大会", "全体代表三分之二以上出席", "全体代表过半数通过"),
        BodyKind.STANDING_COMMITTEE: BodyRules(
            "人大常委会", "全体组成人员过半数出席", "全体组成人员过半数通过"
        ),
    }
)

# -- meeting kinds ------------------------------------------------------------------------

BOTH = frozenset(BodyKind)
CONGRESS = frozenset({BodyKind.CONGRESS})
STANDING = frozenset({BodyKind.STANDING_COMMITTEE})


@dataclass(frozen=True)
class MeetingKind:
    key: str
    label: str
    bodies: frozenset[BodyKind]  # which bodies hold this kind of meeting
    agenda: tuple[tuple[str, str], ...]  # (agenda kind, title), in order
    timers: Mapping[TimerRole, int] = field(default_factory=dict)  # overrides of the defaults
    rating_rule: RatingRule = field(default_factory=RatingRule)
    warn_seconds: int = 30

    def settings(self, body_kind: BodyKind) -> Settings:
        return Settings(
            body_kind=body_kind,
            rating_rule=self.rating_rule,
            timer_seconds=MappingProxyType({**DEFAULT_TIMER_SECONDS, **self.timers}),
            warn_seconds=self.warn_seconds,
        )


KINDS: Mapping[str, MeetingKind] = MappingProxyType(
    {
        k.key: k
        for k in (
            MeetingKind(
                "mid_year",
                "年中人代会",
                CONGRESS,
                (
                    ("report", "听取人民政府上半年工作报告"),
                    ("report", "听取关于民生实事项目进展情况的报告"),
                    ("report", "审阅法院、检察院书面工作报告"),
                    ("inquiry", "人大代表问政"),
                    ("vote", "表决有关决议"),
                ),
            ),
            MeetingKind(
                "inquiry",
                "人大代表问政会",
                CONGRESS,
                (
                    ("inquiry", "代表提问、应询答复与满意度测评"),
                    ("discussion", "会议总结讲话"),
                ),
            ),
            MeetingKind(
                "special_inquiry",
                "专题询问",
                STANDING,
                (
                    ("report", "听取专项工作报告"),
                    ("inquiry", "专题询问"),
                    ("rating", "满意度测评"),
                    ("discussion", "会议总结讲话"),
                ),
                timers={TimerRole.ANSWERING: 600, TimerRole.FOLLOWUP_REPLY: 180},
            ),
            MeetingKind(
                "duty_report",
                "代表述职评议",
                CONGRESS,
                (
                    ("report", "代表小组述职"),
                    ("report", "代表个人述职"),
                    ("rating", "述职评议测评"),
                    ("discussion", "点评讲话"),
                ),
                timers={TimerRole.ASKING: 120, TimerRole.ANSWERING: 600},
            ),
            MeetingKind(
                "forum",
                "座谈会",
                BOTH,
                (
                    ("discussion", "座谈交流"),
                    ("inquiry", "提问与答复"),
                ),
            ),
        )
    }
)

# -- Chinese messages (per field) ----------------------------------------------------------

TEXT: Mapping[str, str] = MappingProxyType(
    {
        "title_empty": "会议名称不能为空。",
        "title_long": f"会议名称不能超过 {TITLE_MAX} 个字。",
        "item_title_empty": "议程名称不能为空。",
        "item_title_long": f"议程名称不能超过 {TITLE_MAX} 个字。",
        "title_unreadable": "会议名称含有无法识别的字符（如控制字符），请删去后重试。",
        "item_title_unreadable": "议程名称含有无法识别的字符（如控制字符），请删去后重试。",
        "unknown_kind": "请选择会议类型（年中人代会、问政会、专题询问、述职评议或座谈会）。",
        "unknown_body": "请选择举行会议的机构。",
        "kind_not_for_body": "{body}不举行“{kind}”，请换一个会议类型或机构。",
        "unknown_agenda_kind": "议程类型须为报告、问政、表决、测评或讨论。",
        "unknown_item": "找不到这个议程项。",
        "timer": f"{{role}}须为 {TIMER_MIN} 至 {TIMER_MAX} 之间的整数秒。",
        "warn": f"提前提醒须为 0 至 {WARN_MAX} 之间的整数秒。",
        "warn_too_long": "提前提醒须短于最短的计时（{shortest} 秒）。",
        "floor_cap": f"每项议程申请发言次数须为 1 至 {FLOOR_CAP_MAX} 之间的整数。",
        "hall_networks": "会场网络“{bad}”格式不正确：请填写地址段，如 192.168.10.0/24，每行一个。",
        "denominator": "测评基数须为应到人数、实到人数或实际投票数。",
        "share": "{name}须为大于 0 且不超过 1 的比例，如 1/2、50% 或 0.5。",
        "unknown_action": "无法识别的操作。",
        "started": "本次会议已经开始（已有会议记录），规则和议程不能再修改。如需调整，请复制为新会议。",
    }
)

SHARE_NAMES = {"satisfied_share": "满意比例", "basic_share": "基本满意比例"}
ROLE_NAMES = {
    TimerRole.ASKING: "提问时间",
    TimerRole.ANSWERING: "答复时间",
    TimerRole.FOLLOWUP_ASK: "追问时间",
    TimerRole.FOLLOWUP_REPLY: "追问答复时间",
    TimerRole.RATING: "测评时间",
    TimerRole.SPEECH_FIRST: "首次发言时间",
    TimerRole.SPEECH_SECOND: "再次发言时间",
}
DENOMINATOR_NAMES = {
    Denominator.MEMBERS: "应到人数（全体组成人员）",
    Denominator.PRESENT: "实到人数",
    Denominator.CAST: "实际投票数",
}


class Invalid(ValueError):
    """Input refused; ``errors`` maps each field to its Chinese message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


# -- parsing forms --------------------------------------------------------------------------


def check_title(raw: str, key: str = "title") -> str:
    title = " ".join(raw.split())
    prefix = "" if key == "title" else "item_"
    if not title:
        raise Invalid({key: TEXT[prefix + "title_empty"]})
    if len(title) > TITLE_MAX:
        raise Invalid({key: TEXT[prefix + "title_long"]})
    if parse.text(title, TITLE_MAX) is None:
        raise Invalid({key: TEXT[prefix + "title_unreadable"]})
    return title


def parse_share(raw: str) -> Fraction | None:
    """ "1/2", "50%", "0.5" → Fraction(1, 2); None unless 0 < share <= 1 (server/base/parse.py)."""
    return parse.share(raw)


def parse_settings(form: Mapping[str, str], current: Settings) -> Settings:
    """The rules from the edit form; the body kind is the body's and never changes here."""
    errors: dict[str, str] = {}
    timers: dict[TimerRole, int] = {}
    for role in TimerRole:
        value = parse.integer(form.get(f"timer_{role.value}", ""), TIMER_MIN, TIMER_MAX)
        if value is None:
            errors[f"timer_{role.value}"] = TEXT["timer"].format(role=ROLE_NAMES[role])
        else:
            timers[role] = value
    warn = parse.integer(form.get("warn_seconds", ""), 0, WARN_MAX)
    if warn is None:
        errors["warn_seconds"] = TEXT["warn"]
    elif timers and len(timers) == len(TimerRole) and warn >= min(timers.values()):
        errors["warn_seconds"] = TEXT["warn_too_long"].format(shortest=str(min(timers.values())))
    floor_cap = parse.integer(
        form.get("floor_requests_per_item", str(current.floor_requests_per_item)), 1, FLOOR_CAP_MAX
    )
    if floor_cap is None:
        errors["floor_requests_per_item"] = TEXT["floor_cap"]
    try:
        denominator = Denominator(form.get("denominator", ""))
    except ValueError:
        errors["denominator"] = TEXT["denominator"]
    shares: dict[str, Fraction] = {}
    for key, name in SHARE_NAMES.items():
        share = parse_share(form.get(key, ""))
        if share is None:
            errors[key] = TEXT["share"].format(name=name)
        else:
            shares[key] = share
    if errors:
        raise Invalid(errors)
    assert warn is not None and floor_cap is not None
    return replace(
        current,
        rating_rule=RatingRule(denominator, shares["satisfied_share"], shares["basic_share"]),
        timer_seconds=MappingProxyType(timers),
        warn_seconds=warn,
        floor_requests_per_item=floor_cap,
    )


def parse_hall_networks(text: str) -> tuple[str, ...]:
    """The hall's network as typed (server/base/presence.py); raises Invalid naming the bad one."""
    try:
        return parse_ranges(text)
    except BadNetwork as bad:
        raise Invalid({"hall_networks": TEXT["hall_networks"].format(bad=str(bad))}) from bad


def check_agenda_kind(raw: str) -> str:
    if raw not in AGENDA_KINDS:
        raise Invalid({"item_kind": TEXT["unknown_agenda_kind"]})
    return raw


def share_text(share: Fraction) -> str:
    return f"{share.numerator}/{share.denominator}"


# -- the database -----------------------------------------------------------------------------


async def _insert(conn: AsyncConnection, table: Table, **values: object) -> int:
    result = await conn.execute(insert(table).values(**values).returning(table.c.id))
    return int(result.scalar_one())


async def has_events(conn: AsyncConnection, meeting_id: int) -> bool:
    stmt = select(func.count()).select_from(m.events).where(m.events.c.meeting_id == meeting_id)
    return int((await conn.execute(stmt)).scalar_one()) > 0


async def create(conn: AsyncConnection, body_id: int, kind_key: str, title: str, now_ms: int) -> int:
    """A new meeting of ``kind_key`` held by ``body_id``, with its defaults; raises Invalid."""
    errors: dict[str, str] = {}
    kind = KINDS.get(kind_key)
    if kind is None:
        errors["kind"] = TEXT["unknown_kind"]
    body = (await conn.execute(select(m.bodies).where(m.bodies.c.id == body_id))).first()
    if body is None:
        errors["body"] = TEXT["unknown_body"]
    try:
        title = check_title(title)
    except Invalid as bad:
        errors.update(bad.errors)
    if errors:
        raise Invalid(errors)
    assert kind is not None and body is not None
    body_kind = BodyKind(body.kind)
    if body_kind not in kind.bodies:
        raise Invalid({"kind": TEXT["kind_not_for_body"].format(body=body.name, kind=kind.label)})
    meeting_id = await _insert(
        conn,
        m.meetings,
        body_id=body_id,
        kind=kind.key,
        title=title,
        settings=settings_to_json(kind.settings(body_kind)),
        created_ms=now_ms,
    )
    for pos, (item_kind, item_title) in enumerate(kind.agenda, start=1):
        await _insert(
            conn, m.agenda_items, meeting_id=meeting_id, position=pos, kind=item_kind, title=item_title
        )
    return meeting_id


async def clone(conn: AsyncConnection, meeting_id: int, now_ms: int) -> int | None:
    """A copy to prepare the next meeting: settings, agenda, questions and respondents.

    No events, ratings or screen pairings: the copy has not begun.
    """
    source = (await conn.execute(select(m.meetings).where(m.meetings.c.id == meeting_id))).first()
    if source is None:
        return None
    title = source.title[: TITLE_MAX - len(CLONE_SUFFIX)] + CLONE_SUFFIX
    new_id = await _insert(
        conn,
        m.meetings,
        body_id=source.body_id,
        kind=source.kind,
        title=title,
        settings=source.settings,
        created_ms=now_ms,
    )
    for item in await conn.execute(
        select(m.agenda_items)
        .where(m.agenda_items.c.meeting_id == meeting_id)
        .order_by(m.agenda_items.c.position)
    ):
        await _insert(
            conn, m.agenda_items, meeting_id=new_id, position=item.position, kind=item.kind, title=item.title
        )
    questions = (
        await conn.execute(
            select(m.questions).where(m.questions.c.meeting_id == meeting_id).order_by(m.questions.c.position)
        )
    ).all()
    for q in questions:
        qid = await _insert(
            conn,
            m.questions,
            meeting_id=new_id,
            position=q.position,
            title=q.title,
            text=q.text,
            asker_id=q.asker_id,
            group_id=q.group_id,
        )
        respondents = await conn.execute(
            select(m.question_respondents).where(m.question_respondents.c.question_id == q.id)
        )
        for r in respondents.all():
            await conn.execute(
                insert(m.question_respondents).values(
                    question_id=qid, official_id=r.official_id, position=r.position
                )
            )
    return new_id


async def meeting_row(conn: AsyncConnection, meeting_id: int) -> Any:
    stmt = (
        select(m.meetings, m.bodies.c.name.label("body_name"), m.bodies.c.kind.label("body_kind"))
        .join(m.bodies, m.bodies.c.id == m.meetings.c.body_id)
        .where(m.meetings.c.id == meeting_id)
    )
    return (await conn.execute(stmt)).first()


def settings_of(row: Any) -> Settings:
    return settings_from_json(row.settings, BodyKind(row.body_kind))


async def agenda(conn: AsyncConnection, meeting_id: int) -> list[Any]:
    stmt = (
        select(m.agenda_items)
        .where(m.agenda_items.c.meeting_id == meeting_id)
        .order_by(m.agenda_items.c.position, m.agenda_items.c.id)
    )
    return list((await conn.execute(stmt)).all())


async def edit_agenda(conn: AsyncConnection, meeting_id: int, action: str, form: Mapping[str, str]) -> None:
    """Add, rename, delete or move one agenda item; positions stay 1..n; raises Invalid."""
    items = await agenda(conn, meeting_id)
    if action == "agenda_add":
        kind = check_agenda_kind(form.get("item_kind", ""))
        title = check_title(form.get("item_title", ""), "item_title")
        await _insert(
            conn, m.agenda_items, meeting_id=meeting_id, position=len(items) + 1, kind=kind, title=title
        )
        return
    wanted = parse.row_id(form.get("item_id"))
    index = next((i for i, it in enumerate(items) if it.id == wanted), None)
    if index is None:
        raise Invalid({"item": TEXT["unknown_item"]})
    item_id = items[index].id
    table = m.agenda_items
    if action == "agenda_rename":
        kind = check_agenda_kind(form.get("item_kind", items[index].kind))
        title = check_title(form.get("item_title", ""), "item_title")
        await conn.execute(update(table).where(table.c.id == item_id).values(title=title, kind=kind))
        return
    order = [it.id for it in items]
    if action == "agenda_delete":
        await conn.execute(delete(table).where(table.c.id == item_id))
        order.remove(item_id)
    elif action in ("agenda_up", "agenda_down"):
        other = index - 1 if action == "agenda_up" else index + 1
        if not 0 <= other < len(order):
            return  # already first or last: nothing to move
        order[index], order[other] = order[other], order[index]
    else:
        raise Invalid({"action": TEXT["unknown_action"]})
    for pos, iid in enumerate(order, start=1):
        await conn.execute(update(table).where(table.c.id == iid).values(position=pos))
