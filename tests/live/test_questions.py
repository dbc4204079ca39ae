"""The agenda, calling a question, its phases and the projector (live/questions.py)."""

from __future__ import annotations

import itertools

import pytest

from live.commands import (
    AdvancePhase,
    AnnounceAttendance,
    CallQuestion,
    CheckIn,
    CheckInMethod,
    ClearAttendance,
    CloseRating,
    MarkLeave,
    OpenRating,
    ShowOnProjector,
    StartAgendaItem,
)
from live.events import (
    AgendaItemStarted,
    PhaseChanged,
    ProjectorFocused,
    QuestionCalled,
    SpokeFor,
    TimerChanged,
)
from live.questions import NEXT_PHASES
from live.setup import TimerRole
from live.state import Choice, Focus, MeetingState, Phase
from tests.live.conftest import (
    ITEM_1,
    ITEM_2,
    Q1,
    Q2,
    STAFF,
    UNKNOWN_DEPUTY,
    all_present,
    check_in,
    fresh_state,
    rate,
    rated,
    refuse,
    refused_code,
    step,
    to_phase,
)

# The diagram in live/questions.py, written out by hand.
LEGAL_MOVES = {
    (Phase.ASKING, Phase.ANSWERING),
    (Phase.ANSWERING, Phase.FOLLOWUP_ASK),
    (Phase.FOLLOWUP_ASK, Phase.FOLLOWUP_REPLY),
    (Phase.FOLLOWUP_REPLY, Phase.FOLLOWUP_ASK),
}


# --- agenda ---


def test_start_agenda_item(state: MeetingState) -> None:
    events = step(state, StartAgendaItem(ITEM_2))
    assert events == [AgendaItemStarted(ITEM_2), ProjectorFocused(Focus.WELCOME)]
    assert state.agenda_item_id == ITEM_2


def test_start_same_agenda_item_again_is_a_no_op(state: MeetingState) -> None:
    step(state, StartAgendaItem(ITEM_1))
    assert step(state, StartAgendaItem(ITEM_1)) == []


def test_move_between_agenda_items(state: MeetingState) -> None:
    step(state, StartAgendaItem(ITEM_1))
    step(state, StartAgendaItem(ITEM_2))
    assert state.agenda_item_id == ITEM_2


@pytest.mark.parametrize("item_id", [0, 13, Q1, 1])
def test_unknown_agenda_item_refused(state: MeetingState, item_id: int) -> None:
    assert refused_code(state, StartAgendaItem(item_id)) == "unknown_agenda_item"


def test_agenda_item_refused_while_rating_open(state: MeetingState) -> None:
    to_phase(state, Phase.RATING)
    assert refused_code(state, StartAgendaItem(ITEM_2)) == "rating_in_progress"


# --- calling a question ---


def test_call_question(state: MeetingState) -> None:
    step(state, StartAgendaItem(ITEM_2))  # in an item already: calling enters none
    events = step(state, CallQuestion(Q1), now=5_000)
    assert events == [
        QuestionCalled(Q1),
        PhaseChanged(Phase.ASKING, 1),
        TimerChanged(TimerRole.ASKING, 180_000, True, 185_000, 180_000),
        ProjectorFocused(Focus.QUESTION),
    ]
    assert state.question_id == Q1
    assert state.phase is Phase.ASKING
    assert state.speaker_id == 1  # the asker of Q1
    assert state.timer.running
    assert state.timer.left_ms(5_000) == 180_000
    assert state.focus is Focus.QUESTION


def test_call_second_question_names_its_asker(state: MeetingState) -> None:
    step(state, CallQuestion(Q2))
    assert state.speaker_id == 2


def test_call_uses_the_meetings_own_timer_setting() -> None:
    s = fresh_state(timer_seconds={r: 10 * (i + 1) for i, r in enumerate(TimerRole)})
    step(s, CallQuestion(Q1), now=1_000)
    assert s.timer.duration_ms == 10_000
    assert s.timer.deadline_ms == 11_000


