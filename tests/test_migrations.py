"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
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
