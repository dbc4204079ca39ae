"""The quorum, the truthful grade and the paper count over HTTP (issue 16).

The rules themselves are tested in tests/live (test_votes.py, test_ratings.py); here: the
console's forms parse into the commands, a bad paper count is refused in Chinese and
writes nothing, the sealed ballots become the paper totals, the audit trail says what
happened to the phone ballots, and every screen carries the note and the rule.
"""

from __future__ import annotations

import re

import pytest

from live.rules import grade
from live.setup import Denominator, RatingRule
from live.state import Choice
from screens.view import tally_of
from server.storage import models as m
from tests.conftest import Db, Hall
from tests.test_http import chinese
from tests.test_votes import rows

PAPER = {
    "satisfied": "20",
    "basic": "8",
    "dissatisfied": "2",
    "scrutineers": "王建国、李秀英",
    "counters": "张志强",
    "keep_electronic": "keep",
}


def rating_open(hall: Hall, present: int) -> list[int]:
    """``present`` deputies checked in, question 1 answered and its rating open."""
    hall.act_ok("open_checkin")
    for d in range(1, present + 1):
        hall.act_ok("check_in", deputy_id=d)
    hall.act_ok("call_question", question_id=1)
    hall.act_ok("to_answering")
    hall.act_ok("open_rating", without_quorum="1" if present < 32 else "0")
    return list(range(1, present + 1))


def test_without_the_quorum_the_console_warns_and_the_result_has_no_grade(hall: Hall, db: Db) -> None:
    hall.act_ok("open_checkin")
    for d in (1, 2, 3):
        hall.act_ok("check_in", deputy_id=d)
    hall.act_ok("call_question", question_id=1)
    hall.act_ok("to_answering")
    console = hall.console()
    assert 'id="c-rating-quorum"' in console and "实到 3 人，需 32 人" in console
    assert "仍开始测评（仅供参考）" in console and '"without_quorum": "1"' in console
    before = rows(db, m.events)
    refused = hall.act("open_rating")  # a stale console, or the key without the warning
    assert refused.status_code == 409
    chinese(refused.text, "不足法定人数（应到 48 人，实到 3 人，需 32 人）")
    assert rows(db, m.events) == before
    hall.act_ok("open_rating", without_quorum="1")
    live = hall.http.get(f"/m/{hall.meeting_id}/live").text  # said while it runs, too
    assert (
        "不足法定人数时开始，结果仅供参考" in live and "不足法定人数时开始，结果仅供参考" in hall.projector()
    )
    for d, choice in ((1, "satisfied"), (2, "basic")):
        assert hall.rate(d, 1, choice).status_code == 200
    hall.act_ok("close_rating")
    for page in (hall.projector(), hall.http.get(f"/m/{hall.meeting_id}/live").text, hall.deputy_page(1)):
        assert "不评定等次" in page and "不足法定人数时开始，结果仅供参考" in page
        assert "grade-dissatisfied" not in page
    assert "以应到人数 48 为基数" in hall.projector()


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"keep_electronic": ""}, 400, "“已投电子票的处理”填写有误"),
        ({"keep_electronic": "maybe"}, 400, "“已投电子票的处理”填写有误"),
        ({"satisfied": "-1"}, 400, "“满意票数”填写有误"),
        ({"basic": "许多"}, 400, "“基本满意票数”填写有误"),
        ({"scrutineers": "  "}, 409, "请填写监票人和计票人的姓名"),
        ({"counters": "甲" * 61}, 409, "请填写监票人和计票人的姓名"),
        ({"satisfied": "40"}, 409, "不能超过实到人数 32 人"),
    ],
)
def test_a_bad_paper_count_is_refused_in_chinese_and_changes_nothing(
    hall: Hall, db: Db, change: dict[str, str], status: int, needle: str
) -> None:
    rating_open(hall, 32)
    assert hall.rate(1, 1, "satisfied").status_code == 200
    before = rows(db, m.events)
    reply = hall.act("paper_rating", **{**PAPER, **change})
    assert reply.status_code == status, reply.text
    chinese(reply.text, needle)
    assert rows(db, m.events) == before
    assert db.state().rating_open()


def test_no_paper_count_without_an_open_rating(hall: Hall) -> None:
    reply = hall.act("paper_rating", **PAPER)
    assert reply.status_code == 409
    chinese(reply.text, "测评尚未开始或已经结束")


@pytest.mark.parametrize("keep", [True, False])
def test_the_paper_count_closes_the_rating_and_is_on_the_record(hall: Hall, db: Db, keep: bool) -> None:
    rating_open(hall, 32)
    for d, choice in ((1, "satisfied"), (2, "dissatisfied")):
        assert hall.rate(d, 1, choice).status_code == 200
    hall.act_ok("paper_rating", **{**PAPER, "keep_electronic": "keep" if keep else "discard"})
    state = db.state()
    result = state.ratings[1].result
    assert result is not None and not state.rating_open()
    want = (21, 8, 3) if keep else (20, 8, 2)
    assert (result.count("satisfied"), result.count("basic"), result.count("dissatisfied")) == want  # type: ignore[arg-type]
    assert result.paper is not None and (result.paper.kept, result.paper.discarded) == (
        (2, 0) if keep else (0, 2)
    )
    # The sealed phone ballots are gone; the totals are the paper count's.
    assert rows(db, m.sealed_ballots) == []
    assert {t.choice: t.n for t in rows(db, m.rating_tallies)} == dict(
        zip(("satisfied", "basic", "dissatisfied"), want, strict=True)
    )
    projector = hall.projector()
    assert "（纸质计票）</span>：" in projector and "监票人：王建国、李秀英" in projector
    audit = hall.http.get(f"/m/{hall.meeting_id}/audit", headers=hall.chair_headers()).text
    kept = "已投电子票 2 张保留并计入总数" if keep else "已投电子票 2 张作废"
    assert re.search(rf"纸质计票，{kept}；监票人：王建国、李秀英，计票人：张志强", audit), audit[-3000:]


def test_what_stands_in_the_grade_s_place_and_the_rule_beside_it() -> None:
    """The screens' words for each case (screens/view.py tally_of)."""
    rule = RatingRule(Denominator.PRESENT, min_ballots=31)
    cases = {
        # (counts, quorum at open): (what stands in the grade's place, note)
        ((30, 0, 0), True): ("无有效评价", "有效票 30 张，少于本次会议规定的 31 张"),
        ((0, 0, 0), True): ("无有效评价", "没有代表参加测评"),
        ((31, 0, 0), False): ("不评定等次", "不足法定人数时开始，结果仅供参考"),
        ((31, 0, 0), True): ("满意", ""),
    }
    for (counts, quorum), (verdict, note) in cases.items():
        result = grade(1, dict(zip(Choice, counts, strict=True)), rule, members=48, present=45, quorum=quorum)
        tally = tally_of(result, False, rule)
        assert (tally.verdict, tally.note, tally.rule) == (verdict, note, "以实到人数 45 为基数")
        assert (tally.grade_key == "satisfied") is (verdict == "满意")