@pytest.mark.parametrize("question_id", [0, 103, 1, ITEM_1])
def test_unknown_question_refused(state: MeetingState, question_id: int) -> None:
    assert refused_code(state, CallQuestion(question_id)) == "unknown_question"


@pytest.mark.parametrize("question_id", [Q1, Q2])
def test_call_refused_while_rating_open(state: MeetingState, question_id: int) -> None:
    all_present(state)
    to_phase(state, Phase.RATING)
    rate(state, 3, Choice.BASIC)
    assert refused_code(state, CallQuestion(question_id)) == "rating_in_progress"


def test_call_already_rated_question_refused(state: MeetingState) -> None:
    rated(state, {1: Choice.SATISFIED})
    assert refused_code(state, CallQuestion(Q1)) == "question_already_rated"
    step(state, CallQuestion(Q2))  # the other question is still open to call
    assert refused_code(state, CallQuestion(Q1)) == "question_already_rated"


def test_question_with_no_votes_closed_is_still_rated(state: MeetingState) -> None:
    to_phase(state, Phase.DONE)
    assert refused_code(state, CallQuestion(Q1)) == "question_already_rated"


def test_switch_to_another_question_before_rating(state: MeetingState) -> None:
    to_phase(state, Phase.FOLLOWUP_REPLY)
    step(state, CallQuestion(Q2))
    assert (state.question_id, state.phase, state.speaker_id) == (Q2, Phase.ASKING, 2)
    step(state, CallQuestion(Q1))  # not rated, so it may be called back
    assert state.question_id == Q1


def test_recall_the_current_question_restarts_it(state: MeetingState) -> None:
    to_phase(state, Phase.ANSWERING)
    step(state, CallQuestion(Q1), now=9_000)
    assert state.phase is Phase.ASKING
    assert state.timer.deadline_ms == 189_000


# --- phases ---


def test_advance_to_answering(state: MeetingState) -> None:
    step(state, CallQuestion(Q1), now=0)
    events = step(state, AdvancePhase(Phase.ANSWERING), now=60_000)
    assert events == [
        SpokeFor(1, 60_000),  # the asker's minute goes to their speaking time
        PhaseChanged(Phase.ANSWERING, None),
        TimerChanged(TimerRole.ANSWERING, 300_000, True, 360_000, 300_000),
    ]
    assert state.spoken_ms == {1: 60_000}
    assert state.phase is Phase.ANSWERING
    assert state.speaker_id is None


def test_followup_defaults_to_the_asker(state: MeetingState) -> None:
    to_phase(state, Phase.ANSWERING)
    events = step(state, AdvancePhase(Phase.FOLLOWUP_ASK), now=1_000)
    assert events == [
        PhaseChanged(Phase.FOLLOWUP_ASK, 1),
        TimerChanged(TimerRole.FOLLOWUP_ASK, 60_000, True, 61_000, 60_000),
    ]


def test_followup_by_another_deputy(state: MeetingState) -> None:
    check_in(state, 4)
    to_phase(state, Phase.ANSWERING)
    step(state, AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=4))
    assert state.speaker_id == 4


def test_followup_reply_and_more_rounds(state: MeetingState) -> None:
    check_in(state, 3, 5, 1)
    to_phase(state, Phase.ANSWERING)
    for speaker in (3, 5, 1):
        step(state, AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=speaker))
        assert (state.phase, state.speaker_id) == (Phase.FOLLOWUP_ASK, speaker)
        events = step(state, AdvancePhase(Phase.FOLLOWUP_REPLY), now=2_000)
        assert events == [
            SpokeFor(speaker, 2_000),
            PhaseChanged(Phase.FOLLOWUP_REPLY, None),
            TimerChanged(TimerRole.FOLLOWUP_REPLY, 120_000, True, 122_000, 120_000),
        ]


