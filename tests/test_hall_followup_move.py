"""承诺事项 typed on the hall's laptop travel with the meeting to the office
(`wenzheng meeting export|import`, server/office/move_export.py, move_import.py), and the
office's 交办 decision then copies them into the items: the whole road from the hall to
follow-up when the meeting was held offline. SQLite to SQLite and SQLite to PostgreSQL;
the office's ids differ from the laptop's (another body and the demo were made first).
A file from before the table was carried (no ``question_commitments``) still imports."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.cli import main as wenzheng
from server.office import followup, question_commitments
from server.office.move_format import pack, unpack
from server.storage import models as m
from tests.conftest import plain_engine
from tests.test_meeting_move import _demo, _other_body_first, side

LINES = ("年底前完成农贸市场雨棚改造", "每月向代表小组通报进度")


def _run(url: str, fn: Any) -> Any:
    async def go() -> Any:
        engine = plain_engine(url)
        try:
            async with engine.begin() as conn:
                return await fn(conn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def _questions(conn: AsyncConnection, meeting_id: int) -> list[tuple[int, str]]:
    q = m.questions
    rows = await conn.execute(
        select(q.c.id, q.c.title).where(q.c.meeting_id == meeting_id).order_by(q.c.position)
    )
    return [(int(i), str(t)) for i, t in rows]


def _move(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, office_url: str | None) -> None:
    office = side(tmp_path, "office", office_url, monkeypatch)
    asyncio.run(_other_body_first(office.url))
    asyncio.run(_demo(office.url))
    laptop = side(tmp_path, "laptop", None, monkeypatch)
    meeting_id = asyncio.run(_demo(laptop.url))

    async def typed(conn: AsyncConnection) -> list[tuple[Any, ...]]:
        qs = await _questions(conn, meeting_id)
        for n, text in enumerate(LINES):
            await question_commitments.add(
                conn,
                meeting_id,
                qs[1][0],
                text,
                actor="staff:wang",
                device="console",
                now_ms=1_790_000_000_000 + n,
            )
        qc = m.question_commitments
        return [
            tuple(r)
            for r in await conn.execute(select(qc.c.text, qc.c.recorded_by, qc.c.at_ms).order_by(qc.c.id))
        ]

    on_laptop = _run(laptop.url, typed)
    out = tmp_path / "meeting.wzmeeting"
    assert wenzheng(["meeting", "export", str(meeting_id), "--out", str(out)]) == 0
    assert len(unpack(out.read_bytes()).payload["tables"]["question_commitments"]) == 2
    office.use(monkeypatch)
    assert wenzheng(["meeting", "import", str(out)]) == 0

    async def arrived(conn: AsyncConnection) -> None:
        mi = m.meeting_imports.c
        target = int((await conn.execute(select(mi.meeting_id))).scalar_one())
        assert target != meeting_id  # the office's ids are its own
        qs = await _questions(conn, target)
        qc = m.question_commitments
        rows = list((await conn.execute(select(qc).order_by(qc.c.id))).all())
        assert [(r.text, r.recorded_by, r.at_ms) for r in rows] == on_laptop
        assert {(r.meeting_id, r.question_id) for r in rows} == {(target, qs[1][0])}  # the same question
        entries = (
            await conn.execute(
                select(m.audit.c.detail).where(
                    m.audit.c.action == "question_committed", m.audit.c.meeting_id == target
                )
            )
        ).scalars()
        assert {json.loads(d)["question_id"] for d in entries} == {qs[1][0]}  # the trail names it too
        # The office decides: the moved lines become the item's commitments.
        await followup.record_decision(
            conn,
            target,
            organ="主席团",
            decided_on=dt.date(2026, 12, 1),
            document_no="清溪人大〔2026〕9号",
            reply_months=3,
            chosen=[i for i, _ in qs],
            priority=[],
            reasons={},
            actor="staff:li",
            device="office",
            now_ms=1_790_100_000_000,
        )
        fi, fc = m.followup_items, m.followup_commitments
        item = (await conn.execute(select(fi.c.id).where(fi.c.question_id == qs[1][0]))).scalar_one()
        copied = (
            await conn.execute(select(fc.c.text, fc.c.recorded_by, fc.c.at_ms).where(fc.c.item_id == item))
        ).all()
        assert [tuple(r) for r in copied] == on_laptop

    _run(office.url, arrived)


def test_commitments_move_with_the_meeting_sqlite(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _move(tmp_path, monkeypatch, None)


@pytest.mark.postgres
def test_commitments_move_with_the_meeting_to_postgres(
    tmp_path: Path, data_dir: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _move(tmp_path, monkeypatch, pg_database)


def test_a_file_without_commitments_still_imports(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file exported before 承诺事项 travelled has no such table: nothing to carry."""
    office = side(tmp_path, "office", None, monkeypatch)
    asyncio.run(_demo(office.url))
    laptop = side(tmp_path, "laptop", None, monkeypatch)
    meeting_id = asyncio.run(_demo(laptop.url))
    out = tmp_path / "meeting.wzmeeting"
    assert wenzheng(["meeting", "export", str(meeting_id), "--out", str(out)]) == 0
    payload = unpack(out.read_bytes()).payload
    del payload["tables"]["question_commitments"]
    old = tmp_path / "old.wzmeeting"
    old.write_bytes(pack(payload, laptop.secret)[0])
    office.use(monkeypatch)
    assert wenzheng(["meeting", "import", str(old)]) == 0

    async def none(conn: AsyncConnection) -> None:
        assert (await conn.execute(select(m.question_commitments))).first() is None
        assert (await conn.execute(select(m.meeting_imports))).first() is not None

    _run(office.url, none)
