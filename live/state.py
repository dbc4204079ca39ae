"""The state of a running meeting.

Theory of operation: :class:`MeetingState` is rebuilt by folding events over a fresh
state made from the meeting's :class:`~live.setup.Setup`. ``apply`` mutates the state in
place and returns it: with 3,000 deputies checking in, copying the attendance map per
event would cost more than the whole rest of the action path. ``decide`` never
mutates, so a refusal changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from live.setup import Setup, TimerRole


class Phase(StrEnum):
    """Where the current question stands (DOMAIN.md, "One question, live")."""

    ASKING = "asking"
    ANSWERING = "answering"
    FOLLOWUP_ASK = "followup_ask"
    FOLLOWUP_REPLY = "followup_reply"
    RATING = "rating"
    DONE = "done"


class Choice(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class Presence(StrEnum):
    PRESENT = "present"  # 实到
    LEAVE = "leave"  # 请假
    LEFT = "left"  # 中途离会: checked in, then left the hall (not counted as present now)


class Focus(StrEnum):
    """What the projector shows; it follows the session unless the chair picks one."""

    WELCOME = "welcome"
    CHECKIN = "checkin"
    ATTENDANCE = "attendance"
    QUESTION = "question"
    RESULT = "result"
    VOTE = "vote"
    SPEECH = "speech"


class FloorKind(StrEnum):
    """What a deputy asks the floor for."""

    FOLLOWUP = "followup"  # 追问 on the current question
    SPEECH = "speech"  # a general speech on the agenda item


@dataclass(frozen=True)
class FloorRequest:
    """A place in the queue; the queue is the current agenda item's (cleared on a new item)."""

    deputy_id: int
    kind: FloorKind
    subject: str


class ProjectorMode(StrEnum):
    """The chair can blank the projector (a black screen) or freeze it on what it shows."""

    NORMAL = "normal"
    BLANK = "blank"
    FROZEN = "frozen"


class VoteChoice(StrEnum):
    """表决的选项; 未按 (did not press) is not a choice but what is left of those present."""

    FOR = "for"  # 赞成
    AGAINST = "against"  # 反对
    ABSTAIN = "abstain"  # 弃权


class Threshold(StrEnum):
    """How many 赞成 votes pass a matter, as a share of the vote's base (live.rules)."""

    MAJORITY = "majority"  # 过半数: strictly more than half
    TWO_THIRDS = "two_thirds"  # 三分之二以上: two thirds or more


class VoteBase(StrEnum):
    """What the threshold is measured against: by law all members (地方组织法 §25, §51)."""

    MEMBERS = "members"  # 全体组成人员 / 全体代表 (应到)
    PRESENT = "present"  # 实到
    CAST = "cast"  # 参加表决 (赞成 + 反对 + 弃权)


class VoteMethod(StrEnum):
    """How the votes were given: on the phones, or counted by hand and entered by the chair."""

    PHONES = "phones"
    PAPER = "paper"  # 纸质票
    HANDS = "hands"  # 举手


@dataclass
class Timer:
    """A server-held timer stored as facts: a deadline when running, else what is left.

    ``remaining_ms`` may be negative: the overrun of a paused timer.
    """

    role: TimerRole | None = None
    duration_ms: int = 0
    running: bool = False
    deadline_ms: int = 0
    remaining_ms: int = 0

    def left_ms(self, now_ms: int) -> int:
        return self.deadline_ms - now_ms if self.running else self.remaining_ms


class Ungraded(StrEnum):
    """Why a closed rating has no grade (live.rules.grade): the screens say so instead."""

    NO_BALLOTS = "no_ballots"  # nobody rated: 无有效评价
    TOO_FEW = "too_few"  # fewer ballots than the meeting's minimum: 无有效评价
    NO_QUORUM = "no_quorum"  # opened without a quorum: counts only, 仅供参考


@dataclass(frozen=True)
class PaperCount:
    """A rating counted on paper (纸质计票) when the phones could not finish it.

    Only totals are kept: the electronic ballots already cast were either added to the
    paper count (``kept`` of them) or set aside (``discarded``), never shown apart, so
    the few cast before the Wi-Fi failed stay as secret as the rest.
    """

    scrutineers: str  # 监票人
    counters: str  # 计票人
    kept: int = 0
    discarded: int = 0


@dataclass(frozen=True)
class RatingResult:
    """A closed rating: counts, the base the rates are measured on, and the grade."""

    question_id: int
    counts: tuple[tuple[Choice, int], ...]
    base: int
    grade: Choice | None  # None: nothing to grade, see ``ungraded``
    ungraded: Ungraded | None = None
    quorum: bool = True  # the quorum was present as the rating opened
    paper: PaperCount | None = None

    def count(self, choice: Choice) -> int:
        return dict(self.counts).get(choice, 0)

    @property
    def cast(self) -> int:
        return sum(n for _, n in self.counts)

    def rate(self, choice: Choice) -> Fraction:
        return Fraction(self.count(choice), self.base) if self.base else Fraction(0)


@dataclass
class RatingRound:
    """The satisfaction rating of one question, or of an agenda item (then ``question_id``
    is the item's id negated: question and item ids never collide that way).

    ``voters`` maps a deputy to the ballot key of their rating, never to their choice:
    ratings are secret, and the counts are kept apart from who voted.
    """

    question_id: int
    open: bool = True
    voters: dict[int, str] = field(default_factory=dict)
    counts: dict[Choice, int] = field(default_factory=lambda: {c: 0 for c in Choice})
    result: RatingResult | None = None
    quorum: bool = True  # the quorum was present as it opened (else: 仅供参考, no grade)


