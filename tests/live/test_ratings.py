"""The satisfaction rating of an answer (live/ratings.py)."""

from __future__ import annotations

import pytest

from live.commands import (
    AdvancePhase,
    CallQuestion,
    CastRating,
    CheckIn,
    CheckInMethod,
    ClearAttendance,
    CloseRating,
    MarkLeave,
    OpenItemRating,
    OpenRating,
    RecordPaperRating,
    StartAgendaItem,
    StartTimer,
)
from live.core import apply_all, decide
from live.events import (
    PhaseChanged,
    ProjectorFocused,
    QuestionCalled,
    RatingCast,
    RatingClosed,
    RatingOpened,
    TimerChanged,
    from_record,
    to_record,
)
from live.refusals import Refused
from live.setup import Denominator, RatingRule, TimerRole
from live.state import (
    Choice,
    Focus,
    MeetingState,
    PaperCount,
    Phase,
    RatingResult,
    RatingRound,
    Ungraded,
    VoteMethod,
)
from tests.live.conftest import (
    CHAIR,
    ITEM_1,
    ITEM_2,
    Q1,
    Q2,
    STAFF,
    UNKNOWN_DEPUTY,
    all_present,
    check_in,
    deputy,
    fresh_state,
    rate,
    rated,
    refuse,
    refused_code,
    step,
    to_phase,
    with_rule,
)

S, B, D = Choice.SATISFIED, Choice.BASIC, Choice.DISSATISFIED


def zero() -> dict[Choice, int]:
    return {S: 0, B: 0, D: 0}


@pytest.fixture
def voting(state: MeetingState) -> MeetingState:
    """Everyone present, Q1 answered and its rating open."""
    all_present(state)
    return to_phase(state, Phase.RATING)


# --- opening ---


@pytest.mark.parametrize("start", [Phase.ANSWERING, Phase.FOLLOWUP_REPLY])
def test_open_rating(state: MeetingState, start: Phase) -> None:
    all_present(state)  # with the quorum: no warning to confirm
    to_phase(state, start)
    events = step(state, OpenRating(), now=10_000)
    assert events == [
        PhaseChanged(Phase.RATING, None),
        RatingOpened(Q1),
        TimerChanged(TimerRole.RATING, 60_000, True, 70_000, 60_000),
    ]
    assert state.phase is Phase.RATING
    assert state.rating_open()
    assert state.ratings == {Q1: RatingRound(Q1, open=True, voters={}, counts=zero(), result=None)}


def test_open_without_question_refused(state: MeetingState) -> None:
    assert refused_code(state, OpenRating()) == "no_question"


@pytest.mark.parametrize("start", [Phase.ASKING, Phase.FOLLOWUP_ASK, Phase.DONE])
def test_open_too_early_or_after_done_refused(state: MeetingState, start: Phase) -> None:
    to_phase(state, start)
    err = refuse(state, OpenRating())
    assert err.code == "rating_not_yet"
    assert err.params == {"current": start}


def test_open_twice_refused(voting: MeetingState) -> None:
    assert refused_code(voting, OpenRating()) == "rating_in_progress"


# --- casting ---


def test_cast(voting: MeetingState) -> None:
    events = step(voting, CastRating(3, Q1, B, "ballot-3"), deputy(3))
    assert events == [RatingCast(Q1, 3, "ballot-3", B)]
    r = voting.ratings[Q1]
    assert r.voters == {3: "ballot-3"}
    assert r.counts == {S: 0, B: 1, D: 0}


def test_voters_hold_ballot_keys_not_choices(voting: MeetingState) -> None:
    rate(voting, 1, S, "a")
    rate(voting, 2, D, "b")
    assert voting.ratings[Q1].voters == {1: "a", 2: "b"}
    assert not set(voting.ratings[Q1].voters.values()) & set(Choice)


