"""A meeting moves from the hall's laptop to the office (`wenzheng meeting export|import`).

A real meeting runs on one installation through the runtime (check-ins by phone and by
hand, leave asked and approved, a non-voting attendee, a rating closed with its result, a
named and a secret vote, a speaker, someone leaving the hall and returning, the meeting
closed so its attendance records are frozen). It is exported with the `wenzheng` command
and imported into another installation whose body and deputies have other ids (another
body and the office's own copy of the demo were made first), SQLite to PostgreSQL and
back. Both logs are folded into a MeetingState and compared after translating ids into
what both sides share (card numbers, positions, names); so are the tallies, receipts,
attendance records and the audit trail, and the moved meeting's pages render.

Refusals write nothing: a changed byte, a file signed by another key with ``--signer``,
a second import, a deputy the office does not have (named), a truncated or garbage file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gzip
import json
import subprocess
import time
import typing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from live.commands import (
    AdvancePhase,
    AnnounceAttendance,
    AnnounceVote,
    CallQuestion,
    CastRating,
    CastVote,
    CheckIn,
    CheckInAttendee,
    CheckInMethod,
    CloseMeeting,
    CloseRating,
    CloseVote,
    EndSpeech,
    GrantFloor,
    LeaveHall,
    MarkLeave,
    OpenCheckIn,
    OpenRating,
    OpenVote,
    RecordCountedVote,
    RequestFloor,
    ReturnToHall,
    StartAgendaItem,
)
from live.events import EVENT_TYPES, Event
from live.state import Choice, FloorKind, MeetingState, Phase, VoteChoice, VoteMethod
from server.base.keys import Keys
from server.base.settings import load
from server.cli import main as wenzheng
from server.office import leave, move_export, move_format
from server.office.demo import load_demo
from server.office.move_format import installation_fingerprint, pack, unpack
from server.office.move_ids import EVENT_ID_FIELDS
from server.office.move_import import TABLES
from server.room.runtime import MeetingRuntime, load_state
from server.storage import models as m
from server.storage.db import create_engine
from server.storage.migrate import upgrade
from server.web.app import create_app
from tests.conftest import CHAIR, STAFF, WENZHENG, TestClient, deputy, meaningful, plain_engine, staff_login

# -- every id an event carries is mapped ------------------------------------------------


def test_every_id_field_of_every_event_is_mapped() -> None:
    assert set(EVENT_ID_FIELDS) == set(EVENT_TYPES), "an event type without its id fields named"
    for name, cls in EVENT_TYPES.items():
        fields = {f.name for f in dataclasses.fields(cls)}
        ids = {f for f in fields if f.endswith("_id")}
        assert ids <= set(EVENT_ID_FIELDS[name]), f"{name}: {ids - set(EVENT_ID_FIELDS[name])} not mapped"
        assert set(EVENT_ID_FIELDS[name]) <= fields, f"{name}: maps fields it does not have"
    assert len(typing.get_args(Event)) == len(EVENT_TYPES)


def test_every_table_of_a_meeting_is_carried_or_left_behind_on_purpose() -> None:
    with_meeting = {t.name for t in m.metadata.sorted_tables if "meeting_id" in t.c}
    carried = {t.name for t in move_export.MEETING_TABLES} | {"meetings"}
    left = {t.name for t in move_export.NOT_CARRIED}
    assert with_meeting | {"meetings"} == carried | left, (
        f"undecided: {sorted(with_meeting - carried - left)}"
    )
    assert not carried & left
    assert set(TABLES) == {t.name for t in move_export.MEETING_TABLES} | {"question_respondents"}


# -- two installations ------------------------------------------------------------------


@dataclasses.dataclass
class Side:
    folder: Path
    url: str

    def use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("WENZHENG_DATA_DIR", str(self.folder))
        monkeypatch.setenv("WENZHENG_DATABASE_URL", self.url)

    @property
    def secret(self) -> str:
        return (self.folder / "secret_key").read_text().strip()


def side(tmp_path: Path, name: str, url: str | None, monkeypatch: pytest.MonkeyPatch) -> Side:
    folder = tmp_path / name
    folder.mkdir()
    s = Side(folder, url or f"sqlite+aiosqlite:///{folder / 'wenzheng.db'}")
    s.use(monkeypatch)
    load()  # makes the installation's own secret key
    upgrade(s.url)
    return s


async def _other_body_first(url: str) -> None:
    """Rows that push the office's ids away from the laptop's."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        body = (
            await conn.execute(
                insert(m.bodies).values(name="其他镇人民代表大会", kind="congress").returning(m.bodies.c.id)
            )
        ).scalar_one()
        group = (
            await conn.execute(insert(m.groups).values(body_id=body, name="一组").returning(m.groups.c.id))
        ).scalar_one()
        for i in range(7):
            await conn.execute(
                insert(m.deputies).values(
                    body_id=body, group_id=group, name=f"外{i}", card_no=f"{1001 + i}", short_code="12345678"
                )
            )
        await conn.execute(insert(m.officials).values(body_id=body, name="某某", title="镇长"))
    await engine.dispose()


