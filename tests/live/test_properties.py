"""Random sessions: any command from any actor either works or is Refused, never anything
else, and the meeting's invariants hold after every step."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from live.commands import (
    ALLOWED_ROLES,
    Actor,
    AdjustTimer,
    AdvancePhase,
    AnnounceAttendance,
    AnnounceVote,
    CallQuestion,
    CastRating,
    CastVote,
    CheckIn,
    CheckInMethod,
    ClearAttendance,
    CloseCheckIn,
    CloseRating,
    CloseVote,
    Command,
    EndSpeech,
    GrantFloor,
    MarkLeave,
    MoveFloor,
    OpenCheckIn,
    OpenItemRating,
    OpenRating,
    OpenVote,
    PauseTimer,
    RecordCountedVote,
    RequestFloor,
    ResetTimer,
    Role,
    SetBanner,
    SetProjectorMode,
    ShowOnProjector,
    StartAgendaItem,
    StartTimer,
    WithdrawFloor,
)
from live.core import apply, apply_all, decide
from live.events import RatingCast, from_record, to_record
from live.refusals import Refused
from live.setup import BodyKind, Denominator, RatingRule
from live.state import (
    Choice,
    FloorKind,
    Focus,
    MeetingState,
    Phase,
    Presence,
    ProjectorMode,
    RatingResult,
    Threshold,
    VoteBase,
    VoteChoice,
    VoteMethod,
    VoteResult,
    initial_state,
)
from tests.live.conftest import CHAIR, ITEM_1, ITEM_2, Q1, Q2, STAFF, make_setup, snapshot

DEPUTIES = st.sampled_from([1, 2, 3, 4, 5, 6, 1, 2, 3, 99])
KEYS = st.sampled_from(["a", "b", "k", "", "x" * 65, "x" * 64])

COMMANDS: st.SearchStrategy[Command] = st.one_of(
    st.just(OpenCheckIn()),
    st.just(CloseCheckIn()),
    st.builds(CheckIn, DEPUTIES, st.sampled_from(CheckInMethod)),
    st.builds(MarkLeave, DEPUTIES),
    st.builds(ClearAttendance, DEPUTIES),
    st.just(AnnounceAttendance()),
    st.builds(StartAgendaItem, st.sampled_from([ITEM_1, ITEM_2, 13])),
    st.builds(CallQuestion, st.sampled_from([Q1, Q2, Q1, Q2, 103])),
    st.builds(AdvancePhase, st.sampled_from(Phase), st.one_of(st.none(), DEPUTIES)),
    st.builds(AdvancePhase, st.sampled_from([Phase.ANSWERING, Phase.FOLLOWUP_ASK, Phase.FOLLOWUP_REPLY])),
    st.just(OpenRating()),
    st.just(OpenItemRating()),
    st.builds(CastRating, DEPUTIES, st.sampled_from([Q1, Q2, Q1, Q2, 103]), st.sampled_from(Choice), KEYS),
    st.just(CloseRating()),
    st.just(StartTimer()),
    st.just(PauseTimer()),
    st.builds(AdjustTimer, st.sampled_from([0, 1, -1, 30, -200, 3600, 3601, -3601])),
    st.just(ResetTimer()),
    st.builds(ShowOnProjector, st.sampled_from(Focus)),
    st.builds(RequestFloor, DEPUTIES, st.sampled_from(FloorKind), st.sampled_from(["", "主题", "x" * 41])),
    st.builds(WithdrawFloor, DEPUTIES),
    st.builds(MoveFloor, DEPUTIES, st.integers(-1, 4)),
    st.builds(GrantFloor, DEPUTIES),
    st.just(EndSpeech()),
    st.builds(SetBanner, st.sampled_from(["", "静音", " 静 音 ", "x" * 61])),
    st.builds(SetProjectorMode, st.sampled_from(ProjectorMode)),
    st.builds(
        OpenVote,
        st.sampled_from(["决议", "", " ", "x" * 201]),
        st.booleans(),
        st.sampled_from(Threshold),
        st.sampled_from(VoteBase),
        st.booleans(),
        st.sampled_from([None, None, 1, 2, 9]),
    ),
    st.builds(CastVote, DEPUTIES, st.sampled_from([1, 2, 3, 9]), st.sampled_from(VoteChoice), KEYS),
    st.just(CloseVote()),
    st.just(AnnounceVote()),
    st.builds(
        RecordCountedVote,
        st.sampled_from(["决议", ""]),
        st.sampled_from(VoteMethod),
        st.integers(-1, 7),
        st.integers(0, 3),
        st.integers(0, 3),
        st.sampled_from(Threshold),
        st.sampled_from(VoteBase),
        st.sampled_from([None, 1, 2]),
    ),
)


@st.composite
def moves(draw: st.DrawFn) -> tuple[Command, Actor, int]:
    cmd = draw(COMMANDS)
    own = getattr(cmd, "deputy_id", None)
    natural = Actor(Role.DEPUTY, deputy_id=own) if Role.DEPUTY in ALLOWED_ROLES[type(cmd)] else CHAIR
    if isinstance(cmd, CheckIn) and cmd.method is CheckInMethod.STAFF:
        natural = STAFF
    other = draw(
        st.sampled_from(
            [
                CHAIR,
                STAFF,
                Actor(Role.DEPUTY, deputy_id=1),
                Actor(Role.DEPUTY, deputy_id=4),
                Actor(Role.DEPUTY),
            ]
        )
    )
    actor = natural if draw(st.integers(0, 9)) else other
    dt = draw(st.integers(0, 120_000))
    return cmd, actor, dt


SETUPS = st.builds(
    lambda kind, denominator: make_setup(body_kind=kind, rating_rule=RatingRule(denominator=denominator)),
    st.sampled_from(BodyKind),
    st.sampled_from(Denominator),
)


def guided(state: MeetingState) -> list[tuple[Command, Actor]]:
    """Commands that move the session on from where it stands, so that random runs reach
    ratings and closed results instead of being refused at the first step."""
    out: list[tuple[Command, Actor]] = [(StartTimer(), CHAIR), (PauseTimer(), CHAIR)]
    absent = [d for d in state.setup.deputies if not state.is_present(d)]
    if absent:
        out += [(OpenCheckIn(), STAFF)]
        out += [(CheckIn(d, CheckInMethod.HALL_QR), Actor(Role.DEPUTY, deputy_id=d)) for d in absent]
        out += [(CheckIn(d, CheckInMethod.STAFF), STAFF) for d in absent[:2]]
    if state.phase in (None, Phase.DONE, Phase.ANSWERING, Phase.FOLLOWUP_REPLY):
        out += [(CallQuestion(Q1), CHAIR), (CallQuestion(Q2), CHAIR)]
    if state.phase is Phase.ASKING:
        out += [(AdvancePhase(Phase.ANSWERING), CHAIR)] * 3
    if state.phase in (Phase.ANSWERING, Phase.FOLLOWUP_REPLY):
        out += [(OpenRating(), CHAIR)] * 4 + [(AdvancePhase(Phase.FOLLOWUP_ASK, 3), CHAIR)]
    if state.phase is Phase.FOLLOWUP_ASK:
        out += [(AdvancePhase(Phase.FOLLOWUP_REPLY), CHAIR)] * 3
    if state.phase is Phase.RATING and state.question_id is not None:
        for d in state.setup.deputies:
            for key in ("a", "b"):
                cmd = CastRating(d, state.question_id, Choice(list(Choice)[d % 3]), key)
                out.append((cmd, Actor(Role.DEPUTY, deputy_id=d)))
        out += [(CloseRating(), CHAIR)] * 2
    if not state.vote_open() and not state.rating_open():
        out += [(OpenVote("决议", secret=state.seq % 2 == 0), CHAIR), (OpenItemRating(), CHAIR)]
        out += [(StartAgendaItem(ITEM_1), CHAIR), (StartAgendaItem(ITEM_2), CHAIR)]
    for d in list(state.setup.deputies)[:3]:
        out.append(
            (
                RequestFloor(d, FloorKind.SPEECH if d % 2 else FloorKind.FOLLOWUP, ""),
                Actor(Role.DEPUTY, deputy_id=d),
            )
        )
    if state.floor_queue:
        out += [
            (GrantFloor(state.floor_queue[0].deputy_id), CHAIR),
            (MoveFloor(state.floor_queue[-1].deputy_id, 1), CHAIR),
        ]
    if state.speaking_id is not None:
        out += [(EndSpeech(), CHAIR)] * 3
    current = state.current_rating()
    if current is not None and current.open and current.question_id < 0:
        for d in state.setup.deputies:
            cmd_r = CastRating(d, current.question_id, Choice(list(Choice)[d % 3]), "a")
            out.append((cmd_r, Actor(Role.DEPUTY, deputy_id=d)))
        out += [(CloseRating(), CHAIR)] * 2
        if state.vote_id is not None:
            out += [(OpenVote("", revote_of=state.vote_id), CHAIR), (AnnounceVote(), CHAIR)]
    vote = state.current_vote()
    if vote is not None and vote.open:
        for d in state.setup.deputies:
            for key in ("a", "b"):
                cmd_v = CastVote(d, vote.vote_id, list(VoteChoice)[d % 3], key)
                out.append((cmd_v, Actor(Role.DEPUTY, deputy_id=d)))
        out += [(CloseVote(), CHAIR)] * 2
    # late ballots and retries for questions whose rating is closed
    for q, r in state.ratings.items():
        if not r.open:
            for d in (1, 2):
                out.append((CastRating(d, q, Choice.SATISFIED, "a"), Actor(Role.DEPUTY, deputy_id=d)))
    return out


def draw_move(data: st.DataObject, state: MeetingState) -> tuple[Command, Actor, int]:
    if data.draw(st.integers(0, 2), label="kind"):
        cmd, actor = data.draw(st.sampled_from(guided(state)), label="guided")
        dt = data.draw(st.integers(0, 120_000), label="dt")
        return cmd, actor, dt
    return data.draw(moves(), label="random")


def check_floor_invariants(s: MeetingState) -> None:
    """One request per deputy in the queue, only from deputies of the body; a speaker
    is present; speaking time only grows (checked against the previous step)."""
    queued = [r.deputy_id for r in s.floor_queue]
    assert len(queued) == len(set(queued)) and set(queued) <= set(s.setup.deputies)
    assert all(n <= s.setup.settings.floor_requests_per_item for n in s.floor_asked.values())
    assert s.speaking_id is None or s.speaking_id in s.setup.deputies
    assert all(ms >= 0 for ms in s.spoken_ms.values())


def check_vote_invariants(s: MeetingState, decided: dict[int, VoteResult]) -> None:
    """One ballot box at a time; tally equals ballots; a closed round never changes."""
    assert not (s.vote_open() and s.rating_open())
    assert [v for v, r in s.votes.items() if r.open] in ([], [s.vote_id])
    for vote_id, v in s.votes.items():
        assert v.vote_id == vote_id and v.round_no >= 1 and v.first_id <= vote_id
        assert set(v.voters) <= set(s.setup.deputies)
        assert v.open == (v.result is None)
        if v.method is VoteMethod.PHONES:
            assert sum(v.counts.values()) == len(v.voters)
        if v.secret:
            assert v.named == {}
        else:
            assert set(v.named) == set(v.voters)
        if v.result is not None:
            assert v.result.cast == sum(v.counts.values())
        if v.announced:
            assert v.result is not None
    for vote_id, result in decided.items():
        assert s.votes[vote_id].result == result
    decided.update({i: v.result for i, v in s.votes.items() if v.result is not None})


def check_invariants(s: MeetingState, closed: dict[int, RatingResult]) -> None:
    present = sum(1 for p in s.attendance.values() if p is Presence.PRESENT)
    leave = sum(1 for p in s.attendance.values() if p is Presence.LEAVE)
    assert s.present_count + s.leave_count + s.absent_count == s.expected
    assert s.present_count == present
    assert s.leave_count == leave
    assert s.absent_count >= 0
    assert set(s.attendance) <= set(s.setup.deputies)

    open_rounds = [q for q, r in s.ratings.items() if r.open]
    assert len(open_rounds) <= 1
    if open_rounds:
        current = s.current_rating()
        assert current is not None and open_rounds == [current.question_id]
        if open_rounds[0] > 0:  # a question's rating is its rating phase
            assert open_rounds == [s.question_id] and s.phase is Phase.RATING
        else:  # an agenda item's: the item in progress, no question speaking
            assert open_rounds == [-(s.agenda_item_id or 0)] and s.phase in (None, Phase.DONE)
    if s.phase is Phase.RATING:
        assert s.rating_open()
    assert (s.phase is None) == (s.question_id is None)
    if s.question_id is not None and s.phase is not Phase.DONE:
        current = s.ratings.get(s.question_id)
        assert current is None or current.result is None  # a rated question is never live again

    for q, r in s.ratings.items():
        assert r.question_id == q
        assert sum(r.counts.values()) == len(r.voters)
        assert set(r.voters) <= set(s.setup.deputies)
        assert r.open == (r.result is None)
        if r.result is not None:
            assert r.result.cast == len(r.voters)
            assert r.counts == dict(r.result.counts)
    for q, result in closed.items():
        assert s.ratings[q].result == result
        assert not s.ratings[q].open
    closed.update({q: r.result for q, r in s.ratings.items() if r.result is not None})

    if s.timer.running:
        assert s.timer.role is not None


@settings(max_examples=200, deadline=None)
@given(setup=SETUPS, data=st.data(), length=st.integers(0, 80), start=st.integers(0, 2**41))
def test_random_sessions_keep_the_invariants(
    setup: Any, data: st.DataObject, length: int, start: int
) -> None:
    state = initial_state(setup)
    shadow = initial_state(setup)
    closed: dict[int, RatingResult] = {}
    decided: dict[int, VoteResult] = {}
    now = start
    for _ in range(length):
        cmd, actor, dt = draw_move(data, state)
        now += dt
        before = snapshot(state)
        try:
            events = decide(state, cmd, actor, now)
        except Refused:
            assert state == before
            continue
        assert state == before, "decide mutated the state"
        for e in events:
            if isinstance(e, RatingCast):  # a ballot counts only for the rating it names, open now
                assert isinstance(cmd, CastRating)
                current = state.current_rating()
                assert current is not None and e.question_id == cmd.question_id == current.question_id
                assert state.rating_open()
        apply_all(state, events)
        for e in events:
            name, data_ = json.loads(json.dumps(to_record(e)))
            shadow = apply(shadow, from_record(name, data_))
        check_invariants(state, closed)
        check_vote_invariants(state, decided)
        check_floor_invariants(state)

    # the log rebuilds the meeting, except the secret counts of a rating still open
    for q, r in state.ratings.items():
        assert shadow.ratings[q].voters == r.voters
        if r.open:
            assert sum(shadow.ratings[q].counts.values()) == 0
            shadow.ratings[q].counts = dict(r.counts)
    for i, v in state.votes.items():
        assert shadow.votes[i].voters == v.voters
        if v.open and v.secret:
            assert sum(shadow.votes[i].counts.values()) == 0
            shadow.votes[i].counts = dict(v.counts)
    assert shadow == state


@settings(max_examples=100, deadline=None)
@given(data=st.data(), length=st.integers(0, 60))
def test_a_deputy_never_changes_anything_but_its_own_record(data: st.DataObject, length: int) -> None:
    """Whatever a deputy sends, only its own attendance and ballots can change."""
    state = initial_state(make_setup())
    now = 0
    for _ in range(length):
        cmd, actor, dt = draw_move(data, state)
        now += dt
        try:
            events = decide(state, cmd, actor, now)
        except Refused:
            continue
        if actor.role is Role.DEPUTY:
            assert type(cmd) in (CheckIn, CastRating, CastVote, RequestFloor, WithdrawFloor)
            for e in events:
                assert getattr(e, "deputy_id", None) == actor.deputy_id
        apply_all(state, events)
