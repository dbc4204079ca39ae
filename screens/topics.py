"""Which parts of the meeting an event touches ("topics").

Each audience maps topics to the fragments it must re-render (:mod:`screens.audiences`).
Three topics are coalesced: attendance and the tallies of a rating and of a vote change
once per deputy, so screens get them at most a few times a second instead of once per
ballot.
"""

from __future__ import annotations

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

TOPICS: dict[type, frozenset[str]] = {
    CheckInOpened: frozenset({"checkin"}),
    CheckInClosed: frozenset({"checkin"}),
    DeputyCheckedIn: frozenset({"attendance"}),
    DeputyOnLeave: frozenset({"attendance"}),
    AttendanceCleared: frozenset({"attendance"}),
    AttendanceAnnounced: frozenset({"announcement"}),
    AgendaItemStarted: frozenset({"agenda"}),
    QuestionCalled: frozenset({"question"}),
    PhaseChanged: frozenset({"phase"}),
    TimerChanged: frozenset({"timer"}),
    RatingOpened: frozenset({"rating"}),
    RatingCast: frozenset({"tally"}),
    RatingClosed: frozenset({"rating", "tally"}),
    ProjectorFocused: frozenset({"focus"}),
    FloorRequested: frozenset({"floor"}),
    FloorWithdrawn: frozenset({"floor"}),
    FloorMoved: frozenset({"floor"}),
    FloorGranted: frozenset({"floor"}),
    SpeechStarted: frozenset({"speech"}),
    SpeechEnded: frozenset({"speech"}),
    SpokeFor: frozenset({"speech"}),
    BannerSet: frozenset({"banner"}),
    ProjectorModeSet: frozenset({"projector_mode"}),
    VoteOpened: frozenset({"vote"}),
    VoteCast: frozenset({"vote_tally"}),
    VoteClosed: frozenset({"vote", "vote_tally"}),
    VoteAnnounced: frozenset({"vote"}),
}

COALESCED = frozenset({"attendance", "tally", "vote_tally"})


def topics_of(events: list[Event]) -> set[str]:
    found: set[str] = set()
    for e in events:
        found |= TOPICS[type(e)]
    return found


def personal_deputies(events: list[Event]) -> set[int]:
    """Deputies whose own fragment an event changes (their check-in, their ballot)."""
    return {
        e.deputy_id
        for e in events
        if isinstance(e, DeputyCheckedIn | DeputyOnLeave | AttendanceCleared | RatingCast | VoteCast)
    }