async def _demo(url: str) -> int:
    engine = create_engine(url)
    async with engine.begin() as conn:
        meeting_id = (await load_demo(conn)).meeting_id
    await engine.dispose()
    return int(meeting_id)


async def _hold_meeting(url: str, meeting_id: int, secret: str) -> None:
    """The hall day, through the runtime: every kind of record a meeting leaves."""
    engine = create_engine(url)
    now = int(time.time() * 1000)
    async with engine.begin() as conn:
        body = (
            await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
        ).scalar_one()
        ids = [
            int(d)
            for d in (
                await conn.execute(
                    select(m.deputies.c.id).where(m.deputies.c.body_id == body).order_by(m.deputies.c.card_no)
                )
            ).scalars()
        ]
        request = await leave.ask(conn, meeting_id, ids[45], "出差", "pytest", now)
        await leave.decide(conn, meeting_id, request, True, "", by="staff:wang", device="pytest", now_ms=now)
        official = (
            await conn.execute(select(m.officials.c.id).where(m.officials.c.body_id == body))
        ).scalar()
        await conn.execute(
            insert(m.attendees).values(
                meeting_id=meeting_id, kind="respondent", name="沈立群", official_id=official
            )
        )
    async with engine.connect() as conn:
        state = await load_state(conn, meeting_id)
        await conn.rollback()

    async def quiet(*_: Any) -> None:
        return None

    runtime = MeetingRuntime(engine, state, quiet, Keys(secret).box)
    runtime.start()
    chair = CHAIR

    async def do(command: Any, actor: Any = chair) -> None:
        await runtime.submit(command, actor, "pytest")

    try:
        setup = runtime.state.setup
        await do(OpenCheckIn())
        for d in ids[:30]:
            await do(CheckIn(d, CheckInMethod.HALL_QR, "10.0.0.0/24"), deputy(d))
        for d in ids[30:38]:
            await do(CheckIn(d, CheckInMethod.STAFF), STAFF)  # by hand
        await do(MarkLeave(ids[40]), STAFF)
        await do(CheckInAttendee(next(iter(setup.attendees)), CheckInMethod.STAFF), STAFF)
        await do(AnnounceAttendance())
        await do(LeaveHall(ids[3]), STAFF)
        await do(ReturnToHall(ids[3]), STAFF)
        await do(LeaveHall(ids[4]), STAFF)
        inquiry = next(a for a in setup.agenda if a.kind == "inquiry")
        await do(StartAgendaItem(inquiry.id))
        q = setup.questions[0]
        await do(CallQuestion(q.id))
        await do(AdvancePhase(Phase.ANSWERING))
        await do(OpenRating())
        choices = (Choice.SATISFIED, Choice.SATISFIED, Choice.BASIC, Choice.DISSATISFIED)
        present = [d for d in ids[:38] if d != ids[4]]  # ids[4] is out of the hall
        for i, d in enumerate(present[:24]):
            await do(CastRating(d, q.id, choices[i % 4], f"r{d}"), deputy(d))
        await do(CloseRating())
        await do(RequestFloor(ids[7], FloorKind.SPEECH, "关于养老"), deputy(ids[7]))
        await do(RequestFloor(ids[8], FloorKind.SPEECH, ""), deputy(ids[8]))
        await do(GrantFloor(ids[7]))
        await do(EndSpeech())
        for title, secret_vote in (("记名表决", False), ("无记名表决", True)):
            await do(OpenVote(title, secret=secret_vote))
            vote_id = runtime.state.vote_id
            assert vote_id is not None
            picks = (VoteChoice.FOR, VoteChoice.FOR, VoteChoice.AGAINST, VoteChoice.ABSTAIN)
            for i, d in enumerate(present[:33]):
                await do(CastVote(d, vote_id, picks[i % 4], f"v{vote_id}-{d}"), deputy(d))
            await do(CloseVote())
            await do(AnnounceVote())
        await do(CloseMeeting())
    finally:
        await runtime.stop()
        await engine.dispose()


