"""The speaker queue (live/speakers.py): requests, the chair's hand on the queue, the
floor, speech timers per meeting (first and later speeches), speaking time."""

from __future__ import annotations

from live.commands import (
    AdvancePhase,
    CallQuestion,
    EndSpeech,
    GrantFloor,
    MoveFloor,
    OpenRating,
    OpenVote,
    RequestFloor,
    ShowOnProjector,
    StartAgendaItem,
    WithdrawFloor,
)
from live.events import FloorGranted, FloorRequested, PhaseChanged, SpeechEnded, SpeechStarted, TimerChanged
from live.setup import TimerRole
from live.state import FloorKind, Focus, MeetingState, Phase
from tests.live.conftest import (
    ITEM_1,
    ITEM_2,
    Q1,
    UNKNOWN_DEPUTY,
    check_in,
    deputy,
    fresh_state,
    refused_code,
    step,
)

SPEECH, FOLLOWUP = FloorKind.SPEECH, FloorKind.FOLLOWUP


def hall() -> MeetingState:
    state = fresh_state()
    check_in(state, 1, 2, 3, 4)
    step(state, StartAgendaItem(ITEM_2))
    return state


def ask(state: MeetingState, deputy_id: int, kind: FloorKind = SPEECH, subject: str = "") -> None:
    step(state, RequestFloor(deputy_id, kind, subject), deputy(deputy_id))


def queue(state: MeetingState) -> list[int]:
    return [r.deputy_id for r in state.floor_queue]


def test_requests_queue_in_order_and_a_deputy_sees_their_place() -> None:
    state = hall()
    assert step(state, RequestFloor(2, SPEECH, "  关于 养老\n服务 "), deputy(2)) == [
        FloorRequested(2, SPEECH, "关于 养老 服务", ITEM_2)
    ]
    ask(state, 1)
    ask(state, 3)
    assert queue(state) == [2, 1, 3]
    place = state.queue_place(3)
    assert place is not None and place[0] == 3
    step(state, WithdrawFloor(1), deputy(1))
    assert queue(state) == [2, 3]
    assert refused_code(state, WithdrawFloor(1), deputy(1)) == "not_queued"


def test_what_a_request_needs() -> None:
    state = fresh_state()
    check_in(state, 1)
    assert refused_code(state, RequestFloor(1, SPEECH), deputy(1)) == "floor_before_agenda"
    step(state, StartAgendaItem(ITEM_2))
    assert refused_code(state, RequestFloor(2, SPEECH), deputy(2)) == "not_checked_in_floor"
    assert (
        refused_code(state, RequestFloor(UNKNOWN_DEPUTY, SPEECH), deputy(UNKNOWN_DEPUTY)) == "unknown_deputy"
    )
    assert refused_code(state, RequestFloor(1, FOLLOWUP), deputy(1)) == "no_question_for_followup"
    assert refused_code(state, RequestFloor(1, SPEECH, "长" * 41), deputy(1)) == "subject_too_long"
    assert refused_code(state, RequestFloor(1, SPEECH), deputy(2)) == "not_allowed"
    ask(state, 1)
    assert refused_code(state, RequestFloor(1, SPEECH), deputy(1)) == "already_queued"


def test_a_cap_on_requests_per_deputy_per_item() -> None:
    state = hall()
    for _ in range(2):  # the default cap
        ask(state, 1)
        step(state, WithdrawFloor(1), deputy(1))
    assert refused_code(state, RequestFloor(1, SPEECH), deputy(1)) == "floor_request_cap"
    step(state, StartAgendaItem(ITEM_1))  # a new item, a new allowance; the queue is the item's
    ask(state, 1)
    assert queue(state) == [1]


def test_the_chair_reorders_removes_and_adds_by_hand() -> None:
    state = hall()
    ask(state, 1)
    ask(state, 2)
    step(state, RequestFloor(3, SPEECH, "无手机代表"))  # the chair, for a deputy without a phone
    step(state, MoveFloor(3, 1))
    assert queue(state) == [3, 1, 2]
    assert step(state, MoveFloor(3, 1)) == []
    assert refused_code(state, MoveFloor(3, 4)) == "bad_queue_place"
    assert refused_code(state, MoveFloor(3, 0)) == "bad_queue_place"
    assert refused_code(state, MoveFloor(4, 1)) == "not_queued"
    assert refused_code(state, MoveFloor(1, 1), deputy(1)) == "not_allowed"
    step(state, WithdrawFloor(1))  # the chair removes a request
    assert queue(state) == [3, 2]


