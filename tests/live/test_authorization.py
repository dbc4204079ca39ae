"""Who may send what (live/core.py ``authorize`` and live/commands.py ``ALLOWED_ROLES``)."""

from __future__ import annotations

import pytest

from live.commands import (
    ALLOWED_ROLES,
    Actor,
    AdjustTimer,
    AdvancePhase,
    AnnounceAttendance,
    AnnounceVote,
    CallQuestion,
    CastRating,
    CastVote,
    CheckIn,
    CheckInAttendee,
    CheckInMethod,
    ClearAttendance,
    CloseCheckIn,
    CloseMeeting,
    CloseRating,
    CloseVote,
    Command,
    EndSpeech,
    GrantFloor,
    LeaveHall,
    MarkLeave,
    MoveFloor,
    OpenCheckIn,
    OpenItemRating,
    OpenRating,
    OpenVote,
    PauseTimer,
    RecordCountedVote,
    RecordPaperRating,
    RequestFloor,
    ResetTimer,
    ReturnToHall,
    Role,
    SetBanner,
    SetProjectorMode,
    ShowOnProjector,
    StartAgendaItem,
    StartTimer,
    WithdrawFloor,
)
from live.core import authorize
from live.events import DeputyCheckedIn
from live.refusals import Refused
from live.state import Choice, FloorKind, Focus, MeetingState, Phase, ProjectorMode, VoteChoice, VoteMethod
from tests.live.conftest import (
    CHAIR,
    ITEM_1,
    Q1,
    STAFF,
    all_present,
    deputy,
    open_checkin,
    refused_code,
    step,
    to_phase,
)

# One instance of every command; the first test keeps it complete.
SAMPLES: list[Command] = [
    OpenCheckIn(),
    CloseCheckIn(),
    CheckIn(1, CheckInMethod.HALL_QR),
    CheckIn(1, CheckInMethod.STAFF),
    MarkLeave(1),
    ClearAttendance(1),
    AnnounceAttendance(),
    LeaveHall(1),
    ReturnToHall(1),
    CheckInAttendee(1, CheckInMethod.STAFF),
    CheckInAttendee(1, CheckInMethod.HALL_QR),
    CloseMeeting(),
    StartAgendaItem(ITEM_1),
    CallQuestion(Q1),
    AdvancePhase(Phase.ANSWERING),
    OpenRating(),
    OpenItemRating(),
    CastRating(1, Q1, Choice.SATISFIED, "k1"),
    CloseRating(),
    RecordPaperRating(3, 1, 0, "王五", "赵六", keep_electronic=True),
    StartTimer(),
    PauseTimer(),
    AdjustTimer(30),
    ResetTimer(),
    ShowOnProjector(Focus.WELCOME),
    RequestFloor(1, FloorKind.SPEECH, "主题"),
    WithdrawFloor(1),
    MoveFloor(1, 1),
    GrantFloor(1),
    EndSpeech(),
    SetBanner("请将手机调至静音"),
    SetProjectorMode(ProjectorMode.BLANK),
    OpenVote("决议草案"),
    CastVote(1, 1, VoteChoice.FOR, "v1"),
    CloseVote(),
    AnnounceVote(),
    RecordCountedVote("决议草案", VoteMethod.HANDS, 3, 1, 0),
]

