"""The meeting settings form: parsed whole into new settings, or refused field by field.

Parsing a form returns either the new value or a ``{field: Chinese message}`` map
(:class:`Invalid`), never half of each; nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction
from types import MappingProxyType

from live.setup import Denominator, RatingRule, Settings, TimerRole
from screens.messages import AGENDA_KINDS
from server.base import parse
from server.base.presence import BadNetwork, parse_ranges

TITLE_MAX = 200
CHAIR_MAX = 64  # meetings.chair (migration 0016)
TIMER_MIN, TIMER_MAX = 10, 3600
WARN_MAX = 600
FLOOR_CAP_MAX = 10  # requests for the floor per deputy per agenda item
MIN_BALLOTS_MAX = 10_000  # more than any body has members
GRACE_MAX = 30  # minutes a phone that opened a valid hall code may take to finish check-in
CLONE_SUFFIX = " (副本)"

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
        "grace": f"扫码后完成签到的时限须为 1 至 {GRACE_MAX} 之间的整数分钟。",
        "hall_networks": "会场网络“{bad}”格式不正确：请填写地址段，如 192.168.10.0/24，每行一个。",
        "denominator": "测评基数须为应到人数、实到人数或实际投票数。",
        "min_ballots": f"最少有效票数须为 0 至 {MIN_BALLOTS_MAX} 之间的整数（0 表示不设下限）。",
        "share": "{name}须为大于 0 且不超过 1 的比例，如 1/2、50% 或 0.5。",
        "chair_long": f"主持人不能超过 {CHAIR_MAX} 个字。",
        "chair_unreadable": "主持人含有无法识别的字符（如控制字符），请删去后重试。",
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


def check_chair(raw: str) -> str:
    """The chair (主持人) as the proceedings name him or her: spaces (and line breaks)
    trimmed and runs of them made one; "" says nobody is named yet."""
    chair = " ".join(raw.split())
    if len(chair) > CHAIR_MAX:
        raise Invalid({"chair": TEXT["chair_long"]})
    if parse.text(chair, CHAIR_MAX) is None:
        raise Invalid({"chair": TEXT["chair_unreadable"]})
    return chair


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
    min_ballots = parse.integer(
        form.get("min_ballots", str(current.rating_rule.min_ballots)) or "0", 0, MIN_BALLOTS_MAX
    )
    if min_ballots is None:
        errors["min_ballots"] = TEXT["min_ballots"]
    shares: dict[str, Fraction] = {}
    for key, name in SHARE_NAMES.items():
        share = parse_share(form.get(key, ""))
        if share is None:
            errors[key] = TEXT["share"].format(name=name)
        else:
            shares[key] = share
    if errors:
        raise Invalid(errors)
    assert warn is not None and floor_cap is not None and min_ballots is not None
    return replace(
        current,
        rating_rule=RatingRule(denominator, shares["satisfied_share"], shares["basic_share"], min_ballots),
        timer_seconds=MappingProxyType(timers),
        warn_seconds=warn,
        floor_requests_per_item=floor_cap,
    )


def parse_grace_minutes(raw: str) -> int:
    """Minutes a phone may take to finish check-in after opening a valid hall code."""
    minutes = parse.integer(raw, 1, GRACE_MAX)
    if minutes is None:
        raise Invalid({"checkin_grace_minutes": TEXT["grace"]})
    return minutes


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