def test_every_present_deputy_rates_once(voting: MeetingState) -> None:
    for i, c in zip(range(1, 7), [S, S, S, B, D, D], strict=True):
        rate(voting, i, c)
    assert voting.ratings[Q1].counts == {S: 3, B: 1, D: 2}
    assert len(voting.ratings[Q1].voters) == 6


def test_retry_with_same_key_counts_once(voting: MeetingState) -> None:
    rate(voting, 2, S, "key-2")
    assert step(voting, CastRating(2, Q1, S, "key-2"), deputy(2)) == []
    assert step(voting, CastRating(2, Q1, D, "key-2"), deputy(2)) == []  # a retry never changes the choice
    assert voting.ratings[Q1].counts == {S: 1, B: 0, D: 0}
    assert voting.ratings[Q1].voters == {2: "key-2"}


def test_second_ballot_with_different_key_refused(voting: MeetingState) -> None:
    rate(voting, 2, S, "key-2")
    assert refused_code(voting, CastRating(2, Q1, D, "other"), deputy(2)) == "already_rated"
    assert refused_code(voting, CastRating(2, Q1, S, "other"), deputy(2)) == "already_rated"
    assert voting.ratings[Q1].counts == {S: 1, B: 0, D: 0}


@pytest.mark.parametrize("key", ["", "x" * 65, "x" * 200])
def test_bad_ballot_key_refused(voting: MeetingState, key: str) -> None:
    assert refused_code(voting, CastRating(2, Q1, S, key), deputy(2)) == "bad_ballot_key"


def test_longest_ballot_key_accepted(voting: MeetingState) -> None:
    assert step(voting, CastRating(2, Q1, S, "x" * 64), deputy(2)) == [RatingCast(Q1, 2, "x" * 64, S)]


def test_unknown_deputy_refused(voting: MeetingState) -> None:
    cmd = CastRating(UNKNOWN_DEPUTY, Q1, S, "k")
    assert refused_code(voting, cmd, deputy(UNKNOWN_DEPUTY)) == "unknown_deputy"


def test_rating_without_check_in_refused(state: MeetingState) -> None:
    check_in(state, 1, 2)
    to_phase(state, Phase.RATING)
    assert refused_code(state, CastRating(3, Q1, S, "k3"), deputy(3)) == "not_checked_in"


def test_deputy_on_leave_cannot_rate(state: MeetingState) -> None:
    step(state, MarkLeave(3), STAFF)
    to_phase(state, Phase.RATING)
    assert refused_code(state, CastRating(3, Q1, S, "k3"), deputy(3)) == "not_checked_in"


def test_deputy_checked_in_during_the_rating_may_rate(state: MeetingState) -> None:
    to_phase(state, Phase.RATING)
    assert refused_code(state, CastRating(3, Q1, S, "k3"), deputy(3)) == "not_checked_in"
    step(state, CheckIn(3, CheckInMethod.STAFF), STAFF)
    rate(state, 3, S)
    assert state.ratings[Q1].counts[S] == 1


def test_cleared_voter_keeps_the_one_ballot(voting: MeetingState) -> None:
    rate(voting, 4, D, "k4")
    step(voting, ClearAttendance(4), STAFF)
    assert step(voting, CastRating(4, Q1, D, "k4"), deputy(4)) == []
    assert refused_code(voting, CastRating(4, Q1, S, "new"), deputy(4)) == "already_rated"
    assert voting.ratings[Q1].counts == {S: 0, B: 0, D: 1}


@pytest.mark.parametrize("start", [None, Phase.ASKING, Phase.ANSWERING, Phase.FOLLOWUP_REPLY])
def test_cast_while_no_rating_open_refused(state: MeetingState, start: Phase | None) -> None:
    all_present(state)
    if start is not None:
        to_phase(state, start)
    assert refused_code(state, CastRating(1, Q1, S, "k1"), deputy(1)) == "rating_not_open"