# The table as DOMAIN.md describes it: deputies check themselves in and rate; staff
# handle attendance; the chair runs the session.
EVERYONE = {Role.CHAIR, Role.STAFF, Role.DEPUTY}
CHAIR_OR_STAFF = {Role.CHAIR, Role.STAFF}
EXPECTED_ROLES: dict[type, set[Role]] = {
    OpenCheckIn: CHAIR_OR_STAFF,
    CloseCheckIn: CHAIR_OR_STAFF,
    CheckIn: EVERYONE,
    MarkLeave: CHAIR_OR_STAFF,
    ClearAttendance: CHAIR_OR_STAFF,
    AnnounceAttendance: {Role.CHAIR},
    # The hall as it is: staff (or the chair) record who left and came back, check in
    # the non-voting attendees and end the meeting.
    LeaveHall: CHAIR_OR_STAFF,
    ReturnToHall: CHAIR_OR_STAFF,
    CheckInAttendee: CHAIR_OR_STAFF,
    CloseMeeting: CHAIR_OR_STAFF,
    StartAgendaItem: {Role.CHAIR},
    CallQuestion: {Role.CHAIR},
    AdvancePhase: {Role.CHAIR},
    OpenRating: {Role.CHAIR},
    OpenItemRating: {Role.CHAIR},
    CastRating: {Role.DEPUTY},
    CloseRating: {Role.CHAIR},
    RecordPaperRating: {Role.CHAIR},
    StartTimer: {Role.CHAIR},
    PauseTimer: {Role.CHAIR},
    AdjustTimer: {Role.CHAIR},
    ResetTimer: {Role.CHAIR},
    ShowOnProjector: {Role.CHAIR},
    # The queue: a deputy asks and withdraws for themselves; the chair may do both for
    # anyone (a deputy without a phone) and alone grants, moves and ends.
    RequestFloor: {Role.CHAIR, Role.DEPUTY},
    WithdrawFloor: {Role.CHAIR, Role.DEPUTY},
    MoveFloor: {Role.CHAIR},
    GrantFloor: {Role.CHAIR},
    EndSpeech: {Role.CHAIR},
    SetBanner: {Role.CHAIR},
    SetProjectorMode: {Role.CHAIR},
    # Votes: the chair runs them; a deputy casts only their own.
    OpenVote: {Role.CHAIR},
    CastVote: {Role.DEPUTY},
    CloseVote: {Role.CHAIR},
    AnnounceVote: {Role.CHAIR},
    RecordCountedVote: {Role.CHAIR},
}

DEPUTY_1 = deputy(1)


def may_send(cmd: Command, role: Role) -> bool:
    """The role table, and for a check-in also the method: the hall QR code is a deputy's
    own way in, and a check-in by the chair or staff is recorded as one by hand."""
    if role not in EXPECTED_ROLES[type(cmd)]:
        return False
    if isinstance(cmd, CheckIn | CheckInAttendee):
        return (cmd.method is CheckInMethod.HALL_QR) == (role is Role.DEPUTY)
    return True


def test_samples_cover_every_command() -> None:
    assert {type(c) for c in SAMPLES} == set(ALLOWED_ROLES) == set(EXPECTED_ROLES)


def test_allowed_roles_match_the_domain() -> None:
    assert {k: set(v) for k, v in ALLOWED_ROLES.items()} == EXPECTED_ROLES


@pytest.mark.parametrize("cmd", SAMPLES, ids=lambda c: type(c).__name__)
@pytest.mark.parametrize("role", list(Role))
def test_role_table_is_enforced(cmd: Command, role: Role) -> None:
    actor = Actor(role, deputy_id=1 if role is Role.DEPUTY else None)
    if may_send(cmd, role):
        authorize(cmd, actor)
    else:
        with pytest.raises(Refused) as info:
            authorize(cmd, actor)
        assert info.value.code == "not_allowed"


@pytest.mark.parametrize(
    "cmd",
    [c for c in SAMPLES if Role.DEPUTY not in EXPECTED_ROLES[type(c)]],
    ids=lambda c: type(c).__name__,
)
def test_deputy_sending_a_chair_or_staff_command_is_refused_and_nothing_changes(
    state: MeetingState, cmd: Command
) -> None:
    all_present(state)
    to_phase(state, Phase.ANSWERING)
    assert refused_code(state, cmd, DEPUTY_1) == "not_allowed"


def test_deputy_refused_even_where_the_chair_would_succeed(state: MeetingState) -> None:
    all_present(state)
    to_phase(state, Phase.ANSWERING)
    assert refused_code(state, OpenRating(), DEPUTY_1) == "not_allowed"
    assert refused_code(state, AdvancePhase(Phase.FOLLOWUP_ASK), DEPUTY_1) == "not_allowed"
    assert refused_code(state, PauseTimer(), DEPUTY_1) == "not_allowed"
    step(state, OpenRating(), CHAIR)  # the chair may


