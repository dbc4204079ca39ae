"""Two watchers: is the server's loop answering, and is the generator's own loop on time?

The stall probe holds a socket of its own (a projector's, that never says hello, so the
room sends it nothing) and sends a pre-built clock probe (``{"type": "time"}``, the page's
own heartbeat, answered on the loop without the database) every 10 ms, the next one as
soon as the last is answered if that took longer: the longest wait for an answer is the
longest the server's loop (the worker this socket landed on) did not answer. A probe that
asked the database (``/healthz``) would cost the server about 1.5 ms each, 15 % of a core
at 100 a second, and be counted in every window's CPU per operation. The lag watcher
notes how late this process's own loop wakes up: a late generator shows up as latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

from server.bench.common import ms, quantile
from server.bench.phones import Target
from server.bench.wire import WsConn, client_frame, handshake

TIME_PROBE = b'{"type": "time", "t0": 0}'


class _Meter:
    rx = 0

    def saw_seq(self, seq: int, at_ns: int) -> None:
        pass


class _ClockSocket(WsConn):
    """A socket that only asks the time and notes each answer."""

    def __init__(self) -> None:
        super().__init__(_Meter())
        self.answer: asyncio.Future[None] | None = None

    def _frame(self, opcode: int, payload: bytes) -> None:
        if payload.startswith(b'{"type": "time"') and self.answer is not None and not self.answer.done():
            self.answer.set_result(None)
        else:
            super()._frame(opcode, payload)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionResetError("probe socket closed"))


class StallProbe:
    def __init__(self, to: Target, meeting_id: int, screen_cookie: str, every_s: float = 0.01) -> None:
        self.to = to
        self.every_s = every_s
        self.handshake = handshake(
            to.authority, f"/ws/{meeting_id}/projector", f"wz_screen={screen_cookie}", to.url
        )
        self.probe = client_frame(TIME_PROBE)  # built once: the same mask every time is still a mask
        self.samples: list[int] = []  # ns each probe waited for its answer
        self.failures = 0
        self.task: asyncio.Task[None] | None = None

    async def _connect(self) -> _ClockSocket:
        loop = asyncio.get_running_loop()
        _, sock = await loop.create_connection(_ClockSocket, self.to.host, self.to.port)
        assert sock.transport is not None
        sock.transport.write(self.handshake)
        await asyncio.wait_for(sock.opened, 30)
        return sock

    async def _run(self) -> None:
        sock = await self._connect()
        while True:
            sent = time.monotonic_ns()
            try:
                if sock.closed:
                    sock = await self._connect()
                sock.answer = asyncio.get_running_loop().create_future()
                assert sock.transport is not None
                sock.transport.write(self.probe)
                await sock.answer
            except OSError:
                self.failures += 1
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
            self.task = None


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
