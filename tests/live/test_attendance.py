"""Check-in, leave, correction and the attendance announcement (live/attendance.py)."""

from __future__ import annotations

import pytest

from live.commands import (
    Actor,
    AnnounceAttendance,
    CheckIn,
    CheckInMethod,
    ClearAttendance,
    CloseCheckIn,
    MarkLeave,
    OpenCheckIn,
)
from live.events import (
    AttendanceAnnounced,
    AttendanceCleared,
    CheckInClosed,
    CheckInOpened,
    DeputyCheckedIn,
    DeputyOnLeave,
    ProjectorFocused,
)
from live.state import Announcement, Focus, MeetingState, Presence
from tests.live.conftest import (
    CHAIR,
    STAFF,
    UNKNOWN_DEPUTY,
    check_in,
    deputy,
    fresh_state,
    open_checkin,
    refused_code,
    standing_committee,
    step,
)

QR = CheckInMethod.HALL_QR
BY_HAND = CheckInMethod.STAFF


# --- opening and closing check-in ---


def test_initially_closed_and_everyone_absent(state: MeetingState) -> None:
    assert not state.checkin_open
    assert state.expected == 6
    assert (state.present_count, state.leave_count, state.absent_count) == (0, 0, 6)
    assert state.attendance == {}


@pytest.mark.parametrize("actor", [CHAIR, STAFF])
def test_open_checkin(state: MeetingState, actor: Actor) -> None:
    events = step(state, OpenCheckIn(), actor)
    assert events == [CheckInOpened(), ProjectorFocused(Focus.CHECKIN)]
    assert state.checkin_open
    assert state.focus is Focus.CHECKIN


def test_open_twice_refused(state: MeetingState) -> None:
    open_checkin(state)
    assert refused_code(state, OpenCheckIn(), STAFF) == "checkin_already_open"


def test_close_checkin(state: MeetingState) -> None:
    open_checkin(state)
    assert step(state, CloseCheckIn(), CHAIR) == [CheckInClosed()]
    assert not state.checkin_open


def test_close_when_not_open_refused(state: MeetingState) -> None:
    assert refused_code(state, CloseCheckIn(), STAFF) == "checkin_not_open"
    open_checkin(state)
    step(state, CloseCheckIn(), STAFF)
    assert refused_code(state, CloseCheckIn(), STAFF) == "checkin_not_open"


def test_reopen_after_close(state: MeetingState) -> None:
    open_checkin(state)
    step(state, CloseCheckIn(), STAFF)
    open_checkin(state)
    assert state.checkin_open


# --- checking in ---


def test_deputy_checks_in_by_qr_while_open(state: MeetingState) -> None:
    open_checkin(state)
    events = step(state, CheckIn(3, QR), deputy(3))
    assert events == [DeputyCheckedIn(3, QR)]
    assert state.attendance == {3: Presence.PRESENT}
    assert state.is_present(3)
    assert (state.present_count, state.leave_count, state.absent_count) == (1, 0, 5)


def test_qr_checkin_refused_while_closed(state: MeetingState) -> None:
    assert refused_code(state, CheckIn(3, QR), deputy(3)) == "checkin_not_open"
    open_checkin(state)
    step(state, CloseCheckIn(), STAFF)
    assert refused_code(state, CheckIn(3, QR), deputy(3)) == "checkin_not_open"


@pytest.mark.parametrize("actor", [CHAIR, STAFF])
def test_staff_checks_in_by_hand_while_closed(state: MeetingState, actor: Actor) -> None:
    events = step(state, CheckIn(4, BY_HAND), actor)
    assert events == [DeputyCheckedIn(4, BY_HAND)]
    assert state.is_present(4)
    first = events[0]
    assert isinstance(first, DeputyCheckedIn)
    assert first.method is CheckInMethod.STAFF  # recorded as a hand check-in


def test_staff_checks_in_by_hand_while_open(state: MeetingState) -> None:
    open_checkin(state)
    assert step(state, CheckIn(4, BY_HAND), STAFF) == [DeputyCheckedIn(4, BY_HAND)]


def test_unknown_deputy_refused(state: MeetingState) -> None:
    open_checkin(state)
    assert refused_code(state, CheckIn(UNKNOWN_DEPUTY, BY_HAND), STAFF) == "unknown_deputy"
    assert refused_code(state, CheckIn(UNKNOWN_DEPUTY, QR), deputy(UNKNOWN_DEPUTY)) == "unknown_deputy"
    assert refused_code(state, CheckIn(0, BY_HAND), STAFF) == "unknown_deputy"
    assert refused_code(state, CheckIn(0, QR), deputy(0)) == "unknown_deputy"


def test_repeated_qr_checkin_is_idempotent(state: MeetingState) -> None:
    open_checkin(state)
    step(state, CheckIn(2, QR), deputy(2))
    assert step(state, CheckIn(2, QR), deputy(2)) == []
    assert state.present_count == 1