@dataclass(frozen=True)
class VoteResult:
    """A closed vote: counts, 未按 (present and did not vote), the base and the verdict."""

    for_votes: int
    against: int
    abstain: int
    not_voted: int
    base: int
    passed: bool

    @property
    def cast(self) -> int:
        return self.for_votes + self.against + self.abstain


@dataclass
class VoteRound:
    """One round of a vote (表决). A revote is a new round beside it, never a change to it.

    ``voters`` maps a deputy to the ballot key of their vote; ``named`` holds the choices
    of a named (记名) vote only. A secret (无记名) vote keeps counts apart from voters.
    """

    vote_id: int
    title: str
    round_no: int
    first_id: int  # the vote_id of round 1: the rounds of one matter share it
    item_id: int | None
    secret: bool
    threshold: Threshold
    base: VoteBase
    live: bool  # the projector shows the tally while the vote is open
    method: VoteMethod = VoteMethod.PHONES
    open: bool = True
    announced: bool = False
    voters: dict[int, str] = field(default_factory=dict)
    named: dict[int, VoteChoice] = field(default_factory=dict)
    counts: dict[VoteChoice, int] = field(default_factory=lambda: {c: 0 for c in VoteChoice})
    result: VoteResult | None = None


@dataclass(frozen=True)
class Announcement:
    """Attendance figures as announced to the hall (应到 / 实到 / 请假 / 缺席 / 中途离会)."""

    expected: int
    present: int
    leave: int
    absent: int
    quorum: bool
    left: int = 0


@dataclass
class MeetingState:
    setup: Setup
    seq: int = 0
    checkin_open: bool = False
    checkin_ended: bool = False  # opened and closed again: a late scan is told it has ended
    attendance: dict[int, Presence] = field(default_factory=dict)
    checkin_networks: dict[int, str] = field(default_factory=dict)  # deputy -> address block of a QR check-in
    checked_in_ms: dict[int, int] = field(default_factory=dict)  # deputy -> when (the phone's 已签到 time)
    present_count: int = 0
    leave_count: int = 0
    left_count: int = 0  # 中途离会: checked in earlier, out of the hall now
    # Non-voting attendees (列席, 旁听, 应询人) checked in: never in 应到, 实到 or the quorum.
    attendees_in: set[int] = field(default_factory=set)
    closed: bool = False  # 会议已结束: every command is refused from here on
    announcement: Announcement | None = None
    agenda_item_id: int | None = None
    question_id: int | None = None
    phase: Phase | None = None
    speaker_id: int | None = None
    timer: Timer = field(default_factory=Timer)
    ratings: dict[int, RatingRound] = field(default_factory=dict)
    focus: Focus = Focus.WELCOME
    votes: dict[int, VoteRound] = field(default_factory=dict)
    vote_id: int | None = None  # the vote shown now (open, or the last one closed)
    # The rating shown now when it is not the current question's: an agenda item's
    # (a report, a deputy's 述职), keyed by the item's id negated; see live.ratings.
    rating_key: int | None = None
    # The speaker queue (live.speakers): requests in the order the chair will take them,
    # how many each deputy made and gave per agenda item, who speaks now, time spoken.
    floor_queue: list[FloorRequest] = field(default_factory=list)
    floor_asked: dict[tuple[int | None, int], int] = field(default_factory=dict)
    speeches: dict[tuple[int | None, int], int] = field(default_factory=dict)
    speaking_id: int | None = None
    spoken_ms: dict[int, int] = field(default_factory=dict)
    banner: str = ""  # the chair's one-line announcement across the projector
    projector_mode: ProjectorMode = ProjectorMode.NORMAL

    @property
    def expected(self) -> int:
        """应到: the members on the meeting's day, less the suspended."""
        deputies = self.setup.deputies
        return len(deputies) - sum(1 for d in self.setup.suspended if d in deputies)

    @property
    def absent_count(self) -> int:
        return self.expected - self.present_count - self.leave_count - self.left_count

    def is_suspended(self, deputy_id: int) -> bool:
        return deputy_id in self.setup.suspended

    def is_present(self, deputy_id: int) -> bool:
        return self.attendance.get(deputy_id) is Presence.PRESENT

    def current_rating(self) -> RatingRound | None:
        key = self.rating_key if self.rating_key is not None else self.question_id
        return None if key is None else self.ratings.get(key)

    def rating_open(self) -> bool:
        r = self.current_rating()
        return r is not None and r.open

    def current_vote(self) -> VoteRound | None:
        return self.votes.get(self.vote_id) if self.vote_id is not None else None

    def queue_place(self, deputy_id: int) -> tuple[int, FloorRequest] | None:
        for place, request in enumerate(self.floor_queue, start=1):
            if request.deputy_id == deputy_id:
                return place, request
        return None

    def vote_open(self) -> bool:
        v = self.current_vote()
        return v is not None and v.open


def initial_state(setup: Setup) -> MeetingState:
    """A meeting before its first event: those whose leave was approved beforehand start
    on leave (请假) without an event; a suspended deputy is never on leave, nor expected."""
    state = MeetingState(setup=setup)
    for deputy_id in setup.on_leave:
        if deputy_id in setup.deputies and deputy_id not in setup.suspended:
            state.attendance[deputy_id] = Presence.LEAVE
            state.leave_count += 1
    return state
