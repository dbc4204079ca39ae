"""Quorum and grading arithmetic (live/rules.py) at the boundaries the law sets."""

from __future__ import annotations

from fractions import Fraction

import pytest

from live.rules import grade, has_quorum, rating_base
from live.setup import BodyKind, Denominator, RatingRule
from live.state import Choice, RatingResult

CONGRESS = BodyKind.CONGRESS
SC = BodyKind.STANDING_COMMITTEE
S, B, D = Choice.SATISFIED, Choice.BASIC, Choice.DISSATISFIED


# --- quorum: congress, two thirds or more (三分之二以上 includes exactly two thirds) ---


@pytest.mark.parametrize(
    ("expected", "least"),
    [(48, 32), (49, 33), (50, 34), (3, 2), (6, 4), (1, 1), (2, 2), (300, 200), (2900, 1934)],
)
def test_congress_quorum_boundary(expected: int, least: int) -> None:
    assert has_quorum(CONGRESS, expected, least)
    assert not has_quorum(CONGRESS, expected, least - 1)
    assert has_quorum(CONGRESS, expected, expected)


def test_congress_exactly_two_thirds_is_a_quorum() -> None:
    assert has_quorum(CONGRESS, 48, 32)  # 32 / 48 == 2 / 3 exactly
    assert not has_quorum(CONGRESS, 48, 31)


def test_congress_49_needs_33() -> None:
    assert has_quorum(CONGRESS, 49, 33)  # 99 >= 98
    assert not has_quorum(CONGRESS, 49, 32)  # 96 < 98


# --- quorum: standing committee, more than half (过半数 is strict) ---


@pytest.mark.parametrize(
    ("expected", "least"),
    [(30, 16), (29, 15), (45, 23), (2, 2), (1, 1), (61, 31), (6, 4)],
)
def test_standing_committee_quorum_boundary(expected: int, least: int) -> None:
    assert has_quorum(SC, expected, least)
    assert not has_quorum(SC, expected, least - 1)


def test_standing_committee_exactly_half_is_not_a_quorum() -> None:
    assert not has_quorum(SC, 30, 15)
    assert has_quorum(SC, 30, 16)


@pytest.mark.parametrize("kind", list(BodyKind))
def test_no_members_no_quorum(kind: BodyKind) -> None:
    assert not has_quorum(kind, 0, 0)
    assert not has_quorum(kind, 0, 5)


@pytest.mark.parametrize("kind", list(BodyKind))
def test_nobody_present_is_never_a_quorum(kind: BodyKind) -> None:
    for expected in range(1, 60):
        assert not has_quorum(kind, expected, 0)


def test_quorum_matches_exact_fractions_for_all_small_bodies() -> None:
    for expected in range(1, 200):
        for present in range(expected + 1):
            assert has_quorum(CONGRESS, expected, present) == (Fraction(present, expected) >= Fraction(2, 3))
            assert has_quorum(SC, expected, present) == (Fraction(present, expected) > Fraction(1, 2))


# --- rating base ---


def test_rating_base_per_denominator() -> None:
    assert rating_base(RatingRule(Denominator.MEMBERS), members=48, present=40, cast=30) == 48
    assert rating_base(RatingRule(Denominator.PRESENT), members=48, present=40, cast=30) == 40
    assert rating_base(RatingRule(Denominator.CAST), members=48, present=40, cast=30) == 30


def test_default_rule_is_the_district_rule() -> None:
    rule = RatingRule()
    assert rule.denominator is Denominator.MEMBERS
    assert rule.satisfied_share == Fraction(1, 2)
    assert rule.basic_share == Fraction(1, 2)


# --- grading, default rule: half of all members, reached inclusive ---


def counts(s: int = 0, b: int = 0, d: int = 0) -> dict[Choice, int]:
    return {S: s, B: b, D: d}


def g(
    c: dict[Choice, int], rule: RatingRule | None = None, members: int = 48, present: int = 48
) -> RatingResult:
    return grade(1, c, rule or RatingRule(), members, present)


def test_default_satisfied_at_exactly_half_of_members() -> None:
    assert g(counts(24, 0, 0), members=48).grade is S
    assert g(counts(23, 20, 0), members=48).grade is B
    assert g(counts(23, 0, 20), members=48).grade is D


def test_default_odd_membership_needs_more_than_floor_half() -> None:
    assert g(counts(25), members=49).grade is S  # 25/49 >= 1/2
    assert g(counts(24, 0, 25), members=49).grade is D  # 24/49 < 1/2, 24/49 < 1/2
    assert g(counts(24, 1, 24), members=49).grade is B  # 25/49 >= 1/2


