"""Which parts of the meeting an event touches ("topics").

Each audience maps topics to the fragments it must re-render (:mod:`screens.audiences`).
Three topics are coalesced: attendance and the tallies of a rating and of a vote change
once per deputy, so screens get them at most a few times a second instead of once per
ballot.
"""

from __future__ import annotations

from live import events as ev

TOPICS: dict[type, frozenset[str]] = {
    ev.CheckInOpened: frozenset({"checkin"}),
    ev.CheckInClosed: frozenset({"checkin"}),
    ev.DeputyCheckedIn: frozenset({"attendance"}),
    ev.DeputyOnLeave: frozenset({"attendance"}),
    ev.AttendanceCleared: frozenset({"attendance"}),
    ev.AttendanceAnnounced: frozenset({"announcement"}),
    ev.DeputyLeftHall: frozenset({"attendance"}),
    ev.DeputyReturned: frozenset({"attendance"}),
    ev.AttendeeCheckedIn: frozenset({"attendees"}),
    ev.MeetingClosed: frozenset({"closed"}),
    ev.AgendaItemStarted: frozenset({"agenda"}),
    ev.QuestionCalled: frozenset({"question"}),
    ev.PhaseChanged: frozenset({"phase"}),
    ev.TimerChanged: frozenset({"timer"}),
    ev.RatingOpened: frozenset({"rating"}),
    ev.RatingCast: frozenset({"tally"}),
    ev.RatingClosed: frozenset({"rating", "tally"}),
    ev.ProjectorFocused: frozenset({"focus"}),
    ev.FloorRequested: frozenset({"floor"}),
    ev.FloorWithdrawn: frozenset({"floor"}),
    ev.FloorMoved: frozenset({"floor"}),
    ev.FloorGranted: frozenset({"floor"}),
    ev.SpeechStarted: frozenset({"speech"}),
    ev.SpeechEnded: frozenset({"speech"}),
    ev.SpokeFor: frozenset({"speech"}),
    ev.BannerSet: frozenset({"banner"}),
    ev.ProjectorModeSet: frozenset({"projector_mode"}),
    ev.VoteOpened: frozenset({"vote"}),
    ev.VoteCast: frozenset({"vote_tally"}),
    ev.VoteClosed: frozenset({"vote", "vote_tally"}),
    ev.VoteAnnounced: frozenset({"vote"}),
}

# Events that change a deputy's own fragment (their check-in, their ballot).
PERSONAL = (
    ev.DeputyCheckedIn,
    ev.DeputyOnLeave,
    ev.AttendanceCleared,
    ev.DeputyLeftHall,
    ev.DeputyReturned,
    ev.RatingCast,
    ev.VoteCast,
)

COALESCED = frozenset({"attendance", "tally", "vote_tally"})


def topics_of(events: list[ev.Event]) -> set[str]:
    found: set[str] = set()
    for e in events:
        found |= TOPICS[type(e)]
    return found


def personal_deputies(events: list[ev.Event]) -> set[int]:
    """Deputies whose own fragment an event changes (their check-in, their ballot)."""
    return {e.deputy_id for e in events if isinstance(e, PERSONAL)}