# -- the state in terms both sides share -------------------------------------------------


def canon(state: MeetingState) -> dict[str, Any]:
    s = state.setup
    card = {d.id: d.card_no for d in s.deputies.values()}
    item = {a.id: f"item{a.position}" for a in s.agenda}
    question = {q.id: f"q{q.position}" for q in s.questions}
    attendee = {a.id: a.name for a in s.attendees.values()}

    def rk(key: int) -> str:
        return question[key] if key > 0 else "-" + item[-key]

    def cards(d: dict[int, Any]) -> dict[str, Any]:
        return {card[k]: v for k, v in d.items()}

    mm = meaningful(state)
    mm["attendance"] = cards(mm["attendance"])
    mm["agenda_item_id"] = item.get(mm["agenda_item_id"])
    mm["question_id"] = question.get(mm["question_id"])
    mm["speaker_id"] = card.get(mm["speaker_id"])
    mm["ratings"] = {
        rk(k): v
        | {
            "voters": cards(v["voters"]),
            "result": v["result"] and dataclasses.asdict(v["result"]) | {"question_id": rk(k)},
        }
        for k, v in mm["ratings"].items()
    }
    votes = {}
    for k, v in mm["votes"].items():
        r = v["round"]
        votes[k] = v | {
            "round": (*r[:3], item.get(r[3]), *r[4:]),
            "voters": cards(v["voters"]),
            "named": cards(v["named"]),
        }
    mm["votes"] = votes
    mm |= {
        "roster": sorted((d.card_no, d.name, d.group) for d in s.deputies.values()),
        "suspended": sorted(card[d] for d in s.suspended),
        "on_leave": sorted(card[d] for d in s.on_leave),
        "agenda": [(a.position, a.title, a.kind) for a in s.agenda],
        "questions": [
            (q.position, q.title, card.get(q.asker_id), q.respondents, q.group) for q in s.questions
        ],
        "networks": cards(state.checkin_networks),
        "checked_in_ms": cards(state.checked_in_ms),
        "attendees_in": sorted(attendee[a] for a in state.attendees_in),
        "closed": state.closed,
        "left": state.left_count,
        "expected": state.expected,
        "queue": [(card[r.deputy_id], r.kind, r.subject) for r in state.floor_queue],
        "speeches": {(item.get(i), card[d]): n for (i, d), n in state.speeches.items()},
        "spoken_ms": cards(state.spoken_ms),
        "title": s.title,
        "held_on": s.held_on,
    }
    return mm