def test_default_basic_counts_satisfied_plus_basic() -> None:
    assert g(counts(10, 14), members=48).grade is B  # 24 reaches half
    assert g(counts(10, 13, 25), members=48).grade is D  # 23 does not
    assert g(counts(0, 24), members=48).grade is B


def test_default_denominator_is_members_not_cast() -> None:
    # Everyone who rated was satisfied, but they are fewer than half of all members.
    assert g(counts(20), members=48, present=40).grade is D


def test_grade_result_fields() -> None:
    r = grade(101, counts(3, 2, 1), RatingRule(), members=10, present=8)
    assert r.question_id == 101
    assert r.counts == ((S, 3), (B, 2), (D, 1))
    assert r.base == 10
    assert r.cast == 6
    assert r.count(B) == 2
    assert r.rate(S) == Fraction(3, 10)
    assert r.grade is B  # 5 / 10 reaches half


def test_grade_fills_missing_choices_with_zero_in_fixed_order() -> None:
    r = grade(1, {D: 2}, RatingRule(Denominator.CAST), members=10, present=10)
    assert r.counts == ((S, 0), (B, 0), (D, 2))
    assert r.grade is D


# --- grading, other denominators ---


def test_denominator_present() -> None:
    rule = RatingRule(Denominator.PRESENT)
    assert g(counts(20, 0, 0), rule, members=48, present=40).grade is S  # 20/40
    assert g(counts(19, 0, 21), rule, members=48, present=40).grade is D
    assert g(counts(19, 1, 0), rule, members=48, present=40).grade is B
    assert g(counts(20), rule, members=48, present=40).base == 40


def test_denominator_cast() -> None:
    rule = RatingRule(Denominator.CAST)
    assert g(counts(5, 3, 2), rule).grade is S  # 5 / 10
    assert g(counts(4, 1, 5), rule).grade is B  # 5 / 10
    assert g(counts(4, 0, 6), rule).grade is D
    assert g(counts(1), rule, members=48).grade is S  # one voter, all satisfied
    assert g(counts(4, 0, 6), rule).base == 10


@pytest.mark.parametrize(
    ("rule", "members", "present"),
    [
        (RatingRule(Denominator.MEMBERS), 0, 0),
        (RatingRule(Denominator.PRESENT), 48, 0),
        (RatingRule(Denominator.CAST), 48, 40),
    ],
)
def test_base_zero_gives_no_grade(rule: RatingRule, members: int, present: int) -> None:
    r = g(counts(), rule, members=members, present=present)
    assert r.base == 0
    assert r.grade is None
    assert r.rate(S) == 0


# --- custom thresholds ---


def test_two_thirds_satisfied_share() -> None:
    rule = RatingRule(Denominator.MEMBERS, satisfied_share=Fraction(2, 3))
    assert g(counts(6), rule, members=9).grade is S  # exactly two thirds
    assert g(counts(5, 0, 4), rule, members=9).grade is B  # 5/9 >= 1/2 for basic
    assert g(counts(4, 0, 5), rule, members=9).grade is D


def test_custom_basic_share() -> None:
    rule = RatingRule(Denominator.CAST, satisfied_share=Fraction(2, 3), basic_share=Fraction(3, 4))
    assert g(counts(2, 1, 1), rule).grade is B  # S 2/4 < 2/3; S+B 3/4 reaches 3/4
    assert g(counts(2, 0, 2), rule).grade is D  # 2/4 < 3/4
    assert g(counts(8, 3, 1), rule).grade is S  # 8/12 == 2/3


def test_share_of_one_needs_everybody() -> None:
    rule = RatingRule(Denominator.CAST, satisfied_share=Fraction(1), basic_share=Fraction(1))
    assert g(counts(10), rule).grade is S
    assert g(counts(9, 1), rule).grade is B
    assert g(counts(9, 0, 1), rule).grade is D


def test_grade_matches_exact_fractions() -> None:
    shares = [Fraction(1, 2), Fraction(2, 3), Fraction(3, 5)]
    for ss in shares:
        for bs in shares:
            rule = RatingRule(Denominator.MEMBERS, ss, bs)
            for s in range(0, 8):
                for b in range(0, 8 - s):
                    members = 7
                    r = g(counts(s, b, 7 - s - b), rule, members=members)
                    if Fraction(s, members) >= ss:
                        assert r.grade is S
                    elif Fraction(s + b, members) >= bs:
                        assert r.grade is B
                    else:
                        assert r.grade is D
