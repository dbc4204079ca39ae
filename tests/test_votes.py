"""Formal votes through the real server path: the phones, the chair, the database.

The core's rules are tested in tests/live/test_votes.py; here: the same action path as
everything else (HTTP → command → commit → screens), the receipt as the reply, retries
counted once, what the database holds (a secret vote keeps no link between a deputy and
a choice, on SQLite and on PostgreSQL), the projector's announcement line, and bad input.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection

from live.setup import BodyKind
from live.state import VoteBase, VoteChoice
from screens import messages as msg
from server.storage import models as m
from tests.conftest import Db, Hall, meaningful, plain_engine, state_from_db
from tests.test_http import chinese

PRESENT = (1, 2, 3, 4, 5)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    """SQLite, or PostgreSQL for the tests parametrized with "postgres"."""
    if getattr(request, "param", "sqlite") == "postgres":
        return str(request.getfixturevalue("pg_database"))
    return f"sqlite+aiosqlite:///{data_dir / 'wenzheng.db'}"


def vote(hall: Hall, deputy_id: int, vote_id: int, choice: str, key: str | None = None) -> Any:
    data = {"vote_id": str(vote_id), "choice": choice, "ballot_key": key or f"key{deputy_id}x{vote_id}"}
    return hall.http.post(f"/d/{hall.meeting_id}/vote", data=data, headers=hall.deputy_headers(deputy_id))


def check_in(hall: Hall, *ids: int) -> None:
    """``ids`` and enough others for the quorum (32 of 48): no vote opens without it."""
    hall.check_in_quorum(*ids)


def rows(db: Db, table: Any) -> list[Any]:
    async def fn(conn: AsyncConnection) -> list[Any]:
        return list(await conn.execute(select(table).where(table.c.meeting_id == db.meeting_id)))

    return list(db._run(fn))


def vote_events(db: Db) -> list[dict[str, Any]]:
    return [json.loads(r.data) for r in rows(db, m.events) if r.type == "VoteCast"]


def test_a_secret_vote_from_open_to_announcement(hall: Hall, db: Db) -> None:
    check_in(hall, *PRESENT)
    hall.act_ok(
        "open_vote", title="关于2026年民生实事项目的决议", secret="1", threshold="majority", base="members"
    )
    phone = hall.deputy_page(1).replace("<wbr>", "")  # the subject heads the phone, broken between phrases
    assert 'hx-post="/d/1/vote"' in phone and "关于2026年民生实事项目的决议" in phone
    for d, choice in ((1, "for"), (2, "for"), (3, "for"), (4, "against")):
        reply = vote(hall, d, 1, choice)
        assert reply.status_code == 200 and 'id="d-receipt"' in reply.text, reply.text
    # A retry after a lost reply: the same receipt, counted once.
    again = vote(hall, 1, 1, "for")
    assert again.status_code == 200 and 'id="d-receipt"' in again.text
    other = vote(hall, 1, 1, "against", key="another-key")
    assert other.status_code == 409
    chinese(other.text, "您已投过票，每人只能投一次")
    absent = vote(hall, 6, 1, "for")
    assert absent.status_code == 409
    chinese(absent.text, "请先签到，再参加表决")

    console = hall.console()
    # While it is open the console knows how many voted, not how (a secret vote).
    assert 'id="c-vote-cast">4<' in console and "data-vote=" not in console
    hall.act_ok("close_vote")
    console = hall.console()
    assert re.search(r'data-vote="for">3<', console) and re.search(r'data-vote="not_voted">28<', console)
    projector = hall.projector()
    assert "表决结束，等待主持人宣布结果" in projector
    hall.act_ok("announce_vote")
    projector = hall.projector()
    # 48 members: 3 赞成 is far from more than half of all members.
    assert "赞成 3 票，反对 1 票，弃权 0 票，未按 28 票，未通过" in projector
    assert 'class="p-verdict verdict-fail"' in projector
    assert "赞成 3 票，反对 1 票，弃权 0 票，未按 28 票，未通过（已宣布）" in hall.console()

    # The database: receipts say who voted, the tallies how many chose what.
    receipts = rows(db, m.vote_receipts)
    assert sorted(r.deputy_id for r in receipts) == [1, 2, 3, 4]
    assert {t.choice: t.n for t in rows(db, m.vote_tallies)} == {"for": 3, "against": 1}
    assert all(e["choice"] is None for e in vote_events(db))
    assert meaningful(db.state()) == meaningful(asyncio.run(state_from_db(db.url, db.meeting_id)))


def test_a_named_vote_keeps_the_choices_by_name(hall: Hall, db: Db) -> None:
    check_in(hall, 1, 2)
    hall.act_ok("open_vote", title="任命", secret="0")
    assert vote(hall, 1, 1, "for").status_code == 200
    assert vote(hall, 2, 1, "abstain").status_code == 200
    assert {e["deputy_id"]: e["choice"] for e in vote_events(db)} == {1: "for", 2: "abstain"}
    assert rows(db, m.vote_tallies) == []
    state = db.state()
    assert state.votes[1].named == {1: "for", 2: "abstain"}
    assert state.votes[1].counts["for"] == 1  # type: ignore[index]


def test_a_revote_and_a_show_of_hands_stand_beside_the_first_round(hall: Hall, db: Db) -> None:
    check_in(hall, *PRESENT)
    hall.act_ok("open_vote", title="决议", secret="0", live="1")
    assert vote(hall, 1, 1, "for").status_code == 200
    assert "表决进行中 · 已投 1 人" in hall.projector()  # a named vote's live tally on the projector
    hall.act_ok("close_vote")
    hall.act_ok("announce_vote")
    hall.act_ok("open_vote", revote_of="1")
    assert vote(hall, 1, 2, "against").status_code == 200
    assert vote(hall, 2, 1, "for").status_code == 409  # the first round is closed
    hall.act_ok("close_vote")
    hall.act_ok("record_vote", revote_current="1", method="hands", **{"for": "5"}, against="0", abstain="0")
    hall.act_ok("announce_vote")
    projector = hall.projector()
    assert projector.count('class="p-round-label"') == 3
    assert "第 3 轮（举手表决）" in projector
    assert "赞成 5 票，反对 0 票，弃权 0 票，未按 27 票，未通过" in projector  # 5 of 48, 32 present
    state = db.state()
    assert [(v.round_no, v.first_id, v.method.value) for v in state.votes.values()] == [
        (1, 1, "phones"),
        (2, 1, "phones"),
        (3, 1, "hands"),
    ]
    assert state.votes[1].result is not None and state.votes[1].result.for_votes == 1


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (
            {"cmd": "record_vote", "method": "hands", "for": "abc", "against": "0", "abstain": "0"},
            "“赞成票数”填写有误",
        ),
        (
            {"cmd": "record_vote", "method": "show", "for": "1", "against": "0", "abstain": "0"},
            "“计票方式”填写有误",
        ),
        (
            {"cmd": "record_vote", "method": "paper", "for": "60", "against": "0", "abstain": "0"},
            "超过实到人数",
        ),
        ({"cmd": "open_vote", "title": "决议", "threshold": "most"}, "“通过条件”填写有误"),
        ({"cmd": "open_vote", "title": "决议", "secret": "maybe"}, "“表决方式”填写有误"),
        ({"cmd": "open_vote", "title": ""}, "请填写表决事项"),
        ({"cmd": "open_vote", "title": "决议", "revote_of": "7"}, "找不到这项表决"),
        ({"cmd": "close_vote"}, "表决尚未开始或已经结束"),
        ({"cmd": "announce_vote"}, "还没有表决"),
        (
            {
                "cmd": "record_vote",
                "revote_current": "1",
                "method": "paper",
                "for": "1",
                "against": "0",
                "abstain": "0",
            },
            "还没有表决",
        ),
    ],
)
def test_bad_vote_input_is_refused_in_chinese_and_changes_nothing(
    hall: Hall, db: Db, data: dict[str, str], needle: str
) -> None:
    check_in(hall, 1, 2)
    before = rows(db, m.events)
    response = hall.http.post("/m/1/act", data=data, headers=hall.chair_headers())
    assert response.status_code in (400, 409), response.text
    chinese(response.text, needle)
    assert rows(db, m.events) == before


def test_bad_ballots_are_refused_in_chinese(hall: Hall, db: Db) -> None:
    check_in(hall, 1)
    hall.act_ok("open_vote", title="决议")
    for data, needle in (
        ({"vote_id": "1", "choice": "yes", "ballot_key": "k1"}, "“选项”填写有误"),
        ({"vote_id": "one", "choice": "for", "ballot_key": "k1"}, "“表决”填写有误"),
        ({"vote_id": "1", "choice": "for", "ballot_key": ""}, "“提交内容”填写有误"),
        ({"vote_id": "2", "choice": "for", "ballot_key": "k1"}, "表决尚未开始或已经结束"),
    ):
        reply = hall.http.post("/d/1/vote", data=data, headers=hall.deputy_headers(1))
        assert reply.status_code in (400, 409)
        chinese(reply.text, needle)
    assert rows(db, m.vote_receipts) == []


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_the_database_holds_no_link_between_a_deputy_and_a_secret_choice(
    hall: Hall, db: Db, database_url: str
) -> None:
    """Even an administrator reading every table cannot tell who chose what."""
    assert database_url.startswith("postgresql") or database_url.startswith("sqlite")
    check_in(hall, *PRESENT)
    hall.act_ok("open_vote", title="罢免案", secret="1")
    chosen = {1: "for", 2: "against", 3: "abstain", 4: "for", 5: "against"}
    for d, c in chosen.items():
        assert vote(hall, d, 1, c).status_code == 200
    hall.act_ok("close_vote")

    async def columns() -> dict[str, set[str]]:
        engine = plain_engine(db.url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: {
                        t: {c["name"] for c in inspect(sync).get_columns(t)}
                        for t in ("vote_tallies", "vote_receipts")
                    }
                )
        finally:
            await engine.dispose()

    found = asyncio.run(columns())
    # No row per ballot at all: totals per choice, which name nobody; receipts carry no
    # choice. (Rows of single ballots would come back in the order they were written.)
    assert found["vote_tallies"] == {"meeting_id", "vote_id", "choice", "n"}
    assert "choice" not in found["vote_receipts"]
    assert {t.choice: t.n for t in rows(db, m.vote_tallies)} == {"for": 2, "against": 2, "abstain": 1}
    # Nothing in the event log or the receipts says what anyone chose.
    for row in rows(db, m.events):
        if row.type == "VoteCast":
            assert json.loads(row.data)["choice"] is None
    for r in rows(db, m.vote_receipts):
        assert chosen[r.deputy_id] not in r.ballot_key
    # The bus carries no choice either (what other processes and Redis would see).
    from live.events import VoteCast
    from server.storage.store import bus_payload

    payload = bus_payload(1, 1, [VoteCast(1, 1, "k", True, VoteChoice.FOR)], "test")
    assert '"for"' not in payload and "VoteCast" in payload


def test_no_vote_opens_without_the_quorum_and_the_console_says_why(hall: Hall, db: Db) -> None:
    """应到 48 / 实到 3: the vote is refused with the figures, nothing is written, and the
    console's vote panel says why and where to look (issue 16)."""
    hall.act_ok("open_checkin")
    for d in (1, 2, 3):
        hall.act_ok("check_in", deputy_id=d)
    before = rows(db, m.events)
    for data in (
        {"cmd": "open_vote", "title": "决议"},
        {
            "cmd": "record_vote",
            "title": "决议",
            "method": "paper",
            "for": "3",
            "against": "0",
            "abstain": "0",
        },
    ):
        reply = hall.http.post("/m/1/act", data=data, headers=hall.chair_headers())
        assert reply.status_code == 409
        chinese(reply.text, "不足法定人数，不能表决：应到 48 人，实到 3 人，需 32 人")
        chinese(reply.text, "人工签到")
    assert rows(db, m.events) == before
    console = hall.console()
    assert 'id="c-vote-quorum"' in console and "实到 3 人，需 32 人" in console
    hall.check_in_quorum(1, 2, 3)
    assert 'id="c-vote-quorum"' not in hall.console()
    hall.act_ok("open_vote", title="决议")


def test_a_congress_votes_by_its_deputies_not_by_a_committees_members(hall: Hall) -> None:
    """The demo body is a congress: its members are 全体代表, a standing committee's are
    全体组成人员 (messages.MEMBERS_OF); the rule on the projector and in the audit says so."""
    assert msg.vote_base(VoteBase.MEMBERS, BodyKind.CONGRESS) == "全体代表"
    assert msg.vote_base(VoteBase.MEMBERS, BodyKind.STANDING_COMMITTEE) == "全体组成人员"
    assert msg.vote_base(VoteBase.PRESENT, BodyKind.CONGRESS) == "实到人数"
    hall.check_in_quorum(1)
    hall.act_ok("open_vote", title="关于民生实事的决议", base="members")
    hall.act_ok("close_vote")
    hall.act_ok("announce_vote")
    projector = hall.projector()
    assert "全体代表过半数" in projector and "全体组成人员过半数" not in projector
    assert "全体代表" in hall.console()
