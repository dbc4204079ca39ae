"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.storage.db import create_engine
from server.storage.migrate import upgrade
from server.storage.models import metadata


async def _differences(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            diff: list[Any] = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
            await conn.commit()
        return diff
    finally:
        await engine.dispose()


def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    upgrade(url)  # a second upgrade is a no-op
    assert asyncio.run(_differences(url)) == []


@pytest.mark.postgres
def test_postgres_schema_matches_the_models(pg_database: str) -> None:
    upgrade(pg_database)
    assert asyncio.run(_differences(pg_database)) == []


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_rating_ballots_become_totals_and_the_rows_are_gone(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    """Migration 0007 carries the counts of every rating over and drops the ballot rows."""
    from alembic import command
    from sqlalchemy import text

    from server.storage.migrate import alembic_config

    url = (
        str(request.getfixturevalue("pg_database"))
        if database == "postgres"
        else f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    )
    command.upgrade(alembic_config(url), "0006")

    async def fill() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO bodies (id, name, kind) VALUES (1, 'b', 'congress')"))
                await conn.execute(
                    text(
                        "INSERT INTO meetings (id, body_id, kind, title, settings, created_ms) "
                        "VALUES (1, 1, 'inquiry', 't', '{}', 0)"
                    )
                )
                for i, (question, choice) in enumerate(
                    [(7, "satisfied"), (7, "satisfied"), (7, "basic"), (8, "dissatisfied")]
                ):
                    await conn.execute(
                        text(
                            "INSERT INTO rating_ballots (id, meeting_id, question_id, choice) "
                            "VALUES (:i, 1, :q, :c)"
                        ),
                        {"i": f"{i:032x}", "q": question, "c": choice},
                    )
        finally:
            await engine.dispose()

    async def read() -> tuple[set[tuple[int, str, int]], bool]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text("SELECT question_id, choice, n FROM rating_tallies"))
                totals = {(int(q), str(c), int(n)) for q, c, n in rows}
                names = await conn.run_sync(lambda sync: set(sa_inspect(sync).get_table_names()))
                await conn.commit()
            return totals, "rating_ballots" in names
        finally:
            await engine.dispose()

    from sqlalchemy import inspect as sa_inspect

    asyncio.run(fill())
    upgrade(url)
    totals, ballots_left = asyncio.run(read())
    assert totals == {(7, "satisfied", 2), (7, "basic", 1), (8, "dissatisfied", 1)}
    assert not ballots_left


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_an_existing_body_gets_its_term_mandates_and_sessions(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    """Migration 0011 moves an office's data: a term named in the body (第十七届) from its first
    meeting's day, a mandate from that day for every deputy, and each meeting in the term,
    on its day, in the session its title names. The same deputies are 应到 afterwards."""
    from alembic import command
    from sqlalchemy import text

    from server.storage.migrate import alembic_config
    from server.storage.store import load_setup

    url = (
        str(request.getfixturevalue("pg_database"))
        if database == "postgres"
        else f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    )
    command.upgrade(alembic_config(url), "0010")
    july = 1_783_000_000_000  # 2026-07-02 in China time
    august = july + 40 * 86_400_000

    async def fill() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO bodies (id, name, kind) VALUES"
                        " (1, '清溪镇第十七届人民代表大会', 'congress'),"
                        " (2, '某县人大常委会', 'standing_committee')"
                    )
                )
                await conn.execute(
                    text("INSERT INTO groups (id, body_id, name, position) VALUES (1, 1, 'g', 0)")
                )
                for i in range(1, 4):
                    await conn.execute(
                        text(
                            "INSERT INTO deputies (id, body_id, group_id, name, card_no, short_code,"
                            " card_version, phone, notes) VALUES (:i, 1, 1, :n, :c, '12345678', 1, '', '')"
                        ),
                        {"i": i, "n": f"代表{i}", "c": f"{1000 + i}"},
                    )
                for mid, title, ms in (
                    (1, "清溪镇第十七届人民代表大会第三次会议", july),
                    (2, "问政会", august),
                ):
                    await conn.execute(
                        text(
                            "INSERT INTO meetings (id, body_id, kind, title, settings, created_ms) "
                            "VALUES (:i, 1, 'inquiry', :t, '{}', :ms)"
                        ),
                        {"i": mid, "t": title, "ms": ms},
                    )
        finally:
            await engine.dispose()

    async def read() -> dict[str, Any]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                got = {
                    "terms": [
                        tuple(r)
                        for r in await conn.execute(
                            text("SELECT body_id, number, starts_on FROM terms ORDER BY body_id")
                        )
                    ],
                    "levels": [
                        tuple(r) for r in await conn.execute(text("SELECT id, level FROM bodies ORDER BY id"))
                    ],
                    "mandates": [
                        tuple(r)
                        for r in await conn.execute(
                            text("SELECT deputy_id, starts_on, start_reason FROM mandates ORDER BY deputy_id")
                        )
                    ],
                    "sessions": [tuple(r) for r in await conn.execute(text("SELECT number FROM sessions"))],
                    "meetings": [
                        tuple(r)
                        for r in await conn.execute(
                            text(
                                "SELECT id, term_id IS NOT NULL, session_id IS NOT NULL, held_on"
                                " FROM meetings ORDER BY id"
                            )
                        )
                    ],
                    "expected": sorted((await load_setup(conn, 1)).deputies),
                }
                await conn.commit()
            return got
        finally:
            await engine.dispose()

    asyncio.run(fill())
    upgrade(url)
    got = asyncio.run(read())
    day = "2026-07-02"  # SQLite reads a date back as text, PostgreSQL as a date
    got = {
        k: [tuple(str(x) if isinstance(x, datetime.date) else x for x in row) for row in v]
        if k != "expected"
        else v
        for k, v in got.items()
    }
    assert got["terms"][0] == (1, 17, day)
    assert got["terms"][1][:2] == (2, 1)  # no meeting and no number in its name: term 1, from today
    assert got["levels"] == [(1, "town"), (2, "county")]
    assert got["mandates"] == [(i, day, "migrated") for i in (1, 2, 3)]
    assert got["sessions"] == [(3,)]
    assert got["meetings"] == [(1, True, True, day), (2, True, False, "2026-08-11")]
    assert got["expected"] == [1, 2, 3]


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_progress_dates_and_report_scopes_move_from_the_audit_trail_into_columns(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    """Migration 0015: a progress post whose at_ms was moved back to the day of its work gets
    that day as ``work_on`` and its real posting moment back (its audit entry's day); one
    with no entry keeps its at_ms and gets its day. A report gets the scope and date its
    entry kept; one with no entry keeps the whole body and no date. The downgrade puts
    at_ms back as the old code reads it, and upgrading again lands on the same rows."""
    import json

    from alembic import command
    from sqlalchemy import text

    from server.storage.migrate import alembic_config

    url = (
        str(request.getfixturevalue("pg_database"))
        if database == "postgres"
        else f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    )
    command.upgrade(alembic_config(url), "0014")
    china = datetime.timezone(datetime.timedelta(hours=8))
    posted = int(
        datetime.datetime(2026, 12, 7, 0, 30, tzinfo=china).timestamp() * 1000
    )  # just after midnight
    day = 86_400_000
    shifted = posted - 3 * day  # the old convention: work done on 12-04
    lone = int(datetime.datetime(2026, 11, 30, 23, 50, tzinfo=china).timestamp() * 1000)

    async def fill() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO bodies (id, name, kind) VALUES (1, '某县人大常委会', 'congress')")
                )
                await conn.execute(
                    text(
                        "INSERT INTO followup_items (id, body_id, title, assigned_on, reply_due, status,"
                        " created_at_ms) VALUES (1, 1, '路灯', '2026-11-01', '2027-02-01', 'handling', 0)"
                    )
                )
                for pid, kind, at in ((1, "progress", shifted), (2, "progress", lone), (3, "reply", posted)):
                    await conn.execute(
                        text(
                            "INSERT INTO followup_posts (id, item_id, kind, text, author, at_ms)"
                            " VALUES (:i, 1, :k, '进展', '县交通运输局', :at)"
                        ),
                        {"i": pid, "k": kind, "at": at},
                    )
                for rid in (1, 2):
                    await conn.execute(
                        text(
                            "INSERT INTO followup_reports (id, body_id, title, made_by, made_at_ms)"
                            " VALUES (:i, 1, '报告', 'wang', :at)"
                        ),
                        {"i": rid, "at": posted},
                    )
                entries = (
                    ("followup_posted", {"post": 1, "kind": "progress", "done_on": "2026-12-04"}),
                    ("followup_posted", {"post": 3, "kind": "reply"}),
                    ("followup_report_made", {"report": 1, "meetings": [5, 3], "dated": "2026-12-20"}),
                )
                for action, detail in entries:
                    await conn.execute(
                        text(
                            "INSERT INTO audit (at_ms, actor, device, action, body_id, detail)"
                            " VALUES (:at, 'staff:wang', '', :a, 1, :d)"
                        ),
                        {"at": posted + 5, "a": action, "d": json.dumps(detail)},
                    )
        finally:
            await engine.dispose()

    async def read() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                posts = [
                    tuple(r)
                    for r in await conn.execute(
                        text("SELECT id, at_ms, work_on FROM followup_posts ORDER BY id")
                    )
                ]
                reports = [
                    tuple(r)
                    for r in await conn.execute(
                        text("SELECT id, scope, dated FROM followup_reports ORDER BY id")
                    )
                ]
                await conn.commit()
            return posts, reports
        finally:
            await engine.dispose()

    def as_date(v: Any) -> Any:
        return datetime.date.fromisoformat(v) if isinstance(v, str) else v

    asyncio.run(fill())
    upgrade(url)
    posts, reports = asyncio.run(read())
    assert [(i, at, as_date(w)) for i, at, w in posts] == [
        (1, posted, datetime.date(2026, 12, 4)),
        (2, lone, datetime.date(2026, 11, 30)),  # China's day, not UTC's (11-30 15:50 UTC)
        (3, posted, None),
    ]
    assert [(i, json.loads(s), as_date(d)) for i, s, d in reports] == [
        (1, {"meetings": [3, 5]}, datetime.date(2026, 12, 20)),
        (2, {}, None),
    ]
    command.downgrade(alembic_config(url), "0014")

    async def at_ms_now() -> list[int]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                got = [
                    int(r[0])
                    for r in await conn.execute(text("SELECT at_ms FROM followup_posts ORDER BY id"))
                ]
                await conn.commit()
            return got
        finally:
            await engine.dispose()

    assert asyncio.run(at_ms_now()) == [shifted, lone, posted]
    upgrade(url)
    assert asyncio.run(read()) == (posts, reports)
