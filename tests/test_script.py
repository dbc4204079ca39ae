"""The chair's script (主持词): the next line follows the session, the live figures are
filled in, the printed copy has blanks, and the wording is edited with its placeholders
checked (screens/script.py, server/web/routes/script.py)."""

from __future__ import annotations

import dataclasses
import json
import re
from types import MappingProxyType

import pytest
from starlette.websockets import WebSocketDisconnect

from live.commands import (
    Actor,
    AdvancePhase,
    AnnounceVote,
    CallQuestion,
    CastRating,
    CastVote,
    CheckIn,
    CheckInMethod,
    CloseMeeting,
    CloseRating,
    CloseVote,
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
from screens import render, script
from screens.view import View
from server.base.keys import Keys
from server.base.settings import Settings as ServerSettings
from tests.conftest import TestClient
from tests.test_meetings_admin import snapshot, staff_headers

CHAIR = Actor(Role.CHAIR, user="chair")


def _setup(wording: dict[str, str] | None = None) -> Setup:
    deputies = {i: Deputy(i, f"代表{i}", "一组", f"{100 + i}") for i in range(1, 7)}
    return Setup(
        meeting_id=1,
        title="问政会",
        body_name="某镇人民代表大会",
        deputies=MappingProxyType(deputies),
        agenda=(AgendaItem(1, 1, "人大代表问政会", "inquiry"),),
        questions=(Question(7, 1, "农贸市场何时建成？", 1, (Respondent("钱明", "副镇长"),)),),
        settings=Settings(script=MappingProxyType(wording or {})),
    )


def _state(wording: dict[str, str] | None = None) -> MeetingState:
    return initial_state(_setup(wording))


def _do(state: MeetingState, *commands: tuple[Command, Actor] | Command) -> None:
    for c in commands:
        command, actor = c if isinstance(c, tuple) else (c, CHAIR)
        apply_all(state, decide(state, command, actor, 1_000))


def _next(state: MeetingState) -> script.Line | None:
    lines = [line for s in script.live_script(View(state)) for line in s.lines]
    found = [line for line in lines if line.status == "next"]
    assert len(found) <= 1, found
    return found[0] if found else None


def _check_in(*deputies: int) -> list[tuple[Command, Actor]]:
    return [(CheckIn(d, CheckInMethod.HALL_QR), Actor(Role.DEPUTY, d)) for d in deputies]


def test_the_next_line_follows_the_session_with_the_live_figures() -> None:
    state = _state()
    first = _next(state)
    assert first is not None and first.key == "checkin"
    _do(state, OpenCheckIn(), *_check_in(1, 2))
    line = _next(state)
    # Two of six: no quorum (two thirds = 4), and the chair is told what to say instead.
    assert line is not None and line.key == "open_short"
    assert "应到6人，实到2人，不足法定人数（需到4人）" in line.text
    _do(state, *_check_in(3, 4, 5))
    line = _next(state)
    assert line is not None and line.text == "各位代表：本次会议应到6人，实到5人，符合法定人数，现在开会。"
    _do(state, StartAgendaItem(1))
    line = _next(state)
    assert line is not None and line.key == "question"
    assert line.text == "现在进行第一个问题。请代表1代表提问，问题是：农贸市场何时建成？"
    _do(state, CallQuestion(7))
    line = _next(state)
    assert line is not None and line.text == "请副镇长钱明回答。"
    _do(state, AdvancePhase(Phase.ANSWERING))
    line = _next(state)
    assert line is not None and line.key == "rate"
    _do(state, OpenRating())
    line = _next(state)
    assert line is not None and line.key == "result"
    assert any(p.blank for p in line.parts), "the result has blanks while the rating is open"
    _do(
        state,
        (CastRating(1, 7, Choice.SATISFIED, "k1"), Actor(Role.DEPUTY, 1)),
        (CastRating(2, 7, Choice.SATISFIED, "k2"), Actor(Role.DEPUTY, 2)),
        (CastRating(3, 7, Choice.BASIC, "k3"), Actor(Role.DEPUTY, 3)),
        (CastRating(4, 7, Choice.SATISFIED, "k4"), Actor(Role.DEPUTY, 4)),
        CloseRating(),
    )
    line = _next(state)
    assert line is not None and line.key == "result"  # read only now: the figures are there
    grade = View(state).last_result
    assert grade is not None and grade.grade
    # Read as the projector shows it: the grade with the base it was measured on.
    assert line.text == (
        f"测评结果：满意3票，基本满意1票，不满意0票，测评结果为：{grade.grade}（{grade.rule}）。"
    )
    assert grade.rule.startswith("以") and "为基数" in grade.rule
    _do(state, CloseMeeting())
    assert _next(state) is None
    read = [line.status for s in script.live_script(View(state)) for line in s.lines]
    assert set(read) == {"read"}


def test_the_script_fragment_marks_the_next_line_and_dims_the_read_ones() -> None:
    state = _state()
    _do(state, OpenCheckIn(), *_check_in(1, 2, 3, 4), StartAgendaItem(1))
    html = render.fragment("s-script", View(state), oob=True)
    assert html.startswith('<main id="s-script"') and 'hx-swap-oob="true"' in html
    assert html.count('aria-current="step"') == 1
    nexts = re.findall(r'<p class="s-line s-next" data-step="(\w+)"', html)
    assert nexts == ["question"]
    assert re.findall(r'<p class="s-line s-read" data-step="(\w+)"', html) == ["checkin", "open", "item"]


def test_the_printed_copy_has_blanks_for_the_live_figures_and_both_openings() -> None:
    state = _state()
    _do(state, OpenCheckIn(), *_check_in(1, 2, 3, 4, 5))  # whatever the hall did: paper is blank
    sections = script.printed_script(state)
    lines = [line for s in sections for line in s.lines]
    assert {line.status for line in lines} == {"later"}
    keys = [line.key for line in lines]
    assert keys[:3] == ["checkin", "open", "open_short"]
    assert keys[-1] == "close"
    opening = lines[1]
    assert (
        opening.text
        == f"各位代表：本次会议应到{script.BLANK}人，实到{script.BLANK}人，符合法定人数，现在开会。"
    )
    result = next(line for line in lines if line.key == "result")
    assert [p.text for p in result.parts if p.blank] == [script.BLANK] * 4


def test_the_wording_is_the_meetings_own() -> None:
    state = _state({"answer": "请{应询人}同志作答。"})
    _do(state, OpenCheckIn(), *_check_in(1, 2, 3, 4), StartAgendaItem(1), CallQuestion(7))
    line = _next(state)
    assert line is not None and line.text == "请副镇长钱明同志作答。"


def test_checking_the_wording() -> None:
    defaults = {s.key: s.default for s in script.STEPS}
    assert script.check_wording(defaults) == {}  # only what differs is stored
    kept = script.check_wording({**defaults, "open": "应到{应到}人，实到{实到}人，开会。"})
    assert kept == {"open": "应到{应到}人，实到{实到}人，开会。"}
    with pytest.raises(script.BadWording) as bad:
        script.check_wording({**defaults, "open": "应到{应到}人，到会{到会}人。", "close": "闭会{"})
    assert "“开会（符合法定人数）”中的占位符{到会}无法识别" in bad.value.errors["open"]
    assert "{实到}" in bad.value.errors["open"]  # and which ones it may use
    assert "花括号不成对" in bad.value.errors["close"]
    with pytest.raises(script.BadWording) as bad:
        script.check_wording({**defaults, "answer": "请{结果}回答。"})  # a result belongs elsewhere
    assert "{结果}无法识别" in bad.value.errors["answer"]
    with pytest.raises(script.BadWording) as bad:
        script.check_wording({**defaults, "item": "  "})
    assert "不能为空" in bad.value.errors["item"]


def test_chinese_numbers() -> None:
    assert [script.chinese_number(n) for n in (1, 9, 10, 12, 20, 25)] == [
        "一",
        "九",
        "十",
        "十二",
        "二十",
        "二十五",
    ]


# -- the pages -------------------------------------------------------------------------


def _form(client: TestClient, keys: Keys, meeting_id: int) -> dict[str, str]:
    page = client.get(f"/m/{meeting_id}/script/edit", headers=staff_headers(client, keys))
    assert page.status_code == 200
    assert "<title>修改主持词 · " in page.text
    values = dict(re.findall(r'<textarea id="s-\w+" name="(\w+)"[^>]*>([^<]*)</textarea>', page.text))
    assert set(values) == {s.key for s in script.STEPS}
    return values


def test_editing_the_wording_saves_refuses_and_resets(
    client: TestClient, keys: Keys, settings: ServerSettings, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    path = f"/m/{meeting_id}/script/edit"
    values = _form(client, keys, meeting_id)
    before = snapshot(settings, meeting_id)

    # An unknown placeholder: refused in Chinese, what was typed kept, nothing stored.
    typed = {**values, "open": "应到{应到}人，到会{到会}人，开会。"}
    refused = client.post(path, data=typed, headers=headers)
    assert refused.status_code == 400
    assert "请修改标出的步骤，未保存任何内容。" in refused.text
    assert "“开会（符合法定人数）”中的占位符{到会}无法识别" in refused.text
    assert "应到{应到}人，到会{到会}人，开会。</textarea>" in refused.text
    assert snapshot(settings, meeting_id) == before

    # Valid: stored in the meeting's settings, shown on the live script.
    saved = client.post(path, data={**values, "answer": "请{应询人}同志作答。"}, headers=headers)
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?saved=saved"
    stored = json.loads(snapshot(settings, meeting_id)["settings"])
    assert stored["script"] == {"answer": "请{应询人}同志作答。"}
    assert "同志作答" in client.get(f"/m/{meeting_id}/script/print", headers=headers).text
    assert "已修改" in client.get(path, headers=headers).text

    # Reset one step: back to the default, the rest of the settings untouched.
    reset = client.post(path, data={**values, "reset": "answer"}, headers=headers)
    assert reset.status_code == 303
    after = json.loads(snapshot(settings, meeting_id)["settings"])
    assert after["script"] == {}
    assert {k: v for k, v in after.items() if k != "script"} == {
        k: v for k, v in stored.items() if k != "script"
    }
    assert "同志作答" not in client.get(f"/m/{meeting_id}/script/print", headers=headers).text

    # Staff only, with the CSRF token.
    assert client.post(path, data=values, headers={"cookie": headers["cookie"]}).status_code == 403
    assert client.get(path).status_code == 303
    assert client.post(path, data={**values, "reset": "nonsense"}, headers=headers).status_code == 400


def test_the_print_view_is_the_whole_agenda_on_a4(client: TestClient, keys: Keys, meeting_id: int) -> None:
    headers = staff_headers(client, keys)
    page = client.get(f"/m/{meeting_id}/script/print", headers=headers)
    assert page.status_code == 200
    assert re.search(r"<title>主持词 · [^<]+</title>", page.text)
    assert page.text.count('data-step="question"') >= 1
    assert script.BLANK in page.text
    assert "不足法定人数时改读" in page.text
    css = client.get("/static/script.css").text
    assert "@page { size: A4;" in css and "@media print" in css
    assert client.get(f"/m/{meeting_id}/script/print").status_code == 303  # staff only


def test_the_live_script_is_for_staff_or_a_paired_tablet(
    client: TestClient, keys: Keys, meeting_id: int
) -> None:
    page = client.get(f"/m/{meeting_id}/script", headers=staff_headers(client, keys))
    assert page.status_code == 200
    assert re.search(r"<title>主持词 · [^<]+</title>", page.text)
    assert 'ws-connect="/ws/1/script"'.replace("1", str(meeting_id)) in page.text
    assert 'aria-current="step"' in page.text
    # Anyone else gets a pairing code, never the script.
    anonymous = client.get(f"/m/{meeting_id}/script")
    assert anonymous.status_code == 200
    assert "主持词屏尚未配对" in anonymous.text and 'id="s-script"' not in anonymous.text
    tablet = keys.screen_cookie(meeting_id, "script")
    paired = client.get(f"/m/{meeting_id}/script", headers={"cookie": f"wz_screen={tablet}"})
    assert 'id="s-script"' in paired.text and "修改主持词" not in paired.text
    projector = keys.screen_cookie(meeting_id, "projector")
    other = client.get(f"/m/{meeting_id}/script", headers={"cookie": f"wz_screen={projector}"})
    assert 'id="s-script"' not in other.text


def test_a_vote_is_read_with_its_result() -> None:
    setup = _setup()
    setup = Setup(
        **{
            **{f.name: getattr(setup, f.name) for f in dataclasses.fields(setup)},
            "agenda": (*setup.agenda, AgendaItem(2, 2, "关于民生实事项目的决议", "vote")),
        }
    )
    state = initial_state(setup)
    printed = [line.text for s in script.printed_script(state) for line in s.lines]
    assert "现在对“关于民生实事项目的决议”进行表决，请各位代表在手机上按键。" in printed
    _do(state, OpenCheckIn(), *_check_in(1, 2, 3, 4, 5), StartAgendaItem(2))
    line = _next(state)
    assert line is not None and line.key == "vote"
    _do(state, OpenVote("关于民生实事项目的决议"))
    line = _next(state)
    assert line is not None and line.key == "vote_result" and any(p.blank for p in line.parts)
    votes = [VoteChoice.FOR] * 4 + [VoteChoice.AGAINST]
    _do(state, *[(CastVote(d, 1, c, f"k{d}"), Actor(Role.DEPUTY, d)) for d, c in enumerate(votes, start=1)])
    _do(state, CloseVote(), AnnounceVote())
    line = _next(state)
    assert line is not None
    assert line.text == "表决结果：赞成4票，反对1票，弃权0票，未按键0人。“关于民生实事项目的决议”获得通过。"


def test_a_followup_is_read_while_it_runs_and_is_optional_on_paper() -> None:
    state = _state()
    printed = [line for s in script.printed_script(state) for line in s.lines]
    assert [line.key for line in printed].count("followup") == 1
    assert [line.key for line in printed].count("followup_reply") == 1
    _do(state, OpenCheckIn(), *_check_in(1, 2, 3, 4), StartAgendaItem(1), CallQuestion(7))
    _do(state, AdvancePhase(Phase.ANSWERING), AdvancePhase(Phase.FOLLOWUP_ASK, 2))
    lines = [line for s in script.live_script(View(state)) for line in s.lines]
    followup = next(line for line in lines if line.key == "followup")
    assert followup.text == "请代表2代表追问。" and followup.status == "read"
    line = _next(state)
    assert line is not None and line.text == "请副镇长钱明答复追问。"
    _do(state, AdvancePhase(Phase.FOLLOWUP_REPLY))
    line = _next(state)
    assert line is not None and line.key == "rate"
    _do(state, OpenRating())
    keys = [line.key for s in script.live_script(View(state)) for line in s.lines]
    assert "followup" not in keys and "followup_reply" not in keys  # over: the script reads on


def test_the_script_socket_is_for_staff_or_a_paired_tablet(
    client: TestClient, keys: Keys, meeting_id: int
) -> None:
    path = f"/ws/{meeting_id}/script"
    refused = ["", f"wz_screen={keys.screen_cookie(meeting_id, 'projector')}"]
    refused.append(f"wz_screen={keys.screen_cookie(meeting_id + 1, 'script')}")  # another meeting's
    for cookie in refused:
        headers = {"cookie": cookie} if cookie else {}
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(path, headers=headers):
            pass
        assert closed.value.code == 1008, cookie
    tablet = f"wz_screen={keys.screen_cookie(meeting_id, 'script')}"
    for cookie in (tablet, staff_headers(client, keys)["cookie"]):
        with client.websocket_connect(path, headers={"cookie": cookie}) as ws:
            ws.send_text(json.dumps({"type": "hello", "seq": -1}))
            snapshot_html = ws.receive_text()
            assert snapshot_html.startswith('<main id="s-script"') and 'aria-current="step"' in snapshot_html


def test_a_rating_opened_without_the_quorum_is_read_without_a_grade() -> None:
    """Two of six present: the rating may open past the warning, and the chair reads what
    the projector shows — 不评定等次, the base and why — never a grade (issue 16)."""
    state = _state()
    _do(state, OpenCheckIn(), *_check_in(1, 2), StartAgendaItem(1), CallQuestion(7))
    _do(state, AdvancePhase(Phase.ANSWERING), OpenRating(without_quorum=True))
    _do(
        state,
        (CastRating(1, 7, Choice.SATISFIED, "k1"), Actor(Role.DEPUTY, 1)),
        (CastRating(2, 7, Choice.BASIC, "k2"), Actor(Role.DEPUTY, 2)),
        CloseRating(),
    )
    line = _next(state)
    assert line is not None and line.key == "result"
    assert "测评结果为：不评定等次（以" in line.text and "不足法定人数时开始，结果仅供参考" in line.text
    assert not re.search(r"测评结果为：(满意|基本满意|不满意)", line.text)
