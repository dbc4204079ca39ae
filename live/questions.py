"""The agenda and the life of one question (DOMAIN.md, "One question, live").

Phases of a question, as a table a reader can check:

    asking ──► answering ──► followup_ask ──► followup_reply ──┐
                   │               ▲                            │
                   │               └────────────────────────────┤
                   └──────────────► rating ◄────────────────────┘ ──► done

Any number of follow-up exchanges may happen. Entering a phase loads that phase's
timer (default per meeting) and starts it, so one click both gives the floor and starts
the clock. Rating is opened and closed by :mod:`live.ratings`. While a rating is open
nothing else may be called: the hall must not lose the ballot box (nor while a vote is
open, see live.votes).
"""

from __future__ import annotations

from live.commands import AdvancePhase, CallQuestion, ShowOnProjector, StartAgendaItem
from live.events import (
    AgendaItemStarted,
    Event,
    PhaseChanged,
    ProjectorFocused,
    QuestionCalled,
    SpokeFor,
)
from live.refusals import Refused
from live.setup import TimerRole
from live.state import Focus, MeetingState, Phase
from live.timers import fresh

# Speaking phases reachable by AdvancePhase; rating has commands of its own.
NEXT_PHASES: dict[Phase, frozenset[Phase]] = {
    Phase.ASKING: frozenset({Phase.ANSWERING}),
    Phase.ANSWERING: frozenset({Phase.FOLLOWUP_ASK}),
    Phase.FOLLOWUP_ASK: frozenset({Phase.FOLLOWUP_REPLY}),
    Phase.FOLLOWUP_REPLY: frozenset({Phase.FOLLOWUP_ASK}),
    Phase.RATING: frozenset(),
    Phase.DONE: frozenset(),
}

INQUIRY = "inquiry"  # the agenda kind questions are asked in (screens.messages.AGENDA_KINDS)

PHASE_TIMER: dict[Phase, TimerRole] = {
    Phase.ASKING: TimerRole.ASKING,
    Phase.ANSWERING: TimerRole.ANSWERING,
    Phase.FOLLOWUP_ASK: TimerRole.FOLLOWUP_ASK,
    Phase.FOLLOWUP_REPLY: TimerRole.FOLLOWUP_REPLY,
    Phase.RATING: TimerRole.RATING,
}


def _no_open_rating(state: MeetingState) -> None:
    if state.rating_open():
        raise Refused("rating_in_progress")
    if state.vote_open():
        raise Refused("vote_in_progress")
    if state.speaking_id is not None:
        raise Refused("speech_in_progress")


def decide_agenda(state: MeetingState, cmd: StartAgendaItem) -> list[Event]:
    if state.setup.agenda_item(cmd.item_id) is None:
        raise Refused("unknown_agenda_item")
    _no_open_rating(state)
    if state.agenda_item_id == cmd.item_id:
        return []
    return [AgendaItemStarted(cmd.item_id), ProjectorFocused(Focus.WELCOME)]


def decide_call(state: MeetingState, cmd: CallQuestion, now_ms: int) -> list[Event]:
    question = state.setup.question(cmd.question_id)
    if question is None:
        raise Refused("unknown_question")
    _no_open_rating(state)
    done = state.ratings.get(cmd.question_id)
    if done is not None and done.result is not None:
        raise Refused("question_already_rated")
    # A question belongs to the 问政 item: called before any item was entered, it enters
    # that item, so the hall is in an item and deputies may ask for the floor.
    enter: list[Event] = []
    if state.agenda_item_id is None:
        enter += [AgendaItemStarted(i.id) for i in state.setup.agenda if i.kind == INQUIRY][:1]
    return [
        *enter,
        QuestionCalled(cmd.question_id),
        PhaseChanged(Phase.ASKING, question.asker_id),
        fresh(state, TimerRole.ASKING, now_ms, running=True),
        ProjectorFocused(Focus.QUESTION),
    ]


def decide_advance(state: MeetingState, cmd: AdvancePhase, now_ms: int) -> list[Event]:
    if state.question_id is None or state.phase is None:
        raise Refused("no_question")
    if cmd.to not in NEXT_PHASES[state.phase]:
        raise Refused("bad_phase_move", current=state.phase, wanted=cmd.to)
    speaker = cmd.speaker_id
    if cmd.to is Phase.FOLLOWUP_ASK:
        if speaker is None:
            question = state.setup.question(state.question_id)
            speaker = question.asker_id if question else None
        elif speaker not in state.setup.deputies:
            raise Refused("unknown_deputy")
        elif not state.is_present(speaker):
            raise Refused("speaker_not_present")
    elif speaker is not None:
        raise Refused("speaker_only_for_followup")
    events: list[Event] = []
    if state.phase in (Phase.ASKING, Phase.FOLLOWUP_ASK) and state.speaker_id is not None:
        # The deputy's turn ends here: its length (overrun included) is speaking time.
        t = state.timer
        events.append(SpokeFor(state.speaker_id, max(0, t.duration_ms - t.left_ms(now_ms))))
    events += [
        PhaseChanged(cmd.to, speaker),
        fresh(state, PHASE_TIMER[cmd.to], now_ms, running=True),
    ]
    if state.focus is not Focus.QUESTION:
        events.append(ProjectorFocused(Focus.QUESTION))
    return events


def decide_show(state: MeetingState, cmd: ShowOnProjector) -> list[Event]:
    if cmd.focus is Focus.RESULT and not any(r.result for r in state.ratings.values()):
        raise Refused("no_result_yet")
    if cmd.focus is Focus.QUESTION and state.question_id is None:
        raise Refused("no_question")
    if cmd.focus is Focus.ATTENDANCE and state.announcement is None:
        raise Refused("no_announcement")
    if cmd.focus is Focus.VOTE and state.vote_id is None:
        raise Refused("no_vote")
    if cmd.focus is Focus.SPEECH and state.speaking_id is None:
        raise Refused("no_speech")
    if state.focus is cmd.focus:
        return []
    return [ProjectorFocused(cmd.focus)]


def apply_agenda(state: MeetingState, e: AgendaItemStarted) -> MeetingState:
    state.agenda_item_id = e.item_id
    state.rating_key = None  # an item's rating belongs to its item
    state.floor_queue = []  # so do the requests for the floor
    return state


def apply_called(state: MeetingState, e: QuestionCalled) -> MeetingState:
    state.question_id = e.question_id
    state.rating_key = None  # the question's own rating is the current one now
    return state


def apply_phase(state: MeetingState, e: PhaseChanged) -> MeetingState:
    state.phase = e.phase
    state.speaker_id = e.speaker_id
    return state


def apply_focus(state: MeetingState, e: ProjectorFocused) -> MeetingState:
    state.focus = e.focus
    return state


def apply_spoke(state: MeetingState, e: SpokeFor) -> MeetingState:
    state.spoken_ms[e.deputy_id] = state.spoken_ms.get(e.deputy_id, 0) + e.spoken_ms
    return state
