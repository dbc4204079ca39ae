"""Satisfaction rating of an answer (DOMAIN.md, "Satisfaction evaluation").

The chair opens the rating after the answer (or after a follow-up reply); each deputy who
is checked in rates once; the chair closes it and the result is fixed at that moment.
A retry of the same ballot (same ballot key, after a lost reply) is answered with the
same receipt and adds nothing; a second, different ballot is refused.

A grade tells the truth (live.rules.grade): a rating opens without the quorum only when
the chair confirms past the console's warning (``without_quorum``), and its result then
shows counts and 仅供参考, never a grade. When the hall's phones cannot finish a rating,
the chair closes it with a paper count (:class:`RecordPaperRating`), graded by the same
rule; the electronic ballots already cast are added to it or set aside, in totals only.
"""

from __future__ import annotations

from live.attendance import quorum_figures, quorum_now, refuse_suspended
from live.ballots import is_retry
from live.commands import CastRating, CloseRating, OpenItemRating, OpenRating, RecordPaperRating
from live.events import (
    Event,
    PhaseChanged,
    ProjectorFocused,
    RatingCast,
    RatingClosed,
    RatingOpened,
)
from live.refusals import Refused
from live.rules import grade
from live.setup import TimerRole
from live.state import Choice, Focus, MeetingState, PaperCount, Phase, RatingResult, RatingRound, VoteMethod
from live.timers import cleared, fresh

RATING_FROM: frozenset[Phase] = frozenset({Phase.ANSWERING, Phase.FOLLOWUP_REPLY})
MAX_TELLERS = 60  # the names of the 监票人 or of the 计票人, as typed


def _quorum_or_confirmed(state: MeetingState, without_quorum: bool) -> bool:
    """Whether the quorum is present; refused without it unless the chair confirmed."""
    quorum = quorum_now(state)
    if not quorum and not without_quorum:
        raise Refused("rating_no_quorum", **quorum_figures(state))
    return quorum


def decide_open(state: MeetingState, cmd: OpenRating, now_ms: int) -> list[Event]:
    if state.question_id is None or state.phase is None:
        raise Refused("no_question")
    if state.phase is Phase.RATING:
        raise Refused("rating_in_progress")
    if state.vote_open():
        raise Refused("vote_in_progress")
    if state.phase not in RATING_FROM:
        raise Refused("rating_not_yet", current=state.phase)
    quorum = _quorum_or_confirmed(state, cmd.without_quorum)
    return [
        PhaseChanged(Phase.RATING, None),
        RatingOpened(state.question_id, quorum),
        fresh(state, TimerRole.RATING, now_ms, running=True),
    ]


def item_key(item_id: int) -> int:
    """The rating key of an agenda item (see RatingRound)."""
    return -item_id


def decide_open_item(state: MeetingState, cmd: OpenItemRating, now_ms: int) -> list[Event]:
    if state.agenda_item_id is None:
        raise Refused("no_agenda_item")
    if state.rating_open():
        raise Refused("rating_in_progress")
    if state.vote_open():
        raise Refused("vote_in_progress")
    if state.phase not in (None, Phase.DONE):
        raise Refused("question_in_progress")
    key = item_key(state.agenda_item_id)
    if key in state.ratings:
        raise Refused("item_already_rated")
    quorum = _quorum_or_confirmed(state, cmd.without_quorum)
    return [
        RatingOpened(key, quorum),
        fresh(state, TimerRole.RATING, now_ms, running=True),
        ProjectorFocused(Focus.QUESTION),
    ]


def decide_cast(state: MeetingState, cmd: CastRating) -> list[Event]:
    rating = state.ratings.get(cmd.question_id)
    voters = rating.voters if rating else None
    if is_retry(state, cmd.deputy_id, cmd.ballot_key, voters, Refused("already_rated")):
        return []
    if rating is None or not rating.open or rating is not state.current_rating():
        raise Refused("rating_not_open")
    refuse_suspended(state, cmd.deputy_id)
    if not state.is_present(cmd.deputy_id):
        raise Refused("not_checked_in")
    return [RatingCast(rating.question_id, cmd.deputy_id, cmd.ballot_key, cmd.choice)]