def test_cast_after_close_refused(voting: MeetingState) -> None:
    step(voting, CloseRating())
    assert refused_code(voting, CastRating(1, Q1, S, "k1"), deputy(1)) == "rating_not_open"


def test_cast_checks_the_key_before_anything_else(state: MeetingState) -> None:
    assert (
        refused_code(state, CastRating(UNKNOWN_DEPUTY, Q1, S, ""), deputy(UNKNOWN_DEPUTY)) == "bad_ballot_key"
    )


def test_retry_after_close_gets_the_same_receipt(voting: MeetingState) -> None:
    rate(voting, 2, S, "key-2")  # counted; the reply to the phone is lost
    step(voting, CloseRating())
    assert step(voting, CastRating(2, Q1, S, "key-2"), deputy(2)) == []


def test_late_retry_of_an_earlier_questions_ballot_is_not_counted_on_the_next(state: MeetingState) -> None:
    all_present(state)
    to_phase(state, Phase.RATING, Q1)
    rate(state, 2, D, "phone-2-ballot")
    step(state, CloseRating())
    to_phase(state, Phase.RATING, Q2)
    try:
        events = decide(state, CastRating(2, Q1, D, "phone-2-ballot"), deputy(2), 0)
    except Refused:
        events = []
    assert not any(isinstance(e, RatingCast) for e in events)


def test_late_retry_gets_the_same_receipt_while_the_next_rating_is_open(state: MeetingState) -> None:
    all_present(state)
    to_phase(state, Phase.RATING, Q1)
    rate(state, 2, D, "phone-2-ballot")
    step(state, CloseRating())
    result = state.ratings[Q1].result
    to_phase(state, Phase.RATING, Q2)
    assert step(state, CastRating(2, Q1, D, "phone-2-ballot"), deputy(2)) == []
    assert step(state, CastRating(2, Q1, S, "phone-2-ballot"), deputy(2)) == []  # the choice never changes
    assert refused_code(state, CastRating(2, Q1, S, "another"), deputy(2)) == "already_rated"
    assert state.ratings[Q1].result == result
    assert state.ratings[Q1].voters == {2: "phone-2-ballot"}
    assert state.ratings[Q2].voters == {}
    assert state.ratings[Q2].counts == zero()
    rate(state, 2, S, "q2-ballot")  # deputy 2 still has its own ballot for Q2
    assert state.ratings[Q2].counts == {S: 1, B: 0, D: 0}


@pytest.mark.parametrize("then", [None, Phase.ASKING, Phase.ANSWERING, Phase.RATING])
def test_new_ballot_for_a_closed_rating_refused(state: MeetingState, then: Phase | None) -> None:
    """Deputy 3 never rated Q1; a ballot for Q1 with a fresh key after the close counts nowhere."""
    rated(state, {1: S, 2: S})
    if then is not None:
        to_phase(state, then, Q2)
    result = state.ratings[Q1].result
    assert refused_code(state, CastRating(3, Q1, D, "k3-late"), deputy(3)) == "rating_not_open"
    assert state.ratings[Q1].result == result
    assert state.ratings[Q1].voters == {1: "k1", 2: "k2"}
    assert state.ratings[Q1].counts == {S: 2, B: 0, D: 0}
    if then is Phase.RATING:
        assert state.ratings[Q2].voters == {}
        assert state.ratings[Q2].counts == zero()
    else:
        assert Q2 not in state.ratings


@pytest.mark.parametrize("question_id", [Q2, 103, 3])
def test_ballot_for_a_question_other_than_the_one_being_rated_refused(
    voting: MeetingState, question_id: int
) -> None:
    """Q1 is being rated; a ballot naming another question (or no question) counts nowhere."""
    cmd = CastRating(3, question_id, D, "k3")
    assert refused_code(voting, cmd, deputy(3)) == "rating_not_open"
    assert set(voting.ratings) == {Q1}
    assert voting.ratings[Q1].voters == {}
    assert voting.ratings[Q1].counts == zero()
    rate(voting, 3, B, "k3")  # the refused ballot used up nothing, not even its key
    assert voting.ratings[Q1].counts == {S: 0, B: 1, D: 0}


