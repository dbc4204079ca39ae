"""A meeting moved to another installation keeps who chaired it, the paragraph of its
proceedings and who reports on each item (migration 0016): a group or member named by the
laptop's ids becomes the office's same group (by name) or member (by card), so the moved
meeting names the same reporters; a file from before the migration imports with nobody
named. tests/test_reporters_move_postgres.py imports into PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import meetings_admin as admin
from server.office import move_export
from server.office.move_import import import_meeting
from server.storage import models as m
from server.storage.store import load_setup
from tests.conftest import plain_engine
from tests.rec_reporters_fixtures import HIGHER, WHO, name_three
from tests.test_meeting_move import Side, _demo, _other_body_first, side

NOTE = "会议由镇人大主席团主持。会前，各代表小组进行了调研。"


async def _on(url: str, fn: Any, commit: bool = False) -> Any:
    engine = plain_engine(url)
    try:
        async with engine.begin() as conn:
            out = await fn(conn)
            if not commit:
                await conn.rollback()
    finally:
        await engine.dispose()
    return out


async def _prepare(conn: AsyncConnection, meeting_id: int) -> tuple[int, int]:
    """The chair, the note, and three reporters; (group id, member id) on the laptop."""
    await admin.save_chair(conn, meeting_id, await admin.meeting_row(conn, meeting_id), "王建国", WHO)
    await conn.execute(update(m.meetings).where(m.meetings.c.id == meeting_id).values(record_note=NOTE))
    _d, group_id, member_id = await name_three(conn, meeting_id)
    return group_id, member_id


async def _names(conn: AsyncConnection, meeting_id: int) -> dict[str, Any]:
    """What the meeting names, by names not ids: comparable across installations."""
    row = await admin.meeting_row(conn, meeting_id)
    g, d = m.groups.c, m.deputies.c
    items = []
    for item in await admin.agenda(conn, meeting_id):
        group = (await conn.execute(select(g.name).where(g.id == item.reporter_group_id))).scalar()
        card = (await conn.execute(select(d.card_no).where(d.id == item.reporter_deputy_id))).scalar()
        items.append((item.reporter_kind, group, card, item.reporter_name, item.reporter_congress))
    setup = await load_setup(conn, meeting_id)
    return {
        "chair": row.chair,
        "note": row.record_note,
        "items": items,
        "labels": [i.reporter for i in setup.agenda],
    }


@pytest.fixture
def office_url() -> str | None:
    """The office's database: SQLite (tests/test_reporters_move_postgres.py: PostgreSQL)."""
    return None


def _two_sides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, office_url: str | None
) -> tuple[Side, Side, int, dict[str, Any], tuple[int, int]]:
    office = side(tmp_path, "office", office_url, monkeypatch)
    asyncio.run(_other_body_first(office.url))  # the office's ids differ from the laptop's
    asyncio.run(_demo(office.url))
    laptop = side(tmp_path, "laptop", None, monkeypatch)
    source = asyncio.run(_demo(laptop.url))
    laptop_ids = asyncio.run(_on(laptop.url, lambda c: _prepare(c, source), commit=True))

    async def export(conn: AsyncConnection) -> dict[str, Any]:
        return await move_export.collect(conn, source, laptop.secret)

    payload = json.loads(json.dumps(asyncio.run(_on(laptop.url, export))))  # as the file carries it
    office.use(monkeypatch)
    return laptop, office, source, payload, laptop_ids


def _import(url: str, payload: dict[str, Any]) -> int:
    async def fn(conn: AsyncConnection) -> int:
        return (await import_meeting(conn, payload, "test-signer", WHO)).meeting_id

    return int(asyncio.run(_on(url, fn, commit=True)))


def test_the_chair_the_note_and_the_reporters_travel(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, office_url: str | None
) -> None:
    laptop, office, source, payload, (group_id, member_id) = _two_sides(tmp_path, monkeypatch, office_url)
    target = _import(office.url, payload)
    before = asyncio.run(_on(laptop.url, lambda c: _names(c, source)))
    after = asyncio.run(_on(office.url, lambda c: _names(c, target)))
    assert after == before
    assert (after["chair"], after["note"]) == ("王建国", NOTE)
    assert [i[0] for i in after["items"]] == ["group", "member", "higher"]
    assert after["items"][2][3:] == HIGHER and all(after["labels"])

    async def office_ids(conn: AsyncConnection) -> tuple[Any, ...]:
        items = await admin.agenda(conn, target)
        body = (await admin.meeting_row(conn, target)).body_id
        g, d = m.groups.c, m.deputies.c
        group_body = (
            await conn.execute(select(g.body_id).where(g.id == items[0].reporter_group_id))
        ).scalar()
        deputy_body = (
            await conn.execute(select(d.body_id).where(d.id == items[1].reporter_deputy_id))
        ).scalar()
        a = m.audit.c
        trail = [
            json.loads(r.detail)
            for r in await conn.execute(
                select(a.detail).where(a.meeting_id == target, a.action == "meeting_edited").order_by(a.id)
            )
        ]
        member_entry = next(t for t in trail if t.get("reporter_kind") == "member")
        return (
            items[0].reporter_group_id,
            items[1].reporter_deputy_id,
            group_body == body == deputy_body,
            member_entry["summary"],
        )

    moved_group, moved_member, same_body, audited = asyncio.run(_on(office.url, office_ids))
    assert same_body  # the office's own group and member, not whatever row had the laptop's id
    assert (moved_group, moved_member) != (group_id, member_id)
    assert audited.endswith(f"的述职人：{after['labels'][1]}")  # the trail's entries travel too


def test_a_file_from_before_the_reporters_imports_with_nobody_named(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, office_url: str | None
) -> None:
    _laptop, office, _source, payload, _ids = _two_sides(tmp_path, monkeypatch, office_url)
    for key in ("chair", "record_note"):
        del payload["meeting"][key]
    for row in payload["tables"]["agenda_items"]:
        for key in (
            "reporter_kind",
            "reporter_group_id",
            "reporter_deputy_id",
            "reporter_name",
            "reporter_congress",
        ):
            del row[key]
    target = _import(office.url, payload)
    after = asyncio.run(_on(office.url, lambda c: _names(c, target)))
    assert (after["chair"], after["note"]) == ("", "")
    assert after["items"] == [("", None, None, "", "")] * 3 and after["labels"] == [""] * 3
