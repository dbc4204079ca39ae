"""Formal votes (表决): DOMAIN.md, "Votes".

Theory of operation. The chair opens a vote (title, named or secret, threshold, base,
whether the projector shows the live tally of a named vote: a secret vote shows only how
many have voted until it closes); it belongs to the agenda item in progress.
Deputies who are checked in vote once each: 赞成, 反对 or 弃权; those present who did not
vote are counted as 未按 when the vote closes. Closing fixes the counts and the verdict;
announcing shows the verdict to the hall. Nothing ever changes a closed round: a revote
(``revote_of``) is a new round of the same matter, numbered after the last one, shown
beside the earlier rounds.

When the phones cannot be used, the chair enters the counts of a paper ballot or a show
of hands as a round of its own, closed at once and marked with its method.

No decision without a quorum: a vote taken while the meeting lacks its quorum has no
force (地方组织法 §14, §51), so no vote opens then, on the phones or counted by hand, and
there is no override; the refusal carries 应到, 实到 and how many are needed, so the
console can send the staff to the attendance (a deputy to check in by hand, one who left
part-way and is back).

One ballot box at a time: while a vote is open no rating opens, no question is called
and the agenda does not move on (and the other way round, see live.questions).
A retried ballot (same key) gets the same receipt and adds nothing; a different second
ballot is refused, as for ratings.
"""

from __future__ import annotations

from live.attendance import quorum_figures, quorum_now, refuse_suspended
from live.ballots import is_retry
from live.commands import AnnounceVote, CastVote, CloseVote, OpenVote, RecordCountedVote
from live.events import Event, ProjectorFocused, VoteAnnounced, VoteCast, VoteClosed, VoteOpened
from live.refusals import Refused
from live.rules import vote_base, vote_passes
from live.state import (
    Focus,
    MeetingState,
    Threshold,
    VoteBase,
    VoteChoice,
    VoteMethod,
    VoteResult,
    VoteRound,
)

MAX_TITLE = 200


def _no_ballot_box_open(state: MeetingState) -> None:
    if state.vote_open():
        raise Refused("vote_in_progress")
    if state.rating_open():
        raise Refused("rating_in_progress")


def _quorum_present(state: MeetingState) -> None:
    if not quorum_now(state):
        raise Refused("vote_no_quorum", **quorum_figures(state))


def _round(state: MeetingState, title: str, revote_of: int | None) -> tuple[str, int, int]:
    """(title, round_no, first_id) of a new round; a revote takes its matter's title."""
    vote_id = len(state.votes) + 1
    if revote_of is None:
        title = title.strip()
        if not title or len(title) > MAX_TITLE:
            raise Refused("bad_vote_title")
        return title, 1, vote_id
    earlier = state.votes.get(revote_of)
    if earlier is None:
        raise Refused("unknown_vote")
    if earlier.open:
        raise Refused("vote_in_progress")
    rounds = [v.round_no for v in state.votes.values() if v.first_id == earlier.first_id]
    return earlier.title, max(rounds) + 1, earlier.first_id


def _opened(
    state: MeetingState,
    title: str,
    revote_of: int | None,
    *,
    secret: bool,
    threshold: Threshold,
    base: VoteBase,
    live: bool,
    method: VoteMethod,
) -> VoteOpened:
    """The next round, numbered after its matter's earlier rounds, in the current item."""
    title, round_no, first_id = _round(state, title, revote_of)
    return VoteOpened(
        vote_id=len(state.votes) + 1,
        title=title,
        round_no=round_no,
        first_id=first_id,
        item_id=state.agenda_item_id,
        secret=secret,
        threshold=threshold,
        base=base,
        live=live,
        method=method,
    )


def decide_open(state: MeetingState, cmd: OpenVote) -> list[Event]:
    _no_ballot_box_open(state)
    _quorum_present(state)
    opened = _opened(
        state,
        cmd.title,
        cmd.revote_of,
        secret=cmd.secret,
        threshold=cmd.threshold,
        base=cmd.base,
        live=cmd.live and not cmd.secret,  # a secret vote's split is shown only once it closes
        method=VoteMethod.PHONES,
    )
    return [opened, ProjectorFocused(Focus.VOTE)]


