"""Duty records over HTTP (server/web/routes/duty.py): the staff page, the XLSX read back
with openpyxl, 我的履职 on the phone and its binding, and the secrecy of the secret vote
and the ratings, played as the strongest attacker would: compare the record of the deputy
who left part-way and voted in no secret round with that of a deputy who voted in all."""

from __future__ import annotations

import difflib
import io
import re
from typing import Any

from openpyxl import load_workbook  # type: ignore[import-untyped]

from server.base.keys import Keys
from server.base.settings import Settings
from server.record import duty_export
from server.record.sitting import BANNER, NAMED_TITLE, SECRET_TITLE
from tests.conftest import Hall, TestClient
from tests.rec_duty_fixtures import Sat, hold_demo
from tests.test_meetings_admin import run, staff_headers

RATING_WORDS = ("满意率", "测评结果", "基本满意", "不满意", "无记名表决：", SECRET_TITLE, BANNER)


def _sheet(data: bytes) -> tuple[list[list[Any]], list[list[Any]]]:
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [duty_export.SUMMARY, duty_export.DETAIL]
    return (
        [list(r) for r in book[duty_export.SUMMARY].iter_rows(values_only=True)],
        [list(r) for r in book[duty_export.DETAIL].iter_rows(values_only=True)],
    )


def _text(html: str) -> list[str]:
    """The page's text lines, tags dropped."""
    plain = re.sub(r"<[^>]+>", "\n", html)
    return [x.strip() for x in plain.splitlines() if x.strip()]


def test_staff_page_export_and_their_404s(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    sat = hold_demo(settings, meeting_id)
    staff = staff_headers(client, keys)
    base = f"/bodies/{sat.body_id}"
    assert client.get(f"{base}/deputies/{sat.asker()}/duty").status_code in (302, 303)  # login first
    page = client.get(f"{base}/deputies/{sat.asker()}/duty", headers=staff)
    assert page.status_code == 200
    assert sat.record.questions[0].question.title in page.text and "履职记录" in page.text
    edit = client.get(f"{base}/deputies/{sat.asker()}", headers=staff).text
    assert f'href="{base}/deputies/{sat.asker()}/duty"' in edit  # linked from the member's page
    for url in (
        f"/bodies/999/deputies/{sat.asker()}/duty",
        f"{base}/deputies/99999/duty",
        "/bodies/999/duty.xlsx",
        f"{base}/duty.xlsx?group=99999",
        f"{base}/duty.xlsx?group=abc",
    ):
        missing = client.get(url, headers=staff)
        assert missing.status_code == 404 and "没有" in missing.text, url

    whole = client.get(f"{base}/duty.xlsx", headers=staff)
    assert whole.status_code == 200 and whole.headers["content-type"] == duty_export.XLSX
    summary, detail = _sheet(whole.content)
    head = summary[0]
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in summary[1:]}
    name = sat.record.name
    assert rows[name(sat.on_leave)]["请假"] == 1 and rows[name(sat.absent[0])]["缺席"] == 1
    assert rows[name(sat.late)]["迟到"] == 1 and rows[name(sat.leaves)]["中途离会"] == 1
    assert rows[name(sat.asker())]["询问"] == 1 and rows[name(sat.speaker)]["发言次数"] == 1
    assert rows[name(sat.speaker)]["发言时长"] == "7分00秒"
    assert str(rows[name(sat.absent[0])]["缺席提示"]).startswith("未经批准缺席一次：")
    assert rows[name(sat.on_leave)]["缺席提示"] in ("", None)
    assert rows[name(sat.follower(0))]["追问"] >= 1
    named = dict(next(v for v in sat.record.votes if not v.secret).named)
    assert sum(r["参加记名表决"] for r in rows.values()) == len(named)
    assert [r[6] for r in detail[1:] if r[5] == "记名表决" and r[0] == name(sat.asker())] == [NAMED_TITLE]
    # one group's export holds that group's members only
    group = sat.record.setup.deputies[sat.asker()].group
    gid = re.search(r'duty\.xlsx\?group=(\d+)"', page.text)
    assert gid is not None
    g_summary, _ = _sheet(client.get(f"{base}/duty.xlsx?group={gid.group(1)}", headers=staff).content)
    assert {r[2] for r in g_summary[1:]} == {group} and name(sat.asker()) in {r[0] for r in g_summary[1:]}