def test_repeated_checkin_any_method_is_idempotent(state: MeetingState) -> None:
    open_checkin(state)
    step(state, CheckIn(2, QR), deputy(2))
    assert step(state, CheckIn(2, BY_HAND), STAFF) == []
    check_in(state, 5)
    assert step(state, CheckIn(5, QR), deputy(5)) == []
    assert step(state, CheckIn(5, BY_HAND), STAFF) == []
    assert state.present_count == 2


def test_retried_qr_checkin_after_close_gets_the_same_receipt(state: MeetingState) -> None:
    open_checkin(state)
    step(state, CheckIn(2, QR), deputy(2))  # the reply to the phone is lost
    step(state, CloseCheckIn(), CHAIR)
    assert step(state, CheckIn(2, QR), deputy(2)) == []  # the phone retries


def test_qr_scan_after_close_by_a_deputy_checked_in_by_hand_changes_nothing(state: MeetingState) -> None:
    check_in(state, 4)  # by staff, check-in never opened
    assert step(state, CheckIn(4, QR), deputy(4)) == []
    assert state.present_count == 1
    # the "already present" answer is for present deputies only: a cleared one is refused again
    step(state, ClearAttendance(4), STAFF)
    assert refused_code(state, CheckIn(4, QR), deputy(4)) == "checkin_not_open"
    step(state, MarkLeave(5), STAFF)
    assert refused_code(state, CheckIn(5, QR), deputy(5)) == "checkin_not_open"


def test_all_deputies_check_in(state: MeetingState) -> None:
    open_checkin(state)
    for i in state.setup.deputies:
        step(state, CheckIn(i, QR), deputy(i))
    assert (state.present_count, state.leave_count, state.absent_count) == (6, 0, 0)


# --- leave ---


def test_mark_leave(state: MeetingState) -> None:
    assert step(state, MarkLeave(5), STAFF) == [DeputyOnLeave(5)]
    assert state.attendance[5] is Presence.LEAVE
    assert (state.present_count, state.leave_count, state.absent_count) == (0, 1, 5)


def test_mark_leave_twice_is_idempotent(state: MeetingState) -> None:
    step(state, MarkLeave(5), STAFF)
    assert step(state, MarkLeave(5), CHAIR) == []
    assert state.leave_count == 1


def test_leave_for_present_deputy_refused(state: MeetingState) -> None:
    check_in(state, 5)
    assert refused_code(state, MarkLeave(5), STAFF) == "already_present"


def test_leave_for_unknown_deputy_refused(state: MeetingState) -> None:
    assert refused_code(state, MarkLeave(UNKNOWN_DEPUTY), STAFF) == "unknown_deputy"


def test_deputy_on_leave_who_arrives_checks_in(state: MeetingState) -> None:
    step(state, MarkLeave(5), STAFF)
    open_checkin(state)
    assert step(state, CheckIn(5, QR), deputy(5)) == [DeputyCheckedIn(5, QR)]
    assert state.attendance[5] is Presence.PRESENT
    assert (state.present_count, state.leave_count, state.absent_count) == (1, 0, 5)


# --- correction ---


def test_clear_present_deputy(state: MeetingState) -> None:
    check_in(state, 1, 2)
    assert step(state, ClearAttendance(1), STAFF) == [AttendanceCleared(1)]
    assert 1 not in state.attendance
    assert (state.present_count, state.leave_count, state.absent_count) == (1, 0, 5)


def test_clear_deputy_on_leave(state: MeetingState) -> None:
    step(state, MarkLeave(3), STAFF)
    assert step(state, ClearAttendance(3), CHAIR) == [AttendanceCleared(3)]
    assert (state.present_count, state.leave_count, state.absent_count) == (0, 0, 6)


def test_clear_absent_deputy_is_a_no_op(state: MeetingState) -> None:
    assert step(state, ClearAttendance(3), STAFF) == []


def test_clear_unknown_deputy_refused(state: MeetingState) -> None:
    assert refused_code(state, ClearAttendance(UNKNOWN_DEPUTY), STAFF) == "unknown_deputy"


def test_cleared_deputy_may_check_in_again(state: MeetingState) -> None:
    check_in(state, 1)
    step(state, ClearAttendance(1), STAFF)
    assert step(state, CheckIn(1, BY_HAND), STAFF) == [DeputyCheckedIn(1, BY_HAND)]
    assert state.present_count == 1


def test_cleared_deputy_may_then_go_on_leave(state: MeetingState) -> None:
    check_in(state, 1)
    step(state, ClearAttendance(1), STAFF)
    step(state, MarkLeave(1), STAFF)
    assert (state.present_count, state.leave_count) == (0, 1)


# --- announcement ---


