"""Property tests over the command parser (server/parse.py) and, through it, the rules.

Any form at all gives a command or a BadInput naming what was wrong, never another
exception. Sessions made of forms, the way the console and the phones send them (the
fields a page has, with right, wrong and hostile values), go through the parser and the
live rules: each step is parsed or refused, decided or refused, and the meeting's
invariants hold after every one (the tally equals the ballots, one ballot per deputy and
poll, the attendance adds up, an announced result never changes: see
tests/live/test_properties.py).
"""

from __future__ import annotations

from hypothesis import given, settings, target
from hypothesis import strategies as st

from live.commands import Actor, Command, Role
from live.core import apply_all, decide
from live.refusals import Refused
from live.state import (
    Choice,
    FloorKind,
    Focus,
    Phase,
    ProjectorMode,
    RatingResult,
    Threshold,
    VoteBase,
    VoteChoice,
    VoteMethod,
    VoteResult,
    initial_state,
)
from server.parse import ACTIONS, BadInput, parse_action, parse_floor, parse_rating, parse_vote
from tests.live.conftest import CHAIR, ITEM_1, ITEM_2, Q1, Q2, STAFF, snapshot
from tests.live.test_properties import (
    SETUPS,
    check_floor_invariants,
    check_invariants,
    check_vote_invariants,
)

FIELDS = [
    "cmd", "deputy_id", "question_id", "item_id", "speaker_id", "seconds", "focus", "mode", "text",
    "kind", "subject", "place", "title", "secret", "threshold", "base", "live", "revote_of", "method",
    "for", "against", "abstain", "vote_id", "choice", "ballot_key", "action",
]  # fmt: skip
ENUMS = [Focus, ProjectorMode, FloorKind, Threshold, VoteBase, VoteMethod, Choice, VoteChoice, Phase]
HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1e3",
        "０",
        "²",
        "1" * 11,
        str(2**63),
        "nan",
        "\x00",
        "满意",
        "<script>",
        "x" * 2001,
    ]
)
NUMBERS = st.sampled_from([1, 2, 3, 4, 5, 6, 99, Q1, Q2, 103, ITEM_1, ITEM_2, 0, -5, 30, 3600]).map(str)
ENUM_VALUES = st.sampled_from([e.value for kind in ENUMS for e in kind])
VALUES = st.one_of(NUMBERS, ENUM_VALUES, HOSTILE, st.sampled_from(["0", "1"]), st.text(max_size=12))
FORMS = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), VALUES, max_size=12)
CHAIR_FORMS = st.builds(
    lambda cmd, rest: {**rest, "cmd": cmd},
    st.sampled_from(sorted(ACTIONS)) | st.text(max_size=6),
    st.dictionaries(st.sampled_from(FIELDS), st.one_of(NUMBERS, ENUM_VALUES, HOSTILE), max_size=8),
)
BALLOTS = st.fixed_dictionaries(
    {
        "question_id": NUMBERS,
        "vote_id": st.sampled_from(["1", "2", "3", "9", ""]),
        "choice": ENUM_VALUES | HOSTILE,
        "ballot_key": st.sampled_from(["a", "b", "k-1", "", "x" * 65, "名"]),
        "kind": ENUM_VALUES,
        "action": st.sampled_from(["", "withdraw"]),
    }
)
PHONE_PARSERS = {"rate": parse_rating, "vote": parse_vote, "floor": parse_floor}


@settings(max_examples=3000, deadline=None)
@given(form=FORMS, deputy_id=st.integers(1, 10))
def test_any_form_is_a_command_or_bad_input(form: dict[str, str], deputy_id: int) -> None:
    for parse in (parse_action, *(lambda f, p=p: p(f, deputy_id) for p in PHONE_PARSERS.values())):
        try:
            command = parse(form)
        except BadInput as bad:
            assert bad.code in ("unknown_command", "bad_field") and (
                bad.field or bad.code == "unknown_command"
            )
            continue
        assert isinstance(command, Command)


@st.composite
def form_steps(draw: st.DrawFn) -> tuple[str, dict[str, str], Actor]:
    """A chair's or staff's form, or a deputy's ballot from the phone."""
    if draw(st.booleans()):
        form = draw(CHAIR_FORMS)
        return "act", form, draw(st.sampled_from([CHAIR, CHAIR, STAFF]))
    deputy_id = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 99]))
    return (
        draw(st.sampled_from(sorted(PHONE_PARSERS))),
        draw(BALLOTS),
        Actor(Role.DEPUTY, deputy_id=deputy_id),
    )


@settings(max_examples=300, deadline=None)
@given(setup=SETUPS, steps=st.lists(form_steps(), max_size=60), dt=st.integers(0, 90_000))
def test_sessions_of_forms_keep_the_invariants(
    setup: object, steps: list[tuple[str, dict[str, str], Actor]], dt: int
) -> None:
    state = initial_state(setup)  # type: ignore[arg-type]
    closed: dict[int, RatingResult] = {}
    decided: dict[int, VoteResult] = {}
    now, reached = 0, 0
    for route, form, actor in steps:
        now += dt
        try:
            if route == "act":
                command = parse_action(form)
            else:
                assert actor.deputy_id is not None
                command = PHONE_PARSERS[route](form, actor.deputy_id)
        except BadInput:
            continue
        before = snapshot(state)
        try:
            events = decide(state, command, actor, now)
        except Refused:
            assert snapshot(state) == before, "a refusal changed the state"
            continue
        reached += 1
        apply_all(state, events)
        check_invariants(state, closed)
        check_vote_invariants(state, decided)
        check_floor_invariants(state)
    target(float(reached), label="steps the rules took")  # towards longer live sessions
