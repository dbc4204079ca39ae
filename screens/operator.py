"""What the console operator and the deputies' phones are told about the current step.

The console is worked by a staff operator while the chair reads the script: each panel
that holds a control of the step the meeting is in is lifted to the top of its column
(``lifted``), so at 1366x768 nothing of the current step needs a scroll. The speaker queue
says, per request, what granting it will do or why it cannot be granted yet (``grant_of``),
and the phone offers only the requests the chair can grant in this step (``floor_offer``).
All pure: read from the state, never change it.
"""

from __future__ import annotations

from dataclasses import dataclass

from live.setup import TimerRole
from live.speakers import GRANT_FOLLOWUP_FROM
from live.state import FloorKind, FloorRequest, MeetingState, Phase

_IDLE = (None, Phase.DONE)


def question_running(state: MeetingState) -> bool:
    """A question is called and not yet rated."""
    return state.question_id is not None and state.phase not in _IDLE


def lifted(state: MeetingState) -> frozenset[str]:
    """The console panels of the current step: "rating", "vote", "vote-settled", "questions", "floor"."""
    out: set[str] = set()
    if state.floor_queue or state.speaking_id is not None:
        out.add("floor")
    ballot = state.rating_open() or state.vote_open()
    if state.rating_open():
        out.add("rating")
    vote = state.current_vote()
    if vote is not None:
        if state.vote_open() or not vote.announced:
            out.add("vote")
        elif not ballot and not question_running(state):
            out.add("vote-settled")  # 重新表决 stays at hand until the next step begins
    if not ballot and not question_running(state) and _waiting_questions(state):
        out.add("questions")
    return frozenset(out)


def _waiting_questions(state: MeetingState) -> bool:
    for q in state.setup.questions:
        done = state.ratings.get(q.id)
        if (done is None or done.result is None) and q.id != state.question_id:
            return True
    return False


@dataclass(frozen=True)
class Grant:
    """What the console says beside a queued request: may it be granted now, and then what."""

    can: bool
    label: str  # the button
    note: str  # what granting does, or why not yet


def grant_of(state: MeetingState, request: FloorRequest) -> Grant:
    if request.kind is FloorKind.FOLLOWUP:
        label = "准许追问"
        if state.speaking_id is not None:
            return Grant(False, label, "当前代表发言结束后才能准许")
        if state.phase in GRANT_FOLLOWUP_FROM:
            return Grant(True, label, "准许后将进入追问环节，开始追问计时")
        if state.phase is Phase.FOLLOWUP_ASK:
            return Grant(False, label, "本轮追问答复开始后才能准许")
        return Grant(False, label, "当前没有可追问的问题，可移除此申请")
    label = "给予发言"
    if state.speaking_id is not None:
        return Grant(False, label, "当前代表发言结束后才能准许")
    if state.rating_open() or state.vote_open():
        return Grant(False, label, "测评或表决结束后才能准许")
    if question_running(state):
        return Grant(False, label, "当前问题测评结束后才能准许")
    nth = state.speeches.get((state.agenda_item_id, request.deputy_id), 0) + 1
    role = TimerRole.SPEECH_FIRST if nth == 1 else TimerRole.SPEECH_SECOND
    minutes = state.setup.settings.timer_seconds[role] // 60
    which = "首次发言" if nth == 1 else "再次发言"
    return Grant(True, label, f"准许后开始发言计时（{which} {minutes} 分钟）")


def floor_offer(state: MeetingState) -> tuple[FloorKind, ...]:
    """The requests a present deputy's phone offers now: those the chair can grant in this step."""
    if state.agenda_item_id is None or state.closed:
        return ()
    if state.rating_open() or state.vote_open():
        return ()
    if question_running(state):
        # A follow-up waits for its turn while another is asked; a speech waits for the rating.
        return (FloorKind.FOLLOWUP,) if state.phase is not Phase.ASKING else ()
    return (FloorKind.SPEECH,)


def floor_later(state: MeetingState) -> str:
    """Why a phone offers no request now, and when it will ("" when it offers one)."""
    if state.agenda_item_id is None or state.closed or floor_offer(state):
        return ""
    if state.rating_open() or state.vote_open():
        return "测评或表决结束后可申请发言。"
    return "答复开始后可申请追问；本问题测评结束后可申请发言。"


def vote_title(state: MeetingState) -> str:
    """The matter a new vote is most likely on: the current agenda item, else the next one."""
    agenda = state.setup.agenda
    current = state.setup.agenda_item(state.agenda_item_id) if state.agenda_item_id else None
    if current is not None and current.kind == "vote":
        return current.title
    ahead = [i for i in agenda if current is None or i.position > current.position]
    for item in ahead:
        if item.kind == "vote":
            return item.title
    if current is not None:
        return current.title
    return ahead[0].title if ahead else ""
