"""Satisfaction rating of an answer (DOMAIN.md, "Satisfaction evaluation").

The chair opens the rating after the answer (or after a follow-up reply); each deputy who
is checked in rates once; the chair closes it and the result is fixed at that moment.
A retry of the same ballot (same ballot key, after a lost reply) is answered with the
same receipt and adds nothing; a second, different ballot is refused.
"""

from __future__ import annotations

from live.attendance import refuse_suspended
from live.ballots import is_retry
from live.commands import CastRating, CloseRating, OpenItemRating, OpenRating
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
from live.state import Choice, Focus, MeetingState, Phase, RatingResult, RatingRound
from live.timers import cleared, fresh

RATING_FROM: frozenset[Phase] = frozenset({Phase.ANSWERING, Phase.FOLLOWUP_REPLY})


def decide_open(state: MeetingState, _: OpenRating, now_ms: int) -> list[Event]:
    if state.question_id is None or state.phase is None:
        raise Refused("no_question")
    if state.phase is Phase.RATING:
        raise Refused("rating_in_progress")
    if state.vote_open():
        raise Refused("vote_in_progress")
    if state.phase not in RATING_FROM:
        raise Refused("rating_not_yet", current=state.phase)
    return [
        PhaseChanged(Phase.RATING, None),
        RatingOpened(state.question_id),
        fresh(state, TimerRole.RATING, now_ms, running=True),
    ]


def item_key(item_id: int) -> int:
    """The rating key of an agenda item (see RatingRound)."""
    return -item_id


def decide_open_item(state: MeetingState, _: OpenItemRating, now_ms: int) -> list[Event]:
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
    return [
        RatingOpened(key),
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


def decide_close(state: MeetingState, _: CloseRating, now_ms: int) -> list[Event]:
    rating = state.current_rating()
    if rating is None or not rating.open:
        raise Refused("rating_not_open")
    result = grade(
        rating.question_id,
        rating.counts,
        state.setup.settings.rating_rule,
        members=state.expected,
        present=state.present_count,
    )
    closed = RatingClosed(
        question_id=rating.question_id,
        satisfied=result.count(Choice.SATISFIED),
        basic=result.count(Choice.BASIC),
        dissatisfied=result.count(Choice.DISSATISFIED),
        base=result.base,
        grade=result.grade,
    )
    done: list[Event] = [] if rating.question_id < 0 else [PhaseChanged(Phase.DONE, None)]
    return [closed, *done, cleared(), ProjectorFocused(Focus.RESULT)]


def apply_opened(state: MeetingState, e: RatingOpened) -> MeetingState:
    state.ratings[e.question_id] = RatingRound(question_id=e.question_id)
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
    rating.result = RatingResult(e.question_id, counts, e.base, e.grade)
    return state
