"""Group commit's queue discipline, for every writer that commits what waits together.

The meeting runtime's commands, the binding writes (:mod:`server.room.groupwrite`) and the
bench's floor each take what waits in their queue as one batch. :func:`next_batch` is that
rule, with the gathering below.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

MAX_BATCH = 500
# Under load, a batch is committed at most this often; commands that arrive meanwhile
# wait to join it (PostgreSQL's commit_delay, decided by the queue, not by a setting).
# Through SQLAlchemy a batch costs about 2.7 ms of CPU whatever its size (six statements
# through aiosqlite's thread: begin, catch-up, three inserts, commit), a rating in it about
# 0.04 ms more: in a burst of 600 ratings a second, batches of one to three spent more
# CPU on commits than on the ratings. Measured with 3,000 ratings in 5 s: 1,006 batches
# at once, 324 with 15 ms, 199 with 25 ms (server CPU per rating 1.42, 0.67, 0.58 ms; p99
# 30, 22, 32 ms). 25 ms is a quarter of the rating's latency budget. A command that
# finds the writer idle, as every command of a quiet hall does, is committed at once.
# Since the hall's plain batches on SQLite take the writer's own connection
# (server/storage/sqlite_log.py: about 0.43 ms for a batch of one, 0.95 ms for fifteen),
# the writer is idle more often, and the same burst made 420–540 smaller batches.
GATHER_S = 0.025
T = TypeVar("T")


async def next_batch(
    queue: asyncio.Queue[T], last_start: float, gather_s: float = GATHER_S, limit: int = MAX_BATCH
) -> tuple[list[T], float]:
    """The next batch of ``queue`` and when it began.

    ``last_start`` is when the previous batch began (-1 for none). Items already waiting
    when the writer comes back arrived while it committed: the writer is busy, so it waits
    until ``gather_s`` after the previous start for more to join. Otherwise the first item
    goes at once, with whatever came with it.
    """
    busy = not queue.empty()
    batch = [await queue.get()]
    loop = asyncio.get_running_loop()
    if busy:
        wait = last_start + gather_s - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
    started = loop.time()
    while len(batch) < limit and not queue.empty():
        batch.append(queue.get_nowait())
    return batch, started