def test_followup_by_unknown_deputy_refused(state: MeetingState) -> None:
    to_phase(state, Phase.ANSWERING)
    assert refused_code(state, AdvancePhase(Phase.FOLLOWUP_ASK, UNKNOWN_DEPUTY)) == "unknown_deputy"


@pytest.mark.parametrize("start", [Phase.ANSWERING, Phase.FOLLOWUP_REPLY])
def test_followup_by_a_deputy_not_checked_in_refused(state: MeetingState, start: Phase) -> None:
    check_in(state, 3)
    to_phase(state, start)
    err = refuse(state, AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=4))
    assert err.code == "speaker_not_present"
    assert state.phase is start  # nothing moved: the floor and the clock stay where they were
    step(state, CheckIn(4, CheckInMethod.STAFF), STAFF)
    step(state, AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=4))
    assert (state.phase, state.speaker_id) == (Phase.FOLLOWUP_ASK, 4)


def test_followup_by_a_deputy_on_leave_or_cleared_refused(state: MeetingState) -> None:
    check_in(state, 4)
    step(state, MarkLeave(5), STAFF)
    to_phase(state, Phase.ANSWERING)
    assert refused_code(state, AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=5)) == "speaker_not_present"
    step(state, ClearAttendance(4), STAFF)
    assert refused_code(state, AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=4)) == "speaker_not_present"


def test_unknown_speaker_is_checked_before_presence(state: MeetingState) -> None:
    to_phase(state, Phase.ANSWERING)
    assert refused_code(state, AdvancePhase(Phase.FOLLOWUP_ASK, UNKNOWN_DEPUTY)) == "unknown_deputy"
    assert refused_code(state, AdvancePhase(Phase.FOLLOWUP_ASK, 4)) == "speaker_not_present"


def test_bad_phase_move_checked_before_the_speakers_presence(state: MeetingState) -> None:
    step(state, CallQuestion(Q1))
    assert refused_code(state, AdvancePhase(Phase.FOLLOWUP_ASK, 4)) == "bad_phase_move"


@pytest.mark.parametrize(
    ("start", "to"),
    [(Phase.ASKING, Phase.ANSWERING), (Phase.FOLLOWUP_ASK, Phase.FOLLOWUP_REPLY)],
)
def test_speaker_only_for_followup(state: MeetingState, start: Phase, to: Phase) -> None:
    to_phase(state, start)
    assert refused_code(state, AdvancePhase(to, speaker_id=3)) == "speaker_only_for_followup"


def test_advance_without_question_refused(state: MeetingState) -> None:
    for to in Phase:
        assert refused_code(state, AdvancePhase(to)) == "no_question"


def test_next_phases_table_is_the_documented_one() -> None:
    table = {(a, b) for a, nexts in NEXT_PHASES.items() for b in nexts}
    assert table == LEGAL_MOVES
    assert set(NEXT_PHASES) == set(Phase)


@pytest.mark.parametrize(("start", "to"), list(itertools.product(Phase, Phase)))
def test_every_phase_move(start: Phase, to: Phase) -> None:
    s = fresh_state()
    to_phase(s, start)
    if (start, to) in LEGAL_MOVES:
        step(s, AdvancePhase(to))
        assert s.phase is to
    else:
        err = refuse(s, AdvancePhase(to))
        assert err.code == "bad_phase_move"
        assert err.params == {"current": start, "wanted": to}


def test_bad_phase_move_checked_before_the_speaker(state: MeetingState) -> None:
    step(state, CallQuestion(Q1))
    assert refused_code(state, AdvancePhase(Phase.FOLLOWUP_ASK, UNKNOWN_DEPUTY)) == "bad_phase_move"