async def _records(url: str, meeting_id: int) -> dict[str, Any]:
    """Tallies, receipts, attendance records and the audit trail, by card number."""
    engine = plain_engine(url)
    async with engine.connect() as conn:
        card = {int(i): str(c) for i, c in await conn.execute(select(m.deputies.c.id, m.deputies.c.card_no))}
        pos = {
            int(i): int(p)
            for i, p in await conn.execute(
                select(m.questions.c.id, m.questions.c.position).where(m.questions.c.meeting_id == meeting_id)
            )
        }

        def who(actor: str) -> str:  # "deputy:17" names a deputy by id
            role, _, rest = actor.partition(":")
            return f"deputy:{card[int(rest)]}" if role == "deputy" else actor

        async def all_of(table: Any) -> list[Any]:
            return list(await conn.execute(select(table).where(table.c.meeting_id == meeting_id)))

        out = {
            "rating_tallies": sorted(
                (pos[r.question_id], r.choice, r.n) for r in await all_of(m.rating_tallies)
            ),
            "vote_tallies": sorted((r.vote_id, r.choice, r.n) for r in await all_of(m.vote_tallies)),
            "rating_receipts": sorted(
                (pos[r.question_id], card[r.deputy_id], r.ballot_key) for r in await all_of(m.rating_receipts)
            ),
            "vote_receipts": sorted(
                (r.vote_id, card[r.deputy_id], r.ballot_key) for r in await all_of(m.vote_receipts)
            ),
            "attendance_records": sorted(
                (card[r.deputy_id], r.status, r.checked_in_ms, r.how, r.late, r.left_ms, r.leave_approved)
                for r in await all_of(m.attendance_records)
            ),
            "audit": sorted(
                (r.at_ms, r.action, who(r.actor), json.loads(r.detail).get("deputy_id") in card)
                for r in await all_of(m.audit)
                if r.action != "meeting_imported"
            ),
            "leave": sorted((card[r.deputy_id], r.status) for r in await all_of(m.leave_requests)),
            "sealed": len(await all_of(m.sealed_ballots)),
        }
        await conn.rollback()
    await engine.dispose()
    return out


async def _state(url: str, meeting_id: int) -> MeetingState:
    engine = plain_engine(url)
    async with engine.connect() as conn:
        state = await load_state(conn, meeting_id)
        await conn.rollback()
    await engine.dispose()
    return state


async def _count(url: str, table: Any) -> int:
    engine = plain_engine(url)
    async with engine.connect() as conn:
        n = int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
        await conn.rollback()
    await engine.dispose()
    return n


def _audit_csv(where: Side, meeting_id: int, monkeypatch: pytest.MonkeyPatch) -> str:
    where.use(monkeypatch)
    with TestClient(create_app(load()), raise_server_exceptions=False, follow_redirects=False) as client:
        client.cookies.set("wz_user", staff_login(client))
        reply = client.get(f"/m/{meeting_id}/audit.csv")
        assert reply.status_code == 200, reply.text[:300]
        return reply.content.decode("utf-8-sig")


def _laptop_and_office(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, laptop_url: str | None, office_url: str | None
) -> tuple[Side, Side, int, Path]:
    """A meeting held and exported on the laptop; the office with other ids."""
    office = side(tmp_path, "office", office_url, monkeypatch)
    asyncio.run(_other_body_first(office.url))
    asyncio.run(_demo(office.url))
    laptop = side(tmp_path, "laptop", laptop_url, monkeypatch)
    meeting_id = asyncio.run(_demo(laptop.url))
    asyncio.run(_hold_meeting(laptop.url, meeting_id, laptop.secret))
    out = tmp_path / "meeting.wzmeeting"
    assert wenzheng(["meeting", "export", str(meeting_id), "--out", str(out)]) == 0
    office.use(monkeypatch)
    return laptop, office, meeting_id, out


