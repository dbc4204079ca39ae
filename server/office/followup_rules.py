"""The rules of follow-up (督办), pure: no I/O, days given by the caller (China time).

- The reply deadline is the 交办 day plus N calendar months (3 by default, as 代表法 sets
  for deputies' suggestions; 1 to 6), on the same day of the month, or the month's last
  day when it is shorter (11-30 + 3 months = 02-28, or 02-29 in a leap year).
- An item waits for a reply while it is 办理中 or 重新办理. It is 逾期 (overdue) when the
  China date is past the deadline and it still waits: the deadline day itself is not
  overdue. Overdue is derived, never set by hand.
- The status changes (``TRANSITIONS``): 办理中 → 已答复 (classed A/B/C) → 已办结;
  已答复 → 重新办理 (the deputies are dissatisfied) → 已答复 again. Only staff close an item;
  a B or C reply leaves the item open (its plan runs on), so closing a B or C item needs a
  written reason. 已办结 is final.
- The deputies who asked or co-proposed the question judge the item's current reply
  (``VERDICTS``). A 不满意 sends the item back: the one move a deputy (``DEPUTY``) may make
  is 已答复 → 重新办理, and only through that judgment (``after_judgment``). A deputy's
  不同意办结 on the current reply keeps the item open: staff may still close it, but only
  with a written reason (``check_move(..., objected=True)``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

DEFAULT_MONTHS = 3
MIN_MONTHS, MAX_MONTHS = 1, 6
SOON_DAYS = 14  # the board lists these after the overdue ones
REMIND_DAYS = 7  # the reminders line: "7 天内到期 N 项"

HANDLING, REPLIED, REDO, CLOSED = "handling", "replied", "redo", "closed"
STATUSES = {HANDLING: "办理中", REPLIED: "已答复", REDO: "重新办理", CLOSED: "已办结"}
WAITING = frozenset({HANDLING, REDO})  # a reply is due
CLASSES = {
    "A": "A 已解决或基本解决",
    "B": "B 正在解决或列入计划逐步解决",
    "C": "C 因条件限制需以后解决",
}

STAFF, ORGAN, DEPUTY = "staff", "organ", "deputy"

# The kinds of post in an item's history (followup_posts.kind): an organ's progress, its
# reply (the status moves to 已答复), a staff status change, a written answer (书面答复)
# made the item's first post.
PROGRESS, REPLY, STATUS, ANSWER = "progress", "reply", "status", "answer"
POST_KINDS = {PROGRESS: "办理进展", REPLY: "答复", ANSWER: "书面答复", STATUS: "状态变更"}

SATISFIED, BASIC, DISSATISFIED = "satisfied", "basic", "dissatisfied"
VERDICTS = {SATISFIED: "满意", BASIC: "基本满意", DISSATISFIED: "不满意"}
MAX_OBJECTION = 500  # characters of a 不同意办结's reason

TEXT = {
    "months": f"答复期限只能是 {MIN_MONTHS} 至 {MAX_MONTHS} 个月。",
    "illegal": "不能从“{from_}”改为“{to}”。",
    "class": "请选择答复类别（A、B 或 C）。",
    "staff_only": "只有人大办公室工作人员可以办结督办事项。",
    "reason": "{cls} 类答复的事项仍在办理，办结须写明理由。",
    "redo_reason": "重新办理须写明理由（例如代表不满意的意见）。",
    "unknown": "未知的状态。",
    "deputy_only_redo": "代表只能通过“不满意”的评价要求重新办理。",
    "objected": "有代表不同意办结，办结须写明理由。",
    "no_reply": "这个事项目前没有待评价的答复。",
    "verdict": "请选择满意、基本满意或不满意。",
    "objection": "请写明不同意办结的理由，不超过 {n} 个字。",
}


class RuleBroken(ValueError):
    """A change the rules refuse; the message is for the user, in Chinese."""


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, clamped to the last day of the target month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_months(months: int) -> int:
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise RuleBroken(TEXT["months"])
    return months


def reply_due(assigned_on: dt.date, months: int = DEFAULT_MONTHS) -> dt.date:
    """The reply deadline of an item assigned (交办) on ``assigned_on``."""
    return add_months(assigned_on, check_months(months))


def overdue(status: str, due: dt.date, today: dt.date) -> bool:
    """Past the deadline (the deadline day is still in time) and no reply received."""
    return status in WAITING and today > due


def due_within(status: str, due: dt.date, today: dt.date, days: int) -> bool:
    """A reply is due from today to ``days`` days ahead (not yet overdue)."""
    return status in WAITING and today <= due <= today + dt.timedelta(days=days)


@dataclass(frozen=True)
class Move:
    """One legal status change: who may make it and what it needs."""

    to: str
    who: frozenset[str]
    needs_class: bool = False  # a reply is classed A, B or C
    needs_reason: bool = False


# Where each status may go. An organ replies (today staff post it on its behalf); staff
# send an item back or close it; a deputy's 不满意 sends it back too.
TRANSITIONS: dict[str, tuple[Move, ...]] = {
    HANDLING: (Move(REPLIED, frozenset({STAFF, ORGAN}), needs_class=True),),
    REPLIED: (
        Move(CLOSED, frozenset({STAFF})),
        Move(REDO, frozenset({STAFF, DEPUTY}), needs_reason=True),
    ),
    REDO: (Move(REPLIED, frozenset({STAFF, ORGAN}), needs_class=True),),
    CLOSED: (),
}


def check_move(
    status: str,
    to: str,
    who: str,
    reply_class: str | None,
    current_class: str | None,
    reason: str,
    *,
    objected: bool = False,
) -> None:
    """Raise :class:`RuleBroken` unless ``who`` may move an item from ``status`` to ``to``.

    ``reply_class``: the class of the reply being recorded (for 已答复); ``current_class``:
    the class of the item's last reply (closing a B or C item needs ``reason``);
    ``objected``: a deputy objects to closing on the current reply (closing needs ``reason``).
    """
    if status not in STATUSES or to not in STATUSES:
        raise RuleBroken(TEXT["unknown"])
    move = next((m for m in TRANSITIONS[status] if m.to == to), None)
    if move is None:
        raise RuleBroken(TEXT["illegal"].format(from_=STATUSES[status], to=STATUSES[to]))
    if who not in move.who:
        raise RuleBroken(TEXT["deputy_only_redo" if who == DEPUTY else "staff_only"])
    if move.needs_class and reply_class not in CLASSES:
        raise RuleBroken(TEXT["class"])
    if move.needs_reason and not reason.strip():
        raise RuleBroken(TEXT["redo_reason"])
    if to == CLOSED and current_class in ("B", "C") and not reason.strip():
        raise RuleBroken(TEXT["reason"].format(cls=current_class))
    if to == CLOSED and objected and not reason.strip():
        raise RuleBroken(TEXT["objected"])


def after_judgment(status: str, verdict: str) -> str | None:
    """The status a deputy's judgment of the current reply moves the item to (重新办理
    after a 不满意), or None when it stays 已答复. Raises :class:`RuleBroken` for a verdict
    that is none of ``VERDICTS`` or an item with no reply waiting for judgment (before the
    first reply, after 重新办理 until the next one, once closed)."""
    if verdict not in VERDICTS:
        raise RuleBroken(TEXT["verdict"])
    if status != REPLIED:
        raise RuleBroken(TEXT["no_reply"])
    return REDO if verdict == DISSATISFIED else None


def check_objection(status: str, reason: str) -> str:
    """A 不同意办结 is said of the current reply, with its reason (1 to 500 characters);
    returns the reason stripped."""
    if status != REPLIED:
        raise RuleBroken(TEXT["no_reply"])
    reason = reason.strip()
    if not reason or len(reason) > MAX_OBJECTION:
        raise RuleBroken(TEXT["objection"].format(n=MAX_OBJECTION))
    return reason


def board_rank(status: str, due: dt.date, today: dt.date) -> tuple[int, dt.date]:
    """The board's order: overdue first, then due within 14 days, then the rest (closed
    last); by deadline within each."""
    if overdue(status, due, today):
        return 0, due
    if due_within(status, due, today, SOON_DAYS):
        return 1, due
    return (2 if status != CLOSED else 3), due