def test_ballot_for_a_called_but_unrated_question_refused(state: MeetingState) -> None:
    all_present(state)
    to_phase(state, Phase.ANSWERING, Q1)  # Q1 was called, then the chair moved on
    to_phase(state, Phase.RATING, Q2)
    assert refused_code(state, CastRating(3, Q1, D, "k3"), deputy(3)) == "rating_not_open"
    assert set(state.ratings) == {Q2}
    assert state.ratings[Q2].voters == {}


def test_open_rating_of_a_question_no_longer_current_takes_no_ballot(voting: MeetingState) -> None:
    """Defence in depth: decide never leaves a rating open for a question that is not the
    current one (CallQuestion is refused while a rating is open), so this state is forced
    by applying an event directly."""
    apply_all(voting, [QuestionCalled(Q2)])
    assert voting.ratings[Q1].open
    assert refused_code(voting, CastRating(3, Q1, D, "k3"), deputy(3)) == "rating_not_open"
    assert voting.ratings[Q1].voters == {}


# --- closing ---


def test_close_rating(voting: MeetingState) -> None:
    for i, c in {1: S, 2: S, 3: S, 4: B}.items():
        rate(voting, i, c)
    events = step(voting, CloseRating(), now=70_000)  # opened at 0 with 60 s: 10 s over
    assert events == [
        RatingClosed(Q1, satisfied=3, basic=1, dissatisfied=0, base=6, grade=S),
        PhaseChanged(Phase.DONE, None),
        TimerChanged(None, 0, False, 0, 0),  # the question is done: no timer is left
        ProjectorFocused(Focus.RESULT),
    ]
    assert voting.timer.role is None
    assert refused_code(voting, StartTimer(), CHAIR) == "no_timer"
    r = voting.ratings[Q1]
    assert not r.open
    assert not voting.rating_open()
    assert r.result == RatingResult(Q1, ((S, 3), (B, 1), (D, 0)), 6, S)
    assert r.counts == {S: 3, B: 1, D: 0}
    assert voting.phase is Phase.DONE
    assert voting.focus is Focus.RESULT
    assert not voting.timer.running
    assert voting.timer.left_ms(999_999) == 0


def test_close_when_nothing_open_refused(state: MeetingState) -> None:
    assert refused_code(state, CloseRating()) == "rating_not_open"
    to_phase(state, Phase.ANSWERING)
    assert refused_code(state, CloseRating()) == "rating_not_open"


def test_close_twice_refused(voting: MeetingState) -> None:
    step(voting, CloseRating())
    assert refused_code(voting, CloseRating()) == "rating_not_open"


@pytest.mark.parametrize(
    ("choices", "grade"),
    [
        ({1: S, 2: S, 3: S}, S),  # 3 of 6 members: half reached
        ({1: S, 2: S, 3: B}, B),  # satisfied 2 < 3; satisfied + basic 3 reaches half
        ({1: S, 2: S, 3: D, 4: D, 5: D, 6: D}, D),
        ({1: S, 2: B}, D),  # all who rated were content, but fewer than half of all members
        ({}, None),  # no ballot at all: 无有效评价, never a grade (issue 16)
    ],
)
def test_close_grades_by_the_default_rule(
    state: MeetingState, choices: dict[int, Choice], grade: Choice | None
) -> None:
    rated(state, choices)
    result = state.ratings[Q1].result
    assert result is not None
    assert result.grade is grade
    assert result.base == 6


def test_close_with_present_denominator_uses_presence_at_close() -> None:
    s = with_rule(6, RatingRule(Denominator.PRESENT))
    check_in(s, 1, 2, 3, 4)
    to_phase(s, Phase.RATING)
    rate(s, 1, S)
    rate(s, 2, S)
    result_events = step(s, CloseRating())
    closed = result_events[0]
    assert isinstance(closed, RatingClosed)
    assert (closed.base, closed.grade) == (4, S)


