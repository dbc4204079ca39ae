"""Fragments rendered straight from states: what each audience may and may not see.

The strongest check is the first: while a secret round is open, every fragment of every
audience is byte for byte the same whoever chose what. Whatever a socket carries then
(to the console, the projector, the public page, a phone) cannot tell a choice.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from types import MappingProxyType
from typing import Any

import pytest

from live.commands import (
    Actor,
    AdvancePhase,
    AnnounceAttendance,
    CallQuestion,
    CastRating,
    CastVote,
    CheckIn,
    CheckInAttendee,
    CheckInMethod,
    CloseMeeting,
    CloseRating,
    Command,
    LeaveHall,
    OpenCheckIn,
    OpenRating,
    OpenVote,
    Role,
    ShowOnProjector,
    StartAgendaItem,
)
from live.core import apply_all, decide
from live.setup import AgendaItem, Attendee, AttendeeKind, Deputy, Question, Respondent, Settings, Setup
from live.state import Choice, Focus, MeetingState, Phase, VoteChoice, initial_state
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


# --- the hall as it is: rehearsal, closed meeting, part-way leave, attendees ---


def _page_of(name: str, state: MeetingState) -> str:
    """The full page of an audience, as a browser loads it."""
    view = View(state)
    extra: dict[str, Any] = {
        "console": {"user": type("U", (), {"username": "staff"})(), "csrf": "t"},
        "deputy": {"me": state.setup.deputies[1], "me_html": "", "moved": False},
    }.get(name, {})
    return render.page(name, v=view, oob=False, **EXTRAS, **extra)


def _rehearsal_state(**changes: Any) -> MeetingState:
    state = initial_state(dataclasses.replace(_setup(), **changes))
    for command, actor in _present():
        apply_all(state, decide(state, command, actor, 1_000))
    return state


@pytest.mark.parametrize("audience", sorted(AUDIENCES))
def test_every_screen_of_a_rehearsal_says_so(audience: str) -> None:
    mark = "彩排 · 不计入出勤记录"
    assert mark in _page_of(audience, _rehearsal_state(rehearsal=True))
    assert mark not in _page_of(audience, _rehearsal_state())


def test_every_screen_says_the_meeting_is_closed() -> None:
    state = _run([*_present(), (CloseMeeting(), CHAIR)])
    html = _screens(state)
    for key in (
        "projector:stage",
        "console:c-session",
        "deputy:d-session",
        "podium:po-speaker",
        "public:pu-session",
    ):
        assert "会议已结束" in html[key], key
    for deputy_id in state.setup.deputies:
        assert deputy_variant(state, deputy_id)[0] == "closed"
        assert "会议已结束" in html[f"deputy:d-me:{deputy_id}"]
    assert "结束会议" not in html["console:c-attendance"]  # no button once it is over
    assert "结束会议" in _screens(_run(_present()))["console:c-attendance"]


def test_the_console_counts_who_left_the_suspended_and_the_attendees() -> None:
    attendees = {
        21: Attendee(21, "列席甲", AttendeeKind.OBSERVER, "区政协"),
        22: Attendee(22, "市民乙", AttendeeKind.CITIZEN),
        23: Attendee(23, "市民丙", AttendeeKind.CITIZEN),
    }
    state = initial_state(
        dataclasses.replace(_setup(), suspended=frozenset({4}), attendees=MappingProxyType(attendees))
    )
    staff = Actor(Role.STAFF, user="staff")
    for command, actor in [
        *_present(),
        (LeaveHall(2), staff),
        (CheckInAttendee(21, CheckInMethod.STAFF), staff),
        (CheckInAttendee(22, CheckInMethod.STAFF), staff),
        (AnnounceAttendance(), CHAIR),
        (ShowOnProjector(Focus.ATTENDANCE), CHAIR),
    ]:
        apply_all(state, decide(state, command, actor, 1_000))
    html = _screens(state)
    text = re.sub(r"<[^>]+>", "", html["console:c-attendance"])
    text = re.sub(r"\s+", " ", text)
    for figure in (
        "应到 3",
        "实到 2",
        "缺席 0",
        "中途离会 1",
        "列席 1/1",
        "旁听 1/2",
        "暂停执行代表职务 1 人",
    ):
        assert figure in text, figure
    assert "市民丙" in html["console:c-attendees"] and "attendee_check_in" in html["console:c-attendees"]
    stage = re.sub(r"<[^>]+>", "", html["projector:stage"])
    assert "应到 3 人，实到 2 人，请假 0 人，缺席 0 人，中途离会 1 人" in stage
    assert "列席" not in stage and "旁听" not in stage  # the announcement is the deputies'
    assert deputy_variant(state, 2) == ("left", None, None, False)
    assert deputy_variant(state, 4) == ("suspended", None, None, False)
    assert "已登记中途离会" in html["deputy:d-me:2"]
    assert "暂停执行代表职务" in html["deputy:d-me:4"]
