"""Small helpers for the pure tests of :mod:`live`.

A standard meeting: 6 deputies (ids 1..6) in 3 groups, 2 agenda items (ids 11, 12) and
2 questions (ids 101 asked by deputy 1, 102 asked by deputy 2). Ids of different kinds
never overlap, so a test catches a question id used where a deputy id belongs.

``step`` runs one command the way the server does (decide, then apply the events) and
checks on the way that ``decide`` left the state alone. ``refuse`` expects a refusal and
checks that nothing changed.
"""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import pytest

from live.attendance import quorum_now
from live.commands import (
    Actor,
    AdvancePhase,
    CallQuestion,
    CastRating,
    CheckIn,
    CheckInMethod,
    CloseRating,
    Command,
    OpenCheckIn,
    OpenRating,
    Role,
)
from live.core import apply_all, decide
from live.events import Event
from live.refusals import Refused
from live.setup import AgendaItem, BodyKind, Deputy, Question, RatingRule, Respondent, Settings, Setup
from live.state import Choice, MeetingState, Phase, initial_state

DEPUTY_IDS = (1, 2, 3, 4, 5, 6)
ITEM_1, ITEM_2 = 11, 12
Q1, Q2 = 101, 102
UNKNOWN_DEPUTY = 99

CHAIR = Actor(Role.CHAIR, user="chair")
STAFF = Actor(Role.STAFF, user="staff")


def deputy(deputy_id: int) -> Actor:
    return Actor(Role.DEPUTY, deputy_id=deputy_id)


def make_setup(n_deputies: int = 6, **settings: Any) -> Setup:
    deputies = {
        i: Deputy(id=i, name=f"代表{i}", group=f"第{(i - 1) // 2 + 1}组", card_no=f"C{i:03d}")
        for i in range(1, n_deputies + 1)
    }
    return Setup(
        meeting_id=7,
        title="问政会",
        body_name="某区人民代表大会",
        deputies=MappingProxyType(deputies),
        agenda=(
            AgendaItem(ITEM_1, 1, "政府半年工作报告", "report"),
            AgendaItem(ITEM_2, 2, "人大代表问政", "inquiry"),
        ),
        questions=(
            Question(Q1, 1, "老旧小区加装电梯进展缓慢", 1, (Respondent("张三", "副区长"),), "第1组"),
            Question(Q2, 2, "农村饮水安全", 2, (Respondent("李四", "水利局局长"),), "第1组"),
        ),
        settings=Settings(**settings),
    )


def fresh_state(n_deputies: int = 6, **settings: Any) -> MeetingState:
    return initial_state(make_setup(n_deputies, **settings))


@pytest.fixture
def state() -> MeetingState:
    return fresh_state()


def snapshot(state: MeetingState) -> MeetingState:
    """A deep copy sharing only the setup (immutable reference data)."""
    return copy.deepcopy(state, memo={id(state.setup): state.setup})


def step(state: MeetingState, cmd: Command, actor: Actor = CHAIR, now: int = 0) -> list[Event]:
    """decide (which must not touch the state), then apply the events; return them."""
    before = snapshot(state)
    events = decide(state, cmd, actor, now)
    assert state == before, "decide mutated the state"
    apply_all(state, events)
    return events


def refuse(state: MeetingState, cmd: Command, actor: Actor = CHAIR, now: int = 0) -> Refused:
    """Expect a refusal and that the state is exactly as before."""
    before = snapshot(state)
    with pytest.raises(Refused) as info:
        decide(state, cmd, actor, now)
    assert state == before, "a refused command changed the state"
    return info.value


def refused_code(state: MeetingState, cmd: Command, actor: Actor = CHAIR, now: int = 0) -> str:
    return refuse(state, cmd, actor, now).code


def check_in(state: MeetingState, *ids: int) -> None:
    for i in ids:
        step(state, CheckIn(i, CheckInMethod.STAFF), STAFF)


def all_present(state: MeetingState) -> MeetingState:
    check_in(state, *state.setup.deputies)
    return state


def to_phase(state: MeetingState, phase: Phase, question_id: int = Q1, now: int = 0) -> MeetingState:
    """Call ``question_id`` and walk it to ``phase`` by legal moves."""
    step(state, CallQuestion(question_id), now=now)
    path = {
        Phase.ASKING: [],
        Phase.ANSWERING: [Phase.ANSWERING],
        Phase.FOLLOWUP_ASK: [Phase.ANSWERING, Phase.FOLLOWUP_ASK],
        Phase.FOLLOWUP_REPLY: [Phase.ANSWERING, Phase.FOLLOWUP_ASK, Phase.FOLLOWUP_REPLY],
        Phase.RATING: [Phase.ANSWERING],
        Phase.DONE: [Phase.ANSWERING],
    }[phase]
    for p in path:
        step(state, AdvancePhase(p), now=now)
    if phase in (Phase.RATING, Phase.DONE):
        # A test of the phases needs no quorum: open past the warning when it lacks one
        # (its result then has no grade; tests of grades check everybody in first).
        step(state, OpenRating(without_quorum=not quorum_now(state)), now=now)
    if phase is Phase.DONE:
        step(state, CloseRating(), now=now)
    assert state.phase is phase
    return state


def rate(
    state: MeetingState,
    deputy_id: int,
    choice: Choice,
    key: str | None = None,
    question_id: int | None = None,
) -> list[Event]:
    """``deputy_id`` rates ``question_id``, by default the question being rated now."""
    question = state.question_id if question_id is None else question_id
    assert question is not None, "no question to rate"
    return step(state, CastRating(deputy_id, question, choice, key or f"k{deputy_id}"), deputy(deputy_id))


def rated(state: MeetingState, choices: dict[int, Choice], question_id: int = Q1) -> MeetingState:
    """All present, ``question_id`` rated by ``choices`` and closed."""
    if not state.present_count:
        all_present(state)
    to_phase(state, Phase.RATING, question_id)
    for d, c in choices.items():
        rate(state, d, c)
    step(state, CloseRating())
    return state


def open_checkin(state: MeetingState) -> None:
    step(state, OpenCheckIn(), STAFF)


def standing_committee(n: int) -> MeetingState:
    return fresh_state(n, body_kind=BodyKind.STANDING_COMMITTEE)


def with_rule(n: int, rule: RatingRule) -> MeetingState:
    return fresh_state(n, rating_rule=rule)