def test_close_with_cast_denominator_and_no_votes_has_no_grade() -> None:
    s = with_rule(6, RatingRule(Denominator.CAST))
    to_phase(s, Phase.DONE)
    result = s.ratings[Q1].result
    assert result is not None
    assert (result.base, result.grade, result.cast) == (0, None, 0)


def test_result_never_changes_after_close(state: MeetingState) -> None:
    rated(state, {1: S, 2: B, 3: D})
    result = state.ratings[Q1].result
    to_phase(state, Phase.RATING, Q2)
    rate(state, 4, S)
    step(state, ClearAttendance(1), STAFF)
    step(state, CloseRating())
    assert state.ratings[Q1].result == result
    assert refused_code(state, CallQuestion(Q1)) == "question_already_rated"


def test_two_questions_rated_independently(state: MeetingState) -> None:
    rated(state, {1: S, 2: S, 3: S}, Q1)
    rated(state, {1: D, 2: D, 3: B, 4: B}, Q2)
    r1, r2 = state.ratings[Q1].result, state.ratings[Q2].result
    assert r1 is not None
    assert r2 is not None
    assert (r1.grade, r2.grade) == (S, D)
    assert r2.counts == ((S, 0), (B, 2), (D, 2))
    assert state.ratings[Q2].voters == {1: "k1", 2: "k2", 3: "k3", 4: "k4"}


def test_rating_after_followups(state: MeetingState) -> None:
    all_present(state)
    to_phase(state, Phase.FOLLOWUP_REPLY)
    step(state, AdvancePhase(Phase.FOLLOWUP_ASK, speaker_id=5))
    step(state, AdvancePhase(Phase.FOLLOWUP_REPLY))
    step(state, OpenRating())
    rate(state, 5, B)
    step(state, CloseRating())
    assert state.ratings[Q1].result == RatingResult(Q1, ((S, 0), (B, 1), (D, 0)), 6, D)


def test_body_without_members_gets_no_grade() -> None:
    s = fresh_state(0)
    to_phase(s, Phase.DONE)
    result = s.ratings[Q1].result
    assert result is not None
    assert (result.base, result.grade) == (0, None)


def test_chair_close_is_not_a_deputy_command(voting: MeetingState) -> None:
    assert refused_code(voting, CloseRating(), deputy(1)) == "not_allowed"
    step(voting, CloseRating(), CHAIR)


def test_no_rating_opens_while_a_vote_is_open(state: MeetingState) -> None:
    from live.commands import OpenVote

    all_present(state)
    to_phase(state, Phase.ANSWERING)
    step(state, OpenVote("临时动议"))
    assert refused_code(state, OpenRating()) == "vote_in_progress"


# -- rating an agenda item: a report, or a deputy's 述职 ------------------------------------


def test_a_report_is_rated_with_the_same_rules(state: MeetingState) -> None:
    from live.commands import OpenItemRating, StartAgendaItem

    all_present(state)
    assert refused_code(state, OpenItemRating()) == "no_agenda_item"
    step(state, StartAgendaItem(ITEM_1))
    events = step(state, OpenItemRating())
    assert events[0] == RatingOpened(-ITEM_1)
    assert state.rating_open() and state.phase is None
    assert refused_code(state, OpenItemRating()) == "rating_in_progress"
    for d, c in ((1, Choice.SATISFIED), (2, Choice.SATISFIED), (3, Choice.SATISFIED), (4, Choice.BASIC)):
        step(state, CastRating(d, -ITEM_1, c, f"k{d}"), deputy(d))
    assert refused_code(state, CastRating(5, Q1, Choice.SATISFIED, "k5"), deputy(5)) == "rating_not_open"
    closed = step(state, CloseRating())
    assert isinstance(closed[0], RatingClosed) and closed[0].question_id == -ITEM_1
    assert closed[0].grade is Choice.SATISFIED  # 3 of 6 members reach half
    assert not any(isinstance(e, PhaseChanged) for e in closed), "no question's phase moves"
    assert refused_code(state, OpenItemRating()) == "item_already_rated"
    step(state, StartAgendaItem(ITEM_2))
    assert state.current_rating() is None


