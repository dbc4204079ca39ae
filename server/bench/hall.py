"""The hall: every phone, in this one process and its one event loop.

Setup (binding, sockets) runs a bounded number of phones at a time; a burst starts one
task per phone that sleeps until its slot in the window. Phones keep their HTTP
connections as a browser does: the server's keep-alive decides when one is gone, and the
phone then opens a new one (counted per burst).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from server.base.keys import Keys
from server.bench.common import quantile, sleep_until_ns
from server.bench.meeting import Seeded
from server.bench.phones import Flow, Outcome, Phone, Requests, Target, check_in, rate
from server.bench.wire import get

T = TypeVar("T")


async def bounded(limit: int, items: Sequence[T], job: Callable[[T], Awaitable[Any]]) -> list[str]:
    """``job`` over the items, ``limit`` at a time; the errors, as text."""
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> str | None:
        async with gate:
            try:
                await job(item)
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}"
            return None

    return [e for e in await asyncio.gather(*(one(i) for i in items)) if e]


class Hall:
    def __init__(self, server: Target, meeting: Seeded, keys: Keys, hall_seconds: int) -> None:
        self.server = server
        self.meeting = meeting
        self.keys = keys
        self.hall_seconds = hall_seconds
        ids = meeting.deputy_ids
        self.phones = [Phone(i, len(ids), d, keys.invitation(d, 1)) for i, d in enumerate(ids)]
        self.requests: list[Requests] = []

    async def bind(self) -> list[str]:
        return await bounded(32, self.phones, lambda p: p.bind(self.server, self.meeting.meeting_id))

    async def connect(self) -> list[str]:
        errors = await bounded(
            64, self.phones, lambda p: p.open_socket(self.server, self.meeting.meeting_id, p.page_seq)
        )
        self.requests = [
            Requests(p, self.server, self.meeting.meeting_id, self.meeting.question_id) for p in self.phones
        ]
        return errors

    async def hold_connections(self, to: Target | None = None) -> list[str]:
        """Every phone holds a keep-alive HTTP connection to ``to`` (the server unless
        said; reopened if it was closed)."""
        to = to or self.server
        healthz = get(to.authority, "/healthz")
        return await bounded(256, self.phones, lambda p: p.request(to, healthz))

    def drop_http(self) -> None:
        for phone in self.phones:
            for conn in phone.http.values():
                conn.close()
            phone.http.clear()

    def rx(self) -> list[int]:
        return [p.rx for p in self.phones]

    async def check_in(self, start_ns: int, window_s: float) -> tuple[list[Outcome], list[Flow]]:
        done = await asyncio.gather(
            *(
                check_in(p, self.server, r, self.keys, self.hall_seconds, start_ns, window_s)
                for p, r in zip(self.phones, self.requests, strict=True)
            )
        )
        return [o for o, _ in done], [f for _, f in done]

    async def rate(
        self, to: Target, requests: list[Requests], start_ns: int, window_s: float
    ) -> list[Outcome]:
        return list(
            await asyncio.gather(
                *(rate(p, to, r, start_ns, window_s) for p, r in zip(self.phones, requests, strict=True))
            )
        )

    async def seen(self, seq: int, since_ns: int, timeout_s: float) -> list[int | None]:
        """When each phone first held ``seq`` (or later) at or after ``since_ns``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(p.first_at_least(seq, since_ns) is not None for p in self.phones):
                break
            await asyncio.sleep(0.02)
        return [p.first_at_least(seq, since_ns) for p in self.phones]

    async def storm(
        self, spread_s: float, action: Callable[[], Awaitable[int]], act_after_s: float
    ) -> dict[str, Any]:
        """Every socket dropped at once; every phone reconnects within ``spread_s`` with
        the last seq it holds; ``action`` (the chair's change) runs ``act_after_s`` in and
        returns the seq the phones must reach. Converged: a phone's socket has carried
        that seq (a fragment's ``data-seq`` or its hello answer's ``seq``) after the drop."""
        rx = sum(self.rx())
        dropped = time.time_ns()
        for phone in self.phones:
            if phone.ws is not None:
                phone.ws.drop()
        n = len(self.phones)
        m_id = self.meeting.meeting_id

        async def back(phone: Phone) -> None:
            await sleep_until_ns(dropped + int(phone.index * spread_s * 1e9 / n))
            await phone.open_socket(self.server, m_id, phone.highest)

        async def act() -> int:
            await sleep_until_ns(dropped + int(act_after_s * 1e9))
            return await action()

        acting = asyncio.create_task(act())
        errors = await bounded(n, self.phones, back)
        target = await acting
        seen = await self.seen(target, dropped, 30)
        got = [s - dropped for s in seen if s is not None]
        return {
            "storm_phones": n,
            "storm_reconnect_errors": len(errors),
            "storm_first_error": errors[0] if errors else None,
            "storm_target_seq": target,
            "storm_converged_phones": len(got),
            "storm_convergence_ms": round(max(got) / 1e6, 1) if len(got) == n else None,
            "storm_convergence_p50_ms": round((quantile(got, 0.5) or 0) / 1e6, 1) if got else None,
            "storm_kib": round((sum(self.rx()) - rx) / 1024, 1),
        }

    def close(self) -> None:
        self.drop_http()
        for phone in self.phones:
            if phone.ws is not None:
                phone.ws.drop()
