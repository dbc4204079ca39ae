"""Rating a report (an agenda item) through the real server: the same ballots, rules and
screens as an answer's rating (DOMAIN.md, "Satisfaction evaluation")."""

from __future__ import annotations

import re

from tests.conftest import Db, Hall, TestClient
from tests.test_http import chinese

REPORT = "听取镇人民政府上半年工作报告"


def test_a_report_is_rated_on_the_phones(client: TestClient, hall: Hall, db: Db) -> None:
    hall.check_in_quorum(1, 2, 3)  # a report is rated with the quorum present (issue 16)
    refused = hall.act("open_item_rating")
    assert refused.status_code == 409
    chinese(refused.text, "请先进入要测评的议程")
    item = next(i.id for i in db.state().setup.agenda if i.title == REPORT)
    hall.act_ok("start_agenda", item_id=item)
    console = hall.console()
    assert "对本项测评" in console
    # The session panel speaks of this item, not of questions nobody is asking now.
    assert f"当前议程：{REPORT}" in console and 'id="c-item-hint"' in console
    assert "尚未开始提问" not in console and "本项尚未开始测评" in console
    hall.act_ok("open_item_rating")
    projector = hall.projector().replace("<wbr>", "")  # titles carry line-break points
    assert "满意度测评" in projector and REPORT in projector
    phone = hall.deputy_page(1)
    key = re.search(r'name="question_id" value="(-\d+)"', phone)
    assert key and int(key.group(1)) == -item, "the ballot names the item"
    for d, choice in ((1, "satisfied"), (2, "satisfied"), (3, "dissatisfied")):
        reply = hall.rate(d, -item, choice)
        assert reply.status_code == 200 and 'id="d-receipt"' in reply.text
    assert set(db.receipts(-item)) == {1, 2, 3}
    assert db.ballots(-item) == {"satisfied": 2, "basic": 0, "dissatisfied": 1}
    hall.act_ok("close_rating")
    state = db.state()
    result = state.ratings[-item].result
    assert result is not None and result.cast == 3 and result.base == 48
    assert result.grade is not None and result.grade.value == "dissatisfied"  # 2 of 48 members
    assert "测评结果" in hall.projector()
    assert f"满意度测评：{REPORT}" in client.get("/m/1/live").text
    again = hall.act("open_item_rating")
    assert again.status_code == 409
    chinese(again.text, "该议程已完成测评")
