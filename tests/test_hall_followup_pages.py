"""From the hall into follow-up over HTTP: the console's 承诺事项 panel beside the current
question (htmx: only the panel comes back), the same lines on the 交办督办 page (plain
forms, back to the question's row), what the hall did with each question and its graded
rating on that page, written answers in the decision form and in the board's item by hand.
Bad input answers 400 with its Chinese message and changes nothing; without a login the
panel sends to the login page."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.base.settings import Settings
from server.storage import models as m
from tests.conftest import Db, Hall, TestClient
from tests.test_csrf import everything
from tests.test_followup_pages import body_of, item_id_of, questions
from tests.test_meetings_admin import run, staff_headers

HTMX = {"hx-request": "true"}


def lines(settings: Settings) -> list[tuple[int, str]]:
    async def fn(conn: AsyncConnection) -> list[tuple[int, str]]:
        qc = m.question_commitments
        return [
            (int(q), str(t))
            for q, t in await conn.execute(select(qc.c.question_id, qc.c.text).order_by(qc.c.id))
        ]

    return list(run(settings.database_url, fn))


def decision_form(qs: list[int], **more: str) -> dict[str, Any]:
    form: dict[str, Any] = {
        "organ": "主席团",
        "decided_on": "2026-11-30",
        "document_no": "清溪人大〔2026〕7号",
    }
    form["reply_months"] = "3"
    form |= {f"item_{q}": "1" for q in qs}
    return form | more


def test_the_console_panel_adds_and_deletes_a_current_questions_commitments(
    client: TestClient, hall: Hall, settings: Settings, db: Db, meeting_id: int
) -> None:
    qs = questions(settings, meeting_id)
    url = f"/m/{meeting_id}/questions/{qs[0]}/commitments"
    assert client.get(url).status_code == 303  # no login
    assert f'id="c-commit-{qs[0]}"' not in hall.console()  # no question current: no panel
    hall.act_ok("call_question", question_id=qs[0])
    console = hall.console()
    assert f'id="c-commit-{qs[0]}"' in console and f'hx-get="{url}"' in console
    assert 'hx-preserve="true"' in console.split(f'id="c-commit-{qs[0]}"')[1].split(">")[0]
    headers = hall.chair_headers() | HTMX
    panel = client.get(url, headers=headers)
    assert panel.status_code == 200 and "承诺事项" in panel.text and "0 条" in panel.text
    added = client.post(url, data={"text": "年底前完成农贸市场雨棚改造"}, headers=headers)
    assert added.status_code == 200 and "年底前完成农贸市场雨棚改造" in added.text and "1 条" in added.text
    assert "<html" not in added.text  # only the panel: the console around it is untouched
    assert lines(settings) == [(qs[0], "年底前完成农贸市场雨棚改造")]
    # A reload asks for the panel again and finds the line.
    assert "年底前完成农贸市场雨棚改造" in client.get(url, headers=headers).text
    before = everything(db)
    too_long = client.post(url, data={"text": "长" * 301}, headers=headers)
    assert (
        too_long.status_code == 400
        and "不超过 300 个字" in too_long.text
        and 'class="c-commit-error"' in too_long.text
    )
    assert everything(db) == before
    other_meeting = client.post(
        f"/m/{meeting_id + 99}/questions/{qs[0]}/commitments", data={"text": "x"}, headers=headers
    )
    assert other_meeting.status_code == 400 and "不属于这次会议" in other_meeting.text
    assert everything(db) == before
    line_id = int(re.search(r"/commitments/(\d+)/delete", added.text).group(1))  # type: ignore[union-attr]
    removed = client.post(f"{url}/{line_id}/delete", data={}, headers=headers)
    assert removed.status_code == 200 and "年底前完成" not in removed.text and lines(settings) == []
    audit = client.get(f"/m/{meeting_id}/audit", headers=hall.chair_headers()).text
    assert "记录问题的承诺事项" in audit and "删除问题的承诺事项" in audit


def test_the_decision_page_shows_the_hall_and_keeps_commitments_and_written_answers(
    client: TestClient, hall: Hall, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    qs = questions(settings, meeting_id)
    # The hall: the first question asked and rated by the quorum, the second only asked.
    present = hall.check_in_quorum()
    hall.act_ok("close_checkin")
    hall.act_ok("call_question", question_id=qs[0])
    hall.act_ok("to_answering")
    hall.act_ok("open_rating")
    for n, d in enumerate(present[:30]):
        assert hall.rate(d, qs[0], "satisfied" if n < 25 else "basic").status_code == 200
    hall.act_ok("close_rating")
    hall.act_ok("call_question", question_id=qs[1])
    headers = staff_headers(client, keys)
    url = f"/m/{meeting_id}/followup"
    page = client.get(url, headers=headers).text
    row = page.split(f'id="fu-c-{qs[0]}"')[1].split("</li>")[0]
    # 25 of the 48 members (the demo's rule: 应到) reach half: 满意.
    assert (
        "会上已提问、已测评" in row
        and "满意 25，基本满意 5，不满意 0；满意率 52.1%（以应到人数 48 为基数）；等次：满意" in row
    )
    assert "会上已提问，未测评" in page.split(f'id="fu-c-{qs[1]}"')[1] and "未测评" in page
    assert "会上未轮到" in page.split(f'id="fu-c-{qs[2]}"')[1].split("</li>")[0]
    # A plain form on this page: back to the question's row.
    add = client.post(
        f"/m/{meeting_id}/questions/{qs[2]}/commitments", data={"text": "明年完成"}, headers=headers
    )
    assert add.status_code == 303 and add.headers["location"] == f"{url}?saved=commitment#fu-c-{qs[2]}"
    assert "明年完成" in client.get(url, headers=headers).text
    before = everything(db)
    bad = client.post(f"/m/{meeting_id}/questions/{qs[2]}/commitments", data={"text": " "}, headers=headers)
    assert bad.status_code == 400 and "请填写承诺事项" in bad.text and "未作任何更改" in bad.text
    # A written answer for a question left out: refused, nothing written.
    left_out = decision_form(
        qs[:5],
        **{f"reason_{qs[5]}": "已答复", f"answer_{qs[5]}": "已列入计划", f"answer_by_{qs[5]}": "县住建局"},
    )
    refused = client.post(url, data=left_out, headers=headers)
    assert refused.status_code == 400 and "请把" in refused.text and "清空它的书面答复" in refused.text
    assert everything(db) == before
    answer = "一、已完成排查。\r\n二、明年三月前完工。" + "答" * 4900  # long, with line breaks, pasted
    form = decision_form(qs, **{f"answer_{qs[2]}": answer, f"answer_by_{qs[2]}": "县住建局"})
    assert client.post(url, data=form, headers=headers).status_code == 303
    decided = client.get(url, headers=headers).text
    assert "督办事项（6 项）" in decided

    async def item_of(conn: AsyncConnection) -> tuple[int, str]:
        fi = m.followup_items
        row = (await conn.execute(select(fi.c.id, fi.c.rating_text).where(fi.c.question_id == qs[2]))).one()
        return int(row.id), str(row.rating_text)

    item_id, rating = run(settings.database_url, item_of)
    assert rating == "未测评"
    item = client.get(f"/followup/{item_id}", headers=headers).text
    assert "书面答复 · 县住建局" in item and "2026-11-30" in item and "一、已完成排查。" in item
    assert "明年完成" in item.split('id="fu-history"')[0]  # the commitment came with it
    late = client.post(
        f"/m/{meeting_id}/questions/{qs[2]}/commitments", data={"text": "晚到"}, headers=headers
    )
    assert late.status_code == 400 and "已记录交办决定" in late.text


def test_an_item_by_hand_takes_a_written_answer_as_its_first_post(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    headers = staff_headers(client, keys)
    url = f"/bodies/{body_of(settings, meeting_id)}/followup"
    assert 'name="answer"' in client.get(url, headers=headers).text
    form = {"title": "书面答复：村道亮化", "assigned_on": "2026-05-04", "reply_months": "3"}
    before = everything(db)
    too_long = client.post(url, data=form | {"answer": "答" * 5001, "answer_by": "县住建局"}, headers=headers)
    assert too_long.status_code == 400 and "不超过 5000 个字" in too_long.text
    nobody = client.post(url, data=form | {"answer": "已安装路灯"}, headers=headers)
    assert nobody.status_code == 400 and "答复人或答复单位" in nobody.text
    assert everything(db) == before
    made = client.post(
        url, data=form | {"answer": "已安装路灯 120 盏。", "answer_by": "县住建局"}, headers=headers
    )
    assert made.status_code == 303
    item = client.get(made.headers["location"].split("?")[0], headers=headers).text
    assert "书面答复 · 县住建局" in item and "已安装路灯 120 盏。" in item
    assert item_id_of(made.headers["location"])
