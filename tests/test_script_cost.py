"""The chair's script is rendered on every attendance update while a tablet is connected
(screens/audiences.py SCRIPT): its cost must not grow with the size of the body. The
bench found it trying every head count up to 应到 for 需到 (BENCHMARKS.md, 7 Dec 2026)."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from live import rules
from live.commands import Actor, CheckIn, CheckInMethod, OpenCheckIn, Role
from live.core import apply_all, decide
from live.setup import AgendaItem, Deputy, Quorum, Settings, Setup
from live.state import MeetingState, initial_state
from screens import script
from screens.view import View

CHAIR = Actor(Role.CHAIR, user="chair")


def _body(members: int, quorum: Quorum | None = None) -> MeetingState:
    deputies = {i: Deputy(i, f"代表{i}", f"第{i // 30 + 1}组", f"B{i:05d}") for i in range(1, members + 1)}
    setup = Setup(
        meeting_id=1,
        title="问政会",
        body_name="某县人民代表大会",
        deputies=MappingProxyType(deputies),
        agenda=(AgendaItem(1, 1, "人大代表问政会", "inquiry"),),
        questions=(),
        settings=Settings(quorum=quorum),
    )
    return initial_state(setup)


def _least_by_search(state: MeetingState) -> int:
    """What ``needed`` returned before: the first head count that makes the quorum."""
    rule, expected = state.setup.settings.quorum_rule, state.expected
    return next((n for n in range(expected + 1) if rules.has_quorum(rule, expected, n)), expected)


@pytest.mark.parametrize("quorum", [Quorum.TWO_THIRDS, Quorum.MORE_THAN_HALF])
@pytest.mark.parametrize("members", [*range(0, 40), 299, 300, 301, 2999, 3000])
def test_the_quorum_figure_is_the_same_as_the_search_gave(members: int, quorum: Quorum) -> None:
    state = _body(members, quorum)
    assert script.needed(state) == _least_by_search(state)


def test_a_large_body_with_suspended_members_counts_them_out() -> None:
    state = _body(3000)
    state.setup = dataclasses.replace(state.setup, suspended=frozenset({1, 2, 3}))
    assert state.expected == 2997
    assert script.needed(state) == _least_by_search(state) == 1998


def test_the_live_script_of_a_3000_member_body_does_not_count_heads_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = _body(3000)
    for command, actor in [
        (OpenCheckIn(), CHAIR),
        *[(CheckIn(d, CheckInMethod.HALL_QR), Actor(Role.DEPUTY, d)) for d in range(1, 1501)],
    ]:
        apply_all(state, decide(state, command, actor, 1_000))
    calls = 0
    real = script.has_quorum

    def counted(*args: object) -> bool:
        nonlocal calls
        calls += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(script, "has_quorum", counted)
    lines = [line for section in script.live_script(View(state)) for line in section.lines]
    assert any("需到2000人" in line.text for line in lines)
    assert calls <= 5, f"{calls} quorum checks for one render of the script"
