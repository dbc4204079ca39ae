"""What every part of the bench shares: its error, quantiles, clocks, its event loop."""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import Coroutine, Sequence
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
    """Sleep until a ``time.time_ns()`` instant (the clock the bench and the server share)."""
    return asyncio.sleep(max(0.0, (at_ns - time.time_ns()) / 1e9))


def run_main(main: Coroutine[Any, Any, T]) -> T:
    """Run the bench's one load loop, on uvloop when it is there: less generator CPU."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
