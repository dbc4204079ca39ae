"""A held meeting folded from its setup and timed log: the one source of its record.

Pure: the input is the meeting's :class:`~live.setup.Setup` and its events, each with its
sequence number and the moment it was committed (``events.created_ms``); the output is a
:class:`MeetingRecord`. The fold replays the events through :func:`live.core.apply`, the
same function every screen uses, and notes beside it what the state forgets: when each
thing happened and how long it lasted.

Secrecy. The log never holds the choice of a rating or a secret vote, and this fold keeps
nothing of their receipts (``RatingCast``, a secret ``VoteCast``) but the totals the close
carries: who took part in a secret poll is part of its 未按 count and appears nowhere here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from live import events as e
from live.core import apply
from live.questions import PHASE_TIMER
from live.setup import AgendaItem, Denominator, Question, Setup, TimerRole
from live.state import (
    Announcement,
    MeetingState,
    Phase,
    Presence,
    RatingResult,
    Threshold,
    VoteBase,
    VoteChoice,
    VoteMethod,
    VoteResult,
    initial_state,
)

TimedEvent = tuple[int, int, e.Event]  # (seq, committed at ms, event)
Status = Literal["present", "leave", "absent"]

# The phases in which somebody speaks, with the timer that measures each: their allowance.
SPOKEN_PHASES = {p: role for p, role in PHASE_TIMER.items() if p is not Phase.RATING}


@dataclass(frozen=True)
class Stretch:
    """One timed part of a question: the asking, the answer, a follow-up or its reply;
    ``speaker_id`` None while the official answers; ``allowance_ms`` the phase's timer."""

    phase: Phase
    speaker_id: int | None
    start_ms: int
    end_ms: int
    allowance_ms: int

    @property
    def duration_ms(self) -> int:
        return max(0, self.end_ms - self.start_ms)


@dataclass(frozen=True)
class QuestionRecord:
    """A question of the meeting: whether the hall reached it, its timed parts, its rating."""

    question: Question
    called_ms: int | None  # None: the hall never reached it
    stretches: tuple[Stretch, ...]
    rating: RatingResult | None  # the last close of its rating; None when never rated
    rating_opened_ms: int | None = None
    rating_closed_ms: int | None = None
    commitments: tuple[str, ...] = ()  # 承诺事项 typed at the console or afterwards

    @property
    def reached(self) -> bool:
        return self.called_ms is not None

    @property
    def followup_speakers(self) -> tuple[int, ...]:
        """The deputies who asked a follow-up (追问), in order, each once."""
        seen: list[int] = []
        for s in self.stretches:
            if s.phase is Phase.FOLLOWUP_ASK and s.speaker_id is not None and s.speaker_id not in seen:
                seen.append(s.speaker_id)
        return tuple(seen)

    @property
    def spoken_ms(self) -> int:
        """The question's speaking time: asking, answer and follow-ups together."""
        return sum(s.duration_ms for s in self.stretches)

    @property
    def allowance_ms(self) -> int:
        return sum(s.allowance_ms for s in self.stretches)


@dataclass(frozen=True)
class ItemRating:
    """The rating of an agenda item (a report, a 述职): live keys it by the item's id negated."""

    item: AgendaItem
    result: RatingResult


@dataclass(frozen=True)
class VoteRecord:
    """One round of a vote (a revote is a round of its own, with ``round_no`` > 1)."""

    vote_id: int
    title: str
    round_no: int
    first_id: int
    item_id: int | None
    secret: bool
    threshold: Threshold
    base: VoteBase
    method: VoteMethod
    opened_ms: int
    closed_ms: int | None
    result: VoteResult | None  # None: never closed
    announced: bool
    # A named (记名) vote's choices, by deputy; always empty for a secret one.
    named: tuple[tuple[int, VoteChoice], ...] = ()


@dataclass(frozen=True)
class Speech:
    """A general speech (发言) on an agenda item."""

    deputy_id: int
    item_id: int | None
    nth: int  # the deputy's first, second … speech on the item
    start_ms: int
    spoken_ms: int  # overrun included; 0 when it never ended
    allowance_ms: int


@dataclass(frozen=True)
class Attendance:
    """One member's attendance at the meeting (DeputyCheckedIn … MeetingClosed)."""

    deputy_id: int
    status: Status
    checked_in_ms: int | None = None
    late: bool = False  # checked in after the attendance was first announced
    left_ms: int | None = None  # the last time the deputy left part-way
    returned_ms: int | None = None

    @property
    def left(self) -> bool:
        """Left part-way at some time (中途离会), whether or not back later."""
        return self.left_ms is not None

    @property
    def out_at_end(self) -> bool:
        return self.left_ms is not None and (self.returned_ms is None or self.returned_ms < self.left_ms)


