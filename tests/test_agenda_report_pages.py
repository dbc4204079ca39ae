"""The next session takes a progress report as an agenda item, through the real server:
staff add the item on the meeting's edit page (CSRF, a Chinese refusal that writes
nothing), the chair makes it current, the projector shows the report's figures, the
deputies rate it on their phones as any report is rated (receipts, sealed ballots, the
tally at the close), and the projector shows the result with the figures.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.base.settings import Settings
from server.office.bodies import create_body
from server.storage import models as m
from tests.conftest import Db, Hall, TestClient
from tests.test_agenda_reports import TITLE, WHO, save_report
from tests.test_http import chinese
from tests.test_meetings_admin import run, staff_headers

FIGURES_SHOWN = (
    "交办",
    "12",
    "已办结",
    "5",
    "正在办理",
    "7",
    "逾期",
    "2",
    "A 类",
    "4",
    "B 类",
    "3",
    "C 类",
    "1",
)


def _report(settings: Settings, meeting_id: int, *, elsewhere: bool = False) -> int:
    async def fn(conn: AsyncConnection) -> int:
        body = (
            await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
        ).scalar_one()
        if elsewhere:
            body = await create_body(conn, "某市人大常委会", "standing_committee", "city", WHO)
        return await save_report(conn, int(body))

    return int(run(settings.database_url, fn))


def _written(settings: Settings, meeting_id: int) -> tuple[int, int]:
    async def fn(conn: AsyncConnection) -> tuple[int, int]:
        a = m.agenda_items
        items = (await conn.execute(select(func.count()).where(a.c.meeting_id == meeting_id))).scalar_one()
        trail = (await conn.execute(select(func.count()).select_from(m.audit))).scalar_one()
        return int(items), int(trail)

    return tuple(run(settings.database_url, fn))  # type: ignore[return-value]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.replace("<wbr>", "")).split())


def test_staff_add_the_item_and_bad_choices_are_refused(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    url = f"/meetings/{meeting_id}/edit"
    headers = staff_headers(client, keys)
    empty = client.get(url, headers=headers).text
    assert 'id="m-no-reports"' in empty and "尚未生成督办进展报告" in empty
    ours = _report(settings, meeting_id)
    theirs = _report(settings, meeting_id, elsewhere=True)
    offer = re.search(r'id="m-agenda-report".*?</form>', client.get(url, headers=headers).text, re.S)
    assert offer is not None
    assert f'<option value="{ours}">{TITLE}' in offer.group(0) and f'value="{theirs}"' not in offer.group(0)
    before = _written(settings, meeting_id)
    no_csrf = {"cookie": headers["cookie"]}
    refused = client.post(url, data={"action": "agenda_report", "report_id": str(ours)}, headers=no_csrf)
    assert refused.status_code == 403
    bad = client.post(url, data={"action": "agenda_report", "report_id": str(theirs)}, headers=headers)
    assert bad.status_code == 400 and 'id="m-report-error"' in bad.text
    chinese(bad.text, "所选进展报告不是本机构的")
    assert _written(settings, meeting_id) == before
    done = client.post(url, data={"action": "agenda_report", "report_id": str(ours)}, headers=headers)
    assert done.status_code == 303
    items, trail = _written(settings, meeting_id)
    assert (items, trail) == (before[0] + 1, before[1] + 1)  # one item, one audit entry
    page = client.get(url, headers=headers).text
    assert "听取督办进展报告《" in page and "交办 12 项，已办结 5 项" in page
    again = client.post(url, data={"action": "agenda_report", "report_id": str(ours)}, headers=headers)
    assert again.status_code == 400
    chinese(again.text, "本次会议已有听取该进展报告的议程")


def test_the_session_hears_and_rates_the_report(
    client: TestClient, keys: Keys, hall: Hall, db: Db, settings: Settings, meeting_id: int
) -> None:
    report_id = _report(settings, meeting_id)
    form = {
        "action": "agenda_report",
        "report_id": str(report_id),
        "item_title": "听取问政会所提问题推进落实情况的报告",
    }
    added = client.post(f"/meetings/{meeting_id}/edit", data=form, headers=staff_headers(client, keys))
    assert added.status_code == 303
    item = next(i for i in db.state().setup.agenda if i.report is not None)
    assert item.report is not None and item.report.total == 12
    hall.check_in_quorum(1, 2, 3)
    hall.act_ok("start_agenda", item_id=item.id)
    projector = _text(hall.projector())
    assert "督办进展报告" in projector and "听取问政会所提问题推进落实情况的报告" in projector
    for label, n in (("交办", 12), ("已办结", 5), ("正在办理", 7), ("逾期", 2)):
        assert f"{label} {n} 项" in projector, label
    console = hall.console()
    assert "对本项测评" in console and "（督办进展报告）" in console
    assert "交办 12 项 · 已办结 5 项" in _text(client.get(f"/m/{meeting_id}/live").text)
    hall.act_ok("open_item_rating")
    phone = hall.deputy_page(1)
    key = re.search(r'name="question_id" value="(-\d+)"', phone)
    assert key and int(key.group(1)) == -item.id, "the ballot is the item's, as for any report"
    assert "交办 12 项 · 已办结 5 项" in _text(phone)
    for d, choice in ((1, "satisfied"), (2, "basic"), (3, "satisfied")):
        reply = hall.rate(d, -item.id, choice)
        assert reply.status_code == 200 and 'id="d-receipt"' in reply.text
    assert set(db.receipts(-item.id)) == {1, 2, 3}
    assert db.ballots(-item.id) == {"satisfied": 2, "basic": 1, "dissatisfied": 0}
    hall.act_ok("close_rating")
    result = db.state().ratings[-item.id].result
    assert result is not None and result.cast == 3 and result.base == 48
    assert result.grade is not None and result.grade.value == "dissatisfied"  # 3 of 48 members
    shown = _text(hall.projector())
    assert "测评结果" in shown and "满意 2 票" in shown and "基本满意 1 票" in shown
    assert "交办 12 项：已办结 5 · 正在办理 7 · 逾期 2" in shown  # the figures stay with the result
    assert hall.act("open_item_rating").status_code == 409  # rated once, as any item
    # The meeting has begun: its agenda is fixed, another report cannot be added.
    other = _report(settings, meeting_id)
    before = _written(settings, meeting_id)
    late = {"action": "agenda_report", "report_id": str(other)}
    refused = client.post(f"/meetings/{meeting_id}/edit", data=late, headers=staff_headers(client, keys))
    assert refused.status_code == 409 and "复制为新会议" in refused.text
    assert _written(settings, meeting_id) == before
