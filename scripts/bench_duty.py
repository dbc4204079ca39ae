"""How long a duty record takes: the demo meeting held, then a body with N closed meetings
(default 20) of the demo's 48 members, each held through the real action path.

    .venv/bin/python scripts/bench_duty.py [N]

Prints the cold read (every meeting folded) and the warm read (the folds kept), for one
deputy's record and for the whole body's. Uses a throwaway SQLite database.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def main(count: int) -> None:
    from sqlalchemy import select

    from server.base.keys import Keys
    from server.base.settings import load
    from server.office.demo import load_demo
    from server.office.meetings_admin import clone
    from server.record import duty, duty_facts
    from server.record.hold import hold
    from server.record.sitting import sitting
    from server.room.runtime import load_state
    from server.storage import models as m
    from server.storage.db import create_engine, snapshot_read

    settings = load()
    engine = create_engine(settings.database_url)
    async with engine.begin() as conn:
        first = int((await load_demo(conn)).meeting_id)
        ids = [first]
        for _ in range(count - 1):
            made = await clone(conn, first, int(time.time() * 1000))
            assert made is not None
            ids.append(made)
        found = await conn.execute(select(m.meetings.c.body_id).where(m.meetings.c.id == first))
        body_id = int(found.scalar_one())
    box = Keys(settings.secret_key).box
    for n, meeting_id in enumerate(ids):
        async with snapshot_read(engine) as conn:
            setup = (await load_state(conn, meeting_id)).setup
        await hold(engine, box, meeting_id, sitting(setup), 1_750_000_000_000 + n * 86_400_000)

    async def timed(what: str, fn: object) -> None:
        async with snapshot_read(engine) as conn:
            start = time.perf_counter()
            await fn(conn)  # type: ignore[operator]
            print(f"{what:<40} {1000 * (time.perf_counter() - start):8.1f} ms")

    async with snapshot_read(engine) as conn:
        people = [p.id for p in await duty.members(conn, body_id)]
    print(f"{count} closed meetings, {len(people)} members each")
    duty_facts.clear()
    await timed("one deputy, cold (every log folded)", lambda c: duty.deputy_record(c, body_id, people[0]))
    await timed("one deputy, warm (folds kept)", lambda c: duty.deputy_record(c, body_id, people[1]))
    duty_facts.clear()
    await timed("whole body, cold", lambda c: duty.body_records(c, body_id))
    await timed("whole body, warm", lambda c: duty.body_records(c, body_id))
    from server.office.workshop import Workshop

    workshop = Workshop()
    url = engine.url.render_as_string(hide_password=False)

    async def runner(ids: list[int]) -> dict[int, duty_facts.MeetingFacts]:
        return await workshop.run(duty_facts.facts_in_worker, url, ids)

    await workshop.run(duty_facts.clear)  # the worker started before timing
    duty_facts.clear()
    await timed(
        "whole body, cold, folded in the workshop", lambda c: duty.body_records(c, body_id, None, runner)
    )
    duty_facts.clear()
    await timed(
        "one deputy, cold, folded in the workshop",
        lambda c: duty.deputy_record(c, body_id, people[0], runner),
    )
    duty_facts.clear()
    await timed("whole body, cold, workshop again", lambda c: duty.body_records(c, body_id, None, runner))
    workshop.close()
    if os.environ.get("PROFILE"):
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        await timed("whole body, warm (profiled)", lambda c: duty.body_records(c, body_id))
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    await engine.dispose()


if __name__ == "__main__":
    folder = tempfile.mkdtemp(prefix="wz-bench-duty-")
    os.environ["WENZHENG_DATA_DIR"] = folder
    os.environ["WENZHENG_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder}/bench.db"
    for n in (1, int(sys.argv[1]) if len(sys.argv) > 1 else 20):
        for f in Path(folder).glob("bench.db*"):
            f.unlink()
        from server.storage.migrate import upgrade

        upgrade(os.environ["WENZHENG_DATABASE_URL"])
        asyncio.run(main(n))
