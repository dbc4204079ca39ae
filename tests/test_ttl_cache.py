"""The short cache of the public follow-up page (server/web/ttl_cache.py): a crowd that
misses together waits for one read; a value is kept ttl seconds; a read that finds
nothing is not kept; a failed read keeps nothing and the next request reads again; the
oldest key goes first beyond the limit; forget drops a key at once."""

from __future__ import annotations

import asyncio

import pytest

from server.web.ttl_cache import TtlCache


def test_a_crowd_that_misses_together_costs_one_read() -> None:
    async def go() -> None:
        cache: TtlCache[str] = TtlCache(ttl=30)
        started = asyncio.Event()

        async def slow() -> str:
            started.set()
            await asyncio.sleep(0.05)
            return "page"

        got = await asyncio.gather(*(cache.get(1, slow) for _ in range(200)))
        assert got == ["page"] * 200 and cache.reads == 1 and started.is_set()

    asyncio.run(go())


def test_kept_for_ttl_then_read_again_and_forget_drops_it() -> None:
    async def go() -> None:
        clock = [0.0]
        cache: TtlCache[int] = TtlCache(ttl=30, clock=lambda: clock[0])
        n = [0]

        async def read() -> int:
            n[0] += 1
            return n[0]

        assert await cache.get("a", read) == 1
        clock[0] = 29.9
        assert await cache.get("a", read) == 1
        clock[0] = 30.0
        assert await cache.get("a", read) == 2
        cache.forget("a")
        assert await cache.get("a", read) == 3 and cache.reads == 3

    asyncio.run(go())


def test_nothing_found_or_a_failed_read_is_not_kept_and_the_limit_holds() -> None:
    async def go() -> None:
        cache: TtlCache[str] = TtlCache(ttl=30, limit=2)

        async def nothing() -> None:
            return None

        async def broken() -> str:
            raise RuntimeError("database down")

        async def value() -> str:
            return "v"

        for key in range(5):
            assert await cache.get(key, nothing) is None
        assert len(cache) == 0
        with pytest.raises(RuntimeError):
            await cache.get("x", broken)
        assert await cache.get("x", value) == "v"  # read again, not stuck behind the failure
        await cache.get("y", value)
        await cache.get("z", value)
        assert len(cache) == 2 and cache.reads == 9
        await cache.get("x", value)  # the oldest, "x", went first: read again
        assert cache.reads == 10

    asyncio.run(go())
