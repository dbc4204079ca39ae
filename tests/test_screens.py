"""Fragments rendered straight from states: what each audience may and may not see."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from live.commands import (
    Actor,
    AdvancePhase,
    CallQuestion,
    CastRating,
    CheckIn,
    CheckInMethod,
    OpenCheckIn,
    OpenRating,
    Role,
)
from live.core import apply_all, decide
from live.setup import AgendaItem, Deputy, Question, Respondent, Settings, Setup
from live.state import Choice, MeetingState, Phase, initial_state
from screens import render
from screens.audiences import deputy_variant
from screens.view import View

CHAIR = Actor(Role.CHAIR, user="chair")


def _state(live_tally: bool) -> MeetingState:
    deputies = {i: Deputy(i, f"代表{i}", "一组", f"{100 + i}") for i in range(1, 5)}
    setup = Setup(
        meeting_id=1,
        title="问政会",
        body_name="某镇人民代表大会",
        deputies=MappingProxyType(deputies),
        agenda=(AgendaItem(1, 1, "人大代表问政会", "inquiry"),),
        questions=(Question(7, 1, "农贸市场何时建成？", 1, (Respondent("钱明", "副镇长"),)),),
        settings=dataclasses.replace(Settings(), projector_live_tally=live_tally),
    )
    state = initial_state(setup)
    steps = [
        (OpenCheckIn(), CHAIR),
        *[(CheckIn(i, CheckInMethod.HALL_QR), Actor(Role.DEPUTY, i)) for i in (1, 2, 3)],
        (CallQuestion(7), CHAIR),
        (AdvancePhase(Phase.ANSWERING), CHAIR),
        (OpenRating(), CHAIR),
        (CastRating(1, 7, Choice.SATISFIED, "a"), Actor(Role.DEPUTY, 1)),
        (CastRating(2, 7, Choice.DISSATISFIED, "b"), Actor(Role.DEPUTY, 2)),
    ]
    for command, actor in steps:
        apply_all(state, decide(state, command, actor, 1_000))
    return state


def test_projector_shows_the_live_split_only_when_the_meeting_says_so() -> None:
    live = render.fragment("p-tally", View(_state(live_tally=True)), oob=True)
    assert "bar-satisfied" in live and "1 票" in live and "已评 2 人" in live
    hidden = render.fragment("p-tally", View(_state(live_tally=False)), oob=True)
    assert "bar-satisfied" not in hidden and "票" not in hidden
    assert "已评 <b>2</b> 人" in hidden  # how many have rated, never how


def test_console_always_sees_the_live_split() -> None:
    html = render.fragment("c-tally", View(_state(live_tally=False)), oob=True)
    assert 'data-choice="satisfied">1<' in html and 'data-choice="dissatisfied">1<' in html


def test_a_deputy_sees_that_they_rated_but_not_what() -> None:
    state = _state(live_tally=False)
    assert deputy_variant(state, 1) == ("rated", 7, None, False)
    assert deputy_variant(state, 3) == ("rate", 7, None, False)
    assert deputy_variant(state, 4) == ("checkin", None, None, False)
    html = render.fragment(
        "d-me",
        View(state),
        oob=False,
        variant="rated",
        question_id=7,
        floor=None,
        speaking=False,
        notice="",
        ballot_key="k",
    )
    assert "已记录 ✓" in html and "满意" not in html.replace("感谢您的评价", "")


def test_an_oob_fragment_and_its_page_copy_differ_only_by_the_oob_attribute() -> None:
    view = View(_state(live_tally=True))
    for frag in ("stage", "timer", "c-session", "c-tally", "c-questions", "c-attendance", "d-session"):
        oob = render.fragment(frag, view, oob=True)
        plain = render.fragment(frag, view, oob=False)
        assert oob.replace(' hx-swap-oob="true"', "", 1) == plain, frag
