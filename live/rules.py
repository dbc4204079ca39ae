"""The law's and the meeting's arithmetic: quorum and satisfaction grades.

Integer arithmetic only, so "exactly two thirds" and "exactly half" fall on the side the
law puts them (DOMAIN.md, "The bodies that meet"):

- a congress meets with two thirds or more of all deputies present (地方组织法 §14);
- a standing committee meets with more than half of all members present (§51);
- a matter passes with more than half of all members (§25 for a congress, §51 for a
  standing committee) unless the vote sets two thirds or another base.
"""

from __future__ import annotations

from live.setup import BodyKind, Denominator, Quorum, RatingRule
from live.state import Choice, PaperCount, RatingResult, Threshold, Ungraded, VoteBase


def has_quorum(kind: BodyKind | Quorum, expected: int, present: int) -> bool:
    """``kind``: the body's kind (the law's rule) or a rule of its own (Settings.quorum_rule)."""
    if expected <= 0:
        return False
    if kind in (BodyKind.CONGRESS, Quorum.TWO_THIRDS):
        return present * 3 >= expected * 2  # 三分之二以上 includes exactly two thirds
    return present * 2 > expected  # 过半数 is strictly more than half


def quorum_needed(kind: BodyKind | Quorum, expected: int) -> int:
    """The fewest present that make the quorum (需 N 人): the least n with has_quorum."""
    if kind in (BodyKind.CONGRESS, Quorum.TWO_THIRDS):
        return max(1, -(-expected * 2 // 3))
    return expected // 2 + 1


def rating_base(rule: RatingRule, members: int, present: int, cast: int) -> int:
    if rule.denominator is Denominator.MEMBERS:
        return members
    if rule.denominator is Denominator.PRESENT:
        return present
    return cast


def grade(
    question_id: int,
    counts: dict[Choice, int],
    rule: RatingRule,
    members: int,
    present: int,
    *,
    quorum: bool = True,
    paper: PaperCount | None = None,
) -> RatingResult:
    """Grade a closed rating. A share is "reached" when count / base >= share.

    A grade is given only when it tells the truth: never with no ballot at all or fewer
    than the meeting's minimum (无有效评价), never for a rating opened without a quorum
    (its counts are shown, 仅供参考). A paper count is graded by the same rule.
    """
    cast = sum(counts.values())
    base = rating_base(rule, members, present, cast)
    satisfied = counts.get(Choice.SATISFIED, 0)
    basic = counts.get(Choice.BASIC, 0)
    result_grade: Choice | None = None
    ungraded: Ungraded | None = None
    if cast == 0 or base <= 0:
        ungraded = Ungraded.NO_BALLOTS
    elif cast < rule.min_ballots:
        ungraded = Ungraded.TOO_FEW
    elif not quorum:
        ungraded = Ungraded.NO_QUORUM
    elif satisfied * rule.satisfied_share.denominator >= rule.satisfied_share.numerator * base:
        result_grade = Choice.SATISFIED
    elif (satisfied + basic) * rule.basic_share.denominator >= rule.basic_share.numerator * base:
        result_grade = Choice.BASIC
    else:
        result_grade = Choice.DISSATISFIED
    ordered = tuple((c, counts.get(c, 0)) for c in Choice)
    return RatingResult(question_id, ordered, base, result_grade, ungraded, quorum, paper)


def vote_base(base: VoteBase, members: int, present: int, cast: int) -> int:
    if base is VoteBase.MEMBERS:
        return members
    if base is VoteBase.PRESENT:
        return present
    return cast


def vote_passes(threshold: Threshold, for_votes: int, base: int) -> bool:
    """过半数 is strictly more than half; 三分之二以上 includes exactly two thirds."""
    if base <= 0:
        return False
    if threshold is Threshold.MAJORITY:
        return for_votes * 2 > base
    return for_votes * 3 >= base * 2
