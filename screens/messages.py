"""The message catalogue: every sentence a user reads that code chooses, in Chinese.

Templates hold the rest. Keys are refusal codes from :mod:`live` and edge errors from
:mod:`server`; a test checks that every refusal code in ``live/`` has a message here.
"""

from __future__ import annotations

from live.setup import AttendeeKind, BodyKind, Denominator, Quorum, TimerRole
from live.state import (
    Choice,
    Focus,
    Phase,
    ProjectorMode,
    Threshold,
    Ungraded,
    VoteBase,
    VoteChoice,
    VoteMethod,
)

REFUSALS: dict[str, str] = {
    "not_allowed": "您无权执行此操作。",
    "unknown_deputy": "找不到这位代表。",
    "unknown_question": "找不到这个问题。",
    "unknown_agenda_item": "找不到这个议程。",
    "checkin_already_open": "签到已经开始。",
    "checkin_not_open": "签到尚未开始或已经结束，请听从会务人员安排。",
    "already_present": "该代表已签到，不能再登记请假。",
    "rating_in_progress": "满意度测评正在进行，请先结束测评。",
    "question_already_rated": "该问题已完成测评，结果不可更改。",
    "no_question": "当前没有进行中的问题。",
    "bad_phase_move": "当前环节不能直接进入该环节。",
    "speaker_only_for_followup": "只有追问环节需要指定发言代表。",
    "speaker_not_present": "该代表尚未签到，不能发言追问。",
    "no_result_yet": "还没有测评结果可以展示。",
    "no_announcement": "尚未宣布出席情况。",
    "rating_not_yet": "答复结束后才能开始测评。",
    "rating_not_open": "测评尚未开始或已经结束。",
    "already_rated": "您已评价过本问题，每人只能评价一次。",
    # server/room/runtime.py: the sealed ballots do not match the receipts (never close on a
    # wrong count; the log says which round).
    "ballot_box_mismatch": (
        "票箱核对不一致：密封选票数与已投人数不符，本轮暂不能结束。请联系技术人员，或改用纸质票表决。"
    ),
    "not_checked_in": "请先签到，再参加测评。",
    "bad_ballot_key": "提交内容不完整，请刷新页面后重试。",
    "no_timer": "当前没有计时。",
    "timer_running": "计时已在进行。",
    "timer_not_running": "计时没有在进行。",
    "bad_adjustment": "调整时间须为非零整数秒，且不超过一小时。",
    "banner_too_long": "字幕不能超过60个字。",
    "not_checked_in_floor": "请先签到，再申请发言。",
    "floor_before_agenda": "议程开始后才能申请发言。",
    "no_question_for_followup": "现在不能追问：请在答复开始后申请追问。",
    "speech_during_question": "问题进行中只能申请追问；本问题测评结束后可申请发言。",
    "subject_too_long": "发言主题不能超过40个字。",
    "already_queued": "您已在发言排队中，请等待主持人安排。",
    "floor_request_cap": "本议程您申请发言的次数已达上限。",
    "not_queued": "不在发言排队中。",
    "bad_queue_place": "排队位置不正确。",
    "speech_in_progress": "有代表正在发言，请先结束发言。",
    "ballot_in_progress": "测评或表决正在进行，请先结束。",
    "no_speech": "当前没有代表在发言。",
    "no_agenda_item": "请先进入要测评的议程。",
    "question_in_progress": "当前问题尚未结束，请先完成问题的测评。",
    "item_already_rated": "该议程已完成测评，结果不可更改。",
    "vote_in_progress": "表决正在进行，请先结束表决。",
    "bad_vote_title": "请填写表决事项（不超过200字）。",
    "unknown_vote": "找不到这项表决。",
    "already_voted": "您已投过票，每人只能投一次。",
    "vote_not_open": "表决尚未开始或已经结束。",
    "not_checked_in_vote": "请先签到，再参加表决。",
    "no_vote": "还没有表决。",
    "vote_not_closed": "请先结束表决，再宣布结果。",
    "bad_vote_method": "请选择计票方式：纸质票或举手。",
    "bad_vote_counts": "票数须为不小于 0 的整数。",
    "vote_counts_exceed_present": "赞成、反对、弃权票数之和不能超过实到人数。",
    "suspended": "该代表暂停执行代表职务，不能签到、请假、测评、表决或申请发言。",
    "not_in_hall": "该代表尚未签到或不在会场，不能登记中途离会。",
    "not_left": "该代表没有登记中途离会，无需返回会场。",
    "leave_during_ballot": "测评或表决正在进行，请在本轮结束后再登记中途离会（该代表计入本轮实到人数）。",
    "unknown_attendee": "找不到这位列席或旁听人员。",
    "meeting_closed": "会议已结束，不能再进行任何操作。",
    # quorum (issue 16): the figures come with the refusal (live.attendance.quorum_figures)
    "vote_no_quorum": (
        "不足法定人数，不能表决：应到 {expected} 人，实到 {present} 人，需 {needed} 人。"
        "不足法定人数时表决无效，不能强行开始。请先核对出席情况：到会未扫码的代表请人工签到，"
        "中途离会后回到会场的代表请登记返回会场。"
    ),
    "rating_no_quorum": (
        "不足法定人数（应到 {expected} 人，实到 {present} 人，需 {needed} 人）："
        "现在开始的测评只统计票数，结果仅供参考，不评定等次。如仍要开始，请点“仍开始测评（仅供参考）”。"
    ),
    "bad_rating_counts": "票数须为不小于 0 的整数。",
    "rating_counts_exceed_present": (
        "纸质票数（加上保留的电子票 {kept} 张）之和不能超过实到人数 {present} 人。"
    ),
    "paper_tellers_needed": "请填写监票人和计票人的姓名（各不超过60字）。",
}

