"""Formal votes (live/votes.py) and their arithmetic (live/rules.py), against DOMAIN.md.

"More than half" (过半数) is strictly more than half; "two thirds or more" (三分之二以上)
includes exactly two thirds; both count all members by default, not those present.
"""

from __future__ import annotations

import pytest

from live.commands import (
    AnnounceVote,
    CallQuestion,
    CastVote,
    ClearAttendance,
    CloseVote,
    OpenRating,
    OpenVote,
    RecordCountedVote,
    ShowOnProjector,
    StartAgendaItem,
)
from live.events import ProjectorFocused, VoteAnnounced, VoteCast, VoteClosed, VoteOpened
from live.rules import has_quorum, quorum_needed, vote_base, vote_passes
from live.setup import BodyKind
from live.state import Focus, MeetingState, Phase, Threshold, VoteBase, VoteChoice, VoteMethod, VoteResult
from tests.live.conftest import (
    ITEM_1,
    Q1,
    STAFF,
    UNKNOWN_DEPUTY,
    all_present,
    check_in,
    deputy,
    fresh_state,
    refuse,
    refused_code,
    step,
    to_phase,
)

FOR, AGAINST, ABSTAIN = VoteChoice.FOR, VoteChoice.AGAINST, VoteChoice.ABSTAIN


# -- the arithmetic at its boundaries -------------------------------------------------------


@pytest.mark.parametrize(
    ("for_votes", "base", "passes"),
    [(24, 48, False), (25, 48, True), (23, 47, False), (24, 47, True), (0, 0, False), (1, 1, True)],
)
def test_more_than_half_is_strictly_more(for_votes: int, base: int, passes: bool) -> None:
    assert vote_passes(Threshold.MAJORITY, for_votes, base) is passes


@pytest.mark.parametrize(
    ("for_votes", "base", "passes"),
    [(32, 48, True), (31, 48, False), (30, 45, True), (29, 45, False), (31, 47, False), (32, 47, True)],
)
def test_two_thirds_includes_exactly_two_thirds(for_votes: int, base: int, passes: bool) -> None:
    assert vote_passes(Threshold.TWO_THIRDS, for_votes, base) is passes


def test_the_base_is_a_setting() -> None:
    assert vote_base(VoteBase.MEMBERS, 48, 40, 30) == 48
    assert vote_base(VoteBase.PRESENT, 48, 40, 30) == 40
    assert vote_base(VoteBase.CAST, 48, 40, 30) == 30


# -- a vote on the phones --------------------------------------------------------------------


@pytest.fixture
def hall() -> MeetingState:
    """Six members, five present."""
    state = fresh_state()
    check_in(state, 1, 2, 3, 4, 5)
    step(state, StartAgendaItem(ITEM_1))
    return state


def cast(state: MeetingState, deputy_id: int, choice: VoteChoice, key: str | None = None) -> list[object]:
    vote_id = state.vote_id
    assert vote_id is not None
    return list(step(state, CastVote(deputy_id, vote_id, choice, key or f"k{deputy_id}"), deputy(deputy_id)))


def test_open_cast_close_announce(hall: MeetingState) -> None:
    events = step(hall, OpenVote("关于民生实事项目的决议"))
    assert events == [
        VoteOpened(
            1,
            "关于民生实事项目的决议",
            1,
            1,
            ITEM_1,
            True,
            Threshold.MAJORITY,
            VoteBase.MEMBERS,
            False,
            VoteMethod.PHONES,
        ),
        ProjectorFocused(Focus.VOTE),
    ]
    assert hall.vote_open() and hall.focus is Focus.VOTE
    for d, c in ((1, FOR), (2, FOR), (3, FOR), (4, AGAINST)):
        assert cast(hall, d, c) == [VoteCast(1, d, f"k{d}", True, c)]
    vote = hall.current_vote()
    assert vote is not None and vote.counts == {FOR: 3, AGAINST: 1, ABSTAIN: 0}
    assert vote.named == {}, "a secret vote keeps no choice by deputy"
    # Five present, four voted: one 未按. Four 赞成 of six members passes.
    assert step(hall, CloseVote()) == [VoteClosed(1, 3, 1, 0, 1, 6, False)]
    assert vote.result == VoteResult(3, 1, 0, 1, 6, False) and not vote.open
    assert step(hall, AnnounceVote()) == [VoteAnnounced(1)]
    assert vote.announced
    assert step(hall, AnnounceVote()) == [], "announcing twice changes nothing"