@dataclass(frozen=True)
class Banner:
    """An announcement the chair put across the projector."""

    at_ms: int
    text: str


@dataclass(frozen=True)
class AgendaStep:
    item: AgendaItem
    started_ms: int


@dataclass(frozen=True)
class MeetingRecord:
    setup: Setup
    opened_ms: int | None  # the first event's moment; None: nothing happened
    closed_ms: int | None  # 会议结束; None while the meeting is not closed
    expected: int  # 应到 at the end
    attendance: tuple[Attendance, ...]  # every member expected (the suspended are not)
    announcements: tuple[tuple[int, Announcement], ...]  # (at ms, figures) as announced
    agenda: tuple[AgendaStep, ...]  # the items taken, in the order taken
    questions: tuple[QuestionRecord, ...]  # every question of the setup, in position order
    item_ratings: tuple[ItemRating, ...]
    votes: tuple[VoteRecord, ...]  # every round, in the order opened
    speeches: tuple[Speech, ...]
    banners: tuple[Banner, ...]
    rating_denominator: Denominator

    @property
    def closed(self) -> bool:
        return self.closed_ms is not None

    def with_status(self, status: Status) -> tuple[Attendance, ...]:
        return tuple(a for a in self.attendance if a.status == status)

    @property
    def late(self) -> tuple[Attendance, ...]:
        return tuple(a for a in self.attendance if a.late)

    @property
    def left(self) -> tuple[Attendance, ...]:
        return tuple(a for a in self.attendance if a.left)

    def name(self, deputy_id: int | None) -> str:
        d = self.setup.deputies.get(deputy_id) if deputy_id is not None else None
        return d.name if d else ""

    def rounds_of(self, first_id: int) -> tuple[VoteRecord, ...]:
        return tuple(v for v in self.votes if v.first_id == first_id)


@dataclass
class _Open:
    """What the fold carries between events."""

    phase: Phase | None = None
    speaker_id: int | None = None
    since_ms: int = 0
    question_id: int | None = None
    called: dict[int, int] = field(default_factory=dict)
    stretches: dict[int, list[Stretch]] = field(default_factory=dict)
    rating_opened: dict[int, int] = field(default_factory=dict)
    rating_closed: dict[int, int] = field(default_factory=dict)
    speech: tuple[int, int | None, int, int] | None = None  # deputy, item, nth, start
    speeches: list[Speech] = field(default_factory=list)
    checked_in: dict[int, int] = field(default_factory=dict)
    late: set[int] = field(default_factory=set)
    left: dict[int, int] = field(default_factory=dict)
    returned: dict[int, int] = field(default_factory=dict)
    announcements: list[tuple[int, Announcement]] = field(default_factory=list)
    agenda: list[tuple[int, int]] = field(default_factory=list)
    votes: dict[int, tuple[e.VoteOpened, int]] = field(default_factory=dict)
    vote_closed: dict[int, int] = field(default_factory=dict)
    banners: list[Banner] = field(default_factory=list)


def _allowance(setup: Setup, role: TimerRole) -> int:
    return setup.settings.timer_seconds.get(role, 0) * 1000


def _end_stretch(setup: Setup, o: _Open, at_ms: int) -> None:
    """The phase running since ``o.since_ms`` ends at ``at_ms``."""
    if o.question_id is None or o.phase not in SPOKEN_PHASES:
        return
    role = SPOKEN_PHASES[o.phase]
    o.stretches.setdefault(o.question_id, []).append(
        Stretch(o.phase, o.speaker_id, o.since_ms, at_ms, _allowance(setup, role))
    )


def _end_speech(setup: Setup, o: _Open, spoken_ms: int) -> None:
    if o.speech is None:
        return
    deputy_id, item_id, nth, start = o.speech
    role = TimerRole.SPEECH_FIRST if nth <= 1 else TimerRole.SPEECH_SECOND
    o.speeches.append(Speech(deputy_id, item_id, nth, start, spoken_ms, _allowance(setup, role)))
    o.speech = None


