"""What a meeting is before anything happens in it: roster, agenda, questions, rules.

This is reference data prepared by the congress office (issue 4 edits it); events never
change it. It is loaded once when a meeting is opened and shared by every projection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType


class BodyKind(StrEnum):
    """Which kind of body meets decides the quorum rule (地方组织法 §14, §51)."""

    CONGRESS = "congress"  # 人民代表大会: two thirds or more present
    STANDING_COMMITTEE = "standing_committee"  # 常委会: more than half present


class Quorum(StrEnum):
    """How many members must be present for the body to meet (DOMAIN.md)."""

    TWO_THIRDS = "two_thirds"  # 三分之二以上 (地方组织法 §14): a congress's
    MORE_THAN_HALF = "more_than_half"  # 过半数 (§51): a standing committee's


class Denominator(StrEnum):
    """What a satisfaction rate is measured against."""

    MEMBERS = "members"  # all deputies of the body (应到)
    PRESENT = "present"  # deputies checked in (实到)
    CAST = "cast"  # ratings actually cast


class TimerRole(StrEnum):
    """Whose speaking time a timer measures; defaults are set per meeting."""

    ASKING = "asking"
    ANSWERING = "answering"
    FOLLOWUP_ASK = "followup_ask"
    FOLLOWUP_REPLY = "followup_reply"
    RATING = "rating"
    SPEECH_FIRST = "speech_first"  # a deputy's first speech on an agenda item
    SPEECH_SECOND = "speech_second"  # and any later one (全国人大议事规则 §57: 10 and 5 minutes)


@dataclass(frozen=True)
class RatingRule:
    """How an answer is graded.

    The default is the published district rule in DOMAIN.md: 满意 when 满意 votes reach
    half of all members, else 基本满意 when 满意 + 基本满意 reach half, else 不满意.
    "Reach" includes equality. ``min_ballots`` (0: off) is the fewest ballots that make a
    grade; below it the result reads 无有效评价.
    """

    denominator: Denominator = Denominator.MEMBERS
    satisfied_share: Fraction = Fraction(1, 2)
    basic_share: Fraction = Fraction(1, 2)
    min_ballots: int = 0


DEFAULT_TIMER_SECONDS: Mapping[TimerRole, int] = MappingProxyType(
    {
        TimerRole.ASKING: 180,
        TimerRole.ANSWERING: 300,
        TimerRole.FOLLOWUP_ASK: 60,
        TimerRole.FOLLOWUP_REPLY: 120,
        TimerRole.RATING: 60,
        TimerRole.SPEECH_FIRST: 600,
        TimerRole.SPEECH_SECOND: 300,
    }
)


@dataclass(frozen=True)
class Settings:
    """Per-meeting rules; every one of them is a setting, not a constant."""

    body_kind: BodyKind = BodyKind.CONGRESS
    rating_rule: RatingRule = field(default_factory=RatingRule)
    timer_seconds: Mapping[TimerRole, int] = field(default_factory=lambda: DEFAULT_TIMER_SECONDS)
    warn_seconds: int = 30
    floor_requests_per_item: int = 2  # how often one deputy may ask for the floor per item
    # The hall's network (address ranges such as "192.168.10.0/24"): when set, check-in
    # and typing a card's code from any other address are refused (server/base/presence.py).
    hall_networks: tuple[str, ...] = ()
    # Once a phone opened a valid hall code it may finish binding and check-in this long,
    # whatever the projector shows by then (server/web/routes/deputy.py, the grant).
    checkin_grace_minutes: int = 5
    # The body's own quorum rule where it sets one (server/office/body_rules.py); unset: the
    # law's rule for ``body_kind``.
    quorum: Quorum | None = None
    # The chair's script (主持词): the wording of the steps staff changed, by step key
    # (screens/script.py); a step not here reads its default.
    script: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def quorum_rule(self) -> Quorum:
        if self.quorum is not None:
            return self.quorum
        return Quorum.TWO_THIRDS if self.body_kind is BodyKind.CONGRESS else Quorum.MORE_THAN_HALF


@dataclass(frozen=True)
class Deputy:
    id: int
    name: str
    group: str
    card_no: str


@dataclass(frozen=True)
class Respondent:
    """The official who answers (应询人)."""

    name: str
    title: str


@dataclass(frozen=True)
class Question:
    id: int
    position: int
    title: str
    asker_id: int | None
    respondents: tuple[Respondent, ...]
    group: str = ""


class AttendeeKind(StrEnum):
    """Who attends without a vote: never in 应到 or the quorum, never rates or votes."""

    OBSERVER = "observer"  # 列席人员
    CITIZEN = "citizen"  # 旁听
    RESPONDENT = "respondent"  # 应询人


@dataclass(frozen=True)
class Attendee:
    id: int
    name: str
    kind: AttendeeKind
    organisation: str = ""


@dataclass(frozen=True)
class ReportSummary:
    """The figures of a follow-up progress report (督办进展报告) an agenda item takes, as
    the report stated them when it was generated (``followup_reports.counts``): the hall
    hears the same numbers the printed report gives. ``open`` is every item not closed;
    ``class_a`` … ``class_c`` count items by their last reply's class."""

    title: str
    total: int = 0
    closed: int = 0
    open: int = 0
    overdue: int = 0
    class_a: int = 0
    class_b: int = 0
    class_c: int = 0
    redo: int = 0  # sent back for 重新办理
    objected: int = 0  # a deputy said 不同意办结 on the current reply


@dataclass(frozen=True)
class AgendaItem:
    id: int
    position: int
    title: str
    kind: str
    # The progress report this item takes (the next session hears and rates it); None
    # for every other item.
    report: ReportSummary | None = None
    # Who reports on it (a 述职评议's group, member or higher deputy), as the hall names
    # them (screens/messages.py reporter_label); "" when nobody is named.
    reporter: str = ""


@dataclass(frozen=True)
class Setup:
    """Everything fixed about a meeting while it runs."""

    meeting_id: int
    title: str
    body_name: str
    deputies: Mapping[int, Deputy]
    agenda: tuple[AgendaItem, ...]
    questions: tuple[Question, ...]
    settings: Settings = field(default_factory=Settings)
    # ``deputies`` holds the members on the meeting's day (their mandates cover it); of
    # them, the suspended are not expected (应到) and may not check in, rate or vote, and
    # those whose leave was approved beforehand start the meeting on leave.
    suspended: frozenset[int] = frozenset()
    on_leave: frozenset[int] = frozenset()
    attendees: Mapping[int, Attendee] = field(default_factory=lambda: MappingProxyType({}))
    rehearsal: bool = False  # 彩排: every screen says so
    held_on: str = ""  # "2026-07-15"
    starts_at: str = ""  # "14:30"
    place: str = ""

    def question(self, question_id: int) -> Question | None:
        for q in self.questions:
            if q.id == question_id:
                return q
        return None

    def agenda_item(self, item_id: int) -> AgendaItem | None:
        for item in self.agenda:
            if item.id == item_id:
                return item
        return None