def test_a_speech_has_its_timer_first_and_second_and_its_time_is_recorded() -> None:
    state = hall()
    ask(state, 1)
    events = step(state, GrantFloor(1), now=1_000)
    assert events[:2] == [FloorGranted(1), SpeechStarted(1, ITEM_2, 1)]
    timer = events[2]
    assert (
        isinstance(timer, TimerChanged)
        and timer.role is TimerRole.SPEECH_FIRST
        and timer.duration_ms == 600_000
    )
    assert state.speaking_id == 1 and state.focus is Focus.SPEECH and queue(state) == []
    assert refused_code(state, CallQuestion(Q1)) == "speech_in_progress"
    ask(state, 2)
    assert refused_code(state, GrantFloor(2)) == "speech_in_progress"
    # 10 minutes and 20 seconds: the overrun counts too.
    assert step(state, EndSpeech(), now=1_000 + 620_000)[0] == SpeechEnded(1, 620_000)
    assert state.spoken_ms == {1: 620_000} and state.speaking_id is None
    assert refused_code(state, EndSpeech()) == "no_speech"
    assert refused_code(state, ShowOnProjector(Focus.SPEECH)) == "no_speech"
    ask(state, 1)
    step(state, WithdrawFloor(2), deputy(2))
    second = step(state, GrantFloor(1), now=700_000)
    assert second[1] == SpeechStarted(1, ITEM_2, 2)
    timer = second[2]
    assert (
        isinstance(timer, TimerChanged)
        and timer.role is TimerRole.SPEECH_SECOND
        and timer.duration_ms == 300_000
    )
    step(state, EndSpeech(), now=760_000)
    assert state.spoken_ms == {1: 680_000}


def test_granting_a_follow_up_is_the_question_s_follow_up_phase() -> None:
    state = hall()
    ask(state, 4)  # a speech asked for before the question is called waits for its rating
    step(state, CallQuestion(Q1))
    assert refused_code(state, RequestFloor(3, FOLLOWUP), deputy(3)) == "no_question_for_followup"
    step(state, AdvancePhase(Phase.ANSWERING))
    step(state, RequestFloor(3, FOLLOWUP, "补充追问"), deputy(3))
    assert refused_code(state, GrantFloor(4)) == "question_in_progress"
    events = step(state, GrantFloor(3))
    assert events[0] == FloorGranted(3) and events[1] == PhaseChanged(Phase.FOLLOWUP_ASK, 3)
    assert state.phase is Phase.FOLLOWUP_ASK and state.speaker_id == 3 and queue(state) == [4]


def test_no_speech_while_a_ballot_box_is_open() -> None:
    state = hall()
    ask(state, 1)
    step(state, OpenVote("决议"))
    assert refused_code(state, GrantFloor(1)) == "ballot_in_progress"
    assert refused_code(state, OpenRating()) == "no_question"


def test_a_speech_is_not_asked_for_while_a_question_runs() -> None:
    """It could not be granted before the rating; a follow-up can (issue 16)."""
    state = hall()
    step(state, CallQuestion(Q1))
    assert refused_code(state, RequestFloor(1, SPEECH), deputy(1)) == "speech_during_question"
    step(state, AdvancePhase(Phase.ANSWERING))
    assert refused_code(state, RequestFloor(1, SPEECH), deputy(1)) == "speech_during_question"
    ask(state, 1, FOLLOWUP)
    assert queue(state) == [1]


def test_calling_a_question_enters_the_inquiry_item_so_deputies_may_ask() -> None:
    state = fresh_state()
    check_in(state, 1, 2)
    assert refused_code(state, RequestFloor(2, SPEECH), deputy(2)) == "floor_before_agenda"
    step(state, CallQuestion(Q1))
    inquiry = [i.id for i in state.setup.agenda if i.kind == "inquiry"]
    assert inquiry and state.agenda_item_id == inquiry[0]
    step(state, AdvancePhase(Phase.ANSWERING))
    ask(state, 2, FOLLOWUP)
    assert queue(state) == [2]