def _closed(state: MeetingState, rating: RatingRound, result: RatingResult) -> list[Event]:
    paper = result.paper
    closed = RatingClosed(
        question_id=rating.question_id,
        satisfied=result.count(Choice.SATISFIED),
        basic=result.count(Choice.BASIC),
        dissatisfied=result.count(Choice.DISSATISFIED),
        base=result.base,
        grade=result.grade,
        ungraded=result.ungraded,
        quorum=result.quorum,
        method=VoteMethod.PAPER if paper else VoteMethod.PHONES,
        scrutineers=paper.scrutineers if paper else "",
        counters=paper.counters if paper else "",
        kept=paper.kept if paper else 0,
        discarded=paper.discarded if paper else 0,
    )
    done: list[Event] = [] if rating.question_id < 0 else [PhaseChanged(Phase.DONE, None)]
    return [closed, *done, cleared(), ProjectorFocused(Focus.RESULT)]


def _graded(
    state: MeetingState, rating: RatingRound, counts: dict[Choice, int], paper: PaperCount | None
) -> RatingResult:
    return grade(
        rating.question_id,
        counts,
        state.setup.settings.rating_rule,
        members=state.expected,
        present=state.present_count,
        quorum=rating.quorum,
        paper=paper,
    )


def decide_close(state: MeetingState, _: CloseRating, now_ms: int) -> list[Event]:
    rating = state.current_rating()
    if rating is None or not rating.open:
        raise Refused("rating_not_open")
    return _closed(state, rating, _graded(state, rating, rating.counts, None))


def _tellers(raw: str) -> str:
    names = " ".join(raw.split())
    if not names or len(names) > MAX_TELLERS:
        raise Refused("paper_tellers_needed")
    return names


def decide_paper(state: MeetingState, cmd: RecordPaperRating, now_ms: int) -> list[Event]:
    """Close the open rating with the paper count; its electronic ballots are added to
    the totals or set aside as the chair chose, and the record says which."""
    rating = state.current_rating()
    if rating is None or not rating.open:
        raise Refused("rating_not_open")
    paper_counts = {
        Choice.SATISFIED: cmd.satisfied,
        Choice.BASIC: cmd.basic,
        Choice.DISSATISFIED: cmd.dissatisfied,
    }
    if any(n < 0 for n in paper_counts.values()):
        raise Refused("bad_rating_counts")
    electronic = len(rating.voters)
    kept = electronic if cmd.keep_electronic else 0
    if sum(paper_counts.values()) + kept > state.present_count:
        raise Refused("rating_counts_exceed_present", present=state.present_count, kept=kept)
    counts = {c: n + (rating.counts.get(c, 0) if cmd.keep_electronic else 0) for c, n in paper_counts.items()}
    paper = PaperCount(_tellers(cmd.scrutineers), _tellers(cmd.counters), kept, electronic - kept)
    return _closed(state, rating, _graded(state, rating, counts, paper))


def apply_opened(state: MeetingState, e: RatingOpened) -> MeetingState:
    state.ratings[e.question_id] = RatingRound(question_id=e.question_id, quorum=e.quorum)
    state.rating_key = e.question_id if e.question_id < 0 else None
    return state


def apply_cast(state: MeetingState, e: RatingCast) -> MeetingState:
    rating = state.ratings[e.question_id]
    rating.voters[e.deputy_id] = e.ballot_key
    if e.choice is not None:  # None when replayed from the log; counts come from ballots
        rating.counts[e.choice] += 1
    return state


def apply_closed(state: MeetingState, e: RatingClosed) -> MeetingState:
    rating = state.ratings[e.question_id]
    rating.open = False
    counts = ((Choice.SATISFIED, e.satisfied), (Choice.BASIC, e.basic), (Choice.DISSATISFIED, e.dissatisfied))
    rating.counts = dict(counts)
    paper = None
    if e.method is VoteMethod.PAPER:
        paper = PaperCount(e.scrutineers, e.counters, e.kept, e.discarded)
    rating.result = RatingResult(e.question_id, counts, e.base, e.grade, e.ungraded, e.quorum, paper)
    return state
