"""decide and apply: the two functions the rest of the system calls.

``decide(state, command, actor, now_ms)`` returns the events a command causes, an
empty list when it changes nothing (a repeated check-in, a retried ballot), or raises
:class:`~live.refusals.Refused`. ``apply(state, event)`` folds one event in.
Both dispatch through tables keyed by type, so adding a command is one row. Each row is
built by a generic helper that ties the key to the handler's parameter type, so mypy
refuses a command wired to a handler of another command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from live import attendance, hall, projector, questions, ratings, speakers, timers, votes
from live import commands as c
from live import events as e
from live.refusals import Refused
from live.state import MeetingState

Decider = Callable[[MeetingState, Any, int], list[e.Event]]
Applier = Callable[[MeetingState, Any], MeetingState]
C = TypeVar("C")
E = TypeVar("E")


def _timed(kind: type[C], fn: Callable[[MeetingState, C, int], list[e.Event]]) -> tuple[type, Decider]:
    """A command whose decision needs the time (a timer starts, a rating opens)."""
    return kind, fn


def _timeless(kind: type[C], fn: Callable[[MeetingState, C], list[e.Event]]) -> tuple[type, Decider]:
    """A command whose decision does not depend on the time."""
    return kind, lambda state, cmd, _now: fn(state, cmd)


def _applier(kind: type[E], fn: Callable[[MeetingState, E], MeetingState]) -> tuple[type, Applier]:
    return kind, fn


_DECIDERS: dict[type, Decider] = dict(
    [
        _timeless(c.OpenCheckIn, attendance.decide_open),
        _timeless(c.CloseCheckIn, attendance.decide_close),
        _timed(c.CheckIn, attendance.decide_check_in),
        _timeless(c.MarkLeave, attendance.decide_leave),
        _timeless(c.ClearAttendance, attendance.decide_clear),
        _timeless(c.AnnounceAttendance, attendance.decide_announce),
        _timeless(c.LeaveHall, hall.decide_leave),
        _timeless(c.ReturnToHall, hall.decide_return),
        _timeless(c.CheckInAttendee, hall.decide_attendee),
        _timeless(c.CloseMeeting, hall.decide_close),
        _timeless(c.StartAgendaItem, questions.decide_agenda),
        _timed(c.CallQuestion, questions.decide_call),
        _timed(c.AdvancePhase, questions.decide_advance),
        _timeless(c.ShowOnProjector, questions.decide_show),
        _timed(c.OpenRating, ratings.decide_open),
        _timed(c.OpenItemRating, ratings.decide_open_item),
        _timeless(c.CastRating, ratings.decide_cast),
        _timed(c.CloseRating, ratings.decide_close),
        _timed(c.RecordPaperRating, ratings.decide_paper),
        _timed(c.StartTimer, timers.decide_start),
        _timed(c.PauseTimer, timers.decide_pause),
        _timed(c.AdjustTimer, timers.decide_adjust),
        _timed(c.ResetTimer, timers.decide_reset),
        _timeless(c.RequestFloor, speakers.decide_request),
        _timeless(c.WithdrawFloor, speakers.decide_withdraw),
        _timeless(c.MoveFloor, speakers.decide_move),
        _timed(c.GrantFloor, speakers.decide_grant),
        _timed(c.EndSpeech, speakers.decide_end),
        _timeless(c.SetBanner, projector.decide_banner),
        _timeless(c.SetProjectorMode, projector.decide_mode),
        _timeless(c.OpenVote, votes.decide_open),
        _timeless(c.CastVote, votes.decide_cast),
        _timeless(c.CloseVote, votes.decide_close),
        _timeless(c.AnnounceVote, votes.decide_announce),
        _timeless(c.RecordCountedVote, votes.decide_counted),
    ]
)

_APPLIERS: dict[type, Applier] = dict(
    [
        _applier(e.CheckInOpened, attendance.apply_opened),
        _applier(e.CheckInClosed, attendance.apply_closed),
        _applier(e.DeputyCheckedIn, attendance.apply_checked_in),
        _applier(e.DeputyOnLeave, attendance.apply_on_leave),
        _applier(e.AttendanceCleared, attendance.apply_cleared),
        _applier(e.AttendanceAnnounced, attendance.apply_announced),
        _applier(e.DeputyLeftHall, hall.apply_left),
        _applier(e.DeputyReturned, hall.apply_returned),
        _applier(e.AttendeeCheckedIn, hall.apply_attendee),
        _applier(e.MeetingClosed, hall.apply_closed),
        _applier(e.AgendaItemStarted, questions.apply_agenda),
        _applier(e.QuestionCalled, questions.apply_called),
        _applier(e.PhaseChanged, questions.apply_phase),
        _applier(e.ProjectorFocused, questions.apply_focus),
        _applier(e.TimerChanged, timers.apply_changed),
        _applier(e.RatingOpened, ratings.apply_opened),
        _applier(e.RatingCast, ratings.apply_cast),
        _applier(e.RatingClosed, ratings.apply_closed),
        _applier(e.FloorRequested, speakers.apply_requested),
        _applier(e.FloorWithdrawn, speakers.apply_withdrawn),
        _applier(e.FloorMoved, speakers.apply_moved),
        _applier(e.FloorGranted, speakers.apply_granted),
        _applier(e.SpeechStarted, speakers.apply_speech_started),
        _applier(e.SpokeFor, questions.apply_spoke),
        _applier(e.SpeechEnded, speakers.apply_speech_ended),
        _applier(e.BannerSet, projector.apply_banner),
        _applier(e.ProjectorModeSet, projector.apply_mode),
        _applier(e.VoteOpened, votes.apply_opened),
        _applier(e.VoteCast, votes.apply_cast),
        _applier(e.VoteClosed, votes.apply_closed),
        _applier(e.VoteAnnounced, votes.apply_announced),
    ]
)


def authorize(command: c.Command, actor: c.Actor) -> None:
    """Refuse a command its sender may not give; a deputy may act only for itself."""
    if actor.role not in c.ALLOWED_ROLES[type(command)]:
        raise Refused("not_allowed")
    # Only the hall QR code records a deputy's own check-in; staff check-ins say so.
    if isinstance(command, c.CheckIn | c.CheckInAttendee) and (command.method is c.CheckInMethod.HALL_QR) != (
        actor.role is c.Role.DEPUTY
    ):
        raise Refused("not_allowed")
    if actor.role is c.Role.DEPUTY:
        own = getattr(command, "deputy_id", None)
        if own is None or own != actor.deputy_id:
            raise Refused("not_allowed")


def decide(state: MeetingState, command: c.Command, actor: c.Actor, now_ms: int) -> list[e.Event]:
    authorize(command, actor)
    decider = _DECIDERS[type(command)]
    if not state.closed:
        return decider(state, command, now_ms)
    # The record is final once the meeting has ended. A command that would change nothing
    # (a ballot's retry after a lost reply, a repeated check-in) keeps its receipt.
    try:
        events = decider(state, command, now_ms)
    except Refused:
        events = [e.MeetingClosed()]  # anything but "nothing": refused as closed below
    if events:
        raise Refused("meeting_closed")
    return []


def apply(state: MeetingState, event: e.Event) -> MeetingState:
    return _APPLIERS[type(event)](state, event)


def apply_all(state: MeetingState, events: list[e.Event]) -> MeetingState:
    for event in events:
        state = apply(state, event)
    return state
