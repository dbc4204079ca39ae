"""decide and apply: the two functions the rest of the system calls.

``decide(state, command, actor, now_ms)`` returns the events a command causes, an
empty list when it changes nothing (a repeated check-in, a retried ballot), or raises
:class:`~live.refusals.Refused`. ``apply(state, event)`` folds one event in.
Both dispatch through tables keyed by type, so adding a command is one row.
"""

from __future__ import annotations

from collections.abc import Callable

from live import attendance, projector, questions, ratings, speakers, timers, votes
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
    CheckInMethod,
    ClearAttendance,
    CloseCheckIn,
    CloseRating,
    CloseVote,
    Command,
    EndSpeech,
    GrantFloor,
    MarkLeave,
    MoveFloor,
    OpenCheckIn,
    OpenItemRating,
    OpenRating,
    OpenVote,
    PauseTimer,
    RecordCountedVote,
    RequestFloor,
    ResetTimer,
    Role,
    SetBanner,
    SetProjectorMode,
    ShowOnProjector,
    StartAgendaItem,
    StartTimer,
    WithdrawFloor,
)
from live.events import (
    AgendaItemStarted,
    AttendanceAnnounced,
    AttendanceCleared,
    BannerSet,
    CheckInClosed,
    CheckInOpened,
    DeputyCheckedIn,
    DeputyOnLeave,
    Event,
    FloorGranted,
    FloorMoved,
    FloorRequested,
    FloorWithdrawn,
    PhaseChanged,
    ProjectorFocused,
    ProjectorModeSet,
    QuestionCalled,
    RatingCast,
    RatingClosed,
    RatingOpened,
    SpeechEnded,
    SpeechStarted,
    SpokeFor,
    TimerChanged,
    VoteAnnounced,
    VoteCast,
    VoteClosed,
    VoteOpened,
)
from live.refusals import Refused
from live.state import MeetingState

Decider = Callable[[MeetingState, Command, int], list[Event]]
Applier = Callable[[MeetingState, Event], MeetingState]


def _timeless(fn: Callable[[MeetingState, object], list[Event]]) -> Decider:
    return lambda state, cmd, _now: fn(state, cmd)


_DECIDERS: dict[type, Decider] = {
    OpenCheckIn: _timeless(attendance.decide_open),  # type: ignore[arg-type]
    CloseCheckIn: _timeless(attendance.decide_close),  # type: ignore[arg-type]
    CheckIn: _timeless(attendance.decide_check_in),  # type: ignore[arg-type]
    MarkLeave: _timeless(attendance.decide_leave),  # type: ignore[arg-type]
    ClearAttendance: _timeless(attendance.decide_clear),  # type: ignore[arg-type]
    AnnounceAttendance: _timeless(attendance.decide_announce),  # type: ignore[arg-type]
    StartAgendaItem: _timeless(questions.decide_agenda),  # type: ignore[arg-type]
    CallQuestion: questions.decide_call,  # type: ignore[dict-item]
    AdvancePhase: questions.decide_advance,  # type: ignore[dict-item]
    ShowOnProjector: _timeless(questions.decide_show),  # type: ignore[arg-type]
    OpenRating: ratings.decide_open,  # type: ignore[dict-item]
    OpenItemRating: ratings.decide_open_item,  # type: ignore[dict-item]
    CastRating: _timeless(ratings.decide_cast),  # type: ignore[arg-type]
    CloseRating: ratings.decide_close,  # type: ignore[dict-item]
    StartTimer: timers.decide_start,  # type: ignore[dict-item]
    PauseTimer: timers.decide_pause,  # type: ignore[dict-item]
    AdjustTimer: timers.decide_adjust,  # type: ignore[dict-item]
    ResetTimer: timers.decide_reset,  # type: ignore[dict-item]
    RequestFloor: _timeless(speakers.decide_request),  # type: ignore[arg-type]
    WithdrawFloor: _timeless(speakers.decide_withdraw),  # type: ignore[arg-type]
    MoveFloor: _timeless(speakers.decide_move),  # type: ignore[arg-type]
    GrantFloor: speakers.decide_grant,  # type: ignore[dict-item]
    EndSpeech: speakers.decide_end,  # type: ignore[dict-item]
    SetBanner: _timeless(projector.decide_banner),  # type: ignore[arg-type]
    SetProjectorMode: _timeless(projector.decide_mode),  # type: ignore[arg-type]
    OpenVote: _timeless(votes.decide_open),  # type: ignore[arg-type]
    CastVote: _timeless(votes.decide_cast),  # type: ignore[arg-type]
    CloseVote: _timeless(votes.decide_close),  # type: ignore[arg-type]
    AnnounceVote: _timeless(votes.decide_announce),  # type: ignore[arg-type]
    RecordCountedVote: _timeless(votes.decide_counted),  # type: ignore[arg-type]
}

