"""Fragments rendered straight from states: what each audience may and may not see.

The strongest check is the first: while a secret round is open, every fragment of every
audience is byte for byte the same whoever chose what. Whatever a socket carries then
(to the console, the projector, the public page, a phone) cannot tell a choice.
"""

from __future__ import annotations

import itertools
from types import MappingProxyType
from typing import Any

import pytest

from live.commands import (
    Actor,
    AdvancePhase,
    CallQuestion,
    CastRating,
    CastVote,
    CheckIn,
    CheckInMethod,
    CloseRating,
    Command,
    OpenCheckIn,
    OpenRating,
    OpenVote,
    Role,
    StartAgendaItem,
)
from live.core import apply_all, decide
from live.setup import AgendaItem, Deputy, Question, Respondent, Settings, Setup
from live.state import Choice, MeetingState, Phase, VoteChoice, initial_state
from screens import render
from screens.audiences import AUDIENCES, deputy_variant
from screens.view import View

CHAIR = Actor(Role.CHAIR, user="chair")
EXTRAS: dict[str, Any] = {"hall_url": "http://hall/h/1/x", "hall_qr": "<svg></svg>", "ballot_key": "k"}


def _setup() -> Setup:
    deputies = {i: Deputy(i, f"代表{i}", "一组", f"{100 + i}") for i in range(1, 5)}
    return Setup(
        meeting_id=1,
        title="问政会",
        body_name="某镇人民代表大会",
        deputies=MappingProxyType(deputies),
        agenda=(AgendaItem(1, 1, "人大代表问政会", "inquiry"),),
        questions=(Question(7, 1, "农贸市场何时建成？", 1, (Respondent("钱明", "副镇长"),)),),
        settings=Settings(),
    )


def _run(steps: list[tuple[Command, Actor]]) -> MeetingState:
    state = initial_state(_setup())
    for command, actor in steps:
        apply_all(state, decide(state, command, actor, 1_000))
    return state


def _present() -> list[tuple[Command, Actor]]:
    return [
        (OpenCheckIn(), CHAIR),
        *[(CheckIn(i, CheckInMethod.HALL_QR), Actor(Role.DEPUTY, i)) for i in (1, 2, 3)],
        (StartAgendaItem(1), CHAIR),
    ]


def _rating(choices: tuple[Choice, ...]) -> MeetingState:
    """Deputies 1, 2, … rated question 7 with ``choices``; the rating is still open."""
    steps = [
        *_present(),
        (CallQuestion(7), CHAIR),
        (AdvancePhase(Phase.ANSWERING), CHAIR),
        (OpenRating(), CHAIR),
    ]
    steps += [(CastRating(d, 7, c, f"k{d}"), Actor(Role.DEPUTY, d)) for d, c in enumerate(choices, start=1)]
    return _run(steps)


def _vote(choices: tuple[VoteChoice, ...], *, secret: bool, live: bool = True) -> MeetingState:
    steps = [*_present(), (OpenVote("决议", secret=secret, live=live), CHAIR)]
    steps += [(CastVote(d, 1, c, f"k{d}"), Actor(Role.DEPUTY, d)) for d, c in enumerate(choices, start=1)]
    return _run(steps)


def _screens(state: MeetingState) -> dict[str, str]:
    """Every fragment of every audience, and every deputy's own fragment, as sent."""
    view = View(state)
    out = {}
    for name, audience in AUDIENCES.items():
        for frag in audience.fragments(state):
            if frag == audience.personal:
                for deputy_id in state.setup.deputies:
                    variant, ballot, floor, speaking = deputy_variant(state, deputy_id)
                    out[f"{name}:{frag}:{deputy_id}"] = render.fragment(
                        frag,
                        view,
                        oob=True,
                        variant=variant,
                        question_id=ballot,
                        floor=floor,
                        speaking=speaking,
                        notice="",
                        **EXTRAS,
                    )
            else:
                out[f"{name}:{frag}"] = render.fragment(frag, view, oob=True, **EXTRAS)
    return out


SPLITS = list(itertools.product(list(Choice), repeat=2))


@pytest.mark.parametrize("choices", SPLITS[1:], ids=lambda c: "-".join(x.value for x in c))
def test_an_open_rating_looks_the_same_whoever_chose_what(choices: tuple[Choice, ...]) -> None:
    baseline = _screens(_rating(SPLITS[0]))
    assert _screens(_rating(choices)) == baseline
    # How many have rated is shown, and moves with each ballot.
    assert _screens(_rating(choices[:1])) != baseline


VOTE_SPLITS = list(itertools.product(list(VoteChoice), repeat=2))


@pytest.mark.parametrize("choices", VOTE_SPLITS[1:], ids=lambda c: "-".join(x.value for x in c))
def test_an_open_secret_vote_looks_the_same_whoever_chose_what(choices: tuple[VoteChoice, ...]) -> None:
    """Even when the chair ticked the live tally: a secret vote's split waits for the close."""
    assert _screens(_vote(choices, secret=True)) == _screens(_vote(VOTE_SPLITS[0], secret=True))


def test_a_named_vote_shows_its_live_split_the_control() -> None:
    """The comparison above would see a difference if there were one: a named vote's
    live tally differs with the choices."""
    first = _screens(_vote((VoteChoice.FOR, VoteChoice.FOR), secret=False))
    other = _screens(_vote((VoteChoice.FOR, VoteChoice.AGAINST), secret=False))
    differ = {k for k in first if first[k] != other[k]}
    assert {"console:c-vote", "projector:p-vote"} <= differ


def test_the_split_is_shown_once_the_rating_closes() -> None:
    state = _rating((Choice.SATISFIED, Choice.DISSATISFIED))
    apply_all(state, decide(state, CloseRating(), CHAIR, 2_000))
    html = render.fragment("c-tally", View(state), oob=True)
    assert 'data-choice="satisfied">1<' in html and 'data-choice="dissatisfied">1<' in html
    open_html = render.fragment("c-tally", View(_rating((Choice.SATISFIED,))), oob=True)
    assert 'id="c-cast">1<' in open_html and "data-choice" not in open_html


def test_the_projector_shows_how_many_have_rated_never_how() -> None:
    html = render.fragment("p-tally", View(_rating((Choice.SATISFIED, Choice.BASIC))), oob=True)
    assert "bar-satisfied" not in html and "票" not in html
    assert "已评 <b>2</b> 人 / 实到 3 人" in html


def test_a_deputy_sees_that_they_rated_but_not_what() -> None:
    state = _rating((Choice.SATISFIED, Choice.DISSATISFIED))
    assert deputy_variant(state, 1) == ("rated", 7, None, False)
    assert deputy_variant(state, 3) == ("rate", 7, None, False)
    assert deputy_variant(state, 4) == ("checkin", None, None, False)
    html = _screens(state)["deputy:d-me:1"]
    assert "已记录 ✓" in html and "满意" not in html.replace("感谢您的评价", "")


def test_an_oob_fragment_and_its_page_copy_differ_only_by_the_oob_attribute() -> None:
    view = View(_rating((Choice.SATISFIED, Choice.DISSATISFIED)))
    for frag in ("stage", "timer", "c-session", "c-tally", "c-questions", "c-attendance", "d-session"):
        oob = render.fragment(frag, view, oob=True, **EXTRAS)
        plain = render.fragment(frag, view, oob=False, **EXTRAS)
        assert oob.replace(' hx-swap-oob="true"', "", 1) == plain, frag
