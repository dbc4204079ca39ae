"""The speaker queue (发言): DOMAIN.md, "One question, live", step 4.

Theory of operation. A deputy who is checked in asks for the floor from the phone: a
follow-up (追问) on the current question, or a general speech on the agenda item, with an
optional short subject. Requests queue in the order they came; the deputy sees their
place and may withdraw. The chair sees the queue, moves requests, removes them, adds one
by hand for a deputy without a phone (the same command, sent by the chair), and grants
the floor. Granting a follow-up is the question's follow-up phase (live.questions) with
that deputy as speaker; granting a speech starts its own timer, the first speech of a
deputy on an item with the meeting's first-speech limit and any later one with the
second-speech limit (全国人大议事规则 §57: 10 and 5 minutes; every meeting sets its own).
Ending a speech adds its length, overrun included, to the deputy's speaking time.
A deputy may ask for the floor at most ``floor_requests_per_item`` times per item.
"""

from __future__ import annotations

from live.attendance import refuse_suspended
from live.commands import AdvancePhase, EndSpeech, GrantFloor, MoveFloor, RequestFloor, WithdrawFloor
from live.events import (
    Event,
    FloorGranted,
    FloorMoved,
    FloorRequested,
    FloorWithdrawn,
    ProjectorFocused,
    SpeechEnded,
    SpeechStarted,
)
from live.questions import decide_advance
from live.refusals import Refused
from live.setup import TimerRole
from live.state import FloorKind, FloorRequest, Focus, MeetingState, Phase
from live.timers import cleared, fresh

MAX_SUBJECT = 40
FOLLOWUP_FROM = frozenset({Phase.ANSWERING, Phase.FOLLOWUP_ASK, Phase.FOLLOWUP_REPLY})
# A follow-up is granted from these phases (live.questions.NEXT_PHASES); one asked for
# during another's follow-up waits in the queue for its reply.
GRANT_FOLLOWUP_FROM = frozenset({Phase.ANSWERING, Phase.FOLLOWUP_REPLY})


def decide_request(state: MeetingState, cmd: RequestFloor) -> list[Event]:
    if cmd.deputy_id not in state.setup.deputies:
        raise Refused("unknown_deputy")
    refuse_suspended(state, cmd.deputy_id)
    if not state.is_present(cmd.deputy_id):
        raise Refused("not_checked_in_floor")
    if state.agenda_item_id is None:
        raise Refused("floor_before_agenda")
    if cmd.kind is FloorKind.FOLLOWUP and state.phase not in FOLLOWUP_FROM:
        raise Refused("no_question_for_followup")
    if cmd.kind is FloorKind.SPEECH and state.phase not in (None, Phase.DONE):
        # A speech could not be granted before the question is rated: a follow-up can.
        raise Refused("speech_during_question")
    subject = " ".join(cmd.subject.split())
    if len(subject) > MAX_SUBJECT:
        raise Refused("subject_too_long")
    if state.queue_place(cmd.deputy_id) is not None:
        raise Refused("already_queued")
    asked = state.floor_asked.get((state.agenda_item_id, cmd.deputy_id), 0)
    if asked >= state.setup.settings.floor_requests_per_item:
        raise Refused("floor_request_cap")
    return [FloorRequested(cmd.deputy_id, cmd.kind, subject, state.agenda_item_id)]


def decide_withdraw(state: MeetingState, cmd: WithdrawFloor) -> list[Event]:
    if state.queue_place(cmd.deputy_id) is None:
        raise Refused("not_queued")
    return [FloorWithdrawn(cmd.deputy_id)]


def decide_move(state: MeetingState, cmd: MoveFloor) -> list[Event]:
    found = state.queue_place(cmd.deputy_id)
    if found is None:
        raise Refused("not_queued")
    if not 1 <= cmd.place <= len(state.floor_queue):
        raise Refused("bad_queue_place")
    return [] if found[0] == cmd.place else [FloorMoved(cmd.deputy_id, cmd.place)]


def decide_grant(state: MeetingState, cmd: GrantFloor, now_ms: int) -> list[Event]:
    found = state.queue_place(cmd.deputy_id)
    if found is None:
        raise Refused("not_queued")
    request = found[1]
    if state.speaking_id is not None:
        raise Refused("speech_in_progress")
    if request.kind is FloorKind.FOLLOWUP:
        # The question's own rules decide (phase, presence); the queue only names who.
        follow_up = AdvancePhase(Phase.FOLLOWUP_ASK, cmd.deputy_id)
        return [FloorGranted(cmd.deputy_id), *decide_advance(state, follow_up, now_ms)]
    if state.rating_open() or state.vote_open():
        raise Refused("ballot_in_progress")
    if state.phase not in (None, Phase.DONE):
        raise Refused("question_in_progress")
    nth = state.speeches.get((state.agenda_item_id, cmd.deputy_id), 0) + 1
    role = TimerRole.SPEECH_FIRST if nth == 1 else TimerRole.SPEECH_SECOND
    return [
        FloorGranted(cmd.deputy_id),
        SpeechStarted(cmd.deputy_id, state.agenda_item_id, nth),
        fresh(state, role, now_ms, running=True),
        ProjectorFocused(Focus.SPEECH),
    ]


def decide_end(state: MeetingState, _: EndSpeech, now_ms: int) -> list[Event]:
    if state.speaking_id is None:
        raise Refused("no_speech")
    t = state.timer
    spoken = max(0, t.duration_ms - t.left_ms(now_ms))
    return [SpeechEnded(state.speaking_id, spoken), cleared()]


def apply_requested(state: MeetingState, e: FloorRequested) -> MeetingState:
    state.floor_queue.append(FloorRequest(e.deputy_id, e.kind, e.subject))
    key = (e.item_id, e.deputy_id)
    state.floor_asked[key] = state.floor_asked.get(key, 0) + 1
    return state


def _take(state: MeetingState, deputy_id: int) -> FloorRequest:
    found = state.queue_place(deputy_id)
    assert found is not None
    state.floor_queue.remove(found[1])
    return found[1]


def apply_withdrawn(state: MeetingState, e: FloorWithdrawn) -> MeetingState:
    _take(state, e.deputy_id)
    return state


def apply_moved(state: MeetingState, e: FloorMoved) -> MeetingState:
    request = _take(state, e.deputy_id)
    state.floor_queue.insert(e.place - 1, request)
    return state


def apply_granted(state: MeetingState, e: FloorGranted) -> MeetingState:
    _take(state, e.deputy_id)
    return state


def apply_speech_started(state: MeetingState, e: SpeechStarted) -> MeetingState:
    state.speaking_id = e.deputy_id
    state.speeches[(e.item_id, e.deputy_id)] = e.nth
    return state


def apply_speech_ended(state: MeetingState, e: SpeechEnded) -> MeetingState:
    state.speaking_id = None
    state.spoken_ms[e.deputy_id] = state.spoken_ms.get(e.deputy_id, 0) + e.spoken_ms
    return state