def _round_trip(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    laptop_url: str | None,
    office_url: str | None,
) -> None:
    laptop, office, source_id, out = _laptop_and_office(tmp_path, monkeypatch, laptop_url, office_url)
    printed = capsys.readouterr().out
    fingerprint = installation_fingerprint(laptop.secret)
    assert f"签名指纹：{fingerprint}" in printed

    assert wenzheng(["meeting", "import", str(out), "--signer", fingerprint]) == 0
    said = capsys.readouterr().out
    assert fingerprint in said and "已导入会议" in said
    engine = plain_engine(office.url)

    async def new_id() -> int:
        async with engine.connect() as conn:
            found = (await conn.execute(select(m.meeting_imports.c.meeting_id))).scalar_one()
            await conn.rollback()
        await engine.dispose()
        return int(found)

    target_id = asyncio.run(new_id())
    before, after = asyncio.run(_state(laptop.url, source_id)), asyncio.run(_state(office.url, target_id))
    # Other ids on the office: the comparison below translates them; the raw ids differ.
    assert set(before.setup.deputies) != set(after.setup.deputies)
    assert before.closed and after.closed
    for key, value in canon(before).items():
        assert repr(canon(after)[key]) == repr(value), key
    assert asyncio.run(_records(office.url, target_id)) == asyncio.run(_records(laptop.url, source_id))

    # The whole audit trail in words (every event, every audit row), as each side exports it.
    trail = _audit_csv(office, target_id, monkeypatch).splitlines()
    laptop_trail = _audit_csv(laptop, source_id, monkeypatch).splitlines()
    imported = [line for line in trail if "导入会议（从其他安装迁入）" in line]
    assert len(imported) == 1 and fingerprint in imported[0]
    assert [line for line in trail if line not in imported] == laptop_trail
    assert len(laptop_trail) > before.seq  # every event, and the rows before the meeting
    office.use(monkeypatch)

    # The moved meeting's pages: console, audit trail (its log in words), the public results.
    with TestClient(create_app(load()), raise_server_exceptions=False, follow_redirects=False) as client:
        cookie = staff_login(client)
        client.cookies.set("wz_user", cookie)
        for page in ("console", "audit", "live", "roster"):
            reply = client.get(f"/m/{target_id}/{page}")
            assert reply.status_code == 200, (page, reply.text[:300])
        audit_page = client.get(f"/m/{target_id}/audit").text
        name = before.setup.deputies[min(before.setup.deputies)].name
        assert "无记名表决" in audit_page and name in audit_page
        assert "导入会议（从其他安装迁入）" in audit_page and fingerprint in audit_page
        assert "会议已结束" in client.get(f"/m/{target_id}/console").text
        public = client.get(f"/m/{target_id}/live").text
        counts = next(iter(before.ratings.values())).counts
        assert (
            f"满意 {counts[Choice.SATISFIED]} 票" in public
            and f"不满意 {counts[Choice.DISSATISFIED]} 票" in public
        )
        assert "表决：记名表决" in public and "表决：无记名表决" in public

    # A second import of the same meeting: refused, nothing more written.
    events = asyncio.run(_count(office.url, m.events))
    assert wenzheng(["meeting", "import", str(out)]) == 1
    assert "已经导入过" in capsys.readouterr().err
    assert asyncio.run(_count(office.url, m.events)) == events
    # Moved on from the office, it is still the laptop's meeting: its origin travels with it,
    # and the laptop refuses it as its own.
    again = tmp_path / "again.wzmeeting"
    assert wenzheng(["meeting", "export", str(target_id), "--out", str(again)]) == 0
    assert unpack(again.read_bytes()).payload["origin"] == unpack(out.read_bytes()).payload["origin"]
    laptop.use(monkeypatch)
    capsys.readouterr()
    assert (
        wenzheng(["meeting", "import", str(again), "--signer", installation_fingerprint(office.secret)]) == 1
    )
    assert "这是本机自己的会议" in capsys.readouterr().err


