"""What the screens show, computed from the state once per render pass.

Templates read these plain values and never reach into the state themselves, so
every audience sees the same figures for the same sequence number.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from live.rules import has_quorum, quorum_needed
from live.setup import AgendaItem, Attendee, AttendeeKind, Deputy, Question, RatingRule
from live.state import Choice, FloorRequest, MeetingState, PaperCount, RatingResult, Ungraded
from screens import messages as msg
from screens import operator, report_view
from screens.vote_view import VoteView, rounds_of, vote_view


@dataclass(frozen=True)
class TallyLine:
    choice: str
    label: str
    count: int
    percent: str  # "62.5%": a rate over the rule's base
    width: float  # bar width in percent of the base

    @property
    def bar(self) -> int:
        """Whole percent for the bar's CSS class; a single vote still shows."""
        return max(1, round(self.width)) if self.count else 0


@dataclass(frozen=True)
class Tally:
    """A rating as the screens show it. While it is open only ``cast`` (how many have
    rated) is known to them: ``lines`` is empty, because a split that moved with each
    ballot would tell who chose what (docs/design.md, "Secret ballots")."""

    question_id: int
    open: bool
    cast: int
    base: int
    lines: tuple[TallyLine, ...]
    grade: str | None  # the label; None while open or when nothing to grade
    grade_key: str | None
    # What stands in the grade's place when there is none (无有效评价, 不评定等次), and why.
    ungraded: str = ""
    note: str = ""
    rule: str = ""  # 以实到人数 45 为基数: always beside the grade
    paper: str = ""  # 纸质计票 · 监票人 … 计票人 …, for a paper count

    @property
    def verdict(self) -> str:
        """The grade, or what stands in its place."""
        return self.grade or self.ungraded or "无有效评价"


# A block needs this many check-ins before the others are compared with it.
HALL_MAJORITY_MIN = 3


def outside_hall(blocks: dict[int, str]) -> list[int]:
    """Deputies whose QR check-in came from outside the address block most of the hall
    used: on a televised session, someone at home may have scanned the projector."""
    counts = Counter(b for b in blocks.values() if b)
    if not counts:
        return []
    main, n = counts.most_common(1)[0]
    if n < HALL_MAJORITY_MIN:
        return []
    return sorted(d for d, b in blocks.items() if b and b != main)


_KIND_ORDER = {k: i for i, k in enumerate(AttendeeKind)}


def _attendee_order(a: Attendee) -> tuple[int, int]:
    """列席, then 旁听, then 应询人; in the order they were listed."""
    return _KIND_ORDER[a.kind], a.id


def _percent(part: int, base: int) -> str:
    if base <= 0:
        return "—"
    value = Fraction(part * 100, base)
    return f"{float(value):.1f}%"


def _paper_line(paper: PaperCount) -> str:
    if paper.kept:
        ballots = f"含电子票 {paper.kept} 张"
    elif paper.discarded:
        ballots = f"已投电子票 {paper.discarded} 张作废"
    else:
        ballots = "无电子票"
    return f"{msg.PAPER_COUNT}（{ballots}） · 监票人：{paper.scrutineers} · 计票人：{paper.counters}"


def tally_of(result: RatingResult, is_open: bool, rule: RatingRule | None = None) -> Tally:
    lines = tuple(
        TallyLine(
            choice=c.value,
            label=msg.CHOICES[c],
            count=result.count(c),
            percent=_percent(result.count(c), result.base),
            width=float(result.rate(c) * 100) if result.base else 0.0,
        )
        for c in Choice
    )
    grade_key = None if is_open or result.grade is None else result.grade.value
    label = msg.CHOICES[result.grade] if grade_key and result.grade else None
    ungraded = note = ""
    if result.ungraded is not None:
        ungraded = msg.UNGRADED[result.ungraded]
        note = msg.UNGRADED_NOTES[result.ungraded].format(
            cast=result.cast, min=rule.min_ballots if rule else 0
        )
    if not result.quorum and result.ungraded is not Ungraded.NO_QUORUM:
        note = "；".join(n for n in (note, msg.UNGRADED_NOTES[Ungraded.NO_QUORUM]) if n)
    rule_text = msg.DENOMINATOR_RULES[rule.denominator].format(base=result.base) if rule else ""
    paper = _paper_line(result.paper) if result.paper else ""
    return Tally(
        result.question_id,
        is_open,
        result.cast,
        result.base,
        lines,
        label,
        grade_key,
        ungraded,
        note,
        rule_text,
        paper,
    )


