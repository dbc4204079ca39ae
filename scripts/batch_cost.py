"""CPU of one group-commit batch of ratings, in process (a diagnostic behind BENCHMARKS.md).

A bench meeting of 3,000 deputies (``server.bench.meeting.seed``) in a temporary SQLite
file, every deputy checked in, the rating open; then the 3,000 ratings go to the runtime
``--batch`` at a time (each group submitted together, so each is one batch). Printed: the
process's CPU per batch and per rating (every thread: the event loop, aiosqlite's and the
writer's own) and the event loop thread's share.

    .venv/bin/python scripts/batch_cost.py --batch 1
    .venv/bin/python scripts/batch_cost.py --batch 15
    .venv/bin/python scripts/batch_cost.py --batch 15 --sqlalchemy   # the general path
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from pathlib import Path

from live.commands import (
    Actor,
    AdvancePhase,
    CallQuestion,
    CastRating,
    CheckIn,
    CheckInMethod,
    OpenCheckIn,
    OpenRating,
    Role,
)
from live.events import Event
from live.state import Choice, MeetingState, Phase
from server.base.ballot_box import BallotBox
from server.bench.meeting import seed
from server.room.runtime import MeetingRuntime, load_state
from server.storage.db import create_engine, snapshot_read
from server.storage.migrate import upgrade

DEPUTIES = 3000


async def measure(url: str, batch: int, general: bool) -> str:
    engine = create_engine(url)
    seeded = await seed(engine, DEPUTIES)
    async with snapshot_read(engine) as conn:
        state = await load_state(conn, seeded.meeting_id)

    async def listener(_s: MeetingState, _f: int, _e: list[Event], _l: bool) -> None:
        return None

    runtime = MeetingRuntime(engine, state, listener, BallotBox(secrets.token_hex(32)), gather_s=0)
    if general and runtime.sqlite_log is not None:
        await runtime.sqlite_log.close()
        runtime.sqlite_log = None
    runtime.start()
    chair = Actor(Role.CHAIR, user="chair")
    await runtime.submit(OpenCheckIn(), chair)
    staff = CheckInMethod.STAFF
    await asyncio.gather(*(runtime.submit(CheckIn(d, staff), chair) for d in seeded.deputy_ids))
    await runtime.submit(CallQuestion(seeded.question_id), chair)
    await runtime.submit(AdvancePhase(Phase.ANSWERING), chair)
    await runtime.submit(OpenRating(without_quorum=True), chair)
    ids = list(seeded.deputy_ids)
    batches = runtime.batches
    loop0, cpu0, wall0 = time.thread_time(), time.process_time(), time.perf_counter()
    for i in range(0, len(ids), batch):
        await asyncio.gather(
            *(
                runtime.submit(
                    CastRating(d, seeded.question_id, Choice.SATISFIED, secrets.token_hex(8)),
                    Actor(Role.DEPUTY, deputy_id=d),
                )
                for d in ids[i : i + batch]
            )
        )
    loop1, cpu1, wall1 = time.thread_time(), time.process_time(), time.perf_counter()
    n = runtime.batches - batches
    await runtime.stop()
    await engine.dispose()
    path = "SQLAlchemy" if general else "the writer's own connection"
    return (
        f"batches of {batch} ({path}): {n} batches, CPU {1000 * (cpu1 - cpu0) / n:.3f} ms per batch, "
        f"{1000 * (cpu1 - cpu0) / len(ids):.3f} ms per rating; event loop thread "
        f"{1000 * (loop1 - loop0) / n:.3f} ms per batch; wall {1000 * (wall1 - wall0) / n:.2f} ms per batch"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=15)
    parser.add_argument("--sqlalchemy", action="store_true", help="every batch through SQLAlchemy")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="batch-cost-"))
    url = f"sqlite+aiosqlite:///{folder / 'batch.db'}"
    upgrade(url)
    print(asyncio.run(measure(url, args.batch, args.sqlalchemy)))


if __name__ == "__main__":
    main()
