"""The bus that carries committed events between server processes.

In-process (one worker) it carries nothing: the writer hands its events to the local hub
directly. With Redis, every process publishes what it committed and applies what others
committed. Pub/sub is at-most-once; the event log is the record, and a process that sees
a gap in the sequence reloads from the database (see :mod:`server.room.runtime`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

Handler = Callable[[str], Awaitable[None]]


def setup_message(meeting_id: int | None, body_id: int | None, origin: str) -> str:
    """Tells every process to reload a meeting (or a body's meetings) from the database."""
    return json.dumps({"setup": meeting_id or 0, "body": body_id or 0, "origin": origin})


async def tell_servers(redis_url: str, prefix: str, payload: str) -> None:
    """Publish one message from outside a server (the command line)."""
    client: aioredis.Redis = aioredis.from_url(redis_url)
    try:
        await client.publish(f"{prefix}:events", payload)
    finally:
        await client.aclose()


class Bus(Protocol):
    name: str
    carries: bool  # False: nothing leaves this process, so do not build payloads

    async def start(self, handler: Handler) -> None: ...
    async def publish(self, payload: str) -> None: ...
    async def stop(self) -> None: ...
    async def healthy(self) -> bool: ...


class MemoryBus:
    """One process: nothing to carry."""

    name = "memory"
    carries = False

    async def start(self, handler: Handler) -> None:
        return None

    async def publish(self, payload: str) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def healthy(self) -> bool:
        return True


class RedisBus:
    """Redis pub/sub on one channel per installation prefix.

    The listener reconnects by itself; after a reconnect it calls ``on_reconnect`` so the
    runtime can reload whatever it missed from the database.
    """

    name = "redis"
    carries = True

    def __init__(self, url: str, prefix: str, on_reconnect: Callable[[], Awaitable[None]]) -> None:
        self._url = url
        self.channel = f"{prefix}:events"
        self._on_reconnect = on_reconnect
        self._client: aioredis.Redis = aioredis.from_url(url)
        self._task: asyncio.Task[None] | None = None
        self._ok = False

    async def start(self, handler: Handler) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(handler, ready))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), 5)

    async def _listen(self, handler: Handler, ready: asyncio.Event) -> None:
        first = True
        while True:
            try:
                pubsub = self._client.pubsub()
                await pubsub.subscribe(self.channel)
                self._ok = True
                ready.set()
                if not first:
                    await self._on_reconnect()
                first = False
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        data = message["data"]
                        await handler(data.decode() if isinstance(data, bytes) else str(data))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost: retry with a pause
                self._ok = False
                log.warning("redis bus: %s; reconnecting", exc)
                await asyncio.sleep(0.5)

    async def publish(self, payload: str) -> None:
        try:
            await self._client.publish(self.channel, payload)
        except Exception as exc:
            # The commit stands; the other processes will see the gap and reload.
            log.warning("redis publish failed: %s", exc)

    async def healthy(self) -> bool:
        try:
            return bool(await self._client.ping()) and self._ok
        except Exception:
            return False

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        await self._client.aclose()
