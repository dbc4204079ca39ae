"""The deputies' part of the follow-up rules (server/office/followup_rules.py): a 不满意 of
the current reply is the one way a deputy moves an item (已答复 → 重新办理), there is
nothing to judge before a reply, after 重新办理 or once closed, and a 不同意办结 makes
closing need a written reason."""

from __future__ import annotations

import pytest

from server.office import followup_rules as r


def test_only_a_dissatisfied_verdict_sends_the_item_back() -> None:
    assert r.after_judgment(r.REPLIED, r.DISSATISFIED) == r.REDO
    assert r.after_judgment(r.REPLIED, r.SATISFIED) is None  # stays 已答复
    assert r.after_judgment(r.REPLIED, r.BASIC) is None


@pytest.mark.parametrize("status", [r.HANDLING, r.REDO, r.CLOSED])
def test_nothing_to_judge_without_a_current_reply(status: str) -> None:
    for verdict in r.VERDICTS:
        with pytest.raises(r.RuleBroken, match="没有待评价的答复"):
            r.after_judgment(status, verdict)


@pytest.mark.parametrize("verdict", ["", "满意", "SATISFIED", "good", "dissatisfied "])
def test_a_verdict_is_one_of_three(verdict: str) -> None:
    with pytest.raises(r.RuleBroken, match="满意、基本满意或不满意"):
        r.after_judgment(r.REPLIED, verdict)


def test_the_deputy_may_make_the_redo_move_and_no_other() -> None:
    r.check_move(r.REPLIED, r.REDO, r.DEPUTY, None, "A", "代表不满意")
    with pytest.raises(r.RuleBroken, match="须写明理由"):
        r.check_move(r.REPLIED, r.REDO, r.DEPUTY, None, "A", " ")
    for status, to, cls in (
        (r.REPLIED, r.CLOSED, None),  # only staff close
        (r.HANDLING, r.REPLIED, "A"),  # replying is the organ's
        (r.REDO, r.REPLIED, "A"),
    ):
        with pytest.raises(r.RuleBroken, match="代表只能通过“不满意”的评价要求重新办理"):
            r.check_move(status, to, r.DEPUTY, cls, "A", "理由")
    # Moves that are illegal for anyone stay illegal for a deputy.
    with pytest.raises(r.RuleBroken, match="不能从"):
        r.check_move(r.REDO, r.CLOSED, r.DEPUTY, None, "A", "理由")


def test_an_objection_makes_closing_need_a_reason() -> None:
    r.check_move(r.REPLIED, r.CLOSED, r.STAFF, None, "A", "")  # no objection: an A item closes
    with pytest.raises(r.RuleBroken, match="有代表不同意办结，办结须写明理由"):
        r.check_move(r.REPLIED, r.CLOSED, r.STAFF, None, "A", "  ", objected=True)
    r.check_move(r.REPLIED, r.CLOSED, r.STAFF, None, "A", "已与代表当面沟通，代表认可", objected=True)
    # The objection asks for a reason; it does not let anyone but staff close.
    with pytest.raises(r.RuleBroken, match="只有人大办公室工作人员"):
        r.check_move(r.REPLIED, r.CLOSED, r.ORGAN, None, "A", "理由", objected=True)
    # It concerns closing only: sending back needs no more than before.
    r.check_move(r.REPLIED, r.REDO, r.STAFF, None, "A", "代表不满意", objected=True)


def test_an_objection_needs_a_reason_of_at_most_500_characters_and_a_reply() -> None:
    assert r.check_objection(r.REPLIED, "  路面仍未修好  ") == "路面仍未修好"
    assert r.check_objection(r.REPLIED, "字" * 500) == "字" * 500
    for bad in ("", "   ", "字" * 501):
        with pytest.raises(r.RuleBroken, match="不同意办结的理由"):
            r.check_objection(r.REPLIED, bad)
    for status in (r.HANDLING, r.REDO, r.CLOSED):
        with pytest.raises(r.RuleBroken, match="没有待评价的答复"):
            r.check_objection(status, "理由")