def test_no_item_rating_while_a_question_is_being_asked(state: MeetingState) -> None:
    from live.commands import OpenItemRating, StartAgendaItem

    all_present(state)
    step(state, StartAgendaItem(ITEM_2))
    to_phase(state, Phase.ANSWERING)
    assert refused_code(state, OpenItemRating()) == "question_in_progress"
    step(state, OpenRating())
    step(state, CloseRating())
    step(state, OpenItemRating())
    assert state.current_rating() is state.ratings[-ITEM_2]


# --- a grade that tells the truth (issue 16) ---


def test_a_rating_without_quorum_opens_only_past_the_warning_and_gets_no_grade(state: MeetingState) -> None:
    """应到 6 / 实到 3: two content ratings once read 测评结果：不满意 in red."""
    check_in(state, 1, 2, 3)
    to_phase(state, Phase.ANSWERING)
    refusal = refuse(state, OpenRating())
    assert (refusal.code, refusal.params) == ("rating_no_quorum", {"expected": 6, "present": 3, "needed": 4})
    events = step(state, OpenRating(without_quorum=True))
    assert RatingOpened(Q1, quorum=False) in events
    rate(state, 1, S)
    rate(state, 2, B)
    check_in(state, 4, 5)  # the quorum arrives late: the rating was opened without it
    closed = step(state, CloseRating())[0]
    assert isinstance(closed, RatingClosed)
    assert (closed.grade, closed.ungraded, closed.quorum) == (None, Ungraded.NO_QUORUM, False)
    result = state.ratings[Q1].result
    assert result is not None and (result.count(S), result.count(B), result.grade) == (1, 1, None)


def test_a_rating_with_quorum_needs_no_confirmation(state: MeetingState) -> None:
    check_in(state, 1, 2, 3, 4)
    to_phase(state, Phase.ANSWERING)
    assert RatingOpened(Q1, quorum=True) in step(state, OpenRating())


def test_an_item_rating_without_quorum_opens_only_past_the_warning(state: MeetingState) -> None:
    check_in(state, 1)
    step(state, StartAgendaItem(ITEM_1))
    assert refused_code(state, OpenItemRating()) == "rating_no_quorum"
    step(state, OpenItemRating(without_quorum=True))
    rate_item = CastRating(1, -ITEM_1, S, "k1")
    step(state, rate_item, deputy(1))
    step(state, CloseRating())
    result = state.ratings[-ITEM_1].result
    assert result is not None and (result.grade, result.ungraded) == (None, Ungraded.NO_QUORUM)


def test_no_ballots_is_no_grade_whatever_the_rule() -> None:
    for denominator in Denominator:
        state = rated(with_rule(6, RatingRule(denominator)), {})
        result = state.ratings[Q1].result
        assert result is not None and (result.grade, result.ungraded) == (None, Ungraded.NO_BALLOTS)


def test_45_present_and_30_pressing_is_graded_by_default() -> None:
    state = fresh_state(48)
    check_in(state, *range(1, 46))
    to_phase(state, Phase.RATING)
    for d in range(1, 31):
        rate(state, d, S)
    step(state, CloseRating())
    result = state.ratings[Q1].result
    assert result is not None and result.grade is S and result.ungraded is None  # 30 of 48 reach half


def test_a_minimum_of_ballots_below_which_nothing_is_graded() -> None:
    state = with_rule(48, RatingRule(Denominator.PRESENT, min_ballots=31))
    check_in(state, *range(1, 46))
    to_phase(state, Phase.RATING)
    for d in range(1, 31):
        rate(state, d, S)
    step(state, CloseRating())
    result = state.ratings[Q1].result
    assert result is not None and (result.grade, result.ungraded) == (None, Ungraded.TOO_FEW)
    assert result.count(S) == 30