ATTENDEE_KINDS: dict[AttendeeKind, str] = {
    AttendeeKind.OBSERVER: "列席",
    AttendeeKind.CITIZEN: "旁听",
    AttendeeKind.RESPONDENT: "应询",
}

REHEARSAL_MARK = "彩排 · 不计入出勤记录"
CLOSED = "会议已结束"

EDGE: dict[str, str] = {
    "bad_request": "请求内容有误，请刷新页面后重试。",
    "unknown_command": "无法识别的操作。",
    "bad_field": "“{field}”填写有误。",
    "not_recorded": "未记录，请重试。",
    "login_failed": "用户名或密码错误。",
    "login_throttled": "登录尝试过于频繁，请稍后再试。",
    "login_throttled_address": "此网络地址登录失败的次数过多，请 5 分钟后再试。",
    "csrf": "页面已过期，请刷新后重试。",
    "login_required": "请先登录。",
    "not_bound": "此手机尚未绑定代表身份。",
    "signed_out": (
        "本机已退出：这张代表证已在另一部手机上使用，或已由会务人员解除绑定。"
        "如需在本机使用，请扫描代表证上的二维码。如非本人操作，请立即联系会务人员。"
    ),
    "card_elsewhere": (
        "这张代表证已在另一部手机上使用。如需改用这部手机，请扫描代表证上的二维码，或请会务人员解除绑定。"
    ),
    "bad_card": "卡号或验证码不正确，请核对代表证。",
    "card_wait": "验证码错误次数较多，请{wait}后再试，或请会务人员协助。",
    "card_locked": "这张代表证已被会务人员锁定，请到签到处联系会务人员。",
    "bind_throttled": "本网络的错误尝试过多，请稍后再试，或请会务人员协助。",
    "hall_code_needed": "请先扫描会场大屏幕上的签到二维码，再输入卡号和验证码。",
    "outside_hall": (
        "您的手机不在会场网络中。请连接会场无线网络后重新扫描大屏幕二维码，或请会务人员为您签到。"
    ),
    "hall_code_expired": "二维码已过期，请重新扫描大屏幕上的二维码。",
    "hall_code_invalid": "二维码无效，请扫描会场大屏幕上的二维码。",
    # Check-in by the hall QR (server/web/routes/deputy.py): the grace after a valid scan,
    # a scan after check-in closed, and a scan again after checking in.
    "hall_grace_over": "扫码已超过 {minutes} 分钟，签到页面已失效。请重新扫描会场大屏幕上的签到二维码。",
    "checkin_over": "签到已结束。如需签到，请到会场签到处联系会务人员，由工作人员为您人工签到。",
    "checkin_not_yet": "签到尚未开始，请等会务人员宣布开始签到后再扫描大屏幕上的二维码。",
    "checked_in_at": "您已于 {time} 签到，无需再次签到。",
    "bad_invitation": "邀请链接无效或已作废，请联系会务人员。",
    "pair_code_invalid": "配对码不正确或已过期。",
    "not_found": "页面不存在。",
    "no_meeting": "找不到这次会议。",
    "no_body": "没有这个机构。",
}