def test_exactly_half_of_all_members_does_not_pass(hall: MeetingState) -> None:
    step(hall, OpenVote("决议"))
    for d in (1, 2, 3):
        cast(hall, d, FOR)
    step(hall, CloseVote())
    vote = hall.current_vote()
    assert vote is not None and vote.result is not None
    assert (vote.result.for_votes, vote.result.base, vote.result.passed) == (3, 6, False)


def test_more_than_half_of_those_present_passes_when_the_base_says_so(hall: MeetingState) -> None:
    step(hall, OpenVote("决议", base=VoteBase.PRESENT))
    for d in (1, 2, 3):
        cast(hall, d, FOR)
    step(hall, CloseVote())
    vote = hall.current_vote()
    assert vote is not None and vote.result is not None
    assert (vote.result.base, vote.result.passed) == (5, True)


def test_two_thirds_of_all_members(hall: MeetingState) -> None:
    step(hall, OpenVote("修改章程", threshold=Threshold.TWO_THIRDS))
    for d in (1, 2, 3, 4):
        cast(hall, d, FOR)
    step(hall, CloseVote())
    vote = hall.current_vote()
    assert vote is not None and vote.result is not None and vote.result.passed  # 4 of 6 is two thirds


def test_a_named_vote_records_who_chose_what(hall: MeetingState) -> None:
    step(hall, OpenVote("人事任免", secret=False))
    cast(hall, 1, FOR)
    cast(hall, 2, ABSTAIN)
    vote = hall.current_vote()
    assert vote is not None and vote.named == {1: FOR, 2: ABSTAIN}


def test_ballots_once_each_and_retries_are_harmless(hall: MeetingState) -> None:
    step(hall, OpenVote("决议"))
    cast(hall, 1, FOR, "same")
    assert cast(hall, 1, FOR, "same") == [], "a retry after a lost reply adds nothing"
    assert refused_code(hall, CastVote(1, 1, AGAINST, "other"), deputy(1)) == "already_voted"
    assert refused_code(hall, CastVote(6, 1, FOR, "k6"), deputy(6)) == "not_checked_in_vote"
    assert refused_code(hall, CastVote(2, 1, FOR, ""), deputy(2)) == "bad_ballot_key"
    assert refused_code(hall, CastVote(2, 1, FOR, "x" * 65), deputy(2)) == "bad_ballot_key"
    assert (
        refused_code(hall, CastVote(UNKNOWN_DEPUTY, 1, FOR, "k"), deputy(UNKNOWN_DEPUTY)) == "unknown_deputy"
    )
    assert refused_code(hall, CastVote(2, 7, FOR, "k2"), deputy(2)) == "vote_not_open"
    assert refused_code(hall, CastVote(2, 1, FOR, "k2"), deputy(3)) == "not_allowed"
    step(hall, CloseVote())
    assert cast(hall, 1, FOR, "same") == [], "the receipt holds after the close"
    assert refused_code(hall, CastVote(2, 1, FOR, "k2"), deputy(2)) == "vote_not_open"
    vote = hall.current_vote()
    assert vote is not None and vote.result is not None and vote.result.for_votes == 1


def test_one_ballot_box_at_a_time(hall: MeetingState) -> None:
    step(hall, OpenVote("决议"))
    assert refused_code(hall, OpenVote("另一项")) == "vote_in_progress"
    assert refused_code(hall, RecordCountedVote("另一项", VoteMethod.HANDS, 1, 0, 0)) == "vote_in_progress"
    assert refused_code(hall, CallQuestion(Q1)) == "vote_in_progress"
    assert refused_code(hall, StartAgendaItem(12)) == "vote_in_progress"
    assert refused_code(hall, AnnounceVote()) == "vote_not_closed"
    step(hall, CloseVote())
    assert refused_code(hall, CloseVote()) == "vote_not_open"

    rating = all_present(fresh_state())
    to_phase(rating, Phase.ANSWERING)
    step(rating, OpenRating())
    assert refused_code(rating, OpenVote("决议")) == "rating_in_progress"


def test_no_rating_while_a_vote_is_open() -> None:
    state = all_present(fresh_state())
    to_phase(state, Phase.ANSWERING)
    step(state, OpenVote("临时动议"))
    assert refused_code(state, OpenRating()) == "vote_in_progress"


