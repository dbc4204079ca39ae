"""What the screens show of a vote: counts with their colours, 未按, the verdict line.

The verdict reads the way the hall expects it, e.g. "赞成 41 票，反对 2 票，弃权 3 票，
未按 1 票，通过". While a named vote is open its figures are live: 未按 is those present
who have not voted yet, and there is no verdict. While a secret vote is open no screen
gets its split, only how many have voted (``lines`` is empty): a split that moved with
each ballot would tell who chose what.
"""

from __future__ import annotations

from dataclasses import dataclass

from live.state import MeetingState, VoteChoice, VoteRound
from live.votes import result_of
from screens import messages as msg


@dataclass(frozen=True)
class VoteLine:
    key: str  # for / against / abstain / not_voted: the colour
    label: str
    count: int


@dataclass(frozen=True)
class VoteView:
    vote_id: int
    title: str
    round_no: int
    secret: bool
    method: str  # phones / paper / hands
    method_label: str
    open: bool
    announced: bool
    live: bool
    lines: tuple[VoteLine, ...]
    cast: int
    base: int
    rule: str  # e.g. "全体组成人员过半数"
    passed: bool | None  # None while open
    verdict: str  # "通过" / "未通过", "" while open

    @property
    def counts_line(self) -> str:
        return "，".join(f"{line.label} {line.count} 票" for line in self.lines)

    @property
    def announcement(self) -> str:
        return f"{self.counts_line}，{self.verdict}" if self.verdict else self.counts_line

    @property
    def round_label(self) -> str:
        return f"第 {self.round_no} 轮" if self.round_no > 1 else ""


def vote_view(state: MeetingState, vote: VoteRound) -> VoteView:
    closed = vote.result is not None
    sealed = vote.secret and not closed
    # An open secret vote: its counts are not read at all, whatever this process holds.
    counts_now = {c: 0 for c in VoteChoice} if sealed else vote.counts
    result = vote.result or result_of(state, vote.threshold, vote.base, counts_now)
    counts = {
        VoteChoice.FOR: result.for_votes,
        VoteChoice.AGAINST: result.against,
        VoteChoice.ABSTAIN: result.abstain,
    }
    cast = len(vote.voters) if not closed else result.cast
    lines: tuple[VoteLine, ...] = ()
    if not sealed:
        lines = tuple(VoteLine(c.value, msg.VOTE_CHOICES[c], counts[c]) for c in VoteChoice)
        lines += (VoteLine("not_voted", msg.NOT_VOTED, result.not_voted),)
    return VoteView(
        vote_id=vote.vote_id,
        title=vote.title,
        round_no=vote.round_no,
        secret=vote.secret,
        method=vote.method.value,
        method_label=msg.VOTE_METHODS[vote.method],
        open=vote.open,
        announced=vote.announced,
        live=vote.live,
        lines=lines,
        cast=cast,
        base=result.base,
        rule=msg.vote_base(vote.base, state.setup.settings.body_kind) + msg.THRESHOLDS[vote.threshold],
        passed=result.passed if closed else None,
        verdict=msg.VERDICTS[result.passed] if closed else "",
    )


def rounds_of(state: MeetingState, vote: VoteRound) -> list[VoteView]:
    """Every round of the same matter, oldest first: a revote stands beside the old one."""
    return [vote_view(state, v) for v in state.votes.values() if v.first_id == vote.first_id]