def test_advance_brings_the_question_back_on_the_projector(state: MeetingState) -> None:
    step(state, CallQuestion(Q1))
    step(state, ShowOnProjector(Focus.WELCOME))
    events = step(state, AdvancePhase(Phase.ANSWERING))
    assert events[-1] == ProjectorFocused(Focus.QUESTION)
    assert state.focus is Focus.QUESTION
    # already on the question: no extra focus event
    assert not any(isinstance(e, ProjectorFocused) for e in step(state, AdvancePhase(Phase.FOLLOWUP_ASK)))


# --- projector ---


def test_show_welcome_and_checkin(state: MeetingState) -> None:
    assert step(state, ShowOnProjector(Focus.CHECKIN)) == [ProjectorFocused(Focus.CHECKIN)]
    assert step(state, ShowOnProjector(Focus.WELCOME)) == [ProjectorFocused(Focus.WELCOME)]
    assert state.focus is Focus.WELCOME


def test_show_what_is_already_shown_is_a_no_op(state: MeetingState) -> None:
    assert step(state, ShowOnProjector(Focus.WELCOME)) == []


def test_show_result_needs_a_result(state: MeetingState) -> None:
    assert refused_code(state, ShowOnProjector(Focus.RESULT)) == "no_result_yet"
    to_phase(state, Phase.RATING)
    assert refused_code(state, ShowOnProjector(Focus.RESULT)) == "no_result_yet"  # open, not closed
    step(state, CloseRating())
    step(state, ShowOnProjector(Focus.WELCOME))
    assert step(state, ShowOnProjector(Focus.RESULT)) == [ProjectorFocused(Focus.RESULT)]


def test_show_question_needs_a_question(state: MeetingState) -> None:
    assert refused_code(state, ShowOnProjector(Focus.QUESTION)) == "no_question"
    step(state, CallQuestion(Q1))
    step(state, ShowOnProjector(Focus.WELCOME))
    assert step(state, ShowOnProjector(Focus.QUESTION)) == [ProjectorFocused(Focus.QUESTION)]


def test_show_attendance_needs_an_announcement(state: MeetingState) -> None:
    assert refused_code(state, ShowOnProjector(Focus.ATTENDANCE)) == "no_announcement"
    step(state, AnnounceAttendance())
    step(state, ShowOnProjector(Focus.WELCOME))
    assert step(state, ShowOnProjector(Focus.ATTENDANCE)) == [ProjectorFocused(Focus.ATTENDANCE)]


def test_rating_keeps_the_question_phase_machine_closed(state: MeetingState) -> None:
    all_present(state)
    to_phase(state, Phase.RATING)
    for to in Phase:
        assert refused_code(state, AdvancePhase(to)) == "bad_phase_move"
    step(state, CloseRating())
    for to in Phase:
        assert refused_code(state, AdvancePhase(to)) == "bad_phase_move"
    assert refused_code(state, OpenRating()) == "rating_not_yet"


def test_no_question_and_no_agenda_move_while_a_vote_is_open(state: MeetingState) -> None:
    from live.commands import OpenVote

    assert refused_code(state, ShowOnProjector(Focus.VOTE)) == "no_vote"
    all_present(state)  # a vote needs the quorum
    step(state, OpenVote("临时动议"))
    assert refused_code(state, CallQuestion(Q1)) == "vote_in_progress"
    assert refused_code(state, StartAgendaItem(ITEM_2)) == "vote_in_progress"


def test_no_question_and_no_agenda_move_while_a_deputy_speaks(state: MeetingState) -> None:
    from live.commands import GrantFloor, RequestFloor
    from live.state import FloorKind

    all_present(state)
    assert refused_code(state, ShowOnProjector(Focus.SPEECH)) == "no_speech"
    step(state, StartAgendaItem(ITEM_2))
    step(state, RequestFloor(1, FloorKind.SPEECH))
    step(state, GrantFloor(1))
    assert refused_code(state, CallQuestion(Q1)) == "speech_in_progress"
    assert refused_code(state, StartAgendaItem(ITEM_1)) == "speech_in_progress"
