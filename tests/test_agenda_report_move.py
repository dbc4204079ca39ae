"""A meeting whose agenda takes a progress report, moved to another installation
(server/office/move_reports.py): the report travels in the file and the moved item is
linked to this installation's copy of it — the same report when it is already here (no
second copy), else one saved from the file — so the moved meeting shows the same figures.
A file whose item names a report it does not carry is refused, nothing written.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from server.office import agenda_reports, move_export
from server.office.bodies import Who
from server.office.move_format import MoveRefused
from server.office.move_import import import_meeting
from server.storage import models as m
from server.storage.store import load_setup
from tests.conftest import plain_engine
from tests.test_agenda_reports import FIGURES, save_report
from tests.test_meeting_move import Side, _demo, _other_body_first, side

WHO = Who("cli:office", "pytest")


async def _prepare(url: str, meeting_id: int) -> int:
    """The laptop's meeting takes a report of its body; the report's id there."""
    engine = plain_engine(url)
    async with engine.begin() as conn:
        body = (
            await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == meeting_id))
        ).scalar_one()
        report_id = await save_report(conn, int(body))
        await agenda_reports.add_item(conn, meeting_id, {"report_id": str(report_id)}, WHO)
    await engine.dispose()
    return report_id


async def _export(laptop: Side, meeting_id: int) -> dict[str, Any]:
    engine = plain_engine(laptop.url)
    async with engine.connect() as conn:
        payload = await move_export.collect(conn, meeting_id, laptop.secret)
        await conn.rollback()
    await engine.dispose()
    return dict(json.loads(json.dumps(payload)))  # as the file carries it


async def _copy_report(url: str, payload: dict[str, Any]) -> int:
    """The office already holds the same report (e.g. both were restored from one backup)."""
    engine = plain_engine(url)
    async with engine.begin() as conn:
        body = (
            await conn.execute(select(m.bodies.c.id).where(m.bodies.c.name == payload["body"]["name"]))
        ).scalar_one()
        row = payload["reports"][0] | {"body_id": body}
        row.pop("id")
        made = await conn.execute(insert(m.followup_reports).values(row).returning(m.followup_reports.c.id))
        found = int(made.scalar_one())
    await engine.dispose()
    return found


async def _import(url: str, payload: dict[str, Any]) -> tuple[int, list[str]]:
    engine = plain_engine(url)
    try:
        async with engine.begin() as conn:
            done = await import_meeting(conn, payload, "test-signer", WHO)
    finally:
        await engine.dispose()
    return done.meeting_id, done.lines


async def _read(url: str, fn: Any) -> Any:
    engine = plain_engine(url)
    async with engine.connect() as conn:
        out = await fn(conn)
        await conn.rollback()
    await engine.dispose()
    return out


async def _reports(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(m.followup_reports))).scalar_one())


@pytest.fixture
def office_url() -> str | None:
    """The office's database: SQLite in its folder (tests/test_agenda_report_move_postgres.py
    gives PostgreSQL)."""
    return None


def _two_sides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, office_url: str | None
) -> tuple[Side, Side, int, dict[str, Any]]:
    office = side(tmp_path, "office", office_url, monkeypatch)
    asyncio.run(_other_body_first(office.url))
    asyncio.run(_demo(office.url))
    laptop = side(tmp_path, "laptop", None, monkeypatch)
    meeting_id = asyncio.run(_demo(laptop.url))
    asyncio.run(_prepare(laptop.url, meeting_id))
    payload = asyncio.run(_export(laptop, meeting_id))
    office.use(monkeypatch)
    return laptop, office, meeting_id, payload


def _moved_item(url: str, meeting_id: int) -> Any:
    async def fn(conn: AsyncConnection) -> Any:
        a = m.agenda_items.c
        row = (
            await conn.execute(
                select(m.agenda_items).where(a.meeting_id == meeting_id, a.report_id.is_not(None))
            )
        ).one()
        setup = await load_setup(conn, meeting_id)
        return row, setup.agenda_item(row.id)

    return asyncio.run(_read(url, fn))


def test_the_report_travels_and_a_copy_is_saved_where_it_is_missing(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, office_url: str | None
) -> None:
    _laptop, office, _source, payload = _two_sides(tmp_path, monkeypatch, office_url)
    assert [r["title"] for r in payload["reports"]] == [FIGURES.title]
    assert "议程所听取的督办进展报告 1 份" in move_export.summary(payload)  # what the dry run says
    before = asyncio.run(_read(office.url, _reports))
    target, lines = asyncio.run(_import(office.url, payload))
    assert asyncio.run(_read(office.url, _reports)) == before + 1
    assert any("已按文件保存一份" in line for line in lines), lines
    row, item = _moved_item(office.url, target)
    assert item is not None and item.report == FIGURES
    copy = asyncio.run(
        _read(
            office.url,
            lambda c: c.execute(select(m.followup_reports).where(m.followup_reports.c.id == row.report_id)),
        )
    ).one()
    office_body = asyncio.run(
        _read(office.url, lambda c: c.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == target)))
    ).scalar_one()
    assert copy.body_id == office_body  # the office's body, not the laptop's id


def test_the_same_report_already_here_is_linked_not_copied(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, office_url: str | None
) -> None:
    _laptop, office, _source, payload = _two_sides(tmp_path, monkeypatch, office_url)
    here = asyncio.run(_copy_report(office.url, payload))
    before = asyncio.run(_read(office.url, _reports))
    target, lines = asyncio.run(_import(office.url, payload))
    assert asyncio.run(_read(office.url, _reports)) == before
    assert any("本机已有" in line for line in lines), lines
    row, item = _moved_item(office.url, target)
    assert row.report_id == here and item is not None and item.report == FIGURES


def test_an_item_naming_a_report_the_file_lacks_is_refused(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, office_url: str | None
) -> None:
    _laptop, office, _source, payload = _two_sides(tmp_path, monkeypatch, office_url)

    async def counts(conn: AsyncConnection) -> tuple[int, ...]:
        tables = (m.meetings, m.agenda_items, m.followup_reports, m.audit)
        return tuple(
            [int((await conn.execute(select(func.count()).select_from(t))).scalar_one()) for t in tables]
        )

    before = asyncio.run(_read(office.url, counts))
    for broken in (payload | {"reports": []}, {k: v for k, v in payload.items() if k != "reports"}):
        with pytest.raises(MoveRefused, match="督办进展报告"):
            asyncio.run(_import(office.url, broken))
    with pytest.raises(MoveRefused, match="reports"):
        asyncio.run(_import(office.url, payload | {"reports": {"not": "a list"}}))
    assert asyncio.run(_read(office.url, counts)) == before


def test_the_copy_keeps_its_date_and_names_only_the_meetings_here(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, office_url: str | None
) -> None:
    """The scope and the printed date travel (migration 0015). The scope's meeting ids are
    the laptop's: the moved meeting's becomes its id here, one not here is only counted,
    never mistaken for whatever meeting has that id here."""
    import datetime as dt

    _laptop, office, source, payload = _two_sides(tmp_path, monkeypatch, office_url)
    carried = payload["reports"][0]
    assert (json.loads(carried["scope"]), carried["dated"]) == ({}, None)  # as save_report left it
    carried |= {"scope": json.dumps({"meetings": [source, 987_654]}), "dated": "2026-12-20"}
    target, _ = asyncio.run(_import(office.url, payload))
    row, _ = _moved_item(office.url, target)
    copy = asyncio.run(
        _read(
            office.url,
            lambda c: c.execute(select(m.followup_reports).where(m.followup_reports.c.id == row.report_id)),
        )
    ).one()
    assert json.loads(copy.scope) == {"meetings": [target], "elsewhere": 1}
    assert copy.dated == dt.date(2026, 12, 20)
