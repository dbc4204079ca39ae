"""Events: facts about what happened, in the order they happened.

Events are what the server stores (one row each, with a per-meeting sequence number)
and what every process applies. They carry plain values so they serialise to JSON
and back without loss (:func:`to_record`, :func:`from_record`).

The one exception to "the log holds everything" is the secret ballot (every rating, and
a secret vote): the event log keeps that a deputy rated or voted (the receipt), while the
choice is stored in a separate table with no link to the deputy. :func:`to_record`
therefore drops ``choice`` from :class:`RatingCast` and from a secret :class:`VoteCast`;
the loader restores the counts from the ballot tables. A named vote keeps its choice.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from live.commands import CheckInMethod
from live.setup import TimerRole
from live.state import (
    Choice,
    FloorKind,
    Focus,
    Phase,
    ProjectorMode,
    Threshold,
    Ungraded,
    VoteBase,
    VoteChoice,
    VoteMethod,
)


@dataclass(frozen=True)
class CheckInOpened:
    """Check-in by hall QR code is open."""


@dataclass(frozen=True)
class CheckInClosed:
    """Check-in by hall QR code is closed."""


@dataclass(frozen=True)
class DeputyCheckedIn:
    """A deputy is present (实到), how they checked in, and from which address block."""

    deputy_id: int
    method: CheckInMethod
    network: str = ""  # "" by hand, and in events logged before it was kept
    # When (ms since the epoch): the phone's 已签到 says it. Not part of the event's identity
    # (a retried check-in is the same receipt); 0 in events logged before it was kept.
    at_ms: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True)
class DeputyOnLeave:
    """A deputy is on approved leave (请假)."""

    deputy_id: int


@dataclass(frozen=True)
class AttendanceCleared:
    """A deputy is back to absent (a staff correction)."""

    deputy_id: int


@dataclass(frozen=True)
class AttendanceAnnounced:
    """The attendance figures announced to the hall, frozen (deputies only)."""

    expected: int
    present: int
    leave: int
    absent: int
    quorum: bool
    left: int = 0  # 中途离会 at that moment; 0 in events logged before it was kept


@dataclass(frozen=True)
class DeputyLeftHall:
    """A deputy who had checked in left the hall part-way (中途离会)."""

    deputy_id: int


@dataclass(frozen=True)
class DeputyReturned:
    """A deputy who had left part-way is back in the hall (present again)."""

    deputy_id: int


@dataclass(frozen=True)
class AttendeeCheckedIn:
    """A non-voting attendee (列席, 旁听, 应询人) checked in, and how."""

    attendee_id: int
    method: CheckInMethod


@dataclass(frozen=True)
class MeetingClosed:
    """The meeting is over (会议结束); the attendance records are frozen from here."""


@dataclass(frozen=True)
class AgendaItemStarted:
    """The session moved to an agenda item."""

    item_id: int


@dataclass(frozen=True)
class QuestionCalled:
    """A question is now the current one."""

    question_id: int


@dataclass(frozen=True)
class PhaseChanged:
    """The current question entered a phase; the speaker for a follow-up."""

    phase: Phase
    speaker_id: int | None


@dataclass(frozen=True)
class TimerChanged:
    """The whole timer as a fact; a running timer is its deadline in server time."""

    role: TimerRole | None
    duration_ms: int
    running: bool
    deadline_ms: int
    remaining_ms: int


@dataclass(frozen=True)
class RatingOpened:
    """The satisfaction rating of a question opened; ``quorum``: with the quorum present
    (else the chair opened it past the warning, and its result is only for reference)."""

    question_id: int
    quorum: bool = True  # True in events logged before it was kept


@dataclass(frozen=True)
class RatingCast:
    """A deputy rated (the receipt); the choice is stored apart."""

    question_id: int
    deputy_id: int
    ballot_key: str
    choice: Choice | None  # None once read back from the log: the choice is secret


@dataclass(frozen=True)
class RatingClosed:
    """The rating closed with its final counts, base and grade; ``ungraded`` says why it
    has none. A paper count (``method`` paper) names its tellers and how many electronic
    ballots were added to its totals (``kept``) or set aside (``discarded``)."""

    question_id: int
    satisfied: int
    basic: int
    dissatisfied: int
    base: int
    grade: Choice | None
    ungraded: Ungraded | None = None
    quorum: bool = True
    method: VoteMethod = VoteMethod.PHONES
    scrutineers: str = ""
    counters: str = ""
    kept: int = 0
    discarded: int = 0


@dataclass(frozen=True)
class ProjectorFocused:
    """The projector switched to a view."""

    focus: Focus


@dataclass(frozen=True)
class FloorRequested:
    """A deputy joined the end of the speaker queue."""

    deputy_id: int
    kind: FloorKind
    subject: str
    item_id: int | None


@dataclass(frozen=True)
class FloorWithdrawn:
    """A request left the queue without the floor (withdrawn, or removed by the chair)."""

    deputy_id: int


@dataclass(frozen=True)
class FloorMoved:
    """The chair moved a request to another place in the queue."""

    deputy_id: int
    place: int


@dataclass(frozen=True)
class FloorGranted:
    """A request left the queue because the deputy has the floor now."""

    deputy_id: int


@dataclass(frozen=True)
class SpeechStarted:
    """A general speech began; ``nth`` counts the deputy's speeches on this item."""

    deputy_id: int
    item_id: int | None
    nth: int


