"""The hall as it really is (live/hall.py): leaving part-way, returning, non-voting
attendees, closing the meeting; with suspended deputies and leave approved beforehand
(live/state.py ``initial_state``, live/attendance.py)."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from live.commands import (
    AnnounceAttendance,
    CastRating,
    CastVote,
    CheckIn,
    CheckInAttendee,
    CheckInMethod,
    ClearAttendance,
    CloseMeeting,
    CloseRating,
    CloseVote,
    Command,
    EndSpeech,
    GrantFloor,
    LeaveHall,
    MarkLeave,
    OpenCheckIn,
    OpenVote,
    RequestFloor,
    ReturnToHall,
    SetBanner,
    StartAgendaItem,
)
from live.core import apply_all
from live.events import (
    AttendanceAnnounced,
    AttendeeCheckedIn,
    CheckInClosed,
    DeputyLeftHall,
    DeputyReturned,
    FloorWithdrawn,
    MeetingClosed,
    TimerChanged,
)
from live.rules import has_quorum
from live.setup import Attendee, AttendeeKind, BodyKind, Setup
from live.state import Choice, FloorKind, MeetingState, Phase, Presence, VoteBase, VoteChoice, initial_state
from tests.live.conftest import (
    CHAIR,
    ITEM_1,
    STAFF,
    UNKNOWN_DEPUTY,
    check_in,
    deputy,
    make_setup,
    rate,
    refuse,
    refused_code,
    step,
    to_phase,
)

QR, BY_HAND = CheckInMethod.HALL_QR, CheckInMethod.STAFF
OBSERVER, CITIZEN, RESPONDENT = 201, 202, 203


def hall_setup(n: int = 6, **changes: object) -> Setup:
    attendees = {
        OBSERVER: Attendee(OBSERVER, "列席甲", AttendeeKind.OBSERVER, "区政协"),
        CITIZEN: Attendee(CITIZEN, "市民乙", AttendeeKind.CITIZEN),
        RESPONDENT: Attendee(RESPONDENT, "局长丙", AttendeeKind.RESPONDENT, "区水利局"),
    }
    base = dataclasses.replace(make_setup(n), attendees=MappingProxyType(attendees))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def hall(n: int = 6, **changes: object) -> MeetingState:
    return initial_state(hall_setup(n, **changes))


def figures(state: MeetingState) -> tuple[int, int, int, int, int]:
    """(应到, 实到, 请假, 中途离会, 缺席)"""
    return state.expected, state.present_count, state.leave_count, state.left_count, state.absent_count


# --- suspended deputies ---


def test_suspended_deputies_are_not_expected() -> None:
    state = hall(suspended=frozenset({5, 6}))
    assert figures(state) == (4, 0, 0, 0, 4)


def test_a_suspended_id_outside_the_roster_changes_nothing() -> None:
    assert hall(suspended=frozenset({UNKNOWN_DEPUTY})).expected == 6


def test_quorum_counts_against_the_expected_without_the_suspended() -> None:
    # 6 members, 2 suspended: 应到 4; a congress needs two thirds of 4, so 3 present is enough.
    state = hall(suspended=frozenset({5, 6}))
    check_in(state, 1, 2, 3)
    events = step(state, AnnounceAttendance())
    announced = events[0]
    assert isinstance(announced, AttendanceAnnounced)
    assert (announced.expected, announced.present, announced.absent, announced.quorum) == (4, 3, 1, True)
    assert not has_quorum(BodyKind.CONGRESS, 6, 3)  # with the suspended counted it would fail


# --- approved leave beforehand ---


def test_approved_leave_starts_on_leave_without_an_event() -> None:
    state = hall(on_leave=frozenset({2, 3}))
    assert state.attendance == {2: Presence.LEAVE, 3: Presence.LEAVE}
    assert figures(state) == (6, 0, 2, 0, 4)
    assert step(state, MarkLeave(2), STAFF) == []  # already on leave


def test_a_deputy_on_leave_who_comes_after_all_checks_in() -> None:
    state = hall(on_leave=frozenset({2}))
    step(state, OpenCheckIn(), STAFF)
    step(state, CheckIn(2, QR), deputy(2))
    assert state.attendance[2] is Presence.PRESENT
    assert figures(state) == (6, 1, 0, 0, 5)


def test_suspension_wins_over_approved_leave() -> None:
    state = hall(suspended=frozenset({4}), on_leave=frozenset({4, 5}))
    assert state.attendance == {5: Presence.LEAVE}
    assert figures(state) == (5, 0, 1, 0, 4)


# --- leaving part-way (中途离会) ---


def test_leave_and_return() -> None:
    state = hall()
    check_in(state, 1, 2, 3, 4)
    assert step(state, LeaveHall(2), STAFF) == [DeputyLeftHall(2)]
    assert state.attendance[2] is Presence.LEFT
    assert figures(state) == (6, 3, 0, 1, 2)
    assert not state.is_present(2)
    assert step(state, LeaveHall(2), STAFF) == []  # a second click
    assert step(state, ReturnToHall(2), STAFF) == [DeputyReturned(2)]
    assert figures(state) == (6, 4, 0, 0, 2)
    assert step(state, ReturnToHall(2), STAFF) == []


def test_leave_refused_for_who_is_not_in_the_hall() -> None:
    state = hall(on_leave=frozenset({3}))
    assert refused_code(state, LeaveHall(1), STAFF) == "not_in_hall"  # never came
    assert refused_code(state, LeaveHall(3), STAFF) == "not_in_hall"  # on leave
    assert refused_code(state, LeaveHall(UNKNOWN_DEPUTY), STAFF) == "unknown_deputy"


def test_return_refused_for_who_did_not_leave() -> None:
    state = hall()
    assert refused_code(state, ReturnToHall(1), STAFF) == "not_left"
    check_in(state, 1)
    assert step(state, ReturnToHall(1), STAFF) == []  # present: nothing to do


def test_a_deputy_who_left_and_checks_in_again_returns() -> None:
    state = hall()
    check_in(state, 1)
    step(state, LeaveHall(1), STAFF)
    assert step(state, CheckIn(1, BY_HAND), STAFF) == [DeputyReturned(1)]
    step(state, LeaveHall(1), STAFF)
    assert refused_code(state, CheckIn(1, QR), deputy(1)) == "checkin_not_open"
    step(state, OpenCheckIn(), STAFF)
    assert step(state, CheckIn(1, QR), deputy(1)) == [DeputyReturned(1)]
    assert state.is_present(1)


def test_a_deputy_who_left_cannot_be_put_on_leave_but_can_be_cleared() -> None:
    state = hall()
    check_in(state, 1)
    step(state, LeaveHall(1), STAFF)
    assert refused_code(state, MarkLeave(1), STAFF) == "already_present"
    step(state, ClearAttendance(1), STAFF)
    assert figures(state) == (6, 0, 0, 0, 6)


def test_leaving_before_a_vote_the_base_and_quorum_count_those_present_now() -> None:
    # A standing committee of 6: more than half present (4) is the quorum.
    state = hall(settings=dataclasses.replace(make_setup().settings, body_kind=BodyKind.STANDING_COMMITTEE))
    check_in(state, 1, 2, 3, 4, 5, 6)
    step(state, LeaveHall(6), STAFF)
    step(state, LeaveHall(5), STAFF)
    announced = step(state, AnnounceAttendance())[0]
    assert isinstance(announced, AttendanceAnnounced)
    assert (announced.present, announced.left, announced.absent, announced.quorum) == (4, 2, 0, True)
    step(state, OpenVote("决议草案", secret=False, base=VoteBase.PRESENT))
    assert refused_code(state, CastVote(5, 1, VoteChoice.FOR, "v5"), deputy(5)) == "not_checked_in_vote"
    for d in (1, 2, 3):
        step(state, CastVote(d, 1, VoteChoice.FOR, f"v{d}"), deputy(d))
    step(state, CloseVote())
    result = state.votes[1].result
    assert result is not None
    # 实到 4 (not 6): 3 of 4 is more than half; 未按 counts the one present who did not vote.
    assert (result.base, result.not_voted, result.passed) == (4, 1, True)
    # One more leaves: 3 of 6 is no quorum, and no vote opens (no override).
    step(state, LeaveHall(4), STAFF)
    refusal = refuse(state, OpenVote("第二项", secret=False, base=VoteBase.PRESENT))
    assert (refusal.code, refusal.params) == ("vote_no_quorum", {"expected": 6, "present": 3, "needed": 4})
    # Back in the hall they count again: the next vote's base is 4, quorum is reached.
    step(state, ReturnToHall(4), STAFF)
    step(state, OpenVote("第二项", secret=False, base=VoteBase.PRESENT))
    step(state, CastVote(4, 2, VoteChoice.AGAINST, "w4"), deputy(4))
    step(state, CloseVote())
    second = state.votes[2].result
    assert second is not None and (second.base, second.not_voted) == (4, 3)
    announced = step(state, AnnounceAttendance())[0]
    assert isinstance(announced, AttendanceAnnounced)
    assert (announced.present, announced.left, announced.quorum) == (4, 2, True)


def test_leaving_is_not_recorded_while_a_ballot_is_open() -> None:
    state = hall()
    check_in(state, 1, 2, 3, 4)  # two thirds of 6: the quorum a vote needs
    step(state, OpenVote("决议草案"))
    assert refused_code(state, LeaveHall(2), STAFF) == "leave_during_ballot"
    step(state, CloseVote())
    to_phase(state, Phase.RATING)
    rate(state, 1, Choice.SATISFIED)
    assert refused_code(state, LeaveHall(2), STAFF) == "leave_during_ballot"


def test_who_leaves_loses_the_queue_place_and_the_speaker_cannot_leave() -> None:
    state = hall()
    check_in(state, 1, 2, 3)
    step(state, StartAgendaItem(ITEM_1))
    step(state, RequestFloor(2, FloorKind.SPEECH), deputy(2))
    step(state, RequestFloor(3, FloorKind.SPEECH), deputy(3))
    assert step(state, LeaveHall(2), STAFF) == [DeputyLeftHall(2), FloorWithdrawn(2)]
    assert [r.deputy_id for r in state.floor_queue] == [3]
    assert refused_code(state, RequestFloor(2, FloorKind.SPEECH), deputy(2)) == "not_checked_in_floor"
    step(state, GrantFloor(3))
    assert refused_code(state, LeaveHall(3), STAFF) == "speech_in_progress"


# --- non-voting attendees ---


def test_attendee_check_in_never_changes_the_deputies_figures() -> None:
    state = hall()
    check_in(state, 1, 2, 3)
    before = figures(state), has_quorum(BodyKind.CONGRESS, state.expected, state.present_count)
    for a in (OBSERVER, CITIZEN, RESPONDENT):
        assert step(state, CheckInAttendee(a, BY_HAND), STAFF) == [AttendeeCheckedIn(a, BY_HAND)]
    assert state.attendees_in == {OBSERVER, CITIZEN, RESPONDENT}
    assert (figures(state), has_quorum(BodyKind.CONGRESS, state.expected, state.present_count)) == before
    assert step(state, CheckInAttendee(OBSERVER, BY_HAND), STAFF) == []  # twice: the same
    announced = step(state, AnnounceAttendance())[0]
    assert isinstance(announced, AttendanceAnnounced) and announced.present == 3


def test_unknown_attendee_and_qr_refused() -> None:
    state = hall()
    assert refused_code(state, CheckInAttendee(999, BY_HAND), STAFF) == "unknown_attendee"
    assert refused_code(state, CheckInAttendee(1, BY_HAND), STAFF) == "unknown_attendee"  # a deputy's id
    assert refused_code(state, CheckInAttendee(OBSERVER, QR), STAFF) == "not_allowed"
    assert refused_code(state, CheckInAttendee(OBSERVER, BY_HAND), deputy(1)) == "not_allowed"


# --- closing the meeting ---


def test_close_refused_during_a_ballot_or_a_speech() -> None:
    state = hall()
    check_in(state, 1, 2, 3, 4)  # two thirds of 6: the quorum a vote needs
    step(state, OpenVote("决议草案"))
    assert refused_code(state, CloseMeeting(), STAFF) == "ballot_in_progress"
    step(state, CloseVote())
    to_phase(state, Phase.RATING)
    assert refused_code(state, CloseMeeting(), CHAIR) == "ballot_in_progress"
    state = hall()
    check_in(state, 1)
    step(state, StartAgendaItem(ITEM_1))
    step(state, RequestFloor(1, FloorKind.SPEECH), deputy(1))
    step(state, GrantFloor(1))
    assert refused_code(state, CloseMeeting(), CHAIR) == "speech_in_progress"
    step(state, EndSpeech())
    assert step(state, CloseMeeting(), CHAIR)[-1] == MeetingClosed()


def test_close_ends_check_in_and_the_timer() -> None:
    state = hall()
    step(state, OpenCheckIn(), STAFF)
    check_in(state, 1, 2)
    events = step(state, CloseMeeting(), STAFF)
    assert events == [CheckInClosed(), MeetingClosed()]
    state = hall()
    check_in(state, 1)
    to_phase(state, Phase.ANSWERING)
    events = step(state, CloseMeeting(), STAFF)
    assert isinstance(events[0], TimerChanged) and events[0].role is None
    assert events[-1] == MeetingClosed()


EVERYTHING_AFTER: list[tuple[Command, object]] = [
    (CheckIn(3, BY_HAND), STAFF),
    (CheckIn(3, QR), deputy(3)),
    (MarkLeave(3), STAFF),
    (LeaveHall(1), STAFF),
    (ReturnToHall(2), STAFF),
    (CheckInAttendee(OBSERVER, BY_HAND), STAFF),
    (AnnounceAttendance(), CHAIR),
    (OpenVote("决议草案"), CHAIR),
    (SetBanner("散会"), CHAIR),
    (StartAgendaItem(ITEM_1), CHAIR),
    (CloseMeeting(), STAFF),
]


@pytest.mark.parametrize(("cmd", "actor"), EVERYTHING_AFTER, ids=lambda x: type(x).__name__)
def test_everything_is_refused_after_the_meeting_closed(cmd: Command, actor: object) -> None:
    state = hall()
    check_in(state, 1, 2)
    step(state, LeaveHall(2), STAFF)
    step(state, CloseMeeting(), STAFF)
    assert state.closed
    assert refused_code(state, cmd, actor) == "meeting_closed"  # type: ignore[arg-type]


def test_the_closed_state_replays() -> None:
    state = hall()
    check_in(state, 1, 2)
    events = step(state, LeaveHall(2), STAFF) + step(state, CloseMeeting(), STAFF)
    again = hall()
    check_in(again, 1, 2)
    apply_all(again, events)
    assert again.closed and again.attendance[2] is Presence.LEFT


def test_after_the_close_a_retry_keeps_its_receipt() -> None:
    state = hall()
    check_in(state, 1, 2)
    to_phase(state, Phase.RATING)
    rate(state, 1, Choice.SATISFIED, key="k1")
    step(state, CloseRating())
    step(state, CloseMeeting(), STAFF)
    assert step(state, CastRating(1, state.question_id or 0, Choice.SATISFIED, "k1"), deputy(1)) == []
    assert step(state, CheckIn(1, BY_HAND), STAFF) == []  # present already: nothing to refuse
    cmd = CastRating(2, state.question_id or 0, Choice.SATISFIED, "k2")
    assert refused_code(state, cmd, deputy(2)) == "meeting_closed"
