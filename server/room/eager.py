"""Run a coroutine at once, in the caller, until it first has to wait.

Why: a broadcast to 3,000 sockets through one task per socket cost a task switch per
socket and came to six times the cost of a bare send loop (BENCHMARKS.md). A websocket
send almost never waits: the transport takes the bytes at once unless the peer is slow.
So the hub starts each send here, synchronously; only a send that really has to wait
(a slow phone, a full buffer) is handed to a task, which finishes it later. Python 3.12
has this built in (``asyncio.eager_task_factory``); we run on 3.11.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


class _Continue:
    """An awaitable that carries on a coroutine which already yielded once."""

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self._coro = coro
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        yielded = self._yielded
        while True:
            try:
                received = yield yielded
            except BaseException as exc:  # cancellation and errors go into the coroutine
                try:
                    yielded = self._coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    yielded = self._coro.send(received)
                except StopIteration as stop:
                    return stop.value


async def _finish(coro: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    return await _Continue(coro, yielded)


def start(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any] | None:
    """Run ``coro`` now. None if it finished; else the task that finishes it.

    An exception raised before the first wait propagates to the caller.
    """
    try:
        yielded = coro.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_finish(coro, yielded))