ACCOUNTS: dict[str, str] = {
    "wrong_old": "原密码不正确。",
    "mismatch": "两次输入的新密码不一致。",
    "too_short": "新密码至少需要 {min} 个字符。",
    "too_long": "新密码不能超过 {max} 个字符。",
    "same_as_old": "新密码不能与原密码相同。",
    "throttled": "尝试过于频繁，请稍后再试。",
    "bad_username": "用户名须为 2 至 32 个字符：汉字、字母、数字或 . _ -。",
    "username_taken": "用户名已存在。",
    "no_role": "请至少选择一个角色。",
    "last_admin": "不能取消最后一位管理员的管理员角色。",
    "no_user": "没有这个用户。",
    "admin_required": "此页面仅限管理员使用。",
    # not refusals: what a page says after a change went through
    "password_changed": "密码已修改，请牢记新密码。",
    "password_changed_title": "密码已修改",
    "roles_saved": "已保存 {username} 的角色。",
}

PHASES: dict[Phase, str] = {
    Phase.ASKING: "提问",
    Phase.ANSWERING: "答复",
    Phase.FOLLOWUP_ASK: "追问",
    Phase.FOLLOWUP_REPLY: "追问答复",
    Phase.RATING: "满意度测评",
    Phase.DONE: "已完成",
}

TIMER_ROLES: dict[TimerRole, str] = {
    TimerRole.ASKING: "提问计时",
    TimerRole.ANSWERING: "答复计时",
    TimerRole.FOLLOWUP_ASK: "追问计时",
    TimerRole.FOLLOWUP_REPLY: "追问答复计时",
    TimerRole.RATING: "测评计时",
    TimerRole.SPEECH_FIRST: "发言计时",
    TimerRole.SPEECH_SECOND: "再次发言计时",
}

CHOICES: dict[Choice, str] = {
    Choice.SATISFIED: "满意",
    Choice.BASIC: "基本满意",
    Choice.DISSATISFIED: "不满意",
}

FOCUS: dict[Focus, str] = {
    Focus.WELCOME: "会议议程",
    Focus.CHECKIN: "签到",
    Focus.ATTENDANCE: "出席情况",
    Focus.QUESTION: "当前问题",
    Focus.RESULT: "测评结果",
    Focus.VOTE: "表决",
    Focus.SPEECH: "代表发言",
}

PROJECTOR_MODES: dict[ProjectorMode, str] = {
    ProjectorMode.NORMAL: "跟随会议",
    ProjectorMode.BLANK: "已黑屏",
    ProjectorMode.FROZEN: "已定格",
}
PROJECTOR_MODE_ACTIONS: dict[ProjectorMode, str] = {
    ProjectorMode.NORMAL: "恢复显示",
    ProjectorMode.BLANK: "黑屏",
    ProjectorMode.FROZEN: "定格画面",
}

VOTE_CHOICES: dict[VoteChoice, str] = {
    VoteChoice.FOR: "赞成",
    VoteChoice.AGAINST: "反对",
    VoteChoice.ABSTAIN: "弃权",
}
NOT_VOTED = "未按"
VERDICTS: dict[bool, str] = {True: "通过", False: "未通过"}

THRESHOLDS: dict[Threshold, str] = {
    Threshold.MAJORITY: "过半数",
    Threshold.TWO_THIRDS: "三分之二以上",
}

VOTE_BASES: dict[VoteBase, str] = {
    VoteBase.MEMBERS: "全体组成人员",
    VoteBase.PRESENT: "实到人数",
    VoteBase.CAST: "参加表决人数",
}


def vote_base(base: VoteBase, body_kind: BodyKind) -> str:
    """全体代表 for a congress, 全体组成人员 for a standing committee; the others as listed."""
    return MEMBERS_OF[body_kind] if base is VoteBase.MEMBERS else VOTE_BASES[base]


VOTE_METHODS: dict[VoteMethod, str] = {
    VoteMethod.PHONES: "手机表决",
    VoteMethod.PAPER: "纸质票",
    VoteMethod.HANDS: "举手表决",
}

AGENDA_KINDS: dict[str, str] = {
    "report": "报告",
    "inquiry": "问政",
    "vote": "表决",
    "rating": "测评",
    "discussion": "讨论",
}

