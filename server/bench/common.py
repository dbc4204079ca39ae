"""What every part of the bench shares: its error, quantiles, clocks, pipes, event loops."""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import Coroutine, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


class BenchError(RuntimeError):
    """The run could not go on (a timeout, a refused chair action, a dead process)."""


def quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(ns: float | None) -> float | None:
    """Nanoseconds to milliseconds, one decimal (None stays None)."""
    return None if ns is None else round(ns / 1e6, 1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def sleep_until_ns(at_ns: int) -> Coroutine[Any, Any, None]:
    """Sleep until a ``time.time_ns()`` instant (the clock all bench processes share)."""
    return asyncio.sleep(max(0.0, (at_ns - time.time_ns()) / 1e9))


async def recv(conn: Connection, timeout: float | None = None) -> Any:
    """Receive from a pipe without blocking the event loop (and without threads)."""
    if not conn.poll():
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def on_ready() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(conn.fileno(), on_ready)
        try:
            await asyncio.wait_for(ready, timeout)
        except TimeoutError:
            raise BenchError(f"no answer within {timeout:.0f} s") from None
        finally:
            loop.remove_reader(conn.fileno())
    return conn.recv()


def run_main(main: Coroutine[Any, Any, T]) -> T:
    """Run the bench's one load loop, on uvloop when it is there: less generator CPU."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """uvloop when it is there (it comes with uvicorn[standard]): less client CPU."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)