def _note(setup: Setup, o: _Open, at: int, event: e.Event) -> None:
    """Note the time of what the state does not keep; called before the event applies."""
    match event:
        case e.DeputyCheckedIn(deputy_id=d):
            o.checked_in.setdefault(d, at)
            if o.announcements:
                o.late.add(d)
        case e.AttendanceCleared(deputy_id=d):
            o.checked_in.pop(d, None)
            o.late.discard(d)
        case e.DeputyLeftHall(deputy_id=d):
            o.left[d] = at
        case e.DeputyReturned(deputy_id=d):
            o.returned[d] = at
        case e.AttendanceAnnounced():
            o.announcements.append(
                (
                    at,
                    Announcement(
                        event.expected, event.present, event.leave, event.absent, event.quorum, event.left
                    ),
                )
            )
        case e.AgendaItemStarted(item_id=i):
            _end_stretch(setup, o, at)
            o.phase, o.question_id = None, None
            o.agenda.append((i, at))
        case e.QuestionCalled(question_id=q):
            _end_stretch(setup, o, at)
            o.phase, o.speaker_id, o.question_id, o.since_ms = None, None, q, at
            o.called.setdefault(q, at)
        case e.PhaseChanged(phase=phase, speaker_id=speaker):
            _end_stretch(setup, o, at)
            o.phase, o.speaker_id, o.since_ms = phase, speaker, at
        case e.RatingOpened(question_id=q):
            o.rating_opened[q] = at
        case e.RatingClosed(question_id=q):
            o.rating_closed[q] = at
        case e.SpeechStarted(deputy_id=d, item_id=item, nth=nth):
            o.speech = (d, item, nth, at)
        case e.SpeechEnded(spoken_ms=spoken):
            _end_speech(setup, o, spoken)
        case e.VoteOpened(vote_id=v):
            o.votes[v] = (event, at)
        case e.VoteClosed(vote_id=v):
            o.vote_closed[v] = at
        case e.BannerSet(text=text) if text:
            o.banners.append(Banner(at, text))
        case e.MeetingClosed():
            _end_stretch(setup, o, at)
            o.phase = None
            _end_speech(setup, o, 0)
        case _:
            pass


def _attendance(state: MeetingState, o: _Open) -> tuple[Attendance, ...]:
    rows: list[Attendance] = []
    for deputy_id in sorted(state.setup.deputies, key=lambda d: state.setup.deputies[d].card_no):
        if state.is_suspended(deputy_id):
            continue
        presence = state.attendance.get(deputy_id)
        status: Status = (
            "leave" if presence is Presence.LEAVE else "absent" if presence is None else "present"
        )
        rows.append(
            Attendance(
                deputy_id,
                status,
                checked_in_ms=o.checked_in.get(deputy_id) if status == "present" else None,
                late=status == "present" and deputy_id in o.late,
                left_ms=o.left.get(deputy_id) if status == "present" else None,
                returned_ms=o.returned.get(deputy_id) if status == "present" else None,
            )
        )
    return tuple(rows)


def _votes(state: MeetingState, o: _Open) -> tuple[VoteRecord, ...]:
    rows: list[VoteRecord] = []
    for vote_id, (v, at) in o.votes.items():
        r = state.votes[vote_id]
        named = () if r.secret else tuple(sorted(r.named.items()))
        closed_ms = o.vote_closed.get(vote_id)
        rows.append(
            VoteRecord(
                vote_id, v.title, v.round_no, v.first_id, v.item_id, v.secret, v.threshold, v.base,
                v.method, at, closed_ms, r.result, r.announced, named,
            )
        )  # fmt: skip
    return tuple(rows)


def fold(
    setup: Setup, timed: Iterable[TimedEvent], commitments: dict[int, tuple[str, ...]] | None = None
) -> MeetingRecord:
    """The record of a meeting from its setup and its events in sequence order."""
    state = initial_state(setup)
    o = _Open()
    first: int | None = None
    closed: int | None = None
    for seq, at, event in timed:
        first = at if first is None else first
        _note(setup, o, at, event)
        if isinstance(event, e.MeetingClosed):
            closed = at
        apply(state, event)
        state.seq = seq
    commitments = commitments or {}
    questions = tuple(
        QuestionRecord(
            q,
            o.called.get(q.id),
            tuple(o.stretches.get(q.id, ())),
            r.result if (r := state.ratings.get(q.id)) else None,
            o.rating_opened.get(q.id),
            o.rating_closed.get(q.id),
            commitments.get(q.id, ()),
        )
        for q in sorted(setup.questions, key=lambda q: q.position)
    )
    item_ratings = tuple(
        ItemRating(item, r.result)
        for item in setup.agenda
        if (r := state.ratings.get(-item.id)) is not None and r.result is not None
    )
    by_id = {item.id: item for item in setup.agenda}
    return MeetingRecord(
        setup=setup,
        opened_ms=first,
        closed_ms=closed,
        expected=state.expected,
        attendance=_attendance(state, o),
        announcements=tuple(o.announcements),
        agenda=tuple(AgendaStep(by_id[i], at) for i, at in o.agenda if i in by_id),
        questions=questions,
        item_ratings=item_ratings,
        votes=_votes(state, o),
        speeches=tuple(o.speeches),
        banners=tuple(o.banners),
        rating_denominator=setup.settings.rating_rule.denominator,
    )