@dataclass(frozen=True)
class SpeechEnded:
    """The speech ended after ``spoken_ms`` (overrun included)."""

    deputy_id: int
    spoken_ms: int


@dataclass(frozen=True)
class SpokeFor:
    """A deputy's question or follow-up ended after ``spoken_ms``: their speaking time."""

    deputy_id: int
    spoken_ms: int


@dataclass(frozen=True)
class BannerSet:
    """The projector's one-line announcement ("" when removed)."""

    text: str


@dataclass(frozen=True)
class ProjectorModeSet:
    """The projector is blank, frozen, or follows the session again."""

    mode: ProjectorMode


@dataclass(frozen=True)
class VoteOpened:
    """A vote round began (on the phones, or counted by hand and closed at once)."""

    vote_id: int
    title: str
    round_no: int
    first_id: int
    item_id: int | None
    secret: bool
    threshold: Threshold
    base: VoteBase
    live: bool
    method: VoteMethod


@dataclass(frozen=True)
class VoteCast:
    """A deputy voted (the receipt). In a secret vote the choice is stored apart, with
    no link to the deputy, and the log keeps none; in a named vote it is on the record."""

    vote_id: int
    deputy_id: int
    ballot_key: str
    secret: bool
    choice: VoteChoice | None  # None when read back from the log of a secret vote


@dataclass(frozen=True)
class VoteClosed:
    """The vote closed with its final counts, 未按, base and verdict."""

    vote_id: int
    for_votes: int
    against: int
    abstain: int
    not_voted: int
    base: int
    passed: bool


@dataclass(frozen=True)
class VoteAnnounced:
    """The chair announced the result to the hall."""

    vote_id: int


Event = (
    CheckInOpened
    | CheckInClosed
    | DeputyCheckedIn
    | DeputyOnLeave
    | AttendanceCleared
    | AttendanceAnnounced
    | DeputyLeftHall
    | DeputyReturned
    | AttendeeCheckedIn
    | MeetingClosed
    | AgendaItemStarted
    | QuestionCalled
    | PhaseChanged
    | TimerChanged
    | RatingOpened
    | RatingCast
    | RatingClosed
    | ProjectorFocused
    | FloorRequested
    | FloorWithdrawn
    | FloorMoved
    | FloorGranted
    | SpeechStarted
    | SpeechEnded
    | SpokeFor
    | BannerSet
    | ProjectorModeSet
    | VoteOpened
    | VoteCast
    | VoteClosed
    | VoteAnnounced
)

# Every event type by its stored name (``events.type``): the members of ``Event``.
EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in typing.get_args(Event)}

# Fields whose JSON value must be turned back into an enum member.
_ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "method": CheckInMethod,
    "phase": Phase,
    "role": TimerRole,
    "choice": Choice,
    "grade": Choice,
    "focus": Focus,
    "mode": ProjectorMode,
    "kind": FloorKind,
    "ungraded": Ungraded,
}
# Fields whose enum depends on the event (a vote's "choice", "base" and "method" mean
# something else in the rating and check-in events).
_EVENT_ENUMS: dict[tuple[str, str], type[StrEnum]] = {
    ("VoteCast", "choice"): VoteChoice,
    ("VoteOpened", "threshold"): Threshold,
    ("VoteOpened", "base"): VoteBase,
    ("VoteOpened", "method"): VoteMethod,
    ("RatingClosed", "method"): VoteMethod,
}


def to_data(event: Event, *, keep_secret: bool = True) -> dict[str, Any]:
    """The event's fields as JSON-ready values; ``keep_secret`` keeps the choice."""
    data = {k: (v.value if isinstance(v, StrEnum) else v) for k, v in dataclasses.asdict(event).items()}
    secret = isinstance(event, RatingCast) or (isinstance(event, VoteCast) and event.secret)
    if secret and not keep_secret:
        data["choice"] = None
    return data


def to_record(event: Event) -> tuple[str, dict[str, Any]]:
    """What the event log stores: the type name and the data, without secret choices."""
    return type(event).__name__, to_data(event, keep_secret=False)


def from_record(type_name: str, data: dict[str, Any]) -> Event:
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise ValueError(f"unknown event type {type_name!r}")
    values = {}
    for k, v in data.items():
        kind = _EVENT_ENUMS.get((type_name, k)) or _ENUM_FIELDS.get(k)
        values[k] = kind(v) if kind is not None and v is not None else v
    event: Event = cls(**values)
    return event
