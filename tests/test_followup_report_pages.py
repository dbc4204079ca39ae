"""The progress report's staff page over HTTP (/bodies/{body}/followup/report): linked from
the board; an empty scope offers no form and refuses a forged one in Chinese; the overview
is offered with the counts; bad input answers 400 and writes nothing; generating saves the
report (its counts JSON) and comes back to download it; the DOCX downloaded carries the
overview as edited and a section per item; earlier reports are listed and download again."""

from __future__ import annotations

import io
import json
from typing import Any

from docx import Document
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.base.settings import Settings
from server.office import followup_report as report
from server.storage import models as m
from tests.conftest import Db, TestClient
from tests.test_csrf import everything
from tests.test_followup_pages import body_of
from tests.test_followup_report import EXPECTED, seed
from tests.test_meetings_admin import run, staff_headers

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def reports(settings: Settings) -> list[Any]:
    async def fn(conn: AsyncConnection) -> list[Any]:
        fr = m.followup_reports
        return list((await conn.execute(select(fr).order_by(fr.c.id))).all())

    return list(run(settings.database_url, fn))


def meeting_title(settings: Settings, meeting_id: int) -> str:
    async def fn(conn: AsyncConnection) -> str:
        stmt = select(m.meetings.c.title).where(m.meetings.c.id == meeting_id)
        return str((await conn.execute(stmt)).scalar_one())

    return str(run(settings.database_url, fn))


def test_an_empty_scope_offers_no_report_and_refuses_one(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    body_id = body_of(settings, meeting_id)
    url = f"/bodies/{body_id}/followup/report"
    assert client.get(url).status_code == 303  # no login: to the login page
    headers = staff_headers(client, keys)
    assert url in client.get(f"/bodies/{body_id}/followup", headers=headers).text  # linked from the board
    shown = client.get(url, headers=headers)
    assert shown.status_code == 200 and "所选范围内没有督办事项" in shown.text
    assert 'id="fu-report-form"' not in shown.text and "还没有生成过报告" in shown.text
    before = everything(db)
    form = {"title": report.DEFAULT_TITLE, "overview": "概述", "dated": "2026-12-20"}
    refused = client.post(url, data=form, headers=headers)
    assert refused.status_code == 400 and "所选范围内没有督办事项，无法生成报告" in refused.text
    assert everything(db) == before
    assert client.get("/bodies/999999/followup/report", headers=headers).status_code == 404


def test_staff_generate_a_report_and_download_it_again(
    client: TestClient, keys: Keys, settings: Settings, db: Db, meeting_id: int
) -> None:
    async def fn(conn: AsyncConnection) -> list[int]:
        return await seed(conn, meeting_id)

    items = run(settings.database_url, fn)
    body_id = body_of(settings, meeting_id)
    url = f"/bodies/{body_id}/followup/report"
    headers = staff_headers(client, keys)
    shown = client.get(url, headers=headers)
    assert shown.status_code == 200 and 'id="fu-report-form"' in shown.text
    assert report.DEFAULT_TITLE in shown.text
    assert "共交办 5 项，已办结 1 项，正在办理 4 项，其中逾期 2 项" in shown.text  # the overview offered
    assert f'name="meeting_{meeting_id}"' in shown.text  # the scope: the meeting with items
    scoped = client.get(f"{url}?meeting_{meeting_id}=1", headers=headers)
    assert f'<input type="hidden" name="meeting_{meeting_id}" value="1">' in scoped.text
    good = {
        "title": "关于问政会所提问题推进落实情况的报告",
        "dated": "2026-12-20",
        "overview": "编辑过的概述：五个问题，一个办结。",
        f"meeting_{meeting_id}": "1",
    }
    before = everything(db)
    for change, message in (
        ({"title": ""}, "请填写报告标题"),
        ({"title": "题" * 201}, "不超过 200 个字"),
        ({"overview": "  "}, "请填写概述"),
        ({"overview": "述" * 1501}, "不超过 1500 个字"),
        ({"dated": "2026-02-30"}, "报告日期"),
        ({"meeting_999999": "1"}, "所选会议不属于本机构"),
        ({"meeting_0": "1"}, "所选会议不属于本机构"),
    ):
        reply = client.post(url, data={**good, **change}, headers=headers)
        assert reply.status_code == 400 and message in reply.text, change
        assert "未作任何更改" in reply.text
        if "overview" not in change:
            assert "编辑过的概述" in reply.text  # what staff typed comes back to them
    assert everything(db) == before and reports(settings) == []
    made = client.post(url, data=good, headers=headers)
    assert made.status_code == 303
    [row] = reports(settings)
    assert made.headers["location"] == f"{url}?made={row.id}"
    assert json.loads(row.counts) == EXPECTED and row.overview == good["overview"]
    back = client.get(made.headers["location"], headers=headers)
    download = f"{url}/{row.id}"
    assert f'<meta http-equiv="refresh" content="1;url={download}">' in back.text
    assert "报告已生成" in back.text and f'id="fu-report-{row.id}"' in back.text
    listed = back.text.split(f'id="fu-report-{row.id}"')[1].split("</tr>")[0]
    assert meeting_title(settings, meeting_id) in listed and "全部事项" not in listed  # its scope
    assert client.get(download).status_code == 303  # no login
    got = client.get(download, headers=headers)
    assert got.status_code == 200 and got.headers["content-type"] == DOCX
    assert "attachment" in got.headers["content-disposition"]
    doc = Document(io.BytesIO(got.content))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == good["title"] and texts[1] == "（2026年12月20日）"
    assert good["overview"] in texts
    assert sum(t[:2] in ("一、", "二、", "三、", "四、", "五、") for t in texts) == len(items) == 5
    assert len(doc.tables[0].rows) == 1 + len(items)
    assert client.get(f"{url}/999999", headers=headers).status_code == 404
    assert client.get(f"/bodies/{body_id + 1}/followup/report/{row.id}", headers=headers).status_code == 404