def test_announce_freezes_the_figures(state: MeetingState) -> None:
    check_in(state, 1, 2, 3, 4)
    step(state, MarkLeave(5), STAFF)
    events = step(state, AnnounceAttendance(), CHAIR)
    assert events == [
        AttendanceAnnounced(expected=6, present=4, leave=1, absent=1, quorum=True),
        ProjectorFocused(Focus.ATTENDANCE),
    ]
    assert state.announcement == Announcement(6, 4, 1, 1, True)
    assert state.focus is Focus.ATTENDANCE
    check_in(state, 6)
    assert state.announcement == Announcement(6, 4, 1, 1, True)  # an announcement stays as made


def test_announce_again_gives_new_figures(state: MeetingState) -> None:
    check_in(state, 1)
    step(state, AnnounceAttendance(), CHAIR)
    check_in(state, 2, 3, 4)
    step(state, AnnounceAttendance(), CHAIR)
    assert state.announcement == Announcement(6, 4, 0, 2, True)


def test_announce_with_nobody_present(state: MeetingState) -> None:
    step(state, AnnounceAttendance(), CHAIR)
    assert state.announcement == Announcement(6, 0, 0, 6, False)


@pytest.mark.parametrize(("present", "quorum"), [(32, True), (31, False), (48, True)])
def test_announced_congress_quorum_of_48(present: int, quorum: bool) -> None:
    s = fresh_state(48)
    check_in(s, *range(1, present + 1))
    step(s, AnnounceAttendance(), CHAIR)
    assert s.announcement is not None
    assert s.announcement.quorum is quorum
    assert s.announcement.present == present


@pytest.mark.parametrize(("present", "quorum"), [(33, True), (32, False)])
def test_announced_congress_quorum_of_49(present: int, quorum: bool) -> None:
    s = fresh_state(49)
    check_in(s, *range(1, present + 1))
    step(s, AnnounceAttendance(), CHAIR)
    assert s.announcement is not None
    assert s.announcement.quorum is quorum


@pytest.mark.parametrize(("present", "quorum"), [(15, False), (16, True)])
def test_announced_standing_committee_quorum_of_30(present: int, quorum: bool) -> None:
    s = standing_committee(30)
    check_in(s, *range(1, present + 1))
    step(s, AnnounceAttendance(), CHAIR)
    assert s.announcement is not None
    assert s.announcement.quorum is quorum


def test_deputies_on_leave_still_count_as_expected() -> None:
    s = fresh_state(6)
    check_in(s, 1, 2, 3)
    for i in (4, 5, 6):
        step(s, MarkLeave(i), STAFF)
    step(s, AnnounceAttendance(), CHAIR)
    assert s.announcement == Announcement(6, 3, 3, 0, False)  # 3 of 6 is less than two thirds


def test_empty_body_announces_no_quorum() -> None:
    s = fresh_state(0)
    step(s, AnnounceAttendance(), CHAIR)
    assert s.announcement == Announcement(0, 0, 0, 0, False)


# --- suspended deputies (暂停执行代表职务) ---


def _suspended(*ids: int) -> MeetingState:
    import dataclasses

    from live.state import initial_state
    from tests.live.conftest import make_setup

    return initial_state(dataclasses.replace(make_setup(), suspended=frozenset(ids)))


def test_suspended_deputy_is_not_expected_and_cannot_check_in() -> None:
    state = _suspended(6)
    assert (state.expected, state.absent_count) == (5, 5)
    open_checkin(state)
    assert refused_code(state, CheckIn(6, QR), deputy(6)) == "suspended"
    assert refused_code(state, CheckIn(6, BY_HAND), STAFF) == "suspended"
    assert refused_code(state, MarkLeave(6), STAFF) == "suspended"
    assert 6 not in state.attendance


def test_suspended_deputy_cannot_rate_vote_or_ask_for_the_floor() -> None:
    from live.commands import CastRating, CastVote, OpenVote, RequestFloor, StartAgendaItem
    from live.state import Choice, FloorKind, Phase, VoteChoice
    from tests.live.conftest import ITEM_1, Q1, to_phase

    state = _suspended(6)
    check_in(state, 1, 2, 3, 4)  # two thirds of the 5 expected: the quorum a vote needs
    step(state, StartAgendaItem(ITEM_1))
    assert refused_code(state, RequestFloor(6, FloorKind.SPEECH), deputy(6)) == "suspended"
    assert refused_code(state, RequestFloor(6, FloorKind.SPEECH), CHAIR) == "suspended"
    step(state, OpenVote("决议草案"))
    assert refused_code(state, CastVote(6, 1, VoteChoice.FOR, "v6"), deputy(6)) == "suspended"
    from live.commands import CloseVote

    step(state, CloseVote())
    to_phase(state, Phase.RATING)
    assert refused_code(state, CastRating(6, Q1, Choice.SATISFIED, "k6"), deputy(6)) == "suspended"