def test_deputy_cannot_check_in_another_deputy(state: MeetingState) -> None:
    open_checkin(state)
    assert refused_code(state, CheckIn(2, CheckInMethod.HALL_QR), DEPUTY_1) == "not_allowed"
    assert not state.is_present(2)


def test_deputy_cannot_rate_for_another_deputy(state: MeetingState) -> None:
    all_present(state)
    to_phase(state, Phase.RATING)
    assert refused_code(state, CastRating(2, Q1, Choice.DISSATISFIED, "k"), DEPUTY_1) == "not_allowed"
    assert state.ratings[Q1].voters == {}


def test_deputy_cannot_use_the_staff_method(state: MeetingState) -> None:
    open_checkin(state)
    assert refused_code(state, CheckIn(1, CheckInMethod.STAFF), DEPUTY_1) == "not_allowed"
    # even while check-in is closed, where the staff method would be the only way in
    step(state, CloseCheckIn(), STAFF)
    assert refused_code(state, CheckIn(1, CheckInMethod.STAFF), DEPUTY_1) == "not_allowed"


@pytest.mark.parametrize("actor", [CHAIR, STAFF], ids=["chair", "staff"])
def test_chair_and_staff_cannot_use_the_qr_method(state: MeetingState, actor: Actor) -> None:
    open_checkin(state)
    assert refused_code(state, CheckIn(3, CheckInMethod.HALL_QR), actor) == "not_allowed"
    assert not state.is_present(3)
    step(state, CloseCheckIn(), STAFF)
    assert refused_code(state, CheckIn(3, CheckInMethod.HALL_QR), actor) == "not_allowed"
    # by hand is their way, open or closed, and it is recorded as such
    assert step(state, CheckIn(3, CheckInMethod.STAFF), actor) == [DeputyCheckedIn(3, CheckInMethod.STAFF)]
    # refused even where the deputy is already in and the rules would answer "nothing new"
    assert refused_code(state, CheckIn(3, CheckInMethod.HALL_QR), actor) == "not_allowed"


def test_deputy_actor_without_an_id_is_refused(state: MeetingState) -> None:
    open_checkin(state)
    nobody = Actor(Role.DEPUTY, deputy_id=None)
    assert refused_code(state, CheckIn(1, CheckInMethod.HALL_QR), nobody) == "not_allowed"


@pytest.mark.parametrize("actor", [CHAIR, STAFF], ids=["chair", "staff"])
def test_only_deputies_rate(state: MeetingState, actor: Actor) -> None:
    all_present(state)
    to_phase(state, Phase.RATING)
    assert refused_code(state, CastRating(1, Q1, Choice.SATISFIED, "k1"), actor) == "not_allowed"


@pytest.mark.parametrize(
    "cmd",
    [c for c in SAMPLES if EXPECTED_ROLES[type(c)] == {Role.CHAIR}],
    ids=lambda c: type(c).__name__,
)
def test_staff_cannot_run_the_session(state: MeetingState, cmd: Command) -> None:
    assert refused_code(state, cmd, STAFF) == "not_allowed"


def test_authorization_comes_before_the_rules(state: MeetingState) -> None:
    # The rules would say "checkin_not_open" (or let a check-in by hand through), but the
    # sender may not ask at all.
    assert refused_code(state, CloseCheckIn(), DEPUTY_1) == "not_allowed"
    assert refused_code(state, CheckIn(2, CheckInMethod.HALL_QR), DEPUTY_1) == "not_allowed"
    assert refused_code(state, CheckIn(2, CheckInMethod.HALL_QR), STAFF) == "not_allowed"
    assert refused_code(state, CheckIn(1, CheckInMethod.STAFF), DEPUTY_1) == "not_allowed"


def test_every_command_and_every_event_has_its_handler() -> None:
    """The dispatch tables of live.core cover the unions: a new command or event that is
    not wired fails here (mypy checks that each one is wired to the right handler)."""
    from typing import get_args

    from live import core
    from live.commands import Command
    from live.events import Event

    assert set(core._DECIDERS) == set(get_args(Command))
    assert set(core._APPLIERS) == set(get_args(Event))
