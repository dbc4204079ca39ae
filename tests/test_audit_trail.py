"""The audit trail export: a real session over HTTP, then the page, the CSV and the XLSX.

Every event row must say who (actor), from where (device) and when (created_ms, inside
the test's own time window); the export must name the actor as a person; secret choices
(every rating, a secret vote) must not appear anywhere; only staff may read it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import time
import typing
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live import events as live_events
from live.events import EVENT_TYPES
from screens import messages as msg
from server.base import days
from server.office import accounts, audit_text, audit_trail
from server.storage import models as m
from tests.conftest import Db, Hall
from tests.test_http import hall_code

STAFF_NAME = "王会务"
CHAIR_LABEL = "主持人 演示主持人（chair）"
STAFF_LABEL = f"工作人员 {STAFF_NAME}（wang）"
RATING_LABELS = tuple(msg.CHOICES.values())
VOTE_LABELS = tuple(msg.VOTE_CHOICES.values())


# -- the catalogue -----------------------------------------------------------------------


def test_every_event_type_has_a_chinese_name() -> None:
    declared = {
        name
        for name, obj in vars(live_events).items()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == live_events.__name__
    }
    in_union = {cls.__name__ for cls in typing.get_args(live_events.Event)}
    every = declared | in_union | set(EVENT_TYPES)
    missing = every - set(audit_text.EVENT_NAMES)
    assert not missing, (
        f"add a Chinese name to server/office/audit_trail.py EVENT_NAMES for {sorted(missing)}"
    )
    assert not set(audit_text.EVENT_NAMES) - every, "a name for an event type that does not exist"
    for name, label in audit_text.EVENT_NAMES.items():
        assert label and all("\u4e00" <= ch <= "\u9fff" for ch in label), name
    assert len(set(audit_text.EVENT_NAMES.values())) == len(audit_text.EVENT_NAMES), "names must differ"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_never_start_a_formula(start: str) -> None:
    assert audit_trail.safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert audit_trail.safe_cell(f"a{start}1") == f"a{start}1"
    assert audit_trail.safe_cell("=\x00cmd\x1b") == "'=cmd"


# -- a session through HTTP --------------------------------------------------------------


def _add_staff_user(db: Db) -> int:
    async def fn(conn: AsyncConnection) -> int:
        result = await conn.execute(
            insert(m.users)
            .values(
                username="wang",
                display_name=STAFF_NAME,
                password_hash="not-a-hash",
                roles="staff",
                created_ms=0,
            )
            .returning(m.users.c.id)
        )
        await conn.commit()
        return int(result.scalar_one())

    return int(db._run(fn))


def _add_attendee(db: Db) -> int:
    """A 列席 attendee of the test meeting, listed before the meeting is first loaded."""

    async def fn(conn: AsyncConnection) -> int:
        values = {"meeting_id": db.meeting_id, "kind": "observer", "name": "列席甲", "organisation": "区政协"}
        result = await conn.execute(insert(m.attendees).values(**values).returning(m.attendees.c.id))
        await conn.commit()
        return int(result.scalar_one())

    return int(db._run(fn))


def _session_of(db: Db, user_id: int) -> str:
    """A session of the user, opened as a login opens one (the password is not the point)."""

    async def fn(conn: AsyncConnection) -> str:
        sid = await accounts.open_session(conn, user_id, "pytest")
        await conn.commit()
        return sid

    return str(db._run(fn))


def _rows(db: Db, table: Any) -> list[Any]:
    async def fn(conn: AsyncConnection) -> list[Any]:
        return list(await conn.execute(select(table).where(table.c.meeting_id == db.meeting_id)))

    return list(db._run(fn))


def _deputies(db: Db) -> dict[int, tuple[str, str]]:
    async def fn(conn: AsyncConnection) -> dict[int, tuple[str, str]]:
        rows = await conn.execute(select(m.deputies.c.id, m.deputies.c.name, m.deputies.c.card_no))
        return {int(i): (str(n), str(c)) for i, n, c in rows}

    return dict(db._run(fn))


def _vote(hall: Hall, deputy_id: int, vote_id: int, choice: str) -> None:
    data = {"vote_id": str(vote_id), "choice": choice, "ballot_key": f"k{deputy_id}v{vote_id}"}
    reply = hall.http.post(f"/d/{hall.meeting_id}/vote", data=data, headers=hall.deputy_headers(deputy_id))
    assert reply.status_code == 200, reply.text


def _floor(hall: Hall, deputy_id: int, kind: str, subject: str = "") -> None:
    data = {"kind": kind, "subject": subject}
    reply = hall.http.post(f"/d/{hall.meeting_id}/floor", data=data, headers=hall.deputy_headers(deputy_id))
    assert reply.status_code == 200, reply.text


BANNER = '=HYPERLINK("http://example.invalid","点击")'


def _run_session(hall: Hall, office: Hall, keys: Any, attendee_id: int) -> None:
    """Every kind of event at least once: chair, staff and deputies acting."""
    office.act_ok("open_checkin")
    code = hall_code(keys, hall.meeting_id)
    scanned = hall.http.post(f"/h/{hall.meeting_id}/{code}", headers=hall.deputy_headers(1))
    assert scanned.status_code == 200 and "已签到" in scanned.text, scanned.text  # its page at once
    for d in (2, 3, 4, 5, 6):
        office.act_ok("check_in", deputy_id=d)
    office.act_ok("mark_leave", deputy_id=7)
    office.act_ok("check_in", deputy_id=8)
    office.act_ok("clear_attendance", deputy_id=8)
    office.act_ok("leave_hall", deputy_id=6)
    office.act_ok("return_to_hall", deputy_id=6)
    for d in range(9, 36):  # the quorum (33 of 48 with 1-6): a vote needs it
        office.act_ok("check_in", deputy_id=d)
    office.act_ok("attendee_check_in", attendee_id=attendee_id)
    hall.act_ok("close_checkin")
    hall.act_ok("announce_attendance")
    hall.act_ok("start_agenda", item_id=3)
    hall.act_ok("call_question", question_id=1)
    hall.act_ok("timer_pause")
    hall.act_ok("timer_adjust", seconds=60)
    hall.act_ok("timer_start")
    hall.act_ok("to_answering")
    _floor(hall, 2, "followup")
    hall.act_ok("floor_add", deputy_id=3, kind="followup")
    hall.act_ok("floor_move", deputy_id=3, place=1)
    hall.act_ok("floor_remove", deputy_id=3)
    hall.act_ok("floor_grant", deputy_id=2)
    hall.act_ok("followup_reply")
    hall.act_ok("open_rating")
    for d, choice in ((1, "satisfied"), (2, "satisfied"), (3, "basic"), (4, "dissatisfied")):
        assert hall.rate(d, 1, choice).status_code == 200
    hall.act_ok("close_rating")
    hall.act_ok("banner", text=BANNER)
    hall.act_ok("banner", text="")
    hall.act_ok("projector_mode", mode="frozen")
    hall.act_ok("projector_mode", mode="normal")
    hall.act_ok("show", focus="attendance")
    _floor(hall, 5, "speech", "关于养老服务")
    hall.act_ok("floor_grant", deputy_id=5)
    hall.act_ok("speech_end")
    hall.act_ok("open_vote", title="关于民生实事项目的决议", secret="1")
    for d, choice in ((1, "for"), (2, "against"), (3, "abstain")):
        _vote(hall, d, 1, choice)
    hall.act_ok("close_vote")
    hall.act_ok("announce_vote")
    hall.act_ok("open_vote", title="任命", secret="0")
    _vote(hall, 1, 2, "for")
    _vote(hall, 2, 2, "abstain")
    hall.act_ok("close_vote")
    hall.act_ok("announce_vote")
    # Preparation work beside the meeting: a card re-issued (the audit table).
    reissued = hall.http.post(f"/m/{hall.meeting_id}/cards/40/reissue", headers=hall.chair_headers())
    assert reissued.status_code == 303, reissued.text
    office.act_ok("close_meeting")


def _csv(hall: Hall) -> tuple[list[str], list[list[str]]]:
    response = hall.http.get(f"/m/{hall.meeting_id}/audit.csv", headers=hall.chair_headers())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return table[0], table[1:]


def test_a_session_is_fully_on_the_record(hall: Hall, db: Db, keys: Any) -> None:
    staff_id = _add_staff_user(db)
    attendee_id = _add_attendee(db)
    cookie = keys.staff_cookie(staff_id, "wang", frozenset({"staff"}), _session_of(db, staff_id))
    office = Hall(hall.http, keys, hall.meeting_id, cookie)
    started = time.time_ns() // 1_000_000
    _run_session(hall, office, keys, attendee_id)
    ended = time.time_ns() // 1_000_000

    events = sorted(_rows(db, m.events), key=lambda r: r.seq)
    assert {e.type for e in events} == set(EVENT_TYPES), "the session should produce every event type"
    for e in events:
        assert e.actor and e.actor.split(":", 1)[1], e
        assert e.device.strip(), e
        assert started <= e.created_ms <= ended, e

    header, table = _csv(hall)
    assert header == ["序号", "时间", "事件", "操作人", "设备", "内容", "类别"]
    by_seq = {int(r[0]): r for r in table if r[0]}
    assert sorted(by_seq) == [e.seq for e in events]
    assert [int(r[0]) for r in table if r[0]] == sorted(by_seq), "the file reads oldest first"
    deputies = _deputies(db)
    actors_seen = set()
    for e in events:
        row = by_seq[e.seq]
        role, who = e.actor.split(":", 1)
        if role == "deputy":
            name, card = deputies[int(who)]
            expected = f"代表 {name}（卡号 {card}）"
        else:
            expected = {"chair:chair": CHAIR_LABEL, "staff:wang": STAFF_LABEL}[e.actor]
        assert row[3] == expected, (e.seq, e.type, row)
        assert row[2] == audit_text.EVENT_NAMES[e.type]
        assert row[4] == e.device
        assert row[1] == days.second_of_ms(e.created_ms), "China time, whatever the machine's zone"
        assert row[6] == "会议事件"
        actors_seen.add(role)
    assert actors_seen == {"chair", "staff", "deputy"}

    # Secret choices: a rating and a secret vote say only that the deputy took part.
    secret_rows = [by_seq[e.seq] for e in events if e.type == "RatingCast"]
    secret_rows += [by_seq[e.seq] for e in events if e.type == "VoteCast" and '"secret": true' in e.data]
    assert len(secret_rows) == 4 + 3
    for row in secret_rows:
        text = "".join(row)
        assert "选择保密" in text, row
        assert not any(label in text for label in (*RATING_LABELS, *VOTE_LABELS)), row
    named = [by_seq[e.seq][5] for e in events if e.type == "VoteCast" and '"secret": false' in e.data]
    assert len(named) == 2 and "赞成" in named[0] and "弃权" in named[1], named  # on the record, by name

    # What the summaries say.
    summaries = {e.type: by_seq[e.seq][5] for e in events}  # the last of each type
    assert "满意 2，基本满意 1，不满意 1" in summaries["RatingClosed"]
    assert "第 1 题" in summaries["RatingOpened"]
    assert "应到 48 人，实到 33 人，请假 1 人，缺席 14 人，符合法定人数" in summaries["AttendanceAnnounced"]
    first_check_in = next(by_seq[e.seq] for e in events if e.type == "DeputyCheckedIn")
    assert deputies[1][0] in first_check_in[5] and "扫描会场二维码" in first_check_in[5]
    assert "赞成 1，反对 0，弃权 1" in summaries["VoteClosed"]
    assert deputies[6][0] in summaries["DeputyLeftHall"] and deputies[6][0] in summaries["DeputyReturned"]
    assert summaries["AttendeeCheckedIn"] == "列席甲（列席，区政协）"
    assert by_seq[events[-1].seq][2] == "会议结束"
    banner = next(by_seq[e.seq][5] for e in events if e.type == "BannerSet")
    assert banner == "'" + BANNER, "a cell that starts a formula gets a quote"
    for row in table:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), row

    # Preparation work is in the export too, marked as such.
    preparation = [r for r in table if not r[0]]
    assert preparation and all(r[6] == "准备工作" and r[3] and r[4] for r in preparation), preparation
    reissues = [r for r in preparation if r[2] == "补发邀请卡"]
    assert len(reissues) == 1
    _, _, _, actor, _, summary, _ = reissues[0]
    assert actor == "工作人员 演示主持人（chair）"
    assert deputies[40][0] in summary and "第 2 版" in summary

    # The XLSX holds the same cells.
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    xlsx = hall.http.get(f"/m/{hall.meeting_id}/audit.xlsx", headers=hall.chair_headers())
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert cells == [header, *table]


def test_the_page_lists_newest_first_and_filters(hall: Hall, db: Db, keys: Any) -> None:
    hall.act_ok("open_checkin")
    for d in range(1, 49):
        hall.act_ok("check_in", deputy_id=d)
    hall.act_ok("call_question", question_id=1)
    hall.act_ok("to_answering")
    hall.act_ok("open_rating")
    for d in (1, 2, 3):
        assert hall.rate(d, 1, "satisfied").status_code == 200
    total = len(_rows(db, m.events))
    assert total > 50

    page = hall.http.get(f"/m/{hall.meeting_id}/audit", headers=hall.chair_headers())
    assert page.status_code == 200
    assert "操作记录" in page.text and f"共 {total} 条" in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "no inline script (CSP)"
    seqs = [int(s) for s in re.findall(r'<tr id="event-(\d+)">', page.text)]
    assert seqs == list(range(total, 0, -1))[: len(seqs)] and seqs, "newest first"
    assert 'href="/m/1/audit.csv"' in page.text and 'href="/m/1/audit.xlsx"' in page.text

    only = hall.http.get(f"/m/{hall.meeting_id}/audit?type=RatingCast", headers=hall.chair_headers())
    rows = re.findall(r'<tr id="event-\d+">(.*?)</tr>', only.text, re.S)
    assert len(rows) == 3 and all("代表测评" in r and "选择保密" in r for r in rows)
    assert not any(label in r for r in rows for label in RATING_LABELS)
    unknown_type = hall.http.get(
        f"/m/{hall.meeting_id}/audit?type=Nope&page=abc", headers=hall.chair_headers()
    )
    assert unknown_type.status_code == 200 and f"共 {total} 条" in unknown_type.text

    # Pages of 100: the second page goes on from where the first stopped.
    for d in range(4, 49):
        assert hall.rate(d, 1, "basic").status_code == 200
    hall.act_ok("close_rating")
    total = len(_rows(db, m.events))
    assert total > 100
    second = hall.http.get(f"/m/{hall.meeting_id}/audit?page=2", headers=hall.chair_headers())
    seqs = [int(s) for s in re.findall(r'<tr id="event-(\d+)">', second.text)]
    assert seqs == list(range(total - 100, 0, -1))[:100]
    assert "第 2 / " in second.text and "上一页" in second.text

    # The links to it from the console and the meeting list.
    assert 'href="/m/1/audit"' in hall.console()
    listing = hall.http.get("/meetings", headers=hall.chair_headers())
    assert listing.status_code == 200 and 'href="/m/1/audit"' in listing.text


@pytest.mark.parametrize("path", ["audit", "audit.csv", "audit.xlsx"])
def test_only_staff_may_read_it(hall: Hall, path: str) -> None:
    hall.act_ok("open_checkin")
    hall.act_ok("check_in", deputy_id=1)
    url = f"/m/{hall.meeting_id}/{path}"
    for who in (
        {},
        hall.deputy_headers(1),
        hall.screen_headers("projector"),
        hall.screen_headers("podium"),
        {"cookie": "wz_user=forged"},
    ):
        hall.http.cookies.clear()
        response = hall.http.get(url, headers=who)
        assert response.status_code in (303, 401, 403), (who, response.status_code)
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login"), response.headers
        assert "代表签到" not in response.text and "testclient" not in response.text
    assert hall.http.get(url, headers=hall.chair_headers()).status_code == 200


@pytest.mark.parametrize("path", ["audit", "audit.csv", "audit.xlsx"])
def test_an_unknown_meeting_is_not_found(hall: Hall, path: str) -> None:
    response = hall.http.get(f"/m/999/{path}", headers=hall.chair_headers())
    assert response.status_code == 404
    assert "找不到这次会议" in response.text
