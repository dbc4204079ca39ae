"""The results pages over HTTP (server/web/routes/results.py): the staff page, the XLSX and
the CSVs behind the staff login; the public page only once the meeting is closed and not
for a rehearsal, with counts only: no card number, no phone, and no name from the roster
but the asking deputies'."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from live.state import Choice
from server.base.keys import Keys
from server.base.settings import Settings
from server.record.sitting import NAMED_TITLE, SECRET_TITLE
from server.storage import models as m
from tests.conftest import TestClient
from tests.rec_results_fixtures import hold_sitting, make_rehearsal
from tests.test_meetings_admin import run, staff_headers
from tests.test_rec_results import SHEETS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEYS = ("attendance", "ratings", "votes", "named", "speaking", "reports")


def give_phones(settings: Settings) -> list[tuple[str, str, str]]:
    """Every deputy a phone number; (name, card number, phone) of each."""

    async def fn(conn: AsyncConnection) -> list[tuple[str, str, str]]:
        d = m.deputies
        ids = [int(i) for (i,) in await conn.execute(select(d.c.id))]
        for i in ids:
            await conn.execute(update(d).where(d.c.id == i).values(phone=f"139{i:08d}"))
        return [
            (str(n), str(c), str(p))
            for n, c, p in await conn.execute(select(d.c.name, d.c.card_no, d.c.phone))
        ]

    return list(run(settings.database_url, fn))


def test_the_public_results_appear_once_closed_with_counts_only(
    client: TestClient, settings: Settings, meeting_id: int
) -> None:
    people = give_phones(settings)
    url = f"/m/{meeting_id}/live/results"
    before = client.get(url)
    assert before.status_code == 404 and "会议结束后才能查看" in before.text
    assert client.get("/m/999999/live/results").status_code == 404

    record, _ = hold_sitting(settings, meeting_id)
    shown = client.get(url)
    assert shown.status_code == 200, shown.text[:400]
    assert "<b>48</b>应到" in shown.text and "<b>45</b>实到" in shown.text
    text = re.sub(r"<[^>]+>", "", shown.text)  # titles carry phrase breaks (<wbr>)
    for q in record.questions:
        assert q.question.title in text
        for r in q.question.respondents:
            assert r.name in text
    assert SECRET_TITLE in text and NAMED_TITLE in text and "第1轮" in text and "第2轮" in text
    for v in record.votes:  # the rounds, counts only
        assert v.result is not None
        assert f"{v.result.for_votes}赞成{v.result.against}反对{v.result.abstain}弃权" in text
    assert "结果：未通过" in text and "结果：通过" in text
    for q in record.questions:
        if q.rating is not None:
            counts = "".join(
                f"{q.rating.count(c)}{label}"
                for c, label in zip(Choice, ("满意", "基本满意", "不满意"), strict=True)
            )
            assert re.sub(r"[0-9.]+%", "", text).count(counts) >= 1, counts
    askers = {record.name(q.question.asker_id) for q in record.questions}
    for name, card_no, phone in people:
        assert card_no not in text and phone not in text
        if name not in askers:
            assert name not in text, name
    assert f'src="/m/{meeting_id}/live/charts/satisfaction.svg"' in shown.text
    assert f'src="/m/{meeting_id}/live/charts/votes.svg"' in shown.text
    assert 'alt="各问题满意度测评结果' in shown.text
    # the public live page links to it now that the meeting is closed
    live = client.get(f"/m/{meeting_id}/live")
    assert live.status_code == 200 and f'href="{url}"' in live.text


def test_a_rehearsal_has_no_public_results(client: TestClient, settings: Settings, meeting_id: int) -> None:
    rehearsal = make_rehearsal(settings, meeting_id)
    record, _ = hold_sitting(settings, rehearsal)
    assert record.closed and record.setup.rehearsal
    refused = client.get(f"/m/{rehearsal}/live/results")
    assert refused.status_code == 404 and "尚未公布" in refused.text
    live = client.get(f"/m/{rehearsal}/live")
    assert live.status_code == 200 and "/live/results" not in live.text


def test_staff_see_the_sheets_and_download_them(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    url = f"/m/{meeting_id}/results"
    assert client.get(url).status_code == 303  # no login: to the login page
    assert client.get(f"{url}.xlsx").status_code == 303
    assert client.get(f"{url}/votes.csv").status_code == 303
    headers = staff_headers(client, keys)
    edit = client.get(f"/meetings/{meeting_id}/edit", headers=headers)
    assert f'href="{url}"' in edit.text and "会议结果" in edit.text
    early = client.get(url, headers=headers)
    assert early.status_code == 200 and "会议尚未结束" in early.text
    empty = client.get(f"{url}.xlsx", headers=headers)  # nothing held yet: the sheets, empty
    assert empty.status_code == 200 and "记名表决" not in load_workbook(io.BytesIO(empty.content)).sheetnames
    no_named = client.get(f"{url}/named.csv", headers=headers)
    assert no_named.status_code == 404 and "没有记名表决" in no_named.text

    record, _ = hold_sitting(settings, meeting_id)
    shown = client.get(url, headers=headers)
    assert shown.status_code == 200 and "会议尚未结束" not in shown.text
    for title in SHEETS:
        assert f">{title}</h2>" in shown.text
    for key in KEYS:
        assert f'href="{url}/{key}.csv"' in shown.text
    for kind in ("satisfaction", "votes", "speaking"):
        assert f'src="/m/{meeting_id}/charts/{kind}.svg"' in shown.text
    assert record.name(record.attendance[0].deputy_id) in shown.text

    xlsx = client.get(f"{url}.xlsx", headers=headers)
    assert xlsx.status_code == 200 and xlsx.headers["content-type"] == XLSX
    assert "attachment" in xlsx.headers["content-disposition"]
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames == SHEETS
    for key in KEYS:
        got = client.get(f"{url}/{key}.csv", headers=headers)
        assert got.status_code == 200 and got.content[:3] == b"\xef\xbb\xbf", key
        assert got.headers["content-type"].startswith("text/csv")
    unknown = client.get(f"{url}/phones.csv", headers=headers)
    assert unknown.status_code == 404 and "没有这张结果表" in unknown.text
    assert client.get("/m/999999/results", headers=headers).status_code == 404
    assert client.get("/m/999999/results.xlsx", headers=headers).status_code == 404