# Who reports on an agenda item (a 述职评议, migration 0016): agenda_items.reporter_kind.
REPORTER_KINDS: dict[str, str] = {"group": "代表小组", "member": "本级代表", "higher": "上级人大代表"}


def reporter_label(kind: str, name: str, group: str = "", congress: str = "") -> str:
    """How the hall, the proceedings and the sheets name who reports: a group by its name,
    a member with his or her group, a deputy of the higher congress with that congress
    ("张三（某某市人民代表大会代表）"; a congress typed as "市人大代表" is not doubled)."""
    if not name:
        return ""
    if kind == "member" and group:
        return f"{name}（{group}）"
    if kind == "higher" and congress:
        return f"{name}（{congress if congress.endswith('代表') else congress + '代表'}）"
    return name


# Form fields as the pages call them, for "“{field}”填写有误。"
FIELD_NAMES: dict[str, str] = {
    "deputy_id": "代表",
    "attendee_id": "列席旁听人员",
    "item_id": "议程",
    "question_id": "问题",
    "speaker_id": "追问代表",
    "seconds": "调整时间",
    "focus": "投影屏显示",
    "choice": "选项",
    "ballot_key": "提交内容",
    "vote_id": "表决",
    "title": "表决事项",
    "secret": "表决方式",
    "threshold": "通过条件",
    "base": "基数",
    "live": "实时票数",
    "revote_of": "重新表决",
    "method": "计票方式",
    "for": "赞成票数",
    "text": "字幕",
    "kind": "申请类型",
    "subject": "发言主题",
    "place": "排队位置",
    "mode": "投影屏状态",
    "against": "反对票数",
    "abstain": "弃权票数",
    "satisfied": "满意票数",
    "basic": "基本满意票数",
    "dissatisfied": "不满意票数",
    "keep_electronic": "已投电子票的处理",
    "without_quorum": "不足法定人数确认",
    "scrutineers": "监票人",
    "counters": "计票人",
}


QUORUM_RULES: dict[Quorum, str] = {Quorum.TWO_THIRDS: "三分之二以上出席", Quorum.MORE_THAN_HALF: "过半数出席"}
MEMBERS_OF: dict[BodyKind, str] = {BodyKind.CONGRESS: "全体代表", BodyKind.STANDING_COMMITTEE: "全体组成人员"}


def schedule_line(held_on: object, starts_at: str = "", place: str = "") -> str:
    """ "2026年7月15日 14:30 · 镇政府三楼会议室" from what is known of it ("" when nothing)."""
    day = str(held_on or "")
    parts = day.split("-")
    known = len(parts) == 3 and all(p.isdigit() for p in parts)
    when = f"{int(parts[0])}年{int(parts[1])}月{int(parts[2])}日" if known else ""
    when = f"{when} {starts_at}".strip()
    return " · ".join(p for p in (when, place) if p)


def field_name(field: str) -> str:
    return FIELD_NAMES.get(field, field)


def refusal(code: str, params: dict[str, object] | None = None) -> str:
    """The refusal's sentence; ``params`` fill in its figures (e.g. 应到 / 实到 / 需)."""
    text = REFUSALS.get(code, EDGE["bad_request"])
    if params and "{" in text:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


# How a rating's rates are measured, beside every grade (以实到人数 45 为基数).
DENOMINATOR_RULES: dict[Denominator, str] = {
    Denominator.MEMBERS: "以应到人数 {base} 为基数",
    Denominator.PRESENT: "以实到人数 {base} 为基数",
    Denominator.CAST: "以实际投票数 {base} 为基数",
}
UNGRADED: dict[Ungraded, str] = {
    Ungraded.NO_BALLOTS: "无有效评价",
    Ungraded.TOO_FEW: "无有效评价",
    Ungraded.NO_QUORUM: "不评定等次",
}
UNGRADED_NOTES: dict[Ungraded, str] = {
    Ungraded.NO_BALLOTS: "没有代表参加测评",
    Ungraded.TOO_FEW: "有效票 {cast} 张，少于本次会议规定的 {min} 张",
    Ungraded.NO_QUORUM: "不足法定人数时开始，结果仅供参考",
}
PAPER_COUNT = "纸质计票"


def wait_text(seconds: int) -> str:
    """A wait as a deputy reads it: "30 秒", "约 3 分钟"."""
    return f" {seconds} 秒" if seconds < 60 else f"约 {-(-seconds // 60)} 分钟"


def edge(code: str, **params: str) -> str:
    return EDGE[code].format(**params)