@dataclass(frozen=True)
class Timer:
    label: str
    running: bool
    deadline_ms: int
    remaining_ms: int
    duration_ms: int
    warn_ms: int
    active: bool

    @property
    def text(self) -> str:
        """Deterministic text for a render; the browser redraws it from the deadline."""
        ms = self.remaining_ms
        secs = -((-ms) // 1000) if ms > 0 else (-ms) // 1000
        sign = "+" if ms < 0 else ""
        return f"{sign}{secs // 60:02d}:{secs % 60:02d}"


class View:
    """Read-only display values of one state; built once per render pass."""

    def __init__(self, state: MeetingState) -> None:
        self.state = state
        s = state.setup
        self.seq = state.seq
        self.meeting_id = s.meeting_id
        self.title = s.title
        self.body_name = s.body_name
        self.focus = state.focus.value
        self.banner = state.banner
        self.projector_mode = state.projector_mode.value
        self.checkin_open = state.checkin_open
        self.expected = state.expected
        self.present = state.present_count
        self.leave = state.leave_count
        self.absent = state.absent_count
        self.quorum = has_quorum(s.settings.quorum_rule, state.expected, state.present_count)
        self.quorum_needed = quorum_needed(s.settings.quorum_rule, state.expected)
        self.quorum_rule = msg.MEMBERS_OF[s.settings.body_kind] + msg.QUORUM_RULES[s.settings.quorum_rule]
        self.schedule = msg.schedule_line(s.held_on, s.starts_at, s.place)
        self.left = state.left_count  # 中途离会
        self.suspended = len(s.deputies) - state.expected  # 暂停执行代表职务: not in 应到
        self.closed = state.closed
        self.rehearsal = s.rehearsal
        # Non-voting attendees by kind: (checked in, listed); never part of the figures above.
        self.attendees: list[tuple[Attendee, bool]] = [
            (a, a.id in state.attendees_in) for a in sorted(s.attendees.values(), key=_attendee_order)
        ]
        self.attendee_figures: list[tuple[str, int, int]] = [
            (msg.ATTENDEE_KINDS[k], sum(1 for a, came in self.attendees if a.kind is k and came), n)
            for k in AttendeeKind
            if (n := sum(1 for a, _ in self.attendees if a.kind is k))
        ]
        self.announcement = state.announcement
        self.hall_network_set = bool(s.settings.hall_networks)
        # Only the console shows who checked in from outside the hall, and counting every
        # check-in's network took about 0.2 ms per View of a 3,000-deputy hall: a rating
        # burst builds a View per group commit. The networks as of now, for later.
        self._networks = dict(state.checkin_networks)
        self._deputies = s.deputies
        self.agenda = s.agenda
        self.agenda_item_id = state.agenda_item_id
        item = s.agenda_item(state.agenda_item_id) if state.agenda_item_id else None
        self.agenda_title = item.title if item else ""
        self.agenda_number = s.agenda.index(item) + 1 if item else 0  # 议程 2: its place on the agenda
        self.agenda_kind = item.kind if item else ""  # what the console offers between questions
        # An agenda item being rated (a report, a 述职), shown instead of a question.
        self.rating_item = s.agenda_item(-state.rating_key) if state.rating_key is not None else None
        # The progress report the item in the hall takes, if it takes one: the item being
        # rated, else the current item (screens/report_view.py shows its figures).
        shown = self.rating_item or item
        self.report = shown.report if shown else None
        # Who reports on that item (a 述职评议's group, member or higher deputy); "" if nobody.
        self.reporter = shown.reporter if shown else ""
        self.questions = s.questions
        self.question: Question | None = s.question(state.question_id) if state.question_id else None
        self.phase = state.phase.value if state.phase else None
        self.phase_label = msg.PHASES[state.phase] if state.phase else ""
        self.speaker = s.deputies.get(state.speaker_id) if state.speaker_id else None
        self.asker = (
            s.deputies.get(self.question.asker_id) if self.question and self.question.asker_id else None
        )
        t = state.timer
        self.timer = Timer(
            label=msg.TIMER_ROLES[t.role] if t.role else "",
            running=t.running,
            deadline_ms=t.deadline_ms,
            remaining_ms=t.remaining_ms,
            duration_ms=t.duration_ms,
            warn_ms=s.settings.warn_seconds * 1000,
            active=t.role is not None,
        )
        self.speaking = s.deputies.get(state.speaking_id) if state.speaking_id else None
        self.queue = [
            (place, r, s.deputies[r.deputy_id]) for place, r in enumerate(state.floor_queue, start=1)
        ]
        self.rating_open = state.rating_open()
        vote = state.current_vote()
        self.vote = vote_view(state, vote) if vote else None
        self.vote_rounds = rounds_of(state, vote) if vote else []
        self.vote_open = state.vote_open()
        self.tally = self._current_tally()
        self.last_result = self._last_result()

    @cached_property
    def outside_hall(self) -> list[Deputy]:
        """Deputies whose QR check-in came from outside the hall's main network."""
        return [self._deputies[d] for d in outside_hall(self._networks) if d in self._deputies]

    def _current_tally(self) -> Tally | None:
        rating = self.state.current_rating()
        if rating is None:
            return None
        if rating.result is not None:
            return tally_of(rating.result, False, self.state.setup.settings.rating_rule)
        # Open: how many have rated, never how (the counts are not even read here).
        note = "" if rating.quorum else msg.UNGRADED_NOTES[Ungraded.NO_QUORUM]
        return Tally(rating.question_id, True, len(rating.voters), self.present, (), None, None, note=note)

    def _last_result(self) -> Tally | None:
        current = self.state.current_rating()
        if current is not None and current.result is not None:
            return tally_of(current.result, False, self.state.setup.settings.rating_rule)
        return None

    def rating_results(self) -> list[tuple[Question, Tally]]:
        """Every closed rating with its question, in the order of the final list."""
        out = []
        for q in self.questions:
            result = self.result_of(q.id)
            if result is not None:
                out.append((q, result))
        return out

    def spoken(self) -> list[tuple[str, str, str]]:
        """(name, group, "12分05秒") of every deputy who spoke, longest first."""
        out = []
        for deputy_id, ms in sorted(self.state.spoken_ms.items(), key=lambda kv: -kv[1]):
            d = self.state.setup.deputies.get(deputy_id)
            if d is not None:
                out.append((d.name, d.group, f"{ms // 60000}分{ms // 1000 % 60:02d}秒"))
        return out

    def item_rated(self, item_id: int) -> bool:
        return -item_id in self.state.ratings

    def item_results(self) -> list[tuple[AgendaItem, Tally]]:
        """Every closed rating of an agenda item, in agenda order."""
        out = []
        for item in self.agenda:
            result = self.result_of(-item.id)
            if result is not None:
                out.append((item, result))
        return out

    def announced_votes(self) -> list[VoteView]:
        return [vote_view(self.state, v) for v in self.state.votes.values() if v.announced]

    def question_status(self, question_id: int) -> str:
        rating = self.state.ratings.get(question_id)
        if rating is not None and rating.result is not None:
            return "done"
        if question_id == self.state.question_id:
            return "current"
        return "waiting"

    def result_of(self, question_id: int) -> Tally | None:
        rating = self.state.ratings.get(question_id)
        if rating is None or rating.result is None:
            return None
        return tally_of(rating.result, False, self.state.setup.settings.rating_rule)

    def deputy_name(self, deputy_id: int | None) -> str:
        d = self.state.setup.deputies.get(deputy_id) if deputy_id else None
        return d.name if d else ""

    @property
    def question_number(self) -> str:
        if self.question is None:
            return ""
        index = [q.id for q in self.questions].index(self.question.id) + 1
        return f"{index}/{len(self.questions)}"

    # ---- the progress report the item in the hall takes (screens/report_view.py) ----
    @property
    def report_figures(self) -> tuple[report_view.Figure, ...]:
        return report_view.main_figures(self.report) if self.report else ()

    @property
    def report_classes(self) -> tuple[report_view.Figure, ...]:
        return report_view.class_figures(self.report) if self.report else ()

    @property
    def report_extra(self) -> str:
        return report_view.extra_line(self.report) if self.report else ""

    @property
    def report_line(self) -> str:
        return report_view.line(self.report) if self.report else ""

    @property
    def report_parts(self) -> tuple[str, ...]:
        return report_view.parts(self.report) if self.report else ()

    @property
    def report_short(self) -> str:
        return report_view.short_line(self.report) if self.report else ""

    # ---- operator (issue 16): the current step, the floor, the vote form ----
    @property
    def lifted(self) -> frozenset[str]:
        return operator.lifted(self.state)

    def grant_of(self, request: FloorRequest) -> operator.Grant:
        return operator.grant_of(self.state, request)

    @property
    def floor_offer(self) -> tuple[str, ...]:
        return tuple(k.value for k in operator.floor_offer(self.state))

    @property
    def floor_later(self) -> str:
        return operator.floor_later(self.state)

    @property
    def vote_title(self) -> str:
        return operator.vote_title(self.state)