_APPLIERS: dict[type, Applier] = {
    CheckInOpened: attendance.apply_opened,  # type: ignore[dict-item]
    CheckInClosed: attendance.apply_closed,  # type: ignore[dict-item]
    DeputyCheckedIn: attendance.apply_checked_in,  # type: ignore[dict-item]
    DeputyOnLeave: attendance.apply_on_leave,  # type: ignore[dict-item]
    AttendanceCleared: attendance.apply_cleared,  # type: ignore[dict-item]
    AttendanceAnnounced: attendance.apply_announced,  # type: ignore[dict-item]
    AgendaItemStarted: questions.apply_agenda,  # type: ignore[dict-item]
    QuestionCalled: questions.apply_called,  # type: ignore[dict-item]
    PhaseChanged: questions.apply_phase,  # type: ignore[dict-item]
    ProjectorFocused: questions.apply_focus,  # type: ignore[dict-item]
    TimerChanged: timers.apply_changed,  # type: ignore[dict-item]
    RatingOpened: ratings.apply_opened,  # type: ignore[dict-item]
    RatingCast: ratings.apply_cast,  # type: ignore[dict-item]
    RatingClosed: ratings.apply_closed,  # type: ignore[dict-item]
    FloorRequested: speakers.apply_requested,  # type: ignore[dict-item]
    FloorWithdrawn: speakers.apply_withdrawn,  # type: ignore[dict-item]
    FloorMoved: speakers.apply_moved,  # type: ignore[dict-item]
    FloorGranted: speakers.apply_granted,  # type: ignore[dict-item]
    SpeechStarted: speakers.apply_speech_started,  # type: ignore[dict-item]
    SpokeFor: questions.apply_spoke,  # type: ignore[dict-item]
    SpeechEnded: speakers.apply_speech_ended,  # type: ignore[dict-item]
    BannerSet: projector.apply_banner,  # type: ignore[dict-item]
    ProjectorModeSet: projector.apply_mode,  # type: ignore[dict-item]
    VoteOpened: votes.apply_opened,  # type: ignore[dict-item]
    VoteCast: votes.apply_cast,  # type: ignore[dict-item]
    VoteClosed: votes.apply_closed,  # type: ignore[dict-item]
    VoteAnnounced: votes.apply_announced,  # type: ignore[dict-item]
}


def authorize(command: Command, actor: Actor) -> None:
    """Refuse a command its sender may not give; a deputy may act only for itself."""
    if actor.role not in ALLOWED_ROLES[type(command)]:
        raise Refused("not_allowed")
    # Only the hall QR code records a deputy's own check-in; staff check-ins say so.
    if isinstance(command, CheckIn) and (command.method is CheckInMethod.HALL_QR) != (
        actor.role is Role.DEPUTY
    ):
        raise Refused("not_allowed")
    if actor.role is Role.DEPUTY:
        own = getattr(command, "deputy_id", None)
        if own is None or own != actor.deputy_id:
            raise Refused("not_allowed")


def decide(state: MeetingState, command: Command, actor: Actor, now_ms: int) -> list[Event]:
    authorize(command, actor)
    return _DECIDERS[type(command)](state, command, now_ms)


def apply(state: MeetingState, event: Event) -> MeetingState:
    return _APPLIERS[type(event)](state, event)


def apply_all(state: MeetingState, events: list[Event]) -> MeetingState:
    for event in events:
        state = apply(state, event)
    return state
