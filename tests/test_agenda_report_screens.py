"""The agenda item that takes a progress report, on the hall's screens, from pure states.

While the item is current the projector shows the report's figures large (交办, 已办结,
正在办理, 逾期, the A/B/C classes); while it is rated, and after, the projector keeps them
in one line above the rating as for any rated item; the phones and the public page show
the same line. Nothing is read from anywhere but the setup: the figures are the report's
own, loaded with the meeting (server/storage/store.py).
"""

from __future__ import annotations

import re
from types import MappingProxyType

from live.commands import (
    Actor,
    CastRating,
    CheckIn,
    CheckInMethod,
    CloseRating,
    Command,
    OpenCheckIn,
    OpenItemRating,
    Role,
    ShowOnProjector,
    StartAgendaItem,
)
from live.core import apply_all, decide
from live.setup import AgendaItem, Deputy, ReportSummary, Settings, Setup
from live.state import Choice, Focus, MeetingState, initial_state
from screens import render
from screens.audiences import deputy_variant
from screens.view import View

CHAIR = Actor(Role.CHAIR, user="chair")
REPORT = ReportSummary(
    "关于人大代表问政会所提问题推进落实情况的报告",
    total=12,
    closed=5,
    open=7,
    overdue=2,
    class_a=4,
    class_b=3,
    class_c=1,
    redo=1,
    objected=0,
)
ITEM_TITLE = "听取关于问政会所提问题推进落实情况的报告"
EXTRAS = {"hall_url": "http://hall/h/1/x", "hall_qr": "<svg></svg>", "ballot_key": "k"}


def _setup() -> Setup:
    deputies = {i: Deputy(i, f"代表{i}", "一组", f"{100 + i}") for i in range(1, 5)}
    return Setup(
        meeting_id=1,
        title="第三次会议",
        body_name="某镇人民代表大会",
        deputies=MappingProxyType(deputies),
        agenda=(
            AgendaItem(1, 1, "听取镇人民政府上半年工作报告", "report"),
            AgendaItem(2, 2, ITEM_TITLE, "report", REPORT),
        ),
        questions=(),
        settings=Settings(),
    )


def _run(*steps: tuple[Command, Actor]) -> MeetingState:
    state = initial_state(_setup())
    present: list[tuple[Command, Actor]] = [
        (OpenCheckIn(), CHAIR),
        *[(CheckIn(i, CheckInMethod.HALL_QR), Actor(Role.DEPUTY, i)) for i in (1, 2, 3, 4)],
    ]
    for command, actor in [*present, *steps]:
        apply_all(state, decide(state, command, actor, 1_000))
    return state


def _text(html: str) -> str:
    """What a reader sees: tags and line-break points gone, whitespace squeezed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _frag(name: str, state: MeetingState, **extra: object) -> str:
    return render.fragment(name, View(state), oob=False, **EXTRAS, **extra)


def _phone(state: MeetingState, deputy_id: int) -> tuple[str, str]:
    variant, ballot, floor, speaking = deputy_variant(state, deputy_id)
    me = _frag("d-me", state, variant=variant, question_id=ballot, floor=floor, speaking=speaking, notice="")
    return _frag("d-session", state), me


def test_the_current_item_shows_the_reports_figures_large() -> None:
    state = _run((StartAgendaItem(2), CHAIR))
    stage = _frag("stage", state)
    assert 'id="p-report"' in stage
    text = _text(stage)
    assert "议程 2 · 督办进展报告" in text
    assert ITEM_TITLE in text.replace(" ", "")
    for label, n in (("交办", 12), ("已办结", 5), ("正在办理", 7), ("逾期", 2)):
        assert f"{label} {n} 项" in text, label
    for label, n in (("A 类", 4), ("B 类", 3), ("C 类", 1)):
        assert f"{n} {label}" in text, label
    assert "重新办理 1 项" in text and "不同意办结" not in text  # only what is not zero


def test_another_item_shows_no_figures() -> None:
    state = _run((StartAgendaItem(1), CHAIR))
    assert View(state).report is None
    for name in ("stage", "d-session", "pu-session"):
        html = _frag(name, state)
        assert "交办" not in html and "督办进展报告" not in html, name


def test_the_item_is_rated_as_any_report_with_its_figures_in_view() -> None:
    state = _run((StartAgendaItem(2), CHAIR), (OpenItemRating(), CHAIR))
    line = (
        "交办 12 项 · 已办结 5 项 · 正在办理 7 项 · 逾期 2 项 · "
        "A 类 4 项 · B 类 3 项 · C 类 1 项 · 重新办理 1 项"
    )
    short = "交办 12 项：已办结 5 · 正在办理 7 · 逾期 2 · A 类 4 · B 类 3 · C 类 1"
    stage = _text(_frag("stage", state))
    assert "满意度测评 · 督办进展报告" in stage and short in stage
    assert "满意度测评进行中" in stage and "已评 0 人" in stage
    session, me = _phone(state, 1)
    assert line in _text(session)
    assert 'name="question_id" value="-2"' in me, "the ballot is the item's, as for any report"
    for label in ("满意", "基本满意", "不满意"):
        assert f">{label}</button>" in me
    assert line in _text(_frag("pu-session", state))
    for d, choice in ((1, Choice.SATISFIED), (2, Choice.SATISFIED), (3, Choice.BASIC)):
        apply_all(state, decide(state, CastRating(d, -2, choice, f"k{d}"), Actor(Role.DEPUTY, d), 2_000))
    apply_all(state, decide(state, CloseRating(), CHAIR, 3_000))
    result = _text(_frag("stage", state))
    assert "测评结果" in result and short in result
    assert "满意 2 票" in result and "基本满意 1 票" in result and "不满意 0 票" in result
    assert "已评 3 人" in result


def test_the_figures_travel_with_the_rating_even_when_the_focus_goes_back() -> None:
    """The chair shows the welcome screen again mid-rating: the figures stay up."""
    welcome = ShowOnProjector(Focus.WELCOME)
    state = _run((StartAgendaItem(2), CHAIR), (OpenItemRating(), CHAIR), (welcome, CHAIR))
    assert 'id="p-report"' in _frag("stage", state)
