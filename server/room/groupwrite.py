"""Small writes that arrive together commit together: one transaction per batch.

At the start of a session hundreds of phones open their invitation links within seconds,
and each binding is a write (server.storage.phones). One transaction each queued on SQLite's
single writer for longer than its busy timeout (5 s) in the bench's burst of 3000, and a
phone was told "未记录，请重试". Like the meeting runtime's group commit, the jobs waiting
when the writer is free go in one transaction; each job is our own code, run in order,
and sees the writes of the jobs before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.room.batching import next_batch
from server.room.runtime import NotRecorded

log = logging.getLogger(__name__)
T = TypeVar("T")
Job = Callable[[AsyncConnection], Awaitable[Any]]


class GroupWriter:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._queue: asyncio.Queue[tuple[Job, asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def run(self, job: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``job`` in the next batch's transaction; its result once that commits.

        Raises :class:`NotRecorded` when the batch could not be committed.
        """
        if self._task is None:
            self._task = asyncio.create_task(self._loop())
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((job, future))
        result: T = await future
        return result

    async def _loop(self) -> None:
        while True:
            # No gathering (gather_s 0): a phone binding at the door answers at once.
            batch, _ = await next_batch(self._queue, -1.0, gather_s=0.0)
            try:
                async with self.engine.begin() as conn:
                    results = [await job(conn) for job, _ in batch]
            except Exception as exc:  # the transaction rolled back: nothing of it stands
                log.warning("%s: a batch of %d was not recorded: %r", self.name, len(batch), exc)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(NotRecorded())
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():  # its request may have gone away meanwhile
                    future.set_result(result)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
