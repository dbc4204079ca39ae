"""Two watchers: is the server's loop answering, and is the generator's own loop on time?

The stall probe holds one keep-alive connection of its own and sends a pre-built
``GET /healthz`` every 10 ms (the next one as soon as the last is answered, if that took
longer): the longest time one waited for its answer is the longest the server's loop (the
worker this connection landed on) did not answer. The lag watcher notes how late this
process's own loop wakes up: a late generator would show up as server latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

from server.bench.common import ms, quantile
from server.bench.phones import Target
from server.bench.wire import HttpConn, get


class _Meter:
    rx = 0

    def saw_seq(self, seq: int, at_ns: int) -> None:
        pass


class StallProbe:
    def __init__(self, to: Target, every_s: float = 0.01) -> None:
        self.to = to
        self.every_s = every_s
        self.request = get(to.authority, "/healthz")
        self.samples: list[int] = []  # ns each probe waited for its answer
        self.failures = 0
        self.task: asyncio.Task[None] | None = None

    async def _connect(self) -> HttpConn:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: HttpConn(_Meter()), self.to.host, self.to.port)
        return conn

    async def _run(self) -> None:
        conn = await self._connect()
        while True:
            sent = time.monotonic_ns()
            try:
                if conn.closed:
                    conn = await self._connect()
                await conn.request(self.request)
            except OSError:
                self.failures += 1
                conn.closed = True
            waited = time.monotonic_ns() - sent
            self.samples.append(waited)
            await asyncio.sleep(max(0.0, self.every_s - waited / 1e9))

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    def mark(self) -> int:
        return len(self.samples)

    def since(self, mark: int, name: str, into: dict[str, object]) -> None:
        got = self.samples[mark:]
        into[f"{name}_loop_stall_ms"] = ms(max(got) if got else None)
        into[f"{name}_probe_p50_ms"] = ms(quantile(got, 0.5))
        into[f"{name}_probes"] = len(got)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


@contextlib.contextmanager
def loop_lag(name: str, into: dict[str, object], every_s: float = 0.01) -> Iterator[None]:
    """How late the generator's own event loop wakes up during a window."""
    lags: list[int] = []

    async def watch() -> None:
        while True:
            before = time.monotonic_ns()
            await asyncio.sleep(every_s)
            lags.append(time.monotonic_ns() - before - int(every_s * 1e9))

    task = asyncio.create_task(watch())
    try:
        yield
    finally:
        task.cancel()
        into[f"{name}_generator_loop_lag_p99_ms"] = ms(quantile(lags, 0.99))
        into[f"{name}_generator_loop_lag_max_ms"] = ms(max(lags) if lags else None)
