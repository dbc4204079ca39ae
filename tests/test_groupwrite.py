"""server.room.groupwrite on a real SQLite database: jobs that come together commit together,
in order; a batch that fails leaves nothing and tells every job "not recorded"."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from server.base.keys import Keys
from server.room.groupwrite import GroupWriter
from server.room.runtime import NotRecorded
from server.storage.db import create_engine
from server.web.http import Services
from tests.conftest import Db, TestClient


async def test_jobs_that_come_together_commit_together(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    writer = GroupWriter(engine, "test")

    def job(n: int) -> Callable[[AsyncConnection], Awaitable[int]]:
        async def run(conn: AsyncConnection) -> int:
            seen = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            return int(seen)

        return run

    try:
        seen = await asyncio.gather(*(writer.run(job(n)) for n in range(300)))
        assert sorted(seen) == list(range(300)), "each job sees the writes of those before it"
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 300

        async def bad(conn: AsyncConnection) -> None:
            await conn.execute(text("INSERT INTO t VALUES (-5)"))
            await conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

        results = await asyncio.gather(writer.run(job(1000)), writer.run(bad), return_exceptions=True)
        assert all(isinstance(r, NotRecorded) for r in results), results
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 300
        assert await writer.run(job(2000)) == 300, "the writer goes on after a failed batch"
    finally:
        await writer.close()
        await engine.dispose()


def test_every_card_bound_at_once(client: TestClient, keys: Keys, db: Db) -> None:
    """All the demo's phones open their invitation at the same moment: all are bound."""
    deputies = [d for d, _, _ in db.deputies()]

    def open_link(d: int) -> int:
        return int(client.get(f"/i/1/{keys.invitation(d, 1)}", headers={"cookie": ""}).status_code)

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(open_link, deputies)) == {303}
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    assert all(services.meetings.book.bound[d].sid for d in deputies)