def test_round_trip_sqlite_to_postgres(
    tmp_path: Path, data_dir: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _round_trip(tmp_path, monkeypatch, capsys, None, pg_database)


def test_round_trip_postgres_to_sqlite(
    tmp_path: Path, data_dir: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _round_trip(tmp_path, monkeypatch, capsys, pg_database, None)


# -- refusals: nothing written -----------------------------------------------------------


@pytest.fixture
def moved(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Side, Side, Path]:
    """The demo meeting exported from a laptop; the office (SQLite) with other ids."""
    office = side(tmp_path, "office", None, monkeypatch)
    asyncio.run(_other_body_first(office.url))
    asyncio.run(_demo(office.url))
    laptop = side(tmp_path, "laptop", None, monkeypatch)
    meeting_id = asyncio.run(_demo(laptop.url))
    out = tmp_path / "meeting.wzmeeting"
    assert wenzheng(["meeting", "export", str(meeting_id), "--out", str(out)]) == 0
    office.use(monkeypatch)
    return laptop, office, out


def _written(url: str) -> tuple[int, ...]:
    tables = (m.meetings, m.events, m.deputies, m.groups, m.meeting_imports, m.audit, m.agenda_items)
    return tuple(asyncio.run(_count(url, t)) for t in tables)


def _refused(args: list[str], url: str, capsys: Any, wanted: str) -> None:
    before = _written(url)
    capsys.readouterr()
    assert wenzheng(["meeting", "import", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：") and wanted in err, err
    assert _written(url) == before


def _resign(data: bytes, secret: str, **changes: Any) -> bytes:
    payload = unpack(data).payload | changes
    return pack(payload, secret)[0]


def test_a_changed_byte_is_refused(moved: tuple[Side, Side, Path], tmp_path: Path, capsys: Any) -> None:
    _laptop, office, out = moved
    data = out.read_bytes()
    bad = tmp_path / "bad.wzmeeting"
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(flipped))
    _refused([str(bad)], office.url, capsys, "")
    # A change inside the signed text, the gzip rebuilt around it: the signature catches it.
    envelope = json.loads(gzip.decompress(data))
    envelope["payload"] = envelope["payload"].replace("镇人大会议室", "镇人大会议厅", 1)
    bad.write_bytes(gzip.compress(json.dumps(envelope, ensure_ascii=False).encode()))
    _refused([str(bad)], office.url, capsys, "签名校验失败")
    # The original still imports.
    assert wenzheng(["meeting", "import", str(out), "--dry-run"]) == 0
    assert "未写入任何内容" in capsys.readouterr().out


def test_another_signer_is_refused_with_signer(
    moved: tuple[Side, Side, Path], tmp_path: Path, capsys: Any
) -> None:
    laptop, office, out = moved
    forged = tmp_path / "forged.wzmeeting"
    forged.write_bytes(_resign(out.read_bytes(), "not the laptop's key"))
    expected = installation_fingerprint(laptop.secret)
    _refused([str(forged), "--signer", expected], office.url, capsys, "签名者不符")
    _refused([str(forged), "--signer", "abc"], office.url, capsys, "格式不对")
    # The laptop's own file passes the same check.
    assert wenzheng(["meeting", "import", str(out), "--signer", expected.replace("-", "").upper()]) == 0


def test_a_member_the_office_lacks_is_named(moved: tuple[Side, Side, Path], capsys: Any) -> None:
    _laptop, office, out = moved

    async def rename() -> str:
        engine = create_engine(office.url)
        async with engine.begin() as conn:
            body = (
                await conn.execute(select(m.bodies.c.id).where(m.bodies.c.name == "清溪镇人民代表大会"))
            ).scalar_one()
            d = m.deputies.c
            name = (
                await conn.execute(select(d.name).where(d.body_id == body, d.card_no == "1005"))
            ).scalar_one()
            await conn.execute(
                m.deputies.update().where(d.body_id == body, d.card_no == "1005").values(name="改名")
            )
        await engine.dispose()
        return str(name)

    name = asyncio.run(rename())
    _refused([str(out)], office.url, capsys, f"代表{name}（卡号 1005")
    _refused([str(out), "--add-missing"], office.url, capsys, f"代表{name}（卡号 1005")
    _refused([str(out), "--body", "其他镇人民代表大会"], office.url, capsys, "卡号 1001，本机此卡号是外0")
    _refused([str(out), "--body", "没有这个机构"], office.url, capsys, "本机没有机构“没有这个机构”")


def test_add_missing_builds_the_body(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    laptop = side(tmp_path, "laptop", None, monkeypatch)
    meeting_id = asyncio.run(_demo(laptop.url))
    out = tmp_path / "m.wzmeeting"
    assert wenzheng(["meeting", "export", str(meeting_id), "--out", str(out)]) == 0
    office = side(tmp_path, "office", None, monkeypatch)
    _refused([str(out)], office.url, capsys, "本机没有机构")
    assert wenzheng(["meeting", "import", str(out), "--add-missing"]) == 0
    assert "新建代表 48 名" in capsys.readouterr().out
    before, after = asyncio.run(_state(laptop.url, meeting_id)), asyncio.run(_state(office.url, 1))
    assert canon(after) == canon(before) and after.expected == 48


def test_broken_files_are_refused_plainly(
    moved: tuple[Side, Side, Path], tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop, office, out = moved
    data = out.read_bytes()
    bad = tmp_path / "bad.wzmeeting"
    cases = [
        (data[: len(data) // 2], "已损坏"),
        (b"PK\x03\x04 garbage" * 10, "无法解压"),
        (gzip.compress(b"{not json"), "已损坏"),
        (gzip.compress(b'{"format": "wenzheng-meeting", "version": 7}'), "格式版本 7"),
        (gzip.compress(b"[1, 2]"), "不是问政会议导出文件"),
        (_resign(data, laptop.secret, schema_revision="9999"), "数据库结构版本 '9999'"),
        (_resign(data, laptop.secret, tables={"events": "x"}), "文件不完整"),
        (_resign(data, laptop.secret, format_version=2), "内容版本 2"),
    ]
    for content, wanted in cases:
        bad.write_bytes(content)
        _refused([str(bad)], office.url, capsys, wanted)
    _refused([str(tmp_path / "nowhere.wzmeeting")], office.url, capsys, "无法读取文件")
    # A file that inflates past the ceiling is refused before it is all in memory.
    bad.write_bytes(gzip.compress(b" " * 20_000))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(move_format, "MAX_BYTES", 10_000)
        _refused([str(bad)], office.url, capsys, "文件过大")
    # Export: a meeting that is not there, a folder that is not there.
    laptop.use(monkeypatch)
    capsys.readouterr()
    assert wenzheng(["meeting", "export", "999", "--out", str(tmp_path / "x.wzmeeting")]) == 1
    assert "没有编号为 999 的会议" in capsys.readouterr().err
    assert wenzheng(["meeting", "export", "1", "--out", str(tmp_path / "no" / "x.wzmeeting")]) == 1
    assert "无法写入文件" in capsys.readouterr().err and not list(tmp_path.rglob("x.wzmeeting*"))
    # As a user runs it: one Chinese line, exit 1, no traceback.
    bad.write_bytes(data[:100])
    env = {
        "WENZHENG_DATA_DIR": str(office.folder),
        "WENZHENG_DATABASE_URL": office.url,
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [str(WENZHENG), "meeting", "import", str(bad)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr and done.stderr.startswith("错误：")


async def _open_secret_vote(url: str, meeting_id: int, secret: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as conn:
        state = await load_state(conn, meeting_id)
        await conn.rollback()

    async def quiet(*_: Any) -> None:
        return None

    runtime = MeetingRuntime(engine, state, quiet, Keys(secret).box)
    runtime.start()
    try:
        ids = sorted(state.setup.deputies)
        await runtime.submit(OpenCheckIn(), CHAIR, "pytest")
        for d in ids[:36]:
            await runtime.submit(CheckIn(d, CheckInMethod.STAFF), STAFF, "pytest")
        await runtime.submit(OpenVote("无记名表决", secret=True), CHAIR, "pytest")
        for d in ids[:5]:
            await runtime.submit(CastVote(d, 1, VoteChoice.FOR, f"k{d}"), deputy(d), "pytest")
    finally:
        await runtime.stop()
        await engine.dispose()


async def _on_office(url: str, meeting_id: int, secret: str, commands: list[Any]) -> MeetingState:
    """The office's runtime over the moved meeting."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        state = await load_state(conn, meeting_id)
        await conn.rollback()

    async def quiet(*_: Any) -> None:
        return None

    runtime = MeetingRuntime(engine, state, quiet, Keys(secret).box)
    runtime.start()
    try:
        for command in commands:
            await runtime.submit(command, CHAIR, "pytest")
        return runtime.state
    finally:
        await runtime.stop()
        await engine.dispose()


def test_an_open_meeting_arrives_as_it_stood(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    laptop = side(tmp_path, "laptop", None, monkeypatch)
    meeting_id = asyncio.run(_demo(laptop.url))
    asyncio.run(_open_secret_vote(laptop.url, meeting_id, laptop.secret))
    out = tmp_path / "m.wzmeeting"
    # A secret round still open: its sealed choices open only with the laptop's key.
    assert wenzheng(["meeting", "export", str(meeting_id), "--out", str(out)]) == 1
    assert "5 张密封选票" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
    asyncio.run(_on_office(laptop.url, meeting_id, laptop.secret, [CloseVote()]))
    assert wenzheng(["meeting", "export", str(meeting_id), "--out", str(out)]) == 0
    office = side(tmp_path, "office", None, monkeypatch)
    capsys.readouterr()
    assert wenzheng(["meeting", "import", str(out), "--add-missing"]) == 0
    assert "尚未结束，按原状导入" in capsys.readouterr().out
    before, after = asyncio.run(_state(laptop.url, meeting_id)), asyncio.run(_state(office.url, 1))
    assert canon(after) == canon(before) and not after.closed
    assert asyncio.run(_records(office.url, 1)) == asyncio.run(_records(laptop.url, meeting_id))
    # The meeting goes on at the office: a revote of the secret vote, then the close,
    # which freezes the attendance records there.
    late = sorted(after.setup.deputies)[40]
    state = asyncio.run(
        _on_office(
            office.url,
            1,
            office.secret,
            [
                CheckIn(late, CheckInMethod.STAFF),
                RecordCountedVote("无记名表决", VoteMethod.PAPER, 30, 3, 4, revote_of=1),
                CloseMeeting(),
            ],
        )
    )
    assert state.closed and state.present_count == 37
    records = asyncio.run(_records(office.url, 1))["attendance_records"]
    assert len(records) == 48 and sum(r[1] == "present" for r in records) == 37


def test_other_members_on_the_day_are_named(moved: tuple[Side, Side, Path], capsys: Any) -> None:
    """An office member on the meeting's day the laptop did not have would change 应到."""
    _laptop, office, out = moved

    async def elect() -> None:
        engine = create_engine(office.url)
        async with engine.begin() as conn:
            body = (
                await conn.execute(select(m.bodies.c.id).where(m.bodies.c.name == "清溪镇人民代表大会"))
            ).scalar_one()
            group = (await conn.execute(select(m.groups.c.id).where(m.groups.c.body_id == body))).scalar()
            new = (
                await conn.execute(
                    insert(m.deputies)
                    .values(body_id=body, group_id=group, name="新代表", card_no="2001", short_code="8765")
                    .returning(m.deputies.c.id)
                )
            ).scalar_one()
            since = dt.date(2020, 1, 1)
            mandate = {"deputy_id": new, "starts_on": since, "start_reason": "elected"}
            await conn.execute(insert(m.mandates).values(mandate))
        await engine.dispose()

    asyncio.run(elect())
    _refused([str(out)], office.url, capsys, "代表构成与本机不一致")
    _refused([str(out), "--add-missing"], office.url, capsys, "新代表（卡号 2001）")
