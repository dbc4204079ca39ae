"""A short cache for pages anyone may open by the thousand (the public follow-up page).

A value is kept ``ttl`` seconds after it was read; while it is fresh, every request gets
it without touching the database. When it is missing or stale, one request reads it and
the others asking for the same key at that moment wait for that read instead of each
making their own (a crowd arriving together costs one read, not a thousand). A read that
finds nothing (``None``: no such body) is not kept, so unknown keys cannot fill the cache;
the number of keys is bounded by ``limit`` anyway, the oldest going first.

Staff who change what the page shows call :meth:`forget`, so they see their change at
once on this process; other worker processes see it within ``ttl``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(
        self, ttl: float = 30.0, limit: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.limit, self.clock = ttl, limit, clock
        self._values: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._reading: dict[Hashable, asyncio.Lock] = {}
        self.reads = 0  # how many times ``read`` ran: the tests count them

    def __len__(self) -> int:
        return len(self._values)

    def _fresh(self, key: Hashable) -> tuple[bool, V | None]:
        kept = self._values.get(key)
        if kept is not None and self.clock() < kept[0]:
            return True, kept[1]
        return False, None

    async def get(self, key: Hashable, read: Callable[[], Awaitable[V | None]]) -> V | None:
        found, value = self._fresh(key)
        if found:
            return value
        lock = self._reading.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                found, value = self._fresh(key)  # read by the request we waited for
                if found:
                    return value
                self.reads += 1
                value = await read()
                if value is not None:
                    self._values[key] = (self.clock() + self.ttl, value)
                    self._values.move_to_end(key)
                    while len(self._values) > self.limit:
                        self._values.popitem(last=False)
                return value
        finally:
            if not lock.locked():
                self._reading.pop(key, None)

    def forget(self, key: Hashable) -> None:
        self._values.pop(key, None)