def decide_cast(state: MeetingState, cmd: CastVote) -> list[Event]:
    vote = state.votes.get(cmd.vote_id)
    voters = vote.voters if vote else None
    if is_retry(state, cmd.deputy_id, cmd.ballot_key, voters, Refused("already_voted")):
        return []
    if vote is None or not vote.open or vote.vote_id != state.vote_id:
        raise Refused("vote_not_open")
    refuse_suspended(state, cmd.deputy_id)
    if not state.is_present(cmd.deputy_id):
        raise Refused("not_checked_in_vote")
    return [VoteCast(vote.vote_id, cmd.deputy_id, cmd.ballot_key, vote.secret, cmd.choice)]


def result_of(
    state: MeetingState, threshold: Threshold, base: VoteBase, counts: dict[VoteChoice, int]
) -> VoteResult:
    cast = sum(counts.values())
    present = state.present_count
    n = vote_base(base, state.expected, present, cast)
    for_votes = counts.get(VoteChoice.FOR, 0)
    return VoteResult(
        for_votes=for_votes,
        against=counts.get(VoteChoice.AGAINST, 0),
        abstain=counts.get(VoteChoice.ABSTAIN, 0),
        not_voted=max(0, present - cast),
        base=n,
        passed=vote_passes(threshold, for_votes, n),
    )


def _closed(vote_id: int, r: VoteResult) -> VoteClosed:
    return VoteClosed(vote_id, r.for_votes, r.against, r.abstain, r.not_voted, r.base, r.passed)


def decide_close(state: MeetingState, _: CloseVote) -> list[Event]:
    vote = state.current_vote()
    if vote is None or not vote.open:
        raise Refused("vote_not_open")
    return [_closed(vote.vote_id, result_of(state, vote.threshold, vote.base, vote.counts))]


def decide_announce(state: MeetingState, _: AnnounceVote) -> list[Event]:
    vote = state.current_vote()
    if vote is None:
        raise Refused("no_vote")
    if vote.open:
        raise Refused("vote_not_closed")
    if vote.announced:
        return []
    events: list[Event] = [VoteAnnounced(vote.vote_id)]
    if state.focus is not Focus.VOTE:
        events.append(ProjectorFocused(Focus.VOTE))
    return events


def decide_counted(state: MeetingState, cmd: RecordCountedVote) -> list[Event]:
    _no_ballot_box_open(state)
    _quorum_present(state)
    if cmd.method is VoteMethod.PHONES:
        raise Refused("bad_vote_method")
    counts = {VoteChoice.FOR: cmd.for_votes, VoteChoice.AGAINST: cmd.against, VoteChoice.ABSTAIN: cmd.abstain}
    if any(n < 0 for n in counts.values()):
        raise Refused("bad_vote_counts")
    if sum(counts.values()) > state.present_count:
        raise Refused("vote_counts_exceed_present")
    opened = _opened(
        state,
        cmd.title,
        cmd.revote_of,
        secret=True,  # a count by hand names nobody
        threshold=cmd.threshold,
        base=cmd.base,
        live=False,
        method=cmd.method,
    )
    closed = _closed(opened.vote_id, result_of(state, cmd.threshold, cmd.base, counts))
    return [opened, closed, ProjectorFocused(Focus.VOTE)]


def apply_opened(state: MeetingState, e: VoteOpened) -> MeetingState:
    state.votes[e.vote_id] = VoteRound(
        vote_id=e.vote_id,
        title=e.title,
        round_no=e.round_no,
        first_id=e.first_id,
        item_id=e.item_id,
        secret=e.secret,
        threshold=e.threshold,
        base=e.base,
        live=e.live,
        method=e.method,
    )
    state.vote_id = e.vote_id
    return state


def apply_cast(state: MeetingState, e: VoteCast) -> MeetingState:
    vote = state.votes[e.vote_id]
    vote.voters[e.deputy_id] = e.ballot_key
    if e.choice is not None:  # None when a secret vote is replayed: counts come from ballots
        vote.counts[e.choice] += 1
        if not e.secret:
            vote.named[e.deputy_id] = e.choice
    return state


def apply_closed(state: MeetingState, e: VoteClosed) -> MeetingState:
    vote = state.votes[e.vote_id]
    vote.open = False
    vote.counts = {VoteChoice.FOR: e.for_votes, VoteChoice.AGAINST: e.against, VoteChoice.ABSTAIN: e.abstain}
    vote.result = VoteResult(e.for_votes, e.against, e.abstain, e.not_voted, e.base, e.passed)
    return state


def apply_announced(state: MeetingState, e: VoteAnnounced) -> MeetingState:
    state.votes[e.vote_id].announced = True
    return state
