"""What the console operator and the phones are told about the current step
(screens/operator.py): the panels that rise, what granting a request does, what a
phone offers, the vote form's matter, and the line each console click answers with."""

from __future__ import annotations

from live.commands import (
    AdvancePhase,
    AnnounceVote,
    CallQuestion,
    CloseRating,
    CloseVote,
    GrantFloor,
    OpenRating,
    OpenVote,
    RequestFloor,
    StartAgendaItem,
)
from live.state import FloorKind, MeetingState, Phase
from screens import console_done, operator
from tests.conftest import Hall
from tests.live.conftest import ITEM_1, ITEM_2, Q1, check_in, deputy, fresh_state, step

SPEECH, FOLLOWUP = FloorKind.SPEECH, FloorKind.FOLLOWUP


def hall() -> MeetingState:
    state = fresh_state()
    check_in(state, 1, 2, 3, 4)
    return state


def test_the_panels_of_the_current_step_rise() -> None:
    state = hall()
    assert operator.lifted(state) == {"questions"}
    step(state, OpenVote("决议"))
    assert operator.lifted(state) == {"vote"}  # no question may be called while it is open
    step(state, CloseVote())
    assert operator.lifted(state) == {"vote", "questions"}  # 宣布结果, 重新表决
    step(state, AnnounceVote())
    assert operator.lifted(state) == {"vote-settled", "questions"}
    step(state, CallQuestion(Q1))
    assert operator.lifted(state) == frozenset()
    step(state, AdvancePhase(Phase.ANSWERING))
    step(state, RequestFloor(2, FOLLOWUP), deputy(2))
    assert operator.lifted(state) == {"floor"}
    step(state, OpenRating())
    assert operator.lifted(state) == {"floor", "rating"}


def test_the_queue_says_what_granting_does_or_why_not_yet() -> None:
    state = hall()
    step(state, StartAgendaItem(ITEM_2))
    step(state, RequestFloor(3, SPEECH), deputy(3))
    speech = state.floor_queue[0]
    assert operator.grant_of(state, speech) == operator.Grant(
        True, "给予发言", "准许后开始发言计时（首次发言 10 分钟）"
    )
    step(state, CallQuestion(Q1))
    assert operator.grant_of(state, speech) == operator.Grant(False, "给予发言", "当前问题测评结束后才能准许")
    step(state, AdvancePhase(Phase.ANSWERING))
    step(state, RequestFloor(2, FOLLOWUP), deputy(2))
    followup = state.floor_queue[1]
    assert operator.grant_of(state, followup).note == "准许后将进入追问环节，开始追问计时"
    step(state, RequestFloor(4, FOLLOWUP), deputy(4))
    step(state, GrantFloor(2))
    waiting = operator.grant_of(state, state.floor_queue[1])
    assert not waiting.can and waiting.note == "本轮追问答复开始后才能准许"
    step(state, AdvancePhase(Phase.FOLLOWUP_REPLY))
    assert operator.grant_of(state, state.floor_queue[1]).can
    step(state, OpenRating())
    assert operator.grant_of(state, speech).note == "测评或表决结束后才能准许"
    step(state, CloseRating())
    assert not operator.grant_of(state, state.floor_queue[1]).can  # the question is over


def test_a_phone_offers_only_what_can_be_granted() -> None:
    state = hall()
    assert operator.floor_offer(state) == ()  # in no item yet
    step(state, CallQuestion(Q1))  # enters the 问政 item
    assert operator.floor_offer(state) == ()
    assert "答复开始后可申请追问" in operator.floor_later(state)
    step(state, AdvancePhase(Phase.ANSWERING))
    assert operator.floor_offer(state) == (FOLLOWUP,)
    step(state, OpenRating())
    assert operator.floor_offer(state) == ()
    assert operator.floor_later(state) == "测评或表决结束后可申请发言。"
    step(state, CloseRating())
    assert operator.floor_offer(state) == (SPEECH,)
    assert operator.floor_later(state) == ""


def test_the_vote_form_takes_its_matter_from_the_agenda() -> None:
    state = hall()
    titles = {i.id: i.title for i in state.setup.agenda}
    assert operator.vote_title(state) == titles[ITEM_1]  # none current: the next item
    step(state, StartAgendaItem(ITEM_2))
    assert operator.vote_title(state) == titles[ITEM_2]


def test_each_console_click_answers_with_what_it_did() -> None:
    assert console_done.done({"cmd": "open_rating"}) == "已开始测评"
    assert console_done.done({"cmd": "announce_vote"}) == "已宣布结果"
    assert console_done.done({"cmd": "open_vote", "title": "决议"}) == "已开始表决"
    assert console_done.done({"cmd": "open_vote", "revote_of": "7"}) == "已开始新一轮表决"
    assert console_done.done({"cmd": "close_vote"}) == "已结束表决"
    assert console_done.done({"cmd": "check_in", "deputy_id": "3"}, "王建国") == "已签到：王建国"
    assert console_done.done({"cmd": "timer_adjust", "seconds": "-60"}) == "已减1分钟"
    assert console_done.done({"cmd": "banner", "text": " "}) == "字幕已撤下"
    assert console_done.done({"cmd": "show", "focus": "vote"}) == "投影屏已显示表决"
    assert console_done.done({"cmd": "something_new"}) == "已完成"
    assert all(text for text in console_done.DONE.values())


def test_the_server_answers_a_console_click_with_what_it_did(hall: Hall) -> None:
    assert 'role="status">已开始签到<' in hall.act_ok("open_checkin").text
    assert ">已签到：" in hall.act_ok("check_in", deputy_id=1).text
    assert ">已进入议程<" in hall.act_ok("start_agenda", item_id=3).text
    hall.check_in_quorum(1)  # with the quorum present, the empty title is what is refused
    refused = hall.act("open_vote", title="")
    assert refused.status_code in (400, 409)
    assert "请填写表决事项" in refused.text and 'role="alert"' in refused.text