def test_a_formula_in_a_name_stays_text(
    client: TestClient, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    from sqlalchemy import update

    from server.storage import models as m

    sat = hold_demo(settings, meeting_id)

    async def rename(conn: Any) -> None:
        await conn.execute(
            update(m.deputies).where(m.deputies.c.id == sat.speaker).values(name="=HYPERLINK(1)")
        )

    run(settings.database_url, rename)
    summary, _ = _sheet(
        client.get(f"/bodies/{sat.body_id}/duty.xlsx", headers=staff_headers(client, keys)).content
    )
    assert "'=HYPERLINK(1)" in [r[0] for r in summary]


def test_my_duty_on_the_phone_is_mine_only(
    client: TestClient, hall: Hall, settings: Settings, meeting_id: int
) -> None:
    sat = hold_demo(settings, meeting_id)
    url = f"/d/{meeting_id}/duty"
    asker, other = sat.asker(), sat.asker(1)
    assert f'href="{url}"' in hall.deputy_page(asker)  # 我的履职 beside 我的督办
    assert client.get(url).status_code == 303  # no phone bound: to the deputy page
    mine = client.get(url, headers=hall.deputy_headers(asker))
    assert mine.status_code == 200 and "我的履职" in mine.text and 'id="d-absence"' not in mine.text
    assert 'id="dy-mandates"' in mine.text and "选举产生" in mine.text  # the mandate it rests on
    absent = client.get(url, headers=hall.deputy_headers(sat.absent[0])).text
    assert 'id="d-absence"' in absent and "缺席" in absent  # the two-absence notice
    assert sat.record.name(asker) in mine.text and sat.record.questions[0].question.title in mine.text
    assert sat.record.name(other) not in mine.text and sat.record.questions[1].question.title not in mine.text
    # no parameter names another deputy: a query asking for one changes nothing
    assert client.get(f"{url}?deputy={other}", headers=hall.deputy_headers(asker)).text == mine.text
    # a meeting that does not exist: 404; another body's meeting: the phone is not bound
    # there, so it is sent to that meeting's deputy page (which asks for a card), not shown
    assert client.get("/d/99999/duty", headers=hall.deputy_headers(asker)).status_code == 404
    foreign = run(settings.database_url, lambda conn: _foreign_meeting(conn, meeting_id))
    away = client.get(f"/d/{foreign}/duty", headers=hall.deputy_headers(asker))
    assert away.status_code == 303 and away.headers["location"] == f"/d/{foreign}"


async def _foreign_meeting(conn: Any, meeting_id: int) -> int:
    """A copy of the meeting in a body of its own (a county congress)."""
    from sqlalchemy import update

    from server.office.bodies import Who, create_body
    from server.office.meetings_admin import clone
    from server.storage import models as m

    other = await create_body(conn, "某县人民代表大会", "congress", "county", Who("t", "t"))
    copy = await clone(conn, meeting_id, 1)
    assert copy is not None
    await conn.execute(update(m.meetings).where(m.meetings.c.id == copy).values(body_id=other))
    return int(copy)


def _phone(client: TestClient, hall: Hall, sat: Sat, who: int) -> str:
    response = client.get(f"/d/{sat.meeting_id}/duty", headers=hall.deputy_headers(who))
    assert response.status_code == 200
    return str(response.text)


def test_the_secret_vote_and_the_ratings_leave_no_trace_per_deputy(
    client: TestClient, hall: Hall, keys: Keys, settings: Settings, meeting_id: int
) -> None:
    """``leaves`` left after the first question: rated once, voted in no secret round and
    not in the named one; ``voter`` rated every question and voted in every round. Their
    pages and rows may differ only in the attendance (离) and the named vote."""
    sat = hold_demo(settings, meeting_id)
    leaves, voter = sat.leaves, sat.plain_voter()
    secret_rounds = [v for v in sat.record.votes if v.secret]
    assert len(secret_rounds) == 2 and all(v.result and v.result.cast for v in secret_rounds)
    name = sat.record.name
    staff = staff_headers(client, keys)
    # what two records may differ in: the attendance (with its times) and the named vote
    public = re.compile(
        r"^(出席|中途离会|签到 \d\d:\d\d(，\d\d:\d\d 离会)?|\d+|记名表决：.*|— |赞成|反对|弃权|未按|.*：)$"
    )

    def plain(html: str, who: int) -> list[str]:
        d = sat.record.setup.deputies[who]
        out = html.replace(f"/deputies/{who}/", "/deputies/X/")
        for word in (d.name, d.card_no, d.group):
            out = out.replace(word, "某")
        return _text(re.sub(r"group=\d+", "group=X", out))

    for fetch in (
        lambda who: _phone(client, hall, sat, who),
        lambda who: client.get(f"/bodies/{sat.body_id}/deputies/{who}/duty", headers=staff).text,
    ):
        a, b = fetch(leaves), fetch(voter)
        for html in (a, b):
            for word in RATING_WORDS:
                assert word not in html, word
        changed = [x[2:] for x in difflib.ndiff(plain(a, leaves), plain(b, voter)) if x[:2] in ("- ", "+ ")]
        assert changed, "the named vote and the attendance differ"
        odd = [x for x in changed if not public.match(x)]
        assert not odd, odd

    summary, detail = _sheet(client.get(f"/bodies/{sat.body_id}/duty.xlsx", headers=staff).content)
    head = summary[0]
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in summary[1:]}
    differ = {k for k in head if rows[name(leaves)][k] != rows[name(voter)][k]}
    assert differ <= {"姓名", "卡号", "代表小组", "出席", "中途离会", "参加记名表决"}, differ
    kinds = {r[5] for r in detail[1:] if r[0] in (name(leaves), name(voter))}
    assert kinds == {"出勤", "记名表决"}
    for r in detail[1:]:
        assert SECRET_TITLE not in "".join(str(c) for c in r)
    assert not any(w in str(c) for r in summary + detail for c in r for w in ("满意率", SECRET_TITLE))