def test_a_revote_is_a_new_round_and_the_old_result_stands(hall: MeetingState) -> None:
    step(hall, OpenVote("决议"))
    cast(hall, 1, FOR)
    assert refused_code(hall, OpenVote("", revote_of=1)) == "vote_in_progress"
    step(hall, CloseVote())
    step(hall, AnnounceVote())
    first = hall.votes[1].result
    events = step(hall, OpenVote("", revote_of=1))
    opened = events[0]
    assert isinstance(opened, VoteOpened)
    assert (opened.vote_id, opened.title, opened.round_no, opened.first_id) == (2, "决议", 2, 1)
    for d in (1, 2, 3, 4):
        cast(hall, d, FOR)
    step(hall, CloseVote())
    assert hall.votes[1].result == first, "an announced result never changes"
    assert hall.votes[2].result is not None and hall.votes[2].result.passed
    third = step(hall, RecordCountedVote("", VoteMethod.PAPER, 2, 2, 1, revote_of=2))[0]
    assert isinstance(third, VoteOpened) and (third.round_no, third.first_id) == (3, 1)
    assert refused_code(hall, OpenVote("", revote_of=9)) == "unknown_vote"


def test_a_count_by_hand_is_a_closed_round_marked_with_its_method(hall: MeetingState) -> None:
    events = step(hall, RecordCountedVote("决议", VoteMethod.HANDS, 4, 0, 1))
    assert events[1] == VoteClosed(1, 4, 0, 1, 0, 6, True)
    vote = hall.votes[1]
    assert vote.method is VoteMethod.HANDS and not vote.open and vote.secret
    assert (
        refused_code(hall, RecordCountedVote("决议", VoteMethod.PAPER, 4, 1, 1))
        == "vote_counts_exceed_present"
    )
    assert refused_code(hall, RecordCountedVote("决议", VoteMethod.PAPER, -1, 0, 0)) == "bad_vote_counts"
    assert refused_code(hall, RecordCountedVote("决议", VoteMethod.PHONES, 1, 0, 0)) == "bad_vote_method"
    assert refused_code(hall, RecordCountedVote(" ", VoteMethod.PAPER, 1, 0, 0)) == "bad_vote_title"
    assert refused_code(hall, OpenVote("x" * 201)) == "bad_vote_title"


def test_the_projector_shows_a_vote_only_when_there_is_one(hall: MeetingState) -> None:
    assert refused_code(hall, ShowOnProjector(Focus.VOTE)) == "no_vote"
    assert refused_code(hall, AnnounceVote()) == "no_vote"
    step(hall, OpenVote("决议"))
    step(hall, ShowOnProjector(Focus.WELCOME))
    step(hall, CloseVote())
    assert step(hall, AnnounceVote()) == [VoteAnnounced(1), ProjectorFocused(Focus.VOTE)]


# -- no decision without a quorum (issue 16) -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected", "needed"),
    [
        (BodyKind.CONGRESS, 48, 32),  # 三分之二以上: exactly two thirds is enough
        (BodyKind.CONGRESS, 47, 32),
        (BodyKind.CONGRESS, 45, 30),
        (BodyKind.STANDING_COMMITTEE, 48, 25),  # 过半数: strictly more than half
        (BodyKind.STANDING_COMMITTEE, 47, 24),
    ],
)
def test_quorum_needed_is_the_least_that_makes_the_quorum(kind: BodyKind, expected: int, needed: int) -> None:
    assert quorum_needed(kind, expected) == needed
    assert has_quorum(kind, expected, needed) and not has_quorum(kind, expected, needed - 1)


def test_no_vote_opens_without_the_quorum_and_there_is_no_override() -> None:
    """应到 6 / 实到 3: a congress needs 4. No vote, on the phones or counted by hand; the
    refusal carries the figures the console shows."""
    state = fresh_state(6)
    check_in(state, 1, 2, 3)
    refusal = refuse(state, OpenVote("决议草案"))
    assert (refusal.code, refusal.params) == ("vote_no_quorum", {"expected": 6, "present": 3, "needed": 4})
    for method in (VoteMethod.PAPER, VoteMethod.HANDS):
        assert refused_code(state, RecordCountedVote("决议草案", method, 3, 0, 0)) == "vote_no_quorum"
    check_in(state, 4)
    step(state, OpenVote("决议草案"))
    assert state.vote_open()


def test_a_revote_needs_the_quorum_too() -> None:
    state = fresh_state(6, body_kind=BodyKind.STANDING_COMMITTEE)
    check_in(state, 1, 2, 3, 4)  # more than half of 6
    step(state, OpenVote("决议草案"))
    step(state, CloseVote())
    step(state, ClearAttendance(4), STAFF)  # a staff correction: 3 of 6 is not more than half
    refusal = refuse(state, OpenVote("", revote_of=1))
    assert (refusal.code, refusal.params["needed"]) == ("vote_no_quorum", 4)
