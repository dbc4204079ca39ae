"""Property tests over the parser (server/base/parse.py) and, through it, the rules.

Any value at all, what attackers send included (Unicode digits, signs, numbers of
thousands of digits, extreme dates, control characters), gives a value of the parser's
kind within its bounds, or None; never an exception. Any form at all gives a command or
a BadInput naming what was wrong, never another exception. Sessions made of forms, the
way the console and the phones send them (the fields a page has, with right, wrong and
hostile values), go through the parser and the live rules: each step is parsed or
refused, decided or refused, and the meeting's invariants hold after every one (the
tally equals the ballots, one ballot per deputy and poll, the attendance adds up, an
announced result never changes: see tests/live/test_properties.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from fractions import Fraction

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
from server.base import parse
from server.base.parse import ACTIONS, BadInput, parse_action, parse_floor, parse_rating, parse_vote
from tests import test_fuzz
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
        *test_fuzz.HOSTILE,
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
    for parser in (parse_action, *(lambda f, p=p: p(f, deputy_id) for p in PHONE_PARSERS.values())):
        try:
            command = parser(form)
        except BadInput as bad:
            assert bad.code in ("unknown_command", "bad_field") and (
                bad.field or bad.code == "unknown_command"
            )
            continue
        assert isinstance(command, Command)


# -- single values -------------------------------------------------------------------------

# What attackers send (tests/test_fuzz.py keeps the list), and text made of number
# characters of every script: digits (Nd), superscripts and circled numbers (No), Roman
# numerals (Nl), with signs, spaces, separators and control characters among them.
ATTACKS = [*test_fuzz.HOSTILE, *test_fuzz.NASTY, *test_fuzz.SUFFIXES, *test_fuzz.ODD_CODES]
NUMBERISH = st.text(
    st.characters(categories=["Nd", "No", "Nl", "Zs", "Cc"], include_characters="+-−.,:/%T_xe"), max_size=24
)
RAW = st.one_of(st.sampled_from(ATTACKS), NUMBERISH, st.text(max_size=24), st.integers().map(str))
ASCII_INTEGER = re.compile(r"-?[0-9]+")


@settings(max_examples=3000, deadline=None)
@given(raw=RAW)
def test_any_value_is_a_value_in_bounds_or_none(raw: str) -> None:
    value = parse.integer(raw, -1000, 1000)
    assert value is None or (-1000 <= value <= 1000 and ASCII_INTEGER.fullmatch(raw.strip()))
    row = parse.row_id(raw)
    assert row is None or (1 <= row <= parse.ID_MAX and raw.strip().isascii())
    rows = parse.row_ids(raw)
    assert rows is None or all(1 <= i <= parse.ID_MAX for i in rows)
    boxes = parse.suffixed_ids(["pick_" + raw, "pick_1", "co_cards"], "pick_")
    assert boxes is None or all(1 <= i <= parse.ID_MAX for i in boxes)
    ms = parse.moment(raw)
    if ms is not None:  # a real minute of 2000-2099, which reads back as itself
        assert 2000 <= datetime.fromtimestamp(ms / 1000, parse.CHINA).year <= 2099
        assert parse.moment(parse.moment_text(ms)) == ms
    share = parse.share(raw)
    assert share is None or (isinstance(share, Fraction) and 0 < share <= 1)
    line = parse.text(raw, 20)
    assert line is None or (len(line) <= 20 and not re.search(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]", line))
    window = parse.hex_window(raw)
    assert window is None or 0 <= window < 16**12
    code = parse.pair_code(raw)
    assert code is None or (len(code) == 6 and code.isascii() and code.isdigit())


@given(n=st.integers(-(10**9), 10**9), pad=st.sampled_from(["", " ", "\t", "\u3000", "\n"]))
def test_integers_read_back(n: int, pad: str) -> None:
    assert parse.integer(f"{pad}{n}{pad}", -(10**9), 10**9) == n
    assert parse.integer(str(n), n + 1, n + 2) is None
    assert parse.row_id(str(n)) == (n if n > 0 and n <= parse.ID_MAX else None)


@given(minutes=st.integers(0, 100 * 366 * 24 * 60), sep=st.sampled_from([" ", "T"]))
def test_moments_read_back(minutes: int, sep: str) -> None:
    when = datetime(2000, 1, 1, tzinfo=parse.CHINA) + timedelta(minutes=minutes)
    if when.year > 2099:
        return
    typed = when.strftime(f"%Y-%m-%d{sep}%H:%M")
    assert parse.moment(typed) == int(when.timestamp()) * 1000
    assert parse.moment_text(parse.moment(typed)) == when.strftime("%Y-%m-%d %H:%M")


def test_extreme_and_impossible_moments_are_refused() -> None:
    for raw in (
        *(
            "0001-01-01 00:00",
            "9999-12-31 23:59",
            "0000-01-01 00:00",
            "10000-01-01 00:00",
            "1999-12-31 23:59",
        ),
        *("2100-01-01 00:00", "2026-02-30 10:00", "2026-13-01 00:00", "2026-06-01 24:00", "2026-06-01 23:60"),
        *("２０２６-０６-０１ １８:００", "2026-06-01\x0018:00", "2026/06/01 18:00", "-2026-06-01 18:00"),
    ):
        assert parse.moment(raw) is None, raw
    assert parse.moment_text(10**20) == ""  # a stored time no page could have sent shows as none


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
