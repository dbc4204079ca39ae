"""What a console click did, said where the operator looks (issue 16): 已开始测评,
已宣布结果, 已签到：王建国. The console's status line shows it; a refusal keeps its own text
(screens/messages.py REFUSALS)."""

from __future__ import annotations

from collections.abc import Mapping

from live.state import Focus, ProjectorMode
from screens.messages import FOCUS, PROJECTOR_MODES

# Keyed by the console form's ``cmd``; a command not listed here still says it was done.
DONE: dict[str, str] = {
    "open_checkin": "已开始签到",
    "close_checkin": "已结束签到",
    "announce_attendance": "已宣布出席情况",
    "check_in": "已签到",
    "mark_leave": "已登记请假",
    "clear_attendance": "已撤销签到或请假",
    "leave_hall": "已登记中途离会",
    "return_to_hall": "已登记返回会场",
    "attendee_check_in": "已签到",
    "close_meeting": "会议已结束",
    "start_agenda": "已进入议程",
    "call_question": "已开始问题",
    "to_answering": "已开始答复",
    "followup_ask": "已开始追问",
    "followup_reply": "已开始追问答复",
    "open_rating": "已开始测评",
    "open_item_rating": "已开始测评",
    "close_rating": "已结束测评并公布结果",
    "timer_start": "计时已开始",
    "timer_pause": "计时已暂停",
    "timer_reset": "计时已重置",
    "show": "投影屏已切换",
    "floor_add": "已代为申请发言",
    "floor_remove": "已移除申请",
    "floor_move": "已调整发言顺序",
    "floor_grant": "已准许发言",
    "speech_end": "发言已结束",
    "banner": "字幕已显示",
    "projector_mode": "投影屏已切换",
    "open_vote": "已开始表决",
    "close_vote": "已结束表决",
    "announce_vote": "已宣布结果",
    "record_vote": "已录入表决结果",
    "paper_rating": "已录入纸质计票结果并公布",
}


def done(form: Mapping[str, str], who: str = "") -> str:
    """ "已开始测评" for an accepted console action (its form); "已签到：王建国" for one deputy's."""
    text = _done(form)
    return f"{text}：{who}" if who else text


def _done(form: Mapping[str, str]) -> str:
    cmd = form.get("cmd", "")
    if cmd == "timer_adjust":
        return "已加1分钟" if not form.get("seconds", "").startswith("-") else "已减1分钟"
    if cmd == "banner" and not form.get("text", "").strip():
        return "字幕已撤下"
    if cmd == "show" and form.get("focus") in {f.value for f in FOCUS}:
        return f"投影屏已显示{FOCUS[Focus(form['focus'])]}"
    if cmd == "projector_mode" and form.get("mode") in {m.value for m in PROJECTOR_MODES}:
        return f"投影屏：{PROJECTOR_MODES[ProjectorMode(form['mode'])]}"
    if cmd == "open_vote" and form.get("revote_of"):
        return "已开始新一轮表决"
    if cmd == "floor_grant" and form.get("kind") == "followup":
        return "已准许追问，进入追问环节"
    return DONE.get(cmd, "已完成")
