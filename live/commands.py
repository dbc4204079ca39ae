"""Commands: what somebody asks the meeting to do.

Every change, a chair's click or a deputy's rating, is one of these frozen values. The
server parses untrusted input into a command at the edge and rejects anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from live.state import (
    Choice,
    FloorKind,
    Focus,
    Phase,
    ProjectorMode,
    Threshold,
    VoteBase,
    VoteChoice,
    VoteMethod,
)


class Role(StrEnum):
    CHAIR = "chair"
    STAFF = "staff"
    DEPUTY = "deputy"


class CheckInMethod(StrEnum):
    HALL_QR = "hall_qr"  # the deputy scanned the rotating hall code
    STAFF = "staff"  # staff checked the deputy in by hand


@dataclass(frozen=True)
class Actor:
    """Who sends a command; a deputy actor may only act for itself."""

    role: Role
    deputy_id: int | None = None
    user: str = ""


@dataclass(frozen=True)
class OpenCheckIn:
    """Start check-in: the projector shows the hall QR code."""


@dataclass(frozen=True)
class CloseCheckIn:
    """Stop check-in by QR code (staff can still check in by hand)."""


@dataclass(frozen=True)
class CheckIn:
    """Check a deputy in: by the hall QR code (the deputy) or by hand (staff).

    ``network`` is the address block the phone came from (e.g. "192.168.1.0/24"), "" for
    staff: the console marks check-ins from outside the block most of the hall uses.
    """

    deputy_id: int
    method: CheckInMethod
    network: str = ""


@dataclass(frozen=True)
class MarkLeave:
    """Record approved leave (请假) for a deputy who has not checked in."""

    deputy_id: int


@dataclass(frozen=True)
class ClearAttendance:
    """Staff correction: the deputy goes back to absent."""

    deputy_id: int


@dataclass(frozen=True)
class LeaveHall:
    """Staff record that a present deputy left the hall part-way (中途离会)."""

    deputy_id: int


@dataclass(frozen=True)
class ReturnToHall:
    """Staff record that a deputy who left part-way is back in the hall."""

    deputy_id: int


@dataclass(frozen=True)
class CheckInAttendee:
    """Check in a non-voting attendee (列席, 旁听, 应询人); staff do it by hand."""

    attendee_id: int
    method: CheckInMethod


@dataclass(frozen=True)
class CloseMeeting:
    """End the meeting (会议结束): nothing changes it afterwards."""


@dataclass(frozen=True)
class AnnounceAttendance:
    """Freeze the current figures as the announcement shown in the hall."""


@dataclass(frozen=True)
class StartAgendaItem:
    """Move the session to an agenda item."""

    item_id: int


@dataclass(frozen=True)
class CallQuestion:
    """Call a question: its asker gets the floor and the asking timer starts."""

    question_id: int


@dataclass(frozen=True)
class AdvancePhase:
    """Move the current question to the next speaking phase.

    ``speaker_id`` names the deputy who asks a follow-up; it defaults to the asker.
    """

    to: Phase
    speaker_id: int | None = None


@dataclass(frozen=True)
class OpenRating:
    """Open the satisfaction rating of the current question.

    ``without_quorum``: the chair saw the console's warning that the quorum is lacking
    and opens it anyway; its result is then only for reference (仅供参考), without a grade.
    """

    without_quorum: bool = False


@dataclass(frozen=True)
class OpenItemRating:
    """Open the satisfaction rating of the current agenda item: a report (e.g. the
    government's half-year work report) or, in a 述职评议, a reporting deputy or group.
    ``without_quorum`` as for :class:`OpenRating`."""

    without_quorum: bool = False


@dataclass(frozen=True)
class CastRating:
    """A deputy's rating of one question.

    ``question_id`` is the question the form was shown for, so a late form never counts
    for the next question; ``ballot_key`` makes a retry after a lost reply harmless.
    """

    deputy_id: int
    question_id: int
    choice: Choice
    ballot_key: str


@dataclass(frozen=True)
class CloseRating:
    """Close the rating; the result is computed once and never changes."""


@dataclass(frozen=True)
class RecordPaperRating:
    """Close the open rating with a paper count (纸质计票) when the phones cannot finish it:
    the counts of the paper ballots, the tellers (监票人, 计票人) by name, and whether the
    electronic ballots already cast are added to them (``keep_electronic``) or set aside."""

    satisfied: int
    basic: int
    dissatisfied: int
    scrutineers: str
    counters: str
    keep_electronic: bool


@dataclass(frozen=True)
class StartTimer:
    """Start or resume the current timer."""


@dataclass(frozen=True)
class PauseTimer:
    """Pause the current timer, keeping what is left."""


@dataclass(frozen=True)
class AdjustTimer:
    """Add (positive) or take away (negative) seconds."""

    seconds: int


@dataclass(frozen=True)
class ResetTimer:
    """Back to the full time of the current phase, stopped."""


@dataclass(frozen=True)
class ShowOnProjector:
    """Make the projector show a view of the chair's choosing."""

    focus: Focus


@dataclass(frozen=True)
class RequestFloor:
    """Ask for the floor: a follow-up on the current question or a general speech, with
    an optional short subject. From the deputy's phone, or by the chair for a deputy
    without one."""

    deputy_id: int
    kind: FloorKind
    subject: str = ""


@dataclass(frozen=True)
class WithdrawFloor:
    """Take a request out of the queue: the deputy withdraws, or the chair removes it."""

    deputy_id: int


@dataclass(frozen=True)
class MoveFloor:
    """The chair puts a request at another place in the queue (1 is next)."""

    deputy_id: int
    place: int


@dataclass(frozen=True)
class GrantFloor:
    """The chair gives the floor to a deputy in the queue: a follow-up starts the
    follow-up phase of the question, a speech starts the speech timer."""

    deputy_id: int


@dataclass(frozen=True)
class EndSpeech:
    """The speech is over; its length goes to the deputy's speaking time."""


@dataclass(frozen=True)
class SetBanner:
    """A one-line announcement across the projector; an empty text removes it."""

    text: str


@dataclass(frozen=True)
class SetProjectorMode:
    """Blank the projector, freeze it on what it shows, or let it follow the session."""

    mode: ProjectorMode


@dataclass(frozen=True)
class OpenVote:
    """Open a vote on the phones; ``revote_of`` makes it the next round of that vote."""

    title: str
    secret: bool = True
    threshold: Threshold = Threshold.MAJORITY
    base: VoteBase = VoteBase.MEMBERS
    live: bool = False
    revote_of: int | None = None


@dataclass(frozen=True)
class CastVote:
    """A deputy's vote in one vote; ``ballot_key`` makes a retry harmless (as CastRating)."""

    deputy_id: int
    vote_id: int
    choice: VoteChoice
    ballot_key: str


@dataclass(frozen=True)
class CloseVote:
    """Close the open vote: the counts and the verdict are fixed at this moment."""


@dataclass(frozen=True)
class AnnounceVote:
    """Announce the closed vote's result to the hall; announced results never change."""


@dataclass(frozen=True)
class RecordCountedVote:
    """A round counted by hand (paper ballots or a show of hands), entered by the chair
    when phones cannot be used; closed at once and marked with its method."""

    title: str
    method: VoteMethod
    for_votes: int
    against: int
    abstain: int
    threshold: Threshold = Threshold.MAJORITY
    base: VoteBase = VoteBase.MEMBERS
    revote_of: int | None = None


Command = (
    OpenCheckIn
    | CloseCheckIn
    | CheckIn
    | MarkLeave
    | ClearAttendance
    | AnnounceAttendance
    | LeaveHall
    | ReturnToHall
    | CheckInAttendee
    | CloseMeeting
    | StartAgendaItem
    | CallQuestion
    | AdvancePhase
    | OpenRating
    | OpenItemRating
    | CastRating
    | CloseRating
    | RecordPaperRating
    | StartTimer
    | PauseTimer
    | AdjustTimer
    | ResetTimer
    | ShowOnProjector
    | RequestFloor
    | WithdrawFloor
    | MoveFloor
    | GrantFloor
    | EndSpeech
    | SetBanner
    | SetProjectorMode
    | OpenVote
    | CastVote
    | CloseVote
    | AnnounceVote
    | RecordCountedVote
)

# Who may send what. A reader can check this table against DOMAIN.md ("Who uses which
# screen"): deputies only check themselves in and rate; staff handle attendance; the
# chair runs the session.
CHAIR_ONLY = frozenset({Role.CHAIR})
CHAIR_OR_STAFF = frozenset({Role.CHAIR, Role.STAFF})
ALLOWED_ROLES: dict[type, frozenset[Role]] = {
    OpenCheckIn: CHAIR_OR_STAFF,
    CloseCheckIn: CHAIR_OR_STAFF,
    CheckIn: frozenset({Role.CHAIR, Role.STAFF, Role.DEPUTY}),
    MarkLeave: CHAIR_OR_STAFF,
    ClearAttendance: CHAIR_OR_STAFF,
    AnnounceAttendance: CHAIR_ONLY,
    LeaveHall: CHAIR_OR_STAFF,
    ReturnToHall: CHAIR_OR_STAFF,
    CheckInAttendee: CHAIR_OR_STAFF,
    CloseMeeting: CHAIR_OR_STAFF,
    StartAgendaItem: CHAIR_ONLY,
    CallQuestion: CHAIR_ONLY,
    AdvancePhase: CHAIR_ONLY,
    OpenRating: CHAIR_ONLY,
    OpenItemRating: CHAIR_ONLY,
    CastRating: frozenset({Role.DEPUTY}),
    CloseRating: CHAIR_ONLY,
    RecordPaperRating: CHAIR_ONLY,
    StartTimer: CHAIR_ONLY,
    PauseTimer: CHAIR_ONLY,
    AdjustTimer: CHAIR_ONLY,
    ResetTimer: CHAIR_ONLY,
    ShowOnProjector: CHAIR_ONLY,
    RequestFloor: frozenset({Role.CHAIR, Role.DEPUTY}),
    WithdrawFloor: frozenset({Role.CHAIR, Role.DEPUTY}),
    MoveFloor: CHAIR_ONLY,
    GrantFloor: CHAIR_ONLY,
    EndSpeech: CHAIR_ONLY,
    SetBanner: CHAIR_ONLY,
    SetProjectorMode: CHAIR_ONLY,
    OpenVote: CHAIR_ONLY,
    CastVote: frozenset({Role.DEPUTY}),
    CloseVote: CHAIR_ONLY,
    AnnounceVote: CHAIR_ONLY,
    RecordCountedVote: CHAIR_ONLY,
}
