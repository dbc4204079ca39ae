"""The rules of follow-up (server/office/followup_rules.py): the reply deadline counted in
calendar months from the 交办 day (month ends, leap years, 1 to 6 months), overdue at the
boundary day, due within N days, and the legal status changes (B/C stay open, only staff
close, closing B/C needs a reason, 重新办理 leads back to a reply)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.office import followup_rules as r

D = dt.date


@pytest.mark.parametrize(
    ("assigned", "months", "due"),
    [
        (D(2026, 3, 15), 3, D(2026, 6, 15)),  # the default period, same day of the month
        (D(2026, 11, 30), 3, D(2027, 2, 28)),  # no 02-30: the month's last day
        (D(2027, 11, 30), 3, D(2028, 2, 29)),  # a leap year's
        (D(2026, 8, 31), 1, D(2026, 9, 30)),
        (D(2026, 10, 15), 6, D(2027, 4, 15)),  # across the year, the maximum
        (D(2026, 12, 31), 2, D(2027, 2, 28)),
    ],
)
def test_the_reply_deadline_is_calendar_months_from_the_assignment_day(
    assigned: dt.date, months: int, due: dt.date
) -> None:
    assert r.reply_due(assigned, months) == due


def test_three_months_by_default_and_one_to_six_only() -> None:
    assert r.reply_due(D(2026, 1, 10)) == D(2026, 4, 10)
    for months in (0, 7, -1, 12):
        with pytest.raises(r.RuleBroken, match="1 至 6 个月"):
            r.reply_due(D(2026, 1, 10), months)


def test_overdue_only_after_the_deadline_day_and_only_while_a_reply_is_awaited() -> None:
    due = D(2026, 6, 15)
    assert not r.overdue(r.HANDLING, due, D(2026, 6, 15))  # the deadline day is still in time
    assert r.overdue(r.HANDLING, due, D(2026, 6, 16))  # the day after is overdue
    assert r.overdue(r.REDO, due, D(2026, 6, 16))  # sent back: a second reply is awaited
    assert not r.overdue(r.REPLIED, due, D(2027, 1, 1))  # replied (B/C open, but not overdue)
    assert not r.overdue(r.CLOSED, due, D(2027, 1, 1))


def test_due_within_days_counts_today_to_the_last_day_inclusive() -> None:
    due = D(2026, 6, 15)
    assert r.due_within(r.HANDLING, due, D(2026, 6, 8), 7)
    assert not r.due_within(r.HANDLING, due, D(2026, 6, 7), 7)
    assert r.due_within(r.HANDLING, due, D(2026, 6, 15), 7)
    assert not r.due_within(r.HANDLING, due, D(2026, 6, 16), 7)  # overdue now, not "due soon"
    assert not r.due_within(r.REPLIED, due, D(2026, 6, 10), 7)


def test_the_legal_path_reply_then_close() -> None:
    r.check_move(r.HANDLING, r.REPLIED, r.ORGAN, "A", None, "")
    r.check_move(r.HANDLING, r.REPLIED, r.STAFF, "B", None, "")
    r.check_move(r.REPLIED, r.CLOSED, r.STAFF, None, "A", "")
    r.check_move(r.REPLIED, r.REDO, r.STAFF, None, "A", "代表不满意")
    r.check_move(r.REDO, r.REPLIED, r.ORGAN, "C", "A", "")


@pytest.mark.parametrize(
    ("status", "to"),
    [
        (r.HANDLING, r.CLOSED),  # no close before a reply
        (r.HANDLING, r.REDO),
        (r.CLOSED, r.HANDLING),  # closed is final
        (r.CLOSED, r.REPLIED),
        (r.REDO, r.CLOSED),
        (r.REPLIED, r.HANDLING),
    ],
)
def test_illegal_changes_are_refused(status: str, to: str) -> None:
    with pytest.raises(r.RuleBroken, match="不能从"):
        r.check_move(status, to, r.STAFF, "A", "A", "理由")


def test_a_reply_needs_its_class() -> None:
    for bad in (None, "D", ""):
        with pytest.raises(r.RuleBroken, match="答复类别"):
            r.check_move(r.HANDLING, r.REPLIED, r.STAFF, bad, None, "")


def test_only_staff_close_and_only_staff_send_back() -> None:
    with pytest.raises(r.RuleBroken, match="只有人大办公室"):
        r.check_move(r.REPLIED, r.CLOSED, r.ORGAN, None, "A", "")
    with pytest.raises(r.RuleBroken, match="只有人大办公室"):
        r.check_move(r.REPLIED, r.REDO, r.ORGAN, None, "A", "理由")


@pytest.mark.parametrize("cls", ["B", "C"])
def test_b_and_c_stay_open_unless_staff_close_them_with_a_reason(cls: str) -> None:
    with pytest.raises(r.RuleBroken, match=f"{cls} 类答复"):
        r.check_move(r.REPLIED, r.CLOSED, r.STAFF, None, cls, "  ")
    r.check_move(r.REPLIED, r.CLOSED, r.STAFF, None, cls, "列入明年计划，转入常态监督")
    assert not r.overdue(r.REPLIED, D(2026, 1, 1), D(2030, 1, 1))  # open, but not overdue


def test_sending_back_needs_a_reason() -> None:
    with pytest.raises(r.RuleBroken, match="重新办理须写明理由"):
        r.check_move(r.REPLIED, r.REDO, r.STAFF, None, "A", "")


def test_the_board_order_overdue_then_due_soon_then_the_rest_then_closed() -> None:
    today = D(2026, 6, 1)
    ranks = {
        "closed": r.board_rank(r.CLOSED, D(2026, 5, 1), today),
        "later": r.board_rank(r.HANDLING, D(2026, 9, 1), today),
        "soon": r.board_rank(r.HANDLING, D(2026, 6, 14), today),
        "overdue": r.board_rank(r.HANDLING, D(2026, 5, 31), today),
        "replied": r.board_rank(r.REPLIED, D(2026, 5, 1), today),
    }
    order = sorted(ranks, key=lambda k: ranks[k])
    assert order[:2] == ["overdue", "soon"]
    assert order[-1] == "closed"
    assert r.board_rank(r.HANDLING, D(2026, 6, 15), today)[0] == 1  # day 14 is "soon"
    assert r.board_rank(r.HANDLING, D(2026, 6, 16), today)[0] == 2