# --- the paper count when the Wi-Fi fails (issue 16) ---


def paper(keep: bool, s: int = 3, b: int = 1, d: int = 0, tellers: str = "王五") -> RecordPaperRating:
    return RecordPaperRating(s, b, d, tellers, "赵六", keep_electronic=keep)


def test_paper_count_keeps_and_adds_the_electronic_ballots(voting: MeetingState) -> None:
    rate(voting, 5, S)
    rate(voting, 6, D)
    events = step(voting, paper(keep=True))  # 3 满意, 1 基本满意 on paper, from deputies 1-4
    closed = events[0]
    assert isinstance(closed, RatingClosed)
    # Totals only: 4 满意, 1 基本满意, 1 不满意; the two phones' split is not told apart.
    assert (closed.satisfied, closed.basic, closed.dissatisfied) == (4, 1, 1)
    assert (closed.method, closed.kept, closed.discarded) == (VoteMethod.PAPER, 2, 0)
    assert (closed.scrutineers, closed.counters) == ("王五", "赵六")
    assert closed.grade is S  # the same rule: 4 of 6 members reach half
    assert PhaseChanged(Phase.DONE, None) in events and ProjectorFocused(Focus.RESULT) in events
    result = voting.ratings[Q1].result
    assert result is not None and result.paper == PaperCount("王五", "赵六", 2, 0)
    assert not voting.rating_open()


def test_paper_count_may_discard_the_electronic_ballots(voting: MeetingState) -> None:
    rate(voting, 5, S)
    closed = step(voting, paper(keep=False, s=2, b=1, d=3))[0]
    assert isinstance(closed, RatingClosed)
    assert (closed.satisfied, closed.basic, closed.dissatisfied) == (2, 1, 3)
    assert (closed.kept, closed.discarded) == (0, 1)
    assert closed.grade is B  # 2 满意 < 3; 满意 + 基本满意 3 reaches half of 6


def test_paper_count_is_checked_and_refused_without_change(voting: MeetingState) -> None:
    rate(voting, 1, S)
    assert refused_code(voting, paper(keep=True, s=-1)) == "bad_rating_counts"
    refusal = refuse(voting, paper(keep=True, s=6))  # 6 on paper + 1 kept > 6 present
    assert (refusal.code, refusal.params) == ("rating_counts_exceed_present", {"present": 6, "kept": 1})
    assert refused_code(voting, paper(keep=True, tellers=" ")) == "paper_tellers_needed"
    assert refused_code(voting, paper(keep=True, tellers="甲" * 61)) == "paper_tellers_needed"
    step(voting, paper(keep=False, s=6, b=0))  # set aside, the same 6 fit
    assert refused_code(voting, paper(keep=True)) == "rating_not_open"


def test_paper_count_without_quorum_keeps_the_note(state: MeetingState) -> None:
    check_in(state, 1, 2)
    to_phase(state, Phase.ANSWERING)
    step(state, OpenRating(without_quorum=True))
    closed = step(state, paper(keep=True, s=2, b=0))[0]
    assert isinstance(closed, RatingClosed) and (closed.grade, closed.ungraded) == (None, Ungraded.NO_QUORUM)


def test_paper_count_survives_the_log(voting: MeetingState) -> None:
    """Replayed from the stored record the result is the same, tellers and all."""
    rate(voting, 2, B)
    events = step(voting, paper(keep=True))
    name, data = to_record(events[0])
    again = from_record(name, data)
    assert again == events[0]
    fresh = fresh_state()
    all_present(fresh)
    to_phase(fresh, Phase.RATING)
    apply_all(fresh, [again])
    assert fresh.ratings[Q1].result == voting.ratings[Q1].result
