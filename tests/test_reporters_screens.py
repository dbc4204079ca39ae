"""Who reports on an agenda item, on the hall's screens, from pure states: every audience
names the reporter of the item being rated (or, before that, of the current item) as
"述职人：…", the phone's ballot asks for that reporter's 述职, the public results name
the reporter beside the item's result; an item naming nobody shows no such line.
"""

from __future__ import annotations

from types import MappingProxyType

from live.commands import CastRating, CloseRating, OpenItemRating, StartAgendaItem
from live.core import apply_all, decide
from live.setup import AgendaItem, Deputy, Settings, Setup
from live.state import Choice, MeetingState, initial_state
from screens.view import View
from tests.test_agenda_report_screens import CHAIR, _frag, _phone, _text

MEMBER = "王建国（城东代表小组）"
HIGHER = "李秀英（清溪县人民代表大会代表）"


def _state(*steps: object) -> MeetingState:
    from live.commands import Actor, CheckIn, CheckInMethod, OpenCheckIn, Role

    deputies = {i: Deputy(i, f"代表{i}", "一组", f"{100 + i}") for i in range(1, 5)}
    setup = Setup(
        meeting_id=1,
        title="代表述职评议会议",
        body_name="某镇人民代表大会",
        deputies=MappingProxyType(deputies),
        agenda=(
            AgendaItem(1, 1, "代表个人述职", "report", reporter=MEMBER),
            AgendaItem(2, 2, "上级人大代表述职", "report", reporter=HIGHER),
            AgendaItem(3, 3, "点评讲话", "discussion"),
        ),
        questions=(),
        settings=Settings(),
    )
    state = initial_state(setup)
    commands = [
        (OpenCheckIn(), CHAIR),
        *[(CheckIn(i, CheckInMethod.HALL_QR), Actor(Role.DEPUTY, i)) for i in (1, 2, 3, 4)],
        *[(s, CHAIR) for s in steps],
    ]
    for command, actor in commands:
        apply_all(state, decide(state, command, actor, 1_000))  # type: ignore[arg-type]
    return state


def test_the_current_item_names_its_reporter_everywhere() -> None:
    state = _state(StartAgendaItem(1))
    assert View(state).reporter == MEMBER
    stage = _text(_frag("stage", state))
    assert f"代表个人述职 述职人：{MEMBER}" in stage and f"述职人：{HIGHER}" in stage  # the agenda
    session, _me = _phone(state, 2)
    assert f"述职人：{MEMBER}" in _text(session)
    for name in ("pu-session", "c-session", "c-agenda"):
        assert f"述职人：{MEMBER}" in _text(_frag(name, state)).replace(" ", ""), name


def test_the_item_being_rated_is_the_reporters_and_its_result_says_so() -> None:
    state = _state(StartAgendaItem(2), OpenItemRating())
    stage = _text(_frag("stage", state))
    assert "满意度测评 · 述职评议" in stage and f"述职人 {HIGHER}" in stage
    session, me = _phone(state, 1)
    assert "满意度测评 · 述职评议" in _text(session)
    assert f"请对{HIGHER}的述职进行评价" in _text(me)
    assert f"述职人：{HIGHER}" in _text(_frag("c-tally", state))
    assert f"述职人：{HIGHER}" in _text(_frag("po-speaker", state))
    for d in (1, 2, 3):
        apply_all(state, decide(state, CastRating(d, -2, Choice.SATISFIED, f"k{d}"), _deputy(d), 2_000))
    apply_all(state, decide(state, CloseRating(), CHAIR, 3_000))
    assert f"述职人 {HIGHER}" in _text(_frag("stage", state))
    assert f"满意度测评：上级人大代表述职（述职人：{HIGHER}）" in _text(_frag("pu-results", state))


def test_an_item_naming_nobody_shows_no_reporter() -> None:
    state = _state(StartAgendaItem(3))
    assert View(state).reporter == ""
    session, _me = _phone(state, 1)
    for html in (session, _frag("pu-session", state), _frag("c-session", state)):
        assert 'id="d-reporter"' not in html and "pu-reporter" not in html and "c-item-reporter" not in html


def _deputy(d: int) -> object:
    from live.commands import Actor, Role

    return Actor(Role.DEPUTY, d)
